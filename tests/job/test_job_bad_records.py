#!/usr/bin/env python3
"""on_bad_record: what a job's map does with a value its built-in function
cannot handle (to_number of "abc", lower of a number), end to end through
`streamctl run` on the manual clock.

Usage: test_job_bad_records.py STREAMCTL SOURCE_ROOT

One job, two batches from a queue: stream n maps to_number (op 0; "abc"
and "X" are bad), stream l maps identity then lower (op 1; 7 is bad).

- fail (the default, and said explicitly): exit 1, the message names the
  function and the value; no dead-letter file is made;
- skip: exit 0, the good records only, one rate-limited warning (all bad
  records come within 10 s) naming the first bad value and the count;
- dead_letter: exit 0, the good records only, and the dead-letter file
  holds exactly the three bad values in the one dead-letter shape (origin
  {"stream", "op"}, reason "bad_value", the value as JSON, the batch's
  id (1, 2); time_ms the wall clock while the job ran);
- validate: on_bad_record "dead_letter" without a dead-letter file is a
  problem (exit 3); an unknown policy is one too.
- skip and dead_letter end with one stderr line of the counts
  (sl_context_bad_record_stats).

Case every operator: flat_map (split_words), filter (odd "on" value of
records that are no pairs; lt "b" of values it cannot compare is no bad
value, they are not kept, as documented) and fanout (identity, lower: a
value lower cannot handle leaves nothing of the record, not even
identity's result) follow on_bad_record as map does: dead_letter writes
exactly one dead letter per bad record (origin the op, the batch id), skip
counts them, fail (the default) fails the job naming the predicate.

Case failed write: a dead-letter file that cannot be written (/dev/full)
loses the dead letters but not the job: exit 0, one rate-limited error
naming the file and the reason, and the counts say 3 failed.

Case socket too long: a socket source (receiver.max_line_bytes 16, the
job's top-level dead_letter) reads from a server on 127.0.0.1 that sends
lines over the limit in pieces (one found only in its second piece, one
over 1 KiB sent in three pieces, one not UTF-8 ending in CRLF, one cut by
the closed connection): each is one "too_long" dead letter with origin
{"source": "s"}, batch null, its first 1 KiB (and "truncated": true when
longer, "text_b64" when not UTF-8); the short lines are output.
"""

import base64
import json
import os
import socket
import sys
import threading
import time

if len(sys.argv) != 3:
    sys.stderr.write("usage: %s STREAMCTL SOURCE_ROOT\n" % sys.argv[0])
    sys.exit(2)
STREAMCTL = os.path.abspath(sys.argv[1])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from joblib import Failure, run_cases, run_streamctl  # noqa: E402

GOOD = ['{"batch":1,"time_ms":1000,"stream":"n","records":[1,2.5]}',
        '{"batch":1,"time_ms":1000,"stream":"l","records":["1","abc","2.5"]}',
        '{"batch":2,"time_ms":2000,"stream":"n","records":[7]}',
        '{"batch":2,"time_ms":2000,"stream":"l","records":["x"]}']
TO_NUMBER = "function to_number: needs a number or a string holding one, got "
DEAD = [
    {"batch": 1, "origin": {"stream": "n", "op": 0},
     "reason": "bad_value", "error": TO_NUMBER + '"abc"', "value": "abc"},
    {"batch": 2, "origin": {"stream": "l", "op": 1},
     "reason": "bad_value", "error": "function lower: needs a string, got 7",
     "value": 7},
    {"batch": 2, "origin": {"stream": "n", "op": 0},
     "reason": "bad_value", "error": TO_NUMBER + '"X"', "value": "X"},
]


def check(cond, what):
    if not cond:
        raise Failure(what)


