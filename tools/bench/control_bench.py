#!/usr/bin/env python3
"""Control plane overhead: the socket word count with the control plane on
against all off, alternating in the same run.

Runs bench_socket (the DStream word count of socket_bench.py, same Zipf
word file, same sender) --repeat times each way, alternating off and on:

  off: bench_socket as socket_bench.py runs it;
  on:  bench_socket --control NAME --ui-port P: sl_control_attach with the
       run folder, control socket, rotating progress log and web UI on
       127.0.0.1:P, while a poller asks GET /api/status and the control
       socket's {"cmd": "status"} once a second each.

Checks that every run counts every word as the first off run did, prints
the median words/s of each, the ratio on/off (target >= 0.95) with PASS or
MISS, the median CPU time of the job process each way (steadier than wall
time on a busy machine), and how many status polls were answered. --no-ui leaves the web UI
(and the /api/status polls) out. Not a ctest test: run it by hand (docs/performance.md, "Control plane overhead"),

  python3 tools/bench/control_bench.py --build-dir build --repeat 5
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from socket_bench import (ensure_file, free_port, parse_size,  # noqa: E402
                          read_counts, run_sluice, tool, verdict)

NAME = "control-bench"


def control_status(sock_path):
    """One status request on the control socket; the reply object."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(sock_path)
        s.sendall(b'{"cmd":"status"}\n')
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)


def http_status(port):
    url = f"http://127.0.0.1:{port}/api/status"
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


class Poller(threading.Thread):
    """Asks for the status both ways once a second until stopped; counts
    the answers that say "ok" (the job may not be up for the first)."""

    def __init__(self, sock_path, ui_port):
        super().__init__(daemon=True)
        self.sock_path, self.ui_port = sock_path, ui_port
        self.stop = threading.Event()
        self.answers = {"socket": 0, "http": 0}
        self.failures = 0

    def run(self):
        while not self.stop.wait(1.0):
            asks = [("socket", lambda: control_status(self.sock_path))]
            if self.ui_port:
                asks.append(("http", lambda: http_status(self.ui_port)))
            for kind, ask in asks:
                try:
                    if ask().get("ok"):
                        self.answers[kind] += 1
                except (OSError, ValueError):
                    self.failures += 1


def run_on(bench_socket, path, out, args, run_dir):
    """One run with the control plane on and the poller asking."""
    ui_port = None if args.no_ui else free_port()
    poller = Poller(os.path.join(run_dir, NAME, "control.sock"), ui_port)
    extra = ["--control", NAME, "--run-dir", run_dir]
    if ui_port:
        extra += ["--ui-port", str(ui_port)]
    poller.start()
    try:
        res = run_sluice(bench_socket, path, out, args.max_buffered,
                         args.workers, extra)
    finally:
        poller.stop.set()
        poller.join()
    res["poller"] = poller
    return res


def measure(bench_socket, path, args, tmp):
    """args.repeat runs each way, alternating, with their files in tmp; per
    way the elapsed times and the polls answered; None when a run counts
    differently."""
    # The job's logs and progress log go under XDG_STATE_HOME: keep them
    # in the scratch directory rather than the user's home.
    os.environ["XDG_STATE_HOME"] = os.path.join(tmp, "state")
    out = {k: os.path.join(tmp, f"{k}.out") for k in ("off", "on")}
    times = {"off": [], "on": []}
    cpu = {"off": [], "on": []}
    polls = {"socket": 0, "http": 0, "failed": 0}
    want = None
    for _ in range(args.repeat):
        for way in ("off", "on"):
            if way == "off":
                res = run_sluice(bench_socket, path, out[way],
                                 args.max_buffered, args.workers)
            else:
                res = run_on(bench_socket, path, out[way], args,
                             os.path.join(tmp, "run"))
                for k in ("socket", "http"):
                    polls[k] += res["poller"].answers[k]
                polls["failed"] += res["poller"].failures
            times[way].append(res["elapsed"])
            cpu[way].append(float(res["cpu_seconds"]))
            counts = read_counts(out[way])
            want = want if want is not None else counts
            if counts != want:
                print(f"MISMATCH: the {way} run counted differently")
                return None
    return times, cpu, polls, sum(want.values())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default="build",
                    help="build tree with tools/bench (default: build)")
    ap.add_argument("--size", default="100m",
                    help="the word file's size (default 100m)")
    ap.add_argument("--max-buffered", default="64m",
                    help="receiver.max_buffered_bytes (default 64m)")
    ap.add_argument("--workers", type=int, default=0,
                    help="sluice worker threads (default 0: one per core)")
    ap.add_argument("--no-ui", action="store_true",
                    help="the control plane without its web UI")
    ap.add_argument("--repeat", type=int, default=5,
                    help="runs each way, alternating; medians (default 5)")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    build = os.path.abspath(args.build_dir)
    bench_socket = tool(build, "bench_socket")
    print(f"cores: {os.cpu_count()}, load average: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    path = ensure_file(build, args.size, parse_size(args.size))
    tmp = tempfile.mkdtemp(prefix="control-bench-")
    try:
        got = measure(bench_socket, path, args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if got is None:
        return 1
    times, cpu, polls, words = got
    rate = {k: words / statistics.median(v) for k, v in times.items()}
    for way in ("off", "on"):
        print(f"control plane {way:3}: median {statistics.median(times[way]):.3f}"
              f" s  {rate[way] / 1e6:6.2f} M words/s  (runs: "
              + ", ".join(f"{t:.3f}" for t in times[way]) + f"), CPU "
              f"median {statistics.median(cpu[way]):.2f} s")
    print(f"status polls answered: {polls['socket']} control socket, "
          f"{polls['http']} /api/status, {polls['failed']} failed")
    ratio = rate["on"] / rate["off"]
    print()
    print(f"{verdict(ratio >= 0.95)}  control plane on >= 0.95x off "
          f"words/s: {ratio:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
