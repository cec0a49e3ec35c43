#!/usr/bin/env python3
"""Corruption of each kind of checkpoint file (docs/checkpoint-format.md,
"Corruption"): after a run that leaves a checkpoint, one file is
truncated, has a byte flipped, or is deleted, and the job restarts. Where
the format says the job must refuse, it exits 1 naming the file and the
reason and the output directories are byte for byte what they were; where
recovery tolerates the case (a deleted snapshot, a deleted last commit),
the output equals an uninterrupted run's.

usage: test_checkpoint_corrupt.py STREAMCTL
"""

import copy
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

from cklib import serve_lines, tree, visible

STREAMCTL = None
FIRST, LAST = 5, 7

BASE = {
    "name": "corrupt",
    "batch_interval": "1s",
    "clock": "manual",
    "workers": 2,
    "conf": {"generator.lines_per_batch": 20, "generator.words_per_line": 3,
             "generator.vocabulary": 10, "log.level": "warn"},
    "sources": {"lines": {"type": "generator"}},
    "streams": {
        "pairs": {"from": "lines",
                  "ops": [{"op": "flat_map", "fn": "split_words"},
                          {"op": "map", "fn": "pair_one"}]},
        "totals": {"from": "pairs",
                   "ops": [{"op": "update_state_by_key", "fn": "sum"}]},
        "recent": {"from": "pairs",
                   "ops": [{"op": "reduce_by_key_and_window", "fn": "sum",
                            "inverse": "subtract", "window": "3s",
                            "slide": "1s"}]},
    },
}


def write_job(d, max_batches):
    j = copy.deepcopy(BASE)
    j["max_batches"] = max_batches
    j["checkpoint"] = {"path": os.path.join(d, "ck"),
                       "snapshot_every_batches": 3}
    j["sinks"] = [{"from": s, "type": "file", "format": "json",
                   "path": os.path.join(d, "out", s)}
                  for s in ("totals", "recent")]
    path = os.path.join(d, "job%d.json" % max_batches)
    with open(path, "w") as f:
        json.dump(j, f)
    return path


def run(d, max_batches):
    return subprocess.run([STREAMCTL, "run", write_job(d, max_batches)],
                          capture_output=True, text=True, timeout=60)


FAILED = []


def check(name, cond, detail=""):
    if not cond:
        FAILED.append(name)
        print("FAIL %s %s" % (name, detail))
    else:
        print("ok   %s" % name)


