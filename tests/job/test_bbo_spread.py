#!/usr/bin/env python3
"""bbo_spread (examples/streaming/jobs/bbo_spread.json) end to end, run for
real by `streamctl run` listening on port 0, fed by gen_bbo's feeds sent
with `stdbuf -oL cat FILE | ncat 127.0.0.1 PORT`.

- feeds: two generated feeds, one after the other in event time, each
  with a header line and crossed and malformed lines: the first with
  ISO-8601 timestamps, the second with epoch milliseconds. Then one far
  later quote moves the watermark past every window of the feeds (append
  mode emits a window once the watermark passes its end; the feed has no
  end-of-input yet). Every per-second row (count, avg, min, max, last
  spread) and per-minute row (count, avg) must equal this test's own
  computation in Python to within 1e-9, each window exactly once; the
  malformed lines must be the generator's count (--stats), each
  dead-lettered once with reason malformed (the source is read by two
  streams: parsed once) and counted in the progress entries; the crossed
  lines rejected by each stream (dead letters with reason rejected, per
  stream) and in streamctl's last stderr line; the header lines neither
  rows nor malformed.

- c_program: examples/streaming/bbo_spread.c, the same pipeline on the
  C API (on a free port), fed an ISO feed: the same rows, and the crossed
  quotes as its stream "rejected".

- header_field: a socket source's "header": "optional" without CSV and a
  schema (where it would do nothing) is a problem naming the field; a
  value other than "none" or "optional" is refused.

Usage: test_bbo_spread.py STREAMCTL SOURCE_ROOT GEN_BBO BBO_SPREAD
Exits 77 (skip) without ncat or stdbuf. Every wait is bounded.
"""

import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from joblib import Failure, run_cases  # noqa: E402

STREAMCTL = GEN_BBO = ROOT = C_PROGRAM = None
FLUSH = "2030-01-01T00:00:00Z,100.0000,100.0100"
TOL = 1e-9


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def parse_ts(text):
    """ISO-8601 UTC (as gen_bbo writes it) or epoch milliseconds; None
    when it is neither."""
    if re.fullmatch(r"-?\d{7,18}", text):
        return int(text)
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z",
                     text)
    if not m:
        return None
    try:
        d = datetime.datetime(*[int(x) for x in m.groups()[:6]],
                              tzinfo=datetime.timezone.utc)
    except ValueError:
        return None
    return int(d.timestamp()) * 1000 + int(m.group(7))


def parse_num(text):
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        return None
    return float(text)


