#!/usr/bin/env python3
"""The machine checks of `streamctl validate` and `streamctl run`: a
directory source's directory, a socket source's host, dead-letter files and
save_as_text_files prefixes, each reported with its JSON path as a problem
(exit 3) or a warning (`FILE: PATH: warning: MESSAGE`, exit 0 with
`FILE: valid`), as docs/job-file.md lists them.

Usage: test_job_env.py STREAMCTL SOURCE_ROOT

Table-driven: each row is a job (written into a fresh temporary directory
T, "{T}" in the row stands for it), the command, and the exact stderr lines
and exit status expected. Then: `--no-env` skips every check; a lookup of
a host that does not resolve stays within its 2 s bound, and one that a
silent resolver never answers is given up after 2 s (as root only); `run`
refuses a missing directory (exit 1, the message with its path) and
create_if_missing makes the directory (mkdir -p, mode 0755) and runs.
Rows about permission bits run streamctl as nobody (setpriv) when the
test runs as root, which ignores them.
"""

import json
import os
import re
import shutil
import socket
import stat
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

from itlib import check, log, main  # noqa

ROOT_USER = os.geteuid() == 0
# As root, permission rows run streamctl as nobody (root ignores the bits).
SETPRIV = shutil.which("setpriv")
AS_NOBODY = [SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups"]
# getaddrinfo's text for a name that does not exist: resolvers say
# EAI_NONAME, or EAI_AGAIN on a machine without any DNS server.
NO_NAME = r"(Name or service not known|Temporary failure in name resolution)"


def job(sources, sinks=None, **top):
    doc = {"name": "env", "batch_interval": "100ms", "sources": sources,
           "streams": {"up": {"from": sorted(sources)[0],
                              "ops": [{"op": "map", "fn": "upper"}]}},
           "sinks": sinks or [{"from": "up", "type": "console"}]}
    doc.update(top)
    return doc


def dirsrc(path, **extra):
    d = {"type": "directory", "path": path}
    d.update(extra)
    return d


def save(prefix):
    return [{"from": "up", "type": "save_as_text_files", "prefix": prefix}]


def fsink(path):
    return [{"from": "up", "type": "file", "path": path}]


def sock(host):
    return {"type": "socket", "host": host, "port": 9}


# (name, job, setup(T), expected stderr lines (regexes after "F: "), rc,
#  needs non-root)
ROWS = [
    ("directory exists", job({"a": dirsrc("{T}/in")}), ["in/"], [], 0,
     False),
    ("directory missing: warning",
     job({"a": dirsrc("{T}/nope")}), [],
     [re.escape('$.sources.a.path: warning: directory "{T}/nope" does not '
                'exist yet; it must exist when the job starts (or set '
                '"create_if_missing": true)')], 0, False),
    ("directory missing, create_if_missing: nothing",
     job({"a": dirsrc("{T}/nope/deeper", create_if_missing=True)}), [],
     [], 0, False),
    # a path naming one file reads that file (issue 13)
    ("directory is a file: fine",
     job({"a": dirsrc("{T}/file")}), ["file"], [], 0, False),
    ("directory is a device: problem",
     job({"a": dirsrc("/dev/null")}), [],
     [re.escape('$.sources.a.path: "/dev/null" is neither a directory nor '
                'a file')], 3, False),
    ("directory below a file: problem",
     job({"a": dirsrc("{T}/file/in")}), ["file"],
     [re.escape('$.sources.a.path: cannot use "{T}/file/in": Not a '
                'directory')], 3, False),
    ("directory unreadable: problem",
     job({"a": dirsrc("{T}/locked")}), ["locked/000"],
     [re.escape('$.sources.a.path: directory "{T}/locked" is not '
                'readable: Permission denied')], 3, True),
    ("dead letter in a missing directory: problem",
     job({"a": dirsrc("{T}/in", dead_letter="{T}/no/dl.jsonl")}), ["in/"],
     [re.escape('$.sources.a.dead_letter: cannot write the dead-letter '
                'file: directory "{T}/no" does not exist')], 3, False),
    ("dead letter is a directory: problem",
     job({"a": dirsrc("{T}/in", dead_letter="{T}/dl")}), ["in/", "dl/"],
     [re.escape('$.sources.a.dead_letter: cannot write the dead-letter '
                'file: "{T}/dl" is a directory')], 3, False),
    ("dead letter in a writable directory: nothing",
     job({"a": dirsrc("{T}/in", dead_letter="{T}/dl.jsonl")}), ["in/"],
     [], 0, False),
    ("dead letter not writable: problem",
     job({"a": dirsrc("{T}/in", dead_letter="{T}/ro/dl.jsonl")}),
     ["in/", "ro/555"],
     [re.escape('$.sources.a.dead_letter: cannot write the dead-letter '
                'file: directory "{T}/ro" is not writable: Permission '
                'denied')], 3, True),
    ("job's dead letter in a missing directory: problem",
     job({"a": dirsrc("{T}/in")}, dead_letter="{T}/no/dl.jsonl"), ["in/"],
     [re.escape('$.dead_letter: cannot write the dead-letter '
                'file: directory "{T}/no" does not exist')], 3, False),
    ("job's dead letter in a writable directory: nothing",
     job({"a": dirsrc("{T}/in")}, dead_letter="{T}/dl.jsonl"), ["in/"],
     [], 0, False),
    ("socket's dead letter in a missing directory: problem",
     job({"a": dict(sock("127.0.0.1"), dead_letter="{T}/no/dl.jsonl")}), [],
     [re.escape('$.sources.a.dead_letter: cannot write the dead-letter '
                'file: directory "{T}/no" does not exist')], 3, False),
    ("output prefix in a missing directory: problem",
     job({"a": dirsrc("{T}/in")}, save("{T}/out/counts")), ["in/"],
     [re.escape('$.sinks[0].prefix: cannot write output files '
                '"{T}/out/counts-*": directory "{T}/out" does not exist')],
     3, False),
    ("output prefix below a file: problem",
     job({"a": dirsrc("{T}/in")}, save("{T}/file/counts")), ["in/", "file"],
     [re.escape('$.sinks[0].prefix: cannot write output files '
                '"{T}/file/counts-*": "{T}/file" is not a directory')],
     3, False),
    ("output prefix in an existing directory: nothing",
     job({"a": dirsrc("{T}/in")}, save("{T}/out/counts")), ["in/", "out/"],
     [], 0, False),
    ("file sink below a file: problem",
     job({"a": dirsrc("{T}/in")}, fsink("{T}/file/out")), ["in/", "file"],
     [re.escape('$.sinks[0].path: cannot write the file sink\'s directory '
                '"{T}/file/out": "{T}/file" is not a directory')],
     3, False),
    ("file sink in missing directories: nothing (made at start)",
     job({"a": dirsrc("{T}/in")}, fsink("{T}/a/b/out")), ["in/"],
     [], 0, False),
    ("host resolves: nothing", job({"s": sock("127.0.0.1")}), [], [], 0,
     False),
    ("localhost resolves: nothing", job({"s": sock("localhost")}), [], [], 0,
     False),
    ("host does not resolve: warning",
     job({"s": sock("no-such-host.invalid")}), [],
     [re.escape('$.sources.s.host: warning: host "no-such-host.invalid" '
                'does not resolve (') + NO_NAME +
      re.escape('); the source keeps trying at run time')], 0, False),
    ("warnings and problems together: problems win",
     job({"a": dirsrc("{T}/nope"), "s": sock("no-such-host.invalid")},
         save("{T}/out/x")), [],
     [re.escape('$.sources.a.path: warning: directory "{T}/nope" does not '
                'exist yet; it must exist when the job starts (or set '
                '"create_if_missing": true)'),
      re.escape('$.sources.s.host: warning: host "no-such-host.invalid" '
                'does not resolve (') + NO_NAME +
      re.escape('); the source keeps trying at run time'),
      re.escape('$.sinks[0].prefix: cannot write output files '
                '"{T}/out/x-*": directory "{T}/out" does not exist')],
     3, False),
]


def setup(t, items):
    """items: "name" a file, "name/" a directory, "name/MODE" a directory
    with octal MODE."""
    for it in items:
        name, slash, mode = it.partition("/")
        p = os.path.join(t, name)
        if not slash:
            open(p, "w").close()
            continue
        os.mkdir(p)
        if mode:
            os.chmod(p, int(mode, 8))


def fill(obj, t):
    return json.loads(json.dumps(obj).replace("{T}", t))


def streamctl(*args, timeout=30, prefix=()):
    p = subprocess.run(list(prefix) + [STREAMCTL] + list(args),
                       capture_output=True, timeout=timeout)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def check_lines(what, got, want, t, f):
    lines = [ln for ln in got.split("\n") if ln]
    check(len(lines) == len(want), "%s: %d stderr lines, expected %d:\n%s"
          % (what, len(lines), len(want), got))
    for ln, w in zip(lines, want):
        pat = re.escape(f + ": ") + w.replace("\\{T\\}", re.escape(t)) \
            .replace("{T}", re.escape(t))
        check(re.fullmatch(pat, ln), "%s: stderr line\n  %s\ndoes not "
              "match\n  %s" % (what, ln, pat))


def run_row(row):
    name, doc, items, want, rc, non_root = row
    prefix = ()
    if non_root and ROOT_USER:
        if not SETPRIV:
            log("skip (root, and no setpriv to drop it): %s" % name)
            return
        prefix = AS_NOBODY
    t = tempfile.mkdtemp(prefix="sl-env-")
    try:
        os.chmod(t, 0o755)  # readable by nobody
        setup(t, items)
        f = os.path.join(t, "job.json")
        with open(f, "w") as fh:
            json.dump(fill(doc, t), fh)
        got_rc, out, err = streamctl("validate", f, prefix=prefix)
        check(got_rc == rc, "%s: exit status %d, expected %d; stderr:\n%s"
              % (name, got_rc, rc, err))
        check_lines(name, err, want, t, f)
        check(out == ("%s: valid\n" % f if rc == 0 else ""),
              "%s: stdout %r" % (name, out))
        # --no-env: none of it.
        got_rc, out, err = streamctl("validate", "--no-env", f,
                                     prefix=prefix)
        check((got_rc, out, err) == (0, "%s: valid\n" % f, ""),
              "%s: --no-env gave %r" % (name, (got_rc, out, err)))
        log("ok: %s" % name)
    finally:
        for d, _, _ in os.walk(t):
            os.chmod(d, 0o755)
        shutil.rmtree(t, ignore_errors=True)


def test_lookup_bound():
    t = tempfile.mkdtemp(prefix="sl-env-")
    try:
        f = os.path.join(t, "job.json")
        with open(f, "w") as fh:
            json.dump(job({"s": sock("no-such-host.invalid")}), fh)
        start = time.monotonic()
        rc, _, _ = streamctl("validate", f)
        took = time.monotonic() - start
        check(rc == 0, "validate of an unresolvable host: exit %d" % rc)
        check(took < 4.0, "validate took %.1f s (lookups are bounded to "
              "2 s)" % took)
    finally:
        shutil.rmtree(t, ignore_errors=True)


def test_slow_resolver():
    """A resolver that never answers: the lookup is abandoned after 2 s
    with its warning. Needs root (a private mount namespace whose
    /etc/resolv.conf names a silent server on 127.0.0.53:53); skipped
    otherwise."""
    unshare = shutil.which("unshare")
    if not ROOT_USER or not unshare:
        log("skip (needs root and unshare): the silent resolver")
        return
    t = tempfile.mkdtemp(prefix="sl-env-")
    socks = []
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, kind)
            socks.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.53", 53))
            if kind == socket.SOCK_STREAM:
                s.listen()
    except OSError as e:
        log("skip (cannot serve 127.0.0.53:53: %s): the silent resolver" % e)
        for s in socks:
            s.close()
        shutil.rmtree(t, ignore_errors=True)
        return
    try:
        conf = os.path.join(t, "resolv.conf")
        with open(conf, "w") as fh:
            fh.write("nameserver 127.0.0.53\noptions timeout:30 attempts:1\n")
        f = os.path.join(t, "job.json")
        with open(f, "w") as fh:
            json.dump(job({"s": sock("silent.example.com")}), fh)
        start = time.monotonic()
        p = subprocess.run(
            [unshare, "-m", "sh", "-c",
             'mount --bind "$1" /etc/resolv.conf && exec "$2" validate "$3"',
             "sh", conf, STREAMCTL, f], capture_output=True, timeout=30)
        took = time.monotonic() - start
        err = p.stderr.decode("utf-8", "replace")
        if p.returncode != 0 and "mount" in err:
            log("skip (no private mount namespace: %s): the silent "
                "resolver" % err.strip())
            return
        check(p.returncode == 0, "silent resolver: exit %d: %s"
              % (p.returncode, err))
        check_lines("silent resolver", err,
                    [re.escape('$.sources.s.host: warning: looking up host '
                               '"silent.example.com" did not finish within '
                               '2 s; the source keeps trying at run time')],
                    t, f)
        check(1.9 < took < 4.0, "silent resolver: validate took %.1f s, "
              "expected about 2 s" % took)
        log("ok: a silent resolver is given up after 2 s (%.1f s)" % took)
    finally:
        for s in socks:
            s.close()
        shutil.rmtree(t, ignore_errors=True)


