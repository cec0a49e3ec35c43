#!/usr/bin/env python3
"""Compressed files: .gz and .zst are decompressed, corrupt ones reported
("directory source: skipped file '<path>': <reason>") and skipped.

All renamed in within one interval, split_bytes 64k:
- good.gz: CRLF lines and a last line without newline;
- multi.gz: two gzip members concatenated;
- big.gz: 20,000 lines of incompressible text, more than split_bytes
  compressed (compressed files are never split: every line exactly once);
- trunc.gz (half of a gzip stream): "truncated gzip data"; files are
  decompressed as a stream, so the whole lines before the cut may have been
  output (as Spark's ignoreCorruptFiles keeps what was read): a prefix of
  its lines "t1", "t2", ..., never a cut line;
- garbage.gz (not gzip at all): reported with zlib's message;
- with the zstd command: good.zst, multi.zst (two frames), trunc.zst
  ("truncated zstd data"), garbage.zst ("corrupt zstd data: ..."); without
  it those are skipped with a message;
- plain.txt, read as usual.
Checked: exactly the good files' lines, each once; exactly one report per
bad file and none for the others; SIGINT exits 0.
"""

import gzip
import os
import random
import shutil
import subprocess

from dirlib import (Job, Tree, check, log, now_ms, run, set_budget,
                    skipped_lines)

BATCH_MS = 300


def reasons(err, path):
    prefix = "directory source: skipped file '%s': " % path
    return [l.split(prefix, 1)[1] for l in skipped_lines(err) if prefix in l]


def zstd(tree, name, data):
    src = tree.staged(name + ".in", data)
    out = os.path.join(tree.stage, name)
    subprocess.run(["zstd", "-q", "-f", "-o", out, src], check=True,
                   timeout=30)
    os.unlink(src)
    with open(out, "rb") as f:
        return f.read()


def test():
    set_budget(30)
    rnd = random.Random(7)
    big_lines = ["big:%05d:%016x" % (i, rnd.getrandbits(64))
                 for i in range(20000)]
    files = {}  # name -> bytes
    expected = []
    files["good.gz"] = gzip.compress(b"g1\r\ng2\r\n\r\ng3")
    expected += ["g1", "g2", "", "g3"]
    files["multi.gz"] = gzip.compress(b"m1\nm2\n") + gzip.compress(b"m3\n")
    expected += ["m1", "m2", "m3"]
    files["big.gz"] = gzip.compress(("\n".join(big_lines) + "\n").encode())
    check(len(files["big.gz"]) > 64 * 1024, "big.gz is too small")
    expected += big_lines
    g = gzip.compress(b"t1\nt2\n" * 100)
    files["trunc.gz"] = g[:len(g) // 2]
    files["garbage.gz"] = b"this is not gzip\n"
    files["plain.txt"] = b"p1\np2\n"
    expected += ["p1", "p2"]
    bad = {"trunc.gz": "truncated gzip data", "garbage.gz": None}
    have_zstd = shutil.which("zstd") is not None
    with Tree("comp") as tree, \
            Job(tree, "compressed", {"split_bytes": "64k"}, BATCH_MS) as job:
        if have_zstd:
            files["good.zst"] = zstd(tree, "good.zst", b"z1\nz2\r\nz3")
            expected += ["z1", "z2", "z3"]
            files["multi.zst"] = (zstd(tree, "m1.zst", b"y1\n") +
                                  zstd(tree, "m2.zst", b"y2\n"))
            expected += ["y1", "y2"]
            z = zstd(tree, "t.zst", b"t1\nt2\n" * 1000)
            files["trunc.zst"] = z[:len(z) // 2]
            files["garbage.zst"] = b"\x28\xb5\x2f\xfd garbage"
            bad["trunc.zst"] = "truncated zstd data"
            bad["garbage.zst"] = "corrupt zstd data: "
        else:
            log("zstd command not found: the .zst sub-cases are skipped")
        for name, data in files.items():
            tree.staged(name, data)
        job.wait_started()
        job.sleep_to_mid(0.5)
        for name in files:
            tree.move_in(os.path.join(tree.stage, name))
        t = now_ms()
        job.wait_after(t, 4, timeout=10)
        err = job.stop()
        recs = job.records()
        # The truncated files' whole lines before the cut (t1, t2, t1, ...).
        cut = [r for r in recs if r in ("t1", "t2")]
        recs = [r for r in recs if r not in ("t1", "t2")]
        check(0 <= cut.count("t1") - cut.count("t2") <= 2,
              "the truncated files gave %d t1 and %d t2: no prefix of their "
              "lines" % (cut.count("t1"), cut.count("t2")))
        check(sorted(recs) == sorted(expected),
              "%d records, expected %d; missing %r, unexpected %r" % (
                  len(recs), len(expected),
                  sorted(set(expected) - set(recs))[:5],
                  sorted(set(recs) - set(expected))[:5]))
        for name, why in bad.items():
            path = os.path.join(tree.inbox, name)
            got = reasons(err, path)
            check(len(got) == 1 and got[0] and
                  (why is None or got[0].startswith(why)),
                  "%s: expected one report%s, got %r" % (
                      name, "" if why is None else " %r" % why,
                      skipped_lines(err)))
        check(len(skipped_lines(err)) == len(bad), "unexpected reports: %r"
              % skipped_lines(err))


run(test)
