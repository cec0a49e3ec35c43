#!/usr/bin/env python3
"""include_existing on and off, in inotify and poll mode (four jobs at
once, each on its own directory holding the same files before it starts:
e1.txt, e2.txt with mtime 2000-01-01, a hidden .e3, and f4.txt with an
mtime an hour ahead: modified after the start, as a file moved in while
the source starts up is).

- on: e1 and e2 are output in the job's first batch, once;
- off: they are never output (waiting 5 batches and past the new file);
- either way f4 is output once (as new: its mtime is after the start),
  .e3 never is, and n1.txt renamed in after the start is
  taken in the first batch after the rename (poll: or the next).
SIGINT exits 0, nothing is reported.
"""

import contextlib
import time

from dirlib import (Job, Tree, check, check_placed, lines_of, now_ms,
                    placement, run, set_budget, skipped_lines)

BATCH_MS = 300
OLD = 946684800


def test():
    set_budget(30)
    cases = [(mode, inc) for mode in ("inotify", "poll")
             for inc in (True, False)]
    with contextlib.ExitStack() as stack:
        trees = [stack.enter_context(Tree("exist")) for _ in cases]
        for t in trees:
            t.move_in(t.staged("e1.txt", lines_of("e1a", "e1b")))
            t.move_in(t.staged("e2.txt", lines_of("e2"), mtime=OLD))
            t.move_in(t.staged(".e3", lines_of("e3")))
            t.move_in(t.staged("f4.txt", lines_of("f4"),
                               mtime=time.time() + 3600))
        jobs = [stack.enter_context(
                    Job(t, "existing-%s-%s" % (mode, "on" if inc else "off"),
                        {"watch": mode, "include_existing": inc}, BATCH_MS))
                for t, (mode, inc) in zip(trees, cases)]
        for j in jobs:
            j.wait_started()
        first = jobs[0]
        first.wait_after(first.batches()[0]["time_ms"], 2)
        first.sleep_to_mid(0.5)
        t0 = now_ms()
        for t in trees:
            t.move_in(t.staged("n1.txt", lines_of("n1")))
        t1 = now_ms()
        for j in jobs:
            j.wait_after(t1, 5)
        for j, (mode, inc) in zip(jobs, cases):
            err = j.stop()
            check(not skipped_lines(err), "%s: reports %r"
                  % (j.name, skipped_lines(err)))
            recs = sorted(j.records())
            want = sorted(["n1", "f4"] +
                          (["e1a", "e1b", "e2"] if inc else []))
            check(recs == want, "%s: records %r, expected %r"
                  % (j.name, recs, want))
            if inc:
                b1 = j.batches()[0]
                check(b1["batch"] == 1 and
                      sorted(b1["records"]) == ["e1a", "e1b", "e2", "f4"],
                      "%s: the first batch output is %r, expected the "
                      "existing files' lines" % (j.name, b1))
            check_placed(j, placement(j.batches()), "n1", t0, t1,
                         mode == "poll", "n1.txt")

run(test)
