#!/usr/bin/env python3
"""Job files with a "checkpoint": stop and restart carries on where an
uninterrupted run would (state, inverse windows, batch ids, max_batches
counted across restarts); a restart whose first batches never committed
starts over cleanly (no state files of uncommitted batches are taken as a
base); an incompatible job is refused naming what changed, by `run` and by
`validate --checkpoint`.

usage: test_job_checkpoint.py STREAMCTL
"""

import copy
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

STREAMCTL = None

BASE = {
    "name": "ckjob",
    "batch_interval": "1s",
    "clock": "manual",
    "max_batches": 8,
    "workers": 2,
    "conf": {"generator.lines_per_batch": 30, "generator.words_per_line": 3,
             "generator.vocabulary": 12, "log.level": "warn"},
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
    "sinks": [{"from": "totals", "type": "console", "format": "json"},
              {"from": "recent", "type": "console", "format": "json"}],
}


def write_job(d, name, ck, **changes):
    j = copy.deepcopy(BASE)
    if ck:
        j["checkpoint"] = ck
    for k, v in changes.items():
        j[k] = v
    path = os.path.join(d, name)
    with open(path, "w") as f:
        json.dump(j, f)
    return path


def run(args, want_rc=0):
    p = subprocess.run([STREAMCTL] + args, capture_output=True, text=True,
                       timeout=60)
    if want_rc is not None and p.returncode != want_rc:
        sys.exit("streamctl %s: exit %d, wanted %d\n%s" %
                 (" ".join(args), p.returncode, want_rc, p.stderr))
    return p


def batches(out):
    """{(batch, stream): sorted records} of json console lines."""
    got = {}
    for line in out.splitlines():
        o = json.loads(line)
        key = (o["batch"], o["stream"])
        if key in got:
            sys.exit("batch %s of %s written twice" % key)
        got[key] = sorted(json.dumps(r) for r in o["records"])
    return got


def check(name, cond, detail=""):
    if not cond:
        sys.exit("FAIL %s %s" % (name, detail))
    print("ok   %s" % name)


def test_restart(d):
    ref = batches(run(["run", write_job(d, "ref.json", None)]).stdout)
    ck = os.path.join(d, "ck1")
    first = run(["run", write_job(d, "a.json", ck, max_batches=3)]).stdout
    second = run(["run", write_job(d, "b.json", ck)]).stdout
    got = batches(first)
    got.update(batches(second))
    check("restart_equals_uninterrupted", got == ref,
          "differs at %s" % sorted(k for k in ref if got.get(k) != ref[k]))
    check("restart_ids_continue",
          min(k[0] for k in batches(second)) == 4)
    # A clean end snapshots the last batch (snapshot_every_batches is 10).
    check("final_snapshot",
          len(glob.glob(os.path.join(ck, "state", "totals", "*",
                                     "8.snapshot"))) == 16)
    again = run(["run", write_job(d, "c.json", ck)]).stdout
    check("restart_at_last_batch_runs_nothing", again.strip() == "")
    return ref


def test_first_batches_uncommitted(d, ref):
    ck = os.path.join(d, "ck2")
    run(["run", write_job(d, "d.json", ck, max_batches=2)])
    for f in glob.glob(os.path.join(ck, "commits", "*")):
        os.unlink(f)
    out = run(["run", write_job(d, "e.json", ck, max_batches=3)]).stdout
    got = batches(out)
    check("uncommitted_rerun_from_scratch",
          sorted(got) == [(b, s) for b in (1, 2, 3)
                          for s in ("recent", "totals")] and
          all(got[k] == ref[k] for k in got))
    out = run(["run", write_job(d, "f.json", ck, max_batches=5)]).stdout
    got = batches(out)
    check("uncommitted_then_restore",
          all(got[k] == ref[k] for k in got) and
          sorted({k[0] for k in got}) == [4, 5])


