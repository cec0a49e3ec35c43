#!/usr/bin/env python3
"""SQL streams in job files (issue 12): a stream `{"sql": ..., "output_mode":
...}` over a queue source with a schema, printed by the console's json
format under a manual clock, checked exactly batch by batch; each
output-mode rule's error; `streamctl validate`'s positioned parse errors
(`$.streams.NAME.sql: line L, column C: ...` with the caret lines); a
query reading no source; and a restart from a checkpoint keeping the
running counts.

Usage: test_sql_streams.py STREAMCTL SOURCE_ROOT
"""

import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from joblib import Failure, run_module_cases, run_streamctl  # noqa: E402

STREAMCTL = None

BATCHES = [[{"k": "a", "v": 1}, {"k": "b", "v": 2}, {"k": "a", "v": 3}],
           [{"k": "b", "v": 10}],
           [{"k": "c", "v": 5}, {"k": "a", "v": 1}]]


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def write_job(tmp, stream, batches=BATCHES, conf=None, tables=None):
    c = {"clock": "manual", "max_batches": len(batches)}
    c.update(conf or {})
    job = {"name": "sql", "batch_interval": "1s", "conf": c,
           "sources": {"src": {"type": "queue", "schema": "k string, v long",
                               "batches": batches}},
           "streams": {"q": stream},
           "sinks": [{"from": "q", "type": "console", "format": "json"}]}
    if tables is not None:
        job["tables"] = tables
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    return path


def batches_of(out):
    return [json.loads(line)["records"] for line in out.splitlines()
            if line.startswith("{")]


def run(tmp, job, want_rc=0, cmd="run"):
    rc, out, err = run_streamctl(STREAMCTL, [cmd, job], tmp, 60)
    check(want_rc is None or rc == want_rc,
          "exit %d, want %r; stdout %r stderr %r" % (rc, want_rc, out[-400:], err[-800:]))
    return out, err


def case_stateless(tmp):
    out, _ = run(tmp, write_job(tmp, {
        "sql": "SELECT upper(k) AS K, v * 2 AS d FROM src WHERE v > 1"}))
    got = [sorted(b, key=json.dumps) for b in batches_of(out)]
    check(got == [[{"K": "A", "d": 6}, {"K": "B", "d": 4}],
                  [{"K": "B", "d": 20}], [{"K": "C", "d": 10}]],
          "batches %r" % got)


def case_complete(tmp):
    out, _ = run(tmp, write_job(tmp, {
        "sql": "SELECT k, count(*) AS n, sum(v) AS s FROM src GROUP BY k "
               "ORDER BY k", "output_mode": "complete"}))
    check(batches_of(out) == [
        [{"k": "a", "n": 2, "s": 4}, {"k": "b", "n": 1, "s": 2}],
        [{"k": "a", "n": 2, "s": 4}, {"k": "b", "n": 2, "s": 12}],
        [{"k": "a", "n": 3, "s": 5}, {"k": "b", "n": 2, "s": 12},
         {"k": "c", "n": 1, "s": 5}]], "batches %r" % batches_of(out))


def case_update(tmp):
    out, _ = run(tmp, write_job(tmp, {
        "sql": "SELECT k, sum(v) AS s FROM src GROUP BY k",
        "output_mode": "update"}))
    got = [sorted(b, key=json.dumps) for b in batches_of(out)]
    check(got == [[{"k": "a", "s": 4}, {"k": "b", "s": 2}],
                  [{"k": "b", "s": 12}],
                  [{"k": "a", "s": 5}, {"k": "c", "s": 1 * 5}]],
          "batches %r" % got)


