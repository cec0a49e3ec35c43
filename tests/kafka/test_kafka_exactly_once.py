#!/usr/bin/env python3
"""Exactly-once input from Kafka across crashes (label slow).

1. Every record produced before the first start (kcat, 3 partitions): a
   checkpointed job on the manual clock -- word pairs counted by
   update_state_by_key and by reduce_by_key_and_window with an inverse,
   written by file sinks -- is killed with SIGKILL at random points of its
   progress KILLS times and restarted each time; its files equal, batch
   for batch and record for record, those of one uninterrupted run.
2. Records still arriving during the kills (python3-kafka, 2
   partitions): a stateless map into a file sink plus update_state_by_key
   totals, killed at random while a producer writes, then drained with
   the available_now trigger: every record is in the output exactly once
   and the totals equal the records produced. Prints lost and duplicated
   counts; both must be 0.

usage: test_kafka_exactly_once.py STREAMCTL [--kills N] [--seed S]
"""

import argparse
import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from kafkalib import (MockCluster, check, fail, kcat_produce, kill_at,
                      last_offsets, need, py_produce)

BATCHES = 45
PER_PARTITION = 40  # max_records_per_partition: ~38 batches of input


def words_job(workdir, bootstrap, checkpoint):
    out = os.path.join(workdir, "out")
    j = {"name": "keo", "batch_interval": "1s", "clock": "manual",
         "max_batches": BATCHES, "conf": {"log.level": "warn",
                                          "state.shards": 4},
         "sources": {"src": {"type": "kafka", "topics": ["words"],
                             "starting_offsets": "earliest",
                             "max_records_per_partition": PER_PARTITION,
                             "kafka": {"bootstrap.servers": bootstrap}}},
         "streams": {
             "pairs": {"from": "src", "ops": [
                 {"op": "flat_map", "fn": "split_words"},
                 {"op": "map", "fn": "pair_one"}]},
             "totals": {"from": "pairs", "ops": [
                 {"op": "update_state_by_key", "fn": "sum"}]},
             "recent": {"from": "pairs", "ops": [
                 {"op": "reduce_by_key_and_window", "fn": "sum",
                  "inverse": "subtract",
                  "filter": {"name": "ne", "arg": 0, "on": "value"},
                  "window": "5s", "slide": "1s", "partitions": 3}]}},
         "sinks": [{"from": "totals", "type": "file", "format": "json",
                    "path": os.path.join(out, "totals")},
                   {"from": "recent", "type": "file", "format": "csv",
                    "path": os.path.join(out, "recent")}]}
    if checkpoint:
        j["checkpoint"] = {"path": os.path.join(workdir, "ck"),
                           "snapshot_every_batches": 5}
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, "job.json")
    with open(path, "w") as f:
        json.dump(j, f)
    return path


def read_files(root, sinks):
    """{(sink, batch): sorted lines} of the sinks' visible part files."""
    out = collections.defaultdict(list)
    for sink in sinks:
        d = os.path.join(root, sink)
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            if name.startswith((".", "_")):
                continue
            with open(os.path.join(d, name)) as f:
                out[(sink, name.split("-")[1])].extend(f.read().splitlines())
    return {k: sorted(v) for k, v in out.items()}




