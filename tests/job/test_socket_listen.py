#!/usr/bin/env python3
"""The socket source as a server ("listen": true), run for real by
`streamctl run` on port 0 (the port read from its log line `listening on
127.0.0.1:PORT`).

- ncat_clients: three real `stdbuf -oL cat FILE | ncat 127.0.0.1 PORT`
  send at once (the third file ends without a newline); every line
  carries its client, number and a payload derived from both, so a line
  torn or mixed with another client's bytes is seen; every line must come
  out exactly once, each ncat must end by itself (sluice closes the
  connection after the client's end of input), and the progress entries'
  rows must add up to the lines. A small receiver.max_buffered_bytes
  makes flow control pause and resume the clients on the way.
- interleaved: two raw clients whose writes alternate inside their lines
  (A half a line, B a line, A the rest): lines stay whole per client; B's
  last line without newline is taken when B shuts down its side.
- too_long: an over-long line of one client, sent in pieces between
  another client's lines, is dropped, counted in the progress entry's
  malformed and dead-lettered as too_long; both clients' other lines stay.
- port_taken: a port already listened on fails the start, exit 1, with
  a message naming 127.0.0.1:PORT.
- stop_open_client: a client still connected at the stop has its
  unterminated line dropped (counted and warned about), not emitted.
- job_fields: `listen` must be a boolean; port 0 only with it; validate
  warns that a host to listen on does not resolve, and run fails naming
  host:port.
- wal: with a checkpoint, two clients' lines sent in random pieces at
  once go to the receiver WAL (what a restart replays a batch from): the
  WAL (read back by WAL_DUMP) holds for each printed batch exactly the
  lines it printed, each whole, every line once.

Usage: test_socket_listen.py STREAMCTL SOURCE_ROOT WAL_DUMP
Exits 77 (skip) without ncat. Every wait is bounded.
"""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from joblib import Failure, run_module_cases, run_streamctl  # noqa: E402

STREAMCTL = None
WAL_DUMP = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None


def check(cond, msg):
    if not cond:
        raise Failure(msg)


