#!/usr/bin/env python3
"""session_window(ts, gap) (Spark 3.5's SessionWindow with a constant
gap): in `streamctl sql`, hand-computed sessions (merging across the gap,
an event exactly `gap` after the last one extending the session as
Spark's inclusive overlap test does, equal timestamps, a NULL ts, several
keys, `session_window.start`/`.end`, the default column name), then
random tables against an independent sessionization in Python, the
errors (non-positive or non-constant gap, two different window calls);
then SQL streams with a watermark: sessions crossing batches, append mode
emitting a session once the watermark passes its end, late rows dropped
as dead letters, complete mode, and update mode refused as Spark does.

usage: test_sql_session_window.py STREAMCTL [SRCDIR]
"""

import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from joblib import Failure, run_cases, run_streamctl  # noqa: E402

STREAMCTL = None
SCHEMA = "u string, ts timestamp, v long"


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def sql(tmp, rows, query, want_rc=0):
    path = os.path.join(tmp, "t.jsonl")
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    rc, out, err = run_streamctl(
        STREAMCTL, ["sql", "--format", "json", "--table",
                    "t=%s:%s" % (path, SCHEMA), query], tmp, 60)
    check(rc == want_rc, "%s: exit %d, want %d; stderr %r"
          % (query, rc, want_rc, err[-800:]))
    return [json.loads(x) for x in out.splitlines() if x.strip()], err


def iso(s):
    """ISO text of epoch seconds s (whole seconds, 1970-01-01 only)."""
    return "1970-01-01T%02d:%02d:%02d.000Z" % (s // 3600, s // 60 % 60,
                                               s % 60)


def r(u, ts, v):
    return {"u": u, "ts": ts, "v": v}


def case_hand_computed(tmp):
    # gap 10 s. a: 0, 5, 5 (equal), 15 (exactly 10 s after 5: joins),
    # 26 (11 s after 15: a new session), 40 -> [0, 25), [26, 36),
    # [40, 50); b: 1 -> [1, 11) (keys never merge); a NULL ts has no
    # session (dropped, as Spark's filter on the window).
    rows = [r("a", 0, 1), r("a", 5, 2), r("b", 1, 16), r("a", 5, 64),
            r("a", 15, 4), r("a", 26, 8), r("a", 40, 32), r("b", None, 128)]
    got, _ = sql(tmp, rows,
                 "SELECT u, session_window.start AS s, session_window.end "
                 "AS e, count(*) AS n, sum(v) AS sv FROM t "
                 "GROUP BY u, session_window(ts, '10 seconds')")
    got = sorted((g["u"], g["s"], g["e"], g["n"], g["sv"]) for g in got)
    want = [("a", iso(0), iso(25), 4, 71), ("a", iso(26), iso(36), 1, 8),
            ("a", iso(40), iso(50), 1, 32), ("b", iso(1), iso(11), 1, 16)]
    check(got == want, "sessions %r, want %r" % (got, want))
    # no other key: b's event at 1 joins a's first session
    got, _ = sql(tmp, rows,
                 "SELECT session_window, count(*) AS n FROM t "
                 "GROUP BY session_window(ts, '10 seconds')")
    got = sorted((g["session_window"]["start"], g["session_window"]["end"],
                  g["n"]) for g in got)
    want = [(iso(0), iso(25), 5), (iso(26), iso(36), 1),
            (iso(40), iso(50), 1)]
    check(got == want, "global sessions %r, want %r" % (got, want))
    # without aggregation: each row's own session
    got, _ = sql(tmp, rows[:2],
                 "SELECT v, session_window(ts, '10 seconds') AS w FROM t")
    got = sorted((g["v"], g["w"]["start"], g["w"]["end"]) for g in got)
    check(got == [(1, iso(0), iso(10)), (2, iso(5), iso(15))],
          "rows %r" % got)


def sessionize(rows, gap):
    """{(u, start, end): (count, sum, min)}: Spark's sessions per u."""
    out = {}
    by = {}
    for x in rows:
        if x["ts"] is not None:
            by.setdefault(x["u"], []).append(x)
    for u, xs in by.items():
        xs.sort(key=lambda x: x["ts"])
        cur = None
        for x in xs:
            if cur and x["ts"] <= cur[1]:
                cur[1] = max(cur[1], x["ts"] + gap)
                cur[2].append(x["v"])
                continue
            if cur:
                out[(u, cur[0], cur[1])] = cur[2]
            cur = [x["ts"], x["ts"] + gap, [x["v"]]]
        if cur:
            out[(u, cur[0], cur[1])] = cur[2]
    return {k: (len(v), sum(v), min(v)) for k, v in out.items()}


def case_random(tmp):
    rnd = random.Random(13)
    for _ in range(6):
        gap = rnd.choice([1, 3, 7, 20])
        rows = [r(rnd.choice("abcd"), rnd.choice([None] + [rnd.randrange(
            300)] * 12), rnd.randrange(-50, 50)) for _ in range(400)]
        got, _ = sql(tmp, rows,
                     "SELECT u, session_window.start AS s, "
                     "session_window.end AS e, count(*) AS n, sum(v) AS sv, "
                     "min(v) AS mv FROM t GROUP BY u, "
                     "session_window(ts, '%d seconds')" % gap)
        got = {(g["u"], g["s"], g["e"]): (g["n"], g["sv"], g["mv"])
               for g in got}
        want = {(u, iso(s), iso(e)): v
                for (u, s, e), v in sessionize(rows, gap).items()}
        check(got == want, "gap %d: %d sessions, want %d; differ: %r" % (
            gap, len(got), len(want),
            sorted(set(got.items()) ^ set(want.items()))[:6]))


