#!/usr/bin/env python3
"""network_wordcount rejects bad command lines with a message naming the
problem and exit status 2, and prints its usage for -h/--help."""

import subprocess
import sys

from itlib import check, log, main


def run(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=20)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test():
    wc = sys.argv[1]
    bad = [
        ([], "HOST and PORT"),
        (["127.0.0.1"], "HOST and PORT"),
        (["127.0.0.1", "0"], "invalid port '0'"),
        (["127.0.0.1", "65536"], "invalid port '65536'"),
        (["127.0.0.1", "-5"], "invalid port '-5'"),
        (["127.0.0.1", "http"], "invalid port 'http'"),
        (["127.0.0.1", "99x"], "invalid port '99x'"),
        (["127.0.0.1", "9999", "--batch", "10"], "invalid --batch '10'"),
        (["127.0.0.1", "9999", "--batch", "soon"], "invalid --batch 'soon'"),
        (["127.0.0.1", "9999", "--batch", "0ms"], "invalid --batch '0ms'"),
        (["127.0.0.1", "9999", "--batch"], "--batch needs a value"),
        (["127.0.0.1", "9999", "--workers", "-1"], "invalid --workers"),
        (["127.0.0.1", "9999", "--frobnicate"], "unknown option"),
        (["127.0.0.1", "9999", "extra"], "unexpected argument 'extra'"),
    ]
    for args, msg in bad:
        rc, out, err = run([wc] + args)
        syntax = not any(a in args for a in ("--batch", "--workers")) or \
            args[-1] == "--batch"
        log("%r -> %d: %s" % (args, rc, err.strip().splitlines()[0]
                              if err.strip() else "(no message)"))
        check(rc == 2, "%r: exit status %d, expected 2" % (args, rc))
        check(msg in err, "%r: stderr %r lacks %r" % (args, err, msg))
        # The usage follows mistakes of form, not bad values.
        if syntax:
            check("usage:" in err, "%r: no usage on stderr" % args)
    # A name that does not resolve (.invalid never does, RFC 6761) fails
    # the job at start, with the reason in the log.
    rc, out, err = run([wc, "no-such-host.invalid", "9999", "--batch",
                        "200ms"])
    log("unresolvable host -> %d: %s" % (rc, err.strip()))
    check(rc == 1, "unresolvable host: exit status %d, expected 1" % rc)
    check("cannot resolve no-such-host.invalid" in err,
          "unresolvable host: no reason on stderr: %r" % err)
    for flag in ("-h", "--help"):
        rc, out, err = run([wc, flag])
        check(rc == 0, "%s: exit status %d" % (flag, rc))
        check(out.startswith("usage: network_wordcount HOST PORT"),
              "%s: usage not on stdout: %r" % (flag, out))


if __name__ == "__main__":
    main(test)
