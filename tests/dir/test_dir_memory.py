#!/usr/bin/env python3
"""A worker's memory does not grow with a file's size or compression ratio
(label slow: big files, and a peak RSS that the sanitizers would distort).

- Two decompression bombs in one batch, read at once by the two workers:
  bomb.gz (gzip -1) and bomb.zst (zstd -1, when the command exists), each
  512 MiB of 64-byte lines once decompressed (a few MB on disk). The job
  counts the records: exactly 2 x 8 Mi lines.
- A sparse JSON-lines file of 1 GiB: a record, 1 GiB of NUL bytes (one line
  far over receiver.max_line_bytes: dropped without being buffered) and a
  last record: exactly the two records.

Each job's peak RSS (VmHWM) must stay under 200 MB; reading a file whole
(as the reader once did, up to 4 GiB per file and worker) needs more than
512 MB for either case. A job is stopped with SIGTERM and must exit 0.
"""

import json
import os
import shutil
import signal
import subprocess
import time
import zlib

from dirlib import Job, Tree, check, log, now_ms, run, set_budget

BATCH_MS = 500
LINE = b"a" * 63 + b"\n"
BOMB_BYTES = 512 << 20
SPARSE_BYTES = 1 << 30
PEAK_MB = 200.0


def write_bomb_gz(path):
    chunk = LINE * ((1 << 20) // len(LINE))
    z = zlib.compressobj(1, zlib.DEFLATED, 31)  # gzip -1
    with open(path, "wb") as f:
        for _ in range(BOMB_BYTES // len(chunk)):
            f.write(z.compress(chunk))
        f.write(z.flush())


def write_bomb_zst(path):
    chunk = LINE * ((1 << 20) // len(LINE))
    with open(path, "wb") as out:
        p = subprocess.Popen(["zstd", "-1", "-q", "-c"], stdin=subprocess.PIPE,
                             stdout=out)
        for _ in range(BOMB_BYTES // len(chunk)):
            p.stdin.write(chunk)
        p.stdin.close()
        check(p.wait(timeout=120) == 0, "zstd failed")


def write_sparse_json(path):
    with open(path, "wb") as f:
        f.write(b'{"first": 1}\n')
        f.truncate(SPARSE_BYTES)
        f.seek(SPARSE_BYTES)
        f.write(b'\n{"last": 2}\n')


def run_job(tree, name, files, source, ops, done):
    """Move files in, wait until done(records), stop the job with SIGTERM;
    returns (peak RSS in MB, its records)."""
    with Job(tree, name, source, BATCH_MS, workers=2, ops=ops) as job:
        job.wait_started()
        job.sleep_to_mid(0.5)
        t0 = time.monotonic()
        for f in files:
            tree.move_in(f)
        job.wait_batch(lambda b: done(job.records()), 120,
                       "all records of %s" % ", ".join(
                           os.path.basename(f) for f in files))
        took = time.monotonic() - t0
        peak = job.peak_rss_mb()
        job.stop(timeout=20, sig=signal.SIGTERM)
        log("%s: peak RSS %.1f MB, files read in %.1f s" % (name, peak, took))
        return peak, job.records()


def test():
    set_budget(280)
    with Tree("memory") as tree:
        t = now_ms()
        bombs = [tree.path("stage", "bomb.gz")]
        write_bomb_gz(bombs[0])
        if shutil.which("zstd"):
            bombs.append(tree.path("stage", "bomb.zst"))
            write_bomb_zst(bombs[1])
        else:
            log("zstd command not found: only the .gz bomb is read")
        sparse = tree.path("stage", "sparse.json")
        write_sparse_json(sparse)
        log("made in %.1f s: %s; sparse.json %d bytes (%d on disk)" % (
            (now_ms() - t) / 1000.0,
            ", ".join("%s %d bytes" % (os.path.basename(b),
                                       os.path.getsize(b)) for b in bombs),
            os.path.getsize(sparse), os.stat(sparse).st_blocks * 512))

        want = len(bombs) * (BOMB_BYTES // len(LINE))
        peak, recs = run_job(tree, "memory-bombs", bombs, {},
                             [{"op": "count"}], lambda r: sum(r) >= want)
        check(sum(recs) == want, "the bombs gave %d records, expected %d"
              % (sum(recs), want))
        check(peak < PEAK_MB, "decompressing %d bombs of %d MiB took a peak "
              "RSS of %.1f MB, expected under %.0f MB" % (
                  len(bombs), BOMB_BYTES >> 20, peak, PEAK_MB))

        peak, recs = run_job(tree, "memory-sparse", [sparse],
                             {"format": "json"}, None, lambda r: len(r) >= 2)
        check(json.dumps(recs) == '[[["first", 1]], [["last", 2]]]',
              "the sparse file gave %r, expected its first and last "
              "records" % recs)
        check(peak < PEAK_MB, "reading a sparse JSON file of %d MiB took a "
              "peak RSS of %.1f MB, expected under %.0f MB" % (
                  SPARSE_BYTES >> 20, peak, PEAK_MB))


run(test)
