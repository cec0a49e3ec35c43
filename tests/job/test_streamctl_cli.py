#!/usr/bin/env python3
"""streamctl's command line: help texts, usage errors (status 2), `run` of a
deterministic manual-clock job (exact stdout), graceful stops of
system-clock jobs by SIGTERM and SIGINT (status 0), and jobs that fail
while running (status 1, the reason on stderr). See docs/job-file.md and
the exit statuses 0 ok, 1 job failed, 2 usage, 3 invalid job file.

usage: test_streamctl_cli.py STREAMCTL SOURCE_ROOT
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

import joblib
from joblib import Failure

STREAMCTL = None
TIMEOUT = 30     # seconds for a streamctl that should exit by itself
STOP_TIMEOUT = 10  # seconds from a stop signal to the exit
DASHES = "-" * 43


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def run(args, cwd, timeout=TIMEOUT):
    """(status, stdout, stderr) of streamctl args (joblib)."""
    return joblib.run_streamctl(STREAMCTL, args, cwd, timeout)


class Output:
    """A pipe's bytes, collected on a thread."""

    def __init__(self, pipe):
        self.buf = bytearray()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._pump, args=(pipe,),
                                       daemon=True)
        self.thread.start()

    def _pump(self, pipe):
        while True:
            chunk = pipe.read1(65536)
            if not chunk:
                return
            with self.lock:
                self.buf += chunk

    def text(self):
        with self.lock:
            return bytes(self.buf).decode("utf-8", "replace")


class Job:
    """`streamctl run FILE` as a child process, killed when the block ends
    (also on failure)."""

    def __init__(self, path, cwd):
        self.argv = [STREAMCTL, "run", path]
        self.cwd = cwd
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, cwd=self.cwd,
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out = Output(self.proc.stdout)
        self.err = Output(self.proc.stderr)
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if exc[0] is not None:
            print("---- stdout (last 2000 chars):\n%s\n---- stderr (last "
                  "2000 chars):\n%s" % (self.out.text()[-2000:],
                                        self.err.text()[-2000:]))

    def wait_lines(self, n, timeout):
        deadline = time.monotonic() + timeout
        while self.out.text().count("\n") < n:
            check(self.proc.poll() is None, "the job exited with status %s "
                  "before printing %d lines" % (self.proc.returncode, n))
            check(time.monotonic() < deadline, "fewer than %d lines on "
                  "stdout after %d s" % (n, timeout))
            time.sleep(0.02)

    def stop(self, sig):
        self.proc.send_signal(sig)
        t0 = time.monotonic()
        try:
            status = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Failure("no exit within %d s of %s" % (STOP_TIMEOUT,
                                                         sig.name))
        self.out.thread.join(5)
        self.err.thread.join(5)
        return status, time.monotonic() - t0


def write_job(tmp, name, job):
    path = os.path.join(tmp, name + ".json")
    with open(path, "w") as f:
        f.write(job if isinstance(job, str) else json.dumps(job, indent=1))
    return path


# ------------------------------------------------------------------ help

def test_help(tmp):
    texts = {}
    for args in (["--help"], ["help"]):
        status, out, err = run(args, tmp)
        check(status == 0, "%s: exit status %d; stderr %r" % (args, status,
                                                              err))
        check(out.strip() != "", "%s: nothing on stdout" % args)
        check(err == "", "%s: stderr not empty: %r" % (args, err))
        for word in ("run", "validate"):
            check(re.search(r"\b%s\b" % word, out),
                  "%s: the command %r is not mentioned: %r"
                  % (args, word, out))
        m = re.search(r"exit", out, re.IGNORECASE)
        check(m, "%s: no exit statuses in the help: %r" % (args, out))
        tail = out[m.start():]
        for code in "0123":
            # The status, then words saying what it means.
            check(re.search(r"(?<![\w.-])%s[ \t:=-]+[A-Za-z]" % code, tail),
                  "%s: exit status %s is not documented after %r: %r"
                  % (args, code, m.group(0), tail))
        texts[args[0]] = out
    check(texts["--help"] == texts["help"], "--help and help differ")
    for cmd in ("run", "validate"):
        status, out, err = run([cmd, "--help"], tmp)
        check(status == 0, "%s --help: exit status %d; stderr %r"
              % (cmd, status, err))
        status2, out2, err2 = run(["help", cmd], tmp)
        check(status2 == 0 and out2 == out, "help %s: status %d, stdout %r "
              "(expected 0 and the text of %s --help)" % (cmd, status2, out2,
                                                          cmd))
        check(re.search(r"\b%s\b" % cmd, out),
              "%s --help does not name the command: %r" % (cmd, out))
        check(re.search(r"JOB|FILE|\.json", out),
              "%s --help does not say it takes a job file: %r" % (cmd, out))
        check(err == "", "%s --help: stderr not empty: %r" % (cmd, err))


