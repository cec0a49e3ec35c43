"""Helpers of the managed-job tests: streamctl run as a user runs it, with
its own --run-dir and XDG_STATE_HOME in a temporary folder, a real
`ncat -lk` (tests/integration/itlib.py), bounded waits, and every job
killed at the end by Env's `with` block even when a check fails."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
from itlib import (Ncat, TestFailure, check, free_port, log,  # noqa: E402
                   wait_until)

__all__ = ["Env", "Ncat", "TestFailure", "check", "free_port", "log",
           "wait_until", "main"]


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:",
                   "WARNING: ThreadSanitizer", "ERROR: LeakSanitizer")


class Env:
    """A temporary run directory and state home, and the jobs started."""

    def __init__(self, streamctl):
        self.streamctl = streamctl
        self.tmp = None

    def __enter__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="sl_manage_")
        self.dir = self.tmp.name
        self.run_dir = os.path.join(self.dir, "run")
        self.state_home = os.path.join(self.dir, "state")
        self.env = dict(os.environ, XDG_STATE_HOME=self.state_home)
        self.env.pop("SLUICE_RUN_DIR", None)
        self.env.pop("SLUICE_JOB_NAME", None)
        return self

    def __exit__(self, *exc):
        bad = []
        for name in self.names():
            # A detached job's sanitizer reports land in its log only.
            text = self.log_text(name)
            for mark in SANITIZER_MARKS:
                if mark in text:
                    bad.append("%s: %s" % (name, text[text.index(mark):][:2000]))
        for name in self.names():
            pid = self.pid(name)
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        self.tmp.cleanup()
        if bad and exc[0] is None:
            raise TestFailure("sanitizer report in a job's log: %s" % bad[0])

    def names(self):
        try:
            return sorted(os.listdir(self.run_dir))
        except OSError:
            return []

    def sc(self, *args, timeout=60, cwd=None):
        """streamctl --run-dir RUN ARGS: (status, stdout, stderr)."""
        p = subprocess.run([self.streamctl, "--run-dir", self.run_dir] +
                           list(args),
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout, env=self.env,
                           cwd=cwd or self.dir)
        return p.returncode, p.stdout, p.stderr

    def job_file(self, name, job):
        path = os.path.join(self.dir, name + ".json")
        with open(path, "w") as f:
            json.dump(job, f)
        return path

    def state(self, name):
        try:
            with open(os.path.join(self.run_dir, name, "state.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def pid(self, name):
        st = self.state(name)
        if st and st.get("pid"):
            return int(st["pid"])
        try:
            with open(os.path.join(self.run_dir, name, "pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return 0

    def log_path(self, name):
        return os.path.join(self.state_home, "sluice", name, "job.log")

    def log_text(self, name):
        try:
            with open(self.log_path(name), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def status(self, name):
        rc, out, err = self.sc("status", name, "--format", "json")
        check(rc == 0, "status %s: %d %s" % (name, rc, err))
        return json.loads(out)

    def query(self, name, sql, fmt="table"):
        return self.sc("query", name, sql, "--format", fmt)

    def wait_status(self, name, pred, timeout, what):
        return wait_until(lambda: pred(self.status(name)), timeout, what,
                          step=0.2)


def socket_job(name, port, table="lines", extra=None):
    job = {"name": name, "batch_interval": "200ms",
           "sources": {"lines": {"type": "socket", "host": "127.0.0.1",
                                 "port": port}},
           "sinks": [{"from": "lines", "type": "memory", "table": table},
                     {"from": "lines", "type": "console"}]}
    job.update(extra or {})
    return job


def main(cases):
    """Run each case (name, fn) and report; exit status 1 on a failure."""
    failed = 0
    for name, fn in cases:
        t0 = time.monotonic()
        try:
            fn()
            log("ok   %s (%.1f s)" % (name, time.monotonic() - t0))
        except (TestFailure, subprocess.TimeoutExpired, AssertionError) as e:
            failed += 1
            log("FAIL %s: %s" % (name, e))
    sys.exit(1 if failed else 0)
