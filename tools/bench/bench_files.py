#!/usr/bin/env python3
"""Directory source ingest benchmark: sluice against cat | mawk.

Generates word-line files with gen_words (in BUILD/bench/files/, deleted at
the end unless --keep) for three scenarios:

  small  many small files (default 20,000 of about 4 KiB),
  large  a few large ones (default 4 of just under 128 MiB, so each is read
         as two 64 MiB line-aligned splits, file.split_bytes),
  gzip   the large files gzip-compressed (never split; --skip-gzip leaves
         this out),

and counts their words in each run, on the same files, with

  (a) cat FILES... | mawk '{n+=NF} END{print n}'   (zcat for gzip),
      timed from the start of cat until mawk exits;
  (b) streamctl run JOB.json, a job with a directory source over the
      files' directory ("include_existing": true, "max_files_per_trigger":
      0, "clock": "system"), flat_map split_words then count, printed as one
      JSON line per batch. The driver sums the per-batch counts and stops
      the job (SIGINT) once the sum reaches mawk's total. Timed from the
      start of streamctl until the line that completes the total arrives
      ("end to end": process start, the listing of the directory, the wait
      for the first batch time and the batch itself), and from the time
      of the first batch with records (its time_ms, wall clock) to that
      line ("batch": what planning, reading and counting take).

Before each timing the files are read once (cat > /dev/null) so that both
sides find them in the page cache. Each scenario runs --runs times (default
3) with mawk first, then sluice; the median of each figure is printed with
files/s, MB/s (10^6 bytes of uncompressed text per second) and the ratio
sluice / mawk. A word count that differs from mawk's is reported as
MISMATCH and the script exits 1. Not a ctest test: run it by hand,

  python3 tools/bench/bench_files.py --build-dir build
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

MIB = 1 << 20
MAWK_PROGRAM = "{n+=NF} END{print n}"


def parse_size(text):
    """'128m' -> bytes, as sluice's sl_size_parse (k, m, g: powers of 1024)."""
    text = text.strip().lower()
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(text[-1:], 1)
    return int(text[:-1] if mult > 1 else text) * mult


def tool(build, *parts):
    path = os.path.join(build, "tools", *parts)
    if not os.access(path, os.X_OK):
        sys.exit(f"bench_files: {path} is missing; build it first "
                 f"(cmake --build {build} --target {parts[-1]})")
    return path


# ---------------------------------------------------------------- data

def make_small(gen_words, directory, count, size):
    """count files of about `size` bytes each, whole lines, cut from one
    gen_words file (deterministic)."""
    os.makedirs(directory)
    whole = os.path.join(directory, ".whole")
    subprocess.run([gen_words, whole, str(count * (size + 256))],
                   check=True)
    # Streamed, not read whole: a child's ru_maxrss starts from this
    # process's resident size at fork, so this process stays small.
    with open(whole, "rb") as f:
        for i in range(count):
            chunk = []
            n = 0
            while n < size:
                line = f.readline()
                if not line:
                    sys.exit("bench_files: gen_words wrote too little")
                chunk.append(line)
                n += len(line)
            with open(os.path.join(directory, f"f{i:06d}.txt"), "wb") as out:
                out.writelines(chunk)
    os.unlink(whole)


def make_large(gen_words, directory, count, size):
    """count files of gen_words lines, each just under `size` bytes (so a
    128m file is exactly two 64m splits), different seeds."""
    os.makedirs(directory)
    procs = []
    for i in range(count):
        path = os.path.join(directory, f"part-{i}.txt")
        procs.append(subprocess.Popen(
            [gen_words, path, str(size - 256), "--seed", str(42 + i)]))
        if len(procs) >= 2:
            if procs.pop(0).wait() != 0:
                sys.exit("bench_files: gen_words failed")
    for p in procs:
        if p.wait() != 0:
            sys.exit("bench_files: gen_words failed")


def make_gzip(src, directory, level):
    os.makedirs(directory)
    procs = []
    for name in sorted(os.listdir(src)):
        out = open(os.path.join(directory, name + ".gz"), "wb")
        procs.append((subprocess.Popen(
            ["gzip", "-c", f"-{level}", os.path.join(src, name)],
            stdout=out), out))
        if len(procs) >= 2:
            p, o = procs.pop(0)
            if p.wait() != 0:
                sys.exit("bench_files: gzip failed")
            o.close()
    for p, o in procs:
        if p.wait() != 0:
            sys.exit("bench_files: gzip failed")
        o.close()


def listing(directory):
    return [os.path.join(directory, n) for n in sorted(os.listdir(directory))]


def warm(files):
    """Read the files once so that the timed run finds them cached."""
    for i in range(0, len(files), 2000):
        subprocess.run(["cat"] + files[i:i + 2000], check=True,
                       stdout=subprocess.DEVNULL)


# ---------------------------------------------------------------- runs

