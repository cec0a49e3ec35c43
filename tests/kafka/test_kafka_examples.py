#!/usr/bin/env python3
"""The Kafka examples as their docs run them, on `streamctl kafka-mock`:
direct_kafka_wordcount (the C program, and its job file with
KAFKA_BOOTSTRAP exported) counts the words kcat produced; the structured
job kafka_events_per_minute.json reads JSON events from one topic and
writes per-minute aggregates to another, read back with kcat: every
(minute, user) total as computed here, the sluice.* headers on each
record, and the malformed event in the dead-letter file.

usage: test_kafka_examples.py STREAMCTL SOURCE_ROOT DIRECT_KAFKA_WORDCOUNT
"""

import collections
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from kafkalib import MockCluster, check, kcat_produce, need

STREAMCTL, ROOT, PROG = sys.argv[1], sys.argv[2], sys.argv[3]
JOBS = os.path.join(ROOT, "examples", "streaming", "jobs")
LINES = ["to be or not to be", "that is the question", "to be"]


def expected_words():
    c = collections.Counter()
    for l in LINES:
        c.update(l.split())
    return c


def printed_counts(text):
    """Sum of Spark-print (word,n) lines over every batch."""
    c = collections.Counter()
    for m in re.finditer(r"^\((\S+),(\d+)\)$", text, re.M):
        c[m.group(1)] += int(m.group(2))
    return c


def c_program(mc):
    p = subprocess.Popen([PROG, mc.bootstrap, "words", "--batch", "500ms"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        time.sleep(3)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(p.returncode == 0, "direct_kafka_wordcount: %d %s" %
          (p.returncode, err[-2000:]))
    got = printed_counts(out)
    check(got == expected_words(), "C example counted %r" % got)
    print("ok   direct_kafka_wordcount (C)")


def job_file(mc, tmp):
    env = dict(os.environ, KAFKA_BOOTSTRAP=mc.bootstrap)
    r = subprocess.run([STREAMCTL, "run", "--set", "trigger=available_now",
                        os.path.join(JOBS, "direct_kafka_wordcount.json")],
                       capture_output=True, text=True, timeout=60, env=env,
                       cwd=tmp)
    check(r.returncode == 0, "job file: %d %s" % (r.returncode,
                                                  r.stderr[-2000:]))
    got = printed_counts(r.stdout)
    check(got == expected_words(), "job file counted %r" % got)
    print("ok   direct_kafka_wordcount.json")


def per_minute(mc, tmp):
    events = []
    for i in range(240):
        events.append(json.dumps({"ts": "2026-12-04 10:%02d:%02d" %
                                  (i // 60, i % 60), "user": "u%d" % (i % 3),
                                  "amount": 0.25 * (i % 7)}))
    kcat_produce(mc.bootstrap, "events", events[:100] + ["{broken"] +
                 events[100:])
    want = collections.defaultdict(lambda: [0, 0.0])
    for e in map(json.loads, events):
        k = ("2026-12-04T10:%s:00.000Z" % e["ts"][14:16], e["user"])
        want[k][0] += 1
        want[k][1] += e["amount"]
    env = dict(os.environ, KAFKA_BOOTSTRAP=mc.bootstrap)
    r = subprocess.run([STREAMCTL, "run", "--set", "trigger=available_now",
                        os.path.join(JOBS, "kafka_events_per_minute.json")],
                       capture_output=True, text=True, timeout=60, env=env,
                       cwd=tmp)
    check(r.returncode == 0, "events job: %d %s" % (r.returncode,
                                                   r.stderr[-2000:]))
    k = subprocess.run(["kcat", "-C", "-b", mc.bootstrap, "-t",
                        "events-per-minute", "-e", "-q", "-J"],
                       capture_output=True, text=True, timeout=30)
    check(k.returncode == 0, "kcat: %s" % k.stderr)
    got = {}
    for line in k.stdout.splitlines():
        m = json.loads(line)
        v = json.loads(m["payload"])
        h = m.get("headers") or []
        h = dict(zip(h[0::2], h[1::2]))
        check(h.get("sluice.job") == "kafka-events-per-minute" and
              h.get("sluice.sink") == "per_minute.kafka" and
              h.get("sluice.batch", "").isdigit() and
              h.get("sluice.seq", "").isdigit(), "headers %r" % h)
        got[(v["minute"], v["user"])] = [v["events"], v["total"]]
    check(got == {k: [n, t] for k, (n, t) in want.items()},
          "per-minute aggregates:\n got %r\nwant %r" % (got, dict(want)))
    with open(os.path.join(tmp, "kafka-events-per-minute.dead_letters.jsonl")) \
            as f:
        dead = [json.loads(l) for l in f]
    check(len(dead) == 1 and dead[0]["text"] == "{broken" and
          dead[0]["reason"] == "malformed", "dead letters %r" % dead)
    print("ok   kafka_events_per_minute.json: %d (minute, user) aggregates"
          % len(got))


def main():
    need("kcat")
    tmp = tempfile.mkdtemp(prefix="sl_kafka_ex_")
    with MockCluster(STREAMCTL, topics=["words:3", "events:2",
                                        "events-per-minute:1"]) as mc:
        kcat_produce(mc.bootstrap, "words", LINES)
        c_program(mc)
        job_file(mc, tmp)
        per_minute(mc, tmp)


main()
