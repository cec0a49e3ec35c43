/*
 * Decompressing one zstd frame read from a checkpoint file (state and
 * window files, WAL records) without trusting the sizes the file states:
 * the frame header's content size (and the WAL record's raw length) are
 * numbers a damaged file may set to gigabytes. Before anything is
 * allocated, the frame's blocks are walked: a raw or RLE block gives
 * exactly its stated size, a compressed block at most 128 KiB (zstd's
 * block maximum), so their sum bounds what the frame can really produce;
 * a declared size above it is corrupt (docs/checkpoint-format.md,
 * "Bounded reading"). Streaming decompression into a growing buffer was
 * the other way, but zstd's streaming decoder allocates a window of the
 * declared size itself, outside sluice's allocator.
 */
#include <string.h>
#include <zstd.h>

#include "checkpoint/checkpoint.h"

#define BLOCK_MAX ((uint64_t)128 << 10) /* ZSTD_BLOCKSIZE_MAX */

/* The frame header's length (magic included), 0 when malformed. */
static size_t header_len(const unsigned char *p, size_t len)
{
    static const size_t dict_len[4] = {0, 1, 2, 4};
    unsigned fhd, fcs;
    size_t n;
    if (len < 5)
        return 0;
    fhd = p[4];
    fcs = fhd >> 6;
    n = 5 + (fhd & 0x20 ? 0 : 1) + dict_len[fhd & 3];
    n += fcs == 0 ? (fhd & 0x20 ? 1 : 0) : (size_t)1 << fcs;
    return n <= len ? n : 0;
}

/* The most the frame's blocks can decode to; false when the blocks do not
 * end exactly at len (after the optional checksum). */
static bool blocks_bound(const unsigned char *p, size_t len, uint64_t *bound)
{
    size_t off = header_len(p, len), csum = p[4] & 4 ? 4 : 0;
    uint64_t sum = 0;
    bool last = false;
    if (off == 0)
        return false;
    while (!last) {
        uint32_t h, size, type;
        if (len - off < 3)
            return false;
        h = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 |
            (uint32_t)p[off + 2] << 16;
        last = h & 1;
        type = (h >> 1) & 3;
        size = h >> 3;
        off += 3;
        if (type == 3 || (uint64_t)size > BLOCK_MAX)
            return false;
        sum += type == 2 ? BLOCK_MAX : size;
        if ((type == 1 ? 1 : size) > len - off)
            return false;
        off += type == 1 ? 1 : size;
    }
    *bound = sum;
    return len - off == csum;
}

sl_status sl__ckpt_unzstd(const void *src, size_t len, uint64_t max, void **out,
                          size_t *out_len, const char **why)
{
    unsigned long long declared = ZSTD_getFrameContentSize(src, len);
    uint64_t bound = 0;
    unsigned char *buf;
    size_t n;

    if (declared == ZSTD_CONTENTSIZE_ERROR ||
        declared == ZSTD_CONTENTSIZE_UNKNOWN) {
        *why = "not a zstd frame of known size";
        return SL_ECORRUPT;
    }
    if (!blocks_bound(src, len, &bound)) {
        *why = "malformed zstd frame";
        return SL_ECORRUPT;
    }
    if (declared > max || declared > bound) {
        *why = declared > max ? "the frame declares more than the bound"
                              : "the frame declares more than its blocks hold";
        return SL_ECORRUPT;
    }
    if (declared > SIZE_MAX - 1 || !(buf = sl_malloc((size_t)declared + 1))) {
        *why = "out of memory";
        return SL_ENOMEM;
    }
    n = ZSTD_decompress(buf, (size_t)declared, src, len);
    if (ZSTD_isError(n) || n != declared) {
        *why = ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame";
        sl_free(buf);
        return SL_ECORRUPT;
    }
    buf[n] = 0;
    *out = buf;
    *out_len = n;
    return SL_OK;
}
