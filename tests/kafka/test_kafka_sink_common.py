"""Helpers of the Kafka sink tests (test_kafka_sink*.py): job files run
by streamctl, and the records of a topic read back by the two independent
clients, kcat (-J, with headers) and Python's kafka module. Every wait is
bounded."""

import json
import os
import subprocess
import time

from kafkalib import check, fail


def write_job(path, job):
    with open(path, "w") as f:
        json.dump(job, f, indent=1)


def run_job(streamctl, path, timeout=60):
    """streamctl run PATH to its end: (exit status, stdout, stderr)."""
    r = subprocess.run([streamctl, "run", path], capture_output=True,
                       text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def headers_dict(pairs):
    """kcat -J's ["k1","v1","k2","v2"] as a dict."""
    return {pairs[i]: pairs[i + 1] for i in range(0, len(pairs or []), 2)}


def kcat_records(bootstrap, topic):
    """Every record of topic now, as kcat -J gives them: dicts with key,
    value (None for null) and headers (a dict)."""
    r = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-e",
                        "-q", "-J"], text=True, capture_output=True,
                       timeout=30)
    check(r.returncode == 0, "kcat -C: %r" % r.stderr)
    out = []
    for line in r.stdout.split("\n"):
        if not line.strip():
            continue
        m = json.loads(line)
        out.append({"key": m.get("key"), "value": m.get("payload"),
                    "headers": headers_dict(m.get("headers")),
                    "partition": m["partition"], "offset": m["offset"]})
    return out


def py_records(bootstrap, topic, expect, seconds=20):
    """Records of topic read with Python's kafka module until `expect`
    of them came (or seconds passed): dicts as kcat_records gives."""
    from kafka import KafkaConsumer
    c = KafkaConsumer(topic, bootstrap_servers=bootstrap,
                      auto_offset_reset="earliest", enable_auto_commit=False,
                      group_id=None, consumer_timeout_ms=1000,
                      request_timeout_ms=5000, api_version_auto_timeout_ms=5000)
    out = []
    end = time.time() + seconds
    try:
        while len(out) < expect and time.time() < end:
            for m in c:
                out.append({
                    "key": None if m.key is None else m.key.decode(),
                    "value": None if m.value is None else m.value.decode(),
                    "headers": {k: v.decode() for k, v in m.headers},
                    "partition": m.partition, "offset": m.offset})
    finally:
        c.close()
    return out


def identity(rec):
    """(job, sink, batch, seq) of a record, from its headers."""
    h = rec["headers"]
    return (h.get("sluice.job"), h.get("sluice.sink"),
            int(h.get("sluice.batch", -1)), int(h.get("sluice.seq", -1)))


def by_identity(recs):
    """Records keyed by identity, sorted; fails on one identity with two
    different contents (a replay must produce the same record)."""
    seen = {}
    for r in recs:
        i = identity(r)
        kv = (r["key"], r["value"])
        if i in seen and seen[i] != kv:
            fail("record %r: %r, then %r" % (i, seen[i], kv))
        seen[i] = kv
    return seen


def committed_batches(ckpt):
    d = os.path.join(ckpt, "commits")
    if not os.path.isdir(d):
        return []
    return sorted(int(n) for n in os.listdir(d) if n.isdigit())


def offsets_batches(ckpt):
    d = os.path.join(ckpt, "offsets")
    if not os.path.isdir(d):
        return []
    return sorted(int(n) for n in os.listdir(d) if n.isdigit())
