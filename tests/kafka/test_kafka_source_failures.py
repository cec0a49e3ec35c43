#!/usr/bin/env python3
"""The Kafka source when Kafka misbehaves, against `streamctl kafka-mock`
(librdkafka timeouts of 2 s or less, every wait bounded):

- a topic that does not exist yet: the job warns once that it waits for
  it, keeps running, and reads the topic once it is created;
- the broker down at start: the job warns that it cannot reach the
  cluster and retries each batch; once the broker is up, it reads;
- offsets deleted by retention before they were read (the mock cluster
  keeps the last 5 MiB of a partition): with fail_on_data_loss (the
  default) the restarted job fails, naming the offsets and the option;
  with it false, it warns, counts and goes on from the earliest offset;
- commit_offsets: each batch's end offsets committed to the consumer
  group, as python3-kafka reads them;
- leaders moving between three brokers and Fetch/ListOffsets requests
  failing while the job runs: every record read once."""

import json
import os
import subprocess
import sys
import tempfile
import time

from kafkalib import MockCluster, check, kcat_consume, kcat_produce, need

STREAMCTL = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="sl_kafka_fail_")


def job_file(name, bootstrap, source, extra=None):
    src = {"type": "kafka", "starting_offsets": "earliest", "timeout": "2s",
           "kafka": {"bootstrap.servers": bootstrap,
                     "socket.timeout.ms": 1000,
                     "reconnect.backoff.max.ms": 200,
                     "topic.metadata.refresh.interval.ms": 300}}
    src.update(source)
    job = {"name": name, "batch_interval": "200ms",
           "sources": {"src": src},
           "sinks": [{"from": "src", "type": "console", "format": "json"}]}
    job.update(extra or {})
    path = os.path.join(TMP, name + ".json")
    with open(path, "w") as f:
        json.dump(job, f)
    return path


