#!/usr/bin/env python3
"""`streamctl sql` (docs/streamctl.md "sql") on real files: a CSV with a
header (every column a string), a CSV with :SCHEMA (no header line), JSON lines (types
from the first record), a text file; each --format; a GROUP BY over a
generated CSV of about 12 MB (read in several splits) checked against
Python's sqlite3 on the same data; malformed lines counted on stderr;
usage errors (status 2) and query errors (status 1, line and column).

usage: test_streamctl_sql.py STREAMCTL SOURCE_ROOT
"""

import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile

STREAMCTL = None
TIMEOUT = 120


def check(cond, msg):
    if not cond:
        print("FAIL:", msg)
        sys.exit(1)


def sql(*args):
    p = subprocess.run([STREAMCTL, "sql", *args], capture_output=True,
                       text=True, timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def expect(args, want_out, want_rc=0, stderr_has=None):
    rc, out, err = sql(*args)
    check(rc == want_rc, f"{args}: status {rc}, want {want_rc}: {err}")
    if want_out is not None:
        check(out == want_out, f"{args}: stdout\n{out!r}\nwant\n{want_out!r}")
    if stderr_has is not None:
        check(stderr_has in err, f"{args}: stderr {err!r} lacks {stderr_has!r}")
    return out, err


def small_files(d):
    with open(os.path.join(d, "people.csv"), "w") as f:
        f.write("name,city,amount\nann,paris,10\nbob,rome,5\n"
                "cid,paris,7\ndan,\"oslo\n")
    with open(os.path.join(d, "people_data.csv"), "w") as f:
        f.write("ann,paris,10\nbob,rome,5\ncid,paris,7\n")
    with open(os.path.join(d, "ev.jsonl"), "w") as f:
        f.write('{"id": 1, "tag": "a", "v": 1.5}\n'
                '{"id": 2, "tag": "b", "v": null}\n'
                '{"id": 3, "tag": "a", "v": 2.0}\n')
    with open(os.path.join(d, "lines.txt"), "w") as f:
        f.write("the cat\nthe dog sat\n")


def test_small(d):
    p = os.path.join(d, "people.csv")
    # CSV with a header: strings, so sum() reads them as doubles (Spark)
    expect(["--table", f"t={p}", "SELECT city, count(*) AS n, sum(amount) "
            "FROM t WHERE city IS NOT NULL GROUP BY city ORDER BY city"],
           "+-----+---+-----------+\n"
           "| city|  n|sum(amount)|\n"
           "+-----+---+-----------+\n"
           "|paris|  2|       17.0|\n"
           "| rome|  1|        5.0|\n"
           "+-----+---+-----------+\n",
           stderr_has="streamctl sql: 1 malformed line in t (" + p + ")")
    # CSV with a schema, JSON output; table names are case-insensitive
    pd = os.path.join(d, "people_data.csv")
    expect(["--table", f"People={pd}:name string, city string, amount long",
            "--format", "json",
            "SELECT name, amount * 2 AS a2 FROM PEOPLE WHERE amount > 6 "
            "ORDER BY name"],
           '{"name":"ann","a2":20}\n{"name":"cid","a2":14}\n')
    # JSON lines with inferred types, CSV output with a header
    j = os.path.join(d, "ev.jsonl")
    expect(["--table", f"ev={j}", "--format", "csv",
            "SELECT tag, count(*), max(v) FROM ev GROUP BY tag ORDER BY tag"],
           "tag,count(*),max(v)\na,2,2.0\nb,1,\n")
    # a text file, explode, a join with the JSON table, --max-rows
    t = os.path.join(d, "lines.txt")
    expect(["--table", f"l={t}", "--max-rows", "2", "--format", "csv",
            "SELECT explode(split(value, ' ')) AS word FROM l"],
           "word\nthe\ncat\n")
    expect(["--table", f"l={t}", "--table", f"ev={j}", "--format", "json",
            "SELECT w.word, ev.id FROM (SELECT explode(split(value, ' ')) "
            "AS word FROM l) w LEFT JOIN ev ON length(w.word) = ev.id "
            "ORDER BY word, id"],
           '{"word":"cat","id":3}\n{"word":"dog","id":3}\n'
           '{"word":"sat","id":3}\n{"word":"the","id":3}\n'
           '{"word":"the","id":3}\n')


def test_errors(d):
    p = os.path.join(d, "people.csv")
    expect(["--table", "t", "SELECT 1"], "", 2,
           "--table 't': expected NAME=FILE[:SCHEMA]")
    expect(["--bogus", "SELECT 1"], "", 2, "unknown option '--bogus'")
    expect([], "", 2, "a query is required")
    expect(["--table", f"t={p}:name strin", "SELECT 1"], "", 2, "unknown type")
    expect(["--table", f"t={d}/missing.csv", "SELECT 1"], "", 1,
           "cannot read")
    expect(["--table", f"t={p}", "SELECT nme FROM t"], "", 1,
           "streamctl sql: line 1, column 8: cannot resolve 'nme' given "
           "input columns: [t.name, t.city, t.amount]\n"
           "SELECT nme FROM t\n       ^\n")
    expect(["SELECT x FROM nope"], "", 1,
           "line 1, column 15: table or view not found: nope")
    expect(["--table", f"t={p}", "SELECT city, amount FROM t GROUP BY city"],
           "", 1, "expression 'amount' is neither present in the group by, "
           "nor is it an aggregate function")


def test_against_sqlite(d):
    seed = int(os.environ.get("SL_SQL_SEED", random.randrange(1 << 30)))
    print("seed", seed)
    rnd = random.Random(seed)
    path = os.path.join(d, "big.csv")
    rows = []
    with open(path, "w") as f:
        for i in range(400000):
            k = rnd.choice(["alpha", "beta", "gamma", "delta", ""])
            g = rnd.randrange(-3, 4)
            v = rnd.randrange(-1000, 1000)
            x = rnd.randrange(-64, 64) / 8  # exact sums in doubles
            rows.append((k if k else None, g, v, x))
            f.write(f"{k},{g},{v},{x}\n")
    check(os.path.getsize(path) > 4 << 20, "big.csv is below one split")
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (k TEXT, g INTEGER, v INTEGER, x REAL)")
    db.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    q = ("SELECT k, g, count(*), sum(v), min(v), max(x), sum(x) FROM t "
         "WHERE v > -900 GROUP BY k, g HAVING count(*) > 10 ORDER BY k, g")
    want = db.execute(q).fetchall()
    out, _ = expect(["--table", f"t={path}:k string, g long, v long, x double",
                     "--format", "json", q], None)
    got = [json.loads(line) for line in out.splitlines()]
    check(len(got) == len(want), f"{len(got)} groups, sqlite3 {len(want)}")
    for g, w in zip(got, want):
        vals = list(g.values())
        check(vals == list(w), f"group {vals} != sqlite3 {list(w)}")
    print(len(got), "groups equal to sqlite3's")


def main():
    global STREAMCTL
    STREAMCTL = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        small_files(d)
        test_small(d)
        test_errors(d)
        test_against_sqlite(d)
    print("ok")


if __name__ == "__main__":
    main()
