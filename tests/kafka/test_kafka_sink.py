#!/usr/bin/env python3
"""The Kafka sink (docs/job-file.md "kafka", docs/programming-guide.md
"Kafka sink"): a job writes known records of queue sources to topics of
streamctl kafka-mock; kcat (-J, headers) and Python's kafka module read
them back, and both must give exactly the expected keys, values and the
four headers sluice.job, sluice.sink, sluice.batch, sluice.seq: pairs as
key and value, plain values as the value, rows by their key and value
columns (also from a SQL stream), rows without a value column as JSON."""

import os
import sys
import tempfile

from kafkalib import MockCluster, check, need
from test_kafka_sink_common import (kcat_records, py_records, run_job,
                                    write_job)

STREAMCTL = sys.argv[1]


def job_of(bs):
    kafka = {"bootstrap.servers": bs, "message.timeout.ms": 2000}
    return {
        "name": "mapjob", "batch_interval": "1s", "clock": "manual",
        "max_batches": 2,
        "sources": {
            "pairs": {"type": "queue", "partitions": 2, "batches": [
                [["a", 1], ["b", "x y"], [None, 2.5],
                 [["n", 1], [True, None]]],
                [["c", 3]]]},
            "plain": {"type": "queue", "batches": [
                ["text", 7, 1.5, True, None, [1, 2, 3]], ["\u00e9"]]},
            "kv": {"type": "queue", "schema": "key string, value long",
                   "batches": [[{"key": "a", "value": 1},
                                {"key": None, "value": 2},
                                {"value": 3, "key": "c"}]]},
            "rows": {"type": "queue",
                     "schema": "name string, n long, ts timestamp",
                     "batches": [[{"name": "a", "n": 1,
                                   "ts": "2024-01-02T09:30:00Z"},
                                  {"name": "b", "n": None, "ts": None}]]}},
        "streams": {
            "upper": {"sql": "SELECT upper(name) AS key, n * 10 AS value, "
                             "ts FROM rows"}},
        "sinks": [
            {"from": "pairs", "type": "kafka", "topic": "pairs",
             "kafka": kafka},
            {"from": "plain", "type": "kafka", "topic": "plain",
             "kafka": kafka},
            {"from": "kv", "type": "kafka", "topic": "kv", "kafka": kafka},
            {"from": "rows", "type": "kafka", "topic": "rows",
             "name": "rowsink", "kafka": dict(kafka, **{"linger.ms": 5})},
            {"from": "upper", "type": "kafka", "topic": "upper",
             "kafka": kafka}]}


# (topic, sink name, [(batch, seq, key, value)]): what each topic must hold
EXPECTED = [
    ("pairs", "pairs.kafka", [
        (1, 0, "a", "1"), (1, 1, "b", "x y"), (1, 2, None, "2.5"),
        (1, 3, '["n",1]', "[true,null]"), (2, 0, "c", "3")]),
    ("plain", "plain.kafka", [
        (1, 0, None, "text"), (1, 1, None, "7"), (1, 2, None, "1.5"),
        (1, 3, None, "true"), (1, 4, None, None), (1, 5, None, "[1,2,3]"),
        (2, 0, None, "\u00e9")]),
    ("kv", "kv.kafka", [
        (1, 0, "a", "1"), (1, 1, None, "2"), (1, 2, "c", "3")]),
    ("rows", "rowsink", [
        (1, 0, None, '{"name":"a","n":1,"ts":"2024-01-02T09:30:00.000Z"}'),
        (1, 1, None, '{"name":"b","n":null,"ts":null}')]),
    ("upper", "upper.kafka", [
        (1, 0, "A", "10"), (1, 1, "B", None)]),
]


def as_tuples(recs, who):
    out = []
    for r in recs:
        h = r["headers"]
        check(sorted(h) == ["sluice.batch", "sluice.job", "sluice.seq",
                            "sluice.sink"], "%s: headers %r" % (who, h))
        check(h["sluice.job"] == "mapjob", "%s: job header %r" % (who, h))
        out.append((h["sluice.sink"], int(h["sluice.batch"]),
                    int(h["sluice.seq"]), r["key"], r["value"]))
    return sorted(out, key=lambda t: (t[1], t[2]))


def main():
    need("kcat")
    tmp = tempfile.mkdtemp(prefix="ksink-")
    with MockCluster(STREAMCTL, topics=["pairs:2", "plain:1", "kv:3",
                                        "rows:1", "upper:1"]) as mc:
        path = os.path.join(tmp, "job.json")
        write_job(path, job_of(mc.bootstrap))
        rc, out, err = run_job(STREAMCTL, path)
        check(rc == 0, "streamctl run: %d %s" % (rc, err))
        for topic, sink, want in EXPECTED:
            want = [(sink,) + w for w in want]
            got = as_tuples(kcat_records(mc.bootstrap, topic), "kcat")
            check(got == want, "kcat, topic %s:\n got %r\nwant %r"
                  % (topic, got, want))
            got = as_tuples(py_records(mc.bootstrap, topic, len(want)),
                            "python")
            check(got == want, "python, topic %s:\n got %r\nwant %r"
                  % (topic, got, want))
            print("topic %s: %d records as expected (kcat and python)"
                  % (topic, len(want)))
        # keyed records of one key land in one partition (the default
        # partitioner hashes the key)
        parts = {}
        for r in kcat_records(mc.bootstrap, "kv"):
            if r["key"] is not None:
                parts.setdefault(r["key"], set()).add(r["partition"])
        check(all(len(p) == 1 for p in parts.values()), repr(parts))
    print("ok")


if __name__ == "__main__":
    main()
