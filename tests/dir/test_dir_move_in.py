#!/usr/bin/env python3
"""Files renamed in one by one across batch boundaries, the same scenario
in inotify and in poll mode at once (two jobs, two directories, the same
steps at the same wall times):

- f1 at mid-interval, f2 a quarter into the next one, f3 (mtime
  2000-01-01, set before the rename) three quarters into the next, f4 and
  f5 in one interval, then f6 written in place (create, write, close);
- every line is output exactly once, all of a file's lines in one batch:
  inotify: the first batch whose time is after the rename (or the close);
  poll: that batch or the next (a listing finds the file, the next one
  sees it unchanged). A batch whose line arrived after the rename may have
  been planned after it and is allowed too (a late batch);
- the old mtime does not matter: f3 is taken like the others;
- the two modes output the same multiset of records, nothing else, no
  file is reported as skipped, and SIGINT stops both with status 0.
"""

import os
import time

from dirlib import (Job, Tree, check, check_placed, lines_of, log, multiset,
                    now_ms, placement, run, set_budget, skipped_lines)

BATCH_MS = 300
OLD = 946684800  # 2000-01-01T00:00:00Z


def content(name, n):
    return ["%s:%d" % (name, i) for i in range(1, n + 1)]


def test():
    set_budget(40)
    with Tree("movein-i") as ti, Tree("movein-p") as tp, \
            Job(ti, "movein-inotify", {"watch": "inotify"}, BATCH_MS) as ji, \
            Job(tp, "movein-poll", {"watch": "poll"}, BATCH_MS) as jp:
        trees = ((ti, ji), (tp, jp))
        ji.wait_started()
        jp.wait_started()
        check(ji.phase() == jp.phase(),
              "the two jobs' batch times differ in phase: %d and %d"
              % (ji.phase(), jp.phase()))
        files = {"f1": 2, "f2": 1, "f3": 2, "f4": 3, "f5": 1, "f6": 2}
        moments = {}  # name -> (t0, t1)

        def rename(name, frac, mtime=None):
            for tree, _ in trees:
                tree.staged(name + ".txt", lines_of(*content(name, files[name])),
                            mtime)
            ji.sleep_to_mid(frac)
            t0 = now_ms()
            for tree, _ in trees:
                tree.move_in(os.path.join(tree.stage, name + ".txt"))
            moments[name] = (t0, now_ms())

        rename("f1", 0.5)
        rename("f2", 0.25)
        rename("f3", 0.75, OLD)
        check(os.stat(os.path.join(ti.inbox, "f3.txt")).st_mtime == OLD,
              "the rename changed f3's mtime")
        rename("f4", 0.5)
        for tree, _ in trees:
            tree.move_in(tree.staged("f5.txt", lines_of(*content("f5", 1))))
        moments["f5"] = (moments["f4"][0], now_ms())
        # f6: written in place, complete when closed.
        ji.sleep_to_mid(0.5)
        t0 = now_ms()
        handles = [open(os.path.join(t.inbox, "f6.txt"), "w")
                   for t, _ in trees]
        for h in handles:
            h.write(lines_of(*content("f6", 2)))
        for h in handles:
            h.close()
        moments["f6"] = (t0, now_ms())

        last = max(t1 for _, t1 in moments.values())
        for job in (ji, jp):
            job.wait_after(last, 4, timeout=10)
        time.sleep(BATCH_MS / 1000.0)
        err_i = ji.stop()
        err_p = jp.stop()

        expected = sorted(r for n, k in files.items() for r in content(n, k))
        for job, err, poll in ((ji, err_i, False), (jp, err_p, True)):
            recs = job.records()
            check(sorted(recs) == expected,
                  "%s: records %r, expected %r" % (job.name, sorted(recs),
                                                   expected))
            placed = placement(job.batches())
            for name, k in files.items():
                t0, t1 = moments[name]
                times = {check_placed(job, placed, r, t0, t1, poll, name)
                         for r in content(name, k)}
                check(len(times) == 1, "%s: the lines of %s are in several "
                      "batches: %s" % (job.name, name, sorted(times)))
                log("%s: %s complete %d ms into an interval, in the batch "
                    "%d ms later" % (job.name, name,
                                     (t1 - job.phase()) % BATCH_MS,
                                     times.pop() - t1))
            check(not skipped_lines(err), "%s: files reported as skipped: %s"
                  % (job.name, skipped_lines(err)))
        check(multiset(ji.records()) == multiset(jp.records()),
              "inotify and poll output different records")


run(test)
