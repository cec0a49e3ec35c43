#!/usr/bin/env python3
"""Kafka benchmarks on `streamctl kafka-mock` (librdkafka's mock cluster:
in-process, in memory, on 127.0.0.1; it bounds the absolute figures, which
say more about the mock than about a real broker).

1. Throughput: a Kafka topic of Zipf word lines (PARTITIONS partitions,
   LINES lines, within the mock's 5 MiB per partition) through the word
   count into a Kafka topic: `streamctl run` of a job (Kafka source,
   flat_map/pair_one/reduce_by_key, Kafka sink, manual clock,
   available_now) against `kcat -C | mawk '{count words}' | kcat -P` on the
   same topic, alternating, --repeat times each; medians, ratio, and the
   word counts of both compared.
2. Latency at 10 ms batches: a producer (python3-kafka) writes one record
   every 2 ms, each holding its send time; a job with 10 ms batches copies
   them (Kafka source, map, Kafka sink) and a consumer reads the copies:
   end-to-end latency percentiles, and the batches' own durations and
   scheduling delays from the progress entries.

Not a ctest test: run it by hand (docs/performance.md, "Kafka"):

  python3 tools/bench/kafka_bench.py --build-dir build --repeat 3
"""
import argparse
import collections
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "kafka"))
from kafkalib import MockCluster  # noqa: E402


def words_file(path, lines, seed=11):
    """Zipf-ish word lines (8 words of a 5000-word vocabulary)."""
    rng = random.Random(seed)
    vocab = ["w%d" % i for i in range(5000)]
    weights = [1.0 / (i + 1) for i in range(5000)]
    with open(path, "w") as f:
        for _ in range(lines):
            f.write(" ".join(rng.choices(vocab, weights, k=8)) + "\n")


def produce_file(bootstrap, topic, path, partitions):
    """The file's lines spread over the partitions in turn (kcat -p)."""
    with open(path) as f:
        lines = f.read().splitlines()
    for p in range(partitions):
        data = "".join(l + "\n" for l in lines[p::partitions])
        r = subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", topic, "-p",
                            str(p), "-X", "queue.buffering.max.messages=1000000"],
                           input=data, text=True, capture_output=True,
                           timeout=300)
        if r.returncode:
            sys.exit("kcat -P: " + r.stderr)


def consume_counts(bootstrap, topic, pairs_json):
    """Word -> count summed over a topic's records (sluice: JSON pairs as
    key and value; mawk: 'word count' lines)."""
    r = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-e",
                        "-q", "-f", "%k\t%s\n"], capture_output=True,
                       text=True, timeout=300)
    c = collections.Counter()
    for line in r.stdout.splitlines():
        k, _, v = line.partition("\t")
        if pairs_json:
            c[k] += int(v)
        elif v:
            w, n = v.split()
            c[w] += int(n)
    return c


def sluice_run(streamctl, tmp, bootstrap, topic_out, per_partition):
    job = {"name": "kafka-bench", "batch_interval": "1s", "clock": "manual",
           "trigger": "available_now", "conf": {"log.level": "warn"},
           "sources": {"lines": {"type": "kafka", "topics": ["in"],
                                 "starting_offsets": "earliest",
                                 "max_records_per_partition": per_partition,
                                 "kafka": {"bootstrap.servers": bootstrap}}},
           "streams": {"counts": {"from": "lines", "ops": [
               {"op": "flat_map", "fn": "split_words"},
               {"op": "map", "fn": "pair_one"},
               {"op": "reduce_by_key", "fn": "sum"}]}},
           "sinks": [{"from": "counts", "type": "kafka", "topic": topic_out,
                      "kafka": {"bootstrap.servers": bootstrap,
                                "linger.ms": 5}}]}
    path = os.path.join(tmp, "bench.json")
    with open(path, "w") as f:
        json.dump(job, f)
    t0 = time.monotonic()
    r = subprocess.run([streamctl, "run", path], capture_output=True,
                       text=True, timeout=600)
    dt = time.monotonic() - t0
    if r.returncode:
        sys.exit("sluice run failed: " + r.stderr[-2000:])
    return dt


def mawk_run(bootstrap, topic_out):
    cmd = ("kcat -C -b %s -t in -e -q -f '%%s\\n' | mawk '{for (i = 1; i <= "
           "NF; i++) c[$i]++} END {for (w in c) print w, c[w]}' | kcat -P -b "
           "%s -t %s" % (bootstrap, bootstrap, topic_out))
    t0 = time.monotonic()
    r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd],
                       capture_output=True, text=True, timeout=600)
    dt = time.monotonic() - t0
    if r.returncode:
        sys.exit("kcat | mawk failed: " + r.stderr[-2000:])
    return dt


