#!/usr/bin/env python3
"""The Kafka source against `streamctl kafka-mock` on 127.0.0.1, with
records produced by two independent clients (kcat and Python's kafka
module): a word count over several partitions equals the counts computed
here, every batch takes at most max_records_per_partition from each
partition, records as (key, value) pairs and as Spark's rows (checked
against what kcat reads back), starting positions (earliest, latest, an
explicit offset), a topic pattern that picks up a topic created while the
job runs, and validate's messages for bad source fields."""

import collections
import json
import os
import subprocess
import sys
import tempfile
import time

from kafkalib import (MockCluster, check, fail, kcat_consume, kcat_produce,
                      need, py_produce)

STREAMCTL = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="sl_kafka_src_")


def job_file(name, source, ops=None, sql=None, extra=None):
    stream = {"from": "src"}
    if sql:
        stream = {"sql": sql}
    else:
        stream["ops"] = ops or []
    job = {"name": name, "batch_interval": "200ms",
           "trigger": "available_now",
           "sources": {"src": dict({"type": "kafka"}, **source)},
           "streams": {"out": stream},
           "sinks": [{"from": "out", "type": "console", "format": "json"}]}
    job.update(extra or {})
    path = os.path.join(TMP, name + ".json")
    with open(path, "w") as f:
        json.dump(job, f, indent=1)
    return path


def run(path, *extra, timeout=60):
    prog = path + ".progress.jsonl"
    if os.path.exists(prog):
        os.unlink(prog)
    r = subprocess.run([STREAMCTL, "run", "--progress", prog] + list(extra) +
                       [path], capture_output=True, text=True,
                       timeout=timeout)
    check(r.returncode == 0, "%s: exit %d\n%s" % (path, r.returncode,
                                                   r.stderr[-3000:]))
    batches = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    with open(prog) as f:
        entries = [json.loads(l) for l in f if l.strip()]
    return batches, entries, r.stderr


def records_of(batches):
    return [rec for b in batches for rec in b["records"]]


def ranges(entry):
    """{(topic, partition): (start, end)} of a progress entry's source."""
    end = entry["sources"][0]["end"]
    out = {}
    for t, parts in end["end"].items():
        for p, e in parts.items():
            s = end.get("start", {}).get(t, {}).get(p, e)
            out[(t, int(p))] = (s, e)
    return out


def wordcount(mc):
    kcat_lines = ["k%d:the quick fox %d" % (i % 7, i % 5) for i in range(300)]
    kcat_produce(mc.bootstrap, "words", kcat_lines, key_sep=":")
    py_records = [(("p%d" % (i % 4)).encode(), ("lazy dog %d" % (i % 3))
                   .encode()) for i in range(200)]
    py_produce(mc.bootstrap, "words", py_records)
    expect = collections.Counter()
    for l in kcat_lines:
        expect.update(l.split(":", 1)[1].split())
    for _, v in py_records:
        expect.update(v.decode().split())

    path = job_file("wc", {"topics": ["words"], "starting_offsets": "earliest",
                           "max_records_per_partition": 25,
                           "kafka": {"bootstrap.servers": mc.bootstrap}},
                    [{"op": "flat_map", "fn": "split_words"},
                     {"op": "map", "fn": "pair_one"},
                     {"op": "reduce_by_key", "fn": "sum"}])
    batches, entries, _ = run(path)
    got = collections.Counter()
    for w, n in records_of(batches):
        got[w] += n
    check(got == expect, "word counts differ:\n got %r\nwant %r" %
          (sorted(got.items()), sorted(expect.items())))
    check(sum(e["input_rows"] for e in entries) == 500,
          "input rows %r" % [e["input_rows"] for e in entries])
    seen = collections.defaultdict(list)
    for e in entries:
        if e["input_rows"] == 0:
            continue
        for key, (s, end) in ranges(e).items():
            check(0 <= end - s <= 25, "batch %d %r: %d records, over 25" %
                  (e["batch"], key, end - s))
            seen[key].append((s, end))
    check(len(seen) == 3, "partitions read %r" % sorted(seen))
    for key, rs in seen.items():  # contiguous, from 0, to the end
        check(rs[0][0] == 0 and all(rs[i][1] == rs[i + 1][0]
                                    for i in range(len(rs) - 1)),
              "%r ranges not contiguous: %r" % (key, rs))
    ends = {int(l.split("\t")[0]): 0 for l in kcat_consume(mc.bootstrap,
                                                           "words")}
    for l in kcat_consume(mc.bootstrap, "words"):
        ends[int(l.split("\t")[0])] += 1
    for (t, p), rs in seen.items():
        check(rs[-1][1] == ends[p], "%s[%d] ended at %d of %d" %
              (t, p, rs[-1][1], ends[p]))
    print("ok   wordcount: 500 records from kcat and python3-kafka, %d "
          "batches of at most 25 per partition" %
          sum(1 for e in entries if e["input_rows"]))

    # the same records as (key, value) pairs: counts per key
    path = job_file("pairs", {"topics": ["words"], "records": "pairs",
                              "starting_offsets": "earliest",
                              "kafka": {"bootstrap.servers": mc.bootstrap}},
                    [{"op": "map", "fn": "key"},
                     {"op": "map", "fn": "pair_one"},
                     {"op": "reduce_by_key", "fn": "sum"}])
    batches, _, _ = run(path)
    got = collections.Counter()
    for k, n in records_of(batches):
        got[k] += n
    want = collections.Counter(["k%d" % (i % 7) for i in range(300)] +
                               ["p%d" % (i % 4) for i in range(200)])
    check(got == want, "keys %r, want %r" % (got, want))
    print("ok   pairs")


