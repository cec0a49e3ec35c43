#!/usr/bin/env python3
"""A file deleted after the batch that takes it was planned, before a
worker reads it: reported ("skipped file '<path>': No such file or
directory"), skipped, and the job goes on and exits 0 on SIGINT.

The window between the plan and the read is made wide and observable
instead of guessed: the job runs with one worker, and each attempt renames
in two files at once, a "bait" .gz (older mtime, so planned first) that
inflates to 64 MiB of one line (dropped as too long; inflating it takes
tens of ms at least) and the victim. The test watches the directory with
its own inotify (IN_OPEN): when the worker opens the bait, the plan that
took both files is done and the victim is not read yet, so the test
deletes the victim then. This is deterministic as long as the single
worker reads a batch's partitions in plan order and the test reacts within
the inflation time; an attempt where the victim was read anyway (its line
is output) is retried, up to 3 times per mode, and each such miss is
printed. Run in poll mode and in inotify mode.

Also, per mode: a file renamed in and deleted before the next batch is
neither output nor reported. A control file renamed in at the end is
taken: the job still works.
"""

import gzip
import os

from dirlib import (Job, OpenWatch, Tree, check, lines_of, log, now_ms, run,
                    set_budget, skipped_lines)

BATCH_MS = 300
ATTEMPTS = 3
BAIT = gzip.compress(b"x" * (64 << 20), 1)


def reason_of(err, path):
    prefix = "directory source: skipped file '%s': " % path
    lines = [l for l in skipped_lines(err) if prefix in l]
    return [l.split(prefix, 1)[1] for l in lines]


def race(tree, job, watch, n):
    """One attempt; True when the victim was deleted before being read."""
    old = int(now_ms() / 1000) - 100
    bait = tree.staged("a%d-bait.gz" % n, BAIT, mtime=old)
    victim = tree.staged("b%d-victim.txt" % n, lines_of("victim %d" % n),
                         mtime=old + 10)
    job.sleep_to_mid(0.5)
    tree.move_in(bait)
    tree.move_in(victim)
    if not watch.wait_open(os.path.basename(bait), 5):
        check(False, "%s: the bait was never opened" % job.name)
    os.unlink(os.path.join(tree.inbox, os.path.basename(victim)))
    t = now_ms()
    job.wait_after(t, 2, timeout=10)
    got = "victim %d" % n in job.records()
    if got:
        log("%s: attempt %d: the victim was read before the test deleted it "
            "(the worker read it first, or the test reacted late); retrying"
            % (job.name, n))
    return not got


def test():
    set_budget(60)
    for mode in ("poll", "inotify"):
        with Tree("vanish-" + mode[0]) as tree, \
                Job(tree, "vanished-" + mode, {"watch": mode}, BATCH_MS,
                    workers=1) as job:
            watch = OpenWatch(tree.inbox)
            job.wait_started()
            # Renamed in and deleted before any batch took it.
            job.sleep_to_mid(0.3)
            tree.drop("gone.txt", lines_of("gone"))
            os.unlink(os.path.join(tree.inbox, "gone.txt"))
            # The race.
            hit = 0
            for n in range(1, ATTEMPTS + 1):
                if race(tree, job, watch, n):
                    hit = n
                    break
            watch.close()
            check(hit, "%s: in %d attempts the victim was always read before "
                  "the test could delete it" % (job.name, ATTEMPTS))
            victim = os.path.join(tree.inbox, "b%d-victim.txt" % hit)
            job.sleep_to_mid(0.5)
            tree.drop("control.txt", lines_of("control"))
            job.wait_batch(lambda b: "control" in b["records"], 5,
                           "the control file")
            err = job.stop()
            check(reason_of(err, victim) == ["No such file or directory"],
                  "%s: expected one report \"skipped file '%s': No such "
                  "file or directory\", got %r" % (job.name, victim,
                                                   skipped_lines(err)))
            check(len(skipped_lines(err)) == 1,
                  "%s: unexpected reports %r" % (job.name, skipped_lines(err)))
            recs = sorted(job.records())
            want = sorted(["control"] + ["victim %d" % n
                                         for n in range(1, hit)])
            check(recs == want, "%s: records %r, expected %r"
                  % (job.name, recs, want))
            log("%s: the victim was deleted between plan and read at attempt "
                "%d" % (job.name, hit))


run(test)