def test_run():
    t = tempfile.mkdtemp(prefix="sl-env-")
    try:
        f = os.path.join(t, "job.json")
        with open(f, "w") as fh:
            json.dump(job({"a": dirsrc(t + "/nope")}, max_batches=2), fh)
        rc, out, err = streamctl("run", f)
        check(rc == 1, "run with a missing directory: exit %d:\n%s"
              % (rc, err))
        check_lines("run, missing directory", err,
                    [re.escape('$.sources.a.path: directory "{T}/nope" '
                               'does not exist (create it, or set '
                               '"create_if_missing": true)')], t, f)
        # create_if_missing: mkdir -p, mode 0755 (umask 022), and it runs.
        deep = os.path.join(t, "made", "in")
        with open(f, "w") as fh:
            json.dump(job({"a": dirsrc(deep, create_if_missing=True)},
                          max_batches=2), fh)
        old = os.umask(0o022)
        try:
            rc, out, err = streamctl("run", f)
        finally:
            os.umask(old)
        check(rc == 0, "run with create_if_missing: exit %d:\n%s"
              % (rc, err))
        check(os.path.isdir(deep), "%s was not created" % deep)
        mode = stat.S_IMODE(os.stat(deep).st_mode)
        check(mode == 0o755, "%s has mode %o, expected 755" % (deep, mode))
        log("ok: run refuses a missing directory, create_if_missing "
            "makes it")
    finally:
        shutil.rmtree(t, ignore_errors=True)


def test():
    for row in ROWS:
        run_row(row)
    test_lookup_bound()
    test_slow_resolver()
    test_run()


if __name__ == "__main__":
    main(test)
