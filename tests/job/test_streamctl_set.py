#!/usr/bin/env python3
"""`streamctl run|validate --set PATH=VALUE` (docs/streamctl.md): overrides
of a job file's fields, applied in order before the job is checked. Runs
manual-clock jobs whose output proves each override (max_batches, an
operator's argument, a generator's options under a source name with a dot,
a conf key with dots: log.level), and checks the error cases: syntax
errors are usage errors (status 2), paths that do not fit the file and
values that make it invalid are problems of the job (status 3). The job
file on disk is never changed.

usage: test_streamctl_set.py STREAMCTL SOURCE_ROOT
"""

import json
import os
import sys

import joblib
from joblib import Failure

STREAMCTL = None
TIMEOUT = 30

JOB = {
    "name": "set-test",
    "batch_interval": "1s",
    "clock": "manual",
    "max_batches": 3,
    "sources": {
        "nums": {"type": "queue", "batches": [[1, 2, 3], [4, 5]]},
        "gen.words": {"type": "generator", "lines_per_batch": 2,
                      "words_per_line": 1, "vocabulary": 50},
    },
    "streams": {"doubled": {"from": "nums", "ops": [
        {"op": "map", "fn": {"name": "multiply", "arg": 2}}]}},
    "sinks": [{"from": "doubled", "type": "console", "format": "json"}],
}


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def write_job(tmp):
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(JOB, f, indent=1)
    return path


def run(args, tmp):
    return joblib.run_streamctl(STREAMCTL, args, tmp, TIMEOUT)


def batches(out):
    return [json.loads(line) for line in out.splitlines()]


def test_max_batches_and_arg(tmp):
    path = write_job(tmp)
    rc, out, err = run(["run", path], tmp)
    check(rc == 0 and len(batches(out)) == 3,
          "without --set: rc %d, stdout %r" % (rc, out))
    rc, out, err = run(["run", "--set", "max_batches=5", "--set",
                        "streams.doubled.ops[0].fn.arg=10", "--set",
                        "max_batches=1", path], tmp)
    check(rc == 0, "rc %d, stderr %r" % (rc, err))
    got = batches(out)
    check(got == [{"batch": 1, "time_ms": 1000, "stream": "doubled",
                   "records": [10, 20, 30]}],
          "the last max_batches and the arg 10 should apply: %r" % out)


def test_generator_options(tmp):
    path = write_job(tmp)
    # A source name with a dot: the dotted form matches the existing key
    # "gen.words" longest first; the JSON path form names it exactly.
    rc, out, err = run(["run", "--set", "max_batches=2",
                        "--set", "sinks[0].from=gen.words",
                        "--set", "sources.gen.words.lines_per_batch=4",
                        "--set", '$.sources["gen.words"].words_per_line=3',
                        path], tmp)
    check(rc == 0, "rc %d, stderr %r" % (rc, err))
    got = batches(out)
    check(len(got) == 2, "2 batches expected: %r" % out)
    for b in got:
        check(b["stream"] == "gen.words", "stream: %r" % b)
        check(len(b["records"]) == 4, "4 lines per batch: %r" % b)
        for line in b["records"]:
            check(len(line.split(" ")) == 3, "3 words per line: %r" % line)


def test_conf_dotted_key(tmp):
    path = write_job(tmp)
    rc, out, err = run(["run", "--set", "max_batches=1", path], tmp)
    check(rc == 0 and "sluice: info: started" in err,
          "info lines expected by default: rc %d, stderr %r" % (rc, err))
    rc, out, err = run(["run", "--set", "max_batches=1",
                        "--set", "conf.log.level=warn", path], tmp)
    check(rc == 0, "rc %d, stderr %r" % (rc, err))
    check("info:" not in err, "log.level warn: no info lines: %r" % err)
    check(len(batches(out)) == 1, "stdout %r" % out)
    rc, out, err = run(["validate", "--no-env", "--set",
                        "conf.log.level=loud", path], tmp)
    check(rc == 3 and '%s: $.conf["log.level"]: expected one of' % path
          in err, "a bad conf value: rc %d, stderr %r" % (rc, err))


