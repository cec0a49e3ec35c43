#!/usr/bin/env python3
"""recursive_file_lookup: a directory tree renamed in is read whole.

Three jobs at once, each on its own directory: recursive in inotify mode,
recursive in poll mode, and not recursive (inotify).
1. top.txt and the tree t/ = {r1.txt, s/r2.txt, s/u/r3.txt, .h/r4.txt,
   s/_r5.txt, s/r6.tmp} are renamed in, in one interval;
   recursive: top, r1, r2, r3 are output, each once, in the first batch
   after the renames (poll: or the next); r4 (hidden directory), r5 and
   r6 (hidden, temporary names) never are;
   not recursive: only top.
2. r7.txt renamed into the existing t/s/u/: recursive jobs take it (the
   watch on a subdirectory found in step 1), in the first batch after
   (poll: or the next); the flat job does not.
Records carry their path (with_file_name), so each file is told apart
from its relative path below the watched directory. SIGINT exits 0.
"""

import os

from dirlib import (Job, Tree, check, check_placed, lines_of, now_ms,
                    placement, run, set_budget, skipped_lines)

BATCH_MS = 300
TREE = {"r1.txt": "r1", "s/r2.txt": "r2", "s/u/r3.txt": "r3",
        ".h/r4.txt": "r4", "s/_r5.txt": "r5", "s/r6.tmp": "r6"}


def test():
    set_budget(30)
    with Tree("rec-i") as ti, Tree("rec-p") as tp, Tree("rec-f") as tf, \
            Job(ti, "recursive-inotify", {"watch": "inotify",
                                          "recursive_file_lookup": True,
                                          "with_file_name": True},
                BATCH_MS) as ji, \
            Job(tp, "recursive-poll", {"watch": "poll",
                                       "recursive_file_lookup": True,
                                       "with_file_name": True},
                BATCH_MS) as jp, \
            Job(tf, "flat-inotify", {"watch": "inotify",
                                     "with_file_name": True}, BATCH_MS) as jf:
        cases = ((ti, ji, False, True), (tp, jp, True, True),
                 (tf, jf, False, False))
        for tree, job, _, _ in cases:
            for rel, line in TREE.items():
                tree.staged(os.path.join("t", rel), lines_of(line))
            tree.staged("top.txt", lines_of("top"))
            job.wait_started()
        ji.sleep_to_mid(0.5)
        t0 = now_ms()
        for tree, _, _, _ in cases:
            tree.move_in(os.path.join(tree.stage, "top.txt"))
            tree.move_in(os.path.join(tree.stage, "t"))
        t1 = now_ms()
        for _, job, _, _ in cases:
            job.wait_after(t1, 3)
        ji.sleep_to_mid(0.5)
        t2 = now_ms()
        for tree, _, _, _ in cases:
            tree.move_in(tree.staged("r7.txt", lines_of("r7")),
                         into=os.path.join(tree.inbox, "t", "s", "u"))
        t3 = now_ms()
        for tree, job, poll, rec in cases:
            job.wait_after(t3, 4)
            err = job.stop()
            check(not skipped_lines(err), "%s: reports %r"
                  % (job.name, skipped_lines(err)))

            def rec_of(rel, line):
                return [os.path.join(tree.inbox, rel), line]
            want = [rec_of("top.txt", "top")]
            if rec:
                want += [rec_of("t/r1.txt", "r1"), rec_of("t/s/r2.txt", "r2"),
                         rec_of("t/s/u/r3.txt", "r3")]
            check(sorted(job.records()) == sorted(
                want + ([rec_of("t/s/u/r7.txt", "r7")] if rec else [])),
                "%s: records %r, expected %r (and r7 when recursive)"
                % (job.name, sorted(job.records()), sorted(want)))
            placed = placement(job.batches())
            for r in want:
                check_placed(job, placed, r, t0, t1, poll, r[0])
            if rec:
                check_placed(job, placed, rec_of("t/s/u/r7.txt", "r7"), t2,
                             t3, poll, "t/s/u/r7.txt")


run(test)
