#!/usr/bin/env python3
"""Record formats, with_file_name and dead letters. Three jobs at once:

- lines with with_file_name: each record is [path of the file, line]
  (the path as the watched directory was given, plus the relative name),
  for two files, CRLF and a last line without newline included;
- csv with header and a dead_letter file: p.csv (CRLF, a quoted field with
  the separator, a doubled quote, a last line without newline) and q.csv
  (its own header, two columns): the good rows are output as tuples of
  strings, the header lines never; the malformed ones (too few fields, a
  character after a closing quote, an empty line, too many fields) land
  in the dead-letter file in the one shape of docs/job-file.md
  ({"time_ms", "batch", "origin": {"source": "files"}, "reason":
  "malformed", "error", "text", "file", "line"}) with the file's path and
  the line number in the file (the header is line 1), and the exact
  errors the programming guide gives for column counts;
- json with with_file_name and the job's top-level dead_letter file:
  objects (lists of pairs), pairs, lists, strings, numbers, booleans,
  null; the malformed lines (invalid JSON, an empty line, trailing
  characters) in the dead-letter file.
SIGINT exits 0; no file is reported as skipped.
"""

import json
import os

from dirlib import (Job, Tree, check, now_ms, run, set_budget,
                    skipped_lines)

BATCH_MS = 300

P_CSV = ('id,name,score\r\n1,ann,3\r\n2,"bob, jr",4\n3,cy\n4,"d"x,5\n\n'
         '5,eve,"7"\n6,"q""uote",8')
Q_CSV = "a,b\nx,y\n1,2,3\n"
J_JSON = ('{"a":1,"b":[1,2]}\n[1,2]\n[1,2,3]\n"s"\n1.5\ntrue\nnull\n{bad\n'
          '\n1 2\n1e2\n')


def dead_letters(path):
    with open(path) as f:
        got = [json.loads(l) for l in f]
    start = now_ms()
    for d in got:
        check(set(d) == {"time_ms", "batch", "origin", "reason", "error",
                         "text", "file", "line"},
              "dead letter with fields %r" % sorted(d))
        check(d["origin"] == {"source": "files"} and
              d["reason"] == "malformed", "dead letter %r" % d)
        # "batch" is the batch's id (1, 2, ...), no time.
        check(isinstance(d["batch"], int) and 1 <= d["batch"] < 1000 and
              start - 60000 < d["time_ms"] <= start,
              "dead letter times %r" % d)
    return sorted(got, key=lambda d: (d["file"], d["line"]))


def top_level(job, dead):
    """The job with a top-level dead_letter file (its sources have none)."""
    job.doc["dead_letter"] = dead
    return job


def test():
    set_budget(30)
    with Tree("fmt-l") as tl, Tree("fmt-c") as tc, Tree("fmt-j") as tj:
        dead_c = tc.path("dead.jsonl")
        dead_j = tj.path("dead.jsonl")
        with Job(tl, "names", {"with_file_name": True}, BATCH_MS) as jl, \
                Job(tc, "csv", {"format": "csv", "header": True,
                                "dead_letter": dead_c}, BATCH_MS) as jc, \
                top_level(Job(tj, "json", {"format": "json",
                                           "with_file_name": True},
                              BATCH_MS), dead_j) as jj:
            for j in (jl, jc, jj):
                j.wait_started()
            jl.sleep_to_mid(0.5)
            tl.drop("one.txt", "l1\r\nl2\n")
            tl.drop("two.log", "l3\n\nl4")
            tc.drop("p.csv", P_CSV)
            tc.drop("q.csv", Q_CSV)
            tj.drop("j.json", J_JSON)
            t = now_ms()
            for j in (jl, jc, jj):
                j.wait_after(t, 3)
                err = j.stop()
                check(not skipped_lines(err), "%s: reports %r"
                      % (j.name, skipped_lines(err)))

            one = os.path.join(tl.inbox, "one.txt")
            two = os.path.join(tl.inbox, "two.log")
            want = [[one, "l1"], [one, "l2"], [two, "l3"], [two, ""],
                    [two, "l4"]]
            check(sorted(jl.records()) == sorted(want),
                  "with_file_name: records %r, expected %r"
                  % (jl.records(), want))

            want = [["1", "ann", "3"], ["2", "bob, jr", "4"],
                    ["5", "eve", "7"], ["6", 'q"uote', "8"], ["x", "y"]]
            check(sorted(jc.records()) == sorted(want),
                  "csv: records %r, expected %r" % (jc.records(), want))
            p = os.path.join(tc.inbox, "p.csv")
            q = os.path.join(tc.inbox, "q.csv")
            got = dead_letters(dead_c)
            want = [(p, 4, "3,cy", "expected 3 columns, got 2"),
                    (p, 5, '4,"d"x,5', None),
                    (p, 6, "", "expected 3 columns, got 1"),
                    (q, 3, "1,2,3", "expected 2 columns, got 3")]
            check(len(got) == len(want) and all(
                (g["file"], g["line"], g["text"]) == w[:3] and g["error"] and
                (w[3] is None or g["error"] == w[3])
                for g, w in zip(got, want)),
                "csv dead letters %r, expected (file, line, text, error) %r"
                % (got, want))

            f = os.path.join(tj.inbox, "j.json")
            want = [[f, v] for v in ([["a", 1], ["b", [1, 2]]], [1, 2],
                                     [1, 2, 3], "s", 1.5, True, None, 100)]
            check(sorted(map(json.dumps, jj.records())) ==
                  sorted(map(json.dumps, want)),
                  "json: records %r, expected %r" % (jj.records(), want))
            got = dead_letters(dead_j)
            want = [(f, 8, "{bad"), (f, 9, ""), (f, 10, "1 2")]
            check([(g["file"], g["line"], g["text"]) for g in got] == want
                  and all(g["error"] for g in got),
                  "json dead letters %r, expected (file, line, text) %r"
                  % (got, want))


run(test)