def run(streamctl, path, *extra, timeout=120):
    p = subprocess.run([streamctl, "run"] + list(extra) + [path],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    if p.returncode != 0:
        fail("run %s: exit %d: %s" % (path, p.returncode, p.stderr[-2000:]))


def compare(ref, got):
    lost = dup = 0
    for k in set(ref) | set(got):
        a = collections.Counter(ref.get(k, []))
        b = collections.Counter(got.get(k, []))
        lost += sum((a - b).values())
        dup += sum((b - a).values())
    return lost, dup


def all_before(streamctl, mc, kills, rng, tmp):
    rng_words = random.Random(3)
    lines = [" ".join("w%d" % rng_words.randrange(300) for _ in range(5))
             for _ in range(4500)]
    for p in range(3):
        kcat_produce(mc.bootstrap, "words", lines[p::3], partition=p)
    ref_dir, ck_dir = os.path.join(tmp, "ref"), os.path.join(tmp, "crash")
    t0 = time.monotonic()
    run(streamctl, words_job(ref_dir, mc.bootstrap, False))
    print("uninterrupted run: %.2f s" % (time.monotonic() - t0))
    path, ck = words_job(ck_dir, mc.bootstrap, True), os.path.join(ck_dir,
                                                                   "ck")
    targets = sorted(rng.randint(1, BATCHES * 3 // 4) for _ in range(kills))
    deadline = time.monotonic() + 600
    done = starts = 0
    for t in targets:
        starts += 1
        if kill_at(streamctl, path, ck, t, rng, deadline):
            done += 1
    starts += 1
    run(streamctl, path)  # to the end
    ref = read_files(os.path.join(ref_dir, "out"), ("totals", "recent"))
    got = read_files(os.path.join(ck_dir, "out"), ("totals", "recent"))
    lost, dup = compare(ref, got)
    print("all input before the start: kills %d starts %d batch outputs %d "
          "lost %d duplicated %d" % (done, starts, len(ref), lost, dup))
    check(done == kills, "only %d of %d kills landed" % (done, kills))
    check(len(ref) >= BATCHES, "reference outputs %d" % len(ref))
    check(ref == got, "the crashed run's output differs from the "
          "uninterrupted run's (%d lost, %d duplicated)" % (lost, dup))


def live_job(workdir, bootstrap, trigger):
    j = {"name": "klive", "batch_interval": "100ms",
         "checkpoint": {"path": os.path.join(workdir, "ck")},
         "conf": {"log.level": "warn"},
         "sources": {"src": {"type": "kafka", "topics": ["live"],
                             "starting_offsets": "earliest",
                             "max_records_per_partition": 50,
                             "kafka": {"bootstrap.servers": bootstrap}}},
         "streams": {
             "copy": {"from": "src", "ops": [{"op": "map", "fn": "identity"}]},
             # records counted per group g0..g9 (the value's second word)
             "totals": {"from": "src", "ops": [
                 {"op": "flat_map", "fn": "split_words"},
                 {"op": "filter", "fn": {"name": "ge", "arg": "g"}},
                 {"op": "filter", "fn": {"name": "lt", "arg": "h"}},
                 {"op": "map", "fn": "pair_one"},
                 {"op": "update_state_by_key", "fn": "sum"}]}},
         "sinks": [{"from": "copy", "type": "file", "format": "json",
                    "path": os.path.join(workdir, "out", "copy")},
                   {"from": "totals", "type": "file", "format": "json",
                    "path": os.path.join(workdir, "out", "totals")}]}
    if trigger:
        j["trigger"] = trigger
    path = os.path.join(workdir, "live-%s.json" % (trigger or "run"))
    with open(path, "w") as f:
        json.dump(j, f)
    return path


def while_arriving(streamctl, mc, kills, rng, tmp):
    workdir = os.path.join(tmp, "live")
    os.makedirs(workdir)
    n = 3000
    values = ["r%05d g%d" % (i, i % 10) for i in range(n)]
    errors = []

    def producer():
        try:
            for i in range(0, n, 100):
                py_produce(mc.bootstrap, "live",
                           [(None, v.encode()) for v in values[i:i + 100]])
                time.sleep(0.05)
        except Exception as e:  # reported by the main thread
            errors.append(e)

    path = live_job(workdir, mc.bootstrap, None)
    ck = os.path.join(workdir, "ck")
    th = threading.Thread(target=producer, daemon=True)
    th.start()
    deadline = time.monotonic() + 300
    done = 0
    for _ in range(kills):
        target = last_offsets(ck) + rng.randint(2, 6)
        if kill_at(streamctl, path, ck, target, rng, deadline):
            done += 1
    th.join(120)
    check(not th.is_alive() and not errors, "producer: %r" % errors)
    run(streamctl, live_job(workdir, mc.bootstrap, "available_now"))
    copied = collections.Counter()
    for lines in read_files(os.path.join(workdir, "out"), ("copy",)).values():
        copied.update(json.loads(l) for l in lines)
    lost = sum(1 for v in values if copied[v] == 0)
    dup = sum(c - 1 for c in copied.values() if c > 1)
    extra = sum(1 for v in copied if v not in set(values))
    # the last totals written hold every group's count
    totals = read_files(os.path.join(workdir, "out"), ("totals",))
    last = max(totals, key=lambda k: int(k[1]))
    final = dict(json.loads(l) for l in totals[last])
    print("records arriving during the kills: kills %d records %d lost %d "
          "duplicated %d; totals %r" % (done, n, lost, dup, final))
    check(done >= kills // 2, "only %d kills landed" % done)
    check(lost == 0 and dup == 0 and extra == 0,
          "lost %d duplicated %d unknown %d" % (lost, dup, extra))
    check(final == {"g%d" % g: n // 10 for g in range(10)},
          "state totals %r" % final)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("streamctl")
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    need("kcat")
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    print("seed %d" % seed)
    rng = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="sl-kafka-eo-")
    try:
        with MockCluster(a.streamctl, topics=["words:3", "live:2"]) as mc:
            all_before(a.streamctl, mc, a.kills, rng, tmp)
            while_arriving(a.streamctl, mc, max(5, a.kills // 2), rng, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


main()
