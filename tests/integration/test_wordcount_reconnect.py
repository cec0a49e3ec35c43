#!/usr/bin/env python3
"""The server goes away mid-run and comes back on the same port: the
receiver notices, reconnects with back-off, and counts what the new server
sends; nothing is counted twice."""

import signal
import sys
import time

from itlib import (Job, Ncat, check, check_times, check_totals, free_port,
                   log, main)


def test():
    wordcount = sys.argv[1]
    port = free_port()
    with Job([wordcount, "127.0.0.1", port, "--batch", "500ms"]) as job:
        with Ncat(port) as ncat:
            ncat.wait_connections(1)
            ncat.send(b"red green\nred\n")
            job.wait_batch(lambda c: b"red" in c, 15, "the first server's "
                           "words")
            # An unterminated last line is still a line once the
            # connection ends (Spark's socket receiver).
            ncat.send(b"blue")
            time.sleep(0.3)
        # Killed: the job sees EOF and retries against a closed port.
        time.sleep(1.0)
        check(job.alive(), "the job died with the server")
        with Ncat(port) as ncat:
            ncat.wait_connections(1, timeout=15)
            ncat.send(b"green yellow\nyellow\n")
            last = job.wait_batch(lambda c: b"yellow" in c, 15,
                                  "the second server's words")
            job.wait_batches_after(last[0], 1, 10)
        rc = job.stop(signal.SIGTERM)
        check(rc == 0, "exit status %s, expected 0" % rc)
        batches = job.batches()
        log("batches: %r" % [(b[0], b[1]) for b in batches if b[1]])
        check(last[1] == {b"green": 1, b"yellow": 2},
              "batch after reconnecting: %r" % last[1])
        check_totals(batches, {b"red": 2, b"green": 2, b"blue": 1,
                               b"yellow": 2})
        check_times(batches, 500)
        err = job.err.text()
        check("closed" in err and "reconnecting" in err,
              "no reconnect message in the log")


if __name__ == "__main__":
    main(test)
