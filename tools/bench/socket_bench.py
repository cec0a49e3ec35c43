#!/usr/bin/env python3
"""Socket word-count benchmark: sluice against ncat | mawk.

Generates (or reuses, cached in BUILD/bench/) a file of Zipf word lines with
gen_words and sends it over TCP on 127.0.0.1 with the same sender to

  (a) ncat --recv-only -l 127.0.0.1 PORT | mawk '{...c[$i]++} END{...}'
      (ncat listens; this script connects, sends, closes), timed from the
      connect until mawk exits;
  (b) bench_socket, sluice's socket text stream with 100 ms batches (sluice
      connects; this script listens, accepts, sends, closes), timed from the
      accept until the batch holding the last byte has been merged;
  (c) bench_socket --sql, the structured word count (the SQL stream of
      examples/streaming/structured_network_wordcount.c, complete mode) fed
      and timed as (b).

It checks that all three count every word the same (MISMATCH and exit 1 if
not), prints words/s for each, the ratios sluice/mawk (target 2x) and
structured/DStream (target 0.7), runs sluice again on a 1 GB file
(generated, then deleted) to measure its peak RSS against
receiver.max_buffered_bytes + 64 MiB, and runs bench_memcount for the 1 vs 2
worker speed-up in memory. Each target is printed with PASS or MISS.
--sql-only runs (a), (b) and (c) alone; --repeat N runs them N times and
takes each one's median time. Not a ctest test: run it by hand,

  python3 tools/bench/socket_bench.py --build-dir build
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

MIB = 1 << 20
MAWK_PROGRAM = "{for(i=1;i<=NF;i++)c[$i]++} END{for(w in c) print w, c[w]}"


def parse_size(text):
    """'100m' -> bytes, as sluice's sl_size_parse (k, m, g: powers of 1024)."""
    text = text.strip().lower()
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(text[-1:], 1)
    return int(text[:-1] if mult > 1 else text) * mult


def tool(build, name):
    path = os.path.join(build, "tools", "bench", name)
    if not os.access(path, os.X_OK):
        sys.exit(f"socket_bench: {path} is missing; build the tools first "
                 f"(cmake --build {build} --target {name})")
    return path


def ensure_file(build, label, size, keep_existing=True):
    """The cached word file of `size` bytes (gen_words output is
    deterministic, so an existing file of the right size is reused)."""
    directory = os.path.join(build, "bench")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"words-{label}.txt")
    if keep_existing and os.path.exists(path) and \
            size <= os.path.getsize(path) < size + 4096:
        return path
    t0 = time.monotonic()
    subprocess.run([tool(build, "gen_words"), path, str(size)], check=True)
    print(f"generated {path} ({os.path.getsize(path)} bytes) in "
          f"{time.monotonic() - t0:.1f} s")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def send_file(sock, path):
    with open(path, "rb") as f:
        sock.sendfile(f)
    sock.shutdown(socket.SHUT_WR)
    sock.close()


def read_counts(path):
    counts = {}
    with open(path, "rb") as f:
        for line in f:
            word, _, n = line.rstrip(b"\n").rpartition(b" ")
            counts[word] = counts.get(word, 0) + int(n)
    return counts


def run_mawk(path, out):
    """ncat listens, the sender connects; timed until mawk exits."""
    port = free_port()
    cmd = (f"ncat --recv-only -l 127.0.0.1 {port} | "
           f"mawk '{MAWK_PROGRAM}' > '{out}'")
    proc = subprocess.Popen(["bash", "-o", "pipefail", "-c", cmd])
    deadline = time.monotonic() + 10
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", port))
            break
        except ConnectionRefusedError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                sys.exit("socket_bench: ncat did not start listening")
            time.sleep(0.005)
    t0 = time.monotonic()
    send_file(sock, path)
    if proc.wait() != 0:
        sys.exit(f"socket_bench: ncat | mawk failed ({proc.returncode})")
    return time.monotonic() - t0


def run_sluice(bench_socket, path, out, max_buffered, workers, extra=()):
    """The sender listens and bench_socket connects; timed from the accept
    until bench_socket reports the last byte's batch done."""
    size = os.path.getsize(path)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(30)
    cmd = [bench_socket, "--port", str(listener.getsockname()[1]),
           "--expect-bytes", str(size), "--out", out,
           "--max-buffered", max_buffered, "--workers", str(workers)]
    cmd += list(extra)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        conn, _ = listener.accept()
    except socket.timeout:
        proc.kill()
        sys.exit("socket_bench: bench_socket never connected")
    t0 = time.time()
    listener.close()  # reconnect attempts after the end are refused
    send_file(conn, path)
    stdout, _ = proc.communicate(timeout=3600)
    if proc.returncode != 0:
        sys.exit(f"socket_bench: bench_socket failed ({proc.returncode})")
    res = {}
    for line in stdout.split("\n"):
        for field in line.split():
            key, _, value = field.partition("=")
            res[key] = value
    res["elapsed"] = float(res["done_wall_ms"]) / 1e3 - t0
    return res


def verdict(ok):
    return "PASS" if ok else "MISS"


def check_counts(want, got, name):
    """MISMATCH line and False unless got counts every word as mawk."""
    if want == got:
        return True
    diff = [w for w in set(want) | set(got) if want.get(w) != got.get(w)]
    print(f"MISMATCH: {len(diff)} words counted differently by {name}, e.g. "
          + ", ".join(f"{w.decode()}: mawk {want.get(w)} {name} "
                      f"{got.get(w)}" for w in sorted(diff)[:5]))
    return False