RULES = [
    ("SELECT k, count(*) FROM src GROUP BY k", "append",
     "$.streams.q.sql: Append output mode not supported when there are "
     "streaming aggregations on streaming DataFrames/DataSets without "
     "watermark"),
    ("SELECT k FROM src", "complete",
     "$.streams.q.sql: Complete output mode not supported when there are no "
     "streaming aggregations on streaming DataFrames/Datasets"),
    ("SELECT k, count(*) AS n FROM src GROUP BY k ORDER BY n", "update",
     "Sorting is not supported on streaming DataFrames/Datasets, unless it "
     "is on aggregated DataFrame/Dataset in Complete output mode"),
    ("SELECT k, count(*) FROM src GROUP BY k LIMIT 1", "update",
     "Limits are not supported on streaming DataFrames/Datasets in Update "
     "output mode"),
    ("SELECT count(DISTINCT k) FROM src", "complete",
     "Distinct aggregations are not supported"),
    ("SELECT nope FROM src", "append", "$.streams.q.sql: line 1, column 8: "),
]


def case_mode_rules(tmp):
    for sql, mode, want in RULES:
        job = write_job(tmp, {"sql": sql, "output_mode": mode})
        # validate finds every rule (exit 3): those of the syntax at
        # once, a column that is not there and a DISTINCT aggregate by
        # its trial build, which binds the query; run refuses them too.
        out, err = run(tmp, job, want_rc=3, cmd="validate")
        check(want in out + err, "validate: %s (%s): %r, want %r"
              % (sql, mode, (out + err)[-600:], want))
        binding = "line 1" in want or "Distinct" in want
        out, err = run(tmp, job, want_rc=1 if binding else 3)
        err = out + err
        check(want in err, "%s (%s): stderr %r, want %r"
              % (sql, mode, err[-600:], want))


def case_validate_positions(tmp):
    job = write_job(tmp, {"sql": "SELECT k,\n  count(*) FORM src"})
    out, err = run(tmp, job, want_rc=3, cmd="validate")
    text = out + err
    # FORM reads as count(*)'s alias: the error is at "src".
    check("$.streams.q.sql: line 2, column 17: syntax error at 'src'" in text,
          "got %r" % text)
    check("  count(*) FORM src\n                ^\n" in text,
          "caret lines missing: %r" % text)
    job = write_job(tmp, {"sql": "SELECT 1"})
    out, err = run(tmp, job, want_rc=3, cmd="validate")
    check("$.streams.q.sql: the query reads no source or stream"
          in out + err, "got %r" % (out + err))


def case_restart(tmp):
    ck = os.path.join(tmp, "ck")
    stream = {"sql": "SELECT k, count(*) AS n FROM src GROUP BY k ORDER BY k",
              "output_mode": "complete"}
    conf = {"checkpoint.path": ck}
    run(tmp, write_job(tmp, stream, BATCHES[:1], conf))
    conf["max_batches"] = 2
    out, _ = run(tmp, write_job(tmp, stream, BATCHES[:2], conf))
    check(batches_of(out)[-1] == [{"k": "a", "n": 2}, {"k": "b", "n": 2}],
          "after restart %r" % batches_of(out))
    # Another query against the same checkpoint is refused.
    stream["sql"] = "SELECT k, count(*) AS m FROM src GROUP BY k ORDER BY k"
    _, err = run(tmp, write_job(tmp, stream, BATCHES[:2], conf), want_rc=None)
    check("sql SELECT k, count(*) AS m" in err,
          "changed query not refused: %r" % err[-600:])


