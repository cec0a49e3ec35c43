#!/usr/bin/env python3
"""recursive_file_lookup and its depth limit: directories up to 64 levels
below the watched one are watched, deeper ones are not, and the first such
directory is reported once ("directory source PATH: not watching 'REL'
nor anything below it: deeper than 64 levels ..."), not at every batch.
inotify and poll at once.

Before the start: a chain d/d/.../d of 70 levels. After it: a chain
e/e/.../e of 70 levels made at once (os.makedirs: the inotify watcher
follows it level by level through events and listings). Two batches
later, a file renamed into level 64 and one into level 65 of each chain:
the level-64 files are output once, the level-65 ones never; exactly one
report, naming level 65 of the d chain.
"""

import os

from dirlib import (Job, Tree, check, lines_of, now_ms, run, set_budget)

BATCH_MS = 300
LEVELS = 70
LIMIT = 64


def level(tree, name, n):
    return os.path.join(tree.inbox, *([name] * n))


def reports(job, tree):
    prefix = "directory source %s: not watching '" % tree.inbox
    return [l for l in job.stderr().split("\n") if prefix in l]


def test():
    set_budget(40)
    with Tree("deep-i") as ti, Tree("deep-p") as tp:
        for tree in (ti, tp):
            os.makedirs(level(tree, "d", LEVELS))
        with Job(ti, "deep-inotify", {"watch": "inotify",
                                      "recursive_file_lookup": True},
                 BATCH_MS) as ji, \
                Job(tp, "deep-poll", {"watch": "poll",
                                      "recursive_file_lookup": True},
                    BATCH_MS) as jp:
            pairs = ((ti, ji), (tp, jp))
            ji.wait_started()
            jp.wait_started()
            for tree, _ in pairs:
                os.makedirs(level(tree, "e", LEVELS))
            t = now_ms()
            for _, job in pairs:
                job.wait_after(t, 2)
            for tree, _ in pairs:
                for chain in ("d", "e"):
                    for n in (LIMIT, LIMIT + 1):
                        tree.drop("%s%d.txt" % (chain, n),
                                  lines_of("%s%d" % (chain, n)),
                                  into=level(tree, chain, n))
            for _, job in pairs:
                for rec in ("d64", "e64"):
                    job.wait_batch(lambda b: rec in b["records"], 5,
                                   "%s.txt at level 64" % rec)
            t = now_ms()
            for _, job in pairs:
                job.wait_after(t, 3)
            problems = []
            want = "not watching '%s' nor anything below it: deeper than " \
                   "64 levels" % "/".join(["d"] * (LIMIT + 1))
            for tree, job in pairs:
                job.stop()
                recs = sorted(job.records())
                if recs != ["d64", "e64"]:
                    problems.append("%s: records %r, expected d64 and e64 "
                                    "once each" % (job.name, recs))
                got = reports(job, tree)
                if len(got) != 1 or want not in got[0]:
                    problems.append("%s: expected one report \"%s\", got %r"
                                    % (job.name, want, got))
            check(not problems, "\n  ".join(problems))


run(test)