def run_mawk(files, compressed):
    """cat (or zcat) FILES | mawk; seconds until mawk exits, word count,
    CPU seconds of both processes."""
    t0 = time.monotonic()
    cat = subprocess.Popen(["zcat" if compressed else "cat"] + files,
                           stdout=subprocess.PIPE)
    mawk = subprocess.Popen(["mawk", MAWK_PROGRAM], stdin=cat.stdout,
                            stdout=subprocess.PIPE)
    cat.stdout.close()
    out = mawk.stdout.read()
    _, st_m, ru_m = os.wait4(mawk.pid, 0)
    elapsed = time.monotonic() - t0
    _, st_c, ru_c = os.wait4(cat.pid, 0)
    mawk.returncode, cat.returncode = st_m, st_c  # reaped here
    if st_m or st_c:
        sys.exit(f"bench_files: cat | mawk failed ({st_c}, {st_m})")
    cpu = ru_m.ru_utime + ru_m.ru_stime + ru_c.ru_utime + ru_c.ru_stime
    return {"elapsed": elapsed, "words": int(out), "cpu": cpu}


def write_job(path, directory, interval, workers):
    job = {
        "name": "bench-files",
        "batch_interval": interval,
        "clock": "system",
        "workers": workers,
        "conf": {"log.level": "warn"},
        "sources": {"lines": {"type": "directory", "path": directory,
                              "include_existing": True,
                              "max_files_per_trigger": 0}},
        "streams": {
            "words": {"from": "lines",
                      "ops": [{"op": "flat_map", "fn": "split_words"}]},
            "n": {"from": "words", "ops": [{"op": "count"}]},
        },
        "sinks": [{"from": "n", "type": "console", "format": "json"}],
    }
    with open(path, "w") as f:
        json.dump(job, f, indent=1)


def run_sluice(streamctl, job, expect, idle_s=3.0, timeout_s=600.0):
    """streamctl run JOB; stops it once the per-batch counts sum to
    `expect` (or after idle_s without a new record once some came)."""
    t0_wall = time.time()
    t0 = time.monotonic()
    err = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([streamctl, "run", job], stdout=subprocess.PIPE,
                            stderr=err, text=True)
    total, batches, first_time_ms = 0, 0, None
    t_done = wall_done = None
    last_change = time.monotonic()
    for line in proc.stdout:
        rec = json.loads(line)
        n = sum(rec["records"])
        batches += 1
        if n:
            total += n
            last_change = time.monotonic()
            if first_time_ms is None:
                first_time_ms = rec["time_ms"]
        if total >= expect or \
                (total and time.monotonic() - last_change > idle_s) or \
                time.monotonic() - t0 > timeout_s:
            t_done = time.monotonic()
            wall_done = time.time()
            last_batch = rec["batch"]
            break
    if t_done is None:
        sys.exit("bench_files: streamctl ended before the count was reached")
    proc.send_signal(signal.SIGINT)
    proc.stdout.read()
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = status
    err.seek(0)
    for line in err:  # warnings, not the stop notice
        if "SIGINT: stopping" not in line:
            print("   " + line, end="")
    if status:
        sys.exit(f"bench_files: streamctl failed (status {status})")
    return {"elapsed": t_done - t0,
            "batch": wall_done - first_time_ms / 1e3,
            "first_wait": first_time_ms / 1e3 - t0_wall,
            "words": total, "last_batch": last_batch,
            "rss": ru.ru_maxrss * 1024,
            "cpu": ru.ru_utime + ru.ru_stime}


def per_s(n, sec):
    rate = n / sec
    return f"{rate:,.0f}" if rate >= 100 else f"{rate:.2f}"


