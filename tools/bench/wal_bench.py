#!/usr/bin/env python3
"""Receiver WAL benchmark: the socket word count (bench_socket, 100 ms
batches) with a checkpoint directory and the receiver WAL against the same
job without, side by side in one run.

The runs alternate (plain, WAL, plain, WAL, ...) over the same cached Zipf
word file so that a load change on the machine hits both alike; each mode's
median words/s is printed with the ratio, PASS when the WAL run keeps at
least 0.8 of the plain run's throughput. The counts of every run are
checked against the first (MISMATCH and exit 1 if not). The checkpoint
directory is made under BUILD/bench/ (the build tree's disk) and removed
after each run. Not a ctest test: run it by hand,

  python3 tools/bench/wal_bench.py --build-dir build [--size 100m --rounds 3]
"""
import argparse
import os
import shutil
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import socket_bench as sb  # noqa: E402  (the shared sender and parsing)


def one_run(bench, path, out, args, ckpt):
    extra = ["--checkpoint", ckpt, "--wal-level", args.wal_level] \
        if ckpt else []
    if ckpt:
        shutil.rmtree(ckpt, ignore_errors=True)
    res = sb.run_sluice(bench, path, out, args.max_buffered, args.workers,
                        extra)
    wal_bytes = 0
    if ckpt:
        wal = os.path.join(ckpt, "wal")
        for name in os.listdir(wal):
            wal_bytes += os.path.getsize(os.path.join(wal, name))
        shutil.rmtree(ckpt, ignore_errors=True)
    return res["elapsed"], wal_bytes, sb.read_counts(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--size", default="100m",
                    help="word file sent each run (default 100m)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="runs of each mode (default 3)")
    ap.add_argument("--wal-level", default="-50",
                    help="receiver.wal_zstd_level (default -50, the engine's)")
    ap.add_argument("--max-buffered", default="64m")
    ap.add_argument("--workers", type=int, default=0)
    args = ap.parse_args()
    build = os.path.abspath(args.build_dir)
    bench = sb.tool(build, "bench_socket")
    print(f"cores: {os.cpu_count()}, load average: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    path = sb.ensure_file(build, args.size, sb.parse_size(args.size))
    work = os.path.join(build, "bench")
    out = os.path.join(work, "wal_bench.out")
    ckpt = os.path.join(work, "wal_bench.ckpt")
    times = {"plain": [], "wal": []}
    first = None
    wal_bytes = 0
    for r in range(args.rounds):
        for mode in ("plain", "wal"):
            secs, wb, counts = one_run(bench, path, out, args,
                                       ckpt if mode == "wal" else None)
            if first is None:
                first = counts
            elif counts != first:
                print(f"MISMATCH: round {r + 1} {mode} counted differently")
                return 1
            wal_bytes = max(wal_bytes, wb)
            times[mode].append(secs)
            print(f"round {r + 1} {mode:5}: {secs:.3f} s")
    words = sum(first.values())
    rate = {m: words / statistics.median(t) for m, t in times.items()}
    ratio = rate["wal"] / rate["plain"]
    size = os.path.getsize(path)
    print(f"file: {size} bytes, {words} words")
    print(f"without checkpoint: {rate['plain'] / 1e6:.2f} M words/s")
    print(f"checkpoint + WAL:   {rate['wal'] / 1e6:.2f} M words/s "
          f"(zstd level {args.wal_level}; WAL {wal_bytes / sb.MIB:.1f} MiB "
          f"on disk at the end, older segments pruned)")
    print(f"{sb.verdict(ratio >= 0.8)}  WAL throughput / plain: "
          f"{ratio:.2f} (target 0.8)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
