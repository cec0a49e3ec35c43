#!/usr/bin/env python3
"""utility_anomaly (examples/streaming/jobs/utility_anomaly.json and
utility_anomaly_batch.json) end to end, run for real by `streamctl run`
over gen_utility's prices, against tools/gen/utility_truth.py (exact
arithmetic, plain Python), itself checked here against Python's sqlite3
window query on the same rows.

The data: 5 weeks of hourly prices with 6 injected anomalies and a header,
plus rows that test the frame [t - 14 days, t): a second price at an
existing ts (a peer: EXCLUDE GROUP must leave both out of each other's
history, so an anomaly beside an ordinary price at the same ts is still
flagged, and judged against the same history), and a malformed line
(dropped, counted, dead-lettered with reason malformed). Hourly data puts
a same-hour row exactly 14 days before most rows: the frame's start is
inclusive.

- batch: utility_anomaly_batch.json as shipped but with `path` naming the
  data file (trigger available_now): it must stop by itself with exit 0
  and print exactly utility_truth.py's rows (ts, price, mean, sd, count;
  doubles to 1e-9), each once.
- directory: utility_anomaly.json (batch_interval 200ms instead of 1s)
  with the data cut into day files, each with its header, moved into the
  watched directory over time, then a file of one far-future row that
  moves the watermark past every row (the docs' end-of-input flush): the
  same rows, each once; SIGINT then exits 0.
- socket: the same job with its source a listening socket ("header":
  "optional"), fed by `stdbuf -oL cat FILE | ncat 127.0.0.1 PORT` and
  the flush line the same way: the same rows. Skipped without ncat or
  stdbuf (the others still run).

Usage: test_utility_anomaly.py STREAMCTL SOURCE_ROOT GEN_UTILITY
Every wait is bounded.
"""

import datetime
import json
import math
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from joblib import Failure, run_cases, run_streamctl  # noqa: E402

STREAMCTL = ROOT = GEN_UTILITY = None
FLUSH = "2100-01-01T00:00:00Z,1.00"
TOL = 1e-9
DAY_MS = 86400 * 1000


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def ms_of(text):
    dt = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return round((dt - epoch).total_seconds() * 1000)


