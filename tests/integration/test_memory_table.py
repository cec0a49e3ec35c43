#!/usr/bin/env python3
"""The workshop's memory-table flow against a real `ncat -lk`
(examples/streaming/memory_table.c): lines sent in two batch intervals land
in the memory table new_dataframe in append mode, and the SPLIT query run
through sl_context_sql returns them split into Col1 and Col2 (Spark:
writeStream.format("memory").queryName("new_dataframe"), then spark.sql)."""

import json
import sys

from itlib import Job, Ncat, check, free_port, log, main, wait_until


def results(text):
    """The printed query results: [[row, ...], ...], oldest first."""
    out, cur, left = [], None, 0
    for line in text.splitlines():
        if line.startswith("query: "):
            left = int(line.split()[1])
            cur = []
            if left == 0:
                out.append(cur)
            continue
        check(cur is not None and left > 0, "unexpected line %r" % line)
        cur.append(json.loads(line))
        left -= 1
        if left == 0:
            out.append(cur)
    return out


def test():
    prog = sys.argv[1]
    port = free_port()
    with Ncat(port) as ncat, \
            Job([prog, "127.0.0.1", port, "--batch", "300ms"]) as job:
        ncat.wait_connections(1)
        ncat.send(b"a,1\nb,2\n")
        first = wait_until(lambda: [r for r in results(job.out.text())
                                    if len(r) == 2], 15, "the first lines")
        ncat.send(b"c,3\nno comma\n")
        last = wait_until(lambda: [r for r in results(job.out.text())
                                   if len(r) == 4], 15, "the second lines")
        rc = job.stop()
        check(rc == 0, "exit status %s after SIGINT, expected 0" % rc)
        log("results: %r" % results(job.out.text()))
        check(first[0] == [["a", "1"], ["b", "2"]],
              "after the first lines: %r" % first[0])
        check(last[0] == [["a", "1"], ["b", "2"], ["c", "3"],
                          ["no comma", None]],
              "after the second lines: %r" % last[0])
        sizes = [len(r) for r in results(job.out.text())]
        check(sizes == sorted(sizes) and set(sizes) <= {2, 4},
              "the table only grows by whole batches: %r" % sizes)


if __name__ == "__main__":
    main(test)
