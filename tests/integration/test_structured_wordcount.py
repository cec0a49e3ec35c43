#!/usr/bin/env python3
"""examples/streaming/structured_network_wordcount.c against a real
`ncat -lk`: the SQL stream's running counts (complete mode, printed as
Spark's console sink tables) give the same counts as network_wordcount's
would over all the lines sent, including the empty word Spark's split
keeps between two spaces; each printed table holds every word seen so far
(complete mode) and counts never go down."""

import re
import sys

from itlib import Job, Ncat, check, free_port, log, main, wait_until

ROW = re.compile(rb"^\|\s*(.*?)\|\s*(\d+)\|$")


def tables(text):
    """Each printed batch table as {word: count}."""
    out, cur = [], None
    for line in text.splitlines():
        if line.startswith(b"Batch: "):
            cur = {}
            out.append(cur)
        m = ROW.match(line)
        if m and cur is not None:
            cur[m.group(1)] = int(m.group(2))
    return out


def test():
    prog = sys.argv[1]
    port = free_port()
    want = {b"sluice": 3, b"spark": 1, b"river": 3, b"": 1}
    with Ncat(port) as ncat, \
            Job([prog, "127.0.0.1", port, "--batch", "300ms"]) as job:
        ncat.wait_connections(1)
        ncat.send(b"sluice spark sluice\nriver sluice\n")
        wait_until(lambda: any(t.get(b"sluice") == 3
                               for t in tables(job.out.data())), 15,
                   "the first counts")
        ncat.send(b"river  river\n")
        wait_until(lambda: any(t == want for t in tables(job.out.data())), 15,
                   "the counts %r" % want)
        rc = job.stop()
        check(rc == 0, "exit status %s after SIGINT, expected 0" % rc)
        seen = tables(job.out.data())
        log("last table: %r" % seen[-1])
        check(seen[-1] == want, "last table %r, want %r" % (seen[-1], want))
        for a, b in zip(seen, seen[1:]):
            check(all(b.get(w, 0) >= c for w, c in a.items()),
                  "a count went down: %r then %r" % (a, b))


if __name__ == "__main__":
    main(test)