def job(tmp, **top):
    doc = {"name": "bad", "batch_interval": "1s", "clock": "manual",
           "max_batches": 2,
           "sources": {"q": {"type": "queue",
                             "batches": [["1", "abc", "2.5"], ["X", 7]]}},
           "streams": {
               "n": {"from": "q", "ops": [{"op": "map", "fn": "to_number"}]},
               "l": {"from": "q", "ops": [{"op": "map", "fn": "identity"},
                                          {"op": "map", "fn": "lower"}]}},
           "sinks": [{"from": "n", "type": "console", "format": "json"},
                     {"from": "l", "type": "console", "format": "json"}]}
    doc.update(top)
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def warnings(err):
    return [l for l in err.splitlines() if "on_bad_record)" in l]


def case_fail(tmp):
    dead = os.path.join(tmp, "dead.jsonl")
    for top in ({}, {"on_bad_record": "fail", "dead_letter": dead}):
        rc, out, err = run_streamctl(STREAMCTL, ["run", job(tmp, **top)],
                                     tmp, 30)
        check(rc == 1, "%r: exit %d: %s" % (top, rc, err[-1000:]))
        check('job "bad" failed: ' in err and TO_NUMBER + '"abc"' in err,
              "%r: stderr %r" % (top, err[-1000:]))
        check(not os.path.exists(dead), "%r: a dead-letter file" % top)


def counts_line(skipped, lettered, written, failed, dropped=0, name="bad",
                rejected=0):
    return ('streamctl: job "%s": bad records: %d skipped, %d dead-lettered, '
            '%d rejected, 0 late; dead letters: %d written, %d failed, '
            '%d dropped' % (name, skipped, lettered, rejected, written, failed,
                            dropped))


def check_counts(err, *counts, **kw):
    want = counts_line(*counts, **kw)
    got = [l for l in err.splitlines() if "bad records:" in l]
    check(got == [want], "counts %r, expected %r" % (got, want))


def case_skip(tmp):
    rc, out, err = run_streamctl(
        STREAMCTL, ["run", job(tmp, on_bad_record="skip")], tmp, 30)
    check(rc == 0, "exit %d: %s" % (rc, err[-1000:]))
    check(out.splitlines() == GOOD, "stdout %r" % out)
    check_counts(err, 3, 0, 0, 0)
    check(warnings(err) == [
        'sluice: warn: stream n op 0: ' + TO_NUMBER + '"abc"; record '
        'skipped (1 bad records so far, on_bad_record)'],
        "warnings %r" % warnings(err))


def case_dead_letter(tmp):
    dead = os.path.join(tmp, "dead.jsonl")
    before = int(time.time() * 1000)
    rc, out, err = run_streamctl(
        STREAMCTL, ["run", job(tmp, on_bad_record="dead_letter",
                               dead_letter=dead)], tmp, 30)
    after = int(time.time() * 1000)
    check(rc == 0, "exit %d: %s" % (rc, err[-1000:]))
    check(out.splitlines() == GOOD, "stdout %r" % out)
    check(len(warnings(err)) == 1 and "record dead-lettered (1 bad records "
          "so far" in warnings(err)[0], "warnings %r" % warnings(err))
    check_counts(err, 0, 3, 3, 0)
    with open(dead, "rb") as f:
        lines = f.read().decode("utf-8").splitlines()
    got = [json.loads(l) for l in lines]
    for g in got:
        t = g.pop("time_ms", None)
        check(isinstance(t, int) and before <= t <= after,
              "time_ms %r not in [%d, %d]" % (t, before, after))
    got.sort(key=lambda g: (g["batch"], g["origin"]["stream"]))
    check(got == DEAD, "dead letters %r, expected %r" % (got, DEAD))
    # Key order as documented, for readers of the raw file.
    check(all(l.startswith('{"time_ms":') and '"batch":' in l
              for l in lines), "lines %r" % lines)


def case_validate(tmp):
    for top, msg in (({"on_bad_record": "dead_letter"},
                      '$.on_bad_record: on_bad_record "dead_letter" needs a '
                      'dead-letter file: set the top-level "dead_letter"'),
                     ({"on_bad_record": "drop"}, "$.on_bad_record: ")):
        rc, out, err = run_streamctl(STREAMCTL, ["validate", job(tmp, **top)],
                                     tmp, 30)
        check(rc == 3, "%r: exit %d: %s" % (top, rc, err))
        check(msg in err, "%r: stderr %r" % (top, err))


