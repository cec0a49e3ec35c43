#!/usr/bin/env python3
"""clean_source archive and delete: a file goes away from the watched
directory only after every sink finished its batch. Two jobs at once:
"archive" (recursive_file_lookup, source_archive_dir outside the watched
directory) and "delete".

1. a.txt, and a directory d/ holding b.txt and e/c.txt, renamed in: their
   lines are output once; then, within 3 s, they are gone from the watched
   directory; archive: they are at ARCHIVE/a.txt, ARCHIVE/d/b.txt and
   ARCHIVE/d/e/c.txt with the same bytes (the path below the watched
   directory kept); delete: nowhere.
2. "only after the output", made deterministic: the test stops reading the
   job's stdout, then renames in big.txt (20,000 lines: its json line is
   far larger than the pipe, so the console sink blocks writing it). Once
   the test's own inotify watch saw the job open big.txt (its batch is
   running) and 3 more intervals passed, big.txt must still be in the
   watched directory and not archived. Then the test reads stdout again:
   the batch is output, and within 3 s big.txt is archived/deleted.
No file is reported, every line is output exactly once, SIGINT exits 0.
"""

import os
import time

from dirlib import (Job, OpenWatch, Tree, check, lines_of, log, run,
                    set_budget, skipped_lines, wait_until)

BATCH_MS = 300
BIG = ["big:%05d:%s" % (i, "q" * 30) for i in range(20000)]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test():
    set_budget(40)
    with Tree("clean-a") as ta, Tree("clean-d") as td:
        archive = ta.path("archive")
        jobs = ((ta, Job(ta, "clean-archive", {
                    "clean_source": "archive", "source_archive_dir": archive,
                    "recursive_file_lookup": True}, BATCH_MS)),
                (td, Job(td, "clean-delete", {
                    "clean_source": "delete", "recursive_file_lookup": True},
                    BATCH_MS)))
        with jobs[0][1] as ja, jobs[1][1] as jd:
            watches = [OpenWatch(t.inbox) for t, _ in jobs]
            ja.wait_started()
            jd.wait_started()
            small = {"a.txt": lines_of("a1", "a2"),
                     "d/b.txt": lines_of("b1"),
                     "d/e/c.txt": lines_of("c1", "c2", "c3")}
            for tree, _ in jobs:
                for rel, data in small.items():
                    tree.staged(rel, data)
            ja.sleep_to_mid(0.5)
            for tree, _ in jobs:
                tree.move_in(os.path.join(tree.stage, "a.txt"))
                tree.move_in(os.path.join(tree.stage, "d"))
            want = ["a1", "a2", "b1", "c1", "c2", "c3"]
            for tree, job in jobs:
                job.wait_batch(lambda b: len(job.records()) >= len(want), 5,
                               "the small files' lines")
                wait_until(lambda: not any(
                    os.path.exists(os.path.join(tree.inbox, r))
                    for r in small), 3,
                    "%s: the small files to go away" % job.name)
            for rel, data in small.items():
                p = os.path.join(archive, rel)
                check(os.path.isfile(p) and read(p) == data.encode(),
                      "clean-archive: %s is not in the archive as %s with "
                      "its bytes" % (rel, p))
            check(sorted(os.listdir(td.root)) ==
                  sorted(["in", "stage", "clean-delete.json"]) and
                  not os.path.exists(os.path.join(td.inbox, "a.txt")),
                  "clean-delete: unexpected files %r" % os.listdir(td.root))

            # 2. Blocked sink: the files must wait for it.
            for tree, job in jobs:
                job.out.pause()
                tree.staged("big.txt", lines_of(*BIG))
            ja.sleep_to_mid(0.5)
            for tree, _ in jobs:
                tree.move_in(os.path.join(tree.stage, "big.txt"))
            for (tree, job), w in zip(jobs, watches):
                check(w.wait_open("big.txt", 5),
                      "%s: big.txt was not opened within 5 s" % job.name)
            time.sleep(3 * BATCH_MS / 1000.0)
            for tree, job in jobs:
                check(job.alive(), "%s exited" % job.name)
                check(os.path.isfile(os.path.join(tree.inbox, "big.txt")),
                      "%s: big.txt was cleaned while its batch's output "
                      "was still being written" % job.name)
            check(not os.path.exists(os.path.join(archive, "big.txt")),
                  "clean-archive: big.txt archived before its output")
            for tree, job in jobs:
                job.out.resume()
            for tree, job in jobs:
                job.wait_batch(lambda b: BIG[-1] in b["records"], 10,
                               "big.txt's lines")
                wait_until(lambda: not os.path.exists(
                    os.path.join(tree.inbox, "big.txt")), 3,
                    "%s: big.txt to go away" % job.name)
            check(read(os.path.join(archive, "big.txt")) ==
                  lines_of(*BIG).encode(),
                  "clean-archive: big.txt's archived bytes differ")
            for w in watches:
                w.close()
            for tree, job in jobs:
                err = job.stop()
                check(sorted(job.records()) == sorted(want + BIG),
                      "%s: %d records, expected %d (each once)"
                      % (job.name, len(job.records()), len(want + BIG)))
                check(not skipped_lines(err) and "cannot" not in err,
                      "%s: unexpected log lines: %s" % (job.name, err))
            log("archive: %s" % sorted(
                os.path.relpath(os.path.join(d, f), archive)
                for d, _, fs in os.walk(archive) for f in fs))


run(test)
