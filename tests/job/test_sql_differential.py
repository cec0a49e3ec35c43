#!/usr/bin/env python3
"""Differential test of `streamctl sql` against Python's sqlite3.

Random tables (longs, doubles drawn as k/8 so that sums are exact, short
lower-case strings, NULLs) and random queries from a grammar kept to where
Spark SQL 3.5 (ANSI off) and SQLite agree; each query runs through
`streamctl sql --format json` and through sqlite3 on the same rows, and
the results must be equal (as multisets, or in order under ORDER BY ...
LIMIT; doubles to 1e-9 relative; booleans as 0/1).

Left out of the grammar because the two engines differ (each pinned to
Spark's result by a unit test of its own in tests/unit/sql): `/` of two
longs, `%` of doubles, substr at position 0, CAST of malformed text,
integer overflow (values stay small), case-insensitive LIKE (SQLite's is;
strings here are lower case, so LIKE agrees), concat() (SQLite has ||
only), stddev and variance (SQLite has none), regular expressions, bare
non-grouped columns (SQLite allows them, Spark refuses).

usage: test_sql_differential.py STREAMCTL [SRCDIR] [--seed N] [--queries N]
A failure prints the seed, the query and both results; rerun with --seed.
"""

import json
import math
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile

STREAMCTL = None
SCHEMAS = {
    "t1": [("a", "long"), ("b", "long"), ("x", "double"), ("s", "string")],
    "t2": [("a", "long"), ("c", "long"), ("y", "double"), ("u", "string")],
}
WORDS = ["ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen"]


def rows_for(rng, schema, n):
    rows = []
    for _ in range(n):
        row = []
        for _, t in schema:
            if rng.random() < 0.15:
                row.append(None)
            elif t == "long":
                row.append(rng.randint(-20, 20))
            elif t == "double":
                row.append(rng.randint(-160, 160) / 8.0)
            else:
                row.append(rng.choice(WORDS) + rng.choice(["", "s", "x"]))
        rows.append(row)
    return rows


