#!/usr/bin/env python3
"""JSON output is always JSON, end to end through `streamctl run`.

Usage: test_job_utf8.py STREAMCTL SOURCE_ROOT

Case sink: a TCP server (this script) sends lines holding every class of
ill-formed UTF-8 (stray continuation bytes, bytes that never start a
sequence, overlong forms, surrogates, code points past U+10FFFF,
truncated sequences, one at the very end of a line) between valid text;
the json console sink's stdout must decode as strict UTF-8, parse as JSON,
and hold each line exactly as Python's decoder with errors="replace" reads
it (the same U+FFFD per maximal subpart); stderr counts the replacements.

Case dead letters: a directory source of JSON lines with a malformed line
that is not UTF-8: the dead-letter line decodes strictly, its "text" is
the replaced text and its "text_b64" the exact bytes.

Case closed stdout: `streamctl run job >&-` fails with exit 1 and says
that standard output is closed (not "Invalid argument").
"""

import base64
import json
import os
import random
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

LINES = [
    b"plain ascii",
    b"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
    b"stray \x80 and \xbf\x80",
    b"never a lead \xc0 \xc1 \xf5 \xff",
    b"overlong \xc0\xaf \xe0\x80\xaf \xf0\x80\x80\xaf",
    b"surrogate \xed\xa0\x80 \xed\xbf\xbf",
    b"too large \xf4\x90\x80\x80",
    b"truncated \xe2\x82 \xf0\x9f\x98 then \xe2\x82\xe2\x82\xac",
    b"quote \" backslash \\ tab \t ctl \x01",
    b"ends truncated \xf0\x9f\x98",
]


def random_lines(n, seed=7):
    """Lines of random bytes (no "\\n" nor "\\r", which end lines), biased
    towards the bytes that start, continue or break UTF-8 sequences: an
    oracle-checked sample beyond the listed classes."""
    rnd = random.Random(seed)
    pool = ([b for b in range(0x20, 0x7f)] + list(range(0x80, 0x100)) * 2 +
            [0x00, 0x01, 0x09, 0x1f, 0x7f])
    return [bytes(rnd.choice(pool) for _ in range(rnd.randint(0, 40)))
            for _ in range(n)]


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def run(args, timeout, **kw):
    proc = subprocess.Popen([STREAMCTL] + args, stdin=subprocess.DEVNULL,
                            stdout=kw.pop("stdout", subprocess.PIPE),
                            stderr=subprocess.PIPE, **kw)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise Failure("%s: no exit within %d s" % (args, timeout))
    return proc.returncode, out, err.decode("utf-8", "replace")


def write_job(tmp, job):
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    return path


def case_sink(tmp):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(20)
    port = srv.getsockname()[1]

    def serve():
        try:
            c, _ = srv.accept()
        except OSError:
            return
        c.sendall(b"\n".join(LINES + random_lines(400)) + b"\n")
        c.close()

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    job = {"name": "utf8", "batch_interval": "200ms", "max_batches": 10,
           "sources": {"lines": {"type": "socket", "host": "127.0.0.1",
                                 "port": port}},
           "sinks": [{"from": "lines", "type": "console", "format": "json"}]}
    rc, out, err = run(["run", write_job(tmp, job)], 30)
    srv.close()
    check(rc == 0, "exit %d: %s" % (rc, err[-1000:]))
    text = out.decode("utf-8")  # strict: raises on any bad byte
    got = []
    for line in text.splitlines():
        got += json.loads(line)["records"]
    want = [l.decode("utf-8", "replace") for l in LINES + random_lines(400)]
    check(len(got) == len(want), "%d records, want %d" % (len(got), len(want)))
    for i, (g, w) in enumerate(zip(got, want)):
        check(g == w, "record %d: %r, want %r (from %r)"
              % (i, g, w, (LINES + random_lines(400))[i]))
    replaced = sum(w.count("\ufffd") for w in want)
    check("json output: %d invalid UTF-8 sequences written as U+FFFD"
          % replaced in err and "invalid UTF-8 sequences written as U+FFFD ("
          in err, "no count of %d replacements: %r" % (replaced, err[-1500:]))


def case_dead_letters(tmp):
    inbox = os.path.join(tmp, "in")
    os.mkdir(inbox)
    bad = b'{"a": "caf\xe9 \xed\xa0\x80'  # Latin-1 bytes, cut: malformed
    with open(os.path.join(inbox, "data.json"), "wb") as f:
        f.write(b'{"a": 1}\n' + bad + b"\n" + b'{"a": 2}\n')
    dead = os.path.join(tmp, "dead.jsonl")
    job = {"name": "dead", "batch_interval": "200ms", "max_batches": 4,
           "sources": {"files": {"type": "directory", "path": inbox,
                                 "format": "json", "include_existing": True,
                                 "dead_letter": dead}},
           "sinks": [{"from": "files", "type": "console", "format": "json"}]}
    rc, out, err = run(["run", write_job(tmp, job)], 30)
    check(rc == 0, "exit %d: %s" % (rc, err[-1000:]))
    with open(dead, "rb") as f:
        raw = f.read()
    lines = raw.decode("utf-8").splitlines()  # strict
    check(len(lines) == 1, "dead letters %r" % lines)
    letter = json.loads(lines[0])
    check(letter["text"] == bad.decode("utf-8", "replace"),
          "text %r" % letter["text"])
    check(base64.b64decode(letter["text_b64"]) == bad,
          "text_b64 %r" % letter.get("text_b64"))
    check(letter["line"] == 2, "line %r" % letter["line"])


def case_closed_stdout(tmp):
    job = {"name": "closed", "batch_interval": "1s", "clock": "manual",
           "max_batches": 2,
           "sources": {"q": {"type": "queue", "batches": [["a"], ["b"]]}},
           "sinks": [{"from": "q", "type": "console", "format": "json"}]}
    path = write_job(tmp, job)
    proc = subprocess.run(
        ["bash", "-c", 'exec "$0" run "$1" >&-', STREAMCTL, path],
        stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    err = proc.stderr.decode("utf-8", "replace")
    check(proc.returncode == 1, "exit %d: %s" % (proc.returncode, err))
    check("cannot write to stdout: standard output is closed" in err,
          "stderr %r" % err[-1000:])
    check("Invalid argument" not in err, "stderr %r" % err[-1000:])


def main():
    return run_cases([("sink", case_sink),
                      ("dead letters", case_dead_letters),
                      ("closed stdout", case_closed_stdout)],
                     (Failure, ValueError))


if __name__ == "__main__":
    sys.exit(main())
