#!/usr/bin/env python3
"""Kafka in, Kafka out, across crashes (label slow): a checkpointed job
reading topic `in` (the Kafka source) and writing every record to topic
`out` (the Kafka sink) is killed with SIGKILL at random points KILLS
times and restarted until it has read everything (available_now). Read
back with kcat: the sink is at-least-once, so replayed batches may appear
twice, always with the same (sluice.job, sluice.sink, sluice.batch,
sluice.seq) headers and the same content; a consumer dropping repeats by
those headers sees every input record exactly once. Prints the kills, the
repeats dropped, and lost/duplicated counts (both must be 0).

usage: test_kafka_kill_pipeline.py STREAMCTL [--kills N] [--seed S]
"""

import argparse
import collections
import json
import os
import random
import shutil
import subprocess
import tempfile
import time

from kafkalib import MockCluster, check, kcat_produce, kill_at, need
from test_kafka_sink_common import by_identity, kcat_records

N = 3000


def job(workdir, bootstrap):
    j = {"name": "pipe", "batch_interval": "100ms", "clock": "manual",
         "trigger": "available_now",
         "checkpoint": os.path.join(workdir, "ck"),
         "conf": {"log.level": "warn"},
         "sources": {"src": {"type": "kafka", "topics": ["in"],
                             "starting_offsets": "earliest",
                             "max_records_per_partition": 40,
                             "kafka": {"bootstrap.servers": bootstrap}}},
         "streams": {"upper": {"from": "src",
                               "ops": [{"op": "map", "fn": "upper"}]}},
         "sinks": [{"from": "upper", "type": "kafka", "topic": "out",
                    "kafka": {"bootstrap.servers": bootstrap,
                              "message.timeout.ms": 5000}}]}
    path = os.path.join(workdir, "pipe.json")
    with open(path, "w") as f:
        json.dump(j, f)
    return path




def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("streamctl")
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    need("kcat")
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    print("seed %d" % seed)
    rng = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="sl-kafka-pipe-")
    try:
        with MockCluster(a.streamctl, topics=["in:2", "out:2"]) as mc:
            values = ["rec-%05d" % i for i in range(N)]
            kcat_produce(mc.bootstrap, "in", values)
            path = job(tmp, mc.bootstrap)
            ck = os.path.join(tmp, "ck")
            # ~38 batches of 80: kill targets in the first three quarters
            targets = sorted(rng.randint(1, 28) for _ in range(a.kills))
            kills = starts = 0
            deadline = time.monotonic() + 300
            for t in targets:
                starts += 1
                kills += kill_at(a.streamctl, path, ck, t, rng, deadline,
                                 max_delay=0.1)
            starts += 1  # to the end
            r = subprocess.run([a.streamctl, "run", path],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True,
                               timeout=120)
            check(r.returncode == 0, "the last start: exit %d: %s" %
                  (r.returncode, r.stderr[-2000:]))
            recs = kcat_records(mc.bootstrap, "out")
            unique = by_identity(recs)  # fails on a replay that differs
            got = collections.Counter(v for _, v in unique.values())
            want = collections.Counter(v.upper() for v in values)
            lost = sum((want - got).values())
            dup = sum((got - want).values())
            print("kills %d starts %d records read %d repeats dropped %d "
                  "lost %d duplicated %d" % (kills, starts, len(recs),
                                             len(recs) - len(unique), lost,
                                             dup))
            check(kills >= a.kills // 2, "only %d kills landed" % kills)
            check(lost == 0 and dup == 0, "lost %d duplicated %d" %
                  (lost, dup))
            check(all(i[0] == "pipe" and i[1] == "upper.kafka"
                      for i in unique), "headers %r" % list(unique)[:3])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


main()
