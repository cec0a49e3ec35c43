#!/usr/bin/env python3
"""Every shipped example job file (examples/streaming/jobs/*.json), run by
`streamctl run` as docs/streamctl.md ("The example job files") says.

Usage: test_examples.py STREAMCTL SOURCE_ROOT

Each file must first pass `streamctl validate` as shipped, with no warning
(its machine checks included: the text-file example creates its
directory). Then it runs, changed only where a test cannot use it as it
is:
- a socket source's port becomes a free one, served by `ncat -lk` (as the
  docs say: `ncat -lk 9999`, then type lines);
- a directory source's path becomes a directory under a fresh temporary
  directory that does not exist yet (create_if_missing must make it), and
  a file is moved into it (as the docs say: write a file elsewhere, then
  mv it in);
- a checkpoint directory becomes one under the temporary directory.
A few words are sent, and each word must show up in the printed output
with a count of at least what was sent. Then SIGTERM must stop the job
with exit status 0. A job with a checkpoint is then started again on the
same directory and sent the words again: its running counts must go on
from the first run's (at least twice what was sent) and SIGTERM must stop
it with 0 again. A file with any other source type fails the test
until this test learns how to feed it. The market-data pipelines
(OWN_TEST: bbo_spread.json, utility_anomaly.json,
utility_anomaly_batch.json) read CSV prices, not words: they are validated
only (in a directory holding the data file a `path` names, as the docs
have it generated first), and must name a test of this directory that
runs them on their data (test_bbo_spread.py, test_utility_anomaly.py;
the Kafka examples: tests/kafka/test_kafka_examples.py, on the mock
cluster; validated here with KAFKA_BOOTSTRAP set as their docs export it).
Any other listening socket example fails the test. Exits 77 (skip)
without ncat when an example needs it. Every wait is bounded.
"""

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

if len(sys.argv) != 3:
    sys.stderr.write("usage: %s STREAMCTL SOURCE_ROOT\n" % sys.argv[0])
    sys.exit(2)
STREAMCTL = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from itlib import (SKIP, Job, Ncat, TestFailure, check, free_port,  # noqa
                   log, main, wait_until)

JOBS = sorted(glob.glob(os.path.join(ROOT, "examples", "streaming", "jobs",
                                     "*.json")))
WORDS = b"sluice spark sluice\nriver sluice\n"
EXPECT = {b"sluice": 3, b"spark": 1, b"river": 1}
# The windowed example prints once per 10 s slide: wait for two slides.
OUTPUT_S = 30
# Examples run by their own test on their own data (it must name them).
# Paths below tests/.
OWN_TEST = {"bbo_spread.json": "job/test_bbo_spread.py",
            "utility_anomaly.json": "job/test_utility_anomaly.py",
            "utility_anomaly_batch.json": "job/test_utility_anomaly.py",
            "direct_kafka_wordcount.json": "kafka/test_kafka_examples.py",
            "kafka_events_per_minute.json": "kafka/test_kafka_examples.py"}
# What the Kafka examples' docs have exported first (the bootstrap
# servers `streamctl kafka-mock` prints); validate needs no broker.
VALIDATE_ENV = dict(os.environ, KAFKA_BOOTSTRAP="127.0.0.1:9092")


def validate_as_shipped(path, tmp):
    """streamctl validate, run where the data files the job's relative
    single-file paths name exist (the docs generate them first)."""
    for s in json.load(open(path))["sources"].values():
        p = s.get("path", "")
        if s["type"] == "directory" and p.endswith(".csv"):
            os.makedirs(os.path.join(tmp, os.path.dirname(p)), exist_ok=True)
            open(os.path.join(tmp, p), "a").close()
    p = subprocess.run([STREAMCTL, "validate", path], capture_output=True,
                       cwd=tmp, timeout=30, env=VALIDATE_ENV)
    err = p.stderr.decode("utf-8", "replace")
    check(p.returncode == 0, "%s: validate exited %d: %s"
          % (path, p.returncode, err))
    check(err == "", "%s: validate printed on stderr: %s" % (path, err))


def seen_counts(job):
    """Highest count printed per word so far."""
    best = {}
    for _, counts, _, _ in job.batches():
        for w, c in counts.items():
            best[w] = max(best.get(w, 0), c)
    return best


def table_counts(job):
    """Highest count printed per word so far by a console table of
    (word, count) rows (structured_network_wordcount.json)."""
    best = {}
    for line in job.out.data().splitlines():
        cells = [c.strip() for c in line.split(b"|")]
        if len(cells) == 4 and cells[2].isdigit():
            best[cells[1]] = max(best.get(cells[1], 0), int(cells[2]))
    return best


