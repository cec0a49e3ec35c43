#!/usr/bin/env python3
"""Bounded event-time state over a long stream (issue 13, label slow).

2,000,000 generated events over 10,000 one-second tumbling windows
(10,000 s of event time, one event every 5 ms of event time), streamed by
`streamctl run --progress FILE` through a SQL window aggregation in
append mode with a 2 s watermark delay:

    SELECT window.start AS s, count(*) AS n, sum(v) AS total FROM src
    GROUP BY window(ts, '1 second')

The events are mostly in order: 30 % of them lag up to 3 s behind their
place (disorder that the delay mostly absorbs, some of it late at the
batches' edges), and 0.1 % are held back 1-4 files (50-200 s: always
late). They are cut into 200 CSV files of 10,000 lines (epoch-ms
timestamps) read by a directory source with `"trigger": "available_now"`
and `max_files_per_trigger` 1, the files' mtimes in file order, so batch
b reads file b and the batches are deterministic; the trigger's last
batch (watermark at the end of time) emits the windows still open.

The test computes, independently of sluice, each batch's watermark (the
greatest event time of the files before it minus the delay, never moving
back, the epoch for the first batch), the late rows (window end <= the
batch's watermark) and each window's count and sum over the rows kept,
and checks from every progress entry:

- `event_time.watermark` is that watermark and `sources[0].rows` the
  file's lines;
- `state[].dropped_late` is the batch's late rows, and their sum is the
  run's `L late` in stderr's last line;
- `state[].rows` <= BOUND(b), the windows the watermark allows open after
  batch b. Append mode evicts, in batch b, every window whose end <= the
  watermark w_b the batch used, and a row kept in any batch up to b lies
  in a window starting at or before M_b, the greatest event time seen up
  to batch b. With windows [1000k, 1000k + 1000) ms, the windows left are
  those with 1000k + 1000 > w_b and 1000k <= M_b, that is
  k in [floor(w_b / 1000), floor(M_b / 1000)], so
      BOUND(b) = floor(M_b / 1000) - floor(w_b / 1000) + 1
  (about (M_b - M_{b-1} + delay) / 1 s + 1 = 53 here, of 10,000 windows).
  The exact number, the windows in that range that got a kept row, is
  checked too; the last batch's state is empty;
- the emitted windows (each once) and their counts and sums equal the
  computation.

usage: test_state_bounded.py STREAMCTL SRCDIR [--events N]
"""

import datetime
import json
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from joblib import Failure, run_streamctl  # noqa: E402

T0 = 1704067200000  # 2024-01-01T00:00:00Z, epoch ms
STEP_MS = 5  # event time between events in order
DELAY_MS = 2000
WIN_MS = 1000
FILES = 200
END_OF_TIME = "+292278994-08-17T07:12:55.807Z"


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def ms_of(text):
    if text == END_OF_TIME:
        return None
    dt = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return (dt - datetime.datetime(1970, 1, 1)) // datetime.timedelta(
        milliseconds=1)


def generate(n, seed):
    """FILES lists of (ts_ms, v): in order but for the lagging 30 % and
    the 0.1 % held back 1-4 files."""
    rng = random.Random(seed)
    per = n // FILES
    files = [[] for _ in range(FILES)]
    for i in range(n):
        ts = T0 + i * STEP_MS
        r = rng.random()
        if r < 0.3:
            ts -= rng.randint(0, 3000)
        f = i // per
        if r > 0.999:
            f = min(FILES - 1, f + rng.randint(1, 4))
        files[f].append((ts, i % 1000))
    return files


def expected(files):
    """Per batch (watermark, late rows, max event time so far, exact state
    rows after it) and the windows' (count, sum) over the rows kept."""
    wins, batches, open_wins = {}, [], set()
    wm, top = 0, None
    for rows in files:
        late = 0
        for ts, v in rows:
            k = ts // WIN_MS
            if k * WIN_MS + WIN_MS <= wm:
                late += 1
                continue
            c = wins.setdefault(k, [0, 0])
            c[0] += 1
            c[1] += v
            open_wins.add(k)
        m = max(ts for ts, _ in rows)
        top = m if top is None else max(top, m)
        open_wins = {k for k in open_wins if k * WIN_MS + WIN_MS > wm}
        batches.append((wm, late, top, len(open_wins)))
        wm = max(wm, top - DELAY_MS)
    return batches, wins


def write_files(tmp, files):
    d = os.path.join(tmp, "in")
    os.mkdir(d)
    now = time.time() - 3600
    for i, rows in enumerate(files):
        path = os.path.join(d, "part-%04d.csv" % i)
        with open(path, "w") as f:
            f.write("".join("%d,%d\n" % r for r in rows))
        os.utime(path, (now + i, now + i))  # batch i+1 takes file i
    return d


