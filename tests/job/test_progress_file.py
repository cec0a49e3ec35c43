#!/usr/bin/env python3
"""`streamctl run --progress FILE`: one valid JSON line per batch with
exactly the progress entry's fields (docs/architecture.md, progress) and
values that follow from a manual-clock generator job; a second run appends
with a new run id; usage errors and an unopenable file.

usage: test_progress_file.py STREAMCTL SOURCE_ROOT
"""

import json
import os
import sys

import joblib
from joblib import Failure

STREAMCTL = None
TIMEOUT = 60
BATCHES = 4
LINES = 7

ENTRY_KEYS = {"job", "job_id", "run_id", "batch", "batch_time_ms",
              "timestamp", "input_rows", "input_rows_per_s",
              "processed_rows_per_s", "duration_ms", "scheduling_delay_ms",
              "queued_batches", "absorbed_ticks", "state", "sources",
              "sinks", "checkpoint"}
DURATION_KEYS = {"plan", "offsets", "compute", "sinks", "commit", "total"}
STATE_KEYS = {"op", "rows", "bytes", "dropped_late"}
SOURCE_KEYS = {"name", "description", "start", "end", "rows", "malformed",
               "lag"}
SINK_KEYS = {"name", "rows"}

JOB = {
    "name": "progress-job", "batch_interval": "500ms", "clock": "manual",
    "max_batches": BATCHES, "conf": {"log.level": "warn", "workers": 2},
    "sources": {"text": {"type": "generator", "lines_per_batch": LINES,
                         "words_per_line": 2, "vocabulary": 5}},
    "streams": {
        "pairs": {"from": "text", "ops": [
            {"op": "flat_map", "fn": "split_words"},
            {"op": "map", "fn": "pair_one"}]},
        "totals": {"from": "pairs", "ops": [
            {"op": "update_state_by_key", "fn": "sum"}]}},
    "sinks": [{"from": "totals", "type": "console", "format": "json",
               "name": "totals-out"},
              {"from": "pairs", "type": "console", "format": "text"}],
}


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def keys(obj, want, what):
    check(isinstance(obj, dict), "%s: not an object: %r" % (what, obj))
    check(set(obj) == want, "%s: keys %s, want %s"
          % (what, sorted(obj), sorted(want)))


def run(args, cwd):
    return joblib.run_streamctl(STREAMCTL, args, cwd, TIMEOUT)


def read_entries(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    check(text.endswith("\n"), "the progress file does not end in a newline")
    entries = []
    for n, line in enumerate(text.split("\n")[:-1], 1):
        try:
            entries.append(json.loads(line))
        except ValueError as e:
            raise Failure("line %d is not JSON (%s): %r" % (n, e, line))
    return entries


def check_entry(e, batch, state_rows_before):
    keys(e, ENTRY_KEYS, "entry %d" % batch)
    check(e["job"] == "progress-job", "job %r" % e["job"])
    check(e["batch"] == batch, "batch %r, want %d" % (e["batch"], batch))
    check(e["batch_time_ms"] == 500 * batch, "batch_time_ms %r"
          % e["batch_time_ms"])
    check(e["timestamp"].endswith("Z") and len(e["timestamp"]) == 24,
          "timestamp %r" % e["timestamp"])
    check(e["input_rows"] == LINES, "input_rows %r" % e["input_rows"])
    check(abs(e["input_rows_per_s"] - LINES * 2) < 1e-9,
          "input_rows_per_s %r (7 rows in 0.5 s)" % e["input_rows_per_s"])
    keys(e["duration_ms"], DURATION_KEYS, "duration_ms")
    check(all(v >= 0 for v in e["duration_ms"].values()), "negative time")
    check(e["absorbed_ticks"] == 0, "absorbed_ticks %r" % e["absorbed_ticks"])
    check(len(e["state"]) == 1, "state %r" % e["state"])
    keys(e["state"][0], STATE_KEYS, "state[0]")
    check(e["state"][0]["op"] == "totals", "state op %r" % e["state"][0])
    check(e["state"][0]["rows"] >= state_rows_before, "state shrank")
    check(len(e["sources"]) == 1, "sources %r" % e["sources"])
    src = e["sources"][0]
    keys(src, SOURCE_KEYS, "sources[0]")
    check(src["name"] == "text" and src["description"] == "generator",
          "source %r" % src)
    check(src["end"]["batch"] == batch and src["end"]["lines"] == LINES,
          "source end %r" % src["end"])
    check(src["rows"] == LINES, "source rows %r" % src["rows"])
    check(len(e["sinks"]) == 2, "sinks %r" % e["sinks"])
    for s in e["sinks"]:
        keys(s, SINK_KEYS, "sink")
    check([s["name"] for s in e["sinks"]] == ["totals-out", "pairs.console"],
          "sink names %r" % e["sinks"])
    check(e["sinks"][0]["rows"] == e["state"][0]["rows"],
          "the json sink wrote every key: %r" % e)
    check(e["sinks"][1]["rows"] == min(10, 2 * LINES),
          "the text sink printed 10 of 14 pairs: %r" % e["sinks"][1])
    keys(e["checkpoint"], {"bytes", "files"}, "checkpoint")
    check(e["checkpoint"] == {"bytes": 0, "files": 0}, "no checkpoint")
    return e["state"][0]["rows"]


def test_progress(tmp):
    job = os.path.join(tmp, "job.json")
    prog = os.path.join(tmp, "progress.jsonl")
    with open(job, "w") as f:
        json.dump(JOB, f)
    for runs in (1, 2):
        rc, out, err = run(["run", "--progress", prog, job], tmp)
        check(rc == 0, "run %d: status %d, stderr %r" % (runs, rc, err))
        entries = read_entries(prog)
        check(len(entries) == BATCHES * runs, "%d lines after %d runs"
              % (len(entries), runs))
    rows = 0
    for i, e in enumerate(entries[:BATCHES]):
        rows = check_entry(e, i + 1, rows)
        if i:
            check(e["sources"][0]["start"] ==
                  entries[i - 1]["sources"][0]["end"],
                  "start is the previous end: %r" % e["sources"][0])
    check(entries[0]["sources"][0]["start"] is None, "first start not null")
    first, second = entries[:BATCHES], entries[BATCHES:]
    check(len({e["run_id"] for e in first}) == 1, "one run id per run")
    check(first[0]["run_id"] != second[0]["run_id"], "same run id twice")
    check([e["batch"] for e in second] == list(range(1, BATCHES + 1)),
          "second run's batches %r" % [e["batch"] for e in second])


def test_option_errors(tmp):
    job = os.path.join(tmp, "job.json")
    with open(job, "w") as f:
        json.dump(JOB, f)
    rc, out, err = run(["run", job, "--progress"], tmp)
    check(rc == 2 and "--progress needs a file" in err,
          "missing file: status %d, stderr %r" % (rc, err))
    bad = os.path.join(tmp, "no-such-dir", "p.jsonl")
    rc, out, err = run(["run", "--progress", bad, job], tmp)
    check(rc == 1 and bad in err and out == "",
          "unopenable file: status %d, stdout %r, stderr %r" % (rc, out, err))


def main():
    global STREAMCTL
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[1])
        return 2
    STREAMCTL = os.path.abspath(sys.argv[1])
    return joblib.run_cases([("progress", test_progress),
                             ("option_errors", test_option_errors)])


if __name__ == "__main__":
    sys.exit(main())
