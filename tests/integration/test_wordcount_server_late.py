#!/usr/bin/env python3
"""The job starts before the server: connection attempts fail and back off
(the first failure is a warning; the rest within reconnect_max, 5 s by
default, are debug lines), and once the server is up its lines are
counted."""

import sys
import time

from itlib import Job, Ncat, check, check_totals, free_port, log, main


def test():
    wordcount = sys.argv[1]
    port = free_port()
    with Job([wordcount, "127.0.0.1", port, "--batch", "500ms"]) as job:
        # 100 + 200 + 400 + 800 ms of back-off pass in 1.5 s.
        time.sleep(2.0)
        check(job.alive(), "the job exited without a server")
        with Ncat(port) as ncat:
            # The back-off is at most 1.6 s here, well under the timeout.
            ncat.wait_connections(1, timeout=10)
            ncat.send(b"late comer\nlate\n")
            last = job.wait_batch(lambda c: b"late" in c, 15, "the words")
            job.wait_batches_after(last[0], 1, 10)
        rc = job.stop()
        check(rc == 0, "exit status %s, expected 0" % rc)
        batches = job.batches()
        log("batches: %r" % [(b[0], b[1]) for b in batches if b[1]])
        check_totals(batches, {b"late": 2, b"comer": 1})
        err = job.err.text()
        n = err.count("cannot connect to 127.0.0.1:%d" % port)
        check(n == 1, "%d 'cannot connect' lines at the default log level, "
              "expected 1 (later failures are debug)" % n)


if __name__ == "__main__":
    main(test)
