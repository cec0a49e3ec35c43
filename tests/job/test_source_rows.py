#!/usr/bin/env python3
"""Sources parse records into typed rows (issue 12): `schema` and
`parse_mode` on directory, queue and socket sources.

Usage: test_source_rows.py STREAMCTL SOURCE_ROOT

Each case runs `streamctl run` on a job file whose sink is the console's
json format (rows print as JSON arrays, columns in schema order) and checks
the rows, the dead-letter file (reason "malformed", file and line) and, for
fail_fast, the exit status and the message naming the file and line. The
socket case feeds a real `ncat -lk` (skipped without ncat).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from joblib import Failure, run_cases, run_streamctl  # noqa: E402

STREAMCTL = None


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def write_job(tmp, source, extra_conf=None, interval="200ms", batches=2):
    conf = {"clock": "manual", "max_batches": batches,
            "dead_letter": os.path.join(tmp, "dead.jsonl")}
    conf.update(extra_conf or {})
    job = {"name": "rows", "batch_interval": interval, "conf": conf,
           "sources": {"src": source}, "streams": {},
           "sinks": [{"from": "src", "type": "console", "format": "json"}]}
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    return path


def rows_of(out):
    """The rows of every console json line, each as the list of its
    columns' values (the console prints a row as an object of its columns
    in schema order)."""
    rows = []
    for line in out.splitlines():
        if line.startswith("{"):
            rows.extend(list(r.values()) if isinstance(r, dict) else r
                        for r in json.loads(line)["records"])
    return rows


def dead_letters(tmp):
    p = os.path.join(tmp, "dead.jsonl")
    if not os.path.exists(p):
        return []
    with open(p) as f:
        return [json.loads(x) for x in f if x.strip()]


CSV = "a,1,2.5\nb,x,3\nc,3\n"
SCHEMA = "name string, n long, x double, _corrupt_record string"


def dir_job(tmp, data, fmt, schema, mode, name="f.txt"):
    d = os.path.join(tmp, "in")
    os.mkdir(d)
    with open(os.path.join(d, name), "w") as f:
        f.write(data)
    src = {"type": "directory", "path": d, "include_existing": True,
           "format": fmt, "schema": schema, "parse_mode": mode}
    return write_job(tmp, src)


def run(tmp, job, want_rc=0):
    rc, out, err = run_streamctl(STREAMCTL, ["run", job], tmp, 60)
    check(rc == want_rc, "exit %d, want %d; stderr %r" % (rc, want_rc,
                                                          err[-800:]))
    return out, err


def case_csv_permissive(tmp):
    out, _ = run(tmp, dir_job(tmp, CSV, "csv", SCHEMA, "permissive"))
    check(rows_of(out) == [["a", 1, 2.5, None], ["b", None, 3.0, "b,x,3"],
                           ["c", 3, None, "c,3"]], "rows %r" % rows_of(out))
    dl = dead_letters(tmp)
    check([(d["reason"], d["line"], d["text"]) for d in dl] ==
          [("malformed", 2, "b,x,3"), ("malformed", 3, "c,3")],
          "dead letters %r" % dl)
    check(all(d["file"].endswith("f.txt") and d["origin"] == {"source": "src"}
              for d in dl), "dead letters %r" % dl)


def case_csv_drop(tmp):
    out, _ = run(tmp, dir_job(tmp, CSV, "csv", "name string, n long, "
                              "x double", "drop_malformed"))
    check(rows_of(out) == [["a", 1, 2.5]], "rows %r" % rows_of(out))
    check(len(dead_letters(tmp)) == 2, "dead letters %r" % dead_letters(tmp))


def case_csv_fail_fast(tmp):
    out, err = run(tmp, dir_job(tmp, CSV, "csv", SCHEMA, "fail_fast"), 1)
    check("f.txt' line 2" in err and "fail_fast" in err and
          'cannot read "x" as long' in err, "stderr %r" % err[-800:])
    check(rows_of(out) == [], "rows %r" % rows_of(out))
    check(len(dead_letters(tmp)) == 1, "dead letters %r" % dead_letters(tmp))


def case_json_schema(tmp):
    data = ('{"ts": "2024-01-02T09:30:00.123Z", "sym": "A", "px": 1.5}\n'
            '{"sym": "B"}\n'
            'not json\n')
    out, _ = run(tmp, dir_job(tmp, data, "json",
                              "ts timestamp, sym string, px double",
                              "permissive"))
    check(rows_of(out) == [["2024-01-02T09:30:00.123Z", "A", 1.5],
                           [None, "B", None],
                           [None, None, None]], "rows %r" % rows_of(out))
    dl = dead_letters(tmp)
    check([d["line"] for d in dl] == [3], "dead letters %r" % dl)


def case_lines_schema(tmp):
    out, _ = run(tmp, dir_job(tmp, "x y\nz\n", "lines", "value string",
                              "permissive"))
    check(rows_of(out) == [["x y"], ["z"]], "rows %r" % rows_of(out))


def case_lines_two_columns(tmp):
    job = dir_job(tmp, "x\n", "lines", "a string, b long", "permissive")
    rc, out, err = run_streamctl(STREAMCTL, ["run", job], tmp, 60)
    check(rc != 0 and "one string column" in err,
          "exit %d stderr %r" % (rc, err[-800:]))


def case_schema_and_columns(tmp):
    job = write_job(tmp, {"type": "directory", "path": tmp, "format": "csv",
                          "schema": "a string", "columns": "a"})
    rc, out, err = run_streamctl(STREAMCTL, ["validate", job], tmp, 60)
    check(rc != 0 and '"schema" and "columns" exclude each other' in err,
          "exit %d stderr %r" % (rc, err[-800:]))


def case_columns_in_sql(tmp):
    """`columns` is the names-only shorthand of a schema of strings: a SQL
    stream reads them by name (not one `value` column), while the source's
    own records stay untyped tuples as before."""
    d = os.path.join(tmp, "in")
    os.mkdir(d)
    with open(os.path.join(d, "f.csv"), "w") as f:
        f.write("'p|q'|1\nr|2\n")
    job = write_job(tmp, {"type": "directory", "path": d,
                          "include_existing": True, "format": "csv",
                          "separator": "|", "quote": "'",
                          "columns": ["a", "b"]})
    with open(job) as f:
        j = json.load(f)
    j["streams"] = {"q": {"sql": "SELECT b, length(a) AS n, a FROM src"}}
    j["sinks"].append({"from": "q", "type": "console", "format": "json"})
    with open(job, "w") as f:
        json.dump(j, f)
    out, _ = run(tmp, job)
    got = {}
    for line in out.splitlines():
        if line.startswith("{"):
            o = json.loads(line)
            got.setdefault(o["stream"], []).extend(o["records"])
    check(got.get("q") == [{"b": "1", "n": 3, "a": "p|q"},
                           {"b": "2", "n": 1, "a": "r"}], "rows %r" % got)
    check(got.get("src") == [["p|q", "1"], ["r", "2"]], "records %r" % got)


def case_bad_schema(tmp):
    job = dir_job(tmp, CSV, "csv", "a dobule", "permissive")
    rc, out, err = run_streamctl(STREAMCTL, ["validate", job], tmp, 60)
    check(rc != 0 and "$.sources.src.schema" in err and "dobule" in err,
          "exit %d stderr %r" % (rc, err[-800:]))


def case_fingerprint_schema(tmp):
    os.mkdir(os.path.join(tmp, "in"))
    ckpt = os.path.join(tmp, "ckpt")

    def job(schema):
        return write_job(tmp, {"type": "directory",
                               "path": os.path.join(tmp, "in"),
                               "format": "csv", "schema": schema},
                         {"checkpoint.path": ckpt}, batches=1)
    run(tmp, job("a string, b long"))
    rc, out, err = run_streamctl(STREAMCTL, ["run", job("a string, b double")],
                                 tmp, 60)
    check(rc != 0 and "schema changed from a string, b long to a string, b double" in err,
          "exit %d stderr %r" % (rc, err[-800:]))


def queue_job(tmp, mode):
    return write_job(tmp, {"type": "queue", "parse_mode": mode,
                           "schema": "sym string, px double",
                           "batches": [[{"sym": "A", "px": 1.5},
                                        {"px": "x"}, 7,
                                        '{"sym": "C"}']]})


def case_queue_objects(tmp):
    out, _ = run(tmp, queue_job(tmp, "permissive"))
    check(rows_of(out) == [["A", 1.5], [None, None], [None, None],
                           ["C", None]], "rows %r" % rows_of(out))
    check([d["text"] for d in dead_letters(tmp)] == ['{"px":"x"}', "7"],
          "dead letters %r" % dead_letters(tmp))


def case_queue_drop_and_fail(tmp):
    out, _ = run(tmp, queue_job(tmp, "drop_malformed"))
    check(rows_of(out) == [["A", 1.5], ["C", None]], "rows %r" % rows_of(out))
    out, err = run(tmp, queue_job(tmp, "fail_fast"), 1)
    check("malformed record 1 of queue entry 0" in err, "stderr %r" % err)


def case_malformed_logged(tmp):
    """Malformed records are never silent: with no dead-letter file a
    warning names the source, the record and what became of it, and the
    count (the first, then every 1000th), for queue and directory
    sources alike."""
    job = queue_job(tmp, "drop_malformed")
    with open(job) as f:
        j = json.load(f)
    del j["conf"]["dead_letter"]
    with open(job, "w") as f:
        json.dump(j, f)
    out, err = run(tmp, job)
    check(rows_of(out) == [["A", 1.5], ["C", None]], "rows %r" % rows_of(out))
    check("warn: src source: malformed record 1 of queue entry 0, dropped "
          "(parse_mode drop_malformed)" in err and
          "1 malformed so far" in err and "2 malformed so far" not in err,
          "stderr %r" % err[-800:])
    os.remove(job)
    out, err = run(tmp, dir_job(tmp, CSV, "csv", SCHEMA, "permissive"))
    check("f.txt' line 2, kept with NULLs (parse_mode permissive): " in err,
          "stderr %r" % err[-800:])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def case_socket_csv(tmp):
    if not shutil.which("ncat"):
        print("skip: socket_csv: no ncat")
        return
    port = free_port()
    ncat = subprocess.Popen(["ncat", "-lk", "127.0.0.1", str(port)],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        job = write_job(tmp, {"type": "socket", "host": "127.0.0.1",
                              "port": port, "format": "csv",
                              "schema": "w string, n long, "
                              "_corrupt_record string"},
                        {"clock": "system", "max_batches": 0,
                         "receiver.wal": False}, interval="200ms")
        proc = subprocess.Popen([STREAMCTL, "run", job], cwd=tmp,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        rows, deadline = [], time.time() + 20
        try:
            time.sleep(1.0)  # connected by then (reconnects otherwise)
            ncat.stdin.write(b"a,1\nb,zz\nc,3\n")
            ncat.stdin.flush()
            os.set_blocking(proc.stdout.fileno(), False)
            buf = b""
            while len(rows) < 3 and time.time() < deadline:
                time.sleep(0.1)
                chunk = proc.stdout.read() or b""
                buf += chunk
                rows = rows_of(buf.decode(errors="replace").rsplit("\n", 1)[0])
        finally:
            proc.terminate()
            proc.communicate(timeout=20)
        check(rows == [["a", 1, None], ["b", None, "b,zz"], ["c", 3, None]],
              "rows %r" % rows)
        dl = dead_letters(tmp)
        check([(d["reason"], d["text"]) for d in dl] ==
              [("malformed", "b,zz")], "dead letters %r" % dl)
    finally:
        ncat.kill()
        ncat.wait()


CASES = [(n[5:], f) for n, f in sorted(globals().items())
         if n.startswith("case_")]

if __name__ == "__main__":
    STREAMCTL = os.path.abspath(sys.argv[1])
    sys.exit(run_cases(CASES))
