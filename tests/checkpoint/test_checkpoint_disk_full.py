#!/usr/bin/env python3
"""Disk full (docs/checkpoint-format.md, "Files"): the checkpoint lives on
a small tmpfs that the test mounts (tests run as root). The job fills it
and stops with exit 1 and an error naming the path and ENOSPC; after the
tmpfs is grown (space freed), a restart recovers from the checkpoint and
the output (file sink, outside the tmpfs) equals one uninterrupted run's:
nothing lost, nothing doubled. Also checks that window files are pruned
by retention (retain_batches 2, a 3 s window).

Without mount rights the test cannot make a full disk and prints
"skipped" with the reason, exiting 77 (ctest SKIP_RETURN_CODE); the same
failure is covered in-process through the checkpoint's fault hook
(test_stream_ckpt_final, test_stream_ckpt_state write_failure).

usage: test_checkpoint_disk_full.py STREAMCTL
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

from cklib import tree, visible

STREAMCTL = None
BATCHES = 40


def write_job(d, ck):
    j = {
        "name": "full",
        "batch_interval": "1s",
        "clock": "manual",
        "max_batches": BATCHES,
        "workers": 2,
        "conf": {"generator.lines_per_batch": 200,
                 "generator.words_per_line": 4,
                 "generator.vocabulary": 3000, "log.level": "warn"},
        "sources": {"lines": {"type": "generator"}},
        "streams": {
            "pairs": {"from": "lines",
                      "ops": [{"op": "flat_map", "fn": "split_words"},
                              {"op": "map", "fn": "pair_one"}]},
            "totals": {"from": "pairs",
                       "ops": [{"op": "update_state_by_key", "fn": "sum"}]},
            "recent": {"from": "pairs",
                       "ops": [{"op": "reduce_by_key_and_window",
                                "fn": "sum", "inverse": "subtract",
                                "window": "3s", "slide": "1s"}]},
        },
        "sinks": [{"from": s, "type": "file", "format": "json",
                   "path": os.path.join(d, "out", s)}
                  for s in ("totals", "recent")],
    }
    if ck:
        j["checkpoint"] = {"path": ck, "snapshot_every_batches": 5,
                           "retain_batches": 2}
    path = os.path.join(d, "job.json")
    with open(path, "w") as f:
        json.dump(j, f)
    return path


def run(d, ck):
    return subprocess.run([STREAMCTL, "run", write_job(d, ck)],
                          capture_output=True, text=True, timeout=120)


def check(name, cond, detail=""):
    if not cond:
        sys.exit("FAIL %s %s" % (name, detail))
    print("ok   %s" % name)


def mount(mnt, size):
    return subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size,
                           "tmpfs", mnt], capture_output=True, text=True)


def full_then_freed(root, ref):
    mnt = os.path.join(root, "mnt")
    os.makedirs(mnt)
    m = mount(mnt, "192k")
    if m.returncode != 0:
        print("skipped: cannot mount a tmpfs (%s)" % m.stderr.strip())
        return 77
    print("using a 192 KiB tmpfs at %s" % mnt)
    try:
        d = os.path.join(root, "job")
        os.makedirs(d)
        ck = os.path.join(mnt, "ck")
        r = run(d, ck)
        check("disk_full_exit_1", r.returncode == 1,
              "rc %d\n%s" % (r.returncode, r.stderr))
        check("disk_full_names_path_and_enospc",
              ck in r.stderr and "No space left on device" in r.stderr,
              r.stderr)
        before = visible(tree(d))
        check("disk_full_stopped_early",
              len(before) < len(ref), "%d files" % len(before))
        subprocess.run(["mount", "-o", "remount,size=64m", mnt], check=True)
        r = run(d, ck)
        check("restart_after_space_freed", r.returncode == 0, r.stderr)
        got = visible(tree(d))
        check("output_equals_uninterrupted", got == ref,
              "differs at %s" % sorted(k for k in set(got) | set(ref)
                                       if got.get(k) != ref.get(k))[:5])
        windows(ck)
    finally:
        subprocess.run(["umount", mnt])
    return 0


def windows(ck):
    """Retention (retain_batches 2) keeps the window files the first kept
    batch K needs: batches >= K - (3 s + 1 s + 1 s) / 1 s."""
    kept = sorted(int(n) for n in os.listdir(os.path.join(ck, "offsets")))
    names = os.listdir(os.path.join(ck, "windows", "recent"))
    got = sorted(int(n.split(".")[0]) for n in names)
    check("window_files_pruned",
          kept == [BATCHES - 1, BATCHES] and
          got == list(range(kept[0] - 5, BATCHES + 1)), (kept, got))


def main():
    global STREAMCTL
    STREAMCTL = sys.argv[1]
    root = tempfile.mkdtemp(prefix="sl-ckfull-")
    try:
        ref_dir = os.path.join(root, "ref")
        os.makedirs(ref_dir)
        r = run(ref_dir, None)
        if r.returncode != 0:
            sys.exit("reference run: %s" % r.stderr)
        ref = visible(tree(ref_dir))
        rc = full_then_freed(root, ref)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    sys.exit(rc)


if __name__ == "__main__":
    main()
