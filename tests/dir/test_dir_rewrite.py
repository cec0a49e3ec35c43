#!/usr/bin/env python3
"""Once per file: the programming guide's "Once" rule, inotify and poll at
once.

1. a.txt renamed in and output; then appended to in place (open for
   append, write, close) and, a batch later, b.txt renamed in as a
   marker: "a file written again in place after it was taken is not read
   again": a.txt's lines are output once, the appended line never;
2. c.txt renamed in and output; then another c.txt (a new file, other
   content) renamed over it: "a new file under the same name ... renamed
   over it ... is a new file": both versions' lines are output, once each.
SIGINT exits 0, nothing is reported.
"""

import os

from dirlib import (Job, Tree, check, lines_of, now_ms, run, set_budget,
                    skipped_lines)

BATCH_MS = 300


def test():
    set_budget(30)
    with Tree("rew-i") as ti, Tree("rew-p") as tp, \
            Job(ti, "rewrite-inotify", {"watch": "inotify"}, BATCH_MS) as ji, \
            Job(tp, "rewrite-poll", {"watch": "poll"}, BATCH_MS) as jp:
        pairs = ((ti, ji), (tp, jp))
        ji.wait_started()
        jp.wait_started()
        ji.sleep_to_mid(0.5)
        for tree, _ in pairs:
            tree.drop("a.txt", lines_of("a1", "a2"))
            tree.drop("c.txt", lines_of("c old"))
        for _, job in pairs:
            job.wait_batch(lambda b: "a1" in b["records"], 5, "a.txt")
        ji.sleep_to_mid(0.5)
        for tree, _ in pairs:
            with open(os.path.join(tree.inbox, "a.txt"), "a") as f:
                f.write(lines_of("a3 appended"))
            tree.drop("c.txt", lines_of("c new"))
        t = now_ms()
        for _, job in pairs:
            job.wait_after(t, 3)
        ji.sleep_to_mid(0.5)
        for tree, _ in pairs:
            tree.drop("b.txt", lines_of("b marker"))
        problems = []
        for tree, job in pairs:
            job.wait_batch(lambda b: "b marker" in b["records"], 5, "b.txt")
            job.wait_after(now_ms(), 2)
            err = job.stop()
            check(not skipped_lines(err), "%s: reports %r"
                  % (job.name, skipped_lines(err)))
            recs = sorted(job.records())
            want = sorted(["a1", "a2", "c old", "c new", "b marker"])
            if recs != want:
                problems.append("%s: records %r, expected %r (a.txt once, "
                                "not re-read after the append)"
                                % (job.name, recs, want))
        check(not problems, "\n  ".join(problems))


run(test)
