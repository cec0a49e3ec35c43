#!/usr/bin/env python3
"""A job stopped after some batches and started again on the same
checkpoint keeps its event-time watermark (issue 13): the first batch
after the restart runs with the recorded one (progress event_time), a
window it closes is emitted then, and rows behind it are still dropped as
late (state[].dropped_late).

Usage: test_watermark_restart.py STREAMCTL
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from joblib import Failure, run_module_cases, run_streamctl  # noqa: E402

STREAMCTL = None


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def rows(values):
    return [{"time": "1970-01-01T00:00:%02dZ" % v, "value": v}
            for v in values]


def run(tmp, max_batches):
    """{batch: records}, {batch: progress entry} of one run."""
    job = {"name": "wm_restart", "batch_interval": "1s",
           "conf": {"clock": "manual", "max_batches": max_batches},
           "checkpoint": os.path.join(tmp, "ckpt"),
           "sources": {"src": {
               "type": "queue", "schema": "time timestamp, value long",
               "watermark": {"column": "time", "delay": "10s"},
               # batch 3 (no data) runs with 15 and closes window 10 s;
               # after the restart 12 is late
               "batches": [rows([10, 11, 12, 13, 14]), rows([25]), [],
                           rows([12, 16]), []]}},
           "streams": {"q": {
               "sql": "SELECT window.start AS ws, count(*) AS n FROM src "
                      "GROUP BY window(time, '5 seconds')",
               "output_mode": "append"}},
           "sinks": [{"from": "q", "type": "console", "format": "json"}]}
    path = os.path.join(tmp, "job.json")
    prog = os.path.join(tmp, "progress-%d.jsonl" % max_batches)
    with open(path, "w") as f:
        json.dump(job, f)
    rc, out, err = run_streamctl(STREAMCTL, ["run", "--progress", prog, path],
                                 tmp, 60)
    check(rc == 0, "streamctl run exit %d: %s" % (rc, err[-800:]))
    sinks = {}
    for line in out.splitlines():
        if line.startswith("{"):
            o = json.loads(line)
            sinks[o["batch"]] = o["records"]
    with open(prog) as f:
        progress = {e["batch"]: e for e in map(json.loads, f)}
    return sinks, progress


def case_restart_keeps_watermark(tmp):
    sinks, _ = run(tmp, 3)
    window10 = [{"ws": "1970-01-01T00:00:10.000Z", "n": 5}]
    check(sinks == {1: [], 2: [], 3: window10}, "before the stop: %r"
          % sinks)
    sinks, progress = run(tmp, 5)
    check(sorted(progress) == [4, 5], "batches after the restart %r"
          % sorted(progress))
    for b in (4, 5):  # 16 - 10 s does not move it back
        wm = progress[b]["event_time"]["watermark"]
        check(wm == "1970-01-01T00:00:15.000Z",
              "batch %d after the restart ran with watermark %s, want the "
              "recorded 15 s" % (b, wm))
    late = progress[4]["state"][0]["dropped_late"]
    check(late == 1, "late rows dropped in batch 4: %d, want 1 (12)" % late)
    check(sinks[4] == [] and sinks[5] == [],
          "window 10 s emitted again after the restart: %r" % sinks)


if __name__ == "__main__":
    sys.exit(run_module_cases(globals()))