def start(path, *extra):
    return subprocess.Popen([STREAMCTL, "run"] + list(extra) + [path],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finish(p, timeout=60):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        check(False, "the job did not end: %s" % err[-2000:])
    return p.returncode, out, err


def values(out):
    return [r for l in out.splitlines() if l.strip()
            for r in json.loads(l)["records"]]


def missing_topic(mc):
    p = start(job_file("missing", mc.bootstrap, {"topics": ["later"]},
                       {"max_batches": 30}))
    time.sleep(1.5)
    check(mc.command("topic later 1").startswith("ok"), "topic later")
    kcat_produce(mc.bootstrap, "later", ["x1", "x2", "x3"])
    rc, out, err = finish(p)
    check(rc == 0, "exit %d: %s" % (rc, err[-2000:]))
    check(err.count("topic 'later' does not exist (yet): waiting for it") == 1,
          "the wait is said once: %r" % err[-2000:])
    check(sorted(values(out)) == ["x1", "x2", "x3"], "read %r" % values(out))
    print("ok   missing topic: waited, warned once, read after creation")


def broker_down(mc):
    check(mc.command("down 1").startswith("ok"), "down")
    p = start(job_file("down", mc.bootstrap, {"topics": ["words"]},
                       {"max_batches": 40}))
    time.sleep(2.5)
    check(mc.command("up 1").startswith("ok"), "up")
    kcat_produce(mc.bootstrap, "words", ["w1", "w2"])
    rc, out, err = finish(p)
    check(rc == 0, "exit %d: %s" % (rc, err[-2000:]))
    check("cannot get the cluster's metadata" in err and
          "retrying at the next batch" in err, "no warning: %r" % err[-2000:])
    check(sorted(values(out)) == ["w1", "w2"], "read %r" % values(out))
    print("ok   broker down at start: warned, retried, read once it was up")


def data_loss(mc):
    kcat_produce(mc.bootstrap, "loss", ["first-%d" % i for i in range(20)])
    ck = os.path.join(TMP, "loss-ck")
    path = job_file("loss", mc.bootstrap,
                    {"topics": ["loss"], "max_records_per_partition": 10},
                    {"checkpoint": ck, "max_batches": 1})
    rc, out, err = finish(start(path))
    check(rc == 0 and len(values(out)) == 10, "first run: %d %r %s" %
          (rc, values(out), err[-1000:]))
    # overrun the partition's retention: 7 MiB after the 20 small records
    big = "y" * 1024
    for chunk in range(7):
        kcat_produce(mc.bootstrap, "loss", [big] * 1024)

    offsets = sorted(int(o) for o in kcat_consume(mc.bootstrap, "loss",
                                                  "%o\n"))
    check(offsets[0] > 10, "retention kept offset %d" % offsets[0])
    lo, hi = offsets[0], offsets[-1] + 1
    with open(path) as f:
        job = json.load(f)
    job["trigger"] = "available_now"
    del job["max_batches"]
    job["sources"]["src"]["max_records_per_partition"] = 0
    with open(path, "w") as f:
        json.dump(job, f)
    rc, out, err = finish(start(path))
    check(rc == 1 and "fail_on_data_loss" in err and "loss[0]" in err,
          "fail_on_data_loss true: exit %d %r" % (rc, err[-2000:]))
    rc, out, err = finish(start(path, "--set",
                                "sources.src.fail_on_data_loss=false"))
    check(rc == 0, "fail_on_data_loss false: exit %d %s" % (rc, err[-2000:]))
    check("were deleted" in err or "deleted" in err,
          "no warning of the loss: %r" % err[-2000:])
    got = values(out)
    check(len(got) == hi - lo and got[-1] == big,
          "after the loss read %d records, want %d (offsets %d..%d)" %
          (len(got), hi - lo, lo, hi - 1))
    print("ok   data loss: %d offsets deleted; fail_on_data_loss true fails, "
          "false goes on (%d records)" % (lo - 10, len(got)))



def commit_offsets(mc):
    kcat_produce(mc.bootstrap, "committed", ["c%d" % i for i in range(12)])
    path = job_file("commit", mc.bootstrap,
                    {"topics": ["committed"], "commit_offsets": True,
                     "max_records_per_partition": 5,
                     "kafka": {"bootstrap.servers": mc.bootstrap,
                               "group.id": "lag-tools"}},
                    {"trigger": "available_now"})
    rc, out, err = finish(start(path))
    check(rc == 0 and len(values(out)) == 12, "commit run %d %s" %
          (rc, err[-1000:]))
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(bootstrap_servers=mc.bootstrap, group_id="lag-tools",
                      enable_auto_commit=False, request_timeout_ms=8000,
                      session_timeout_ms=6000,
                      api_version_auto_timeout_ms=5000)
    try:
        got = c.committed(TopicPartition("committed", 0))
    finally:
        c.close()
    check(got == 12, "committed offset %r, want 12" % got)
    print("ok   commit_offsets: the group's offset is the end (12)")


def leader_and_errors(streamctl):
    """3 brokers: the partitions' leaders move while the job runs, and
    Fetch and ListOffsets requests fail for a while; every record is read
    once, the job ends well."""
    with MockCluster(streamctl, brokers=3, topics=["moving:2"]) as mc:
        p = start(job_file("moving", mc.bootstrap, {"topics": ["moving"]},
                           {"max_batches": 40}))
        time.sleep(1)
        kcat_produce(mc.bootstrap, "moving", ["m%d" % i for i in range(10)])
        time.sleep(1)
        for cmd in ("leader moving 0 2", "leader moving 1 3",
                    "errors Fetch 4 NOT_LEADER_FOR_PARTITION",
                    "errors ListOffsets 3 LEADER_NOT_AVAILABLE"):
            check(mc.command(cmd) == "ok", cmd)
        kcat_produce(mc.bootstrap, "moving", ["n%d" % i for i in range(10)])
        time.sleep(1)
        check(mc.command("leader moving 0 1") == "ok", "leader back")
        kcat_produce(mc.bootstrap, "moving", ["o%d" % i for i in range(10)])
        rc, out, err = finish(p)
    check(rc == 0, "exit %d: %s" % (rc, err[-2000:]))
    want = sorted("%s%d" % (c, i) for c in "mno" for i in range(10))
    check(sorted(values(out)) == want, "read %r" % sorted(values(out)))
    print("ok   leader changes and request errors: all 30 records, once")


def not_authorized(mc):
    """A read the broker refuses (TOPIC_AUTHORIZATION_FAILED) fails the
    job at once with the broker's words, not after kafka.source.timeout."""
    kcat_produce(mc.bootstrap, "secret", ["s1", "s2"])
    check(mc.command("errors Fetch 50 TOPIC_AUTHORIZATION_FAILED") == "ok",
          "inject")
    path = job_file("auth", mc.bootstrap, {"topics": ["secret"],
                                           "timeout": "30s"},
                    {"max_batches": 20})
    t0 = time.monotonic()
    rc, out, err = finish(start(path))
    took = time.monotonic() - t0
    mc.command("clear")
    check(rc == 1 and "TOPIC_AUTHORIZATION_FAILED" in err and
          "credentials and ACLs" in err and took < 15,
          "not authorized: exit %d after %.1f s: %r" % (rc, took, err[-2000:]))
    print("ok   not authorized: failed in %.1f s naming the error" % took)


def main():
    need("kcat")
    with MockCluster(STREAMCTL, topics=["words:1", "loss:1", "committed:1",
                                        "secret:1"]) as mc:
        missing_topic(mc)
        broker_down(mc)
        data_loss(mc)
        commit_offsets(mc)
        not_authorized(mc)
    leader_and_errors(STREAMCTL)


main()
