#!/usr/bin/env python3
"""A large file written slowly in place is never read half-written.

Two jobs at once (the file, ~240 KB, is below split_bytes: one partition;
test_dir_splits covers split files):
- inotify: the file is created in the watched directory and written in 6
  chunks cut in the middle of lines, 0.4 s apart (longer than the 300 ms
  batch interval, so several batches are planned while it is open), then
  closed; complete when closed;
- poll: the same, with 20 chunks 0.1 s apart (a writer that pauses longer
  than a batch interval is taken as complete by design: the size and mtime
  held for one batch), complete once unchanged for one batch.
Checked: every one of the 4800 lines is output exactly once, whole (no cut
line), all in one batch, and that batch is
the first after the close (poll: or the next); no batch before it holds
any of its lines.
"""

import os
import threading
import time

from dirlib import (Job, Tree, TestFailure, check, check_placed, log,
                    now_ms, placement, run, set_budget, skipped_lines)

BATCH_MS = 300
NLINES = 4800


def line(i):
    return "w:%06d:%s" % (i, "abcdefghij" * 4)


def writer(path, chunks, pause, result):
    data = "".join(line(i) + "\n" for i in range(NLINES)).encode()
    step = len(data) // chunks + 7  # chunk ends fall inside lines
    try:
        with open(path, "wb") as f:
            for off in range(0, len(data), step):
                f.write(data[off:off + step])
                f.flush()
                if off + step < len(data):
                    time.sleep(pause)
            result["t0"] = now_ms()
        result["t1"] = now_ms()
    except Exception as e:  # reported by the main thread
        result["error"] = e


def test():
    set_budget(40)
    with Tree("slow-i") as ti, Tree("slow-p") as tp, \
            Job(ti, "slow-inotify", {"watch": "inotify"}, BATCH_MS) as ji, \
            Job(tp, "slow-poll", {"watch": "poll"}, BATCH_MS) as jp:
        ji.wait_started()
        jp.wait_started()
        cases = ((ji, ti, 6, 0.4, False), (jp, tp, 20, 0.1, True))
        results = []
        threads = []
        ji.sleep_to_mid(0.5)
        for job, tree, chunks, pause, _ in cases:
            r = {}
            results.append(r)
            threads.append(threading.Thread(
                target=writer, daemon=True,
                args=(os.path.join(tree.inbox, "big.txt"), chunks, pause, r)))
        start = now_ms()
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
            check(not t.is_alive(), "a writer did not finish")
        for (job, _, _, _, _), r in zip(cases, results):
            if "error" in r:
                raise TestFailure("writing: %s" % r["error"])
            job.wait_after(r["t1"], 4, timeout=10)
        expected = [line(i) for i in range(NLINES)]
        for (job, _, chunks, pause, poll), r in zip(cases, results):
            err = job.stop()
            check(not skipped_lines(err), "%s: skipped: %s"
                  % (job.name, skipped_lines(err)))
            recs = job.records()
            check(len(recs) == NLINES and sorted(recs) == expected,
                  "%s: %d records (%d distinct), expected the %d lines; "
                  "unexpected: %r" % (job.name, len(recs), len(set(recs)),
                                      NLINES, sorted(set(recs) -
                                                     set(expected))[:5]))
            placed = placement(job.batches())
            times = {check_placed(job, placed, l, r["t0"], r["t1"], poll,
                                  "big.txt") for l in expected}
            check(len(times) == 1, "%s: the file's lines are spread over the "
                  "batches at %s" % (job.name, sorted(times)))
            written = (r["t1"] - start) / BATCH_MS
            log("%s: written over %.1f intervals, all %d lines in the batch "
                "%d ms after the close" % (job.name, written, NLINES,
                                           times.pop() - r["t1"]))
            check(written > 2, "%s: the writer was too fast to span several "
                  "batches" % job.name)


run(test)
