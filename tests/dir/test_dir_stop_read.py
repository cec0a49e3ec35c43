#!/usr/bin/env python3
"""A stop during a long read: SIGTERM while a worker is decompressing and
counting a large .gz file (several seconds of work) ends the job within
about a second, not after the file: the reader checks the stop between
chunks. The interrupted batch is not a failure and not a success: streamctl
exits 4 ("stopped with input left unprocessed"), the log names the file,
and with clean_source "delete" the file is still there (its batch never
committed), while a small file read before it was deleted.

One worker, inotify mode; the test's own inotify sees the worker open the
big file, so the signal comes while it is being read.
"""

import os
import signal
import subprocess
import time
import zlib

from dirlib import (Job, OpenWatch, Tree, TestFailure, check, lines_of, log,
                    now_ms, run, set_budget)

BATCH_MS = 300
BIG_MB = 768  # about 100 M words: seconds of work for one worker


def big_gz():
    line = b"alpha beta gamma delta epsilon zeta eta theta iota kappa\n"
    chunk = line * ((1 << 20) // len(line))
    z = zlib.compressobj(1, zlib.DEFLATED, 31)
    parts = [z.compress(chunk) for _ in range(BIG_MB)]
    parts.append(z.flush())
    return b"".join(parts)


def test():
    set_budget(60)
    data = big_gz()
    ops = [{"op": "flat_map", "fn": "split_words"},
           {"op": "map", "fn": "pair_one"},
           {"op": "reduce_by_key", "fn": "sum"}]
    with Tree("stopread") as tree, \
            Job(tree, "stop-read", {"watch": "inotify",
                                    "clean_source": "delete"},
                BATCH_MS, workers=1, ops=ops) as job:
        watch = OpenWatch(tree.inbox)
        job.wait_started()
        small = tree.drop("small.txt", lines_of("omega"))[2]
        job.wait_batch(lambda b: ["omega", 1] in b["records"], 5,
                       "the small file")
        staged = tree.staged("big.gz", data)
        _, _, big = tree.move_in(staged)
        check(watch.wait_open("big.gz", 10), "big.gz was never opened")
        watch.close()
        time.sleep(0.3)
        t0 = time.monotonic()
        job.proc.send_signal(signal.SIGTERM)
        try:
            rc = job.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise TestFailure("no exit within 10 s of SIGTERM")
        took = time.monotonic() - t0
        job.out.thread.join(5)
        job.err.thread.join(5)
        err = job.stderr()
        log("stopped in %.2f s, exit %d" % (took, rc))
        check(took < 2.0, "the stop took %.2f s: the read was not cut "
              "short" % took)
        check(rc == 4, "exit status %d, expected 4 (input left)" % rc)
        check("interrupted by stop while reading '%s'" % big in err,
              "the log does not name the interrupted file: %r" % err[-2000:])
        check("stopped with input left unprocessed" in err,
              "no report of what was left: %r" % err[-2000:])
        check(os.path.exists(big), "the interrupted file was cleaned")
        check(not os.path.exists(small), "the small file was not cleaned")
        words = [r for b in job.batches() for r in b["records"]
                 if r[0] == "alpha"]
        check(words == [], "the interrupted batch gave output: %r" % words)
        log("cut short %d ms after the signal" % int(took * 1000))


run(test)