def ops_job(tmp, ops=None, **top):
    doc = {"name": "ops", "batch_interval": "1s", "clock": "manual",
           "max_batches": 2,
           "sources": {"q": {"type": "queue",
                             "batches": [["a b", "C", ["x", 2]], [7, "d e"]]}},
           "streams": {
               "w": {"from": "q",
                     "ops": [{"op": "flat_map", "fn": "split_words"}]},
               "p": {"from": "q", "ops": [{"op": "filter", "fn": {
                   "name": "lt", "arg": "b"}}]},
               "o": {"from": "q", "ops": [{"op": "flat_map", "fn": {
                   "name": "fanout", "arg": ["identity", "lower"]}}]},
               "v": {"from": "q", "ops": [{"op": "filter", "fn": {
                   "name": "odd", "on": "value"}}]}},
           "sinks": []}
    if ops:
        doc["streams"] = {k: doc["streams"][k] for k in ops}
    doc["sinks"] = [{"from": k, "type": "console", "format": "json"}
                    for k in doc["streams"]]
    doc.update(top)
    path = os.path.join(tmp, "ops.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


OPS_OUT = [
    '{"batch":1,"time_ms":1000,"stream":"w","records":["a","b","C"]}',
    '{"batch":1,"time_ms":1000,"stream":"p","records":["a b","C"]}',
    '{"batch":1,"time_ms":1000,"stream":"o","records":["a b","a b","C","c"]}',
    '{"batch":1,"time_ms":1000,"stream":"v","records":[]}',
    '{"batch":2,"time_ms":2000,"stream":"w","records":["d","e"]}',
    '{"batch":2,"time_ms":2000,"stream":"p","records":[]}',
    '{"batch":2,"time_ms":2000,"stream":"o","records":["d e","d e"]}',
    '{"batch":2,"time_ms":2000,"stream":"v","records":[]}']


def ops_dead(batch, stream, error, value):
    return {"batch": batch, "origin": {"stream": stream, "op": 0},
            "reason": "bad_value", "error": error, "value": value}


XS = ["x", 2]
OPS_DEAD = sorted([
    ops_dead(1, "w", 'function split_words: needs a string, got ["x",2]', XS),
    ops_dead(1, "o", 'function lower: needs a string, got ["x",2]', XS),
    ops_dead(1, "v", 'function odd: needs a pair, got "a b"', "a b"),
    ops_dead(1, "v", 'function odd: needs a pair, got "C"', "C"),
    ops_dead(2, "w", "function split_words: needs a string, got 7", 7),
    ops_dead(2, "o", "function lower: needs a string, got 7", 7),
    ops_dead(2, "v", "function odd: needs a pair, got 7", 7),
    ops_dead(2, "v", 'function odd: needs a pair, got "d e"', "d e")],
    key=json.dumps)


def case_every_operator(tmp):
    dead = os.path.join(tmp, "dead.jsonl")
    rc, out, err = run_streamctl(
        STREAMCTL, ["run", ops_job(tmp, on_bad_record="dead_letter",
                                   dead_letter=dead)], tmp, 30)
    check(rc == 0, "dead_letter: exit %d: %s" % (rc, err[-1000:]))
    check(out.splitlines() == OPS_OUT, "dead_letter: stdout %r" % out)
    check_counts(err, 0, 8, 8, 0, name="ops")
    with open(dead, "rb") as f:
        got = [json.loads(l) for l in f.read().decode("utf-8").splitlines()]
    for g in got:
        check(isinstance(g.pop("time_ms", None), int), "time_ms in %r" % g)
    got.sort(key=json.dumps)
    check(got == OPS_DEAD, "dead letters %r, expected %r" % (got, OPS_DEAD))
    rc, out, err = run_streamctl(
        STREAMCTL, ["run", ops_job(tmp, on_bad_record="skip")], tmp, 30)
    check(rc == 0, "skip: exit %d: %s" % (rc, err[-1000:]))
    check(out.splitlines() == OPS_OUT, "skip: stdout %r" % out)
    check_counts(err, 8, 0, 0, 0, name="ops")
    rc, out, err = run_streamctl(
        STREAMCTL, ["run", ops_job(tmp, ops=["p", "v"])], tmp, 30)
    check(rc == 1 and 'function odd: needs a pair, got "' in err,
          "fail: exit %d: %s" % (rc, err[-1000:]))


def case_failed_write(tmp):
    rc, out, err = run_streamctl(
        STREAMCTL, ["run", job(tmp, on_bad_record="dead_letter",
                               dead_letter="/dev/full")], tmp, 30)
    check(rc == 0, "exit %d: %s" % (rc, err[-1000:]))
    check(out.splitlines() == GOOD, "stdout %r" % out)
    errors = [l for l in err.splitlines() if l.startswith("sluice: error:")]
    check(errors == ["sluice: error: cannot write to dead-letter file "
                     "/dev/full: No space left on device; dead letter lost "
                     "(1 failed so far)"], "errors %r" % errors)
    check_counts(err, 0, 3, 0, 3)


TOO_LONG = {"batch": None, "origin": {"source": "s"}, "reason": "too_long",
            "error": "line longer than receiver.max_line_bytes (16 bytes)"}
LATIN1 = b"caf\xe9 " * 4


def serve(listener, pieces):
    """Accept one connection, send pieces (a float: sleep that long),
    close."""
    listener.settimeout(20)
    conn, _ = listener.accept()
    with conn:
        for p in pieces:
            if isinstance(p, float):
                time.sleep(p)
            else:
                conn.sendall(p)


def case_socket_too_long(tmp):
    dead = os.path.join(tmp, "dead.jsonl")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    pieces = [b"ok\n", b"x" * 10, 0.1, b"x" * 20 + b"\n", b"y" * 20, 0.1,
              b"y" * 2000, 0.1, b"y" * 100 + b"\nshort\n", LATIN1 + b"\r\n",
              b"cut-by-the-close-of-it", 0.3]
    server = threading.Thread(target=serve, args=(listener, pieces))
    server.start()
    doc = {"name": "long", "batch_interval": "200ms", "max_batches": 8,
           "dead_letter": dead, "conf": {"receiver.max_line_bytes": 16},
           "sources": {"s": {"type": "socket", "host": "127.0.0.1",
                             "port": listener.getsockname()[1]}},
           "sinks": [{"from": "s", "type": "console", "format": "json"}]}
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    try:
        rc, out, err = run_streamctl(STREAMCTL, ["run", path], tmp, 30)
    finally:
        server.join(30)
        listener.close()
    check(rc == 0, "exit %d: %s" % (rc, err[-1000:]))
    recs = [r for l in out.splitlines() for r in json.loads(l)["records"]]
    check(recs == ["ok", "short"], "records %r" % recs)
    with open(dead, "rb") as f:
        got = [json.loads(l) for l in f.read().decode("utf-8").splitlines()]
    for g in got:
        check(isinstance(g.pop("time_ms", None), int), "time_ms in %r" % g)
    want = [dict(TOO_LONG, text="x" * 30),
            dict(TOO_LONG, text="y" * 1024, truncated=True),
            dict(TOO_LONG, text=LATIN1.decode("utf-8", "replace"),
                 text_b64=base64.b64encode(LATIN1).decode()),
            dict(TOO_LONG, text="cut-by-the-close-of-it")]
    check(got == want, "dead letters %r, expected %r" % (got, want))
    check_counts(err, 0, 0, 4, 0, name="long")


def main():
    return run_cases([("fail", case_fail), ("skip", case_skip),
                      ("dead_letter", case_dead_letter),
                      ("validate", case_validate),
                      ("every operator", case_every_operator),
                      ("failed write", case_failed_write),
                      ("socket too long", case_socket_too_long)],
                     (Failure, ValueError, KeyError, OSError))


if __name__ == "__main__":
    sys.exit(main())
