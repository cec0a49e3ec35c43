#!/usr/bin/env python3
"""Hidden and temporary files are ignored; renaming one to a plain name
takes it. inotify and poll at once, the same steps:

1. renamed in: .x, _x, x.tmp, y.part, z.crdownload; written in place (and
   closed): .w, w.tmp; a symbolic link link.txt to a regular file outside
   (links are not followed); plus a control file c1.txt. After four more
   batches only c1's line was output;
2. x.tmp renamed (inside the watched directory) to x.txt, and .w to
   w.txt: both taken, in the first batch after the rename (poll: or the
   next), whole;
3. w.tmp is then appended to and renamed to w2.txt: taken with all its
   lines.
The others are never output, nothing is reported, SIGINT exits 0.
"""

import os

from dirlib import (Job, Tree, check, check_placed, lines_of, now_ms,
                    placement, run, set_budget, skipped_lines)

BATCH_MS = 300
IGNORED = [".x", "_x", "x.tmp", "y.part", "z.crdownload"]


def test():
    set_budget(30)
    with Tree("hid-i") as ti, Tree("hid-p") as tp, \
            Job(ti, "hidden-inotify", {"watch": "inotify"}, BATCH_MS) as ji, \
            Job(tp, "hidden-poll", {"watch": "poll"}, BATCH_MS) as jp:
        pairs = ((ti, ji, False), (tp, jp, True))
        ji.wait_started()
        jp.wait_started()
        ji.sleep_to_mid(0.5)
        for tree, _, _ in pairs:
            for name in IGNORED:
                tree.drop(name, lines_of("ignored " + name))
            for name in (".w", "w.tmp"):
                with open(os.path.join(tree.inbox, name), "w") as f:
                    f.write(lines_of("in place " + name))
            target = tree.staged("target", lines_of("link target"))
            os.symlink(target, os.path.join(tree.stage, "link.txt"))
            tree.move_in(os.path.join(tree.stage, "link.txt"))
            tree.drop("c1.txt", lines_of("control"))
        t1 = now_ms()
        for _, job, _ in pairs:
            job.wait_after(t1, 4, timeout=10)
            check(sorted(job.records()) == ["control"],
                  "%s: after 4 batches the records are %r, expected only "
                  "the control file's" % (job.name, job.records()))
        ji.sleep_to_mid(0.5)
        t0 = now_ms()
        for tree, _, _ in pairs:
            os.rename(os.path.join(tree.inbox, "x.tmp"),
                      os.path.join(tree.inbox, "x.txt"))
            os.rename(os.path.join(tree.inbox, ".w"),
                      os.path.join(tree.inbox, "w.txt"))
        t1 = now_ms()
        ji.sleep_to_mid(0.5)
        t2 = now_ms()
        for tree, _, _ in pairs:
            with open(os.path.join(tree.inbox, "w.tmp"), "a") as f:
                f.write(lines_of("appended"))
            os.rename(os.path.join(tree.inbox, "w.tmp"),
                      os.path.join(tree.inbox, "w2.txt"))
        t3 = now_ms()
        for tree, job, poll in pairs:
            job.wait_after(t3, 4, timeout=10)
            err = job.stop()
            expected = sorted(["control", "ignored x.tmp", "in place .w",
                               "in place w.tmp", "appended"])
            check(sorted(job.records()) == expected,
                  "%s: records %r, expected %r"
                  % (job.name, sorted(job.records()), expected))
            placed = placement(job.batches())
            check_placed(job, placed, "ignored x.tmp", t0, t1, poll, "x.txt")
            check_placed(job, placed, "in place .w", t0, t1, poll, "w.txt")
            a = check_placed(job, placed, "in place w.tmp", t2, t3, poll,
                             "w2.txt")
            b = check_placed(job, placed, "appended", t2, t3, poll, "w2.txt")
            check(a == b, "%s: w2.txt's lines in two batches" % job.name)
            check(not skipped_lines(err), "%s: skipped: %s"
                  % (job.name, skipped_lines(err)))


run(test)