def test_incompatible(d):
    ck = os.path.join(d, "ck3")
    run(["run", write_job(d, "g.json", {"path": ck}, max_batches=2)])
    bad = write_job(d, "h.json", ck, batch_interval="500ms")
    p = run(["run", bad], want_rc=1)
    check("run_refuses_interval",
          "batch interval changed from 1000 ms to 500 ms" in p.stderr,
          p.stderr)
    streams = copy.deepcopy(BASE["streams"])
    streams["recent"]["ops"][0]["window"] = "4s"
    bad = write_job(d, "i.json", ck, streams=streams)
    p = run(["validate", "--checkpoint", ck, bad], want_rc=3)
    check("validate_names_window",
          "stream 'recent' (reduce_by_key_and_window) window changed from "
          "3000 ms to 4000 ms" in p.stderr, p.stderr)
    ok = write_job(d, "j.json", ck, workers=1,
                   sinks=[{"from": "totals", "type": "console"}])
    p = run(["validate", "--checkpoint", ck, ok])
    check("validate_compatible", "compatible" in p.stdout, p.stdout)
    files = sorted(os.listdir(os.path.join(ck, "offsets")))
    run(["validate", "--checkpoint", ck, ok])
    check("validate_changes_nothing",
          files == sorted(os.listdir(os.path.join(ck, "offsets"))))


def test_directory_restart(d):
    """Files present before the first start, one per batch: a restart
    takes none of the files earlier batches took (every kept batch's
    files are marked taken, not only the last commit's)."""
    src = os.path.join(d, "in")
    os.makedirs(src)
    for i in range(5):
        with open(os.path.join(src, "f%d.txt" % i), "w") as f:
            f.write("line%d\n" % i)
    ck = os.path.join(d, "ck4")

    def job(n):
        j = {"name": "dir", "batch_interval": "1s", "clock": "manual",
             "max_batches": n, "checkpoint": ck,
             "conf": {"log.level": "warn"},
             "sources": {"files": {"type": "directory", "path": src,
                                   "include_existing": True,
                                   "max_files_per_trigger": 1}},
             "sinks": [{"from": "files", "type": "console",
                        "format": "json"}]}
        path = os.path.join(d, "dir%d.json" % n)
        with open(path, "w") as f:
            json.dump(j, f)
        return path

    lines = []
    for n in (4, 8, 10):
        for line in run(["run", job(n)]).stdout.splitlines():
            lines.extend(json.loads(line)["records"])
    check("directory_restart_takes_each_file_once",
          sorted(lines) == ["line%d" % i for i in range(5)], lines)


def test_directory_seen_log(d):
    """Files taken by batches older than retain_batches are not taken
    again after a restart (the seen-files log in sources/, whose old
    versions retention deletes); a damaged log refuses the start, named;
    a file that arrived after the first start but was not taken before
    the stop is taken after the restart (without include_existing)."""
    src = os.path.join(d, "in2")
    os.makedirs(src)
    for i in range(8):
        with open(os.path.join(src, "f%d.txt" % i), "w") as f:
            f.write("line%d\n" % i)
    ck = os.path.join(d, "ck7")

    def job(n, existing=True):
        j = {"name": "seen", "batch_interval": "1s", "clock": "manual",
             "max_batches": n,
             "checkpoint": {"path": ck, "retain_batches": 2},
             "conf": {"log.level": "warn"},
             "sources": {"files": {"type": "directory", "path": src,
                                   "include_existing": existing,
                                   "max_files_per_trigger": 1}},
             "sinks": [{"from": "files", "type": "console",
                        "format": "json"}]}
        path = os.path.join(d, "seen%d.json" % n)
        with open(path, "w") as f:
            json.dump(j, f)
        return path

    lines = []
    for n in (5, 9, 12):
        for line in run(["run", job(n)]).stdout.splitlines():
            lines.extend(json.loads(line)["records"])
    check("seen_log_beyond_retention_not_taken_again",
          sorted(lines) == ["line%d" % i for i in range(8)], lines)
    logs = sorted(os.listdir(os.path.join(ck, "sources", "files")))
    check("seen_log_retention_bounds_versions",
          0 < len(logs) <= 3 and all(x.endswith(".log") for x in logs), logs)
    with open(os.path.join(ck, "sources", "files", logs[-1]), "r+b") as f:
        f.seek(40)
        b = f.read(1)
        f.seek(40)
        f.write(bytes([b[0] ^ 0x20]))
    p = run(["run", job(13)], want_rc=None)
    check("seen_log_corrupt_refused_named", p.returncode != 0 and
          os.path.join("sources", "files", logs[-1]) in p.stderr and
          "checksum mismatch" in p.stderr, p.stderr)
    # a new job, no include_existing: a file written after its first
    # start and left untaken by the stop is taken after the restart
    shutil.rmtree(ck)
    run(["run", job(1, existing=False)])
    time.sleep(0.05)
    with open(os.path.join(src, "late.txt"), "w") as f:
        f.write("late\n")
    out = run(["run", job(3, existing=False)]).stdout.splitlines()
    recs = [r for line in out for r in json.loads(line)["records"]]
    check("seen_log_new_file_after_first_start_taken", recs == ["late"],
          out)