def case_static_tables(tmp):
    """A stream joined with static tables of "tables": a CSV with a schema
    (no header) in a LEFT join, a JSON-lines file (schema inferred) in an
    inner join; a missing file and a bad schema named by path."""
    names = os.path.join(tmp, "names.csv")
    with open(names, "w") as f:
        f.write("a,Alpha\nb,Beta\n")
    weights = os.path.join(tmp, "weights.jsonl")
    with open(weights, "w") as f:
        f.write('{"k": "a", "w": 10}\n{"k": "c", "w": 30}\n')
    tables = {"names": {"path": names, "schema": "k string, full string"},
              "weights": {"path": weights}}
    out, _ = run(tmp, write_job(tmp, {
        "sql": "SELECT s.k, n.full, s.v * w.w AS vw FROM src s "
               "LEFT JOIN names n ON s.k = n.k "
               "JOIN weights w ON s.k = w.k"}, tables=tables))
    check(batches_of(out) == [[{"k": "a", "full": "Alpha", "vw": 10},
                               {"k": "a", "full": "Alpha", "vw": 30}],
                              [],
                              [{"k": "c", "full": None, "vw": 150},
                               {"k": "a", "full": "Alpha", "vw": 10}]],
          "joined %r" % batches_of(out))
    _, err = run(tmp, write_job(tmp, {"sql": "SELECT * FROM src"}, tables={
        "gone": {"path": os.path.join(tmp, "gone.csv")}}), want_rc=1)
    check("$.tables.gone: cannot read" in err, "missing file: %r" % err)
    _, err = run(tmp, write_job(tmp, {"sql": "SELECT * FROM src"}, tables={
        "bad": {"path": names, "schema": "k strin"}}), want_rc=None,
        cmd="validate")
    check("$.tables.bad.schema:" in err + _ and "strin" in err + _,
          "bad schema: %r" % (err + _))


def iso_ms(ms):
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def case_current_timestamp(tmp):
    """current_timestamp() in a stream is each batch's time (Spark's
    batch timestamp), not one value fixed when the query was planned:
    in the select list, in WHERE, and above an aggregation."""
    out, _ = run(tmp, write_job(tmp, {
        "sql": "SELECT k, current_timestamp() AS now FROM src "
               "WHERE current_timestamp() > "
               "to_timestamp('1970-01-01 00:00:01.5')"}))
    lines = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    check(len(lines) == 3, "batches %r" % lines)
    for b in lines:
        check(all(r["now"] == iso_ms(b["time_ms"]) for r in b["records"]),
              "batch %r" % b)
    check(len({b["time_ms"] for b in lines}) == 3, "times %r" % lines)
    # the first batch's time (1 s, manual clock) is before 1.5 s
    check([len(b["records"]) for b in lines] == [0, 1, 2], "rows %r" % lines)
    out, _ = run(tmp, write_job(tmp, {
        "sql": "SELECT count(*) AS n, current_timestamp() AS at FROM src",
        "output_mode": "update"}))
    lines = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    check([b["records"] for b in lines] ==
          [[{"n": n, "at": iso_ms(b["time_ms"])}]
           for n, b in zip([3, 4, 6], lines)], "aggregate %r" % lines)


def case_watermark_clause(tmp):
    """FROM src WATERMARK ts DELAY OF INTERVAL ...: the SQL form of a
    source's watermark; an event-time aggregation in append mode emits
    each window once the watermark passes it, and drops a late row."""
    secs = [[10, 11, 12, 13, 14, 15], [], [25], [], [10], []]
    batches = [[{"k": "x", "v": 1, "ts": t} for t in b] for b in secs]
    job = {"name": "sql", "batch_interval": "1s",
           "conf": {"clock": "manual", "max_batches": len(batches)},
           "sources": {"src": {"type": "queue",
                               "schema": "k string, v long, ts timestamp",
                               "batches": batches}},
           "streams": {"q": {"sql": "SELECT window.start AS s, count(*) AS n "
                                    "FROM src WATERMARK ts DELAY OF INTERVAL "
                                    "10 SECONDS "
                                    "GROUP BY window(ts, '5 seconds')",
                             "output_mode": "append"}},
           "sinks": [{"from": "q", "type": "console", "format": "json"}]}
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    out, err = run(tmp, path, cmd="validate")
    out, err = run(tmp, path)
    check(batches_of(out) == [[], [], [], [{"s": "1970-01-01T00:00:10.000Z",
                                            "n": 5}], [], []],
          "append windows %r" % batches_of(out))
    check("0 rejected, 1 late;" in err, "late row not counted: %r" % err)


if __name__ == "__main__":
    sys.exit(run_module_cases(globals()))
