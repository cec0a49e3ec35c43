#!/usr/bin/env python3
"""The configuration table of docs/programming-guide.md (section 5) must be
exactly what `streamctl conf --markdown` prints from libsluice's property
table: a property added to src/core/conf.c without regenerating the guide
fails this test, with the difference and the command that fixes it.

usage: test_doc_conf_table.py STREAMCTL SOURCE_ROOT [--fix]

--fix rewrites the guide's table with the command's output (the one step
to regenerate the table after adding or changing a property).
"""

import difflib
import os
import subprocess
import sys

GUIDE = os.path.join("docs", "programming-guide.md")
SECTION = "## 5. Configuration"
HEADER = "| name | type | default | range | description |"


def table_span(lines):
    """(start, end) of the table's lines in section 5 of the guide."""
    try:
        sec = lines.index(SECTION)
        start = lines.index(HEADER, sec)
    except ValueError:
        sys.exit("FAIL: %s has no %r table under %r" % (GUIDE, HEADER,
                                                       SECTION))
    nxt = [i for i in range(sec + 1, start) if lines[i].startswith("## ")]
    if nxt:
        sys.exit("FAIL: the table is not in %r" % SECTION)
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return start, end


def check_plain(streamctl, md):
    """`streamctl conf` lists the same properties, one "NAME (TYPE, default
    ...)" line and one indented description line each; a bad flag is a
    usage error (2)."""
    out = subprocess.run([streamctl, "conf"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=30, check=False)
    lines = out.stdout.decode("utf-8").splitlines()
    names = [l.split(" ", 1)[0] for l in lines[0::2]]
    md_names = [row.split("`")[1] for row in md[2:]]
    if out.returncode != 0 or names != md_names or not all(
            l.startswith("    ") for l in lines[1::2]):
        sys.exit("FAIL: streamctl conf: exit %d, names %r, expected %r"
                 % (out.returncode, names[:5], md_names[:5]))
    bad = subprocess.run([streamctl, "conf", "--bogus"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=30, check=False)
    if bad.returncode != 2 or b"unknown option '--bogus'" not in bad.stderr:
        sys.exit("FAIL: streamctl conf --bogus: exit %d, stderr %r"
                 % (bad.returncode, bad.stderr[:300]))


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[3:] not in ([], ["--fix"]):
        sys.exit(__doc__)
    streamctl, root = sys.argv[1], sys.argv[2]
    fix = sys.argv[3:] == ["--fix"]
    out = subprocess.run([streamctl, "conf", "--markdown"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=30, check=False)
    if out.returncode != 0 or out.stderr:
        sys.exit("FAIL: streamctl conf --markdown: exit %d, stderr %r"
                 % (out.returncode, out.stderr[:500]))
    want = out.stdout.decode("utf-8").splitlines()
    if len(want) < 3 or want[0] != HEADER:
        sys.exit("FAIL: streamctl conf --markdown printed no table: %r"
                 % want[:3])
    check_plain(streamctl, want)
    path = os.path.join(root, GUIDE)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    start, end = table_span(lines)
    have = lines[start:end]
    if have == want:
        print("ok: the guide's table has the %d properties of the table"
              % (len(want) - 2))
        return 0
    if fix:
        lines[start:end] = want
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        print("rewrote the table of %s (%d properties)"
              % (path, len(want) - 2))
        return 0
    sys.stdout.writelines(difflib.unified_diff(
        [l + "\n" for l in have], [l + "\n" for l in want],
        GUIDE, "streamctl conf --markdown"))
    print("FAIL: the guide's configuration table differs from the property "
          "table; regenerate it with\n  python3 "
          "tests/job/test_doc_conf_table.py build/tools/streamctl . --fix")
    return 1


if __name__ == "__main__":
    sys.exit(main())
