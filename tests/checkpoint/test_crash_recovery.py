#!/usr/bin/env python3
"""Crash test: a checkpointed job killed with SIGKILL at random instants and
restarted each time until it reaches its last batch (some interruptions
are a SIGINT cut short by a second one) writes, batch for batch
and record for record, the output of one uninterrupted run.

The job (docs/checkpoint-format.md, "Recovery"): on the manual clock, both
replayable sources with all their input there before the first start (the
deterministic text generator, and a directory of files taken two per
batch, whose seen files and readiness the checkpoint keeps in sources/),
their union's words counted by update_state_by_key and by
reduce_by_key_and_window with an inverse, written by the file sink (and
once with save_as_text_files). A re-run batch replaces its own files.
Compared: every sink's non-hidden files. Prints kills, lost and duplicated
records; both must be 0.

usage: test_crash_recovery.py STREAMCTL [--kills N] [--seed S]
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time



BATCHES = 60
FILES = 90  # two a batch: the directory runs dry after 45 batches
RETAIN = 20  # fewer than the batches that take files: the seen-files
# log, not the kept offsets, must say which files are taken


def make_input(workdir):
    """The directory's files, the same in every run: same names, bytes
    and mtime (files are taken in (mtime, name) order)."""
    d = os.path.join(workdir, "in")
    os.makedirs(d)
    rng = random.Random(7)
    for i in range(FILES):
        path = os.path.join(d, "in-%03d.txt" % i)
        with open(path, "w") as f:
            for _ in range(50):
                f.write(" ".join("f%d" % rng.randrange(200)
                                 for _ in range(6)) + "\n")
        os.utime(path, (1700000000, 1700000000))


def job(workdir, checkpoint):
    out = os.path.join(workdir, "out")
    j = {
        "name": "crash",
        "batch_interval": "1s",
        "clock": "manual",
        "max_batches": BATCHES,
        "workers": 2,
        "conf": {"generator.lines_per_batch": 4000,
                 "generator.words_per_line": 8,
                 "generator.vocabulary": 500,
                 # few output files: each costs an fsync a batch
                 "state.shards": 4,
                 "log.level": "warn"},
        "sources": {"lines": {"type": "generator"},
                    "files": {"type": "directory",
                              "path": os.path.join(workdir, "in"),
                              "include_existing": True,
                              "max_files_per_trigger": 2}},
        "streams": {
            "pairs": {"from": "lines",
                      "ops": [{"op": "union", "with": "files"},
                              {"op": "flat_map", "fn": "split_words"},
                              {"op": "map", "fn": "pair_one"}]},
            "totals": {"from": "pairs",
                       "ops": [{"op": "update_state_by_key", "fn": "sum"}]},
            "recent": {"from": "pairs",
                       "ops": [{"op": "reduce_by_key_and_window",
                                "fn": "sum", "inverse": "subtract",
                                "filter": {"name": "ne", "arg": 0,
                                           "on": "value"},
                                "window": "5s", "slide": "1s",
                                "partitions": 4}]},
        },
        "sinks": [
            {"from": "totals", "type": "file", "format": "json",
             "path": os.path.join(out, "totals")},
            {"from": "recent", "type": "file", "format": "csv",
             "path": os.path.join(out, "recent")},
            {"from": "recent", "type": "save_as_text_files",
             "prefix": os.path.join(out, "text", "recent")},
        ],
    }
    if checkpoint:
        j["checkpoint"] = {"path": os.path.join(workdir, "ck"),
                           "snapshot_every_batches": 7,
                           "retain_batches": RETAIN}
    path = os.path.join(workdir, "job.json")
    with open(path, "w") as f:
        json.dump(j, f)
    return path


def read_output(workdir):
    """{(sink, batch): sorted list of lines} of the non-hidden files: the
    file sinks' part-<batch>-<partition> files, save_as_text_files'
    PREFIX-<time> directories."""
    out = {}
    root = os.path.join(workdir, "out")
    for sink in ("totals", "recent"):
        for name in sorted(os.listdir(os.path.join(root, sink))):
            if name.startswith(".") or name.startswith("_"):
                continue
            with open(os.path.join(root, sink, name)) as f:
                key = (sink, name.split("-")[1])
                out.setdefault(key, []).extend(f.read().splitlines())
    text = os.path.join(root, "text")
    for d in sorted(os.listdir(text)):
        if d.startswith("."):
            continue
        lines = []
        for name in sorted(os.listdir(os.path.join(text, d))):
            if name.startswith(".") or name.startswith("_"):
                continue
            with open(os.path.join(text, d, name)) as f:
                lines.extend(f.read().splitlines())
        out[("text", d)] = lines
    return {k: sorted(v) for k, v in out.items()}


def run_once(streamctl, path, timeout=120):
    p = subprocess.run([streamctl, "run", path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=timeout)
    if p.returncode != 0:
        sys.exit("uninterrupted run failed (%d): %s"
                 % (p.returncode, p.stderr.decode()[-2000:]))


def last_offsets(ck):
    """The newest batch with an offsets entry (0 when none)."""
    try:
        ids = [int(n) for n in os.listdir(os.path.join(ck, "offsets"))
               if n.isdigit()]
    except FileNotFoundError:
        return 0
    return max(ids, default=0)


def crash_loop(streamctl, path, ck, kills_wanted, rng):
    """Interrupt at random points of the job's progress: for each
    interruption a batch is drawn, and once the checkpoint's offsets reach
    it the job gets, after a random 0-30 ms more (during a batch, a
    checkpoint write or a recovery), a SIGKILL, or one time in four a
    SIGINT and a second one 0-20 ms later (a graceful stop cut short:
    streamctl then dies of the signal), independent of the machine's
    speed. Returns (kills, double SIGINTs, starts)."""
    n = kills_wanted + kills_wanted // 2
    # The last quarter is left without targets: a kill drawn near the end
    # could come after the job finished by itself (it had not been killed
    # enough times then).
    targets = sorted(rng.randint(1, BATCHES * 3 // 4) for _ in range(n))
    kills = ints = starts = 0
    deadline = time.monotonic() + 900
    while True:
        starts += 1
        p = subprocess.Popen([streamctl, "run", path],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        k = kills + ints
        if kills < kills_wanted and k < n:
            while p.poll() is None and last_offsets(ck) < targets[k]:
                if time.monotonic() > deadline:
                    p.kill()
                    sys.exit("crash loop did not finish in time")
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.03))
            if p.poll() is None:
                # SIGINT pairs only while enough targets stay for the
                # kills (else, one run in twenty, too few kills are left).
                if ints < n - kills_wanted and rng.random() < 0.25:
                    p.send_signal(signal.SIGINT)
                    time.sleep(rng.uniform(0, 0.02))
                    if p.poll() is None:
                        p.send_signal(signal.SIGINT)
                    p.wait(timeout=300)
                    err = p.stderr.read().decode()
                    p.stderr.close()
                    if p.returncode not in (0, 4, -signal.SIGINT):
                        sys.exit("SIGINT twice: exit %d: %s"
                                 % (p.returncode, err[-2000:]))
                    ints += 1
                    continue
                p.send_signal(signal.SIGKILL)
                p.wait()
                p.stderr.close()
                kills += 1
                continue
        p.wait(timeout=300)
        err = p.stderr.read().decode()
        p.stderr.close()
        if p.returncode != 0:
            sys.exit("start %d failed (%d): %s"
                     % (starts, p.returncode, err[-2000:]))
        if kills < kills_wanted and last_offsets(ck) < BATCHES:
            continue  # a graceful stop's restart, with kills still due
        if kills < kills_wanted:
            sys.exit("the job finished after %d of %d kills"
                     % (kills, kills_wanted))
        return kills, ints, starts


def compare(ref, got):
    lost = dup = 0
    bad = []
    for d in sorted(set(ref) | set(got)):
        a, b = ref.get(d, []), got.get(d, [])
        if a == b:
            continue
        ca, cb = {}, {}
        for x in a:
            ca[x] = ca.get(x, 0) + 1
        for x in b:
            cb[x] = cb.get(x, 0) + 1
        lost += sum(max(0, n - cb.get(x, 0)) for x, n in ca.items())
        dup += sum(max(0, n - ca.get(x, 0)) for x, n in cb.items())
        bad.append(d)
    return lost, dup, bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("streamctl")
    ap.add_argument("--kills", type=int, default=30)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print("seed %d" % seed)
    tmp = tempfile.mkdtemp(prefix="sl-crash-")
    try:
        ref_dir = os.path.join(tmp, "ref")
        ck_dir = os.path.join(tmp, "crash")
        for w in (ref_dir, ck_dir):
            os.makedirs(os.path.join(w, "out", "text"))
            make_input(w)
        t0 = time.monotonic()
        run_once(a.streamctl, job(ref_dir, False))
        run_s = time.monotonic() - t0
        print("uninterrupted run: %.2f s" % run_s)
        kills, ints, starts = crash_loop(a.streamctl, job(ck_dir, True),
                                         os.path.join(ck_dir, "ck"), a.kills,
                                         rng)
        ref, got = read_output(ref_dir), read_output(ck_dir)
        lost, dup, bad = compare(ref, got)
        print("kills %d double-SIGINTs %d starts %d batch outputs %d lost "
              "%d duplicated %d" % (kills, ints, starts, len(ref), lost, dup))
        if len(ref) != 3 * BATCHES:
            sys.exit("the reference run wrote %d batch outputs, not %d"
                     % (len(ref), 3 * BATCHES))
        words = [x for k, v in ref.items() if k[0] == "totals" for x in v
                 if x.startswith('["f')]
        if not words:
            sys.exit("the directory's words are not in the output")
        if bad:
            sys.exit("output differs in %d batch directories, first %s"
                     % (len(bad), bad[:5]))
        if kills < a.kills:
            sys.exit("only %d kills" % kills)
        print("ok")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