class Gen:
    """Queries over one table (or t1 joined with t2) from a small
    grammar; every expression is typed so that both engines agree."""

    def __init__(self, rng):
        self.r = rng

    def cols(self, tables, t):
        out = []
        for tab in tables:
            for name, typ in SCHEMAS[tab]:
                if typ == t:
                    out.append("%s.%s" % (tab, name) if len(tables) > 1
                               else name)
        return out

    def num(self, tables, depth=0):
        r = self.r
        k = r.random()
        if depth > 2 or k < 0.35:
            return r.choice(self.cols(tables, "long") +
                            self.cols(tables, "double"))
        if k < 0.45:
            return str(r.randint(-5, 5))
        if k < 0.55:
            return "%d.%d" % (r.randint(0, 3), r.choice([0, 5, 25, 125]))
        if k < 0.8:
            return "(%s %s %s)" % (self.num(tables, depth + 1),
                                   r.choice(["+", "-", "*"]),
                                   self.num(tables, depth + 1))
        if k < 0.87:
            return "abs(%s)" % self.num(tables, depth + 1)
        if k < 0.94:
            return "coalesce(%s, %s)" % (self.num(tables, depth + 1),
                                         self.num(tables, depth + 1))
        return "CASE WHEN %s THEN %s ELSE %s END" % (
            self.pred(tables, depth + 1), self.num(tables, depth + 1),
            self.num(tables, depth + 1))

    def text(self, tables, depth=0):
        r = self.r
        k = r.random()
        if depth > 1 or k < 0.5:
            return r.choice(self.cols(tables, "string"))
        if k < 0.6:
            return "'%s'" % r.choice(WORDS)
        if k < 0.75:
            return "(%s || %s)" % (self.text(tables, depth + 1),
                                   self.text(tables, depth + 1))
        if k < 0.9:
            return "%s(%s)" % (r.choice(["upper", "lower"]),
                               self.text(tables, depth + 1))
        return "coalesce(%s, %s)" % (self.text(tables, depth + 1),
                                     self.text(tables, depth + 1))

    def pred(self, tables, depth=0):
        r = self.r
        k = r.random()
        if depth > 2 or k < 0.35:
            return "%s %s %s" % (self.num(tables, depth + 1),
                                 r.choice(["=", "<>", "<", "<=", ">",
                                           ">="]),
                                 self.num(tables, depth + 1))
        if k < 0.45:
            return "%s %s %s" % (self.text(tables, depth + 1),
                                 r.choice(["=", "<>", "<", ">"]),
                                 self.text(tables, depth + 1))
        if k < 0.55:
            return "%s IS %sNULL" % (r.choice(self.cols(tables, "long") +
                                              self.cols(tables, "string")),
                                     r.choice(["", "NOT "]))
        if k < 0.65:
            return "%s %sIN (%s)" % (
                r.choice(self.cols(tables, "long")), r.choice(["", "NOT "]),
                ", ".join(r.choice([str(r.randint(-5, 5)), "NULL"])
                          if r.random() < 0.9 else "NULL"
                          for _ in range(r.randint(1, 4))))
        if k < 0.72:
            lo = r.randint(-10, 5)
            return "%s %sBETWEEN %d AND %d" % (
                self.num(tables, depth + 1), r.choice(["", "NOT "]), lo,
                lo + r.randint(0, 10))
        if k < 0.8:
            return "%s %sLIKE '%s'" % (
                r.choice(self.cols(tables, "string")),
                r.choice(["", "NOT "]),
                r.choice(["%a%", "b%", "%s", "_o_", "%", "c_t%"]))
        if k < 0.9:
            return "(%s %s %s)" % (self.pred(tables, depth + 1),
                                   r.choice(["AND", "OR"]),
                                   self.pred(tables, depth + 1))
        return "NOT (%s)" % self.pred(tables, depth + 1)

    def source(self):
        r = self.r
        k = r.random()
        if k < 0.7:
            t = r.choice(["t1", "t2"])
            return [t], t
        kind = r.choice(["JOIN", "LEFT JOIN"])
        return ["t1", "t2"], "t1 %s t2 ON t1.a = t2.a" % kind

    def query(self):
        r = self.r
        tables, frm = self.source()
        where = (" WHERE " + self.pred(tables)) if r.random() < 0.6 else ""
        if r.random() < 0.4:
            return self.aggregate(tables, frm, where)
        n = r.randint(1, 4)
        items = []
        for i in range(n):
            e = (self.num(tables) if r.random() < 0.6
                 else self.text(tables) if r.random() < 0.7
                 else self.pred(tables))
            items.append("%s AS c%d" % (e, i))
        distinct = "DISTINCT " if r.random() < 0.15 else ""
        q = "SELECT %s%s FROM %s%s" % (distinct, ", ".join(items), frm,
                                       where)
        if r.random() < 0.25:
            # a total order: every column, then LIMIT
            q += " ORDER BY %s LIMIT %d" % (
                ", ".join("c%d%s" % (i, r.choice(["", " DESC"]))
                          for i in range(n)), r.randint(0, 12))
            return q, True
        return q, False

    def aggregate(self, tables, frm, where):
        r = self.r
        keys = []
        if r.random() < 0.75:
            pool = self.cols(tables, "long") + self.cols(tables, "string")
            keys = r.sample(pool, r.randint(1, min(2, len(pool))))
        aggs = []
        for _ in range(r.randint(1, 3)):
            k = r.random()
            if k < 0.2:
                aggs.append("count(*)")
            elif k < 0.35:
                aggs.append("count(%s)" % r.choice(
                    self.cols(tables, "long") + self.cols(tables, "string")))
            elif k < 0.45:
                aggs.append("count(DISTINCT %s)" % r.choice(
                    self.cols(tables, "long") + self.cols(tables, "string")))
            elif k < 0.65:
                aggs.append("sum(%s)" % self.num(tables, 2))
            elif k < 0.75:
                aggs.append("avg(%s)" % r.choice(self.cols(tables, "long") +
                                                  self.cols(tables,
                                                            "double")))
            else:
                aggs.append("%s(%s)" % (r.choice(["min", "max"]),
                                        r.choice(self.cols(tables, "long") +
                                                 self.cols(tables, "double") +
                                                 self.cols(tables,
                                                           "string"))))
        items = ["%s AS k%d" % (k, i) for i, k in enumerate(keys)]
        items += ["%s AS g%d" % (a, i) for i, a in enumerate(aggs)]
        q = "SELECT %s FROM %s%s" % (", ".join(items), frm, where)
        if keys:
            q += " GROUP BY " + ", ".join(keys)
            if r.random() < 0.3:
                q += " HAVING count(*) %s %d" % (r.choice([">", ">=", "<"]),
                                                 r.randint(0, 3))
        return q, False


