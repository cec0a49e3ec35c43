#!/usr/bin/env python3
"""Flow control end to end: 50 MiB of lines sent to a consumer whose map is
slow, with receiver.max_buffered_bytes=1m. The receiver must stop reading
(TCP then blocks the sender), the consumer's memory must stay bounded, and
every line must arrive: none lost, none duplicated.

The sender is this script (a plain TCP server), not ncat, because the test
measures how long the sender's socket stays full."""

import os
import select
import socket
import sys
import time

from itlib import Job, check, log, main

LINE_BYTES = 100
TOTAL_BYTES = 50 << 20
LINES = TOTAL_BYTES // LINE_BYTES
MAX_BUFFERED = 1 << 20
# Tighter than "bound + 64 MiB": the whole payload is 50 MiB, so a looser
# limit could not tell a bounded receiver from one that buffers everything
# (which peaks near 53 MiB here).
RSS_LIMIT = MAX_BUFFERED + (24 << 20)
SEND_DEADLINE = 60


def payload():
    pad = b"x" * (LINE_BYTES - 11)
    return b"".join(b"%09d %s\n" % (i, pad) for i in range(LINES))


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def send_all(conn, data, pid):
    """Send data; returns (seconds blocked in total, longest stretch
    blocked, peak RSS of pid seen meanwhile in KiB)."""
    conn.setblocking(False)
    view = memoryview(data)
    blocked = longest = 0.0
    stall = None  # when the current blocked stretch began
    peak = 0
    next_sample = 0.0
    deadline = time.monotonic() + SEND_DEADLINE
    while view:
        now = time.monotonic()
        check(now < deadline, "sending did not finish in %d s (%d MiB left)"
              % (SEND_DEADLINE, len(view) >> 20))
        if now >= next_sample:
            peak = max(peak, rss_kb(pid))
            next_sample = now + 0.1
        try:
            n = conn.send(view[:1 << 20])
            view = view[n:]
            if stall is not None:
                longest = max(longest, time.monotonic() - stall)
                stall = None
            continue
        except BlockingIOError:
            pass
        # The send buffer is full: wait for room, timing the wait.
        t0 = time.monotonic()
        if stall is None:
            stall = t0
        select.select([], [conn], [], 0.1)
        blocked += time.monotonic() - t0
    return blocked, longest, peak


def results(text):
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out


def test():
    consumer = sys.argv[1]
    data = payload()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(15)
    port = srv.getsockname()[1]
    argv = [consumer, "127.0.0.1", port, LINES,
                "batch_interval=200ms", "workers=2",
                "receiver.max_buffered_bytes=1m", "receiver.block_bytes=64k"]
    try:
        with Job(argv) as job:
            conn, _ = srv.accept()
            srv.close()
            t0 = time.monotonic()
            blocked, longest, peak = send_all(conn, data, job.proc.pid)
            conn.close()
            log("sent %d MiB in %.1f s, blocked %.1f s in total, %.2f s at "
                "the longest; peak RSS seen %d KiB"
                % (TOTAL_BYTES >> 20, time.monotonic() - t0, blocked,
                   longest, peak))
            rc = job.wait_exit(40)
            log("consumer took %.1f s in all" % (time.monotonic() - t0))
            r = results(job.out.text())
            log("consumer: %r" % r)
            if rc != 0 or r.get("total_lines") != LINES:
                job.dump()
            check(rc == 0, "consumer exit status %d" % rc)
            check(r.get("total_lines") == LINES, "counted %r lines, sent %d"
                  % (r.get("total_lines"), LINES))
            check(r.get("bytes") == TOTAL_BYTES, "received %r bytes, sent %d"
                  % (r.get("bytes"), TOTAL_BYTES))
            check(r.get("pauses", 0) > 0, "the receiver never paused")
            check(blocked > 1.0, "the sender was blocked only %.2f s: no "
                  "back-pressure" % blocked)
            rss = max(peak, r.get("peak_rss_kb", 0)) * 1024
            check(rss < RSS_LIMIT, "peak RSS %d MiB, limit %d MiB"
                  % (rss >> 20, RSS_LIMIT >> 20))
    finally:
        srv.close()


if __name__ == "__main__":
    main(test)
