#!/usr/bin/env python3
"""inotify: a file system unmounted under the watcher. The kernel drops the
watch (IN_UNMOUNT, IN_IGNORED) and no event tells the parent, so the
watcher must notice by itself.

1. The watched directory is a tmpfs mount: a.txt is read; the tmpfs is
   unmounted; b.txt put into the directory now at the path (the one that
   was under the mount) is read. One warning "directory source PATH: the
   directory was unmounted".
2. recursive_file_lookup, and the subdirectory sub is a tmpfs mount: c.txt
   in sub is read; the tmpfs is unmounted; d.txt put into sub (now the
   directory under the mount) is read. One warning "lost the watch of
   'sub' (unmounted)".

Files are written under a hidden name in their directory and renamed to
their name (a rename cannot cross file systems). Needs root and mount
permission (skipped otherwise).
"""

import os
import subprocess

from dirlib import (SKIP, Job, Tree, check, lines_of, log, now_ms, run,
                    set_budget)

BATCH_MS = 300


def mount(path):
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "sl-test",
                        path], stderr=subprocess.PIPE, timeout=10)
    return r.returncode == 0, r.stderr.decode(errors="replace").strip()


def umount(path):
    subprocess.run(["umount", path], check=True, timeout=10)


def put(directory, name, text):
    tmp = os.path.join(directory, "." + name)
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, os.path.join(directory, name))


def warnings(job, tree, what):
    prefix = "directory source %s: %s" % (tree.inbox, what)
    return [l for l in job.stderr().split("\n") if prefix in l]


def case(tree, job, directory, first, second, what):
    job.wait_started()
    put(directory, first + ".txt", lines_of(first))
    job.wait_batch(lambda b: first in b["records"], 5, first)
    umount(directory)
    t = now_ms()
    job.wait_after(t, 2)
    put(directory, second + ".txt", lines_of(second))
    job.wait_batch(lambda b: second in b["records"], 5,
                   "%s after the unmount" % second)
    job.stop()
    recs = sorted(job.records())
    check(recs == [first, second], "%s: records %r, expected %s and %s once"
          % (job.name, recs, first, second))
    got = warnings(job, tree, what)
    check(len(got) == 1, "%s: expected one warning \"%s\", got %r"
          % (job.name, what, got))


def test():
    set_budget(40)
    if os.geteuid() != 0:
        log("not root: cannot mount; skipping")
        raise SystemExit(SKIP)
    with Tree("umnt-root") as tr, Tree("umnt-sub") as ts:
        ok, err = mount(tr.inbox)
        if not ok:
            log("cannot mount a tmpfs (%s); skipping" % err)
            raise SystemExit(SKIP)
        mounted = [tr.inbox]
        try:
            with Job(tr, "unmount-root", {"watch": "inotify"},
                     BATCH_MS) as job:
                case(tr, job, tr.inbox, "a", "b", "the directory was unmounted")
            mounted = []
            sub = ts.sub("in", "sub")
            check(mount(sub)[0], "mount of %s failed" % sub)
            mounted = [sub]
            with Job(ts, "unmount-sub", {"watch": "inotify",
                                         "recursive_file_lookup": True},
                     BATCH_MS) as job:
                case(ts, job, sub, "c", "d",
                     "lost the watch of 'sub' (unmounted)")
            mounted = []
        finally:
            for m in mounted:
                subprocess.run(["umount", "-l", m], timeout=10)


run(test)
