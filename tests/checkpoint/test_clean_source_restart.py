#!/usr/bin/env python3
"""clean_source after a crash between a batch's commit entry and its
cleaning (docs/checkpoint-format.md, "Recovery"): the restart calls the
last committed batch's source commit again, which deletes that batch's
input; the batch is not run again (its lines are not printed twice).

The crash is made exact rather than raced: every input file is also
hard-linked outside the watched directory, so after a run that cleaned
batch 3's file, linking it back gives the directory exactly as a SIGKILL
right after commits/3 became durable leaves it (same path, device, inode,
size and mtime: the file batch 3 took, not yet deleted). A poll-and-kill
would hit that instant only by luck (the window is a few microseconds).

usage: test_clean_source_restart.py STREAMCTL
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def write_job(work, max_batches):
    j = {
        "name": "clean-restart",
        "batch_interval": "1s",
        "clock": "manual",
        "max_batches": max_batches,
        "workers": 1,
        "conf": {"log.level": "warn"},
        "sources": {"files": {"type": "directory",
                              "path": os.path.join(work, "in"),
                              "include_existing": True,
                              "max_files_per_trigger": 1,
                              "clean_source": "delete"}},
        "sinks": [{"from": "files", "type": "console"}],
        "checkpoint": {"path": os.path.join(work, "ck")},
    }
    path = os.path.join(work, "job.json")
    with open(path, "w") as f:
        json.dump(j, f)
    return path


def run(streamctl, job):
    p = subprocess.run([streamctl, "run", job], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        sys.exit("streamctl run failed (%d): %s"
                 % (p.returncode, p.stderr.decode()[-2000:]))
    return p.stdout.decode(), p.stderr.decode()


def make_file(work, name, mtime):
    path = os.path.join(work, "in", name)
    with open(path, "w") as f:
        for i in range(3):
            f.write("%s-line-%d\n" % (name, i))
    os.utime(path, (mtime, mtime))
    os.link(path, os.path.join(work, "keep", name))


def main():
    streamctl = sys.argv[1]
    work = tempfile.mkdtemp(prefix="sl-clean-restart-")
    failures = []
    try:
        os.makedirs(os.path.join(work, "in"))
        os.makedirs(os.path.join(work, "keep"))
        for i, name in enumerate(("a.txt", "b.txt", "c.txt")):
            make_file(work, name, 1700000000 + i)
        out1, _ = run(streamctl, write_job(work, 3))
        if not os.path.exists(os.path.join(work, "ck", "commits", "3")):
            failures.append("run 1 did not commit batch 3")
        for name in ("a.txt", "b.txt", "c.txt"):
            if "%s-line-0" % name not in out1:
                failures.append("run 1 did not print %s" % name)
            if os.path.exists(os.path.join(work, "in", name)):
                failures.append("run 1 did not delete %s" % name)
        # The crash's leftover: batch 3's file, committed but not cleaned.
        os.link(os.path.join(work, "keep", "c.txt"),
                os.path.join(work, "in", "c.txt"))
        now = time.time()
        make_file(work, "d.txt", now)
        out2, err2 = run(streamctl, write_job(work, 5))
        if os.path.exists(os.path.join(work, "in", "c.txt")):
            failures.append("after the restart, batch 3's input c.txt is "
                            "still there (its commit was not called again)")
        if "c.txt-line" in out2:
            failures.append("c.txt's lines were printed again:\n" + out2)
        if out2.count("d.txt-line-0") != 1:
            failures.append("d.txt not printed exactly once:\n" + out2)
        if os.path.exists(os.path.join(work, "in", "d.txt")):
            failures.append("d.txt was not deleted after its batch")
        if "cannot delete" in err2 or "not cleaning" in err2:
            failures.append("spurious cleaning message:\n" + err2)
        # A second restart commits batch 5 again: d.txt is gone already,
        # which is neither an error nor a warning.
        _, err3 = run(streamctl, write_job(work, 5))
        if "warn" in err3 or "error" in err3:
            failures.append("repeat clean warned:\n" + err3)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("\n".join(failures))
        return 1
    print("ok: batch 3's input cleaned at the restart, printed once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