def throughput(a, tmp):
    words = os.path.join(tmp, "words.txt")
    words_file(words, a.lines)
    with MockCluster(a.streamctl, topics=["in:%d" % a.partitions]) as mc:
        produce_file(mc.bootstrap, "in", words, a.partitions)
        s_times, m_times = [], []
        for i in range(a.repeat):
            m_times.append(mawk_run(mc.bootstrap, "mawk-%d" % i))
            s_times.append(sluice_run(a.streamctl, tmp, mc.bootstrap,
                                      "sluice-%d" % i, a.per_partition))
        want = consume_counts(mc.bootstrap, "mawk-0", False)
        got = consume_counts(mc.bootstrap, "sluice-0", True)
    ok = want == got
    s, m = statistics.median(s_times), statistics.median(m_times)
    print("throughput: %d lines (%d words) in %d partitions of the mock "
          "cluster" % (a.lines, sum(want.values()), a.partitions))
    print("  kcat | mawk | kcat : median %.3f s  %.0f lines/s  (runs: %s)" %
          (m, a.lines / m, ", ".join("%.3f" % t for t in m_times)))
    print("  sluice kafka->kafka: median %.3f s  %.0f lines/s  (runs: %s)" %
          (s, a.lines / s, ", ".join("%.3f" % t for t in s_times)))
    print("  sluice / mawk: %.2fx the lines/s; counts %s" %
          (m / s, "equal" if ok else "DIFFER"))
    return ok


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))]


def latency(a, tmp):
    from kafka import KafkaConsumer, KafkaProducer
    with MockCluster(a.streamctl, topics=["lat:1", "lat-out:1"]) as mc:
        job = {"name": "kafka-latency", "batch_interval": "10ms",
               "conf": {"log.level": "warn"},
               "sources": {"src": {"type": "kafka", "topics": ["lat"],
                                   "starting_offsets": "latest",
                                   "kafka": {"bootstrap.servers":
                                             mc.bootstrap}}},
               "streams": {"copy": {"from": "src", "ops": [
                   {"op": "map", "fn": "identity"}]}},
               "sinks": [{"from": "copy", "type": "kafka",
                          "topic": "lat-out",
                          "kafka": {"bootstrap.servers": mc.bootstrap,
                                    "linger.ms": 0}}]}
        path = os.path.join(tmp, "lat.json")
        prog = os.path.join(tmp, "lat.progress.jsonl")
        with open(path, "w") as f:
            json.dump(job, f)
        p = subprocess.Popen([a.streamctl, "run", "--progress", prog, path],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        lat = []
        stop = threading.Event()

        def consume():
            c = KafkaConsumer("lat-out", bootstrap_servers=mc.bootstrap,
                              auto_offset_reset="earliest",
                              fetch_max_wait_ms=5, consumer_timeout_ms=500)
            while not stop.is_set():
                for m in c:
                    sent = float(m.value)
                    lat.append((sent, time.time() * 1000 - sent))
            c.close()

        th = threading.Thread(target=consume, daemon=True)
        th.start()
        time.sleep(2)  # the job and the consumer settle
        prod = KafkaProducer(bootstrap_servers=mc.bootstrap, linger_ms=0,
                             acks=1)
        n, t_end = 0, time.monotonic() + a.seconds
        t_first = time.time() * 1000
        while time.monotonic() < t_end:
            prod.send("lat", value=("%.3f" % (time.time() * 1000)).encode())
            prod.flush()
            n += 1
            time.sleep(0.002)
        prod.close()
        time.sleep(2)
        stop.set()
        th.join(10)
        p.terminate()
        p.wait(30)
        with open(prog) as f:
            entries = [json.loads(l) for l in f if l.strip()]
        if a.keep_progress:
            shutil.copy(prog, a.keep_progress)
    busy = [e for e in entries if e["input_rows"]]
    tot = [e["duration_ms"]["total"] for e in busy]
    sched = [e["scheduling_delay_ms"] for e in entries]
    print("latency at 10 ms batches: %d records sent (one per ~2 ms for "
          "%d s), %d read back" % (n, a.seconds, len(lat)))
    for what, xs in (("all", [l for _, l in lat]),
                     ("after the first second",
                      [l for t, l in lat if t > t_first + 1000])):
        if xs:
            print("  end to end, %s (producer send -> consumer read, "
                  "through the mock): p50 %.1f ms  p90 %.1f ms  p99 %.1f ms"
                  "  max %.1f ms" % (what, pct(xs, 50), pct(xs, 90),
                                     pct(xs, 99), max(xs)))
    if tot:
        print("  batch total duration (batches with input, %d of %d): p50 "
              "%.2f ms  p99 %.2f ms" % (len(busy), len(entries),
                                         pct(tot, 50), pct(tot, 99)))
    print("  scheduling delay: p50 %d ms  p99 %d ms  max %d ms" %
          (pct(sched, 50), pct(sched, 99), max(sched)))
    return len(lat) == n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--lines", type=int, default=400000)
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--per-partition", type=int, default=0,
                    help="max_records_per_partition (0: all in one batch)")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--only", choices=("throughput", "latency"))
    ap.add_argument("--keep-progress", metavar="FILE",
                    help="copy the latency job's progress entries to FILE")
    a = ap.parse_args()
    a.streamctl = os.path.join(a.build_dir, "tools", "streamctl")
    for t in ("kcat", "mawk"):
        if not shutil.which(t):
            sys.exit("kafka_bench: %s is missing (tools/setup.sh)" % t)
    print("cores: %d, load average: %s" % (os.cpu_count(),
                                           " ".join("%.2f" % x for x in
                                                    os.getloadavg())))
    tmp = tempfile.mkdtemp(prefix="sl-kafka-bench-")
    try:
        ok = True
        if a.only != "latency":
            ok = throughput(a, tmp)
        if a.only != "throughput":
            ok = latency(a, tmp) and ok
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