def test_progress(d):
    """The progress entry's job_id is the checkpoint's (the same after a
    restart) and "checkpoint" counts what each batch wrote there."""
    ck = os.path.join(d, "ck5")
    prog = os.path.join(d, "progress.jsonl")
    run(["run", "--progress", prog, write_job(d, "p1.json", ck,
                                              max_batches=2)])
    run(["run", "--progress", prog, write_job(d, "p2.json", ck,
                                              max_batches=4)])
    with open(prog) as f:
        entries = [json.loads(line) for line in f]
    with open(os.path.join(ck, "metadata"), "rb") as f:
        job_id = f.read()[24:60].decode()
    check("progress_job_id_from_checkpoint",
          [e["batch"] for e in entries] == [1, 2, 3, 4] and
          all(e["job_id"] == job_id for e in entries) and
          len({e["run_id"] for e in entries}) == 2, entries)
    check("progress_checkpoint_bytes",
          all(e["checkpoint"]["bytes"] > 0 and e["checkpoint"]["files"] >= 2
              for e in entries), [e["checkpoint"] for e in entries])


def test_empty_batches_write_nothing(d):
    """A batch with no input and no state or window change writes no
    offsets or commit entry (a gap); a restart after such batches goes on
    after the last recorded one and loses and repeats no record."""
    ck = os.path.join(d, "ck6")

    def job(n):
        j = {"name": "gaps", "batch_interval": "1s", "clock": "manual",
             "max_batches": n, "checkpoint": ck,
             "conf": {"log.level": "warn"},
             "sources": {"q": {"type": "queue",
                               "batches": [[1, 2], [3], [], [], [4]]}},
             "sinks": [{"from": "q", "type": "console", "format": "json"}]}
        path = os.path.join(d, "gaps%d.json" % n)
        with open(path, "w") as f:
            json.dump(j, f)
        return path

    first = [json.loads(x) for x in run(["run", job(6)]).stdout.splitlines()]
    entries = sorted(int(n) for n in os.listdir(os.path.join(ck, "offsets")))
    commits = sorted(int(n) for n in os.listdir(os.path.join(ck, "commits")))
    # 3 and 4 are gaps; 6, empty too, is the run's last batch: recorded,
    # so that the restart after this clean end runs nothing again
    check("empty_batches_write_nothing", entries == [1, 2, 5, 6] and
          commits == [1, 2, 5, 6], (entries, commits))
    second = [json.loads(x) for x in run(["run", job(8)]).stdout.splitlines()]
    recs = [r for o in first + second for r in o["records"]]
    check("gap_restart_goes_on_after_last_recorded",
          sorted(recs) == [1, 2, 3, 4] and
          [o["batch"] for o in second] == [7, 8], second)
    # a crash after gaps: batches after the last recorded one are made
    # again (empty here), nothing is lost or doubled
    check("gap_not_last_not_recorded",
          not os.path.exists(os.path.join(ck, "offsets", "7")))
    os.unlink(os.path.join(ck, "offsets", "8"))
    os.unlink(os.path.join(ck, "commits", "8"))
    third = [json.loads(x) for x in run(["run", job(9)]).stdout.splitlines()]
    check("gap_after_crash_made_again",
          [o["batch"] for o in third] == [7, 8, 9] and
          all(o["records"] == [] for o in third), third)