def lines_printed(job):
    """For an example that shows its input lines (memory_table.json: the
    lines go to a memory table and to a console table) rather than word
    counts: each line sent, as a row of the printed table."""
    text = job.out.data()
    return all(b"|" + line + b"|" in text.replace(b" ", b"")
               for line in WORDS.replace(b" ", b"").splitlines())


def run_one(path, tmp):
    doc = json.load(open(path))
    shows_lines = any(k["type"] == "memory" for k in doc.get("sinks", []))
    tables = any(k.get("format") == "table" for k in doc.get("sinks", []))
    kinds = {s["type"] for s in doc["sources"].values()}
    check(kinds <= {"socket", "directory"},
          "%s: source types %s: teach this test how to feed them"
          % (path, sorted(kinds)))
    port = free_port()
    indir = os.path.join(tmp, "not-yet", "in")
    for s in doc["sources"].values():
        if s["type"] == "socket":
            s["port"] = port
        else:
            s["path"] = indir
    if "checkpoint" in doc:
        doc["checkpoint"] = os.path.join(tmp, "checkpoint")
    changed = os.path.join(tmp, os.path.basename(path))
    with open(changed, "w") as f:
        json.dump(doc, f)
    runs = 2 if "checkpoint" in doc else 1
    for n in range(1, runs + 1):
        expect = {w: c * n for w, c in EXPECT.items()}
        if "socket" in kinds:
            with Ncat(port) as ncat:
                run_job(changed, lambda job: feed_socket(job, ncat), expect,
                        shows_lines, tables)
        else:
            run_job(changed, lambda job: feed_directory(job, indir, tmp),
                    expect)


def feed_socket(job, ncat):
    ncat.wait_connections(1)
    ncat.send(WORDS)


def feed_directory(job, indir, tmp):
    wait_until(lambda: os.path.isdir(indir) or not job.alive(), 15,
               "the job to create %s" % indir)
    check(job.alive(), "the job exited at start")
    # Complete files only: written beside the directory, then moved in.
    staged = os.path.join(tmp, "words.txt")
    with open(staged, "wb") as f:
        f.write(WORDS)
    os.rename(staged, os.path.join(indir, "words.txt"))


def run_job(path, feed, expect, shows_lines=False, tables=False):
    with Job([STREAMCTL, "run", path]) as job:
        feed(job)

        def enough():
            check(job.alive(), "the job exited (status %s) before its "
                  "output" % job.proc.returncode)
            if shows_lines:
                return lines_printed(job)
            seen = table_counts(job) if tables else seen_counts(job)
            return all(seen.get(w, 0) >= c for w, c in expect.items())
        wait_until(enough, OUTPUT_S, "the counts %r in the output"
                   % sorted(expect.items()))
        rc = job.stop(signal.SIGTERM)
        err = job.err.text()
        check(rc == 0, "exit status %d after SIGTERM: %s" % (rc, err[-2000:]))
        log("%s: output ok, SIGTERM -> 0" % os.path.basename(path))


def test():
    check(len(JOBS) >= 5, "expected the 5 shipped example job files, "
          "found %r" % JOBS)
    for path in JOBS:
        tmp = tempfile.mkdtemp(prefix="sl-examples-")
        try:
            validate_as_shipped(path, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    need_ncat = any('"socket"' in open(p).read() for p in JOBS)
    if need_ncat and not shutil.which("ncat"):
        log("ncat not found: skipping")
        sys.exit(SKIP)
    for path in JOBS:
        name = os.path.basename(path)
        if name in OWN_TEST:
            own = os.path.join(ROOT, "tests", OWN_TEST[name])
            check(os.path.exists(own) and name in open(own).read(),
                  "%s: its own test %s must exist and run it"
                  % (name, OWN_TEST[name]))
            log("example %s: validated; run by %s" % (name, OWN_TEST[name]))
            continue
        check(not any(s.get("listen") for s in
                      json.load(open(path))["sources"].values()),
              "%s: a listening socket example: add it to OWN_TEST with "
              "the test that feeds it" % name)
        tmp = tempfile.mkdtemp(prefix="sl-examples-")
        try:
            log("example %s" % os.path.basename(path))
            start = time.monotonic()
            run_one(path, tmp)
            log("  %.1f s" % (time.monotonic() - start))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(test)
