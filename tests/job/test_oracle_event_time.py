#!/usr/bin/env python3
"""Event-time cases of Spark's test vectors (tests/oracle/spark_vectors.json,
issue 13) run through sluice's SQL: each case becomes a job file run by
`streamctl run` (a queue source with a schema, the manual clock; select-only
cases in append mode, groupBy cases in complete mode) and the same query run
by `streamctl sql` over a CSV file. Output lines name the case as
"SUITE / TEST [via]". Suites are handled by the HANDLERS table.

EventTimeWatermarkSuite's cases map onto sluice as follows (explicitly,
without weakening what Spark expects):
- values are seconds since the epoch, given as ISO text of a `timestamp`
  column; the source declares "watermark": {"column": "time", "delay"};
- a step (Spark's AddData, then processAllAvailable) is one queue entry
  with the step's rows followed by an empty entry `[]`: a batch runs every
  interval, so the empty one is Spark's no-data batch; where the case has
  no no-data batches (Trigger.Once, the disabled flag) the job says
  "no_data_batches": false, and it runs two ways: one entry per step, and
  the step's entry plus `[]` (a batch without input then keeps the
  watermark, as Spark runs no batch at all);
- sluice's batch ids count from 1, and the watermark a batch runs with is
  its progress entry's event_time.watermark (Spark's batchWatermarkMs);
  the event statistics of a step are those of its data batch (Spark
  reports the last batch with input rows); state rows of a step are those
  of its last batch's progress entry;
- "watermark with 2 streams": Spark's SQL union becomes an `ops` union of
  two queue sources, each with its own watermark, under a SQL global sum;
  each step is one batch of both sources' data, then one batch of the
  dummy 0 in the first (Spark's second processAllAvailable), whose
  watermark is the step's; the restart after step 15 is a second
  `streamctl run` on the same checkpoint.

Usage: test_oracle_event_time.py STREAMCTL SOURCE_ROOT
"""

import csv
import datetime
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from joblib import Failure, run_streamctl  # noqa: E402

SCHEMA = "time timestamp, value long, id string"


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def interval(params, what):
    """A window parameter of the case as a Spark interval string."""
    if what + "_ms" in params:
        return "%d milliseconds" % params[what + "_ms"]
    if what + "_s" in params:
        return "%d seconds" % params[what + "_s"]
    return None


def window_call(params):
    args = ["time", "'%s'" % interval(params, "window")]
    slide, start = interval(params, "slide"), interval(params, "start_offset")
    if slide or start:
        args.append("'%s'" % (slide or args[1].strip("'")))
    if start:
        args.append("'%s'" % start)
    return "window(%s)" % ", ".join(args)


def windowing_query(case):
    """(SQL, output mode, key) of a DataFrameTimeWindowingSuite case: the
    window as its start and end text (CAST to string, as Spark's test
    compares strings), then the count or the value."""
    w = window_call(case["params"])
    cols = ("CAST(window.start AS STRING) AS ws, "
            "CAST(window.end AS STRING) AS we")
    if case["op"].startswith("groupBy"):
        return ("SELECT %s, count(*) AS n FROM src GROUP BY %s" % (cols, w),
                "complete", "n")
    return ("SELECT %s, value FROM (SELECT %s, value FROM src)" % (cols, w),
            "append", "value")


def records(case):
    out = []
    for row in case["input"]:
        r = {"time": row[0], "value": row[1]}
        if len(row) > 2:
            r["id"] = row[2]
        out.append(r)
    return out


def run_job(tmp, sql, mode, rows):
    job = {"name": "event_time", "batch_interval": "1s",
           "conf": {"clock": "manual", "max_batches": 1},
           "sources": {"src": {"type": "queue", "schema": SCHEMA,
                               "batches": [rows]}},
           "streams": {"q": {"sql": sql, "output_mode": mode}},
           "sinks": [{"from": "q", "type": "console", "format": "json"}]}
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    rc, out, err = run_streamctl(STREAMCTL, ["run", path], tmp, 60)
    check(rc == 0, "streamctl run exit %d: %s" % (rc, err[-800:]))
    got = []
    for line in out.splitlines():
        if line.startswith("{"):
            got = json.loads(line)["records"]  # complete: the last batch
    return got