def write_tables(d, tables):
    paths = {}
    for name, rows in tables.items():
        p = os.path.join(d, name + ".csv")
        with open(p, "w") as f:
            for row in rows:
                f.write(",".join("" if v is None else str(v)
                                 for v in row) + "\n")
        paths[name] = p
    return paths


def sqlite_db(tables):
    db = sqlite3.connect(":memory:")
    for name, rows in tables.items():
        cols = ", ".join("%s %s" % (c, "INTEGER" if t == "long" else
                                    "REAL" if t == "double" else "TEXT")
                         for c, t in SCHEMAS[name])
        db.execute("CREATE TABLE %s (%s)" % (name, cols))
        db.executemany("INSERT INTO %s VALUES (%s)" %
                       (name, ", ".join("?" * len(SCHEMAS[name]))), rows)
    # SQLite's LIKE ignores ASCII case by default; Spark's does not.
    db.execute("PRAGMA case_sensitive_like = ON")
    return db


def norm(v):
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    return v


def same_value(a, b):
    a, b = norm(a), norm(b)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    return a == b


def key(row):
    return [(0, "") if v is None else (1, norm(v)) if not isinstance(
        norm(v), str) else (2, v) for v in row]


def same_rows(got, want, ordered):
    if len(got) != len(want):
        return False
    if not ordered:
        got, want = sorted(got, key=key), sorted(want, key=key)
    return all(len(g) == len(w) and all(same_value(x, y)
                                        for x, y in zip(g, w))
               for g, w in zip(got, want))


def run_sluice(paths, query):
    args = [STREAMCTL, "sql", "--format", "json"]
    for name, p in paths.items():
        schema = ", ".join("%s %s" % c for c in SCHEMAS[name])
        args += ["--table", "%s=%s:%s" % (name, p, schema)]
    r = subprocess.run(args + [query], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        return None, r.stderr
    rows = [list(json.loads(line).values())
            for line in r.stdout.splitlines() if line.strip()]
    return rows, r.stderr


def main():
    global STREAMCTL
    argv = sys.argv[1:]
    STREAMCTL = argv[0]
    seed = random.randrange(1 << 30)
    nq = 500
    if "--seed" in argv:
        seed = int(argv[argv.index("--seed") + 1])
    if "--queries" in argv:
        nq = int(argv[argv.index("--queries") + 1])
    print("seed %d, %d queries (rerun: --seed %d)" % (seed, nq, seed))
    rng = random.Random(seed)
    tables = {"t1": rows_for(rng, SCHEMAS["t1"], rng.randint(0, 40)),
              "t2": rows_for(rng, SCHEMAS["t2"], rng.randint(0, 25))}
    d = tempfile.mkdtemp(prefix="sl-sqldiff-")
    failures = 0
    try:
        paths = write_tables(d, tables)
        db = sqlite_db(tables)
        gen = Gen(rng)
        for i in range(nq):
            q, ordered = gen.query()
            want = [list(r) for r in db.execute(q).fetchall()]
            got, err = run_sluice(paths, q)
            if got is None or not same_rows(got, want, ordered):
                failures += 1
                print("MISMATCH %d (seed %d): %s\n  sluice: %s\n  sqlite: %s"
                      % (i, seed, q, got if got is not None else err.strip(),
                         want))
                if failures >= 10:
                    break
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if failures:
        sys.exit("%d mismatches (seed %d)" % (failures, seed))
    print("%d queries agree" % nq)


main()