def rows(mc):
    kcat_produce(mc.bootstrap, "rows", ["a:1", "b:2", "c:3", "d:4"],
                 key_sep=":")
    path = job_file("rows", {"topics": ["rows"], "records": "rows",
                             "starting_offsets": "earliest",
                             "kafka": {"bootstrap.servers": mc.bootstrap}},
                    sql="SELECT topic, partition, offset, "
                        "CAST(key AS STRING) AS k, CAST(value AS STRING) "
                        "AS v, timestamp IS NOT NULL AS has_ts FROM src")
    batches, _, _ = run(path)
    got = sorted("%d\t%d\t%s\t%s" % (r["partition"], r["offset"], r["k"],
                                     r["v"])
                 for r in records_of(batches))
    want = kcat_consume(mc.bootstrap, "rows")
    check(got == want, "rows %r, kcat %r" % (got, want))
    check(all(r["topic"] == "rows" and r["has_ts"]
              for r in records_of(batches)), "topic/timestamp columns")
    print("ok   rows: Spark's columns match kcat's view")


def structured(mc):
    """format json with a schema into SQL; a malformed value dead-lettered."""
    events = [json.dumps({"user": "u%d" % (i % 3), "amount": i * 0.5})
              for i in range(30)]
    kcat_produce(mc.bootstrap, "events", events[:15] + ["not json"] +
                 events[15:])
    dead = os.path.join(TMP, "events.dead.jsonl")
    path = job_file("events", {"topics": ["events"], "format": "json",
                               "schema": "user string, amount double",
                               "parse_mode": "drop_malformed",
                               "dead_letter": dead,
                               "starting_offsets": "earliest",
                               "kafka": {"bootstrap.servers": mc.bootstrap}},
                    sql="SELECT user, sum(amount) AS total, count(*) AS n "
                        "FROM src GROUP BY user",
                    extra={"streams": {"out": {
                        "sql": "SELECT user, sum(amount) AS total, count(*) "
                               "AS n FROM src GROUP BY user",
                        "output_mode": "complete"}}})
    batches, entries, _ = run(path)
    last = [b for b in batches if b["records"]][-1]["records"]
    got = {r["user"]: (r["total"], r["n"]) for r in last}
    want = {}
    for i in range(30):
        t, n = want.get("u%d" % (i % 3), (0.0, 0))
        want["u%d" % (i % 3)] = (t + i * 0.5, n + 1)
    check(got == want, "totals %r, want %r" % (got, want))
    check(sum(s["malformed"] for e in entries for s in e["sources"]) == 1,
          "malformed in progress %r" % [e["sources"] for e in entries])
    with open(dead) as f:
        letters = [json.loads(l) for l in f]
    check(len(letters) == 1 and letters[0]["reason"] == "malformed" and
          letters[0]["text"] == "not json" and
          letters[0]["origin"] == {"source": "src"} and
          "events[" in letters[0]["file"],
          "dead letters %r" % letters)
    print("ok   structured: json + schema into SQL, 1 malformed "
          "dead-lettered")


def starting(mc):
    # "words" holds 500 records from wordcount()
    total = len(kcat_consume(mc.bootstrap, "words"))
    p0 = sum(1 for l in kcat_consume(mc.bootstrap, "words")
             if l.startswith("0\t"))
    check(p0 > 5, "partition 0 holds %d" % p0)
    count = [{"op": "map", "fn": "pair_one"},
             {"op": "map", "fn": "value"}, {"op": "reduce", "fn": "sum"}]
    cases = [("latest", 0), ({"words": {"0": 5}}, total - 5),
             ({"words": {"0": -1}}, total - p0), ("earliest", total)]
    for start, want in cases:
        path = job_file("start", {"topics": ["words"],
                                  "starting_offsets": start,
                                  "kafka": {"bootstrap.servers":
                                            mc.bootstrap}}, count)
        batches, entries, _ = run(path)
        got = sum(e["input_rows"] for e in entries)
        check(got == want, "starting_offsets %r: %d rows, want %d" %
              (start, got, want))
    print("ok   starting offsets: latest, explicit, -1, earliest")