def truncate(p):
    size = os.path.getsize(p)
    with open(p, "r+b") as f:
        f.truncate(size // 2)
    return "truncated"


def flip(p):
    with open(p, "r+b") as f:
        data = bytearray(f.read())
        # past the 24-byte header where there is a payload: the CRC's case
        i = 24 + (len(data) - 24) // 2 if len(data) > 24 else len(data) // 2
        data[i] ^= 0x40
        f.seek(0)
        f.write(data)
    return "flipped"


def delete(p):
    os.unlink(p)
    return "deleted"


def fresh(root, base, name):
    d = os.path.join(root, name)
    if base is None:
        # A run of its own: commits name the sinks' files by absolute
        # path, which a copy of base would still point into base for.
        os.makedirs(d)
        r = run(d, FIRST)
        if r.returncode != 0:
            sys.exit("first run of %s: %s" % (name, r.stderr))
    else:
        shutil.copytree(base, d, symlinks=True)
    return d


def refused(root, base, name, rel, mutate, reason, setup=None):
    """Mutate base's REL in a copy; the restart must exit 1 naming the
    file (or DIR for a deleted metadata) and REASON, output unchanged."""
    d = fresh(root, base, name)
    if setup:
        setup(d)
    p = os.path.join(d, rel)
    mutate(p)
    before = tree(d)
    r = run(d, LAST)
    named = (rel.split("/", 1)[1] if rel.startswith("out/") else rel)
    check(name, r.returncode == 1 and named in r.stderr and
          reason in r.stderr and tree(d) == before,
          "rc %d, wanted 1 naming %s and '%s':\n%s" %
          (r.returncode, named, reason, r.stderr))


def tolerated(root, base, name, rel, mutate, ref, setup=None):
    d = fresh(root, base, name)
    if setup:
        setup(d)
    mutate(os.path.join(d, rel))
    r = run(d, LAST)
    check(name, r.returncode == 0 and visible(tree(d)) == ref,
          "rc %d, output %s\n%s" %
          (r.returncode, "equal" if visible(tree(d)) == ref else "differs",
           r.stderr))


def no_final_snapshots(d):
    """The checkpoint a crash before the clean end's snapshot leaves:
    restore reads snapshot 3 and deltas 4 and 5."""
    for p in glob.glob(os.path.join(d, "ck", "state", "*", "*",
                                    "%d.snapshot" % FIRST)):
        os.unlink(p)


def one(d, pattern):
    got = sorted(glob.glob(os.path.join(d, pattern)))
    if not got:
        sys.exit("no file matches %s" % pattern)
    return os.path.relpath(got[0], d)


def main():
    global STREAMCTL
    STREAMCTL = sys.argv[1]
    root = tempfile.mkdtemp(prefix="sl-ckcorrupt-")
    try:
        ref_dir = os.path.join(root, "ref")
        os.makedirs(ref_dir)
        r = run(ref_dir, LAST)
        if r.returncode != 0:
            sys.exit("reference run: %s" % r.stderr)
        ref = visible(tree(ref_dir))
        base = os.path.join(root, "base")
        os.makedirs(base)
        r = run(base, FIRST)
        if r.returncode != 0:
            sys.exit("first run: %s" % r.stderr)
        cases(root, base, ref)
        wal_cases(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if FAILED:
        sys.exit("%d failed: %s" % (len(FAILED), " ".join(FAILED)))


def cases(root, base, ref):
    # a delta and a snapshot that the restore reads
    delta = one(base, "ck/state/totals/*/%d.delta" % (FIRST - 1))
    # a snapshot that a later delta of its shard follows
    snap = os.path.relpath(os.path.dirname(os.path.join(base, delta)) +
                           "/3.snapshot", base)
    win = one(base, "ck/windows/recent/%d.window" % FIRST)
    manifest = "out/totals/_sluice_metadata/%d" % FIRST
    for how, mutate, reason in (("truncate", truncate, "truncated"),
                                ("flip", flip, "checksum mismatch")):
        for kind, rel in (("metadata", "ck/metadata"),
                          ("offsets", "ck/offsets/%d" % FIRST),
                          ("commits", "ck/commits/%d" % FIRST),
                          ("window", win), ("manifest", manifest)):
            refused(root, base, "%s_%s" % (kind, how), rel, mutate, reason)
        for kind, rel in (("delta", delta), ("snapshot", snap)):
            refused(root, base, "%s_%s" % (kind, how), rel, mutate, reason,
                    setup=no_final_snapshots)
    deletions(root, base, ref, delta, snap)


def deletions(root, base, ref, delta, snap):
    refused(root, base, "metadata_delete", "ck/metadata", delete, "missing")
    refused(root, base, "offsets_delete", "ck/offsets/%d" % FIRST, delete,
            "missing")
    # Not the newest entry: a crash before it is written leaves the same.
    refused(root, base, "manifest_delete",
            "out/totals/_sluice_metadata/%d" % (FIRST - 1), delete,
            "missing")
    refused(root, base, "delta_delete", delta, delete, "missing",
            setup=no_final_snapshots)
    # The newest files of the last commit: nothing later names them, the
    # commit entry lists them with their sizes and checksums.
    newest_delta = one(base, "ck/state/totals/*/%d.delta" % FIRST)
    refused(root, base, "newest_delta_delete", newest_delta, delete,
            "missing", setup=no_final_snapshots)
    # ... unless the snapshot of the same version replaced it.
    tolerated(root, base, "newest_delta_delete_replaced", newest_delta,
              delete, ref)
    refused(root, base, "newest_window_delete",
            one(base, "ck/windows/recent/%d.window" % FIRST), delete,
            "missing")
    refused(root, None, "newest_manifest_delete",
            "out/totals/_sluice_metadata/%d" % FIRST, delete, "missing")
    refused(root, None, "newest_part_flip",
            one(base, "out/recent/part-%08d-*" % FIRST), flip,
            "checksum mismatch")
    # A deleted snapshot whose shard still has every delta from the first
    # (retention deleted none): restore reads the deltas instead.
    tolerated(root, base, "snapshot_delete_tolerated", snap, delete, ref,
              setup=no_final_snapshots)
    # A deleted newest snapshot: the deltas restore the same state.
    tolerated(root, base, "final_snapshot_delete_tolerated",
              one(base, "ck/state/totals/*/%d.snapshot" % FIRST), delete,
              ref)
    # A deleted last commit: batch FIRST is uncommitted and runs again.
    tolerated(root, base, "last_commit_delete_reruns",
              "ck/commits/%d" % FIRST, delete, ref)


def flip_at(p, i):
    with open(p, "r+b") as f:
        f.seek(i)
        b = f.read(1)
        f.seek(i)
        f.write(bytes([b[0] ^ 0x40]))


def flip_first(p):
    flip_at(p, 24 + 60)  # in the first record's zstd frame


def flip_last(p):
    flip_at(p, os.path.getsize(p) - 3)


def wal_cases(root):
    """A socket job's WAL segment: a changed byte in a record before the
    last refuses the start naming the segment and offset; a bad last
    record (a changed byte, or the segment cut in a record) is a torn end,
    ignored with a warning as docs/checkpoint-format.md says (its batch is
    committed; an uncommitted one would fail the replay's range check)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    threading.Thread(target=serve_lines, args=(srv,), daemon=True).start()
    base = os.path.join(root, "wal")
    os.makedirs(base)

    def wal_job(d):
        j = {"name": "walc", "batch_interval": "200ms", "max_batches": 4,
             "checkpoint": os.path.join(d, "ck"),
             "conf": {"log.level": "warn"},
             "sources": {"lines": {"type": "socket", "host": "127.0.0.1",
                                   "port": srv.getsockname()[1]}},
             "sinks": [{"from": "lines", "type": "console",
                        "format": "json"}]}
        path = os.path.join(d, "job.json")
        with open(path, "w") as f:
            json.dump(j, f)
        return path

    r = subprocess.run([STREAMCTL, "run", wal_job(base)],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        sys.exit("socket run: %s" % r.stderr)
    seg = max(glob.glob(os.path.join(base, "ck", "wal", "*.wal")),
              key=os.path.getsize)
    if os.path.getsize(seg) <= 24:
        sys.exit("no WAL record in %s" % seg)
    for how, mutate, want_rc, reason in (
            ("flip_first_record", flip_first, 1,
             "record at offset 24: checksum mismatch"),
            ("flip_last_record", flip_last, 0, "torn record"),
            ("truncate", truncate, 0, "torn record")):
        d = os.path.join(root, "wal_" + how)
        shutil.copytree(base, d)
        p = os.path.join(d, os.path.relpath(seg, base))
        mutate(p)
        r = subprocess.run([STREAMCTL, "run", wal_job(d)],
                           capture_output=True, text=True, timeout=60)
        check("wal_" + how, r.returncode == want_rc and reason in r.stderr
              and (want_rc == 0 or os.path.basename(p) in r.stderr),
              "rc %d, wanted %d and '%s':\n%s" %
              (r.returncode, want_rc, reason, r.stderr))
        if want_rc == 0:
            check("wal_%s_runs_nothing_again" % how, r.stdout == "",
                  r.stdout[:200])
    srv.close()


if __name__ == "__main__":
    main()
