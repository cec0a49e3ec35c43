#!/usr/bin/env python3
"""Recovery through the receiver WAL with a real `ncat -lk`: numbered
lines go to a socket job with a checkpoint (console json sink, 200 ms
batches); the job is killed with SIGKILL at a random instant KILLS times,
restarted each time from the same checkpoint (it reconnects to the same
ncat), and stopped gracefully at the end once the last line was printed.

Checked over all runs' output (the console sink is at-least-once: a batch
printed before the kill and not committed is printed again by the next
run):
- a batch printed by two runs holds the same lines both times (the re-run
  took its input from the WAL, not from new input);
- no line is in two different batches (nothing doubled);
- the lines never printed (lost: read but not in a synced batch at a
  kill) form at most one gap per kill, each within the bound of
  docs/checkpoint-format.md "Receiver WAL" (receiver.max_buffered_bytes
  plus one line), and every later line came through.
Prints kills, lines sent, lost and duplicated, and how many batches ran
again at a restart: a batch runs for a few ms of its 200 ms interval, so
kills rarely land inside one; test_stream_wal_replay's
recovery_replays_receiver_input forces that case. Exits 77 without ncat.

usage: test_wal_restart.py STREAMCTL
"""

import json
import os
import random
import re
import signal
import sys
import tempfile
import time

from itlib import Job, Ncat, check, free_port, log, main, wait_until

KILLS = 10
MAX_BUFFERED = 256 * 1024
MAX_LINE = 1024
LINES_PER_WRITE = 50
WRITE_EVERY_S = 0.01


RERUN_RE = re.compile(rb"recovery: batch (\d+) has no commit")


def line(n):
    return b"%08d the receiver WAL restart test line\n" % n


def write_job(path, port, ckpt):
    job = {
        "name": "wal-restart",
        "batch_interval": "200ms",
        "clock": "system",
        "max_batches": 0,
        "checkpoint": ckpt,
        "conf": {"receiver.max_buffered_bytes": str(MAX_BUFFERED),
                 "receiver.max_line_bytes": str(MAX_LINE),
                 "log.level": "warn"},
        "sources": {"lines": {"type": "socket", "host": "127.0.0.1",
                              "port": port}},
        "sinks": [{"from": "lines", "type": "console", "format": "json"}],
    }
    with open(path, "w") as f:
        json.dump(job, f)


def printed(job):
    """{batch: [line numbers]} of the complete json lines printed."""
    out = {}
    for raw in job.out.data().split(b"\n")[:-1]:
        rec = json.loads(raw)
        out[rec["batch"]] = [int(r.split()[0]) for r in rec["records"]]
    return out


def max_printed(job):
    return max([max(v) for v in printed(job).values() if v] + [0])


def test():
    streamctl = sys.argv[1]
    random.seed(int(os.environ.get("SL_SEED", str(int(time.time())))))
    runs, reruns = [], []
    sent = 0
    with tempfile.TemporaryDirectory(prefix="sl_wal_restart_") as work:
        path = os.path.join(work, "job.json")
        port = free_port()
        write_job(path, port, os.path.join(work, "ck"))
        with Ncat(port) as ncat:
            for cycle in range(KILLS + 1):
                with Job([streamctl, "run", path]) as job:
                    ncat.wait_connections(cycle + 1)
                    until = time.monotonic() + random.uniform(0.6, 1.5)
                    while time.monotonic() < until:
                        ncat.send(b"".join(line(sent + 1 + i)
                                           for i in range(LINES_PER_WRITE)))
                        sent += LINES_PER_WRITE
                        time.sleep(WRITE_EVERY_S)
                    if cycle < KILLS:
                        job.proc.send_signal(signal.SIGKILL)
                        job.wait_exit(10)
                    else:
                        wait_until(lambda: max_printed(job) >= sent, 20,
                                   "line %d printed" % sent)
                        rc = job.stop(signal.SIGINT)
                        check(rc == 0, "exit status %s after SIGINT" % rc)
                    runs.append(printed(job))
                    reruns.append([int(x) for x in RERUN_RE.findall(
                        job.err.data())])
                    log("run %d: %d batches printed, up to line %d"
                        % (cycle, len(runs[-1]), max_printed(job)))
    final = {}
    replayed = 0
    for r, shown in enumerate(runs):
        # A batch run again must print what its first run printed: its
        # lines came back from the WAL.
        for b in reruns[r]:
            if final.get(b):
                check(b in shown, "run %d re-ran batch %d but printed "
                      "nothing for it" % (r, b))
                replayed += 1
        for b, lines in shown.items():
            if b in final:
                check(sorted(final[b]) == sorted(lines),
                      "batch %d printed again by run %d with other lines "
                      "(%d, before %d)" % (b, r, len(lines), len(final[b])))
            final[b] = lines
    flat = [n for b in sorted(final) for n in final[b]]
    dup = len(flat) - len(set(flat))
    check(dup == 0, "%d lines in two batches" % dup)
    have = set(flat)
    gaps, lost, start = [], 0, None
    for n in range(1, sent + 2):
        if n not in have and n <= sent:
            start = n if start is None else start
        elif start is not None:
            gaps.append((start, n - 1))
            lost += n - start
            start = None
    log("gaps (lost lines): %r" % gaps)
    log("batches run again at restarts: %d, of them printed before the "
        "kill: %d" % (sum(len(r) for r in reruns), replayed))
    print("kills: %d, lines sent: %d, lost: %d, duplicated: %d"
          % (KILLS, sent, lost, dup))
    check(len(gaps) <= KILLS, "%d gaps for %d kills" % (len(gaps), KILLS))
    for a, b in gaps:
        nbytes = sum(len(line(n)) for n in range(a, b + 1))
        check(nbytes <= MAX_BUFFERED + MAX_LINE,
              "lines %d..%d lost: %d bytes, over the bound %d"
              % (a, b, nbytes, MAX_BUFFERED + MAX_LINE))


if __name__ == "__main__":
    main(test)