def run_sql(tmp, sql, rows):
    path = os.path.join(tmp, "src.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        for r in rows:
            w.writerow([r["time"], r["value"], r.get("id", "")])
    rc, out, err = run_streamctl(
        STREAMCTL, ["sql", "--format", "json", "--table",
                    "src=%s:%s" % (path, SCHEMA), sql], tmp, 60)
    check(rc == 0, "streamctl sql exit %d: %s" % (rc, err[-800:]))
    return [json.loads(line) for line in out.splitlines() if line]


def windowing(case, tmp, via):
    sql, mode, key = windowing_query(case)
    rows = records(case)
    got = run_job(tmp, sql, mode, rows) if via == "run" else run_sql(
        tmp, sql, rows)
    got = sorted([r["ws"], r["we"], r[key]] for r in got)
    want = sorted(case["expected"])
    check(got == want, "%s\n got  %r\n want %r" % (sql, got, want))


def iso(sec):
    return datetime.datetime.fromtimestamp(
        sec, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def seconds(text):
    """Epoch seconds of sluice's timestamp text (....000Z)."""
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    t = t.replace(tzinfo=datetime.timezone.utc)
    ms = round(t.timestamp() * 1000)
    return ms // 1000 if ms % 1000 == 0 else ms / 1000.0


def wm_rows(values):
    return [{"time": iso(v), "value": v} for v in values]


def wm_source(entries, delay_s):
    src = {"type": "queue", "schema": "time timestamp, value long",
           "batches": entries}
    if delay_s is not None:
        src["watermark"] = {"column": "time", "delay": "%ds" % delay_s}
    return src


def run_wm_job(tmp, job, nbatches, ckpt=None):
    """{batch: records} of the console sink and {batch: progress entry}."""
    job["conf"] = {"clock": "manual", "max_batches": nbatches}
    if ckpt:
        job["checkpoint"] = ckpt
    path = os.path.join(tmp, "job.json")
    prog = os.path.join(tmp, "progress.jsonl")
    with open(path, "w") as f:
        json.dump(job, f)
    if os.path.exists(prog):
        os.unlink(prog)
    rc, out, err = run_streamctl(STREAMCTL, ["run", "--progress", prog, path],
                                 tmp, 60)
    check(rc == 0, "streamctl run exit %d: %s" % (rc, err[-800:]))
    sinks, progress = {}, {}
    for line in out.splitlines():
        if line.startswith("{"):
            o = json.loads(line)
            sinks[o["batch"]] = o["records"]
    with open(prog) as f:
        for line in f:
            o = json.loads(line)
            progress[o["batch"]] = o
    return sinks, progress


def wm_query(case):
    """(SQL, output mode) of an EventTimeWatermarkSuite groupBy case."""
    p = case["params"]
    if p["window"] is None:  # group by the event time itself
        return ("SELECT time AS k, count(*) AS n FROM src GROUP BY time",
                p["output_mode"])
    check(p["window"] == "tumbling 5 s", "window %r" % p["window"])
    return ("SELECT window.start AS k, count(*) AS n FROM src "
            "GROUP BY window(time, '5 seconds')", p["output_mode"])


def wm_plan(case, via):
    """Queue entries, no_data_batches, and per step (data batch, last
    batch) of the case's steps (batch ids from 1)."""
    p = case["params"]
    no_data = p.get("no_data_batches", True) and \
        "no no-data batches" not in case["op"]
    entries, steps = [], []
    for values in case["input"]:
        entries.append(wm_rows(values))
        data = len(entries)
        if no_data or via == "run, step + []":
            entries.append([])
        steps.append((data, len(entries)))
    return entries, no_data, steps


def wm_check_step(case, i, data, last, sinks, progress, seen):
    p, name = case["params"], "step %d" % (i + 1)
    new = sorted([seconds(r["k"]), r["n"]] for b in range(data, last + 1)
                 for r in sinks.get(b, []))
    seen.extend(new)
    got = {"new_rows_per_step": new,
           "all_sink_rows_after_step": sorted(seen),
           "full_result_after_step": sorted(
               [seconds(r["k"]), r["n"]] for r in sinks.get(last, []))
           }[p["check"]]
    want = sorted(case["expected"][i])
    check(got == want, "%s: %s got %r, want %r" % (name, p["check"], got,
                                                   want))
    states = p.get("state_rows_after_step")
    if states and states[i] is not None:
        rows = progress[last]["state"][0]["rows"]
        check(rows == states[i], "%s: state rows %d, want %d"
              % (name, rows, states[i]))
    stats = p.get("event_stats_per_step")
    if stats:
        ev = progress[data].get("event_time", {})
        got = {k: seconds(ev[k]) for k in ev}
        check(got == stats[i], "%s: event_time %r, want %r"
              % (name, got, stats[i]))
    used = p.get("watermark_used_per_step_s")
    if used:
        wm = seconds(progress[data]["event_time"]["watermark"])
        check(wm == used[i], "%s: batch %d ran with watermark %r, want %r"
              % (name, data, wm, used[i]))


def watermark_case(case, tmp, via):
    if case["test"] == "watermark with 2 streams":
        return two_streams(case, tmp)
    p = case["params"]
    sql, mode = wm_query(case)
    entries, no_data, steps = wm_plan(case, via)
    job = {"name": "watermark", "batch_interval": "1s",
           "sources": {"src": wm_source(entries, p["watermark_delay_s"])},
           "streams": {"q": {"sql": sql, "output_mode": mode}},
           "sinks": [{"from": "q", "type": "console", "format": "json"}]}
    if not no_data:
        job["no_data_batches"] = False
    sinks, progress = run_wm_job(tmp, job, len(entries))
    seen = []
    for i, (data, last) in enumerate(steps):
        wm_check_step(case, i, data, last, sinks, progress, seen)
    if p["watermark_delay_s"] is None:  # no event-time statistics at all
        check(all("event_time" not in e for e in progress.values()),
              "event_time reported without a watermark")


def two_streams_job(case, nbatches, tmp):
    delays = case["params"]["delay_s"]
    first, second = [], []
    for a, b in case["input"]:
        first += [wm_rows(a), wm_rows([0])]  # the step, then the dummy 0
        second += [wm_rows(b), []]
    job = {"name": "two_streams", "batch_interval": "1s",
           "sources": {"first": wm_source(first, delays["first"]),
                       "second": wm_source(second, delays["second"])},
           "streams": {"u": {"from": "first",
                             "ops": [{"op": "union", "with": "second"}],
                             "schema": "time timestamp, value long"},
                       "q": {"sql": "SELECT sum(value) AS s FROM u",
                             "output_mode": "complete"}},
           "sinks": [{"from": "q", "type": "console",
                      "format": "json"}]}
    return run_wm_job(tmp, job, nbatches, os.path.join(tmp, "ckpt"))


def two_streams(case, tmp):
    """Per step, the watermark of the dummy batch (ms); a restart on the
    same checkpoint after restart_after_step (a second streamctl run)."""
    restart = case["params"]["restart_after_step"]
    steps = len(case["input"])
    sinks, progress = two_streams_job(case, 2 * restart, tmp)
    s2, p2 = two_streams_job(case, 2 * steps, tmp)
    check(min(p2) == 2 * restart + 1, "restart began at batch %d" % min(p2))
    sinks.update(s2)
    progress.update(p2)
    got = [round(seconds(progress[2 * (i + 1)]["event_time"]["watermark"])
                 * 1000) for i in range(steps)]
    check(got == case["expected"], "watermark per step (ms) %r, want %r"
          % (got, case["expected"]))
    total = sum(sum(a) + sum(b) for a, b in case["input"])
    last = sinks[2 * steps]
    check(last == [{"s": total}], "complete sum after the restart %r, "
          "want %d" % (last, total))


def watermark_vias(case):
    p = case["params"]
    if p.get("no_data_batches") is False or \
            "no no-data batches" in case["op"]:
        return ("run, one entry per step", "run, step + []")
    return ("run",)


HANDLERS = {"DataFrameTimeWindowingSuite": (windowing,
                                            lambda c: ("run", "sql")),
            "EventTimeWatermarkSuite": (watermark_case, watermark_vias)}


def main(argv):
    global STREAMCTL
    STREAMCTL = argv[1]
    path = os.path.join(argv[2], "tests", "oracle", "spark_vectors.json")
    with open(path) as f:
        cases = [c for c in json.load(f) if c["suite"] in HANDLERS]
    check(cases, "no event-time cases in %s" % path)
    failed = 0
    for case in cases:
        handler, vias = HANDLERS[case["suite"]]
        for via in vias(case):
            name = "%s / %s [%s]" % (case["suite"], case["test"], via)
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    handler(case, tmp, via)
                    print("ok: %s" % name)
                except Failure as e:
                    failed += 1
                    print("FAIL: %s: %s" % (name, e))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