def expected(paths):
    """Per-second and per-minute rows, malformed and crossed counts, from
    the feeds' text alone."""
    sec, minute = {}, {}
    malformed = crossed = 0
    for path in paths:
        with open(path) as f:
            for i, line in enumerate(f.read().splitlines()):
                if i == 0 and line == "ts,bid,ask":
                    continue
                fields = line.split(",")
                vals = ([parse_ts(fields[0]), parse_num(fields[1]),
                         parse_num(fields[2])] if len(fields) == 3 else None)
                if not vals or None in vals:
                    malformed += 1
                    continue
                ts, bid, ask = vals
                if bid >= ask:
                    crossed += 1
                    continue
                spread = ask - bid
                s = sec.setdefault(ts // 1000 * 1000, [])
                s.append((ts, spread))
                minute.setdefault(ts // 60000 * 60000, []).append(spread)
    return sec, minute, malformed, crossed


def iso_ms(text):
    return parse_ts(text)


class Job:
    def __init__(self, tmp, port=None):
        self.dead = self.progress = None
        self.out = open(os.path.join(tmp, "out.jsonl"), "w+b")
        self.err = open(os.path.join(tmp, "err.txt"), "w+b")
        if port:  # the C program
            self.proc = subprocess.Popen(
                [C_PROGRAM, "127.0.0.1", str(port)], cwd=tmp,
                stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.err)
            return
        with open(os.path.join(ROOT, "examples", "streaming", "jobs",
                               "bbo_spread.json")) as f:
            job = json.load(f)
        job["sources"]["quotes"]["port"] = 0
        job["dead_letter"] = os.path.join(tmp, "dead.jsonl")
        self.dead = job["dead_letter"]
        self.progress = os.path.join(tmp, "progress.jsonl")
        path = os.path.join(tmp, "job.json")
        with open(path, "w") as f:
            json.dump(job, f)
        self.proc = subprocess.Popen(
            [STREAMCTL, "run", "--progress", self.progress, path], cwd=tmp,
            stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.err)

    def stderr(self):
        with open(self.err.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def port(self, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.stderr())
            if m:
                return int(m.group(1))
            check(self.proc.poll() is None, "job ended: " + self.stderr())
            time.sleep(0.02)
        raise Failure("no 'listening on' line: " + self.stderr())

    def rows(self):
        """{stream: [rows]} printed so far."""
        out = {}
        with open(self.out.name, "rb") as f:
            data = f.read()
        # the job may be writing a line now: only whole lines count
        for raw in data.split(b"\n")[:-1]:
            if raw:
                rec = json.loads(raw)
                out.setdefault(rec["stream"], []).extend(rec["records"])
        return out

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure("no exit within 30 s after SIGINT")
        check(rc == 0, "exit %s: %s" % (rc, self.stderr()[-2000:]))


def send(port, path):
    """The workshop's sender; ncat must end by itself."""
    p = subprocess.run("stdbuf -oL cat %s | ncat 127.0.0.1 %d" % (path, port),
                       shell=True, timeout=120)
    check(p.returncode == 0, "sender exited %d" % p.returncode)


def gen(tmp, name, extra):
    path = os.path.join(tmp, name + ".csv")
    stats = os.path.join(tmp, name + ".json")
    subprocess.run([GEN_BBO, "--hours", "1", "--ticks-per-second", "10",
                    "--crossed-rate", "0.003", "--malformed-rate", "0.003",
                    "--header", "--out", path, "--stats", stats] + extra,
                   check=True, timeout=60)
    with open(stats) as f:
        return path, json.load(f)


def check_seconds(got, want):
    check(len(got) == len(want), "%d per-second rows, want %d"
          % (len(got), len(want)))
    seen, ties = set(), 0
    for r in got:
        start = iso_ms(r["window_start"])
        check(start not in seen, "window %s printed twice" % r["window_start"])
        seen.add(start)
        check(start in want, "unexpected window %s" % r["window_start"])
        quotes = want[start]
        spreads = [s for _, s in quotes]
        check(iso_ms(r["window_end"]) == start + 1000, "end of %r" % r)
        check(r["quotes"] == len(quotes), "count of %r: want %d"
              % (r, len(quotes)))
        for key, v in (("avg_spread", sum(spreads) / len(spreads)),
                       ("min_spread", min(spreads)),
                       ("max_spread", max(spreads))):
            check(abs(r[key] - v) <= TOL, "%s of %r: want %r" % (key, r, v))
        # max_by(spread, ts): the spread of the latest quote; quotes that
        # share the latest ts are a tie max_by breaks by the row it sees
        # first, so any of them is accepted.
        last_ts = max(t for t, _ in quotes)
        last = [s for t, s in quotes if t == last_ts]
        ties += len(set(last)) > 1
        check(any(abs(r["last_spread"] - s) <= TOL for s in last),
              "last_spread of %r: want one of %r" % (r, last))
    return ties


def check_minutes(got, want):
    check(len(got) == len(want), "%d per-minute rows, want %d"
          % (len(got), len(want)))
    starts = set()
    for r in got:
        start = iso_ms(r["window_start"])
        check(start in want and start not in starts, "window %r" % r)
        starts.add(start)
        spreads = want[start]
        check(iso_ms(r["window_end"]) == start + 60000, "end of %r" % r)
        check(r["quotes"] == len(spreads), "count of %r" % r)
        avg = sum(spreads) / len(spreads)
        check(abs(r["avg_spread"] - avg) <= TOL, "avg of %r: want %r"
              % (r, avg))


def check_dead_letters(job, malformed, crossed):
    reasons = {}
    with open(job.dead) as f:
        for line in f:
            d = json.loads(line)
            key = (d["reason"], d["origin"].get("stream"))
            reasons[key] = reasons.get(key, 0) + 1
    check(reasons.get(("malformed", None)) == malformed,
          "malformed dead letters %r, want %d" % (reasons, malformed))
    for s in ("spread_1s", "spread_1m"):
        check(reasons.get(("rejected", s)) == crossed,
              "rejected dead letters of %s: %r, want %d"
              % (s, reasons, crossed))
    with open(job.progress) as f:
        entries = [json.loads(x) for x in f if x.strip()]
    counted = sum(s["malformed"] for e in entries for s in e["sources"])
    check(counted == malformed, "progress malformed %d, want %d"
          % (counted, malformed))
    check(re.search(r"%d rejected" % (2 * crossed), job.stderr()),
          "streamctl's last line: %s" % job.stderr()[-500:])


def run_feeds(job, paths, nsec, nmin):
    """Send each file, wait for the windows, stop the job."""
    try:
        port = job.port()
        for path in paths:
            send(port, path)
        end = time.monotonic() + 60
        while time.monotonic() < end:
            rows = job.rows()
            if (len(rows.get("spread_1m", [])) >= nmin and
                    len(rows.get("spread_1s", [])) >= nsec):
                break
            check(job.proc.poll() is None, "job ended: " + job.stderr())
            time.sleep(0.2)
        time.sleep(1.5)  # a later batch must print nothing more
        job.stop()
    finally:
        if job.proc.poll() is None:
            job.proc.kill()
            job.proc.wait()
    return job.rows()


def flush_file(tmp):
    flush = os.path.join(tmp, "flush.csv")
    with open(flush, "w") as f:
        f.write(FLUSH + "\n")
    return flush


def case_c_program(tmp):
    a, sa = gen(tmp, "iso", ["--seed", "9"])
    sec, minute, malformed, crossed = expected([a])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rows = run_feeds(Job(tmp, port), [a, flush_file(tmp)], len(sec),
                     len(minute))
    check_seconds(rows.get("spread_1s", []), sec)
    check_minutes(rows.get("spread_1m", []), minute)
    check(len(rows.get("rejected", [])) == crossed == sa["crossed"],
          "rejected rows %d, want %d" % (len(rows.get("rejected", [])),
                                          crossed))


def case_header_field(tmp):
    src = {"type": "socket", "listen": True, "host": "127.0.0.1", "port": 0,
           "header": "optional"}
    for extra, want in (
            ({}, '$.sources.q.header: "optional" needs "format": "csv" and '
                 'a "schema"'),
            ({"format": "csv"}, "$.sources.q.header: \"optional\" needs"),
            ({"format": "csv", "schema": "a long", "header": "maybe"},
             "$.sources.q.header"),
            ({"format": "csv", "schema": "a long"}, None)):
        job = {"name": "h", "batch_interval": "1s",
               "sources": {"q": dict(src, **extra)},
               "sinks": [{"from": "q", "type": "console"}]}
        path = os.path.join(tmp, "h.json")
        with open(path, "w") as f:
            json.dump(job, f)
        p = subprocess.run([STREAMCTL, "validate", path], capture_output=True,
                           text=True, timeout=30)
        if want is None:
            check(p.returncode == 0, "valid job refused: " + p.stderr)
        else:
            check(p.returncode != 0 and want in p.stderr,
                  "%r: want %r, got %d %r" % (extra, want, p.returncode,
                                              p.stderr))


def case_feeds(tmp):
    a, sa = gen(tmp, "iso", ["--seed", "7"])
    b, sb = gen(tmp, "epoch", ["--seed", "8", "--ts-format", "epoch_ms",
                               "--start", "2024-01-02T10:31:00Z"])
    sec, minute, malformed, crossed = expected([a, b])
    check(malformed == sa["malformed"] + sb["malformed"],
          "this test's malformed %d, gen_bbo's %d + %d"
          % (malformed, sa["malformed"], sb["malformed"]))
    check(crossed == sa["crossed"] + sb["crossed"], "crossed count")
    job = Job(tmp)
    rows = run_feeds(job, [a, b, flush_file(tmp)], len(sec), len(minute))
    ties = check_seconds(rows.get("spread_1s", []), sec)
    check_minutes(rows.get("spread_1m", []), minute)
    check_dead_letters(job, malformed, crossed)
    print("%d per-second and %d per-minute windows equal; %d malformed, %d "
          "crossed; %d windows end in a tie of ts"
          % (len(sec), len(minute), malformed, crossed, ties))


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.stderr.write("usage: %s STREAMCTL SOURCE_ROOT GEN_BBO BBO_SPREAD\n"
                         % sys.argv[0])
        sys.exit(2)
    STREAMCTL, ROOT, GEN_BBO, C_PROGRAM = (os.path.abspath(x)
                                           for x in sys.argv[1:])
    if not shutil.which("ncat") or not shutil.which("stdbuf"):
        sys.exit(77)
    sys.exit(run_cases([("feeds", case_feeds),
                        ("c_program", case_c_program),
                        ("header_field", case_header_field)]))
