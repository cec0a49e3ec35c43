#!/usr/bin/env python3
"""streamctl validate refuses bad kafka sink fields with their JSON path
(docs/job-file.md "kafka"): a missing topic, a topic Kafka would refuse,
a missing kafka object or bootstrap.servers, a property librdkafka does
not know or refuses, enable.idempotence other than true, a value of the
wrong JSON type, an unknown field; a secret's value is never shown. A
good sink validates clean."""

import os
import subprocess
import sys
import tempfile

from kafkalib import check
from test_kafka_sink_common import write_job

STREAMCTL = sys.argv[1]
SECRET = "hunter2-not-shown"


def validate(tmp, sinks):
    path = os.path.join(tmp, "job.json")
    write_job(path, {"name": "v", "batch_interval": "1s",
                     "sources": {"q": {"type": "queue", "batches": [["x"]]}},
                     "sinks": sinks})
    r = subprocess.run([STREAMCTL, "validate", path], capture_output=True,
                       text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def sink(**fields):
    s = {"from": "q", "type": "kafka"}
    s.update(fields)
    return s


BS = {"bootstrap.servers": "127.0.0.1:9"}

CASES = [
    ([sink(kafka=BS)], "$.sinks[0].topic: missing required field"),
    ([sink(topic="a b", kafka=BS)],
     '$.sinks[0].topic: "a b" is not a Kafka topic name'),
    ([sink(topic="")], "$.sinks[0].topic: \"\" is not a Kafka topic name"),
    ([sink(topic="t")], "$.sinks[0].kafka: missing required field"),
    ([sink(topic="t", kafka={})],
     '$.sinks[0].kafka["bootstrap.servers"]: missing required property'),
    ([sink(topic="t", kafka=dict(BS, **{"no.such.prop": "1"}))],
     '$.sinks[0].kafka["no.such.prop"]: No such configuration property'),
    ([sink(topic="t", kafka=dict(BS, acks="lots"))],
     '$.sinks[0].kafka.acks: Invalid value for configuration property'),
    ([sink(topic="t", kafka=dict(BS, **{"enable.idempotence": False}))],
     '$.sinks[0].kafka["enable.idempotence"]: the Kafka sink sets '
     'enable.idempotence=true itself'),
    ([sink(topic="t", kafka=dict(BS, **{"linger.ms": [1]}))],
     '$.sinks[0].kafka["linger.ms"]: expected a string, a number or a '
     'boolean'),
    ([sink(topic="t", kafka="127.0.0.1:9")],
     "$.sinks[0].kafka: expected an object"),
    ([sink(topic="t", kafka=BS, partitions=3)],
     "$.sinks[0].partitions: unknown field"),
    ([sink(topic="t", kafka=dict(BS, **{"ssl.key.password": SECRET,
                                        "batch.size": "x"}))],
     '$.sinks[0].kafka["batch.size"]: Invalid value'),
]


def main():
    tmp = tempfile.mkdtemp(prefix="ksinkv-")
    for sinks, want in CASES:
        rc, out = validate(tmp, sinks)
        check(rc != 0 and want in out,
              "sinks %r: want %r in:\n%s (exit %d)" % (sinks, want, out, rc))
        check(SECRET not in out, "a secret shown: %s" % out)
        print("refused: %s" % want)
    rc, out = validate(tmp, [sink(topic="t.ok-1_x", kafka=dict(
        BS, **{"linger.ms": 5, "compression.type": "zstd",
               "ssl.key.password": SECRET}))])
    check(rc == 0, "a good kafka sink: exit %d\n%s" % (rc, out))
    check(SECRET not in out, "secret shown: %s" % out)
    print("ok")


if __name__ == "__main__":
    main()
