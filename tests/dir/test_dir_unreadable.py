#!/usr/bin/env python3
"""An unreadable file is reported ("directory source: skipped file
'<path>': Permission denied") and skipped; the rest of its batch and later
batches are read; SIGINT exits 0. inotify and poll at once.

locked.txt (mode 000) is renamed in with ok1.txt in one interval; later
ok2.txt. Expected: ok1 and ok2 output, locked.txt reported once with
"Permission denied" and never output.

chmod 000 does not stop root from reading. When the test runs as root it
runs streamctl as the unprivileged uid/gid 65534 (nobody) instead, so the
mode still counts; when even that is impossible (no permission to change
ids), the test is skipped with a message.
"""

import os
import subprocess

from dirlib import (SKIP, STREAMCTL, Job, Tree, check, lines_of, log, now_ms,
                    run, set_budget, skipped_lines)

BATCH_MS = 300
NOBODY = 65534


def reasons(err, path):
    prefix = "directory source: skipped file '%s': " % path
    return [l.split(prefix, 1)[1] for l in skipped_lines(err) if prefix in l]


def test():
    set_budget(30)
    user = None
    if os.geteuid() == 0:
        user = NOBODY
        try:
            subprocess.run([STREAMCTL, "--version"], user=user, group=user,
                           extra_groups=[], stdout=subprocess.DEVNULL,
                           check=True, timeout=10)
        except (OSError, subprocess.SubprocessError) as e:
            log("running as root and cannot run streamctl as uid %d (%s): "
                "mode 000 would not stop the job from reading; skipping"
                % (user, e))
            raise SystemExit(SKIP)
        log("running as root: the jobs run as uid %d, for whom mode 000 "
            "means unreadable" % user)
    with Tree("unread-i") as ti, Tree("unread-p") as tp, \
            Job(ti, "unreadable-inotify", {"watch": "inotify"}, BATCH_MS,
                user=user) as ji, \
            Job(tp, "unreadable-poll", {"watch": "poll"}, BATCH_MS,
                user=user) as jp:
        pairs = ((ti, ji), (tp, jp))
        ji.wait_started()
        jp.wait_started()
        for tree, _ in pairs:
            tree.staged("ok1.txt", lines_of("ok1"))
            os.chmod(tree.staged("locked.txt", lines_of("locked")), 0)
        ji.sleep_to_mid(0.5)
        for tree, _ in pairs:
            for n in ("ok1.txt", "locked.txt"):
                tree.move_in(os.path.join(tree.stage, n))
        t = now_ms()
        for tree, job in pairs:
            job.wait_after(t, 3, timeout=10)
        ji.sleep_to_mid(0.5)
        for tree, _ in pairs:
            tree.drop("ok2.txt", lines_of("ok2"))
        for tree, job in pairs:
            job.wait_batch(lambda b: "ok2" in b["records"], 5, "ok2.txt")
            err = job.stop()
            check(sorted(job.records()) == ["ok1", "ok2"],
                  "%s: records %r, expected ok1 and ok2"
                  % (job.name, job.records()))
            locked = os.path.join(tree.inbox, "locked.txt")
            check(reasons(err, locked) == ["Permission denied"],
                  "%s: expected \"skipped file '%s': Permission denied\" "
                  "once, got %r" % (job.name, locked, skipped_lines(err)))
            check(len(skipped_lines(err)) == 1, "%s: unexpected reports %r"
                  % (job.name, skipped_lines(err)))


run(test)
