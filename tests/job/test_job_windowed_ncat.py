#!/usr/bin/env python3
"""The windowed_network_wordcount example job file, run for real by
`streamctl run` against a real `ncat -lk`.

Usage: test_job_windowed_ncat.py STREAMCTL SOURCE_ROOT

Loads SOURCE_ROOT/examples/streaming/jobs/windowed_network_wordcount.json
and changes only what a test cannot use as it is: the socket source's port
(a free one), the durations (batch interval 500ms, slide 1s, window = the
example's window/slide ratio times 1s) and the console sink's format (json,
so that every output line parses exactly). Everything else, operators,
functions, filter, is the example's, so the test breaks when the example
does. Both the example and the changed file must pass `streamctl validate`.

Case SIGINT: after the job's first output, group A is written to ncat,
then group B about 1.2 slides later, then nothing. The slide at which each
group arrived is taken from the outputs (the first one holding a word only
that group has). Then every output line is checked exactly:
- the lines are json objects {batch, time_ms, stream, records}, one per
  slide: batch steps by slide/batch_interval, time_ms by the slide,
  time_ms - batch * batch_interval is constant, stream is the sink's from;
- a group is in the window of the output at T when it arrived at a slide
  Tg with T - window < Tg <= T, and the counts are the sums over the
  groups in the window (they rise when a group enters and fall when it
  slides out);
- a key whose count went back to 0 is kept or dropped by the example's
  filter, evaluated here as docs/job-file.md defines it; with no filter,
  such keys stay with count 0 (Spark's reduceByKeyAndWindow with an inverse
  function and no filterFunc).
SIGINT must then stop the job with exit status 0 within 15 s, and stdout
must hold nothing but those json lines.

Case SIGTERM: one group, the same checks, stopped with SIGTERM (exit 0).

Exits 77 (skip) without ncat. Every wait is bounded (the whole test ends
within about 60 s); children are killed when a check fails.
"""

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

EXAMPLE = os.path.join("examples", "streaming", "jobs",
                       "windowed_network_wordcount.json")
BATCH_MS = 500
SLIDE_MS = 1000
TOTAL_S = 60  # the whole test's budget
START = time.monotonic()

# The groups: one small write each (one TCP segment, read at once, so it
# lands in one batch). A and B share "apple"; "banana" and "date" tell
# them apart.
GROUP_A = b"apple banana apple\ncherry  apple\tbanana\n"
GROUP_B = b"date apple\ndate elder date\n"
GROUP_C = b"fig grape fig\n"


def left(timeout):
    """timeout, cut to what is left of the test's budget."""
    return max(0.1, min(timeout, START + TOTAL_S - time.monotonic()))


def words(group):
    counts = {}
    for w in group.decode().split():
        counts[w] = counts.get(w, 0) + 1
    return counts


# ------------------------------------------------------------ the job file

def duration_ms(text, where):
    units = (("ms", 1), ("s", 1000), ("m", 60000), ("h", 3600000))
    check(isinstance(text, str), "%s: expected a duration string, got %r"
          % (where, text))
    for unit, scale in units:
        num = text[:-len(unit)]
        if text.endswith(unit) and num.isdigit():
            return int(num) * scale
    raise TestFailure("%s: invalid duration %r" % (where, text))


def load_example():
    """The example as a dict, and the parts the test changes or reads."""
    path = os.path.join(ROOT, EXAMPLE)
    check(os.path.isfile(path), "%s does not exist" % path)
    with open(path) as f:
        doc = json.load(f)
    check(doc.get("clock", "system") == "system",
          "the example's clock is %r, expected system" % doc.get("clock"))
    check(doc.get("max_batches", 0) == 0,
          "the example has max_batches %r" % doc.get("max_batches"))
    sockets = [s for s in doc["sources"].values() if s.get("type") == "socket"]
    check(len(sockets) == 1 and len(doc["sources"]) == 1,
          "expected exactly one source, a socket: %r" % doc["sources"])
    windows = [(name, op) for name, s in doc.get("streams", {}).items()
               for op in s.get("ops", [])
               if op.get("op") == "reduce_by_key_and_window"]
    check(len(windows) == 1, "expected one reduce_by_key_and_window, found "
          "%d" % len(windows))
    name, op = windows[0]
    check(op.get("fn") == "sum" and op.get("inverse") == "subtract",
          "the window's fn/inverse are %r/%r, expected sum/subtract"
          % (op.get("fn"), op.get("inverse")))
    check(doc["streams"][name]["ops"][-1] is op,
          "the window is not its stream's last operator")
    check(len(doc["sinks"]) == 1 and doc["sinks"][0].get("type") == "console"
          and doc["sinks"][0].get("from") == name,
          "expected one console sink of stream %r: %r" % (name, doc["sinks"]))
    return doc, sockets[0], op, doc["sinks"][0]