# ---------------------------------------------------------- usage errors

def test_usage(tmp):
    ok = write_job(tmp, "ok", MANUAL_JOB)
    cases = [
        ([], None),
        (["frobnicate"], "frobnicate"),
        (["frobnicate", ok], "frobnicate"),
        (["--bogus"], "--bogus"),
        (["validate", "--bogus", ok], "--bogus"),
        (["run", "--bogus", ok], "--bogus"),
        (["validate"], None),
        (["run"], None),
        (["run", ok, ok], None),
    ]
    for args, named in cases:
        shown = [os.path.basename(a) for a in args]
        status, out, err = run(args, tmp)
        print("     %s -> %d: %s" % (shown, status,
                                     err.strip().split("\n")[0]))
        check(status == 2, "%s: exit status %d, expected 2; stderr %r"
              % (shown, status, err))
        check(out == "", "%s: stdout not empty: %r" % (shown, out[:500]))
        check(err.strip() != "", "%s: no message on stderr" % shown)
        check(re.search(r"usage", err, re.IGNORECASE),
              "%s: no usage on stderr: %r" % (shown, err))
        if named:
            check(named in err, "%s: the message does not name %r: %r"
                  % (shown, named, err))


# ------------------------------------------------------ manual-clock runs

MANUAL_JOB = {
    "name": "cli-manual",
    "batch_interval": "1s",
    "clock": "manual",
    "max_batches": 3,
    "sources": {"nums": {"type": "queue", "batches": [[1, 2, 3], [4, 5]]}},
    "streams": {"doubled": {"from": "nums", "ops": [
        {"op": "map", "fn": {"name": "multiply", "arg": 2}}]}},
    "sinks": [{"from": "doubled", "type": "console", "format": "json"}],
}

MANUAL_OUT = (
    '{"batch":1,"time_ms":1000,"stream":"doubled","records":[2,4,6]}\n'
    '{"batch":2,"time_ms":2000,"stream":"doubled","records":[8,10]}\n'
    '{"batch":3,"time_ms":3000,"stream":"doubled","records":[]}\n')

# A null batch produces no collection, so no line; keys are unordered.
PAIRS_JOB = {
    "name": "cli-pairs",
    "batch_interval": "500ms",
    "clock": "manual",
    "max_batches": 3,
    "sources": {"kv": {"type": "queue", "partitions": 2, "batches": [
        [["a", 1], ["b", 2], ["a", 3]], None, [["b", 5], ["c", 1.5]]]}},
    "streams": {"sums": {"from": "kv", "ops": [
        {"op": "reduce_by_key", "fn": "sum"}]}},
    "sinks": [{"from": "sums", "type": "console", "format": "json"}],
}

PAIRS_OUT = [
    {"batch": 1, "time_ms": 500, "stream": "sums",
     "records": [["a", 4], ["b", 2]]},
    {"batch": 3, "time_ms": 1500, "stream": "sums",
     "records": [["b", 5], ["c", 1.5]]},
]

TEXT_JOB = {
    "name": "cli-text",
    "batch_interval": "2s",
    "clock": "manual",
    "max_batches": 2,
    "sources": {"w": {"type": "queue", "batches": [["x", "y"]]}},
    "sinks": [{"from": "w", "type": "console"}],
}

TEXT_OUT = ("%s\nTime: 2000 ms\n%s\nx\ny\n\n%s\nTime: 4000 ms\n%s\n\n"
            % (DASHES, DASHES, DASHES, DASHES))


SAVE_JOB = {
    "name": "cli-save",
    "batch_interval": "1s",
    "clock": "manual",
    "max_batches": 2,
    "sources": {"q": {"type": "queue", "partitions": 2,
                      "batches": [[1, 2, 3], [["a", 1]]]}},
    "sinks": [{"from": "q", "type": "save_as_text_files", "prefix": "out/x",
               "suffix": "txt"},
              {"from": "q", "type": "save_as_text_files",
               "prefix": "out/y", "name": "q.y"}],
}


