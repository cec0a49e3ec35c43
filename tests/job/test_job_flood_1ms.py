#!/usr/bin/env python3
"""1 ms batches under a socket flood: memory stays bounded.

Usage: test_job_flood_1ms.py STREAMCTL SOURCE_ROOT

A TCP server (this script) sends many small writes of words (200,000
distinct ones, cycling) to `streamctl run` for FLOOD_S seconds; the job
keeps a running count per word (update_state_by_key, which visits every
key in every batch, so a batch takes far longer than its 1 ms). Ticks come
far faster than batches can run, so most are absorbed into the next batch
(max_queued_batches), and each batch pins only what it holds (a mostly
empty block is copied out at sealing). Peak VmRSS and VmSize (VmPeak) of
the job must stay under fixed bounds that the unbounded queue, sealing a
~1 MiB block per tick, passes within seconds (its virtual size grew by
~260 MB/s here, and its graceful stop then drained the backlog for over
3 minutes). SIGTERM must end the job within the graceful stop's timeout
(10 s here) plus a margin, with status 0 or 4.

Runs in the plain build only (label slow): RSS means nothing under ASan.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

if len(sys.argv) != 3:
    sys.stderr.write("usage: %s STREAMCTL SOURCE_ROOT\n" % sys.argv[0])
    sys.exit(2)
STREAMCTL = os.path.abspath(sys.argv[1])
FLOOD_S = 12
RSS_LIMIT_KB = 256 << 10
VMSIZE_GROWTH_LIMIT_KB = 256 << 10


def status_kb(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def flood(srv, stop_at, sent):
    """Many small writes, each read on its own: every 1 ms tick finds a
    little data, the worst case for a block sealed per tick."""
    try:
        conn, _ = srv.accept()
    except OSError:
        return
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.settimeout(1)
    i = 0
    while time.monotonic() < stop_at:
        line = " ".join("k%d" % ((i * 8 + j) % 200000) for j in range(8))
        try:
            conn.sendall(line.encode() + b"\n")
            sent[0] += len(line) + 1
        except socket.timeout:
            continue
        except OSError:
            break
        i += 1
        if i % 4 == 0:
            time.sleep(0.0001)
    # keep the connection open until the job stops reading
    time.sleep(0.5)
    conn.close()


def main():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(20)
    port = srv.getsockname()[1]
    job = {
        "name": "flood", "batch_interval": "1ms",
        "conf": {"log.level": "error"},
        "sources": {"lines": {"type": "socket", "host": "127.0.0.1",
                              "port": port}},
        "streams": {"n": {"from": "lines", "ops": [
            {"op": "flat_map", "fn": "split_words"},
            {"op": "map", "fn": "pair_one"},
            {"op": "update_state_by_key", "fn": "sum"},
            {"op": "count"}]}},
        "sinks": [{"from": "n", "type": "console", "format": "json"}],
    }
    sent = [0]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "job.json")
        with open(path, "w") as f:
            json.dump(job, f)
        err = open(os.path.join(tmp, "err.txt"), "wb")
        proc = subprocess.Popen([STREAMCTL, "run", path],
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
        th = threading.Thread(target=flood, daemon=True,
                              args=(srv, time.monotonic() + FLOOD_S, sent))
        th.start()
        peak_rss = 0
        base_vm = None
        peak_vm = 0
        try:
            end = time.monotonic() + FLOOD_S
            while time.monotonic() < end and proc.poll() is None:
                rss = status_kb(proc.pid, "VmRSS")
                vm = status_kb(proc.pid, "VmSize")
                peak_rss = max(peak_rss, rss)
                if base_vm is None and sent[0] > 0:
                    base_vm = vm
                peak_vm = max(peak_vm, vm)
                time.sleep(0.1)
            peak_vm = max(peak_vm, status_kb(proc.pid, "VmPeak"))
            peak_rss = max(peak_rss, status_kb(proc.pid, "VmHWM"))
            check_alive = proc.poll()
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=25)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                print("FAIL: no exit within 25 s of SIGTERM")
                return 1
            stop_s = time.monotonic() - t0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            srv.close()
            err.close()
        with open(os.path.join(tmp, "err.txt"), "rb") as f:
            errtext = f.read().decode("utf-8", "replace")
    growth = peak_vm - (base_vm or 0)
    print("sent %.1f MB in %d s; peak RSS %d MB, VmSize growth %d MB; "
          "stop took %.2f s, exit %d" % (sent[0] / 1e6, FLOOD_S,
                                         peak_rss >> 10, growth >> 10,
                                         stop_s, rc))
    failures = []
    if check_alive is not None:
        failures.append("the job ended during the flood (status %s): %r"
                        % (check_alive, errtext[-1000:]))
    if sent[0] < (1 << 20):
        failures.append("only %d bytes sent: the flood did not happen"
                        % sent[0])
    if peak_rss > RSS_LIMIT_KB:
        failures.append("peak RSS %d KiB > %d KiB" % (peak_rss, RSS_LIMIT_KB))
    if growth > VMSIZE_GROWTH_LIMIT_KB:
        failures.append("VmSize grew by %d KiB > %d KiB"
                        % (growth, VMSIZE_GROWTH_LIMIT_KB))
    if rc not in (0, 4):
        failures.append("exit status %d: %r" % (rc, errtext[-1000:]))
    if stop_s > 15:
        failures.append("the stop took %.1f s" % stop_s)
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
