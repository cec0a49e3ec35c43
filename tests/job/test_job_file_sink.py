#!/usr/bin/env python3
"""The file sink through `streamctl run`:

- formats: a queue of a string with a comma and quotes, a pair, a tuple
  with null and a double, one batch, one partition, written as json, csv
  and text by three sinks: each part file's bytes are exact, and the
  manifest _sluice_metadata/1 (24-byte checked header, then JSON) lists
  it with its size and crc32;
- a re-run replaces: a generator job of 3 batches in 2 partitions run
  twice into one directory (the second run's batches have the same ids)
  leaves the same set of files with the same bytes, never more; a staging
  file and a part file of a batch without manifest, left in between as
  by a crash, are gone after the second run.
"""

import json
import os
import struct
import sys
import zlib

import joblib
from joblib import Failure

STREAMCTL = None


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def run(job, tmp):
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    rc, out, err = joblib.run_streamctl(STREAMCTL, ["run", path], tmp, 60)
    check(rc == 0, "exit %d, stderr %r" % (rc, err[-2000:]))


def manifest(out, batch):
    with open(os.path.join(out, "_sluice_metadata", str(batch)), "rb") as f:
        data = f.read()
    check(data[:4] == b"SLFM", "manifest magic %r" % data[:4])
    length = struct.unpack("<Q", data[8:16])[0]
    check(length == len(data) - 24, "manifest length %d of %d bytes"
          % (length, len(data)))
    return json.loads(data[24:])


def snapshot(out):
    files = {}
    for name in sorted(os.listdir(out)):
        path = os.path.join(out, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                files[name] = f.read()
    return files


def case_formats(tmp):
    batch = ["a,\"b\"", ["k", 2], [1, None, 2.5]]
    job = {
        "name": "formats", "batch_interval": "1s", "clock": "manual",
        "max_batches": 1,
        "sources": {"q": {"type": "queue", "partitions": 1,
                          "batches": [batch]}},
        "sinks": [{"from": "q", "type": "file", "path": "j"},
                  {"from": "q", "type": "file", "path": "c",
                   "format": "csv", "name": "as_csv"},
                  {"from": "q", "type": "file", "path": "t",
                   "format": "text", "name": "as_text"}]}
    run(job, tmp)
    want = {
        "j/part-00000001-00000.json":
            '"a,\\"b\\""\n["k",2]\n[1,null,2.5]\n',
        "c/part-00000001-00000.csv": '"a,""b"""\nk,2\n1,,2.5\n',
        "t/part-00000001-00000.txt": 'a,"b"\n(k,2)\n[1, null, 2.5]\n',
    }
    for rel, text in want.items():
        with open(os.path.join(tmp, rel), "rb") as f:
            got = f.read()
        check(got == text.encode(), "%s: %r, expected %r" % (rel, got, text))
        out, name = rel.split("/")
        m = manifest(os.path.join(tmp, out), 1)
        check(m["files"] == [{"path": name, "bytes": len(got),
                              "crc32": zlib.crc32(got)}],
              "%s: manifest %r" % (out, m))


def case_rerun(tmp):
    job = {
        "name": "rerun", "batch_interval": "1s", "clock": "manual",
        "max_batches": 3,
        "sources": {"g": {"type": "generator", "lines_per_batch": 9,
                          "partitions": 2}},
        "sinks": [{"from": "g", "type": "file", "path": "out"}]}
    out = os.path.join(tmp, "out")
    run(job, tmp)
    first = snapshot(out)
    check(len(first) == 6, "files after the first run: %r" % sorted(first))
    for b in (1, 2, 3):
        names = [f["path"] for f in manifest(out, b)["files"]]
        check(names == ["part-%08d-%05d.json" % (b, p) for p in (0, 1)],
              "manifest %d lists %r" % (b, names))
    with open(os.path.join(out, ".part-00000002-00000.json.tmp"), "w") as f:
        f.write("half\n")
    with open(os.path.join(out, "part-00000004-00000.json"), "w") as f:
        f.write("\"no manifest\"\n")
    run(job, tmp)
    second = snapshot(out)
    check(second == first, "after the re-run: %r, expected %r"
          % (sorted(second), sorted(first)))


def case_rows(tmp):
    """Rows of a stream with a schema: json writes an object of the
    columns (timestamps as ISO text), csv typed text with RFC 4180 quoting
    and NULL as an empty field; a stream in complete mode is refused."""
    indir = os.path.join(tmp, "in")
    os.makedirs(indir)
    with open(os.path.join(indir, "x.csv"), "w") as f:
        f.write('a,1,2024-01-02T09:30:00Z\n"b ""q""",,\n')
    with open(os.path.join(indir, "y.json"), "w") as f:
        f.write('{"k": "", "a": ["x", "y"]}\n{"k": null}\n')
    out = os.path.join(tmp, "out")
    run({"name": "rows", "batch_interval": "1s", "clock": "manual",
         "max_batches": 1,
         "sources": {"s": {"type": "directory", "path": indir,
                           "include_existing": True, "format": "csv",
                           "schema": "name string, n long, ts timestamp",
                           "path_glob_filter": "*.csv"},
                     "t": {"type": "directory", "path": indir,
                           "include_existing": True, "format": "json",
                           "schema": "k string, a array<string>",
                           "path_glob_filter": "*.json"}},
         "sinks": [{"from": "s", "type": "file", "format": "json",
                    "path": os.path.join(out, "j")},
                   {"from": "s", "type": "file", "format": "csv",
                    "path": os.path.join(out, "c"), "name": "c"},
                   {"from": "t", "type": "file", "format": "csv",
                    "path": os.path.join(out, "e")}]}, tmp)

    def lines(d):
        got = []
        for name in sorted(os.listdir(os.path.join(out, d))):
            if name.startswith("part-"):
                with open(os.path.join(out, d, name)) as f:
                    got += f.read().splitlines()
        return sorted(got)
    js = [json.loads(x) for x in lines("j")]
    check(sorted(js, key=lambda r: r["name"]) ==
          [{"name": "a", "n": 1, "ts": "2024-01-02T09:30:00.000Z"},
           {"name": 'b "q"', "n": None, "ts": None}], "json rows %r" % js)
    check(lines("c") == ['"b ""q""",,', "a,1,2024-01-02 09:30:00"],
          "csv rows %r" % lines("c"))
    # as streamctl sql's csv: an empty string is "" (Spark's emptyValue),
    # NULL the empty field, an array its quoted show() text
    check(lines("e") == ['"","[x, y]"', ','], "csv rows %r" % lines("e"))
    path = os.path.join(tmp, "complete.json")
    with open(path, "w") as f:
        json.dump({"name": "c", "batch_interval": "1s", "clock": "manual",
                   "max_batches": 1,
                   "sources": {"src": {"type": "queue", "schema": "k string",
                                       "batches": [[{"k": "a"}]]}},
                   "streams": {"q": {"sql": "SELECT k, count(*) AS n FROM "
                                            "src GROUP BY k",
                                     "output_mode": "complete"}},
                   "sinks": [{"from": "q", "type": "file",
                              "path": os.path.join(out, "q")}]}, f)
    rc, _, err = joblib.run_streamctl(STREAMCTL, ["run", path], tmp, 60)
    check(rc == 1 and "append output mode only" in err,
          "complete mode: exit %d %r" % (rc, err[-500:]))


def main():
    global STREAMCTL
    STREAMCTL = sys.argv[1]
    return joblib.run_cases([("formats", case_formats),
                             ("rerun", case_rerun), ("rows", case_rows)],
                            (Failure,))


if __name__ == "__main__":
    sys.exit(main())
