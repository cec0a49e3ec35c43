#!/usr/bin/env python3
"""path_glob_filter and latest_first. Three jobs at once:

- glob (path_glob_filter "*.csv", lines format): a.csv, b.txt, c.CSV,
  d.csv.gz, .e.csv, f.csv.tmp, g.csv renamed in: only a.csv and g.csv are
  output (the glob is case-sensitive and matches the whole name; hidden
  and temporary names stay ignored);
- latest (inotify, latest_first, max_files_per_trigger 2): m1..m6 with
  mtimes 1..6 minutes ago, named so that name order is not mtime order,
  renamed in together: the batch after takes m6, m5; once that batch is
  output, m7 (mtime now) is renamed in: the next batches take {m7, m4},
  {m3, m2}, {m1}, back to back;
- latest-poll (poll, the same m1..m6 only): {m6, m5}, {m4, m3}, {m2, m1}
  in three consecutive batches.
SIGINT exits 0, nothing is reported.
"""

import os
import time

from dirlib import (Job, Tree, check, lines_of, now_ms, run, set_budget,
                    skipped_lines)

BATCH_MS = 300
# name -> minutes ago (names in the reverse of mtime order)
AGES = {"z1.txt": 6, "y2.txt": 5, "x3.txt": 4, "w4.txt": 3, "v5.txt": 2,
        "u6.txt": 1}


def line(name):
    return "m" + name[1]


def groups(job):
    return [sorted(b["records"]) for b in job.batches() if b["records"]]


def consecutive(job):
    times = [b["time_ms"] for b in job.batches() if b["records"]]
    return all(b - a == job.batch_ms for a, b in zip(times, times[1:]))


def test():
    set_budget(30)
    with Tree("glob") as tg, Tree("latest") as tl, Tree("latest-p") as tp, \
            Job(tg, "glob", {"path_glob_filter": "*.csv"}, BATCH_MS) as jg, \
            Job(tl, "latest", {"latest_first": True,
                               "max_files_per_trigger": 2}, BATCH_MS) as jl, \
            Job(tp, "latest-poll", {"watch": "poll", "latest_first": True,
                                    "max_files_per_trigger": 2},
                BATCH_MS) as jp:
        now = time.time()
        for tree in (tl, tp):
            for name, age in AGES.items():
                tree.staged(name, lines_of(line(name)), mtime=now - 60 * age)
        globbed = ["a.csv", "b.txt", "c.CSV", "d.csv.gz", ".e.csv",
                   "f.csv.tmp", "g.csv"]
        for name in globbed:
            tg.staged(name, lines_of(name))
        for j in (jg, jl, jp):
            j.wait_started()
        jl.sleep_to_mid(0.5)
        for name in globbed:
            tg.move_in(os.path.join(tg.stage, name))
        for tree in (tl, tp):
            for name in sorted(AGES):
                tree.move_in(os.path.join(tree.stage, name))
        first = jl.wait_batch(lambda b: b["records"], 5, "the first files")
        check(sorted(first["records"]) == ["m5", "m6"],
              "latest: the first batch with files took %r, expected the two "
              "newest, m5 and m6" % first["records"])
        jl.sleep_to_mid(0.5)
        check(len(groups(jl)) == 1, "latest: a batch ran before m7 could be "
              "renamed in")
        tl.move_in(tl.staged("t7.txt", lines_of("m7")))
        t = now_ms()
        for j in (jg, jl, jp):
            j.wait_after(t, 5)
            err = j.stop()
            check(not skipped_lines(err), "%s: reports %r"
                  % (j.name, skipped_lines(err)))
        check(sorted(jg.records()) == ["a.csv", "g.csv"],
              "glob: records %r, expected a.csv and g.csv" % jg.records())
        want = [["m5", "m6"], ["m4", "m7"], ["m2", "m3"], ["m1"]]
        check(groups(jl) == want and consecutive(jl),
              "latest: batches with files %r, expected %r back to back"
              % (groups(jl), want))
        want = [["m5", "m6"], ["m3", "m4"], ["m1", "m2"]]
        check(groups(jp) == want and consecutive(jp),
              "latest-poll: batches with files %r, expected %r back to back"
              % (groups(jp), want))


run(test)
