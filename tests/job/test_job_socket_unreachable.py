#!/usr/bin/env python3
"""A socket job whose server cannot be reached must not look healthy.

Usage: test_job_socket_unreachable.py STREAMCTL SOURCE_ROOT

The refused port is a socket this script binds on 127.0.0.1 and never
listens on: connections to it are refused, and no other process can take
the port while the test runs.

Case warns: no limit, reconnect_max 50ms, about 3.3 s: the job keeps
retrying and warns repeatedly (rate-limited: at most one a second, so 3 to
5 warnings, not one per attempt), each with the attempt count and the last
error; SIGTERM then stops it with exit status 0.
Case max attempts: max_connect_attempts 3 fails the job with exit 1 and a
message naming host, port, the attempts and the last error.
Case give up after: connect_give_up_after "1s" likewise, after 1 s.
Case unresolvable: host "nonexistent.invalid" fails with exit 1 and the
final message names the host.
Case bad fields: wrong values of the two fields are refused by validation.

Every wait is bounded; children are killed when a check fails.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from joblib import Failure, run_cases, run_streamctl  # noqa: E402

if len(sys.argv) != 3:
    sys.stderr.write("usage: %s STREAMCTL SOURCE_ROOT\n" % sys.argv[0])
    sys.exit(2)
STREAMCTL = os.path.abspath(sys.argv[1])


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def refused_port():
    """(socket, port): bound, not listening, so connecting is refused."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


def job_file(tmp, host, port, **fields):
    src = {"type": "socket", "host": host, "port": port,
           "reconnect_min": "10ms", "reconnect_max": "50ms"}
    src.update(fields)
    job = {"name": "unreachable", "batch_interval": "200ms",
           "sources": {"lines": src},
           "streams": {"out": {"from": "lines", "ops": []}},
           "sinks": [{"from": "out", "type": "console", "format": "text"}]}
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    return path


def case_warns(tmp):
    sock, port = refused_port()
    try:
        path = job_file(tmp, "127.0.0.1", port)
        err_path = os.path.join(tmp, "err.txt")
        with open(err_path, "wb") as err:
            proc = subprocess.Popen([STREAMCTL, "run", path],
                                    stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err)
        try:
            time.sleep(3.3)
            check(proc.poll() is None,
                  "the job exited (status %s) although it may retry for "
                  "ever" % proc.returncode)
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        with open(err_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    finally:
        sock.close()
    check(rc == 0, "exit status %s after SIGTERM, expected 0" % rc)
    pat = re.compile(r"warn: receiver socket: cannot connect to "
                     r"127\.0\.0\.1:%d: Connection refused \(attempt (\d+), "
                     r"no connection for (\d+) ms\); retrying in \d+ ms"
                     % port)
    warns = pat.findall(text)
    attempts = [int(a) for a, _ in warns]
    # One at the first failure and then one a second (reconnect_max is
    # shorter): 4 in 3.3 s, 3 on a slow machine, never one per attempt.
    check(3 <= len(warns) <= 5,
          "%d connect warnings in 3.3 s, expected 3..5: %r"
          % (len(warns), text[-2000:]))
    check(attempts[0] == 1, "first warning is attempt %d" % attempts[0])
    check(attempts == sorted(attempts) and attempts[-1] >= 10,
          "attempt counts %r: expected rising, over 10 at 50 ms back-off"
          % attempts)


def run_failing(tmp, host, port, **fields):
    path = job_file(tmp, host, port, **fields)
    t0 = time.monotonic()
    rc, _, err = run_streamctl(STREAMCTL, ["run", path], tmp, 20)
    return rc, err, time.monotonic() - t0


def case_max_attempts(tmp):
    sock, port = refused_port()
    try:
        rc, err, _ = run_failing(tmp, "127.0.0.1", port,
                                 max_connect_attempts=3)
    finally:
        sock.close()
    check(rc == 1, "exit status %s, expected 1; stderr %r" % (rc, err))
    want = ("streamctl: job \"unreachable\" failed: "
            "SL_EIO: receiver socket: cannot connect to 127.0.0.1:%d after "
            "3 attempts (last error: Connection refused)" % port)
    check(want in err, "stderr lacks %r: %r" % (want, err))


def case_give_up_after(tmp):
    sock, port = refused_port()
    try:
        rc, err, secs = run_failing(tmp, "127.0.0.1", port,
                                    connect_give_up_after="1s")
    finally:
        sock.close()
    check(rc == 1, "exit status %s, expected 1; stderr %r" % (rc, err))
    m = re.search(r"streamctl: job \"unreachable\" failed: .*cannot connect "
                  r"to 127\.0\.0\.1:%d after (\d+) attempts in (\d+) ms "
                  r"\(connect_give_up_after is 1000 ms; last error: "
                  r"Connection refused\)" % port, err)
    check(m is not None, "no give-up message in %r" % err)
    # The last attempt is made at the deadline, not a back-off after it.
    check(1000 <= int(m.group(2)) < 1500, "gave up after %s ms" % m.group(2))
    check(int(m.group(1)) >= 10, "only %s attempts" % m.group(1))
    check(secs < 10, "took %.1f s" % secs)


def case_unresolvable(tmp):
    rc, err, _ = run_failing(tmp, "nonexistent.invalid", 9999)
    check(rc == 1, "exit status %s, expected 1; stderr %r" % (rc, err))
    last = err.strip().splitlines()[-1]
    check(last.startswith("streamctl: job \"unreachable\" failed:") and
          "cannot resolve nonexistent.invalid (for "
          "nonexistent.invalid:9999)" in last,
          "the last line does not name the host: %r" % last)


def case_bad_fields(tmp):
    for fields, want in [
            ({"max_connect_attempts": -1},
             "$.sources.lines.max_connect_attempts:"),
            ({"max_connect_attempts": "3"},
             "$.sources.lines.max_connect_attempts: expected"),
            ({"connect_give_up_after": 5},
             "$.sources.lines.connect_give_up_after: expected a duration string "
             "such as \"5s\", got number 5"),
            ({"connect_give_up_after": "soon"},
             "$.sources.lines.connect_give_up_after: invalid duration")]:
        path = job_file(tmp, "127.0.0.1", 9999, **fields)
        rc, _, err = run_streamctl(STREAMCTL, ["validate", path], tmp, 20)
        check(rc == 3, "%r: validate exit %s, expected 3" % (fields, rc))
        check(want in err, "%r: stderr lacks %r: %r" % (fields, want, err))


def main():
    return run_cases([("warns", case_warns),
                      ("max attempts", case_max_attempts),
                      ("give up after", case_give_up_after),
                      ("unresolvable", case_unresolvable),
                      ("bad fields", case_bad_fields)])


if __name__ == "__main__":
    sys.exit(main())