def test_system_clock_stop_restart(d):
    """System clock, max_batches 10: stopped by SIGINT near batch 3, down
    for 2.5 s, restarted: the restart ends at batch 10 exactly (max_batches
    counted across restarts), the ticks missed while down are absorbed
    (absorbed_ticks in the progress entries; ids continue without a gap
    nor a repeat) and no absorbed tick is a slide boundary of the 1 s
    window (every 5th tick) or past 10."""
    ck = os.path.join(d, "ck7")
    shutil.rmtree(ck, ignore_errors=True)
    prog = os.path.join(d, "progress7.jsonl")
    path = write_job(d, "s.json", ck, clock="system", batch_interval="200ms",
                     max_batches=10)
    p = subprocess.Popen([STREAMCTL, "run", path], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    first = []
    try:
        for line in p.stdout:
            first.append(json.loads(line)["batch"])
            if first[-1] >= 2:
                break
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    first += [json.loads(x)["batch"] for x in out.splitlines()]
    check("system_clock_sigint_exit_0", p.returncode == 0, err)
    last = max(first)
    check("system_clock_stopped_early", 2 <= last < 8, first)
    # Down long enough that tick 10 is due at the restart whatever the
    # stop's own time (the stop may end anywhere in tick 3 or 4): 2.5 s is
    # 12.5 ticks, and max_batches caps what is absorbed.
    time.sleep(2.5)
    second = run(["run", "--progress", prog, path]).stdout
    ids = sorted({json.loads(x)["batch"] for x in second.splitlines()})
    with open(prog) as f:
        entries = [json.loads(x) for x in f]
    check("system_clock_restart_ends_at_max_batches",
          ids and ids[0] > last and ids[-1] == 10, (last, ids))
    spans = [(e["batch"] - e["absorbed_ticks"], e["batch"]) for e in entries]
    check("system_clock_restart_ids_continue",
          [e["batch"] for e in entries] == ids and spans[0][0] == last + 1 and
          all(a[1] + 1 == b[0] for a, b in zip(spans, spans[1:])), spans)
    # Down past tick 10: one batch takes the missed
    # ticks up to the boundary at 5 (if not passed yet), one the rest up to
    # 10; not one batch each (nor a few, as a full queue would make).
    check("system_clock_missed_ticks_one_batch",
          ids == [b for b in (5, 10) if b > last], spans)
    check("system_clock_missed_ticks_absorbed",
          sum(e["absorbed_ticks"] for e in entries) > 0 and
          not any(t % 5 == 0 for lo, hi in spans for t in range(lo, hi)),
          spans)


def test_first_start_survives_early_kill(d):
    """Without include_existing, "existing" files are those present at the
    job's FIRST start: a file moved in after the first start, with the job
    killed (SIGKILL) before its first batch committed, is read after the
    restart (the first start's time is in sources/<source>/0.log)."""
    src = os.path.join(d, "in_early")
    stage = os.path.join(d, "stage_early")
    os.makedirs(src)
    os.makedirs(stage)
    with open(os.path.join(src, "old.txt"), "w") as f:
        f.write("old\n")
    ck = None

    def job(name, clock, n):
        j = {"name": "early", "batch_interval": "60s", "clock": clock,
             "max_batches": n, "checkpoint": ck,
             "conf": {"log.level": "warn"},
             "sources": {"files": {"type": "directory", "path": src}},
             "sinks": [{"from": "files", "type": "console",
                        "format": "json"}]}
        path = os.path.join(d, name)
        with open(path, "w") as f:
            json.dump(j, f)
        return path

    def attempt():
        """Start, move new.txt in, SIGKILL; the commits/ entries seen just
        before the kill (the system clock's first tick can fall inside the
        second this takes: then the premise does not hold, try again)."""
        p = subprocess.Popen([STREAMCTL, "run",
                              job("early1.json", "system", 5)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.time() + 20
            while (not os.path.exists(os.path.join(ck, "metadata"))
                   and time.time() < deadline and p.poll() is None):
                time.sleep(0.02)
            time.sleep(0.5)  # the source has listed the directory
            with open(os.path.join(stage, "new.txt"), "w") as f:
                f.write("new1\nnew2\n")
            os.rename(os.path.join(stage, "new.txt"),
                      os.path.join(src, "new.txt"))
            time.sleep(0.2)
            committed = os.listdir(os.path.join(ck, "commits"))
            p.send_signal(signal.SIGKILL)
            p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
        return committed

    for k in range(4):
        ck = os.path.join(d, "ck_early%d" % k)
        if k:
            os.unlink(os.path.join(src, "new.txt"))
        committed = attempt()
        if not committed:
            break
    check("early_kill_before_first_commit", committed == [], committed)
    out = run(["run", job("early2.json", "manual", 1)]).stdout
    recs = sorted(r for line in out.splitlines()
                  for r in json.loads(line)["records"])
    check("early_kill_file_moved_in_is_read", recs == ["new1", "new2"], out)


def test_temps_cleaned_at_start(d):
    """Temporaries (".NAME.tmp") an interrupted write left in any directory
    the checkpoint owns are listed by inspect and removed by the next
    start; look-alikes of another form stay."""
    ck = os.path.join(d, "ck_tmp")
    run(["run", write_job(d, "t1.json", ck, max_batches=2)])
    temps = ["metadata", "offsets/3", "commits/3", "wal/1-1.wal",
             "state/totals/0/3.delta", "state/totals/0/3.snapshot",
             "windows/recent/3.window", "sources/lines/3.log"]
    keep = ["notes.tmp", ".notes.tmp", "offsets/.3.tmp2", "commits/3.tmp",
            "state/totals/0/.x.delta.tmp", "windows/recent/.tmp",
            "sources/lines/.3.log.tmp.keep", "wal/.seg.tmp"]

    def tpath(rel):
        head, base = os.path.split(rel)
        return os.path.join(ck, head, "." + base + ".tmp")

    for rel in temps:
        os.makedirs(os.path.dirname(tpath(rel)), exist_ok=True)
        with open(tpath(rel), "wb") as f:
            f.write(b"half")
    for rel in keep:
        with open(os.path.join(ck, rel), "wb") as f:
            f.write(b"keep")
    desc = json.loads(run(["checkpoint", "inspect", ck, "--format",
                           "json"]).stdout)
    check("temps_listed_by_inspect",
          sorted(os.path.normpath(x) for x in desc["leftovers"]) ==
          sorted(os.path.normpath(tpath(r)) for r in temps),
          desc["leftovers"])
    run(["run", write_job(d, "t2.json", ck, max_batches=3)])
    left = [r for r in temps if os.path.exists(tpath(r))]
    check("temps_removed_at_start", left == [], left)
    gone = [r for r in keep if not os.path.exists(os.path.join(ck, r))]
    check("temp_lookalikes_kept", gone == [], gone)


def main():
    global STREAMCTL
    STREAMCTL = sys.argv[1]
    d = tempfile.mkdtemp(prefix="sl-ckjob-")
    try:
        ref = test_restart(d)
        test_first_batches_uncommitted(d, ref)
        test_incompatible(d)
        test_directory_restart(d)
        test_directory_seen_log(d)
        test_progress(d)
        test_empty_batches_write_nothing(d)
        test_system_clock_stop_restart(d)
        test_first_start_survives_early_kill(d)
        test_temps_cleaned_at_start(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
