#!/usr/bin/env python3
"""The Kafka sink's throughput on `streamctl kafka-mock` (librdkafka's mock
cluster: in-process, in memory, on 127.0.0.1; it bounds the absolute
figures, which say more about the mock than about a real broker).

RECORDS pairs ("k<i>", <VALUE_BYTES bytes of text>) are written to a topic
of PARTITIONS partitions:
- sluice: `streamctl run` of a job (queue source holding the pairs in
  BATCHES batches, manual clock, available_now) whose Kafka sink produces
  them (idempotent producer, the four sluice.* headers, every record
  acknowledged before its batch commits);
- baseline: `kcat -P -K '\\t'` producing the same keys and values from a
  file with idempotence on too, and the four headers with values of the
  same sizes (`-H`: kcat's headers are the same on every record).
Alternating, --repeat times each, in the same run and on the same mock;
whole-process wall time (the job's includes its start and the queue's
parsing of the job file), and the job's sink phase alone (the progress
entries' duration_ms.sinks summed over the batches). Every output topic is read back (kcat) and its
records compared with the input (keys and values, as multisets). Keep
each partition's log under the mock's 5 MiB (it drops the oldest records
beyond that): with the four headers a sluice record is ~130 bytes in the
log, so the defaults put 25,000 (~3.3 MB) in each of 8 partitions.

Not a ctest test: run it by hand (docs/performance.md, "Kafka sink"):

  python3 tools/bench/kafka_sink_bench.py --build-dir build --repeat 3
"""
import argparse
import collections
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "kafka"))
from kafkalib import MockCluster  # noqa: E402


def records(n, value_bytes):
    """The pairs: key k<i>, value the index padded with letters."""
    pad = "abcdefghijklmnopqrstuvwxyz" * (value_bytes // 26 + 1)
    return [("k%d" % i, ("%d-" % i + pad)[:value_bytes]) for i in range(n)]


def read_back(bootstrap, topic):
    r = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-e",
                        "-q", "-f", "%k\t%s\n"], capture_output=True,
                       text=True, timeout=300)
    if r.returncode:
        sys.exit("kcat -C: " + r.stderr[-2000:])
    return collections.Counter(tuple(l.split("\t", 1))
                               for l in r.stdout.splitlines())


def sluice_run(a, tmp, bootstrap, topic, recs):
    per = (len(recs) + a.batches - 1) // a.batches
    job = {"name": "kafka-sink-bench", "batch_interval": "1s",
           "clock": "manual", "trigger": "available_now",
           "conf": {"log.level": "warn"},
           "sources": {"pairs": {"type": "queue", "partitions": 2,
                                 "batches": [[list(r) for r in
                                              recs[i:i + per]]
                                             for i in range(0, len(recs),
                                                            per)]}},
           "sinks": [{"from": "pairs", "type": "kafka", "topic": topic,
                      "kafka": {"bootstrap.servers": bootstrap,
                                "linger.ms": 5}}]}
    path = os.path.join(tmp, "sink-bench.json")
    with open(path, "w") as f:
        json.dump(job, f)
    prog = os.path.join(tmp, "sink-bench.progress.jsonl")
    if os.path.exists(prog):
        os.unlink(prog)
    t0 = time.monotonic()
    r = subprocess.run([a.streamctl, "run", "--progress", prog, path],
                       capture_output=True, text=True, timeout=600)
    dt = time.monotonic() - t0
    if r.returncode:
        sys.exit("sluice run failed: " + r.stderr[-2000:])
    with open(prog) as f:
        sinks = sum(json.loads(l)["duration_ms"]["sinks"] for l in f
                    if l.strip())
    return dt, sinks / 1000.0


def kcat_run(bootstrap, topic, path):
    t0 = time.monotonic()
    r = subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", topic, "-K",
                        "\t", "-l", "-X", "enable.idempotence=true",
                        "-X", "linger.ms=5",
                        "-X", "queue.buffering.max.messages=1000000",
                        "-H", "sluice.job=kafka-sink-bench",
                        "-H", "sluice.sink=pairs.kafka",
                        "-H", "sluice.batch=1", "-H", "sluice.seq=12345",
                        path],
                       capture_output=True, text=True, timeout=600)
    dt = time.monotonic() - t0
    if r.returncode:
        sys.exit("kcat -P failed: " + r.stderr[-2000:])
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--records", type=int, default=200000)
    ap.add_argument("--value-bytes", type=int, default=32)
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--partitions", type=int, default=8)
    a = ap.parse_args()
    a.streamctl = os.path.join(a.build_dir, "tools", "streamctl")
    if not shutil.which("kcat"):
        sys.exit("kafka_sink_bench: kcat is missing (tools/setup.sh)")
    print("cores: %d, load average: %s" % (os.cpu_count(),
                                           " ".join("%.2f" % x for x in
                                                    os.getloadavg())))
    tmp = tempfile.mkdtemp(prefix="sl-kafka-sink-bench-")
    ok = True
    try:
        recs = records(a.records, a.value_bytes)
        want = collections.Counter(recs)
        data = os.path.join(tmp, "pairs.tsv")
        with open(data, "w") as f:
            f.writelines("%s\t%s\n" % r for r in recs)
        topics = ["%s-%d:%d" % (w, i, a.partitions) for i in range(a.repeat)
                  for w in ("kcat", "sluice")]
        with MockCluster(a.streamctl, topics=topics) as mc:
            s_times, k_times, sink_times = [], [], []
            for i in range(a.repeat):
                k_times.append(kcat_run(mc.bootstrap, "kcat-%d" % i, data))
                dt, sink_s = sluice_run(a, tmp, mc.bootstrap,
                                        "sluice-%d" % i, recs)
                s_times.append(dt)
                sink_times.append(sink_s)
            for i in range(a.repeat):
                for w in ("kcat", "sluice"):
                    got = read_back(mc.bootstrap, "%s-%d" % (w, i))
                    if got != want:
                        ok = False
                        print("  %s-%d: %d records read back, %d differ" %
                              (w, i, sum(got.values()),
                               sum((got - want).values()) +
                               sum((want - got).values())))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    s, k = statistics.median(s_times), statistics.median(k_times)
    print("kafka sink: %d records (key ~7 bytes, value %d bytes) into %d "
          "partitions of the mock cluster, %d batches" %
          (a.records, a.value_bytes, a.partitions, a.batches))
    print("  kcat -P            : median %.3f s  %.0f records/s  (runs: %s)"
          % (k, a.records / k, ", ".join("%.3f" % t for t in k_times)))
    print("  sluice kafka sink  : median %.3f s  %.0f records/s  (runs: %s)"
          % (s, a.records / s, ", ".join("%.3f" % t for t in s_times)))
    w = statistics.median(sink_times)
    print("  sluice, the batches' sink phase only (progress entries' "
          "duration_ms.sinks summed): median %.3f s  %.0f records/s  "
          "(runs: %s)" % (w, a.records / w,
                          ", ".join("%.3f" % t for t in sink_times)))
    print("  sluice / kcat: %.2fx the records/s; every topic read back %s" %
          (k / s, "equal to the input" if ok else "DIFFERS"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
