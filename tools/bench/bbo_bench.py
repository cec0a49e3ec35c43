#!/usr/bin/env python3
"""bbo_spread over TCP: sluice against a mawk script (issue 13).

Generates (or reuses, cached in BUILD/bench/) a BBO feed with gen_bbo
(ISO timestamps, a header, crossed and malformed lines) and sends it in the
same run, with the same sender `stdbuf -oL cat FILE | ncat 127.0.0.1 PORT`,
to

  (a) ncat --recv-only -l 127.0.0.1 PORT | mawk -f PROGRAM: the same
      per-second (count, avg, min, max, last spread) and per-minute (avg)
      aggregates over the valid, uncrossed quotes, keyed by the timestamp
      text (ISO only: mawk has no time parsing), printed at its end; timed
      from the sender's start until mawk exits;
  (b) streamctl run of examples/streaming/jobs/bbo_spread.json (listening
      on a free port; console json into a file; batch_interval --batch,
      200ms by default: the last windows wait about two batches), then a far-future quote
      that moves the watermark past every window; timed from the sender's
      start until every per-second and per-minute window is printed.

Both results are compared (counts exact, spreads within 1e-9; MISMATCH and
exit 1 if not). Prints quotes/s of each and the ratio sluice/mawk (target
2x, PASS or MISS); --repeat N takes each one's median. Not a ctest test:

  python3 tools/bench/bbo_bench.py --build-dir build [--hours 4 --rate 200]
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
NUM = r"/^[0-9]+\.?[0-9]*$/"
TS = (r"/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]"
      r":[0-9][0-9]\.[0-9][0-9][0-9]Z$/")
# Malformed as sluice reads them: not 3 fields, a field that is no number,
# no timestamp or an impossible month (the generator's bad timestamp).
MAWK_PROGRAM = r"""BEGIN { FS = "," }
$0 == "ts,bid,ask" { next }
NF != 3 || $2 !~ %(num)s || $3 !~ %(num)s || $1 !~ %(ts)s ||
    substr($1, 6, 2) + 0 < 1 || substr($1, 6, 2) + 0 > 12 { bad++; next }
{
    b = $2 + 0; a = $3 + 0
    if (b >= a) { rejected++; next }
    sp = a - b; s = substr($1, 1, 19); m = substr($1, 1, 16)
    if (!(s in n)) { mn[s] = sp; mx[s] = sp; lt[s] = $1; last[s] = sp }
    n[s]++; sum[s] += sp
    if (sp < mn[s]) mn[s] = sp
    if (sp > mx[s]) mx[s] = sp
    if ($1 > lt[s]) { lt[s] = $1; last[s] = sp }
    mc[m]++; msum[m] += sp
}
END {
    for (s in n)
        printf "s %%s %%d %%.17g %%.17g %%.17g %%.17g\n", s, n[s],
            sum[s] / n[s], mn[s], mx[s], last[s]
    for (m in mc)
        printf "m %%s %%d %%.17g\n", m, mc[m], msum[m] / mc[m]
    printf "bad %%d rejected %%d\n", bad, rejected
}
""" % {"num": NUM, "ts": TS}
FLUSH = b"2030-01-01T00:00:00Z,100.0000,100.0100\n"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sender(path, port):
    return subprocess.Popen("stdbuf -oL cat '%s' | ncat 127.0.0.1 %d"
                            % (path, port), shell=True)


def run_mawk(path, tmp):
    port = free_port()
    prog = os.path.join(tmp, "bbo.awk")
    with open(prog, "w") as f:
        f.write(MAWK_PROGRAM)
    out = open(os.path.join(tmp, "mawk.out"), "w+")
    pipe = subprocess.Popen("ncat --recv-only -l 127.0.0.1 %d | mawk -f '%s'"
                            % (port, prog), shell=True, stdout=out)
    time.sleep(0.3)  # ncat listening
    start = time.monotonic()
    snd = sender(path, port)
    snd.wait()
    pipe.wait()
    elapsed = time.monotonic() - start
    out.seek(0)
    sec, minute = {}, {}
    for line in out.read().splitlines():
        f = line.split()
        if f[0] == "s":
            sec[f[1]] = [int(f[2])] + [float(x) for x in f[3:]]
        elif f[0] == "m":
            minute[f[1]] = [int(f[2]), float(f[3])]
    return elapsed, sec, minute


def run_sluice(streamctl, path, tmp, nsec, nmin, batch):
    with open(os.path.join(ROOT, "examples", "streaming", "jobs",
                           "bbo_spread.json")) as f:
        job = json.load(f)
    job["sources"]["quotes"]["port"] = 0
    job["dead_letter"] = os.path.join(tmp, "dead.jsonl")
    job["batch_interval"] = batch
    jpath = os.path.join(tmp, "job.json")
    with open(jpath, "w") as f:
        json.dump(job, f)
    out = open(os.path.join(tmp, "sluice.out"), "w+b")
    err = open(os.path.join(tmp, "sluice.err"), "w+b")
    proc = subprocess.Popen([streamctl, "run", jpath], stdout=out,
                            stderr=err, cwd=tmp)
    try:
        port = None
        for _ in range(500):
            m = re.search(rb"listening on 127\.0\.0\.1:(\d+)",
                          open(err.name, "rb").read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.02)
        if not port:
            sys.exit("sluice did not listen")
        start = time.monotonic()
        sender(path, port).wait()
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(FLUSH)
        sec, minute, pos = {}, {}, 0
        while len(sec) < nsec or len(minute) < nmin:
            time.sleep(0.02)
            if time.monotonic() - start > 600:
                sys.exit("sluice: windows missing after 600 s")
            with open(out.name, "rb") as f:
                f.seek(pos)
                data = f.read()
            cut = data.rfind(b"\n") + 1
            pos += cut
            for raw in data[:cut].splitlines():
                rec = json.loads(raw)
                into = sec if rec["stream"] == "spread_1s" else minute
                for r in rec["records"]:
                    into[r["window_start"]] = r
        elapsed = time.monotonic() - start
    finally:
        proc.send_signal(2)
        proc.wait(60)
    return elapsed, sec, minute


def compare(msec, mmin, ssec, smin):
    """mawk's keys are the ts text cut to the second or minute."""
    bad = 0
    for k, (n, avg, mn, mx, last) in msec.items():
        r = ssec.get(k + ".000Z")
        if not r or r["quotes"] != n or any(
                abs(r[c] - v) > 1e-9 for c, v in
                (("avg_spread", avg), ("min_spread", mn),
                 ("max_spread", mx), ("last_spread", last))):
            bad += 1
    for k, (n, avg) in mmin.items():
        r = smin.get(k + ":00.000Z")
        if not r or r["quotes"] != n or abs(r["avg_spread"] - avg) > 1e-9:
            bad += 1
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--hours", type=int, default=4)
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--batch", default="200ms",
                    help="sluice's batch_interval (the job file's is 1s)")
    a = ap.parse_args()
    for tool in ("ncat", "mawk", "stdbuf"):
        if not shutil.which(tool):
            sys.exit("%s not found" % tool)
    build = os.path.abspath(a.build_dir)
    streamctl = os.path.join(build, "tools", "streamctl")
    cache = os.path.join(build, "bench")
    os.makedirs(cache, exist_ok=True)
    feed = os.path.join(cache, "bbo-%dh-%d.csv" % (a.hours, a.rate))
    stats = feed + ".json"
    if not os.path.exists(stats):
        subprocess.run([os.path.join(build, "tools", "gen", "gen_bbo"),
                        "--seed", "42", "--hours", str(a.hours),
                        "--ticks-per-second", str(a.rate), "--header",
                        "--out", feed, "--stats", stats], check=True)
    with open(stats) as f:
        lines = json.load(f)["lines"]
    mt, st = [], []
    for _ in range(a.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t, msec, mmin = run_mawk(feed, tmp)
            mt.append(t)
            t, ssec, smin = run_sluice(streamctl, feed, tmp, len(msec),
                                       len(mmin), a.batch)
            st.append(t)
            bad = compare(msec, mmin, ssec, smin)
            if bad:
                print("MISMATCH: %d windows differ" % bad)
                return 1
    m, s = statistics.median(mt), statistics.median(st)
    print("feed: %d lines, %.1f MB, %d per-second and %d per-minute windows"
          % (lines, os.path.getsize(feed) / 1e6, len(msec), len(mmin)))
    print("mawk:   %.2f s  %.0f quotes/s" % (m, lines / m))
    print("sluice: %.2f s  %.0f quotes/s" % (s, lines / s))
    ratio = m / s
    print("sluice/mawk: %.2fx (target 2x) %s"
          % (ratio, "PASS" if ratio >= 2 else "MISS"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
