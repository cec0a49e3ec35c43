#!/usr/bin/env python3
"""reject_when on SQL streams (issue 12): input rows the expression holds
for never reach the query; each is counted (the run's last stderr line)
and, with the job's dead-letter file, written there with reason
"rejected", origin {"stream": NAME, "op": 0} and the row as a typed JSON
object. NULL and false pass. A stateless query and a running aggregation
both see only the rows kept. `streamctl validate` reports reject_when's
errors with their JSON path: syntax (line, column, caret), aggregates,
unknown columns and a non-boolean type (the last two found by the trial
build, which must create no file); reject_when on an ops stream is refused.

Usage: test_sql_reject.py STREAMCTL SOURCE_ROOT
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from joblib import Failure, run_module_cases, run_streamctl  # noqa: E402

STREAMCTL = None

SCHEMA = "id long, px double, sym string, ts timestamp"
BATCHES = [[{"id": 1, "px": 10.5, "sym": "a", "ts": "2024-01-02T09:30:00.123Z"},
            {"id": 2, "px": -1.0, "sym": "b", "ts": "2024-01-02T09:30:01Z"},
            {"id": 3, "px": None, "sym": "a", "ts": None}],
           [],
           [{"id": 4, "px": 99.25, "sym": "b", "ts": "2024-01-02T09:31:00Z"},
            {"id": 5, "px": -3.5, "sym": "a", "ts": "2024-01-02T09:32:00Z"}]]


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def write_job(tmp, streams, dead=True, name="rj"):
    job = {"name": name, "batch_interval": "1s",
           "conf": {"clock": "manual", "max_batches": len(BATCHES)},
           "sources": {"src": {"type": "queue", "schema": SCHEMA,
                               "batches": BATCHES}},
           "streams": streams,
           "sinks": [{"from": s, "type": "console", "format": "json"}
                     for s in streams if "sql" in streams[s]]}
    if dead:
        job["dead_letter"] = os.path.join(tmp, "dead.jsonl")
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    return path


def outputs(out):
    """stream -> its batches' records, in batch order."""
    got = {}
    for line in out.splitlines():
        if line.startswith("{"):
            o = json.loads(line)
            got.setdefault(o["stream"], []).append(o["records"])
    return got


def run(tmp, job, want_rc=0, cmd="run"):
    rc, out, err = run_streamctl(STREAMCTL, [cmd, job], tmp, 60)
    check(rc == want_rc, "exit %d, want %d; stdout %r stderr %r"
          % (rc, want_rc, out[-400:], err[-800:]))
    return out, err


def counts_line(rejected, written, name="rj"):
    return ('streamctl: job "%s": bad records: 0 skipped, 0 dead-lettered, '
            '%d rejected, 0 late; dead letters: %d written, 0 failed, 0 dropped'
            % (name, rejected, written))


def dead_letters(tmp):
    with open(os.path.join(tmp, "dead.jsonl")) as f:
        return [json.loads(line) for line in f]


def case_stateless_and_aggregate(tmp):
    job = write_job(tmp, {
        "neg": {"sql": "SELECT id, sym FROM src", "reject_when": "px < 0"},
        "per": {"sql": "SELECT sym, count(*) AS n, sum(px) AS total "
                       "FROM src GROUP BY sym ORDER BY sym",
                "output_mode": "complete",
                "reject_when": "px IS NULL OR sym = 'b'"}})
    out, err = run(tmp, job)
    got = outputs(out)
    # px NULL: "px < 0" is NULL, so row 3 passes.
    check(got["neg"] == [[{"id": 1, "sym": "a"}, {"id": 3, "sym": "a"}], [],
                         [{"id": 4, "sym": "b"}]], "neg: %r" % got["neg"])
    check(got["per"][-1] == [{"sym": "a", "n": 2, "total": 7.0}],
          "per: %r" % got["per"])
    check(counts_line(5, 5) in err, "counts line missing: %r" % err[-600:])
    dead = dead_letters(tmp)
    check(len(dead) == 5, "dead letters: %r" % dead)
    by = {(d["origin"]["stream"], d["value"]["id"]): d for d in dead}
    check(sorted(by) == [("neg", 2), ("neg", 5), ("per", 2), ("per", 3),
                         ("per", 4)], "origins %r" % sorted(by))
    d = by[("neg", 2)]
    check(d["reason"] == "rejected" and d["origin"] == {"stream": "neg",
                                                       "op": 0} and
          d["error"] == "reject_when: px < 0" and d["batch"] == 1 and
          d["value"] == {"id": 2, "px": -1.0, "sym": "b",
                         "ts": "2024-01-02T09:30:01.000Z"},
          "dead letter %r" % d)
    check(by[("per", 3)]["value"]["ts"] is None and
          by[("per", 4)]["batch"] == 3, "dead letters %r" % dead)


