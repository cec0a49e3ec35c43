#!/usr/bin/env python3
"""The watched directory itself deleted, renamed away, recreated and moved
back, inotify and poll at once, with recursive_file_lookup. The source follows the PATH: a directory
at the path is watched (again), one renamed away is not.

A. a.txt renamed in: read.
B. the directory deleted (rm -r); two batches later created again (mkdir);
   two batches later b.txt renamed in: read.
C. the directory renamed to away/; c.txt renamed into away/ (never read);
   then a directory holding pre.txt and sub/pre2.txt renamed to the path
   and d.txt renamed in at once: all read (pre.txt and pre2.txt found by
   the listing of the directory that came back).
D. within one batch interval: rm -r, mkdir, e.txt renamed in: read.
E. the directory renamed to away2/ (holding e.txt, read already), and two
   batches later renamed back; then f.txt renamed in: f read, e not read
   again (the same file, by inode).
F. a subdirectory s2 made, g1.txt renamed into it; s2 renamed away (to
   away3/) and g2.txt renamed into away3/ (never read); s2 made again and
   g3.txt renamed into it: g1 and g3 read, no warning (the parent's events
   tell).

Expected: a, b, pre, pre2, d, e, f, g1, g3 each output exactly once, c
and g2 never; one
warning per loss naming the path ("directory source PATH: the directory
was ..." with inotify, 4 of them; "directory source PATH: cannot list the
directory: ..." with polling, one per loss a listing saw: B, C and E, and D
only if a listing fell between its rm and mkdir); SIGINT exits 0.
"""

import os
import shutil

from dirlib import (Job, Tree, check, lines_of, log, now_ms, run, set_budget)

BATCH_MS = 300
WANT = ["a", "b", "d", "e", "f", "g1", "g3", "pre", "pre2"]
SRC = {"recursive_file_lookup": True}


def lost_warnings(job, tree, poll):
    what = ("cannot list the directory: " if poll
            else "the directory was ")
    prefix = "directory source %s: %s" % (tree.inbox, what)
    return [l for l in job.stderr().split("\n") if prefix in l]


def wait_record(pairs, rec, what):
    for _, job, _ in pairs:
        job.wait_batch(lambda b: rec in b["records"], 8, what)


def pause(pairs, n=2):
    t = now_ms()
    for _, job, _ in pairs:
        job.wait_after(t, n)


def test():
    set_budget(90)
    with Tree("rlost-i") as ti, Tree("rlost-p") as tp, \
            Job(ti, "rootlost-inotify", dict(SRC, watch="inotify"),
                BATCH_MS) as ji, \
            Job(tp, "rootlost-poll", dict(SRC, watch="poll"),
                BATCH_MS) as jp:
        pairs = ((ti, ji, False), (tp, jp, True))
        ji.wait_started()
        jp.wait_started()
        # A
        for tree, _, _ in pairs:
            tree.drop("a.txt", lines_of("a"))
        wait_record(pairs, "a", "a.txt")
        # B
        for tree, _, _ in pairs:
            shutil.rmtree(tree.inbox)
        pause(pairs)
        for tree, _, _ in pairs:
            os.mkdir(tree.inbox)
        pause(pairs)
        for tree, _, _ in pairs:
            tree.drop("b.txt", lines_of("b"))
        wait_record(pairs, "b", "b.txt after the directory was recreated")
        # C
        for tree, _, _ in pairs:
            os.rename(tree.inbox, tree.path("away"))
        pause(pairs)
        for tree, _, _ in pairs:
            tree.drop("c.txt", lines_of("c"), into=tree.path("away"))
            newin = tree.sub("newin")
            tree.drop("pre.txt", lines_of("pre"), into=newin)
            tree.drop("pre2.txt", lines_of("pre2"),
                      into=tree.sub("newin", "sub"))
        pause(pairs)
        for tree, _, _ in pairs:
            os.rename(tree.path("newin"), tree.inbox)
            tree.drop("d.txt", lines_of("d"))
        wait_record(pairs, "pre", "pre.txt in the directory renamed in")
        wait_record(pairs, "pre2", "sub/pre2.txt in the directory renamed in")
        wait_record(pairs, "d", "d.txt")
        # D
        ji.sleep_to_mid(0.3)
        for tree, _, _ in pairs:
            shutil.rmtree(tree.inbox)
            os.mkdir(tree.inbox)
            tree.drop("e.txt", lines_of("e"))
        wait_record(pairs, "e", "e.txt after rm, mkdir in one interval")
        # E: away2 holds e.txt, read already.
        for tree, _, _ in pairs:
            os.rename(tree.inbox, tree.path("away2"))
        pause(pairs)
        for tree, _, _ in pairs:
            os.rename(tree.path("away2"), tree.inbox)
        pause(pairs, 3)
        for tree, _, _ in pairs:
            tree.drop("f.txt", lines_of("f"))
        wait_record(pairs, "f", "f.txt after the directory was moved back")
        # F
        for tree, _, _ in pairs:
            os.mkdir(os.path.join(tree.inbox, "s2"))
        pause(pairs)
        for tree, _, _ in pairs:
            tree.drop("g1.txt", lines_of("g1"),
                      into=os.path.join(tree.inbox, "s2"))
        wait_record(pairs, "g1", "s2/g1.txt")
        for tree, _, _ in pairs:
            os.rename(os.path.join(tree.inbox, "s2"), tree.path("away3"))
            tree.drop("g2.txt", lines_of("g2"), into=tree.path("away3"))
            os.mkdir(os.path.join(tree.inbox, "s2"))
        pause(pairs)
        for tree, _, _ in pairs:
            tree.drop("g3.txt", lines_of("g3"),
                      into=os.path.join(tree.inbox, "s2"))
        wait_record(pairs, "g3", "s2/g3.txt after s2 was renamed away")
        pause(pairs, 3)
        problems = []
        for tree, job, poll in pairs:
            job.stop()
            recs = sorted(job.records())
            if recs != WANT:
                problems.append("%s: records %r, expected %r (each once)"
                                % (job.name, recs, WANT))
            warns = lost_warnings(job, tree, poll)
            log("%s: %d loss warning(s):\n  %s"
                % (job.name, len(warns), "\n  ".join(warns)))
            sub = [l for l in job.stderr().split("\n")
                   if "lost the watch of" in l]
            if sub:
                problems.append("%s: unexpected warnings %r"
                                % (job.name, sub))
            ok = len(warns) in ((3, 4) if poll else (4,))
            if not ok:
                problems.append("%s: %d warnings about the lost directory, "
                                "expected %s" % (job.name, len(warns),
                                                 "3 or 4" if poll else "4"))
        check(not problems, "\n  ".join(problems))


run(test)
