#!/usr/bin/env python3
"""`streamctl run --progress FILE`: one valid JSON line per batch with
exactly the progress entry's fields (docs/architecture.md, progress) and
values that follow from a manual-clock generator job; a second run appends
with a new run id; usage errors and an unopenable file. A socket job fed by
a real `ncat -lk` (skipped without ncat): every entry's lag is a number,
the lines all reach batches and then nothing waits, and the window shows
the records it keeps in state.

usage: test_progress_file.py STREAMCTL SOURCE_ROOT
"""

import json
import os
import signal
import subprocess
import sys

import joblib
from joblib import Failure

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
from itlib import Ncat, TestFailure, free_port, wait_until  # noqa: E402

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
    # a generator's lines exist only once their batch is planned
    check(src["lag"] == 0, "generator lag %r" % src["lag"])
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


def test_directory(tmp):
    """A directory source counts what its readers read and set aside: the
    entry has the lines read as rows, the malformed line as malformed."""
    inbox = os.path.join(tmp, "in")
    os.mkdir(inbox)
    with open(os.path.join(inbox, "f1.json"), "w") as f:
        f.write('{"a": 1}\nnot json\n{"a": 2}\n')
    job = os.path.join(tmp, "dir.json")
    prog = os.path.join(tmp, "progress.jsonl")
    with open(job, "w") as f:
        json.dump({"name": "dir-progress", "batch_interval": "100ms",
                   "clock": "manual", "max_batches": 2,
                   "conf": {"log.level": "error"},
                   "sources": {"files": {"type": "directory", "path": inbox,
                                         "format": "json",
                                         "include_existing": True}},
                   "sinks": [{"from": "files", "type": "console",
                              "format": "json"}]}, f)
    rc, out, err = run(["run", "--progress", prog, job], tmp)
    check(rc == 0, "status %d, stderr %r" % (rc, err))
    entries = read_entries(prog)
    check(len(entries) == 2, "%d entries" % len(entries))
    want = [(3, 1, 2), (0, 0, 0)]  # rows, malformed, records written
    for e, (rows, bad, written) in zip(entries, want):
        keys(e, ENTRY_KEYS, "entry")
        src = e["sources"][0]
        keys(src, SOURCE_KEYS, "source")
        got = (e["input_rows"], src["rows"], src["malformed"],
               e["sinks"][0]["rows"])
        check(got == (rows, rows, bad, written),
              "batch %d: input_rows, rows, malformed, sink rows %r, want %r"
              % (e["batch"], got, (rows, rows, bad, written)))
        # one file, taken by the first batch: no file waits
        check(src["lag"] == 0, "lag %r" % src["lag"])


SOCKET_LINES = 50


def socket_job(tmp, port):
    job = os.path.join(tmp, "socket.json")
    with open(job, "w") as f:
        json.dump({"name": "socket-progress", "batch_interval": "200ms",
                   "conf": {"log.level": "warn"},
                   "sources": {"lines": {"type": "socket",
                                         "host": "127.0.0.1", "port": port}},
                   "streams": {
                       "pairs": {"from": "lines", "ops": [
                           {"op": "flat_map", "fn": "split_words"},
                           {"op": "map", "fn": "pair_one"}]},
                       "counts": {"from": "pairs", "ops": [
                           {"op": "reduce_by_key_and_window", "fn": "sum",
                            "inverse": "subtract", "window": "10s",
                            "slide": "200ms"}]}},
                   "sinks": [{"from": "counts", "type": "console",
                              "format": "json"}]}, f)
    return job


def entries_now(path):
    """The complete lines of the progress file so far, parsed."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.split("\n")[:-1]]


def test_socket(tmp):
    """A receiver's lag: the lines received and not yet in a batch, a
    number in every entry; once every line sent is in a batch and nothing
    more comes, 0. The window (10 s, holding everything) keeps the pairs
    of its batches and its last result: rows > 0 in state."""
    port = free_port()
    prog = os.path.join(tmp, "progress.jsonl")
    job = socket_job(tmp, port)
    proc = None
    with Ncat(port) as ncat:
        try:
            proc = subprocess.Popen([STREAMCTL, "run", "--progress", prog,
                                     job], cwd=tmp, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            ncat.wait_connections(1)
            ncat.send(b"".join(b"w%d x\n" % i
                               for i in range(SOCKET_LINES)))

            def all_in():
                # every line in a batch, and an entry after the last one
                es = entries_now(prog)
                rows = sum(e["sources"][0]["rows"] for e in es)
                return es if rows >= SOCKET_LINES and \
                    es[-1]["sources"][0]["rows"] == 0 else None
            entries = wait_until(all_in, 30, "all lines in batches")
            proc.send_signal(signal.SIGINT)
            rc = proc.wait(timeout=20)
            err = proc.stderr.read().decode("utf-8", "replace")
            check(rc == 0, "status %d after SIGINT, stderr %r" % (rc, err))
        finally:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    for e in entries:
        src = e["sources"][0]
        keys(src, SOURCE_KEYS, "source")
        check(src["description"] == "socket", "source %r" % src)
        check(isinstance(src["lag"], int) and src["lag"] >= 0,
              "batch %d: lag %r" % (e["batch"], src["lag"]))
    check(sum(e["sources"][0]["rows"] for e in entries) == SOCKET_LINES,
          "rows %r" % [e["sources"][0]["rows"] for e in entries])
    last = entries[-1]
    check(last["sources"][0]["lag"] == 0, "lag after all lines are in "
          "batches: %r" % last["sources"][0])
    state = [s for s in last["state"] if s["op"] == "counts"]
    check(len(state) == 1, "state %r" % last["state"])
    keys(state[0], STATE_KEYS, "state")
    # the ring keeps each batch reduced by key (the 51 keys at least once:
    # w0..w49 and x, however the lines fell into batches) and the last
    # result all 51
    check(state[0]["rows"] >= 2 * (SOCKET_LINES + 1) and
          state[0]["bytes"] > 0, "window state %r" % state[0])


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
                             ("directory", test_directory),
                             ("socket", test_socket),
                             ("option_errors", test_option_errors)],
                            errors=(Failure, TestFailure))


if __name__ == "__main__":
    sys.exit(main())
