#!/usr/bin/env python3
"""The Kafka sink across a crash (docs/programming-guide.md "Kafka
sink"): a job is killed with SIGKILL while a batch is being produced
(the mock broker delays its answers, so the records are in the log but
not acknowledged and the batch has no commit), then restarted from its
checkpoint. The replayed batch appears again with the same (job, sink,
batch, seq) headers and the same key and value, and a consumer dropping
repeats by those headers sees each record exactly once. Prints the
figures."""

import os
import signal
import subprocess
import sys
import tempfile
import time

from kafkalib import MockCluster, check, fail, need
from test_kafka_sink_common import (by_identity, committed_batches,
                                    kcat_records, offsets_batches, run_job,
                                    write_job)

STREAMCTL = sys.argv[1]
NB = 8
BATCHES = [[["k%d" % i, "b%d-%d" % (b, i)] for i in range(20)]
           for b in range(1, NB + 1)]


def main():
    need("kcat")
    tmp = tempfile.mkdtemp(prefix="ksinkk-")
    ckpt = os.path.join(tmp, "ckpt")
    with MockCluster(STREAMCTL, topics=["crash:3"]) as mc:
        path = os.path.join(tmp, "job.json")
        write_job(path, {
            "name": "crashjob", "batch_interval": "1s", "clock": "manual",
            "max_batches": NB, "checkpoint": ckpt,
            "sources": {"q": {"type": "queue", "partitions": 2,
                              "batches": BATCHES}},
            "sinks": [{"from": "q", "type": "kafka", "topic": "crash",
                       "kafka": {"bootstrap.servers": mc.bootstrap,
                                 "message.timeout.ms": 10000}}]})
        check(mc.command("rtt 1 800") == "ok", "rtt")
        p = subprocess.Popen([STREAMCTL, "run", path],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        end = time.time() + 60
        while time.time() < end:
            done = committed_batches(ckpt)
            if len(done) >= 2 and offsets_batches(ckpt)[-1:] == [done[-1] + 1]:
                break
            time.sleep(0.02)
        else:
            p.kill()
            fail("no batch in flight within 60 s")
        time.sleep(0.4)  # produced, answers delayed: no commit yet
        p.send_signal(signal.SIGKILL)
        p.wait(10)
        done = committed_batches(ckpt)
        before = kcat_records(mc.bootstrap, "crash")
        print("killed: commits %r, offsets %r, %d records in the topic"
              % (done, offsets_batches(ckpt), len(before)))
        check(mc.command("rtt 1 0") == "ok", "rtt 0")
        rc, out, err = run_job(STREAMCTL, path, timeout=120)
        check(rc == 0, "restart: %s" % err)
        recs = kcat_records(mc.bootstrap, "crash")
        uniq = by_identity(recs)  # fails on one identity, two contents
        want = {("crashjob", "q.kafka", b + 1, s): (k, v)
                for b, batch in enumerate(BATCHES)
                for s, (k, v) in enumerate(batch)}
        repeats = len(recs) - len(uniq)
        print("records read %d, repeats dropped by (job, sink, batch, seq) "
              "%d, distinct %d, expected %d" % (len(recs), repeats,
                                                 len(uniq), len(want)))
        check(uniq == want, "the distinct records differ from the input")
        check(repeats > 0, "the killed batch was not produced twice (the "
              "test did not kill it mid-batch)")
        replayed = sorted({i[2] for i in uniq
                           if sum(1 for r in recs
                                  if (r["headers"]["sluice.batch"],
                                      r["headers"]["sluice.seq"]) ==
                                  (str(i[2]), str(i[3]))) > 1})
        print("batches produced twice: %r" % replayed)
        check(all(b > done[-1] for b in replayed),
              "a committed batch was produced again: %r" % replayed)
    print("ok")


if __name__ == "__main__":
    main()
