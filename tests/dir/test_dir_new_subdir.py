#!/usr/bin/env python3
"""recursive_file_lookup with a subdirectory created in the watched
directory and filled before the next batch (the `mkdir -p d && mv f d/`
and `mkdir -p d && write d/f` patterns). inotify and poll at once.

1. mkdir n1, then rename a file into n1, in the same interval;
2. mkdir n2, then create, write and close n2/f.txt, in the same interval;
3. (control) mkdir n3, two batches later rename a file into n3;
4. mkdir n4, then create n4/slow.txt and write it in 12 chunks 0.1 s
   apart (across several batches; pauses shorter than a batch, so that
   polling too must wait) before closing it: never read half-written.
Every file must be output once, all its lines in one batch, the first
after it was complete (poll: or the next). Cases 1 and 2 may come one
batch later with inotify too: a directory created and filled before the
next batch reads its event has no watch yet when its files arrive, so
they are known complete only once a listing a batch later sees them
unchanged (docs: "A new one may have had files written and closed before
its watch existed"). The docs: recursive lookup covers subdirectories at
any depth, and a file goes into the first batch after it is complete.
"""

import os
import time

from dirlib import (Job, Tree, check, check_placed, lines_of, now_ms,
                    placement, run, set_budget)

BATCH_MS = 300


def test():
    set_budget(30)
    with Tree("nsub-i") as ti, Tree("nsub-p") as tp, \
            Job(ti, "newsub-inotify", {"watch": "inotify",
                                       "recursive_file_lookup": True},
                BATCH_MS) as ji, \
            Job(tp, "newsub-poll", {"watch": "poll",
                                    "recursive_file_lookup": True},
                BATCH_MS) as jp:
        pairs = ((ti, ji, False), (tp, jp, True))
        ji.wait_started()
        jp.wait_started()
        moments = {}
        ji.sleep_to_mid(0.3)
        t0 = now_ms()
        for tree, _, _ in pairs:
            os.mkdir(os.path.join(tree.inbox, "n1"))
            tree.move_in(tree.staged("a.txt", lines_of("n1 moved")),
                         into=os.path.join(tree.inbox, "n1"))
        moments["n1 moved"] = (t0, now_ms())
        ji.sleep_to_mid(0.3)
        t0 = now_ms()
        for tree, _, _ in pairs:
            os.mkdir(os.path.join(tree.inbox, "n2"))
            with open(os.path.join(tree.inbox, "n2", "f.txt"), "w") as f:
                f.write(lines_of("n2 written"))
        moments["n2 written"] = (t0, now_ms())
        ji.sleep_to_mid(0.3)
        for tree, _, _ in pairs:
            os.mkdir(os.path.join(tree.inbox, "n3"))
        t = now_ms()
        for _, job, _ in pairs:
            job.wait_after(t, 2)
        ji.sleep_to_mid(0.3)
        t0 = now_ms()
        for tree, _, _ in pairs:
            tree.move_in(tree.staged("c.txt", lines_of("n3 control")),
                         into=os.path.join(tree.inbox, "n3"))
        moments["n3 control"] = (t0, now_ms())
        ji.sleep_to_mid(0.3)
        for tree, _, _ in pairs:
            os.mkdir(os.path.join(tree.inbox, "n4"))
        files = [open(os.path.join(tree.inbox, "n4", "slow.txt"), "w")
                 for tree, _, _ in pairs]
        for i in range(12):
            for f in files:
                f.write(lines_of("n4 slow %d" % i))
                f.flush()
            time.sleep(0.1)
        t0 = now_ms()
        for f in files:
            f.close()
        for i in range(12):
            moments["n4 slow %d" % i] = (t0, now_ms())
        end = now_ms()
        problems = []
        for tree, job, poll in pairs:
            job.wait_after(end, 5)
            job.stop()
            placed = placement(job.batches())
            for line, (t0, t1) in sorted(moments.items()):
                late_ok = poll or line in ("n1 moved", "n2 written")
                try:
                    check_placed(job, placed, line, t0, t1, late_ok)
                except Exception as e:
                    problems.append(str(e))
        check(not problems, "\n  ".join(problems))


run(test)
