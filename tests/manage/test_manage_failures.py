#!/usr/bin/env python3
"""Jobs that fail, as streamctl reports them: a bad job file (exit 3, as
validate), a socket source whose server is not there with
max_connect_attempts reached and an unwritable checkpoint (exit 1, "failed
to start" with the reason), a job killed with SIGKILL (status and list say
failed, "the process died", with its last log lines), and `restart`, which
goes on from the checkpoint (the batch ids go on)."""

import json
import os
import signal
import sys
import time

from mglib import Env, Ncat, check, free_port, main, socket_job, wait_until

STREAMCTL = sys.argv[1]


def bad_file():
    with Env(STREAMCTL) as env:
        path = env.job_file("bad", {"name": "bad", "batch_interval": "1s",
                                    "sources": {"l": {"type": "nope"}}})
        rc, out, err = env.sc("start", path)
        check(rc == 3 and "$.sources" in err, "start: %d %r" % (rc, err))
        check(env.state("bad") is None, "a run folder was made")


def unreachable():
    with Env(STREAMCTL) as env:
        job = socket_job("lost", free_port())
        job["sources"]["lines"]["max_connect_attempts"] = 2
        path = env.job_file("lost", job)
        rc, out, err = env.sc("start", path, "--wait", "30s")
        check(rc == 1 and 'job "lost" failed to start: ' in err,
              "start: %d %r %r" % (rc, out, err))
        check("connect" in err.split("failed to start: ")[1].splitlines()[0],
              "no reason in %r" % err)
        check(env.state("lost")["state"] == "failed", "%r" % env.state("lost"))


def still_starting():
    """--wait runs out while the socket source has not connected: exit 1,
    saying so and why, and the job goes on."""
    with Env(STREAMCTL) as env:
        path = env.job_file("late", socket_job("late", free_port()))
        rc, out, err = env.sc("start", path, "--wait", "1s")
        check(rc == 1 and 'job "late"' in err and "still starting" in err,
              "start %d %r %r" % (rc, out, err))
        st = env.status("late")
        check(st["state"] == "starting", "status %r" % st)
        rc, out, err = env.sc("stop", "late", "--now")
        check(rc in (0, 4), "stop %d %r" % (rc, err))


def unwritable_checkpoint():
    port = free_port()
    with Env(STREAMCTL) as env, Ncat(port):
        blocker = os.path.join(env.dir, "afile")
        open(blocker, "w").close()
        # A folder under a plain file cannot be made, even by root.
        job = socket_job("ck", port, extra={"checkpoint": blocker + "/ck"})
        path = env.job_file("ck", job)
        rc, out, err = env.sc("start", path, "--wait", "20s")
        check(rc == 1 and "failed to start" in err and "afile/ck" in err,
              "start: %d %r %r" % (rc, out, err))


def killed():
    port = free_port()
    with Env(STREAMCTL) as env, Ncat(port) as nc:
        path = env.job_file("k9", socket_job("k9", port))
        rc, out, err = env.sc("start", path, "--wait", "20s")
        check(rc == 0, "start %d %r" % (rc, err))
        nc.wait_connections(1)
        pid = env.pid("k9")
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not os.path.exists("/proc/%d/status" % pid) or
                   "zombie" in open("/proc/%d/status" % pid).read(), 10,
                   "the job to die")
        st = env.status("k9")
        check(st["state"] == "failed" and
              st["last_error"] == "the process died", "status %r" % st)
        rc, out, err = env.sc("list")
        check(rc == 0 and "k9" in out and "failed" in out and
              "the process died" in out, "list %r" % out)
        rc, out, err = env.sc("stop", "k9")
        check(rc == 1 and "not running" in err, "stop %d %r" % (rc, err))


def batches(env, name):
    rc, out, err = env.sc("progress", name, "-n", "0", "--format", "json")
    check(rc == 0, "progress %d %r" % (rc, err))
    return [e["batch"] for e in json.loads(out)]


def restart():
    port = free_port()
    with Env(STREAMCTL) as env, Ncat(port) as nc:
        job = socket_job("rs", port,
                         extra={"checkpoint": os.path.join(env.dir, "ck")})
        path = env.job_file("rs", job)
        rc, out, err = env.sc("start", path, "--wait", "20s")
        check(rc == 0, "start %d %r" % (rc, err))
        nc.wait_connections(1)
        wait_until(lambda: len(batches(env, "rs")) >= 3, 20, "3 batches",
                   step=0.2)
        pid = env.pid("rs")
        before = max(batches(env, "rs"))
        rc, out, err = env.sc("restart", "rs", timeout=90)
        check(rc == 0, "restart %d %r %r" % (rc, out, err))
        check(env.pid("rs") != pid, "the same pid after restart")
        # The new process's entries only: its batch ids go on from the
        # checkpoint instead of starting again at 1.
        after = wait_until(lambda: batches(env, "rs"), 20,
                           "a batch after the restart", step=0.2)
        check(min(after) > before,
              "batches after restart %r, before up to %d" % (after, before))
        rc, out, err = env.sc("stop", "rs")
        check(rc == 0, "stop %d %r" % (rc, err))


if __name__ == "__main__":
    main([("bad_file", bad_file), ("unreachable", unreachable),
          ("still_starting", still_starting),
          ("unwritable_checkpoint", unwritable_checkpoint),
          ("killed", killed), ("restart", restart)])
