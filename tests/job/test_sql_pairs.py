#!/usr/bin/env python3
"""DStream pairs and tuples read by SQL streams in job files (issue 12):
a word count of `ops` (pair_one, reduce_by_key sum) read as `key, value`
rows, with its default schema (value long: the job knows the counts are
integers) and with a "schema" of its own; a queue of pairs whose values
the job cannot type (string columns of their JSON text); a queue of
arrays read by position through a stream's "schema", names given or
types only; and the problems of a bad "schema". Exact outputs under the
manual clock (console json).

Usage: test_sql_pairs.py STREAMCTL SOURCE_ROOT
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from joblib import Failure, run_cases, run_streamctl  # noqa: E402

STREAMCTL = None

LINES = [["a b a", "c"], ["b b", "a"], ["c"]]
WORDCOUNT = {"from": "lines",
             "ops": [{"op": "flat_map", "fn": "split_words"},
                     {"op": "map", "fn": "pair_one"},
                     {"op": "reduce_by_key", "fn": "sum"}]}
QUERY = "SELECT key AS word, value AS n FROM counts WHERE value > 1"


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def write_job(tmp, sources, streams, out):
    job = {"name": "pairs", "batch_interval": "1s",
           "conf": {"clock": "manual", "max_batches": 3},
           "sources": sources, "streams": streams,
           "sinks": [{"from": out, "type": "console", "format": "json"}]}
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    return path


def queue(batches):
    return {"type": "queue", "batches": batches}


def run(tmp, job, want_rc=0, cmd="run"):
    rc, out, err = run_streamctl(STREAMCTL, [cmd, job], tmp, 60)
    check(rc == want_rc, "exit %d, want %d; stdout %r stderr %r"
          % (rc, want_rc, out[-400:], err[-800:]))
    return out, err


def batches_of(out):
    return [sorted(json.loads(line)["records"], key=json.dumps)
            for line in out.splitlines() if line.startswith("{")]


def wordcount(tmp, schema=None):
    counts = dict(WORDCOUNT)
    if schema:
        counts["schema"] = schema
    job = write_job(tmp, {"lines": queue(LINES)},
                    {"counts": counts, "q": {"sql": QUERY}}, "q")
    out, _ = run(tmp, job)
    return batches_of(out)


def case_wordcount_default(tmp):
    # pair_one gives integers and sum keeps them: value is a long.
    got = wordcount(tmp)
    check(got == [[{"word": "a", "n": 2}], [{"word": "b", "n": 2}], []],
          "batches %r" % got)


def case_wordcount_schema(tmp):
    # Integers in a double column read as doubles.
    got = wordcount(tmp, "key string, value double")
    check(got == [[{"word": "a", "n": 2.0}], [{"word": "b", "n": 2.0}], []]
          and all(isinstance(r["n"], float) for b in got for r in b),
          "batches %r" % got)
    # Types only: a pair's columns are key and value.
    got = wordcount(tmp, "string, long")
    check(got == [[{"word": "a", "n": 2}], [{"word": "b", "n": 2}], []],
          "types only: batches %r" % got)
    job = write_job(tmp, {"lines": queue(LINES)},
                    {"counts": dict(WORDCOUNT, schema="w string, c long"),
                     "q": {"sql": "SELECT upper(w) AS W, c * 10 AS n "
                                  "FROM counts WHERE c > 1"}}, "q")
    out, _ = run(tmp, job)
    check(batches_of(out) == [[{"W": "A", "n": 20}], [{"W": "B", "n": 20}],
                              []], "batches %r" % batches_of(out))


def case_pairs_untyped(tmp):
    # Values the job cannot type: string columns of their JSON text.
    job = write_job(tmp, {"p": queue([[["a", 1.5], ["b", "x"]],
                                      [[3, [1, 2]]], []])},
                    {"q": {"sql": "SELECT key, value, value * 2 AS d "
                                  "FROM p"}}, "q")
    out, _ = run(tmp, job)
    check(batches_of(out) == [
        [{"key": "a", "value": "1.5", "d": 3.0},
         {"key": "b", "value": "x", "d": None}],
        [{"key": "3", "value": "[1,2]", "d": None}], []],
        "batches %r" % batches_of(out))


def case_defaults(tmp):
    """count_by_value counts (long); swap makes pairs of unknown values
    (strings); two SQL streams share one input's view."""
    streams = {"words": {"from": "lines",
                         "ops": [{"op": "flat_map", "fn": "split_words"}]},
               "cv": {"from": "words", "ops": [{"op": "count_by_value"}]},
               "sw": {"from": "cv", "ops": [{"op": "map", "fn": "swap"}]},
               "q": {"sql": "SELECT key, value + 1 AS v FROM cv "
                            "WHERE key = 'a'"},
               "q2": {"sql": "SELECT value AS w FROM cv WHERE value > 1"},
               "q3": {"sql": "SELECT key AS n, value AS w FROM sw "
                             "WHERE value = 'a'"}}
    path = write_job(tmp, {"lines": queue(LINES)}, streams, "q")
    with open(path) as f:
        job = json.load(f)
    job["sinks"] += [{"from": "q2", "type": "console", "format": "json"},
                     {"from": "q3", "type": "console", "format": "json"}]
    with open(path, "w") as f:
        json.dump(job, f)
    out, _ = run(tmp, path)
    by = {}
    for line in out.splitlines():
        if line.startswith("{"):
            o = json.loads(line)
            by.setdefault(o["stream"], []).append(o["records"])
    check(by.get("q") == [[{"key": "a", "v": 3}], [{"key": "a", "v": 2}], []],
          "q %r" % by.get("q"))
    check(by.get("q2") == [[{"w": 2}], [{"w": 2}], []], "q2 %r" % by.get("q2"))
    check(by.get("q3") == [[{"n": "2", "w": "a"}], [{"n": "1", "w": "a"}],
                           []], "q3 %r" % by.get("q3"))