def make_job(doc, source, op, sink, port):
    """The example with the test's port, durations and json output; returns
    the window's length in ms."""
    window = duration_ms(op.get("window"), "window")
    check("slide" in op, "the example's window has no explicit slide")
    slide = duration_ms(op["slide"], "slide")
    batch = duration_ms(doc["batch_interval"], "batch_interval")
    check(window % slide == 0 and slide % batch == 0,
          "the example's window %d ms, slide %d ms, batch %d ms do not "
          "divide" % (window, slide, batch))
    source["port"] = port
    doc["batch_interval"] = "%dms" % BATCH_MS
    op["slide"] = "%dms" % SLIDE_MS
    op["window"] = "%dms" % (window // slide * SLIDE_MS)
    sink["format"] = "json"
    return window // slide * SLIDE_MS


def validate(path):
    try:
        r = subprocess.run([STREAMCTL, "validate", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=left(10))
    except subprocess.TimeoutExpired:
        raise TestFailure("streamctl validate %s did not end" % path)
    check(r.returncode == 0 and r.stdout == ("%s: valid\n" % path).encode(),
          "streamctl validate %s: exit %d, stdout %r, stderr %r"
          % (path, r.returncode, r.stdout, r.stderr))


# ------------------------------------------------------- the filter, as the
# docs define predicates: integers and doubles compare by value, strings
# byte-wise; other or different kinds are neither less nor greater and
# equal only when identical.

def compare(x, y):
    num = (int, float)
    if isinstance(x, num) and isinstance(y, num) and \
            not isinstance(x, bool) and not isinstance(y, bool):
        return (x > y) - (x < y)
    if isinstance(x, str) and isinstance(y, str):
        a, b = x.encode(), y.encode()
        return (a > b) - (a < b)
    return None


def predicate(fn):
    """A Python function (key, value) -> keep, for the example's filter."""
    if fn is None:
        return None
    if isinstance(fn, str):
        fn = {"name": fn}
    name, arg, on = fn["name"], fn.get("arg"), fn.get("on", "element")

    def part(k, v):
        return {"key": k, "value": v, "element": [k, v]}[on]

    def test(x):
        c = compare(x, arg)
        if name == "eq":
            return c == 0 if c is not None else x == arg
        if name == "ne":
            return c != 0 if c is not None else x != arg
        if name in ("lt", "le", "gt", "ge"):
            return c is not None and {"lt": c < 0, "le": c <= 0,
                                      "gt": c > 0, "ge": c >= 0}[name]
        if name in ("even", "odd"):
            return isinstance(x, int) and x % 2 == (name == "odd")
        raise TestFailure("the example's filter %r: predicate not known to "
                          "the test" % fn)
    return lambda k, v: test(part(k, v))


# ------------------------------------------------------------ the outputs

def json_lines(job):
    """The complete stdout lines, each parsed; any other line fails."""
    data = job.out.data()
    out = []
    for raw in data[:data.rfind(b"\n") + 1].split(b"\n")[:-1]:
        try:
            line = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise TestFailure("stdout line is not json: %r" % raw[:200])
        check(isinstance(line, dict) and
              sorted(line) == ["batch", "records", "stream", "time_ms"],
              "unexpected json line %r" % raw[:200])
        recs = line["records"]
        check(isinstance(recs, list) and
              all(isinstance(r, list) and len(r) == 2 and
                  isinstance(r[0], str) and isinstance(r[1], int) and
                  not isinstance(r[1], bool) for r in recs),
              "records are not [word, count] pairs: %r" % raw[:200])
        counts = dict(recs)
        check(len(counts) == len(recs), "duplicate keys in %r" % raw[:200])
        out.append((line["batch"], line["time_ms"], line["stream"], counts))
    return out


def wait_output(job, pred, timeout, what):
    """The first output (batch, time_ms, stream, counts) with pred(counts)."""
    def find():
        for o in json_lines(job):
            if pred(o[3]):
                return o
        check(job.alive(), "the job exited (status %s) while waiting for %s"
              % (job.proc.returncode, what))
        return None
    return wait_until(find, left(timeout), what)


def stop(job, sig):
    rc = job.stop(sig, timeout=left(15))
    check(rc == 0, "exit status %s after %s, expected 0" % (rc, sig.name))
    job.out.thread.join(left(5))
    data = job.out.data()
    check(not data or data.endswith(b"\n"),
          "stdout ends in a partial line: %r" % data[-200:])
    return json_lines(job)


def expected_counts(t, arrivals, window, keep):
    """The window's counts at output time t: arrivals is [(time, group)]."""
    counts, seen = {}, set()
    for tg, group in arrivals:
        if tg <= t:
            seen.update(words(group))
        if t - window < tg <= t:
            for w, c in words(group).items():
                counts[w] = counts.get(w, 0) + c
    full = {w: counts.get(w, 0) for w in seen}
    if keep is None:  # no filter: keys at 0 stay
        return full
    return {w: c for w, c in full.items() if keep(w, c)}


def check_outputs(outs, stream, arrivals, window, keep):
    log("outputs: %r" % [(o[0], o[1], o[3]) for o in outs])
    check(outs, "no output at all")
    step = SLIDE_MS // BATCH_MS
    zero = outs[0][1] - outs[0][0] * BATCH_MS
    for a, b in zip(outs, outs[1:]):
        check(b[0] - a[0] == step and b[1] - a[1] == SLIDE_MS,
              "outputs (batch %d, time %d) then (batch %d, time %d): expected "
              "steps of %d batches and %d ms" % (a[0], a[1], b[0], b[1], step,
                                                 SLIDE_MS))
    for o in outs:
        check(o[2] == stream, "output of stream %r, expected %r"
              % (o[2], stream))
        check(o[1] - o[0] * BATCH_MS == zero,
              "batch %d has time %d: not zero + batch x interval" % o[:2])
        want = expected_counts(o[1], arrivals, window, keep)
        check(o[3] == want, "output at %d ms (batch %d): %r, expected %r"
              % (o[1], o[0], o[3], want))


def arrival(outs, word):
    for o in outs:
        if word in o[3]:
            return o[1]
    raise TestFailure("no output holds %r" % word)


# ------------------------------------------------------------ the cases

def run_case(sig, groups, tmp):
    """groups: [(delay_s, bytes, word only it has)]; runs the job, writes
    each group delay_s after the previous (the first after the job's first
    output), stops with sig once the last group has slid out, checks."""
    doc, source, op, sink = load_example()
    port = free_port()
    window = make_job(doc, source, op, sink, port)
    keep = predicate(op.get("filter"))
    # A filter dropping a key still in the window breaks the inverse form
    # (Spark: "Neither previous window has value for key, nor new values
    # found"); the counts expected here assume it keeps every count > 0.
    most = sum(sum(words(g).values()) for _, g, _ in groups)
    check(keep is None or all(keep(w, n) for _, g, _ in groups
                              for w in words(g) for n in range(1, most + 1)),
          "the example's filter %r drops positive counts" % op.get("filter"))
    path = os.path.join(tmp, "windowed-%s.json" % sig.name.lower())
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    validate(path)
    with Ncat(port) as ncat, Job([STREAMCTL, "run", path]) as job:
        ncat.wait_connections(1, timeout=left(15))
        wait_output(job, lambda c: True, 5, "the first output")
        for delay, group, _ in groups:
            time.sleep(delay)
            ncat.send(group)
        last = wait_output(job, lambda c: groups[-1][2] in c, 10,
                           "the last group's words")
        def slid_out():
            check(job.alive(), "the job exited (status %s) before the last "
                  "group slid out" % job.proc.returncode)
            return any(o[1] >= last[1] + window + SLIDE_MS
                       for o in json_lines(job))
        wait_until(slid_out, left(window / 1000 + 6),
                   "the last group to slide out")
        outs = stop(job, sig)
        arrivals = [(arrival(outs, w), g) for _, g, w in groups]
        log("groups arrived at %r" % [a[0] for a in arrivals])
        for a, b in zip(arrivals, arrivals[1:]):
            check(a[0] < b[0], "groups arrived out of order: %r"
                  % [x[0] for x in arrivals])
        check_outputs(outs, sink["from"], arrivals, window, keep)
        check(outs[-1][1] >= arrivals[-1][0] + window,
              "the outputs end before the last group slid out")
        return arrivals, window


def test():
    if not shutil.which("ncat"):
        log("ncat not found: skipping")
        sys.exit(SKIP)
    validate(os.path.join(ROOT, EXAMPLE))
    with tempfile.TemporaryDirectory(prefix="ncatjob-") as tmp:
        arrivals, window = run_case(
            signal.SIGINT,
            [(0, GROUP_A, "banana"), (1.2 * SLIDE_MS / 1000, GROUP_B, "date")],
            tmp)
        # The sums are only checked when both groups were in one window
        # together ("apple" counted from both).
        check(arrivals[1][0] - arrivals[0][0] < window,
              "group B arrived %d ms after A: never in one window"
              % (arrivals[1][0] - arrivals[0][0]))
        run_case(signal.SIGTERM, [(0, GROUP_C, "fig")], tmp)


if __name__ == "__main__":
    main(test)
