#!/usr/bin/env python3
"""The Kafka source while records and topics arrive: a job on a topic
pattern started at "latest" skips what its first batch found, reads what
is produced later, and picks up a topic created while it runs (read from
its earliest offset, Spark's rule for new partitions); the word counts
are compared exactly, then the job stops cleanly on SIGTERM.

Usage: test_kafka_source_live.py STREAMCTL
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter

from kafkalib import MockCluster, check, kcat_produce, need, wait_for

STREAMCTL = sys.argv[1]


def main():
    need("kcat")
    with MockCluster(STREAMCTL, topics=["live-a:2"]) as mc, \
            tempfile.TemporaryDirectory() as tmp:
        b = mc.bootstrap
        kcat_produce(b, "live-a", ["old old"])  # before the start: skipped
        j = {"name": "live", "batch_interval": "200ms",
             "sources": {"lines": {
                 "type": "kafka", "pattern": "live-.*",
                 "starting_offsets": "latest", "timeout": "2s",
                 "kafka": {"bootstrap.servers": b,
                           "socket.timeout.ms": 2000,
                           "topic.metadata.refresh.interval.ms": 500}}},
             "streams": {"counts": {"from": "lines", "ops": [
                 {"op": "flat_map", "fn": "split_words"},
                 {"op": "map", "fn": "pair_one"},
                 {"op": "reduce_by_key", "fn": "sum"}]}},
             "sinks": [{"from": "counts", "type": "console",
                        "format": "json"}]}
        path = os.path.join(tmp, "job.json")
        with open(path, "w") as f:
            json.dump(j, f)
        prog = os.path.join(tmp, "p.jsonl")
        proc = subprocess.Popen([STREAMCTL, "run", path, "--progress", prog],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        got, lock = Counter(), threading.Lock()
        err = []

        def read_out():
            for line in proc.stdout:
                if line.startswith("{"):
                    with lock:
                        for k, v in json.loads(line).get("records", []):
                            got[k] += v

        def read_err():
            err.extend(proc.stderr)

        threads = [threading.Thread(target=read_out, daemon=True),
                   threading.Thread(target=read_err, daemon=True)]
        for t in threads:
            t.start()
        try:
            # the first batch fixed the start at the end of live-a
            wait_for(lambda: os.path.exists(prog) and
                     os.path.getsize(prog) > 0, 30, "a first batch")
            kcat_produce(b, "live-a", ["a x", "a y"])
            want = Counter({"a": 2, "x": 1, "y": 1})
            wait_for(lambda: dict(got) == dict(want), 30,
                     "live-a's new records")
            check(mc.command("topic live-b 3") == "ok", "topic live-b")
            kcat_produce(b, "live-b", ["b b b", "c"])
            kcat_produce(b, "other", ["no"])  # not matched by the pattern
            want.update({"b": 3, "c": 1})
            wait_for(lambda: dict(got) == dict(want), 30,
                     "the new topic's records")
            time.sleep(1)  # nothing more arrives
            check(got == want, "counts %r, want %r" % (got, want))
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rc = None
            for t in threads:
                t.join(5)
        check(rc == 0, "exit %r after SIGTERM: %s" % (rc, "".join(err)[-600:]))
    print("ok")


if __name__ == "__main__":
    main()