def saved_lines(directory):
    """The lines of every part file of a saved batch, in name order."""
    check(os.path.isdir(directory), "no directory %s" % directory)
    lines = []
    for f in sorted(os.listdir(directory)):
        if f.startswith("part-"):
            with open(os.path.join(directory, f)) as fh:
                text = fh.read()
            check(text == "" or text.endswith("\n"),
                  "%s/%s does not end with a newline" % (directory, f))
            lines += text.split("\n")[:-1]
    return lines


def test_save(tmp):
    work = os.path.join(tmp, "save")
    os.makedirs(os.path.join(work, "out"))
    status, out, err = run(["run", write_job(work, "save", SAVE_JOB)], work)
    check(status == 0, "save: exit status %d; stderr %r" % (status, err))
    check(out == "", "save: stdout not empty: %r" % out[:500])
    for d, want in (("out/x-1000.txt", ["1", "2", "3"]),
                    ("out/x-2000.txt", ["(a,1)"]),
                    ("out/y-1000", ["1", "2", "3"]),
                    ("out/y-2000", ["(a,1)"])):
        got = saved_lines(os.path.join(work, d))
        check(got == want, "save: %s holds %r, expected %r" % (d, got, want))
    check(sorted(os.listdir(os.path.join(work, "out"))) ==
          ["x-1000.txt", "x-2000.txt", "y-1000", "y-2000"],
          "save: out/ holds %r" % os.listdir(os.path.join(work, "out")))


def test_manual_run(tmp):
    path = write_job(tmp, "manual", MANUAL_JOB)
    for _ in range(2):  # the same file gives the same output every time
        status, out, err = run(["run", path], tmp)
        check(status == 0, "run: exit status %d; stderr %r" % (status, err))
        check(out == MANUAL_OUT, "run: stdout\n%s\nexpected\n%s"
              % (out, MANUAL_OUT))
    status, out, err = run(["run", write_job(tmp, "pairs", PAIRS_JOB)], tmp)
    check(status == 0, "pairs: exit status %d; stderr %r" % (status, err))
    check(out.endswith("\n"), "pairs: stdout %r" % out)
    try:
        got = [json.loads(line) for line in out.split("\n")[:-1]]
    except ValueError as e:
        raise Failure("pairs: stdout is not JSON lines (%s): %r" % (e, out))
    for g in got:
        if isinstance(g, dict) and isinstance(g.get("records"), list):
            g["records"].sort(key=json.dumps)
    check(got == PAIRS_OUT, "pairs: got %r, expected %r" % (got, PAIRS_OUT))
    status, out, err = run(["run", write_job(tmp, "text", TEXT_JOB)], tmp)
    check(status == 0, "text: exit status %d; stderr %r" % (status, err))
    check(out == TEXT_OUT, "text: stdout %r, expected %r" % (out, TEXT_OUT))


