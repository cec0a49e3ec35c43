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

import os
import random
import re
import signal
import sys
import tempfile

from itlib import Job, Ncat, check, free_port, log, main, wait_until
from wallib import KILLS, MAX_BUFFERED, MAX_LINE, printed, seed, send_for, \
    write_job

RERUN_RE = re.compile(rb"recovery: batch (\d+) has no commit")


def line(n):
    return b"%08d the receiver WAL restart test line\n" % n


def max_printed(job):
    return max([max(v) for v in printed(job).values() if v] + [0])


def test():
    streamctl = sys.argv[1]
    seed()
    runs, reruns = [], []
    sent = 0
    with tempfile.TemporaryDirectory(prefix="sl_wal_restart_") as work:
        path = os.path.join(work, "job.json")
        port = free_port()
        write_job(path, "wal-restart", port,
                  top={"checkpoint": os.path.join(work, "ck")})
        with Ncat(port) as ncat:
            for cycle in range(KILLS + 1):
                with Job([streamctl, "run", path]) as job:
                    ncat.wait_connections(cycle + 1)
                    sent = send_for(ncat, sent, random.uniform(0.6, 1.5),
                                    line)
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
