#!/usr/bin/env python3
"""10,000 small files renamed in at once, max_files_per_trigger 500,
inotify and poll at once (two jobs, two directories).

Each file is one line with its unique id. The files are written in a
staging directory on the same file system and given mtimes that are a
permutation of their names' order (pairs of files share an mtime, so the
name breaks ties); they are renamed in by name, quickly, just after a
batch, each rename timed. The batches must then be exactly what the
ordering rule allows: for every batch k,
- it holds at most 500 files, each output once over the run;
- each of them may have been ready at its plan (inotify: renamed before
  the batch's line arrived; poll: before the previous batch's line
  arrived, since a listing finds it and the next one takes it);
- no file left waiting that was surely ready (inotify: renamed before the
  batch's time; poll: before the previous batch's time) comes before the
  batch's last file in (mtime, name) order, and if one was left the batch
  is full.
So when all renames land between two plans, as they normally do, the
batches are exactly the sorted order cut into 20 chunks of 500. All 10,000
are output in the end; SIGINT exits 0.
"""

import os
import time

from dirlib import (Job, Tree, check, log, now_ms, run, set_budget,
                    skipped_lines)

BATCH_MS = 300
N = 10000
MAX = 500


def name(i):
    return "f%05d.txt" % i


def stage_all(tree, base_ns):
    keys = {}
    for i in range(N):
        p = os.path.join(tree.stage, name(i))
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, b"id%05d\n" % i)
        os.close(fd)
        mt = base_ns + ((i * 7919) % N // 2) * 1000000
        os.utime(p, ns=(mt, mt))
        keys["id%05d" % i] = (mt, name(i))
    return keys


def rename_all(tree):
    times = {}
    for i in range(N):
        t0 = now_ms()
        os.rename(os.path.join(tree.stage, name(i)),
                  os.path.join(tree.inbox, name(i)))
        times["id%05d" % i] = (t0, now_ms())
    return times


def check_batches(job, keys, times, poll):
    batches = job.batches()
    taken = set()
    full = 0
    for k, b in enumerate(batches):
        ids = b["records"]
        check(len(ids) <= MAX, "%s: batch %d took %d files, more than %d"
              % (job.name, b["batch"], len(ids), MAX))
        check(len(set(ids)) == len(ids) and not taken & set(ids),
              "%s: batch %d repeats files: %r" % (
                  job.name, b["batch"],
                  sorted(taken & set(ids))[:5] or
                  [i for i in ids if ids.count(i) > 1][:5]))
        check(all(i in keys for i in ids), "%s: batch %d: unknown records %r"
              % (job.name, b["batch"], [i for i in ids if i not in keys][:5]))
        # The batch whose plan decided readiness (poll: the previous one).
        ref = batches[k - 1] if poll else b
        if poll and k == 0:
            check(not ids, "%s: the first batch took files" % job.name)
            continue
        early = [i for i in ids if times[i][0] > ref["arrival"]]
        check(not early, "%s: batch %d (at %d) took %s, renamed at %d, after "
              "the %s batch's line arrived (%d)" % (
                  job.name, b["batch"], b["time_ms"], early[:3],
                  times[early[0]][0] if early else 0,
                  "previous" if poll else "", ref["arrival"]))
        surely = [i for i in keys if i not in taken and i not in ids and
                  times[i][1] < ref["time_ms"]]
        if surely and ids:
            last = max(keys[i] for i in ids)
            first_left = min(keys[i] for i in surely)
            check(first_left > last,
                  "%s: batch %d took %s (mtime, name) but left %s, which was "
                  "ready and comes first" % (job.name, b["batch"], last,
                                             first_left))
        if surely:
            check(len(ids) == MAX, "%s: batch %d took %d files while %d "
                  "ready ones waited" % (job.name, b["batch"], len(ids),
                                         len(surely)))
        full += len(ids) == MAX
        taken |= set(ids)
    check(len(taken) == N, "%s: %d files output, expected %d"
          % (job.name, len(taken), N))
    return full


def test():
    set_budget(60)
    with Tree("many-i") as ti, Tree("many-p") as tp, \
            Job(ti, "many-inotify", {"watch": "inotify",
                                     "max_files_per_trigger": MAX},
                BATCH_MS) as ji, \
            Job(tp, "many-poll", {"watch": "poll",
                                  "max_files_per_trigger": MAX},
                BATCH_MS) as jp:
        base = (int(time.time()) - 86400) * 1000000000
        t = time.monotonic()
        keys = stage_all(ti, base)
        stage_all(tp, base)
        log("staged 2 x %d files in %.2f s" % (N, time.monotonic() - t))
        p = os.path.join(ti.stage, name(1))
        check(os.stat(p).st_mtime_ns == keys["id00001"][0],
              "the file system does not keep the mtimes in ns")
        ji.wait_started()
        jp.wait_started()
        ji.sleep_to_mid(0.02)
        t = time.monotonic()
        times_i = rename_all(ti)
        times_p = rename_all(tp)
        log("renamed 2 x %d files in %.2f s" % (N, time.monotonic() - t))
        end = max(t1 for _, t1 in list(times_i.values()) +
                  list(times_p.values()))
        for job in (ji, jp):
            job.wait_batch(lambda b, job=job: len(job.records()) >= N, 30,
                           "all files output")
            job.wait_after(job.batches()[-1]["time_ms"], 2, timeout=5)
            err = job.stop()
            check(not skipped_lines(err), "%s: skipped: %s"
                  % (job.name, skipped_lines(err)[:3]))
        for job, times, poll in ((ji, times_i, False), (jp, times_p, True)):
            full = check_batches(job, keys, times, poll)
            nonempty = [b for b in job.batches() if b["records"]]
            log("%s: %d batches with files, %d of them full, the first %d ms "
                "after the last rename" % (job.name, len(nonempty), full,
                                           nonempty[0]["time_ms"] - end))
        check(sorted(ji.records()) == sorted(jp.records()),
              "inotify and poll output different records")


run(test)
