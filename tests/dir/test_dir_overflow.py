#!/usr/bin/env python3
"""inotify event-queue overflow: the source lists the directory instead.

Before the flood, before.txt is renamed in and output. Then, within one
batch interval, the test makes more events than the kernel queues
(fs.inotify.max_queued_events, plus 2,000: writes alternating between two
hidden files, so that the kernel cannot merge them), and renames in
new.txt (mtime now), recent.txt (mtime an hour ago) and old.txt (mtime
2000-01-01), whose own events are lost in the overflow. The job must log
"inotify queue overflow; listing the directory"; the listing then takes
new.txt and recent.txt, once each, does not take before.txt again, and,
as the programming guide's one exception to "ages are measured from when
sluice found the file" says, treats old.txt (mtime older than
max_file_age, 168h) as seen long ago: never output.
An attempt whose flood did not overflow (the job drained the queue in
the middle of it) is retried, up to 3 times.
"""

import os
import time

from dirlib import (SKIP, Job, Tree, check, lines_of, log, now_ms, run,
                    set_budget)

BATCH_MS = 300
OLD = 946684800
WARN = "inotify queue overflow; listing the directory"


def test():
    set_budget(40)
    with open("/proc/sys/fs/inotify/max_queued_events") as f:
        limit = int(f.read())
    if limit > 500000:
        log("fs.inotify.max_queued_events is %d: too many events to make "
            "quickly; skipping" % limit)
        raise SystemExit(SKIP)
    with Tree("ovf") as tree, \
            Job(tree, "overflow", {"watch": "inotify"}, BATCH_MS) as job:
        job.wait_started()
        fds = [os.open(os.path.join(tree.inbox, n),
                       os.O_WRONLY | os.O_CREAT, 0o644) for n in (".a", ".b")]
        job.sleep_to_mid(0.5)
        tree.drop("before.txt", lines_of("before"))
        job.wait_batch(lambda b: "before" in b["records"], 5, "before.txt")
        names = ["before"]
        for attempt in range(1, 4):
            staged = [tree.staged("old%d.txt" % attempt,
                                  lines_of("old %d" % attempt), mtime=OLD),
                      tree.staged("recent%d.txt" % attempt,
                                  lines_of("recent %d" % attempt),
                                  mtime=time.time() - 3600),
                      tree.staged("new%d.txt" % attempt,
                                  lines_of("new %d" % attempt))]
            job.sleep_to_mid(0.05)
            t0 = now_ms()
            for _ in range(limit // 2 + 1000):
                os.write(fds[0], b"x")
                os.write(fds[1], b"y")
            for p in staged:
                tree.move_in(p)
            names += ["recent %d" % attempt, "new %d" % attempt]
            log("attempt %d: flood and renames took %d ms"
                % (attempt, now_ms() - t0))
            job.wait_after(now_ms(), 4)
            if WARN in job.stderr():
                break
            log("attempt %d: no overflow was logged; retrying" % attempt)
        for fd in fds:
            os.close(fd)
        err = job.stop()
        check(WARN in err, "no overflow in 3 attempts")
        recs = sorted(job.records())
        check(recs == sorted(names), "records %r, expected %r (each once; "
              "not the files with an mtime older than max_file_age)"
              % (recs, sorted(names)))


run(test)
