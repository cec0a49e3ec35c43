#!/usr/bin/env python3
"""A planned file replaced by a FIFO or a symbolic link after the batch that
takes it was planned, before a worker reads it: the reader neither blocks
(a plain open of a FIFO waits for a writer forever, and the job with it)
nor follows the link; it reports "skipped file '<path>': replaced by a
FIFO since it was planned" (or "by a symbolic link ..."), counts it and
goes on: later files are read, and SIGTERM stops the job (exit 0).

The window between plan and read is made observable as in
test_dir_vanished.py: one worker; each attempt renames in a "bait" .gz
(older mtime, so planned first; it inflates to 64 MiB of one line, dropped
as too long) and the victim; when the test's own inotify sees the worker
open the bait, the victim is replaced by an atomic rename: a FIFO, or a
symbolic link to the victim's own inode (a hard link kept in stage/, so
that following the link would read the very file planned: only a reader
that refuses links skips it). An attempt where the victim was read anyway
(the test reacted late) is retried, up to 3 times per case, and printed.
Run in poll mode and in inotify mode.
"""

import gzip
import os
import signal

from dirlib import (Job, OpenWatch, Tree, check, lines_of, log, now_ms, run,
                    set_budget, skipped_lines)

BATCH_MS = 300
ATTEMPTS = 3
BAIT = gzip.compress(b"x" * (64 << 20), 1)
WHY = {"fifo": "replaced by a FIFO since it was planned",
       "link": "replaced by a symbolic link since it was planned (links are "
               "not followed)"}


def reasons(err, path):
    prefix = "directory source: skipped file '%s': " % path
    return [l.split(prefix, 1)[1] for l in skipped_lines(err) if prefix in l]


def replace(tree, victim, kind, n):
    """Put a FIFO or a link to the victim's inode in its place, at once."""
    tmp = tree.path("stage", "%s%d.tmp" % (kind, n))
    if kind == "fifo":
        os.mkfifo(tmp)
    else:
        keep = tree.path("stage", "keep%d" % n)
        os.link(victim, keep)
        os.symlink(keep, tmp)
    os.rename(tmp, victim)


def race(tree, job, watch, kind, n):
    """One attempt; the victim's path when it was replaced before being
    read, else None."""
    old = int(now_ms() / 1000) - 100
    bait = tree.staged("a%s%d-bait.gz" % (kind, n), BAIT, mtime=old)
    staged = tree.staged("b%s%d-victim.txt" % (kind, n),
                         lines_of("victim %s %d" % (kind, n)), mtime=old + 10)
    job.sleep_to_mid(0.5)
    tree.move_in(bait)
    _, _, victim = tree.move_in(staged)
    if not watch.wait_open(os.path.basename(bait), 5):
        check(False, "%s: the bait was never opened" % job.name)
    replace(tree, victim, kind, n)
    job.wait_after(now_ms(), 2, timeout=10)
    if "victim %s %d" % (kind, n) in job.records():
        log("%s: %s attempt %d: the victim was read (before the test "
            "replaced it, or through the link); retrying" % (job.name, kind,
                                                             n))
        return None
    return victim


def test():
    set_budget(100)
    for mode in ("poll", "inotify"):
        with Tree("repl-" + mode[0]) as tree, \
                Job(tree, "replaced-" + mode, {"watch": mode}, BATCH_MS,
                    workers=1) as job:
            watch = OpenWatch(tree.inbox)
            job.wait_started()
            hits = {}
            for kind in ("fifo", "link"):
                for n in range(1, ATTEMPTS + 1):
                    hits[kind] = race(tree, job, watch, kind, n)
                    if hits[kind]:
                        break
                check(hits[kind], "%s: in %d attempts the victim was always "
                      "read instead of skipped as %s" % (job.name, ATTEMPTS,
                                                         WHY[kind]))
            watch.close()
            # Later files are read: the worker is not stuck.
            job.sleep_to_mid(0.5)
            tree.drop("control.txt", lines_of("control"))
            job.wait_batch(lambda b: "control" in b["records"], 5,
                           "the control file")
            err = job.stop(sig=signal.SIGTERM)
            for kind, victim in hits.items():
                check(reasons(err, victim) == [WHY[kind]],
                      "%s: expected one report \"skipped file '%s': %s\", "
                      "got %r" % (job.name, victim, WHY[kind],
                                  skipped_lines(err)))
            check(len(skipped_lines(err)) == len(hits),
                  "%s: unexpected reports %r" % (job.name, skipped_lines(err)))
            check("control" in job.records(), "%s: no control record"
                  % job.name)
            log("%s: replaced between plan and read: %s" % (
                job.name, ", ".join(sorted(hits))))


run(test)