def compare(build, bench_socket, path, args):
    """mawk, the DStream and the structured word count on the same file,
    args.repeat times each (interleaved); the median time of each, or None
    on a count mismatch."""
    workdir = os.path.join(build, "bench")
    outs = {k: os.path.join(workdir, f"{k}.out")
            for k in ("mawk", "sluice", "structured")}
    times = {k: [] for k in outs}
    last = {}
    for _ in range(args.repeat):
        times["mawk"].append(run_mawk(path, outs["mawk"]))
        for name, extra in (("sluice", ()), ("structured", ("--sql",))):
            last[name] = run_sluice(bench_socket, path, outs[name],
                                    args.max_buffered, args.workers, extra)
            times[name].append(last[name]["elapsed"])
        counts = {k: read_counts(v) for k, v in outs.items()}
        if not (check_counts(counts["mawk"], counts["sluice"], "sluice") and
                check_counts(counts["mawk"], counts["structured"],
                             "structured")):
            return None
    res = {k: statistics.median(v) for k, v in times.items()}
    res["words"] = sum(counts["mawk"].values())
    res["distinct"] = len(counts["mawk"])
    res["last"] = last
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default="build",
                    help="build tree with tools/bench (default: build)")
    ap.add_argument("--size", default="100m",
                    help="file compared with mawk (default 100m)")
    ap.add_argument("--big-size", default="1g",
                    help="file for the peak RSS run (default 1g)")
    ap.add_argument("--skip-big", action="store_true",
                    help="leave out the peak RSS run")
    ap.add_argument("--max-buffered", default="64m",
                    help="receiver.max_buffered_bytes (default 64m)")
    ap.add_argument("--workers", type=int, default=0,
                    help="sluice worker threads (default 0: one per core)")
    ap.add_argument("--sql-only", action="store_true",
                    help="only mawk, DStream and structured word counts")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each of the three; medians (default 1)")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    build = os.path.abspath(args.build_dir)
    bench_socket = tool(build, "bench_socket")
    for prog in ("ncat", "mawk"):
        if not shutil.which(prog):
            sys.exit(f"socket_bench: {prog} is not installed")
    print(f"cores: {os.cpu_count()}, load average: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    size = parse_size(args.size)
    path = ensure_file(build, args.size, size)
    words_bytes = os.path.getsize(path)

    res = compare(build, bench_socket, path, args)
    if res is None:
        return 1
    words = res["words"]
    print(f"file: {words_bytes} bytes, {words} words, "
          f"{res['distinct']} distinct; counts equal"
          + (f"; median of {args.repeat} runs" if args.repeat > 1 else ""))
    rates = {k: words / res[k] for k in ("mawk", "sluice", "structured")}
    for name, label in (("mawk", "mawk:      "), ("sluice", "DStream:   "),
                        ("structured", "structured:")):
        line = f"{label} {res[name]:.3f} s  {rates[name] / 1e6:6.2f} M words/s"
        if name in res["last"]:
            last = res["last"][name]
            line += (f"  (peak RSS {int(last['max_rss_bytes']) / MIB:.1f} "
                     f"MiB, CPU {float(last['cpu_seconds']):.2f} s, "
                     f"{last['receiver_pauses']} pauses; last run)")
        print(line)
    ratio = rates["sluice"] / rates["mawk"]
    sql_ratio = rates["structured"] / rates["sluice"]
    targets = [(f"sluice >= 2x mawk words/s: {ratio:.2f}x", ratio >= 2.0),
               (f"structured >= 0.7x DStream words/s: {sql_ratio:.2f}x",
                sql_ratio >= 0.7)]
    if not args.sql_only:
        targets += more_targets(build, bench_socket, path, args)

    print()
    for text, ok in targets:
        print(f"{verdict(ok)}  {text}")
    return 0


def more_targets(build, bench_socket, path, args):
    """The peak RSS run (unless --skip-big) and bench_memcount."""
    targets = []
    if not args.skip_big:
        targets.append(big_run(build, bench_socket, args))
    mem = subprocess.run([tool(build, "bench_memcount"), path], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    print(mem, end="")
    speedup = float(mem.rsplit("speedup=", 1)[1].split()[0])
    targets.append((f"in-memory speed-up with 2 workers: {speedup:.2f}x "
                    "(target 1.7x)", speedup >= 1.7))
    return targets


def big_run(build, bench_socket, args):
    """Sluice on the 1 GB file: peak RSS against the buffer bound."""
    size = parse_size(args.big_size)
    free = shutil.disk_usage(build).free
    if free < size + 512 * MIB:
        print(f"skipping the {args.big_size} run: {free // MIB} MiB free")
        return (f"peak RSS at {args.big_size}: not measured", False)
    path = ensure_file(build, args.big_size, size, keep_existing=False)
    out = os.path.join(build, "bench", "sluice-big.out")
    try:
        res = run_sluice(bench_socket, path, out, args.max_buffered,
                         args.workers)
        words = sum(read_counts(out).values())
    finally:
        os.unlink(path)
    rss = int(res["max_rss_bytes"])
    bound = int(res["max_buffered_bytes"]) + 64 * MIB
    print(f"sluice {args.big_size}: {res['elapsed']:.3f} s  "
          f"{words / res['elapsed'] / 1e6:.2f} M words/s, peak RSS "
          f"{rss / MIB:.1f} MiB, {res['receiver_pauses']} pauses")
    return (f"peak RSS at {args.big_size}: {rss / MIB:.1f} MiB <= "
            f"max_buffered_bytes + 64 MiB = {bound / MIB:.0f} MiB",
            rss <= bound)


if __name__ == "__main__":
    sys.exit(main())
