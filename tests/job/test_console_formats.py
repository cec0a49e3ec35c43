#!/usr/bin/env python3
"""The console sink's formats on rows with a schema and on plain values
(docs/job-file.md "console"): "table" prints Spark's console sink layout
(a dashes line, "Batch: N", a dashes line, then show(num): a bordered
table, cells cut to 20 characters, "only showing top N rows"); "json"
prints a row of a stream with a schema as an object of its typed columns
(timestamps as ISO-8601 text); a stream without a schema shows one column
"value" in a table.

usage: test_console_formats.py STREAMCTL SRCDIR
"""

import json
import os
import sys

from joblib import Failure, run_cases, run_streamctl

STREAMCTL = sys.argv[1]


def run_job(tmp, job):
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    rc, out, err = run_streamctl(STREAMCTL, ["run", path], tmp, 60)
    if rc != 0:
        raise Failure("exit %d: %s" % (rc, err[-2000:]))
    return out


def typed_rows(tmp):
    indir = os.path.join(tmp, "in")
    os.makedirs(indir)
    with open(os.path.join(indir, "x.csv"), "w") as f:
        f.write("a,1,2024-01-02T09:30:00Z\n" + "b" * 34 + ",2,\n")
    out = run_job(tmp, {
        "name": "t", "batch_interval": "1s", "clock": "manual",
        "max_batches": 1,
        "sources": {"s": {"type": "directory", "path": indir,
                          "include_existing": True, "format": "csv",
                          "schema": "name string, n long, ts timestamp"}},
        "sinks": [{"from": "s", "type": "console", "format": "table",
                   "name": "tab"},
                  {"from": "s", "type": "console", "format": "json"}]})
    want_table = """-------------------------------------------
Batch: 1
-------------------------------------------
+--------------------+---+-------------------+
|                name|  n|                 ts|
+--------------------+---+-------------------+
|                   a|  1|2024-01-02 09:30:00|
|bbbbbbbbbbbbbbbbb...|  2|               NULL|
+--------------------+---+-------------------+

"""
    if not out.startswith(want_table):
        raise Failure("table:\n%s\nwanted:\n%s" % (out, want_table))
    line = json.loads(out[len(want_table):].splitlines()[0])
    want = [{"name": "a", "n": 1, "ts": "2024-01-02T09:30:00.000Z"},
            {"name": "b" * 34, "n": 2, "ts": None}]
    if line["records"] != want or list(line["records"][0]) != ["name", "n",
                                                               "ts"]:
        raise Failure("json records %r, wanted %r" % (line["records"], want))


def plain_values(tmp):
    out = run_job(tmp, {
        "name": "t", "batch_interval": "1s", "clock": "manual",
        "max_batches": 1,
        "sources": {"s": {"type": "queue", "batches": [["a", 1, [1, 2]]]}},
        "sinks": [{"from": "s", "type": "console", "format": "table",
                   "num": 2}]})
    want = """-------------------------------------------
Batch: 1
-------------------------------------------
+-----+
|value|
+-----+
|    a|
|    1|
+-----+
only showing top 2 rows

"""
    if out != want:
        raise Failure("got:\n%s\nwanted:\n%s" % (out, want))


def empty_typed_batch(tmp):
    """A batch of no rows of a stream with a schema prints Spark's empty
    table (the header only), not a failure (it took no items at all)."""
    out = run_job(tmp, {
        "name": "t", "batch_interval": "1s", "clock": "manual",
        "max_batches": 2,
        "sources": {"s": {"type": "queue", "schema": "k string, n long",
                          "batches": [[{"k": "a", "n": 1}], []]}},
        "streams": {"q": {"sql": "SELECT k, n FROM s WHERE n > 0"}},
        "sinks": [{"from": "q", "type": "console", "format": "table"}]})
    want = """-------------------------------------------
Batch: 2
-------------------------------------------
+---+---+
|  k|  n|
+---+---+
+---+---+

"""
    if not out.endswith(want) or "|  a|  1|" not in out:
        raise Failure("got:\n%s\nwanted at the end:\n%s" % (out, want))


sys.exit(run_cases([("typed_rows", typed_rows),
                    ("empty_typed_batch", empty_typed_batch),
                    ("plain_values", plain_values)]))