def test_validate(tmp):
    path = write_job(tmp)
    with open(path, "rb") as f:
        before = f.read()
    rc, out, err = run(["validate", "--no-env", "--set", "max_batches=7",
                        "--set", "checkpoint.path=ck", path], tmp)
    check(rc == 0 and out == "%s: valid\n" % path,
          "rc %d, stdout %r, stderr %r" % (rc, out, err))
    rc, out, err = run(["validate", "--no-env", "--set", "max_batches=x",
                        path], tmp)
    check(rc == 3 and err == "%s: $.max_batches: expected an integer, got "
          "string\n" % path, "rc %d, stderr %r" % (rc, err))
    with open(path, "rb") as f:
        check(f.read() == before, "the job file changed")


# (arguments, expected first line of stderr); status 2.
USAGE_CASES = [
    (["--set", "max_batches"], "streamctl: --set max_batches: missing '=': "
     "an override is PATH=VALUE (at character 12)"),
    (["--set", "sources..port=1"], "streamctl: --set sources..port=1: "
     "empty segment in the path (at character 9)"),
    (["--set", "sinks[0.path=x"], "streamctl: --set sinks[0.path=x: bad "
     "array index: expected digits or a quoted name in brackets (at "
     "character 8)"),
    (["--set", "sinks[0=x"], "streamctl: --set sinks[0=x: unterminated "
     "bracket '[' in the path (at character 8)"),
    (["--set", '$.sources["a.b=1'], 'streamctl: --set $.sources["a.b=1: '
     'unterminated quote " in the path (at character 17)'),
    (["--set"], "streamctl: --set needs PATH=VALUE"),
]

# (arguments, expected stderr after "FILE: "); status 3.
PATH_CASES = [
    (["--set", "sinks[3].path=x"],
     "--set sinks[3].path=x: index 3 is past the end of $.sinks (1 item)"),
    (["--set", "name[0]=x"],
     "--set name[0]=x: $.name is a string, not an array"),
    (["--set", "max_batches.x=1"],
     "--set max_batches.x=1: $.max_batches is a number, not an object"),
]


def test_errors(tmp):
    path = write_job(tmp)
    for cmd in ("run", "validate"):
        for args, want in USAGE_CASES:
            rc, out, err = run([cmd] + args + [path], tmp)
            if args == ["--set"]:  # the file is then --set's argument
                rc, out, err = run([cmd, path] + args, tmp)
            check(rc == 2 and err.splitlines()[0] == want,
                  "%s %s: rc %d, stderr %r" % (cmd, args, rc, err))
            check(out == "", "%s %s: stdout %r" % (cmd, args, out))
        for args, want in PATH_CASES:
            rc, out, err = run([cmd] + args + [path], tmp)
            check(rc == 3 and err == "%s: %s\n" % (path, want),
                  "%s %s: rc %d, stderr %r" % (cmd, args, rc, err))
            check(out == "", "%s %s: stdout %r" % (cmd, args, out))


def test_help(tmp):
    for cmd in ("run", "validate"):
        rc, out, err = run(["help", cmd], tmp)
        check(rc == 0 and "--set PATH=VALUE" in out,
              "help %s: rc %d, %r" % (cmd, rc, out))


def main():
    global STREAMCTL
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    STREAMCTL = sys.argv[1]
    return joblib.run_cases([
        ("max_batches_and_arg", test_max_batches_and_arg),
        ("generator_options", test_generator_options),
        ("conf_dotted_key", test_conf_dotted_key),
        ("validate", test_validate),
        ("errors", test_errors),
        ("help", test_help),
    ])


if __name__ == "__main__":
    sys.exit(main())