def case_errors(tmp):
    rows = [r("a", 1, 1)]
    for q, want in [
            ("SELECT session_window(ts, '0 seconds') FROM t",
             "The session window gap (0 ms) must be greater than 0."),
            ("SELECT session_window(ts, u) FROM t",
             "the session window gap must be a constant"),
            ("SELECT count(*) FROM t GROUP BY session_window(ts, '1 second'),"
             " window(ts, '1 second')",
             "Multiple time/session window expressions")]:
        _, err = sql(tmp, rows, q, want_rc=1)
        check(want in err, "%s: stderr %r, want %r" % (q, err[-400:], want))


def t(sec):
    return iso(sec).replace(".000Z", "Z")


def stream_job(tmp, batches, mode, sql=None):
    sql = sql or ("SELECT u, session_window.start AS s, session_window.end "
                  "AS e, count(*) AS n, sum(v) AS sv FROM src GROUP BY u, "
                  "session_window(ts, '10 seconds')")
    job = {"name": "ss", "batch_interval": "1s",
           "dead_letter": os.path.join(tmp, "dead.jsonl"),
           "conf": {"clock": "manual", "max_batches": len(batches)},
           "sources": {"src": {"type": "queue", "schema": SCHEMA,
                               "watermark": {"column": "ts", "delay": "1ms"},
                               "batches": batches}},
           "streams": {"q": {"sql": sql, "output_mode": mode}},
           "sinks": [{"from": "q", "type": "console", "format": "json"}]}
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    return path


def stream_batches():
    # gap 10 s, watermark delay 1 ms (watermarks below: + 1 ms). batch 1: a@0, a@5, b@1 (watermark
    # then 5); batch 2: a@12 extends a's [0, 15) to [0, 22) across the
    # batches, b@30 (watermark 30); batch 3, no data: a [0, 22) and b
    # [1, 11) end <= 30, emitted in append mode; batch 4: b@15 is late
    # (its own session [15, 25) ends <= 30: dropped, dead letter
    # "late"), b@35 extends [30, 40) to [30, 45); batch 5: a@100
    # (watermark 100); batch 6, no data: b [30, 45) emitted.
    return [[r("a", t(0), 1), r("a", t(5), 2), r("b", t(1), 4)],
            [r("a", t(12), 8), r("b", t(30), 16)], [],
            [r("b", t(15), 32), r("b", t(35), 64)],
            [r("a", t(100), 128)], []]


def batches_of(out):
    return [sorted((x["u"], x["s"], x["e"], x["n"], x["sv"])
                   for x in json.loads(line)["records"])
            for line in out.splitlines() if line.startswith("{")]


def case_stream_append(tmp):
    rc, out, err = run_streamctl(
        STREAMCTL, ["run", stream_job(tmp, stream_batches(), "append")],
        tmp, 60)
    check(rc == 0, "exit %d, stderr %r" % (rc, err[-800:]))
    got = batches_of(out)
    want = [[], [], [("a", iso(0), iso(22), 3, 11),
                     ("b", iso(1), iso(11), 1, 4)],
            [], [], [("b", iso(30), iso(45), 2, 80)]]
    check(got == want, "append batches %r, want %r" % (got, want))
    with open(os.path.join(tmp, "dead.jsonl")) as f:
        dead = [json.loads(x) for x in f if x.strip()]
    check([(d["reason"], d["batch"], d["value"]["v"]) for d in dead] ==
          [("late", 4, 32)], "dead letters %r" % dead)
    check(" 1 late" in err, "late count not reported: %r" % err[-400:])


def case_stream_complete(tmp):
    rc, out, err = run_streamctl(
        STREAMCTL, ["run", stream_job(tmp, stream_batches()[:2],
                                      "complete")], tmp, 60)
    check(rc == 0, "exit %d, stderr %r" % (rc, err[-800:]))
    got = batches_of(out)
    want = [[("a", iso(0), iso(15), 2, 3), ("b", iso(1), iso(11), 1, 4)],
            [("a", iso(0), iso(22), 3, 11), ("b", iso(1), iso(11), 1, 4),
             ("b", iso(30), iso(40), 1, 16)]]
    check(got == want, "complete batches %r, want %r" % (got, want))


def case_stream_update_refused(tmp):
    rc, out, err = run_streamctl(
        STREAMCTL, ["run", stream_job(tmp, [[]], "update")], tmp, 60)
    want = "Update output mode not supported for session window"
    check(rc != 0 and want in out + err,
          "exit %d, stderr %r, want %r" % (rc, err[-600:], want))


def main():
    global STREAMCTL
    STREAMCTL = sys.argv[1]
    return run_cases([("hand_computed", case_hand_computed),
                      ("random", case_random), ("errors", case_errors),
                      ("stream_append", case_stream_append),
                      ("stream_complete", case_stream_complete),
                      ("stream_update_refused", case_stream_update_refused)])


if __name__ == "__main__":
    sys.exit(main())