def pattern(mc):
    kcat_produce(mc.bootstrap, "ev-a", ["a%d" % i for i in range(10)])
    path = job_file("pat", {"pattern": "ev-.*", "starting_offsets": "earliest",
                            "kafka": {"bootstrap.servers": mc.bootstrap,
                                      "topic.metadata.refresh.interval.ms":
                                      500}},
                    [{"op": "map", "fn": "pair_one"}],
                    extra={"trigger": None, "max_batches": 40})
    with open(path) as f:
        job = json.load(f)
    del job["trigger"]
    with open(path, "w") as f:
        json.dump(job, f)
    prog = path + ".progress.jsonl"
    p = subprocess.Popen([STREAMCTL, "run", "--progress", prog, path],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        time.sleep(2)
        check(mc.command("topic ev-b 2").startswith("ok"), "topic ev-b")
        kcat_produce(mc.bootstrap, "ev-b", ["b%d" % i for i in range(7)])
        kcat_produce(mc.bootstrap, "other", ["x"])  # not matched
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(p.returncode == 0, "pattern job: %d %s" % (p.returncode, err[-2000:]))
    got = sorted(r[0] for l in out.splitlines() if l.strip()
                 for r in json.loads(l)["records"])
    want = sorted(["a%d" % i for i in range(10)] + ["b%d" % i for i in range(7)])
    check(got == want, "pattern read %r, want %r" % (got, want))
    print("ok   pattern: ev-b, created while running, was read")


def status_lag(mc):
    """streamctl status NAME shows the consumer lag per partition."""
    run_dir = os.path.join(TMP, "run")
    env = dict(os.environ, XDG_STATE_HOME=os.path.join(TMP, "state"))
    path = job_file("lag", {"topics": ["words"], "starting_offsets": "earliest",
                            "max_records_per_partition": 10,
                            "kafka": {"bootstrap.servers": mc.bootstrap}},
                    [], extra={"batch_interval": "500ms"})
    with open(path) as f:
        job = json.load(f)
    del job["trigger"]
    with open(path, "w") as f:
        json.dump(job, f)

    def sc(*args):
        return subprocess.run([STREAMCTL, "--run-dir", run_dir] +
                              list(args), capture_output=True, text=True,
                              timeout=60, env=env)
    r = sc("start", path, "--wait", "20s")
    check(r.returncode == 0, "start: %r" % r.stderr)
    try:
        line = None
        for _ in range(50):
            out = sc("status", "lag").stdout
            m = [l for l in out.splitlines() if l.startswith("  source src:")]
            if m and "words[0]" in m[0]:
                line = m[0]
                break
            time.sleep(0.2)
        check(line, "no per-partition lag in status: %r" % out)
        total = int(line.split("lag ")[1].split()[0])
        parts = [int(x.split()[-1]) for x in
                 line.split("(", 1)[1].rstrip(")").split(", ")]
        check(len(parts) == 3 and sum(parts) == total and total > 0,
              "status lag line %r" % line)
        st = json.loads(sc("status", "lag", "--format", "json").stdout)
        check(st["sources"][0]["lag"] == total or
              st["sources"][0]["lag"] < total, "json lag %r" % st["sources"])
    finally:
        sc("stop", "lag", "--now")
    print("ok   status: %s" % line.strip())


def validate():
    cases = [
        ({"topics": ["t"], "pattern": "t.*"}, "$.sources.src.pattern",
         "exclude each other"),
        ({}, "$.sources.src", "needs \"topics\""),
        ({"topics": ["t"], "starting_offsets": "first"},
         "$.sources.src.starting_offsets", "want \"earliest\""),
        ({"topics": ["t"], "starting_offsets": {"t": {"x": 1}}},
         "$.sources.src.starting_offsets.t.x", "partition number"),
        ({"topics": "t"}, "$.sources.src.topics", "array"),
        ({"topics": ["t"], "max_records_per_partition": -1},
         "$.sources.src.max_records_per_partition", ""),
        ({"topics": ["t"], "records": "bytes"}, "$.sources.src.records", ""),
    ]
    for source, where, what in cases:
        source = dict(source)
        source.setdefault("kafka", {"bootstrap.servers": "127.0.0.1:9"})
        path = job_file("bad", source, [])
        r = subprocess.run([STREAMCTL, "validate", "--no-env", path],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 3 and where + ":" in r.stderr and
              what in r.stderr, "%r: %d %r" % (source, r.returncode,
                                               r.stderr))
    path = job_file("badprop", {"topics": ["t"], "kafka": {
        "bootstrap.servers": "127.0.0.1:9", "no.such.property": "1"}}, [])
    r = subprocess.run([STREAMCTL, "run", path], capture_output=True,
                       text=True, timeout=30)
    check(r.returncode != 0 and "kafka.no.such.property" in r.stderr,
          "unknown librdkafka property: %d %r" % (r.returncode, r.stderr))
    print("ok   validate")


def main():
    need("kcat")
    try:
        import kafka  # noqa: F401
    except ImportError:
        print("SKIP: python3-kafka is not installed")
        sys.exit(77)
    with MockCluster(STREAMCTL, topics=["words:3", "rows:1", "events:2", "ev-a:1",
                                        "other:1"]) as mc:
        wordcount(mc)
        rows(mc)
        structured(mc)
        starting(mc)
        pattern(mc)
        status_lag(mc)
    validate()


main()
