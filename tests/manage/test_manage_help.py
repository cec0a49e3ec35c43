#!/usr/bin/env python3
"""Every command's --help against `streamctl help COMMAND` (the same text)
and against docs/streamctl.1: the man page names every command and every
option the help names (checked on the page's text with roff's escapes
undone)."""

import os
import re
import subprocess
import sys
import tempfile

from mglib import check, main

STREAMCTL, ROOT = sys.argv[1], sys.argv[2]
COMMANDS = ["run", "validate", "conf", "checkpoint", "sql", "start", "stop",
            "status", "list", "logs", "progress", "query", "restart",
            "completion"]
OPTION_RE = re.compile(r"(?<![\w-])(--?[a-z][a-z-]*)")


def sc(*args):
    p = subprocess.run([STREAMCTL] + list(args), capture_output=True,
                       text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def man_text():
    with open(os.path.join(ROOT, "docs", "streamctl.1")) as f:
        text = f.read()
    return text.replace("\\-", "-").replace("\\fR", "").replace("\\fI", "")


def commands_and_options():
    man = man_text()
    for cmd in COMMANDS:
        rc, out, err = sc(cmd, "--help")
        check(rc == 0 and out.startswith("usage: streamctl " + cmd),
              "%s --help: %d %r" % (cmd, rc, err))
        rc2, out2, _ = sc("help", cmd)
        check(rc2 == 0 and out2 == out, "help %s differs from --help" % cmd)
        check(re.search(r"^\.SS %s\b" % cmd, man, re.M),
              "no .SS %s in docs/streamctl.1" % cmd)
        for opt in sorted(set(OPTION_RE.findall(out))):
            check(re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(opt), man),
                  "%s --help names %s, docs/streamctl.1 does not" % (cmd, opt))


def main_help():
    man = man_text()
    rc, out, _ = sc("--help")
    check(rc == 0, "--help %d" % rc)
    for cmd in COMMANDS:
        check(re.search(r"^  %s\b" % cmd, out, re.M),
              "streamctl --help does not list %s" % cmd)
    for opt in sorted(set(OPTION_RE.findall(out))):
        check(re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(opt), man),
              "--help names %s, docs/streamctl.1 does not" % opt)
    rc, out, _ = sc("completion", "bash")
    check(rc == 0 and "complete -F _streamctl streamctl" in out,
          "completion %d" % rc)
    for cmd in COMMANDS:
        check(cmd in out, "completion lacks %s" % cmd)
    with tempfile.TemporaryDirectory(prefix="sl_compl_") as tmp:
        for name in ("jobA", "jobB", "other"):
            os.mkdir(os.path.join(tmp, name))
        script = out + ('COMP_WORDS=(streamctl --run-dir %s stop j); '
                        'COMP_CWORD=4; _streamctl; echo "${COMPREPLY[@]}"; '
                        'COMP_WORDS=(streamctl stop --); COMP_CWORD=2; '
                        '_streamctl; echo "${COMPREPLY[@]}"' % tmp)
        p = subprocess.run(["bash", "-c", script], capture_output=True,
                           text=True, timeout=30)
        lines = p.stdout.splitlines()
        check(p.returncode == 0 and lines[0].split() == ["jobA", "jobB"] and
              set(lines[1].split()) >= {"--timeout", "--now"},
              "completion gave %r %r" % (p.stdout, p.stderr))


if __name__ == "__main__":
    main([("commands_and_options", commands_and_options),
          ("main_help", main_help)])
