#!/usr/bin/env python3
"""network_wordcount against a real `ncat -lk`: lines written in two batch
intervals are counted exactly, each group in its own batch, and SIGINT stops
the job cleanly (exit 0). Spark: NetworkWordCount example, DStream.print."""

import sys

from itlib import (Job, Ncat, check, check_times, free_port, log, main,
                   nonempty)

BATCH_MS = 500


def test():
    wordcount = sys.argv[1]
    port = free_port()
    with Ncat(port) as ncat, \
            Job([wordcount, "127.0.0.1", port, "--batch", "500ms",
                 "--workers", "2"]) as job:
        ncat.wait_connections(1)
        # Each group is one small write: one segment, read at once, so it
        # lands in one batch.
        ncat.send(b"apple banana apple\ncherry  apple\tbanana\n")
        first = job.wait_batch(lambda c: b"apple" in c, 15, "batch 1")
        ncat.send(b"date elder\nelder\n")
        second = job.wait_batch(lambda c: b"date" in c, 15, "batch 2")
        job.wait_batches_after(second[0], 2, 10)
        rc = job.stop()
        check(rc == 0, "exit status %s after SIGINT, expected 0" % rc)
        batches = job.batches()
        log("batches: %r" % [(b[0], b[1]) for b in batches])
        check(not any(b[3] for b in batches), "unparsable output lines")
        check(first[1] == {b"apple": 3, b"banana": 2, b"cherry": 1},
              "first batch %r" % first[1])
        check(second[1] == {b"date": 1, b"elder": 2},
              "second batch %r" % second[1])
        check(second[0] > first[0], "second batch is not later")
        got = [b[1] for b in nonempty(batches)]
        check(got == [first[1], second[1]],
              "non-empty batches %r: expected exactly the two groups" % got)
        check_times(batches, BATCH_MS)
        check(len(batches) >= 4, "only %d batches printed" % len(batches))


if __name__ == "__main__":
    main(test)
