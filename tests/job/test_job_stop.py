#!/usr/bin/env python3
"""How `streamctl run` stops, end to end.

Usage: test_job_stop.py STREAMCTL SOURCE_ROOT

Case partial line: a TCP server (this script) sends two lines and half of
a third, and keeps the connection open. SIGTERM must stop the job with
exit status 0, the json sink must have printed the two lines and never the
half line, and stderr must say that an unterminated line was dropped.

Case timeout: 10 ms batches that each take far longer (a generator of 200k
lines a batch) with stop.graceful_timeout 1ms: SIGTERM leaves queued
batches, so streamctl must exit 4 and say what was left.

Every wait is bounded; children are killed when a check fails.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

if len(sys.argv) != 3:
    sys.stderr.write("usage: %s STREAMCTL SOURCE_ROOT\n" % sys.argv[0])
    sys.exit(2)
STREAMCTL = os.path.abspath(sys.argv[1])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from joblib import run_cases  # noqa: E402


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def start_job(job, tmp):
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    out = open(os.path.join(tmp, "out.txt"), "wb")
    err = open(os.path.join(tmp, "err.txt"), "wb")
    proc = subprocess.Popen([STREAMCTL, "run", path], stdin=subprocess.DEVNULL,
                            stdout=out, stderr=err)
    out.close()
    err.close()
    return proc


def read(tmp, name):
    with open(os.path.join(tmp, name), "rb") as f:
        return f.read().decode("utf-8", "replace")


def stop(proc, timeout):
    """SIGTERM, then the exit status within timeout seconds."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise Failure("no exit within %d s of SIGTERM" % timeout)


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise Failure("timed out waiting for " + what)


def case_partial_line(tmp):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(20)
    port = srv.getsockname()[1]
    conns = []

    def serve():
        try:
            c, _ = srv.accept()
        except OSError:
            return
        conns.append(c)
        c.sendall(b'a\nb\n{"id":3,"amo')

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    job = {
        "name": "partial", "batch_interval": "100ms",
        "sources": {"lines": {"type": "socket", "host": "127.0.0.1",
                              "port": port}},
        "sinks": [{"from": "lines", "type": "console", "format": "json"}],
    }
    proc = start_job(job, tmp)
    try:
        wait_for(lambda: '"b"' in read(tmp, "out.txt"), 20, "lines a and b")
        time.sleep(0.3)  # the half line has long been received
        rc = stop(proc, 15)
    finally:
        if proc.poll() is None:
            proc.kill()
        for c in conns:
            c.close()
        srv.close()
    err = read(tmp, "err.txt")
    check(rc == 0, "exit status %d, stderr %r" % (rc, err[-1000:]))
    records = []
    for line in read(tmp, "out.txt").splitlines():
        records += json.loads(line)["records"]
    check(records == ["a", "b"], "records %r" % records)
    check("unterminated line" in err, "no warning in %r" % err[-1000:])


def case_timeout(tmp):
    job = {
        "name": "slow", "batch_interval": "10ms",
        "conf": {"stop.graceful_timeout": "1ms", "log.level": "warn"},
        "sources": {"text": {"type": "generator",
                             "lines_per_batch": 200000}},
        "streams": {"n": {"from": "text", "ops": [
            {"op": "flat_map", "fn": "split_words"}, {"op": "count"}]}},
        "sinks": [{"from": "n", "type": "console", "format": "json"}],
    }
    proc = start_job(job, tmp)
    try:
        wait_for(lambda: read(tmp, "out.txt").count("\n") >= 2, 30,
                 "two batches")
        rc = stop(proc, 15)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = read(tmp, "err.txt")
    check(rc == 4, "exit status %d (want 4), stderr %r" % (rc, err[-1000:]))
    check("stopped with input left unprocessed" in err and
          "stop.graceful_timeout" in err, "stderr %r" % err[-1000:])


def main():
    return run_cases([("partial line", case_partial_line),
                      ("timeout", case_timeout)],
                     (Failure,))


if __name__ == "__main__":
    sys.exit(main())