class Job:
    """streamctl run of a listening job, its port, and its outputs."""

    def __init__(self, tmp, source_extra=None, conf=None, interval="200ms"):
        src = {"type": "socket", "listen": True, "host": "127.0.0.1",
               "port": 0}
        src.update(source_extra or {})
        job = {"name": "listen-test", "batch_interval": interval,
               "sources": {"lines": src},
               "sinks": [{"from": "lines", "type": "console",
                          "format": "json"}]}
        if conf:
            job["conf"] = conf
        self.tmp = tmp
        self.path = os.path.join(tmp, "job.json")
        self.progress = os.path.join(tmp, "progress.jsonl")
        with open(self.path, "w") as f:
            json.dump(job, f)
        self.out = open(os.path.join(tmp, "out.jsonl"), "w+b")
        self.err = open(os.path.join(tmp, "err.txt"), "w+b")
        self.proc = subprocess.Popen(
            [os.path.abspath(STREAMCTL), "run", "--progress", self.progress, self.path],
            cwd=tmp, stdin=subprocess.DEVNULL, stdout=self.out,
            stderr=self.err)
        self.port = None

    def stderr(self):
        with open(self.err.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_port(self, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.stderr())
            if m:
                self.port = int(m.group(1))
                check(self.port > 0, "port 0 logged")
                return self.port
            check(self.proc.poll() is None,
                  "job ended before listening: %s" % self.stderr())
            time.sleep(0.02)
        raise Failure("no 'listening on' line: %s" % self.stderr())

    def stop(self, timeout=20):
        """SIGINT (a graceful stop), exit status 0; the output's lines."""
        self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failure("no exit within %d s after SIGINT" % timeout)
        check(rc == 0, "exit %s: %s" % (rc, self.stderr()[-2000:]))
        return self.lines()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def lines(self):
        return [x for b in self.batches().values() for x in b]

    def batches(self):
        """{batch id: its lines} of the console json output."""
        with open(self.out.name, "rb") as f:
            data = f.read()
        out = {}
        # the job may be writing a line now: only whole lines count
        for raw in data.split(b"\n")[:-1]:
            if raw:
                rec = json.loads(raw)
                out.setdefault(rec["batch"], []).extend(rec["records"])
        return out

    def progress_entries(self):
        with open(self.progress) as f:
            return [json.loads(x) for x in f if x.strip()]

    def wait_lines(self, n, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(self.lines()) >= n:
                return
            time.sleep(0.05)
        raise Failure("%d of %d lines after %d s" % (len(self.lines()), n,
                                                     timeout))


def payload(client, i):
    """A line's text from its client and number, 20 to 200 bytes."""
    rnd = random.Random(client * 1000003 + i)
    n = rnd.randint(20, 200)
    body = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                   for _ in range(n))
    return "%s:%d:%s" % ("ABC"[client], i, body)


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def wait_closed(s, timeout=10):
    """The server closes its side: recv gives b'' (nothing else)."""
    s.settimeout(timeout)
    try:
        data = s.recv(100)
    except socket.timeout:
        raise Failure("sluice did not close the connection in %d s"
                      % timeout)
    check(data == b"", "unexpected bytes from sluice: %r" % data)


def case_ncat_clients(tmp):
    ncat = shutil.which("ncat")
    stdbuf = shutil.which("stdbuf")
    check(ncat and stdbuf, "ncat or stdbuf missing")
    counts = [4000, 3000, 2500]
    files, expected = [], []
    for c, n in enumerate(counts):
        lines = [payload(c, i) for i in range(n)]
        expected.extend(lines)
        path = os.path.join(tmp, "in%d.txt" % c)
        with open(path, "w") as f:
            # The third client's last line has no newline.
            f.write("\n".join(lines) + ("" if c == 2 else "\n"))
        files.append(path)
    job = Job(tmp, conf={"receiver.max_buffered_bytes": "64k",
                         "log.level": "debug"}, interval="100ms")
    try:
        port = job.wait_port()
        senders = [subprocess.Popen(
            "%s -oL cat %s | %s 127.0.0.1 %d" % (stdbuf, f, ncat, port),
            shell=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE) for f in files]
        for p in senders:
            try:
                rc = p.wait(40)
            except subprocess.TimeoutExpired:
                p.kill()
                raise Failure("ncat did not end: sluice kept the "
                              "connection open")
            check(rc == 0, "ncat exit %s: %r" % (rc, p.stderr.read()))
        job.wait_lines(len(expected))
        time.sleep(0.5)  # a batch or two more: nothing may follow
        got = job.stop()
    finally:
        job.kill()
    bad = [x for x in got if not isinstance(x, str) or
           not re.match(r"[ABC]:\d+:", x) or
           x != payload("ABC".index(x[0]), int(x.split(":")[1]))]
    check(not bad, "%d torn or mixed lines, e.g. %r" % (len(bad), bad[:3]))
    check(sorted(got) == sorted(expected),
          "got %d lines, %d distinct, expected %d"
          % (len(got), len(set(got)), len(expected)))
    rows = sum(e["sources"][0]["rows"] for e in job.progress_entries())
    check(rows == len(expected), "progress rows %d, lines %d"
          % (rows, len(expected)))
    err = job.stderr()
    check(err.count("ended its input; closed") == 3,
          "three clients closed: %s" % err[-1500:])
    check("pausing receivers" in err, "flow control never paused")


def case_interleaved(tmp):
    job = Job(tmp)
    try:
        port = job.wait_port()
        a, b = connect(port), connect(port)
        time.sleep(0.3)  # both accepted before the writes
        for sock, data in [(a, b"a-first-half"), (b, b"b-whole\n"),
                           (a, b"+a-second-half\n"), (b, b"b-"),
                           (a, b"a-two\n"), (b, b"tail-no-newline")]:
            sock.sendall(data)
            time.sleep(0.15)  # one read each: they alternate in sluice
        b.shutdown(socket.SHUT_WR)
        wait_closed(b)
        a.shutdown(socket.SHUT_WR)
        wait_closed(a)
        a.close()
        b.close()
        job.wait_lines(4, 10)
        got = job.stop()
    finally:
        job.kill()
    check(sorted(got) == sorted(["a-first-half+a-second-half", "b-whole",
                                 "a-two", "b-tail-no-newline"]),
          "lines %r" % got)


def case_too_long(tmp):
    dead = os.path.join(tmp, "dead.jsonl")
    job = Job(tmp, source_extra={"dead_letter": dead},
              conf={"receiver.max_line_bytes": "40"})
    try:
        port = job.wait_port()
        a, b = connect(port), connect(port)
        time.sleep(0.3)
        for sock, data in [(a, b"x" * 30), (b, b"b-one\n"),
                           (a, b"y" * 30), (b, b"b-two\n"),
                           (a, b"z" * 10 + b"\na-fine\n")]:
            sock.sendall(data)
            time.sleep(0.15)
        for s in (a, b):
            s.shutdown(socket.SHUT_WR)
            wait_closed(s)
            s.close()
        job.wait_lines(3, 10)
        time.sleep(0.5)
        got = job.stop()
    finally:
        job.kill()
    check(sorted(got) == ["a-fine", "b-one", "b-two"], "lines %r" % got)
    malformed = sum(e["sources"][0]["malformed"]
                    for e in job.progress_entries())
    check(malformed == 1, "progress malformed %d, expected 1" % malformed)
    with open(dead) as f:
        letters = [json.loads(x) for x in f if x.strip()]
    check(len(letters) == 1 and letters[0]["reason"] == "too_long" and
          letters[0]["text"] == "x" * 30 + "y" * 30 + "z" * 10,
          "dead letters %r" % letters)


def case_port_taken(tmp):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        job = Job(tmp, source_extra={"port": port})
        try:
            rc = job.proc.wait(20)
        except subprocess.TimeoutExpired:
            job.kill()
            raise Failure("the job ran on a port already taken")
    finally:
        holder.close()
    err = job.stderr()
    check(rc == 1, "exit %s: %s" % (rc, err))
    check("cannot listen on 127.0.0.1:%d: Address already in use" % port
          in err, "message: %s" % err)


def case_stop_open_client(tmp):
    job = Job(tmp)
    try:
        port = job.wait_port()
        a = connect(port)
        a.sendall(b"whole\nunfinished")
        job.wait_lines(1, 10)
        time.sleep(0.3)
        got = job.stop()
        a.close()
    finally:
        job.kill()
    check(got == ["whole"], "lines %r" % got)
    err = job.stderr()
    check("dropped an unterminated line of 10 bytes" in err,
          "no warning of the dropped line: %s" % err[-1500:])


def case_job_fields(tmp):
    def write(extra):
        src = {"type": "socket", "host": "127.0.0.1"}
        src.update(extra)
        path = os.path.join(tmp, "v.json")
        with open(path, "w") as f:
            json.dump({"name": "v", "batch_interval": "1s",
                       "sources": {"lines": src},
                       "sinks": [{"from": "lines", "type": "console"}]}, f)
        return path

    def run(cmd, extra):
        return run_streamctl(os.path.abspath(STREAMCTL),
                             [cmd, write(extra)], tmp, 30)

    rc, _, err = run("validate", {"listen": "yes", "port": 9999})
    check(rc == 3 and "$.sources.lines.listen: expected a boolean, got "
          "string" in err, "listen as text: %d %s" % (rc, err))
    rc, _, err = run("validate", {"port": 0})
    check(rc == 3 and "$.sources.lines.port: 0 is out of range (1..65535)"
          in err, "port 0 without listen: %d %s" % (rc, err))
    rc, _, err = run("validate", {"listen": True, "port": 70000})
    check(rc == 3 and "port: 70000 is out of range (0..65535)" in err,
          "port 70000: %d %s" % (rc, err))
    bad = {"listen": True, "port": 0, "host": "no-such-host.invalid"}
    rc, _, err = run("validate", bad)
    check(rc == 0 and 'warning: host "no-such-host.invalid" to listen on '
          "does not resolve" in err, "unresolvable host: %d %s" % (rc, err))
    rc, _, err = run("run", bad)
    check(rc == 1 and "cannot listen on no-such-host.invalid:0" in err,
          "run with an unresolvable host: %d %s" % (rc, err))


def send_pieces(socks, datas, rnd):
    """Send each socket its data in random pieces (1 to 300 bytes), the
    sockets taken in random order, so pieces of different clients follow
    each other inside lines."""
    pos = [0] * len(socks)
    while any(p < len(d) for p, d in zip(pos, datas)):
        i = rnd.choice([k for k in range(len(socks))
                        if pos[k] < len(datas[k])])
        n = rnd.randint(1, 300)
        socks[i].sendall(datas[i][pos[i]:pos[i] + n])
        pos[i] += n
        if rnd.random() < 0.05:
            time.sleep(0.01)


def wal_batches(ckpt, last):
    """{batch: [lines]} the receiver WAL holds for batches 1..last."""
    res = subprocess.run([WAL_DUMP, os.path.join(ckpt, "wal"), "1",
                          str(last)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60)
    check(res.returncode == 0, "wal_dump: %s" % res.stderr.decode())
    out = {}
    for raw in res.stdout.decode().split("\n")[:-1]:
        batch, _, text = raw.split("\t", 2)
        out.setdefault(int(batch), []).append(text)
    return out


def case_wal(tmp):
    ckpt = os.path.join(tmp, "ck")
    rnd = random.Random(13)
    expected = [[payload(c, i) for i in range(1500)] for c in range(2)]
    job = Job(tmp, conf={"checkpoint.path": ckpt})
    try:
        port = job.wait_port()
        socks = [connect(port), connect(port)]
        send_pieces(socks, [("\n".join(e) + "\n").encode()
                            for e in expected], rnd)
        for sk in socks:
            sk.shutdown(socket.SHUT_WR)
            wait_closed(sk)
            sk.close()
        job.wait_lines(3000)
        job.stop()
    finally:
        job.kill()
    printed = job.batches()
    wal = wal_batches(ckpt, max(printed))
    for b, lines in printed.items():
        check(sorted(wal.get(b, [])) == sorted(lines),
              "batch %d printed %d lines, the WAL holds %d of it"
              % (b, len(lines), len(wal.get(b, []))))
    flat = [x for b in sorted(wal) for x in wal[b]]
    check(sorted(flat) == sorted(expected[0] + expected[1]),
          "the WAL holds %d lines (%d distinct), 3000 sent"
          % (len(flat), len(set(flat))))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.stderr.write("usage: %s STREAMCTL SOURCE_ROOT WAL_DUMP\n"
                         % sys.argv[0])
        sys.exit(2)
    if not shutil.which("ncat"):
        sys.exit(77)
    sys.exit(run_module_cases(globals()))