def job(tmp, d):
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump({
            "name": "bounded", "batch_interval": "1s",
            "trigger": "available_now",
            "sources": {"src": {
                "type": "directory", "path": d, "format": "csv",
                "schema": "ts timestamp, v long", "max_files_per_trigger": 1,
                "watermark": {"column": "ts", "delay": "%dms" % DELAY_MS}}},
            "streams": {"w": {
                "sql": "SELECT window.start AS s, count(*) AS n, "
                       "sum(v) AS total FROM src "
                       "GROUP BY window(ts, '1 second')",
                "output_mode": "append"}},
            "sinks": [{"from": "w", "type": "console", "format": "json"}]},
            f)
    return path


def check_progress(entries, files, want):
    data = [e for e in entries if e["sources"][0]["rows"]]
    check(len(data) == FILES, "%d batches read rows, %d files"
          % (len(data), FILES))
    total_late, worst = 0, 0
    for i, (e, rows) in enumerate(zip(data, files)):
        wm, late, top, exact = want[i]
        b = e["batch"]
        check(e["sources"][0]["rows"] == len(rows),
              "batch %d read %d rows, file %d has %d"
              % (b, e["sources"][0]["rows"], i, len(rows)))
        got_wm = ms_of(e["event_time"]["watermark"])
        check(got_wm == wm, "batch %d: watermark %s, expected %d ms"
              % (b, e["event_time"]["watermark"], wm))
        st = e["state"]
        check(len(st) == 1, "batch %d: state %r" % (b, st))
        check(st[0]["dropped_late"] == late, "batch %d: %d late dropped, "
              "expected %d" % (b, st[0]["dropped_late"], late))
        bound = top // WIN_MS - wm // WIN_MS + 1
        check(st[0]["rows"] <= bound, "batch %d: %d state rows, the "
              "watermark %d allows %d" % (b, st[0]["rows"], wm, bound))
        check(st[0]["rows"] == exact, "batch %d: %d state rows, %d windows "
              "open" % (b, st[0]["rows"], exact))
        total_late += late
        worst = max(worst, st[0]["rows"])
    last = entries[-1]
    check(ms_of(last["event_time"]["watermark"]) is None
          and last["state"][0]["rows"] == 0,
          "last batch: watermark %s, %d state rows"
          % (last["event_time"]["watermark"], last["state"][0]["rows"]))
    return total_late, worst


def check_output(out, wins):
    got = {}
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        for r in json.loads(line)["records"]:
            k = ms_of(r["s"]) // WIN_MS
            check(k not in got, "window %s emitted twice" % r["s"])
            got[k] = [r["n"], r["total"]]
    check(got == wins, "%d windows emitted, %d expected; first differences "
          "%r" % (len(got), len(wins),
                  sorted((k, got.get(k), wins.get(k))
                         for k in set(got) | set(wins)
                         if got.get(k) != wins.get(k))[:5]))


def main(argv):
    n = 2000000
    if "--events" in argv:
        i = argv.index("--events")
        n = int(argv[i + 1])
        del argv[i:i + 2]
    streamctl = os.path.abspath(argv[1])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            files = generate(n, 13)
            want, wins = expected(files)
            check(len(wins) >= n * STEP_MS // WIN_MS - 5,
                  "only %d windows" % len(wins))
            path = job(tmp, write_files(tmp, files))
            prog = os.path.join(tmp, "progress.jsonl")
            t0 = time.monotonic()
            rc, out, err = run_streamctl(streamctl, ["run", "--progress",
                                                     prog, path], tmp, 240)
            took = time.monotonic() - t0
            check(rc == 0, "streamctl run exit %d: %s" % (rc, err[-1500:]))
            with open(prog) as f:
                entries = [json.loads(l) for l in f if l.strip()]
            late, worst = check_progress(entries, files, want)
            check(late > 0, "the data should hold late rows")
            tail = err.strip().splitlines()[-1] if err.strip() else ""
            check(", %d late;" % late in tail,
                  "%d late rows expected in stderr's last line: %r"
                  % (late, tail))
            check_output(out, wins)
            print("%d events, %d windows, %d late dropped, in %.1f s; state "
                  "rows at most %d (bound per batch ~%d)"
                  % (n, len(wins), late, took, worst,
                     (n // FILES * STEP_MS + DELAY_MS) // WIN_MS + 1))
    except Failure as e:
        print("FAIL: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
