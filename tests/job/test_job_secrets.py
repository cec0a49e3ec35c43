#!/usr/bin/env python3
"""Secrets and the environment in job files, through `streamctl validate`
as a user runs it: `${ENV:NAME}` references replaced at load (a missing
variable or a malformed reference a problem with its JSON path, `$${` a
literal `${`), the "ui" object's checks with their paths and hints, and a
secret key's value (ui.token, from the file, the environment or --set)
never printed.

Usage: test_job_secrets.py STREAMCTL SOURCE_ROOT

Table-driven: each row is a job document (merged over a valid base job),
the environment added, the --set arguments, and the exact stderr lines
and exit status expected.
"""

import json
import os
import subprocess
import sys
import tempfile

if len(sys.argv) != 3:
    sys.stderr.write("usage: %s STREAMCTL SOURCE_ROOT\n" % sys.argv[0])
    sys.exit(2)
STREAMCTL = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from itlib import check, log, main  # noqa

SECRET = "hunter2-Secret-Value-42"
SHORT = "tiny-Secret-7"


def base(**top):
    doc = {"name": "sec", "batch_interval": "100ms",
           "sources": {"in": {"type": "socket", "host": "localhost",
                              "port": 9}},
           "sinks": [{"from": "in", "type": "console"}]}
    doc.update(top)
    return doc


TOKEN_SHORT = ("$.ui.token: the token is shorter than 16 characters (its "
               "value is not shown: it is a secret)")
BAD_REF = ("invalid ${ENV:NAME} reference: NAME is a letter or '_', then "
           "letters, digits and '_', and a '}' closes it (write $${ for a "
           "literal ${)")

# (what, document, environment, --set args, exit status, stderr lines)
ROWS = [
    ("references replaced",
     base(name="${ENV:SEC_NAME}", batch_interval="${ENV:SEC_BI}",
          ui={"port": 8080, "token": "${ENV:SEC_TOKEN}"}),
     {"SEC_NAME": "from-env", "SEC_BI": "250ms", "SEC_TOKEN": SECRET},
     [], 0, []),
    ("a reference inside text, two of them",
     base(batch_interval="${ENV:SEC_N}${ENV:SEC_UNIT}"),
     {"SEC_N": "5", "SEC_UNIT": "s"}, [], 0, []),
    ("the value replaced is what is checked",
     base(batch_interval="${ENV:SEC_BI}"), {"SEC_BI": "soon"}, [], 3,
     ['$.batch_interval: invalid duration "soon" (an integer and a unit: '
      'ms, s, m, h)']),
    ("a missing variable",
     base(sources={"in": {"type": "socket", "host": "h${ENV:SEC_NOPE}",
                          "port": 9}}),
     {}, [], 3,
     ["$.sources.in.host: environment variable SEC_NOPE is not set (read "
      "by ${ENV:SEC_NOPE})"]),
    ("$${ is a literal ${",
     base(batch_interval="$${ENV:SEC_BI}"), {"SEC_BI": "1s"}, [], 3,
     ['$.batch_interval: invalid duration "${ENV:SEC_BI}" (an integer and '
      'a unit: ms, s, m, h)']),
    ("a malformed reference",
     base(sources={"in": {"type": "socket", "host": "${ENV:1X}",
                          "port": 9}}),
     {}, [], 3, ["$.sources.in.host: " + BAD_REF]),
    ("references in --set values too",
     base(), {"SEC_BI": "2s"}, ["--set", "batch_interval=${ENV:SEC_BI}"],
     0, []),
    ("ui: every field",
     base(ui={"port": 65535, "bind": "0.0.0.0", "token": SECRET}), {}, [],
     0, []),
    ("ui: port out of range, unknown field with a hint",
     base(ui={"port": 0, "bnd": "127.0.0.1"}), {}, [], 3,
     ["$.ui.port: 0 is out of range (1..65535)",
      '$.ui.bnd: unknown field (did you mean "bind"?)']),
    ("ui: port missing, bind not a string",
     base(ui={"bind": 7}), {}, [], 3,
     ["$.ui.port: missing required field",
      "$.ui.bind: expected a string, got number"]),
    ("ui: an empty bind",
     base(ui={"port": 1, "bind": ""}), {}, [], 3,
     ['$.ui.bind: the address is empty (leave "bind" out for 127.0.0.1)']),
    ("ui: not an object", base(ui=8080), {}, [], 3,
     ["$.ui: expected an object, got number"]),
    ("ui: a short token is not shown",
     base(ui={"port": 1, "token": SHORT}), {}, [], 3, [TOKEN_SHORT]),
    ("ui: a short token from the environment is not shown",
     base(ui={"port": 1, "token": "${ENV:SEC_TOKEN}"}),
     {"SEC_TOKEN": SHORT}, [], 3, [TOKEN_SHORT]),
    ("ui: a token of another type",
     base(ui={"port": 1, "token": 12345678901234567}), {}, [], 3,
     ["$.ui.token: expected a string, got number"]),
    ("--set of a secret key that does not fit: the value is not shown",
     base(ui={"port": 1, "token": SECRET}), {},
     ["--set", "ui.token.x=" + SHORT], 3,
     ["--set ui.token.x=<redacted>: $.ui.token is a string, not an "
      "object"]),
]


def run_row(tmp, row):
    what, doc, env, sets, want_rc, want_err = row
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    full_env = dict(os.environ)
    full_env.update(env)
    p = subprocess.run([STREAMCTL, "validate", "--no-env"] + sets + [path],
                       capture_output=True, text=True, env=full_env,
                       timeout=30)
    got = [ln[len(path) + 2:] if ln.startswith(path + ": ") else ln
           for ln in p.stderr.splitlines()]
    check(p.returncode == want_rc and got == want_err,
          "%s: exit %d, stderr %r; expected exit %d, stderr %r"
          % (what, p.returncode, got, want_rc, want_err))
    for s in (SECRET, SHORT):
        check(s not in p.stdout + p.stderr,
              "%s: the secret %r was printed" % (what, s))
    log("ok: %s" % what)


def test_bad_set_syntax():
    """A --set the command line refuses hides a secret key's value too."""
    p = subprocess.run([STREAMCTL, "validate", "--set",
                        "ui.token[=" + SHORT, "x.json"],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 2, "bad --set: exit %d" % p.returncode)
    check("--set ui.token[=<redacted>: " in p.stderr and
          SHORT not in p.stderr,
          "bad --set of a secret key: stderr %r" % p.stderr)
    log("ok: a malformed --set of a secret key")


def test():
    with tempfile.TemporaryDirectory() as tmp:
        for row in ROWS:
            run_row(tmp, row)
    test_bad_set_syntax()


main(test)
