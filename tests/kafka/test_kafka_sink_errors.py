#!/usr/bin/env python3
"""The Kafka sink under failures (docs/programming-guide.md "Kafka
sink", "Failures"), on streamctl kafka-mock with produce errors injected
through its stdin:
- retriable errors (NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT) are
  retried by the idempotent producer: the job ends well and every record
  is in the topic exactly once;
- a non-retriable error (TOPIC_AUTHORIZATION_FAILED) fails the batch and
  the job with the broker's reason; every batch whose commit is in the
  checkpoint is entirely in the topic; the job restarted from its
  checkpoint produces the failed batch again and goes on, and a consumer
  dropping repeats by (job, sink, batch, seq) sees every record once;
- brokers that cannot be reached fail the job within message.timeout.ms
  (and a margin), naming bootstrap.servers; never a stall or a crash."""

import os
import socket
import sys
import tempfile
import time

from kafkalib import MockCluster, check, need
from test_kafka_sink_common import (by_identity, committed_batches,
                                    identity, kcat_records, run_job,
                                    write_job)

STREAMCTL = sys.argv[1]
BATCHES = [["r%d-%d" % (b, i) for i in range(5 + b)] for b in range(1, 7)]


def job_of(bs, topic, ckpt=None, max_batches=len(BATCHES)):
    j = {"name": "errjob", "batch_interval": "1s", "clock": "manual",
         "max_batches": max_batches,
         "sources": {"q": {"type": "queue", "partitions": 2,
                           "batches": BATCHES}},
         "sinks": [{"from": "q", "type": "kafka", "topic": topic,
                    "kafka": {"bootstrap.servers": bs,
                              "message.timeout.ms": 2000,
                              "retry.backoff.ms": 20}}]}
    if ckpt:
        j["checkpoint"] = ckpt
    return j


def expected(batches):
    """(batch, seq) -> value for the given batch ids."""
    return {(b, s): v for b in batches for s, v in enumerate(BATCHES[b - 1])}


def got_map(recs):
    """(batch, seq) -> value, after dropping repeats by identity."""
    return {i[2:]: kv[1] for i, kv in by_identity(recs).items()}


def retriable(mc, tmp):
    for err in ("NOT_LEADER_FOR_PARTITION", "REQUEST_TIMED_OUT"):
        topic = "retry-" + err.lower().replace("_", "-")
        check(mc.command("errors Produce 3 %s" % err) == "ok", "inject")
        path = os.path.join(tmp, topic + ".json")
        write_job(path, job_of(mc.bootstrap, topic))
        rc, out, errs = run_job(STREAMCTL, path)
        check(rc == 0, "%s: the job failed: %s" % (err, errs))
        recs = kcat_records(mc.bootstrap, topic)
        want = expected(range(1, len(BATCHES) + 1))
        check(len(recs) == len(want), "%s: %d records, want %d (no repeats "
              "within a run: idempotence)" % (err, len(recs), len(want)))
        check(got_map(recs) == want, "%s: records differ" % err)
        print("retriable %s x3: job ok, %d records, each once"
              % (err, len(recs)))
        mc.command("clear")


def fatal_then_restart(mc, tmp):
    topic = "fatal"
    ckpt = os.path.join(tmp, "ckpt")
    path = os.path.join(tmp, "fatal.json")
    write_job(path, job_of(mc.bootstrap, topic, ckpt, max_batches=2))
    rc, out, errs = run_job(STREAMCTL, path)
    check(rc == 0 and committed_batches(ckpt) == [1, 2],
          "first run: %d %s %r" % (rc, errs, committed_batches(ckpt)))
    # the next Produce requests are refused for good: batch 3 fails
    check(mc.command("errors Produce 20 TOPIC_AUTHORIZATION_FAILED") == "ok",
          "inject")
    write_job(path, job_of(mc.bootstrap, topic, ckpt))
    t0 = time.time()
    rc, out, errs = run_job(STREAMCTL, path)
    took = time.time() - t0
    check(rc != 0, "the job ended well despite the errors: %s" % errs)
    check("Topic authorization failed" in errs and
          "TOPIC_AUTHORIZATION_FAILED" in errs and "batch 3" in errs and
          "topic fatal" in errs,
          "the failure does not give the broker's reason: %s" % errs)
    check(took < 30, "took %.1f s to fail" % took)
    print("non-retriable error: job failed in %.1f s: %s" % (
        took, [l for l in errs.split("\n") if "AUTHORIZATION" in l][0]))
    done = committed_batches(ckpt)
    check(done == [1, 2], "commits after the failure: %r" % done)
    recs = kcat_records(mc.bootstrap, topic)
    got = got_map(recs)
    for k, v in expected(done).items():
        check(got.get(k) == v, "committed batch record %r missing" % (k,))
    print("after the failure: commits %r, all %d of their records in the "
          "topic" % (done, len(expected(done))))
    mc.command("clear")
    rc, out, errs = run_job(STREAMCTL, path)
    check(rc == 0, "restart: %s" % errs)
    check(committed_batches(ckpt)[-1] == len(BATCHES), "restart's commits")
    recs = kcat_records(mc.bootstrap, topic)
    got = got_map(recs)
    want = expected(range(1, len(BATCHES) + 1))
    check(got == want, "after the restart: %d of %d records"
          % (len(got), len(want)))
    print("after the restart: %d records read, %d after dropping repeats "
          "by (job, sink, batch, seq), %d expected" % (
              len(recs), len(got), len(want)))
    check(all(identity(r)[0] == "errjob" for r in recs), "job header")


def unreachable(tmp):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    path = os.path.join(tmp, "down.json")
    write_job(path, job_of("127.0.0.1:%d" % port, "nowhere"))
    t0 = time.time()
    rc, out, errs = run_job(STREAMCTL, path, timeout=60)
    took = time.time() - t0
    check(rc != 0, "a job without brokers ended well")
    check("Message timed out" in errs and "bootstrap.servers" in errs and
          "127.0.0.1:%d" % port in errs, "message: %s" % errs)
    check(took < 20, "took %.1f s to fail" % took)
    print("brokers unreachable: job failed in %.1f s" % took)


def broker_down(mc, tmp):
    check(mc.command("down 1") == "ok", "down")
    path = os.path.join(tmp, "bdown.json")
    write_job(path, job_of(mc.bootstrap, "bdown"))
    t0 = time.time()
    rc, out, errs = run_job(STREAMCTL, path, timeout=60)
    took = time.time() - t0
    check(mc.command("up 1") == "ok", "up")
    check(rc != 0 and "Message timed out" in errs, "broker down: %d %s"
          % (rc, errs))
    check(took < 20, "took %.1f s to fail" % took)
    print("broker down: job failed in %.1f s" % took)


def main():
    need("kcat")
    tmp = tempfile.mkdtemp(prefix="ksinke-")
    with MockCluster(STREAMCTL) as mc:
        retriable(mc, tmp)
        fatal_then_restart(mc, tmp)
        broker_down(mc, tmp)
    unreachable(tmp)
    print("ok")


if __name__ == "__main__":
    main()
