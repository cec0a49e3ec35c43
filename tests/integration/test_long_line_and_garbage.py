#!/usr/bin/env python3
"""Hostile input: a 3 MiB line and a 100 MiB line (over the default
receiver.max_line_bytes of 1 MiB), binary garbage with NUL bytes, CRLF line
endings. The job must keep running, drop the long lines without holding
them in memory (and say so in its log), and count the normal lines that
follow exactly."""

import random
import re
import sys

from itlib import Job, Ncat, check, free_port, log, main, nonempty

WS = b" \t\r\n\v\f"


def garbage(n):
    """n random bytes with NULs but no whitespace: one word, one line."""
    rnd = random.Random(7)
    data = bytearray(rnd.randrange(256) for _ in range(n))
    data = bytes(b if b not in WS else 0 for b in data)
    return b"\0\0" + data + b"\0"


def peak_rss_kib(pid):
    """VmHWM of a live process, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def test():
    wordcount = sys.argv[1]
    port = free_port()
    with Ncat(port) as ncat, \
            Job([wordcount, "127.0.0.1", port, "--batch", "500ms"]) as job:
        ncat.wait_connections(1)
        ncat.send(b"before\n" + b"x" * (3 << 20) + b"\n")
        ncat.send(b"y" * (100 << 20) + b"\n")
        ncat.send(garbage(4000) + b"\n")
        ncat.send(b"crlf one\r\ncrlf two\r\n")
        first = job.wait_batch(lambda c: b"crlf" in c, 20, "the CRLF words")
        check(job.alive(), "the job died on hostile input")
        hwm = peak_rss_kib(job.proc.pid)
        log("peak RSS after the 100 MiB line: %d KiB" % hwm)
        check(hwm < 96 * 1024, "the over-long line was buffered: peak RSS "
              "%d KiB" % hwm)
        ncat.send(b"after the storm\nthe end\n")
        last = job.wait_batch(lambda c: b"storm" in c, 15, "normal lines")
        job.wait_batches_after(last[0], 1, 10)
        check(job.alive(), "the job died")
        rc = job.stop()
        check(rc == 0, "exit status %s, expected 0" % rc)

        batches = job.batches()
        log("non-empty batches: %r"
            % [(b[0], {k[:20]: v for k, v in b[1].items()},
                [o[:20] for o in b[3]]) for b in nonempty(batches)])
        check(last[1] == {b"after": 1, b"the": 2, b"storm": 1, b"end": 1},
              "normal lines after the garbage: %r" % last[1])
        words = {}
        for b in batches:
            for w, c in b[1].items():
                words[w] = words.get(w, 0) + c
            for o in b[3]:
                check(not o.startswith(b"(xxxxxxxx"),
                      "the over-long line was printed")
        check(not any(w.startswith(b"xxxxxxxx") or w.startswith(b"yyyyyyyy")
                      for w in words), "an over-long line was counted")
        check(words.get(b"before") == 1, "'before' counted %r times"
              % words.get(b"before"))
        check(words.get(b"crlf") == 2 and words.get(b"one") == 1 and
              words.get(b"two") == 1,
              "CRLF lines miscounted: %r" % {k: v for k, v in words.items()
                                             if len(k) < 10})
        check(not any(w.endswith(b"\r") for w in words),
              "a word kept its carriage return")
        # The garbage line is one word however it prints; normal words are
        # all accounted for above.
        err = job.err.text()
        check(re.search(r"too long|longer than", err, re.I),
              "no warning about the over-long line in the log")


if __name__ == "__main__":
    main(test)