def make_data(tmp):
    """The data file (header, prices, peers, one malformed line) and its
    lines without the header."""
    os.mkdir(os.path.join(tmp, "data"))  # not where the dead letters go
    path = os.path.join(tmp, "data", "utility.csv")
    subprocess.run([GEN_UTILITY, "--seed", "5", "--weeks", "5",
                    "--anomalies", "6", "--header", "--out", path],
                   check=True, timeout=60)
    with open(path) as f:
        lines = f.read().splitlines()
    header, body = lines[0], lines[1:]
    check(header == "ts,price", "gen_utility header %r" % header)
    # Peers: day 20 at 10:00 gets a second, anomalous price (mean + 6 sd of
    # its history, like gen_utility's); day 21 at 12:00 a second ordinary
    # one. Under EXCLUDE CURRENT ROW instead of EXCLUDE GROUP each would be
    # judged with its peer in its history.
    out = []
    for line in body:
        out.append(line)
        ts = line.split(",")[0]
        if ts.endswith("T10:00:00Z") and ts[:10] == body[20 * 24][:10]:
            out.append("%s,%.2f" % (ts, spike(body, ts)))
        if ts.endswith("T12:00:00Z") and ts[:10] == body[21 * 24][:10]:
            out.append("%s,%s" % (ts, line.split(",")[1]))
    out.insert(len(out) // 2, "2024-01-30T07:00:00Z,12.5x")  # malformed
    with open(path, "w") as f:
        f.write("\n".join([header] + out) + "\n")
    return path, out


def spike(body, ts):
    t = ms_of(ts)
    hist = [float(p) for s, p in (l.split(",") for l in body)
            if t - 14 * DAY_MS <= ms_of(s) < t and
            ms_of(s) % DAY_MS == t % DAY_MS]
    m = sum(hist) / len(hist)
    sd = math.sqrt(sum((x - m) ** 2 for x in hist) / (len(hist) - 1))
    return m + 6 * sd


def truth(path):
    """utility_truth.py --details: [(ts_ms, price, mean, sd, count)]."""
    p = subprocess.run([sys.executable, os.path.join(
        ROOT, "tools", "gen", "utility_truth.py"), path, "--details"],
        capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "utility_truth.py: %s" % p.stderr)
    rows = []
    for line in p.stdout.split():
        ts, price, mean, sd, n = line.split(",")
        rows.append((ms_of(ts), float(price), float(mean), float(sd), int(n)))
    return sorted(rows)


def sqlite_flags(lines):
    """The flagged (ts_ms, price) by sqlite3's window query: a computation
    independent of utility_truth.py (EXCLUDE GROUP as the standard)."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE p (t INTEGER, price REAL)")
    rows = []
    for line in lines:
        ts, price = line.split(",")
        if re.fullmatch(r"-?\d+(\.\d+)?", price):
            rows.append((ms_of(ts) // 1000, float(price)))
    db.executemany("INSERT INTO p VALUES (?, ?)", rows)
    w = ("(PARTITION BY (t / 3600) % 24 ORDER BY t RANGE BETWEEN 1209600 "
         "PRECEDING AND CURRENT ROW EXCLUDE GROUP)")
    q = ("SELECT t, price FROM (SELECT t, price, count(price) OVER {w} AS n, "
         "avg(price) OVER {w} AS m, sum(price * price) OVER {w} AS q "
         "FROM p) WHERE n >= 3 AND price >= m + 2 * sqrt(max(0, "
         "(q - n * m * m) / (n - 1)))").format(w=w)
    return sorted((t * 1000, p) for t, p in db.execute(q))


def expected(tmp):
    path, lines = make_data(tmp)
    want = truth(path)
    check(len(want) >= 7, "utility_truth flags only %d rows" % len(want))
    sq = sqlite_flags(lines)
    check([(t, p) for t, p, _, _, _ in want] == sq,
          "utility_truth.py %r, sqlite3 %r" % (want, sq))
    peers = [r for r in want if r[0] == ms_of(lines[0].split(",")[0]) +
             20 * DAY_MS + 10 * 3600 * 1000]
    check(len(peers) == 1, "the anomalous peer should be flagged: %r" % peers)
    return path, lines, want


def rows_of(out):
    got = []
    for line in out.splitlines():
        if line.startswith("{"):
            rec = json.loads(line)
            check(rec["stream"] == "anomalies", "stream %r" % rec["stream"])
            got.extend(rec["records"])
    return got


def compare(got, want, what):
    g = sorted((ms_of(r["ts"]), r["price"], r["mean"], r["sd"], r["count"])
               for r in got)
    check(len(g) == len(want), "%s: %d rows, utility_truth.py %d: %r"
          % (what, len(g), len(want), g))
    for a, b in zip(g, want):
        ok = a[0] == b[0] and a[4] == b[4] and all(
            abs(x - y) <= TOL * max(1.0, abs(y)) for x, y in zip(a[1:4],
                                                                 b[1:4]))
        check(ok, "%s: row %r, utility_truth.py %r" % (what, a, b))


def check_dead(path, what):
    with open(path) as f:
        dead = [json.loads(l) for l in f if l.strip()]
    check([d["reason"] for d in dead] == ["malformed"],
          "%s: dead letters %r" % (what, dead))


def load_job(name, tmp):
    with open(os.path.join(ROOT, "examples", "streaming", "jobs",
                           name)) as f:
        job = json.load(f)
    job["dead_letter"] = os.path.join(tmp, "dead.jsonl")
    return job


def write_job(tmp, job):
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    return path


def case_batch(tmp):
    data, _, want = expected(tmp)
    job = load_job("utility_anomaly_batch.json", tmp)
    job["sources"]["prices"]["path"] = data
    rc, out, err = run_streamctl(STREAMCTL, ["run", write_job(tmp, job)],
                                 tmp, 120)
    check(rc == 0, "exit %d: %s" % (rc, err[-2000:]))
    compare(rows_of(out), want, "available_now")
    check_dead(job["dead_letter"], "available_now")
    print("available_now over %s: the %d rows of utility_truth.py"
          % (os.path.basename(data), len(want)))


class Streaming:
    """utility_anomaly.json running with its output in files."""

    def __init__(self, tmp, job):
        job["batch_interval"] = "200ms"
        self.dead = job["dead_letter"]
        self.out = os.path.join(tmp, "out.jsonl")
        self.err = os.path.join(tmp, "err.txt")
        with open(self.out, "wb") as o, open(self.err, "wb") as e:
            self.proc = subprocess.Popen(
                [STREAMCTL, "run", write_job(tmp, job)], cwd=tmp,
                stdin=subprocess.DEVNULL, stdout=o, stderr=e)

    def stderr(self):
        with open(self.err, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def batches(self):
        with open(self.out) as f:
            return sum(1 for l in f if l.startswith("{"))

    def rows(self):
        with open(self.out) as f:
            return rows_of(f.read())

    def wait(self, pred, what, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred():
                return
            check(self.proc.poll() is None, "job ended: " + self.stderr())
            time.sleep(0.05)
        raise Failure("no %s within %d s: %s" % (what, timeout,
                                                 self.stderr()[-1500:]))

    def finish(self, want, what):
        """Wait for the rows, check that no more come, stop with SIGINT."""
        try:
            self.wait(lambda: len(self.rows()) >= len(want), "%d rows"
                      % len(want))
            time.sleep(1.0)  # later batches must print nothing more
            self.proc.send_signal(signal.SIGINT)
            rc = self.proc.wait(30)
            check(rc == 0, "exit %d: %s" % (rc, self.stderr()[-2000:]))
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        compare(self.rows(), want, what)
        check_dead(self.dead, what)


def case_directory(tmp):
    _, lines, want = expected(tmp)
    indir = os.path.join(tmp, "in")
    job = load_job("utility_anomaly.json", tmp)
    job["sources"]["prices"]["path"] = indir
    run = Streaming(tmp, job)
    # A file moved in before the source's start listing would count as
    # existing (not taken): wait for the directory and a first batch.
    run.wait(lambda: os.path.isdir(indir) and run.batches() > 0,
             "watched directory and a first batch")
    days = {}
    for line in lines:
        days.setdefault(line[:10], []).append(line)
    days = [days[d] for d in sorted(days)] + [[FLUSH]]
    for n, day in enumerate(days):
        staged = os.path.join(tmp, "day-%03d.csv" % n)
        with open(staged, "w") as f:
            f.write("ts,price\n" + "\n".join(day) + "\n")
        os.rename(staged, os.path.join(indir, os.path.basename(staged)))
        time.sleep(0.05)  # files arrive over a few batches
    run.finish(want, "directory")
    print("directory: %d day files moved in over time, then the flush "
          "row: the %d rows of utility_truth.py" % (len(days) - 1,
                                                    len(want)))


def case_socket(tmp):
    if not shutil.which("ncat") or not shutil.which("stdbuf"):
        print("socket: skipped (no ncat or stdbuf)")
        return
    data, _, want = expected(tmp)
    flush = os.path.join(tmp, "flush.csv")
    with open(flush, "w") as f:
        f.write(FLUSH + "\n")
    job = load_job("utility_anomaly.json", tmp)
    src = job["sources"]["prices"]
    for k in ("path", "create_if_missing", "header"):
        del src[k]
    src.update({"type": "socket", "listen": True, "host": "127.0.0.1",
                "port": 0, "header": "optional"})
    run = Streaming(tmp, job)
    port = []

    def listening():
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", run.stderr())
        return bool(m) and not port.append(int(m.group(1)))
    run.wait(listening, "'listening on' line", 15)
    for path in (data, flush):
        p = subprocess.run("stdbuf -oL cat %s | ncat 127.0.0.1 %d"
                           % (path, port[0]), shell=True, timeout=120)
        check(p.returncode == 0, "sender exited %d" % p.returncode)
    run.finish(want, "socket")
    print("socket: sent by stdbuf -oL cat | ncat, then the flush line: the "
          "%d rows of utility_truth.py" % len(want))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.stderr.write("usage: %s STREAMCTL SOURCE_ROOT GEN_UTILITY\n"
                         % sys.argv[0])
        sys.exit(2)
    STREAMCTL, ROOT, GEN_UTILITY = (os.path.abspath(x) for x in sys.argv[1:])
    sys.exit(run_cases([("batch", case_batch), ("directory", case_directory),
                        ("socket", case_socket)]))