def same(a, b):
    """Equal with the same JSON types (1 is not 1.0, True is not 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def values_job(name, records):
    return {"name": name, "batch_interval": "1s", "clock": "manual",
            "max_batches": 1,
            "sources": {"q": {"type": "queue", "batches": [records]}},
            "sinks": [{"from": "q", "type": "console", "format": "json"}]}


# Records read from the file and written back by the json sink: "a number
# with no fraction part is an integer (1.0 reads as the integer 1)".
VALUES = [
    ("values_kinds", '[1.0, 2.5, -0, -7, "tab\\there", "\\u00e9", true, '
     'null, [1, 2, 3], ["k", 1], [], [["a", [1, null]], 2]]',
     [1, 2.5, 0, -7, "tab\there", "\u00e9", True, None, [1, 2, 3],
      ["k", 1], [], [["a", [1, None]], 2]]),
    # JSON numbers are read as doubles (docs/job-file.md): integers are
    # exact up to 2^53; 2^53 + 1 reads as 2^53, larger ones as doubles.
    ("values_big_integers", '[9007199254740992, -9007199254740992, '
     '9007199254740993, 9223372036854775807]',
     [9007199254740992, -9007199254740992, 9007199254740992,
      9.223372036854776e18]),
]


def test_values(tmp, name, records_text, want):
    job = json.dumps(values_job(name.replace("_", "-"), [])).replace(
        '"batches": [[]]', '"batches": [%s]' % records_text)
    status, out, err = run(["run", write_job(tmp, name, job)], tmp)
    check(status == 0, "%s: exit status %d; stderr %r" % (name, status, err))
    lines = out.split("\n")
    check(len(lines) == 2 and lines[1] == "", "%s: stdout %r" % (name, out))
    got = json.loads(lines[0]).get("records")
    check(same(got, want), "%s: records %s, expected %s"
          % (name, json.dumps(got), json.dumps(want)))


# ------------------------------------------------- system clock and stops

RATE_JOB = {
    "name": "cli-rate",
    "batch_interval": "200ms",
    "sources": {"r": {"type": "rate", "rows_per_second": 50,
                      "partitions": 2}},
    "streams": {"n": {"from": "r", "ops": [{"op": "count"}]}},
    "sinks": [{"from": "n", "type": "console", "format": "json"}],
}

GENERATOR_JOB = {
    "name": "cli-generator",
    "batch_interval": "200ms",
    "clock": "system",
    "sources": {"g": {"type": "generator", "lines_per_batch": 20,
                      "words_per_line": 3, "vocabulary": 10}},
    "streams": {"w": {"from": "g", "ops": [
        {"op": "flat_map", "fn": "split_words"},
        {"op": "count_by_value"}]}},
    "sinks": [{"from": "w", "type": "console", "format": "json"}],
}


def check_json_lines(out, stream, what):
    check(out.endswith("\n"), "%s: stdout does not end with a complete "
          "line: %r" % (what, out[-300:]))
    batches = []
    for line in out.split("\n")[:-1]:
        try:
            rec = json.loads(line)
        except ValueError:
            raise Failure("%s: not a JSON line on stdout: %r" % (what, line))
        check(isinstance(rec, dict) and rec.get("stream") == stream and
              isinstance(rec.get("records"), list),
              "%s: unexpected line %r" % (what, line))
        batches.append(rec["batch"])
    check(batches == sorted(batches) and len(set(batches)) == len(batches),
          "%s: batch ids not increasing: %r" % (what, batches))
    return batches


def test_stop(tmp, name, job, sig, stream):
    path = write_job(tmp, name, job)
    with Job(path, tmp) as j:
        j.wait_lines(3, 20)
        status, took = j.stop(sig)
        print("     %s: exit %d %.2f s after %s" % (name, status, took,
                                                    sig.name))
        check(status == 0, "%s: exit status %d after %s, expected 0; "
              "stderr %r" % (name, status, sig.name, j.err.text()[-2000:]))
        check_json_lines(j.out.text(), stream, name)


# ------------------------------------------------------ failing jobs (1)

def failing(name, batches, op, fn):
    return {
        "name": name, "batch_interval": "1s", "clock": "manual",
        "max_batches": 3,
        "sources": {"q": {"type": "queue", "batches": batches}},
        "streams": {"s": {"from": "q", "ops": [{"op": op, "fn": fn}]}},
        "sinks": [{"from": "s", "type": "console", "format": "json"}],
    }


FAILING = [
    ("fail_lower", failing("fail-lower", [[1, 2]], "map", "lower"),
     "lower"),
    ("fail_sum", failing("fail-sum", [["a", "b"]], "reduce", "sum"), "sum"),
    ("fail_to_number", failing("fail-to-number", [[], ["abc"]], "map",
                               "to_number"), "to_number"),
    # A filter dropping keys still in an incremental window: Spark fails
    # too; the message says what happened.
    ("fail_window_filter", {
        "name": "fail-window-filter", "batch_interval": "1s",
        "clock": "manual", "max_batches": 5,
        "sources": {"q": {"type": "queue",
                          "batches": [[["a", 1]], [["a", 1]], [], []]}},
        "streams": {"w": {"from": "q", "ops": [{
            "op": "reduce_by_key_and_window", "fn": "sum",
            "inverse": "subtract", "window": "2s",
            "filter": {"name": "gt", "arg": 1, "on": "value"}}]}},
        "sinks": [{"from": "w", "type": "console", "format": "json"}],
    }, 'key "a" leaves the window but has no previous value'),
]


UNBUILDABLE = [
    # An output directory that cannot be created: refused before the start
    # (the machine checks of docs/job-file.md), named by its prefix.
    ("fail_save_dir", {
        "name": "fail-save", "batch_interval": "1s", "clock": "manual",
        "max_batches": 2,
        "sources": {"q": {"type": "queue", "batches": [[1]]}},
        "sinks": [{"from": "q", "type": "save_as_text_files",
                   "prefix": "/nonexistent-sluice-dir/sub/out"}]},
     "/nonexistent-sluice-dir/sub/out"),
    # A host that cannot resolve (.invalid never does, RFC 6761).
    ("fail_socket_host", {
        "name": "fail-socket", "batch_interval": "200ms", "max_batches": 3,
        "sources": {"s": {"type": "socket", "host": "no-such-host.invalid",
                          "port": 9}},
        "sinks": [{"from": "s", "type": "console", "format": "json"}]},
     "no-such-host.invalid"),
]


def test_failing(tmp):
    for name, job, fn in FAILING:
        status, out, err = run(["run", write_job(tmp, name, job)], tmp)
        print("     %s -> %d: %s" % (name, status,
                                     err.strip().split("\n")[-1:]))
        check(status == 1, "%s: exit status %d, expected 1; stderr %r"
              % (name, status, err))
        check(fn in err, "%s: stderr does not name %r: %r" % (name, fn,
                                                             err))
        check(not re.search(r"\.json: \$", err),
              "%s: reported as an invalid file: %r" % (name, err))
        # Only the empty batches before the failure reach stdout.
        for line in out.split("\n")[:-1]:
            check(line.endswith(',"records":[]}'),
                  "%s: output of a failed batch: %r" % (name, line))
    for name, job, named in UNBUILDABLE:
        status, out, err = run(["run", write_job(tmp, name, job)], tmp)
        print("     %s -> %d: %s" % (name, status,
                                     err.strip().split("\n")[-1:]))
        check(status == 1, "%s: exit status %d, expected 1; stderr %r"
              % (name, status, err))
        check(named in err, "%s: stderr does not name %r: %r"
              % (name, named, err))
        check(out == "", "%s: stdout not empty: %r" % (name, out[:500]))


def test_stdout_unwritable(tmp):
    """A console sink that cannot write fails the job (exit 1, named),
    to a full disk and to a pipe whose reader has gone."""
    path = write_job(tmp, "full", GENERATOR_JOB)
    with open("/dev/full", "w") as full:
        proc = subprocess.run([STREAMCTL, "run", path], cwd=tmp,
                              stdin=subprocess.DEVNULL, stdout=full,
                              stderr=subprocess.PIPE, timeout=TIMEOUT)
    err = proc.stderr.decode(errors="replace")
    check(proc.returncode == 1, "/dev/full: exit status %d, expected 1; "
          "stderr %r" % (proc.returncode, err[-500:]))
    check("cannot write to stdout: No space left on device" in err,
          "/dev/full: stderr %r" % err[-500:])
    proc = subprocess.Popen([STREAMCTL, "run", path], cwd=tmp,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # the reader goes away, as `| head -1` does
    try:
        err = proc.stderr.read().decode(errors="replace")
        status = proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise Failure("closed pipe: no exit within %d s" % TIMEOUT)
    check(status == 1, "closed pipe: exit status %d, expected 1; stderr %r"
          % (status, err[-500:]))
    check("cannot write to stdout: Broken pipe" in err,
          "closed pipe: stderr %r" % err[-500:])


def main():
    global STREAMCTL
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[1])
        return 2
    STREAMCTL = os.path.abspath(sys.argv[1])
    if not os.access(STREAMCTL, os.X_OK):
        print("FAIL: %s is not an executable" % STREAMCTL)
        return 1
    tests = [
        ("help", test_help),
        ("usage", test_usage),
        ("manual_run", test_manual_run),
        ("save_as_text_files", test_save),
    ] + [(v[0], lambda t, v=v: test_values(t, *v)) for v in VALUES] + [
        ("stop_rate_sigterm", lambda t: test_stop(
            t, "rate_term", RATE_JOB, signal.SIGTERM, "n")),
        ("stop_generator_sigint", lambda t: test_stop(
            t, "gen_int", GENERATOR_JOB, signal.SIGINT, "w")),
        ("stop_rate_sigint", lambda t: test_stop(
            t, "rate_int", RATE_JOB, signal.SIGINT, "n")),
        ("stop_generator_sigterm", lambda t: test_stop(
            t, "gen_term", GENERATOR_JOB, signal.SIGTERM, "w")),
        ("failing", test_failing),
        ("stdout_unwritable", test_stdout_unwritable),
    ]
    failures = []
    with tempfile.TemporaryDirectory(prefix="sl-streamctl-") as tmp:
        for name, fn in tests:
            try:
                fn(tmp)
                print("ok   %s" % name, flush=True)
            except Failure as e:
                failures.append(name)
                print("FAIL %s: %s" % (name, e), flush=True)
    print("%d of %d passed" % (len(tests) - len(failures), len(tests)))
    if failures:
        print("failed: %s" % ", ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