def case_tuples(tmp):
    batches = [[["x", 1, 2.5], ["y", 2, 0.5]], [["z", 3, 1]]]
    for schema in ["name string, n long, w double", "string, long, double"]:
        job = write_job(tmp, {"t": queue(batches)},
                        {"rows": {"from": "t", "schema": schema},
                         "q": {"sql": "SELECT * FROM rows"}}, "q")
        out, _ = run(tmp, job)
        got = [[list(r.values()) for r in b] for b in batches_of(out)]
        names = [list(r.keys()) for b in batches_of(out) for r in b]
        # 1 reads as an integer: a double column takes it as 1.0.
        check(got == [[["x", 1, 2.5], ["y", 2, 0.5]], [["z", 3, 1.0]], []],
              "%s: batches %r" % (schema, got))
        want = (["name", "n", "w"] if schema.startswith("name")
                else ["_1", "_2", "_3"])
        check(all(n == want for n in names), "%s: names %r" % (schema, names))
    # Without a schema: one value column, the record's JSON text.
    job = write_job(tmp, {"t": queue(batches)},
                    {"q": {"sql": "SELECT value FROM t"}}, "q")
    out, _ = run(tmp, job)
    check(batches_of(out)[1] == [{"value": "[\"z\",3,1]"}],
          "untyped %r" % batches_of(out))


def case_bad_schema(tmp):
    cases = [
        ({"counts": dict(WORDCOUNT, schema="key strin"),
          "q": {"sql": QUERY}}, "$.streams.counts.schema: "),
        ({"counts": dict(WORDCOUNT, schema=7), "q": {"sql": QUERY}},
         "$.streams.counts.schema: expected a string"),
        ({"counts": WORDCOUNT, "q": {"sql": QUERY, "schema": "a long"}},
         "$.streams.q: \"schema\" belongs to a stream of \"ops\""),
        ({"counts": dict(WORDCOUNT, schema="key string, value long"),
          "q": {"sql": "SELECT word FROM counts"}},
         "cannot resolve 'word' given input columns: [counts.key, "
         "counts.value]"),
    ]
    for streams, want in cases:
        job = write_job(tmp, {"lines": queue(LINES)}, streams, "q")
        out, err = run(tmp, job, want_rc=3, cmd="validate")
        check(want in out + err, "validate: want %r in %r"
              % (want, (out + err)[-600:]))
    # The problem names the DDL's trouble as a source's schema does.
    job = write_job(tmp, {"lines": queue(LINES)},
                    {"counts": dict(WORDCOUNT, schema="key strin"),
                     "q": {"sql": QUERY}}, "q")
    out, err = run(tmp, job, want_rc=3, cmd="validate")
    src = write_job(tmp, {"lines": dict(queue(LINES), schema="key strin")},
                    {"q": {"sql": "SELECT * FROM lines"}}, "q")
    out2, err2 = run(tmp, src, want_rc=3, cmd="validate")
    line = [x for x in (out + err).splitlines() if ".schema:" in x]
    line2 = [x for x in (out2 + err2).splitlines() if ".schema:" in x]
    check(line and line2 and line[0].split("schema:", 1)[1]
          == line2[0].split("schema:", 1)[1], "%r vs %r" % (line, line2))


def main():
    global STREAMCTL
    STREAMCTL = sys.argv[1]
    cases = [(n[5:], f) for n, f in sorted(globals().items())
             if n.startswith("case_")]
    return run_cases(cases)


if __name__ == "__main__":
    sys.exit(main())