def scenario(args, name, directory, streamctl, compressed=False,
             plain_bytes=None):
    files = listing(directory)
    disk_bytes = sum(os.path.getsize(f) for f in files)
    text_bytes = plain_bytes if plain_bytes is not None else disk_bytes
    job = os.path.join(os.path.dirname(directory), f"job-{name}.json")
    write_job(job, directory, args.batch_interval, args.workers)
    print(f"\n== {name}: {len(files)} files, {disk_bytes} bytes on disk, "
          f"{text_bytes} bytes of text")
    print(f"   job: {os.path.relpath(job)}")
    runs = []
    for r in range(args.runs):
        load = os.getloadavg()[0]
        warm(files)
        m = run_mawk(files, compressed)
        warm(files)
        s = run_sluice(streamctl, job, m["words"])
        ok = s["words"] == m["words"]
        print(f"run {r + 1} (load {load:.2f}): mawk {m['elapsed']:.3f} s "
              f"(cpu {m['cpu']:.2f} s)  sluice {s['elapsed']:.3f} s end to "
              f"end, {s['batch']:.3f} s batch, first batch after "
              f"{s['first_wait']:.3f} s, done at batch {s['last_batch']} "
              f"(cpu {s['cpu']:.2f} s, peak RSS {s['rss'] / MIB:.0f} MiB)  "
              f"words {m['words']} / {s['words']}"
              + ("" if ok else "  MISMATCH"))
        if not ok:
            return None
        runs.append((m, s, load))
    med = statistics.median
    mawk_s = med(m["elapsed"] for m, _, _ in runs)
    sl_s = med(s["elapsed"] for _, s, _ in runs)
    sl_b = med(s["batch"] for _, s, _ in runs)
    res = {
        "name": name, "files": len(files), "disk_bytes": disk_bytes,
        "text_bytes": text_bytes, "words": runs[0][0]["words"],
        "mawk": mawk_s, "sluice": sl_s, "sluice_batch": sl_b,
        "mawk_cpu": med(m["cpu"] for m, _, _ in runs),
        "sluice_cpu": med(s["cpu"] for _, s, _ in runs),
        "rss": max(s["rss"] for _, s, _ in runs),
        "loads": [load for _, _, load in runs],
    }

    def rates(sec):
        return (f"{sec:.3f} s  {per_s(len(files), sec)} files/s  "
                f"{text_bytes / sec / 1e6:.1f} MB/s")
    print(f"median of {args.runs}: words {res['words']}, counts equal")
    print(f"  mawk:                  {rates(mawk_s)}")
    print(f"  sluice (end to end):   {rates(sl_s)}   "
          f"sluice / mawk {mawk_s / sl_s:.2f}x")
    print(f"  sluice (batch only):   {rates(sl_b)}   "
          f"sluice / mawk {mawk_s / sl_b:.2f}x")
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default="build",
                    help="build tree with streamctl and gen_words")
    ap.add_argument("--small-files", type=int, default=20000)
    ap.add_argument("--small-size", default="4k",
                    help="size of each small file (default 4k)")
    ap.add_argument("--large-files", type=int, default=4)
    ap.add_argument("--large-size", default="128m",
                    help="size of each large file (default 128m; each file "
                    "is made 256 bytes shorter, so 128m is two splits)")
    ap.add_argument("--gzip-level", type=int, default=6)
    ap.add_argument("--skip-gzip", action="store_true")
    ap.add_argument("--only", choices=["small", "large", "gzip"],
                    action="append", help="run only this scenario "
                    "(repeatable)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch-interval", default="100ms")
    ap.add_argument("--workers", type=int, default=0,
                    help="sluice worker threads (default 0: one per core)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the generated files (reused next time)")
    args = ap.parse_args()
    build = os.path.abspath(args.build_dir)
    streamctl = tool(build, "streamctl")
    gen_words = tool(build, "bench", "gen_words")
    for prog in ("mawk", "gzip", "zcat"):
        if not shutil.which(prog):
            sys.exit(f"bench_files: {prog} is not installed")
    only = set(args.only or ["small", "large"] +
               ([] if args.skip_gzip else ["gzip"]))
    print(f"cores: {os.cpu_count()}, load average: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    root = os.path.join(build, "bench", "files")
    small = os.path.join(root, "small")
    large = os.path.join(root, "large")
    gz = os.path.join(root, "large-gz")
    small_size = parse_size(args.small_size)
    large_size = parse_size(args.large_size)
    need = (args.small_files * small_size if "small" in only else 0) + \
        (args.large_files * large_size * (2 if "gzip" in only else 1)
         if only & {"large", "gzip"} else 0)
    os.makedirs(root, exist_ok=True)
    if not os.path.isdir(small) and "small" in only or \
            not os.path.isdir(large) and only & {"large", "gzip"}:
        free = shutil.disk_usage(root).free
        if free < need + 512 * MIB:
            sys.exit(f"bench_files: {free // MIB} MiB free in {root}, "
                     f"need {need // MIB + 512}")
    results = []
    try:
        t0 = time.monotonic()
        if "small" in only and not os.path.isdir(small):
            make_small(gen_words, small, args.small_files, small_size)
        if only & {"large", "gzip"} and not os.path.isdir(large):
            make_large(gen_words, large, args.large_files, large_size)
        if "gzip" in only and not os.path.isdir(gz):
            make_gzip(large, gz, args.gzip_level)
        print(f"data ready in {time.monotonic() - t0:.1f} s under {root}")
        if "small" in only:
            results.append(scenario(args, "small", small, streamctl))
        if "large" in only:
            results.append(scenario(args, "large", large, streamctl))
        if "gzip" in only:
            plain = sum(os.path.getsize(f) for f in listing(large))
            results.append(scenario(args, "gzip", gz, streamctl,
                                    compressed=True, plain_bytes=plain))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    if any(r is None for r in results):
        print("MISMATCH: sluice and mawk counted different numbers of words")
        return 1
    print("\nscenario  files  MB  | mawk s  files/s  MB/s | sluice s  "
          "files/s  MB/s | sluice/mawk | batch-only s  ratio")
    for r in results:
        mb = r["text_bytes"] / 1e6
        print(f"{r['name']:8}  {r['files']:5}  {mb:.0f} | {r['mawk']:.3f}  "
              f"{per_s(r['files'], r['mawk'])}  {mb / r['mawk']:.1f} | "
              f"{r['sluice']:.3f}  {r['files'] / r['sluice']:,.0f}  "
              f"{mb / r['sluice']:.1f} | {r['mawk'] / r['sluice']:.2f}x | "
              f"{r['sluice_batch']:.3f}  "
              f"{r['mawk'] / r['sluice_batch']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
