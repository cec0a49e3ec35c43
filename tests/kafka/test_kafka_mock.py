#!/usr/bin/env python3
"""streamctl kafka-mock: the first line names bootstrap.servers; topics
given on the command line exist with their partitions; records produced
by kcat and by Python's kafka module are read back by kcat in full; the
stdin commands answer ok or a clear error; `rtt` delays a broker's
responses (a produce takes at least the delay) until set back to 0."""

import sys
import time

from kafkalib import (MockCluster, check, kcat_consume, kcat_produce, need,
                      py_produce)

STREAMCTL = sys.argv[1]


def main():
    need("kcat")
    with MockCluster(STREAMCTL, brokers=2, topics=["words:3"]) as mc:
        check(len(mc.bootstrap.split(",")) == 2, mc.bootstrap)
        kcat_produce(mc.bootstrap, "words",
                     ["k%d:v%d" % (i, i) for i in range(30)], key_sep=":")
        py_produce(mc.bootstrap, "words",
                   [(b"p%d" % i, b"w%d" % i) for i in range(30)])
        got = kcat_consume(mc.bootstrap, "words", "%p\t%k\t%s\n")
        check(len(got) == 60, "read back %d records" % len(got))
        parts = {l.split("\t")[0] for l in got}
        check(parts <= {"0", "1", "2"} and len(parts) > 1,
              "partitions used: %r" % parts)
        values = sorted(l.split("\t")[2] for l in got)
        want = sorted(["v%d" % i for i in range(30)] +
                      ["w%d" % i for i in range(30)])
        check(values == want, "values %r" % values[:5])
        check(mc.command("topic later 2") == "ok", "topic command")
        kcat_produce(mc.bootstrap, "later", ["x"], partition=1)
        check(kcat_consume(mc.bootstrap, "later", "%p %s\n") == ["1 x"],
              "the topic made by command")
        check(mc.command("errors Produce 1 NOT_LEADER_FOR_PARTITION") == "ok",
              "errors command")
        check(mc.command("clear") == "ok", "clear")
        r = mc.command("errors Produce 1 NO_SUCH_ERROR")
        check(r.startswith("error: unknown error name"), r)
        r = mc.command("frobnicate")
        check(r.startswith("error: unknown command"), r)
        check(mc.command("down 2") == "ok" and mc.command("up 2") == "ok",
              "down and up")
        slow = []
        for ms in (600, 0):
            check(mc.command("rtt 1 %d" % ms) == "ok" and
                  mc.command("rtt 2 %d" % ms) == "ok", "rtt %d" % ms)
            t0 = time.monotonic()
            kcat_produce(mc.bootstrap, "later", ["r%d" % ms], partition=0)
            slow.append(time.monotonic() - t0)
        print("kcat -P of one record: %.3f s with rtt 600 ms, %.3f s with 0"
              % tuple(slow))
        check(slow[0] >= 0.6 and slow[1] < slow[0] - 0.3,
              "rtt: produce took %.3f s then %.3f s" % tuple(slow))
        r = mc.command("rtt 9 10")
        check(r.startswith("error:"), "rtt of an unknown broker: %r" % r)
    print("ok")


if __name__ == "__main__":
    main()
