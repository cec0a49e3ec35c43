#!/usr/bin/env python3
"""The receiver WAL under kill -9, with a real `ncat -lk` and `streamctl
run`: numbered lines are sent at a steady rate to a socket job with a
checkpoint directory (console json sink, 200 ms batches); the job is killed
with SIGKILL at a random instant, KILLS times, and the last run is stopped
gracefully (SIGINT). After each run the WAL is read back (wal_dump):

- every batch the job printed is in the WAL with exactly the lines it
  printed (a batch runs only once its blocks are synced there);
- no line is in the WAL twice, and the WAL holds lines 1..M in order (no
  line of a sealed block skipped);
- the lines sent but not in the WAL (lost by the kill: read but not yet in
  a synced batch, or still in the socket buffers) fit the bound of
  docs/checkpoint-format.md "Receiver WAL" (receiver.max_buffered_bytes
  plus one unterminated line), and the graceful stop loses none.

Recovery (re-running the WAL's batches after a restart) is the recover
part's; until it is merged each run has its own checkpoint directory and
connection, so the checks are per run. Prints kills, lines sent, lost
and duplicated. Exits 77 without ncat.

usage: test_wal_kill.py STREAMCTL WAL_DUMP
"""

import os
import random
import signal
import subprocess
import sys
import tempfile

from itlib import Job, Ncat, TestFailure, check, free_port, log, main, \
    wait_until
from wallib import KILLS, MAX_BUFFERED, MAX_LINE, printed, seed, send_for, \
    write_job

def line(n):
    return b"%08d the receiver WAL kill test line\n" % n


def wal_lines(wal_dump, ckpt, last_batch):
    """{batch: [line numbers]} in the WAL, in WAL order."""
    res = subprocess.run([wal_dump, os.path.join(ckpt, "wal"), "0",
                          str(last_batch)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60)
    check(res.returncode == 0, "wal_dump failed: %s" % res.stderr.decode())
    out = {}
    for raw in res.stdout.split(b"\n")[:-1]:
        batch, _, text = raw.split(b"\t", 2)
        out.setdefault(int(batch), []).append(int(text.split()[0]))
    return out


def one_run(streamctl, wal_dump, work, cycle, graceful):
    """Send lines until a random instant, then kill (or stop) the job;
    returns (sent, lost, duplicated)."""
    ckpt = os.path.join(work, "ck%d" % cycle)
    path = os.path.join(work, "job%d.json" % cycle)
    port = free_port()
    write_job(path, "wal-kill", port, conf={"checkpoint.path": ckpt})
    sent = 0
    with Ncat(port) as ncat, Job([streamctl, "run", path]) as job:
        ncat.wait_connections(1)
        sent = send_for(ncat, sent, random.uniform(0.8, 2.0), line)
        if graceful:
            # Every line sent must come through before the stop.
            wait_until(lambda: sum(len(v) for v in printed(job).values())
                       >= sent, 20, "all %d lines printed" % sent)
            rc = job.stop(signal.SIGINT)
            check(rc == 0, "exit status %s after SIGINT" % rc)
        else:
            job.proc.send_signal(signal.SIGKILL)
            job.wait_exit(10)
        shown = printed(job)
    last = max(list(shown) + [0]) + 50
    wal = wal_lines(wal_dump, ckpt, last)
    for b, lines in shown.items():
        check(sorted(wal.get(b, [])) == sorted(lines),
              "run %d: batch %d printed %d lines, the WAL has %d of it"
              % (cycle, b, len(lines), len(wal.get(b, []))))
    flat = [n for b in sorted(wal) for n in wal[b]]
    dup = len(flat) - len(set(flat))
    check(dup == 0, "run %d: %d lines twice in the WAL" % (cycle, dup))
    check(flat == list(range(1, len(flat) + 1)),
          "run %d: the WAL's lines are not 1..%d in order" % (cycle,
                                                             len(flat)))
    lost = sent - len(flat)
    lost_bytes = sum(len(line(n)) for n in range(len(flat) + 1, sent + 1))
    bound = MAX_BUFFERED + MAX_LINE
    log("run %d (%s): sent %d lines, WAL %d, printed %d, lost %d "
        "(%d bytes, bound %d)" % (cycle, "SIGINT" if graceful else "SIGKILL",
                                  sent, len(flat),
                                  sum(len(v) for v in shown.values()),
                                  lost, lost_bytes, bound))
    check(lost_bytes <= bound, "run %d: %d bytes lost, over the bound %d"
          % (cycle, lost_bytes, bound))
    if graceful:
        check(lost == 0, "the graceful stop lost %d lines" % lost)
    return sent, lost, dup


def test():
    streamctl, wal_dump = sys.argv[1], sys.argv[2]
    seed()
    sent = lost = dup = 0
    with tempfile.TemporaryDirectory(prefix="sl_wal_kill_") as work:
        for cycle in range(KILLS + 1):
            s, l, d = one_run(streamctl, wal_dump, work, cycle,
                              graceful=cycle == KILLS)
            sent, lost, dup = sent + s, lost + l, dup + d
    print("kills: %d, lines sent: %d, lost: %d, duplicated: %d"
          % (KILLS, sent, lost, dup))
    if dup:
        raise TestFailure("duplicated lines")


if __name__ == "__main__":
    main(test)