def case_no_dead_letter_file(tmp):
    job = write_job(tmp, {"all": {"sql": "SELECT id FROM src",
                                  "reject_when": "id >= 4"}}, dead=False)
    out, err = run(tmp, job)
    check(outputs(out)["all"] == [[{"id": 1}, {"id": 2}, {"id": 3}], [], []],
          "kept %r" % outputs(out))
    check(counts_line(2, 0) in err, "counts line: %r" % err[-600:])
    check(not os.path.exists(os.path.join(tmp, "dead.jsonl")),
          "a dead-letter file without dead_letter")


def case_none_rejected(tmp):
    job = write_job(tmp, {"all": {"sql": "SELECT id FROM src",
                                  "reject_when": "sym = 'zzz'"}})
    out, err = run(tmp, job)
    check([r["id"] for b in outputs(out)["all"] for r in b] == [1, 2, 3, 4, 5],
          "kept %r" % outputs(out))
    check("bad records" not in err, "a counts line with nothing set aside")


def validate_error(tmp, reject_when, want, stream=None):
    streams = {"q": stream or {"sql": "SELECT id FROM src",
                               "reject_when": reject_when}}
    job = write_job(tmp, streams)
    out, err = run(tmp, job, want_rc=3, cmd="validate")
    check(want in out + err, "want %r, got %r" % (want, out + err))
    check(not os.path.exists(os.path.join(tmp, "dead.jsonl")),
          "validate created the dead-letter file")


def case_validate(tmp):
    validate_error(tmp, "px >\n  AND 1",
                   "$.streams.q.reject_when: line 2, column 3: syntax error "
                   "at 'AND'")
    validate_error(tmp, "px >\n  AND 1", "  AND 1\n  ^\n")
    validate_error(tmp, "count(*) > 2", "$.streams.q.reject_when: aggregate "
                   "functions are not allowed in reject_when")
    validate_error(tmp, "px + 1", "$.streams.q.reject_when: reject_when must "
                   "be a boolean expression, not double")
    validate_error(tmp, "sym = 'a' AND nope > 1",
                   "$.streams.q.reject_when: line 1, column 15: cannot "
                   "resolve 'nope' given input columns: [src.id, src.px, "
                   "src.sym, src.ts]")
    validate_error(tmp, None, "$.streams.q: \"reject_when\" belongs to a "
                   "\"sql\" stream", {"from": "src", "reject_when": "id > 1"})
    validate_error(tmp, 7, "$.streams.q.reject_when:")
    # A query's own binding errors are found by validate too.
    validate_error(tmp, None, "$.streams.q.sql: line 1, column 8: cannot "
                   "resolve 'idd'", {"sql": "SELECT idd FROM src"})
    out, _ = run(tmp, write_job(tmp, {"q": {"sql": "SELECT id FROM src",
                                           "reject_when": "px < 0"}}),
                 cmd="validate")
    check("valid" in out, "a good reject_when: %r" % out)
    check(not os.path.exists(os.path.join(tmp, "dead.jsonl")),
          "validate created the dead-letter file")


if __name__ == "__main__":
    sys.exit(run_module_cases(globals()))
