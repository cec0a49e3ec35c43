#!/usr/bin/env python3
"""Plain files larger than split_bytes are read in line-aligned splits, one
partition each: every line exactly once. split_bytes 64k (its minimum),
two jobs at once:

- lines: a.txt, 240,000 bytes of 50-byte lines (splits end inside lines);
  b.txt, exactly 131,072 bytes of 64-byte lines (splits end exactly at a
  line's end); c.txt, 70,000 bytes with no newline at the end;
- csv with columns "k,v" and a dead_letter file: d.csv, 5,000 rows of
  about 30 bytes (well above split_bytes; CSV files are read whole), rows
  10, 2,500 and 5,000 malformed (three fields): the other 4,997 output
  once, and the dead-letter file holds exactly the three, with their line
  numbers in the file.
"""

import json
import os

from dirlib import (Job, Tree, check, lines_of, now_ms, run, set_budget,
                    skipped_lines)

BATCH_MS = 300


def dupes(recs):
    seen, out = set(), set()
    for r in recs:
        key = json.dumps(r)
        if key in seen:
            out.add(key)
        seen.add(key)
    return sorted(out)


def test():
    set_budget(30)
    a = ["a:%06d:%s" % (i, "x" * 40) for i in range(4800)]
    b = ["b:%06d:%s" % (i, "y" * 54) for i in range(2048)]
    c = ["c:%06d:%s" % (i, "z" * 59) for i in range(1000)]
    rows = []
    for i in range(1, 5001):
        rows.append("k%05d,%s" % (i, "v" * 20) if i not in (10, 2500, 5000)
                    else "k%05d,bad,row" % i)
    with Tree("split-l") as tl, Tree("split-c") as tc:
        dead = tc.path("dead.jsonl")
        with Job(tl, "splits-lines", {"split_bytes": "64k"}, BATCH_MS) as jl, \
                Job(tc, "splits-csv", {"split_bytes": "64k", "format": "csv",
                                       "columns": ["k", "v"],
                                       "dead_letter": dead},
                    BATCH_MS) as jc:
            tl.staged("a.txt", lines_of(*a))
            tl.staged("b.txt", lines_of(*b))
            tl.staged("c.txt", "\n".join(c))
            tc.staged("d.csv", lines_of(*rows))
            check(os.path.getsize(os.path.join(tl.stage, "b.txt")) == 131072,
                  "b.txt has the wrong size")
            jl.wait_started()
            jc.wait_started()
            jl.sleep_to_mid(0.5)
            for n in ("a.txt", "b.txt", "c.txt"):
                tl.move_in(os.path.join(tl.stage, n))
            tc.move_in(os.path.join(tc.stage, "d.csv"))
            t = now_ms()
            for j in (jl, jc):
                j.wait_after(t, 4)
            problems = []
            err = jl.stop()
            recs = jl.records()
            want = a + b + c
            if sorted(recs) != sorted(want):
                problems.append(
                    "lines: %d records for %d lines; %d lines output more "
                    "than once (first %r), %d missing" % (
                        len(recs), len(want), len(dupes(recs)),
                        dupes(recs)[:1], len(set(want) - set(recs))))
            err += jc.stop()
            recs = jc.records()
            want = [r.split(",") for r in rows if r.count(",") == 1]
            if sorted(recs) != sorted(want):
                problems.append(
                    "csv: %d records for %d good rows; %d output more than "
                    "once" % (len(recs), len(want), len(dupes(recs))))
            with open(dead) as f:
                got = [json.loads(l) for l in f]
            got = sorted((d["line"], d["text"]) for d in got)
            want = [(i, rows[i - 1]) for i in (10, 2500, 5000)]
            if got != want:
                problems.append("dead letters (line, text) %r, expected %r"
                                % (got[:8], want))
            check(not skipped_lines(err), "reports %r" % skipped_lines(err))
            check(not problems, "\n  ".join(problems))


run(test)
