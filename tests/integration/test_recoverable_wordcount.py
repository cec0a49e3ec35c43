#!/usr/bin/env python3
"""recoverable_network_wordcount against a real `ncat -lk`: the running
totals survive a graceful stop and a kill -9 (state and receiver WAL in
the checkpoint directory), batch times go on after the earlier run's, and
no word is counted twice. Spark: RecoverableNetworkWordCount example,
StreamingContext.getOrCreate."""

import os
import shutil
import signal
import sys
import tempfile

from itlib import Job, Ncat, check, free_port, log, main


def last_counts(job):
    got = job.batches()
    return got[-1][1] if got else {}


def run(prog, port, ck, send, want, sig):
    """Start on ck, send the line, wait for the totals want, stop with
    sig; returns the batch times printed."""
    with Ncat(port) as ncat, \
            Job([prog, "127.0.0.1", port, ck, "--batch", "200ms",
                 "--workers", "2"]) as job:
        ncat.wait_connections(1)
        ncat.send(send)
        job.wait_batch(lambda c: c == want, 20, "totals %r" % want)
        rc = job.stop(sig)
        if sig == signal.SIGKILL:
            check(rc == -signal.SIGKILL, "exit status %s after SIGKILL" % rc)
        else:
            check(rc == 0, "exit status %s after SIGINT, expected 0" % rc)
        for b in job.batches():
            check(all(b[1].get(w, 0) <= c for w, c in want.items()),
                  "a total above %r: %r" % (want, b[1]))
        return [b[0] for b in job.batches()]


def test():
    prog = sys.argv[1]
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="sl-recoverable-")
    ck = os.path.join(tmp, "ck")
    try:
        t1 = run(prog, port, ck, b"apple banana apple\n",
                 {b"apple": 2, b"banana": 1}, signal.SIGINT)
        check(os.path.isfile(os.path.join(ck, "metadata")),
              "no checkpoint metadata in %s" % ck)
        t2 = run(prog, port, ck, b"apple cherry\n",
                 {b"apple": 3, b"banana": 1, b"cherry": 1}, signal.SIGKILL)
        check(min(t2) > max(t1), "batch times restarted: %r after %r"
              % (t2[:3], t1[-3:]))
        run(prog, port, ck, b"banana\n",
            {b"apple": 3, b"banana": 2, b"cherry": 1}, signal.SIGINT)
        log("totals carried over a graceful stop and a kill -9")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(test)
