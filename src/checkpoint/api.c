/*
 * The public face of src/checkpoint (include/sluice/checkpoint.h): inspect
 * and rollback of a checkpoint directory no job is using, for streamctl
 * and programs.
 */
#include "checkpoint/checkpoint.h"

#include <sluice/checkpoint.h>

sl_status sl_checkpoint_inspect(const char *dir, sl_checkpoint_format format,
                                char **out, size_t *problems, char *errbuf,
                                size_t errlen)
{
    size_t n;
    sl_status st;

    if (!dir || !out ||
        (format != SL_CHECKPOINT_TABLE && format != SL_CHECKPOINT_JSON))
        return sl__errbuf(errbuf, errlen, SL_EINVAL, "invalid argument");
    st = sl__ckpt_inspect(dir,
                          format == SL_CHECKPOINT_JSON ? SL__CKPT_FORMAT_JSON
                                                       : SL__CKPT_FORMAT_TABLE,
                          out, &n, errbuf, errlen);
    if (problems)
        *problems = st == SL_OK ? n : 0;
    return st;
}

sl_status sl_checkpoint_rollback(const char *dir, int64_t to, char *errbuf,
                                 size_t errlen)
{
    sl__ckpt *ck;
    sl_status st;

    if (!dir)
        return sl__errbuf(errbuf, errlen, SL_EINVAL, "invalid argument");
    /* Never create: rolling back a directory that is not a checkpoint is
     * a mistake to report, not a new checkpoint to make. */
    if ((st = sl__ckpt_open(dir, false, NULL, 0, &ck, errbuf, errlen)) != SL_OK)
        return st;
    /* State and window files after `to` go too, by name: no job (and
     * no window lengths) is needed for that. */
    if ((st = sl__ckpt_rollback(ck, to, sl__ckpt_prune_names, NULL)) != SL_OK)
        sl__errbuf(errbuf, errlen, st, "%s", sl__ckpt_errmsg(ck));
    sl__ckpt_close(ck);
    return st;
}
