#!/usr/bin/env python3
"""Files that arrive while the watched directory is unreadable (mode 000)
are read once, after access returns; a message names them (inotify: each
file, "cannot look at 'NAME': Permission denied") or the directory
(poll: "cannot list the directory: Permission denied") once, not at every
batch, while they cannot be read. inotify and poll at once.

The job runs as uid/gid 65534 (nobody) and the test as root, who can still
put files into the mode-000 directory: moved.txt renamed in, written.txt
created, written and closed in place. Three batches later neither is
output; then the directory gets mode 755 back and both come, in batches
after that moment; a control file after them is read too. Skipped when the
test is not root (it could not put files into a directory it cannot read)
or cannot run streamctl as uid 65534.
"""

import os
import subprocess

from dirlib import (SKIP, STREAMCTL, Job, Tree, check, lines_of, log, now_ms,
                    run, set_budget)

BATCH_MS = 300
NOBODY = 65534


def can_run_as_nobody():
    if os.geteuid() != 0:
        log("not root: cannot put files into a directory of mode 000; "
            "skipping")
        return False
    try:
        subprocess.run([STREAMCTL, "--version"], user=NOBODY, group=NOBODY,
                       extra_groups=[], stdout=subprocess.DEVNULL,
                       check=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as e:
        log("cannot run streamctl as uid %d (%s); skipping" % (NOBODY, e))
        return False
    return True


def messages(job, tree, poll):
    if poll:
        what = ["cannot list the directory: Permission denied"]
    else:
        what = ["cannot look at '%s': Permission denied" % n
                for n in ("moved.txt", "written.txt")]
    prefix = "directory source %s: " % tree.inbox
    return {w: len([l for l in job.stderr().split("\n") if prefix + w in l])
            for w in what}


def test():
    set_budget(40)
    if not can_run_as_nobody():
        raise SystemExit(SKIP)
    with Tree("udir-i") as ti, Tree("udir-p") as tp, \
            Job(ti, "unreaddir-inotify", {"watch": "inotify"}, BATCH_MS,
                user=NOBODY) as ji, \
            Job(tp, "unreaddir-poll", {"watch": "poll"}, BATCH_MS,
                user=NOBODY) as jp:
        pairs = ((ti, ji, False), (tp, jp, True))
        ji.wait_started()
        jp.wait_started()
        for tree, _, _ in pairs:
            os.chmod(tree.inbox, 0)
            tree.drop("moved.txt", lines_of("moved"))
            with open(os.path.join(tree.inbox, "written.txt"), "w") as f:
                f.write(lines_of("written"))
        t = now_ms()
        for _, job, _ in pairs:
            job.wait_after(t, 4)
        for tree, job, poll in pairs:
            check(job.records() == [], "%s: records %r while the directory "
                  "was unreadable" % (job.name, job.records()))
            for what, n in messages(job, tree, poll).items():
                check(n == 1, "%s: \"%s\" logged %d times while the "
                      "directory was unreadable, expected once"
                      % (job.name, what, n))
        back = now_ms()
        for tree, _, _ in pairs:
            os.chmod(tree.inbox, 0o755)
        for _, job, _ in pairs:
            for rec in ("moved", "written"):
                b = job.wait_batch(lambda b: rec in b["records"], 5,
                                   "%s after access returned" % rec)
                check(b["arrival"] > back, "%s: %r output before access "
                      "returned" % (job.name, rec))
        for tree, _, _ in pairs:
            tree.drop("control.txt", lines_of("control"))
        for tree, job, poll in pairs:
            job.wait_batch(lambda b: "control" in b["records"], 5,
                           "the control file")
            job.stop()
            recs = sorted(job.records())
            check(recs == ["control", "moved", "written"],
                  "%s: records %r, expected control, moved and written once "
                  "each" % (job.name, recs))
            for what, n in messages(job, tree, poll).items():
                check(n == 1, "%s: \"%s\" logged %d times, expected once"
                      % (job.name, what, n))


run(test)
