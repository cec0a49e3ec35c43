#!/usr/bin/env python3
"""The limits of job files (docs/job-file.md, "Limits") under `streamctl
validate` and `run` with a 1 MiB stack: graphs at and beyond the depth
limit, in one stream and through many, many streams side by side, a file
over the size limit; never a crash, and validate says what run refuses.
Also the checks that name what a bad record broke: element kinds at
validate time, a join's input and max_record_bytes at run time."""

import json
import os
import resource
import sys
import tempfile

from joblib import Failure, run_streamctl

STACK = 1 << 20
MAX_DEPTH = 200  # operators from a source, docs/job-file.md


def job(streams, sink, sources=None, conf=None):
    j = {"name": "limits", "batch_interval": "1s", "clock": "manual",
         "max_batches": 2,
         "sources": sources or {"q": {"type": "queue",
                                      "batches": [[1, 2], [3]]}},
         "streams": streams,
         "sinks": [{"type": "console", "from": sink}]}
    if conf:
        j["conf"] = conf
    return j


def maps(n):
    return [{"op": "map", "fn": "identity"}] * n


def chain(nstreams, ops_each, reverse=False):
    """Streams s0..s(n-1), each from the one before, ops_each maps each."""
    names = ["s%d" % i for i in range(nstreams)]
    streams = [(n, {"from": names[i - 1] if i else "q",
                    "ops": maps(ops_each)}) for i, n in enumerate(names)]
    if reverse:  # the walk then meets the deepest stream first
        streams.reverse()
    return job(dict(streams), names[-1])


def run(streamctl, cmd, doc, tmp, name, text=None):
    path = os.path.join(tmp, name + ".json")
    with open(path, "w") as f:
        f.write(text if text is not None else json.dumps(doc))
    rc, out, err = run_limited(streamctl, [cmd, path], tmp)
    return rc, out, err.replace(path + ": ", "")


def run_limited(streamctl, args, cwd):
    """run_streamctl with a 1 MiB stack for the process and its threads
    (glibc sizes thread stacks by RLIMIT_STACK)."""
    old = resource.getrlimit(resource.RLIMIT_STACK)
    resource.setrlimit(resource.RLIMIT_STACK, (STACK, old[1]))
    try:
        return run_streamctl(streamctl, args, cwd, 120)
    finally:
        resource.setrlimit(resource.RLIMIT_STACK, old)


def expect(what, got, want):
    if got != want:
        raise Failure("%s: got %r, want %r" % (what, got, want))


def expect_in(what, text, part):
    if part not in text:
        raise Failure("%s: %r not in %r" % (what, part, text[-2000:]))


def depth_cases(streamctl, tmp):
    deep_msg = ("operators deep from a source (through \"from\" and "
                "\"with\"), more than the limit of %d" % MAX_DEPTH)
    # At the limit: valid and runs.
    for name, doc in [("at_limit", chain(1, MAX_DEPTH)),
                      ("at_limit_streams", chain(MAX_DEPTH // 10, 10,
                                                 reverse=True))]:
        for cmd in ("validate", "run"):
            rc, out, err = run(streamctl, cmd, doc, tmp, name)
            expect("%s %s status (stderr %r)" % (name, cmd, err[-500:]),
                   rc, 0)
        print("ok   %s" % name)
    # One past it, and far past it (50 000 ops; 4096 streams of 12 ops
    # chained, listed deepest first): the op where it passes the limit.
    for name, doc, where in [
            ("past_limit", chain(1, MAX_DEPTH + 1), "$.streams.s0.ops[200]"),
            ("far_past_limit", chain(1, 50000), "$.streams.s0.ops[200]"),
            ("chained_streams", chain(4096, 12, reverse=True),
             "$.streams.s16.ops[8]")]:
        for cmd in ("validate", "run"):
            rc, out, err = run(streamctl, cmd, doc, tmp, name)
            expect("%s %s status" % (name, cmd), rc, 3)
            expect("%s %s problems" % (name, cmd), err.splitlines(),
                   ["%s: %d %s" % (where, MAX_DEPTH + 1, deep_msg)])
        print("ok   %s" % name)
    # 4096 streams of 12 ops each, side by side: shallow but 49 153
    # engine streams, which each batch walked by recursion.
    wide = job({"s%d" % i: {"from": "q", "ops": maps(12)}
                for i in range(4096)}, "s0")
    for cmd in ("validate", "run"):
        rc, out, err = run(streamctl, cmd, wide, tmp, "wide")
        expect("wide %s status (stderr %r)" % (cmd, err[-500:]), rc, 0)
    expect("wide output", out.count("Time: "), 2)
    print("ok   wide")


def size_cases(streamctl, tmp):
    # Over 16 MiB: refused before parsing, by both commands.
    text = json.dumps(job({}, "q"))[:-1] + ', "pad": "%s"}' % (
        "x" * (16 << 20))
    for cmd in ("validate", "run"):
        rc, out, err = run(streamctl, cmd, None, tmp, "big", text)
        expect("big %s status" % cmd, rc, 3)
        expect("big %s problems" % cmd, err.splitlines(),
               ["$: the job is larger than 16 MiB (the limit of a job "
                "file)"])
    print("ok   over_size_limit")


def kind_cases(streamctl, tmp):
    rate = {"r": {"type": "rate", "rows_per_second": 3}}
    doc = job({"x": {"from": "r", "ops": [
        {"op": "filter", "fn": "even"},
        {"op": "reduce_by_key", "fn": "sum"}]}}, "x", sources=rate)
    rc, out, err = run(streamctl, "validate", doc, tmp, "rate_pairs")
    expect("rate_pairs status", rc, 3)
    expect("rate_pairs problems", err.splitlines(),
           ["$.streams.x.ops[1].op: reduce_by_key needs (key, value) pairs, "
            "but source 'r' (rate) gives (timestamp, value) tuples"])
    # pair_one makes pairs: the same operator is fine after it.
    doc["streams"]["x"]["ops"].insert(1, {"op": "map", "fn": "pair_one"})
    rc, out, err = run(streamctl, "validate", doc, tmp, "rate_paired")
    expect("rate_paired status (stderr %r)" % err, rc, 0)
    print("ok   kinds")


def run_time_cases(streamctl, tmp):
    # A join given a number names itself, not the sink that ran the batch.
    srcs = {"q": {"type": "queue", "batches": [[1], [2]]},
            "p": {"type": "queue", "batches": [[[1, "a"]], [[2, "b"]]]}}
    doc = job({"z": {"from": "p", "ops": [{"op": "union", "with": "q"},
                                          {"op": "join", "with": "p"}]}},
              "z", sources=srcs)
    doc["sinks"][0]["format"] = "json"
    rc, out, err = run(streamctl, "run", doc, tmp, "join_number")
    expect("join_number status", rc, 1)
    expect_in("join_number message", err,
              "join at $.streams.z.ops[1] needs (key, value) pairs, but its "
              "input gave 1")
    # repeat past max_record_bytes fails the batch naming the function.
    srcs = {"q": {"type": "queue", "batches": [["abcdefghij"]]}}
    doc = job({"x": {"from": "q", "ops": [
        {"op": "map", "fn": {"name": "repeat", "arg": 200}}]}}, "x",
        sources=srcs, conf={"max_record_bytes": "1k"})
    rc, out, err = run(streamctl, "run", doc, tmp, "repeat_big")
    expect("repeat_big status", rc, 1)
    expect_in("repeat_big message", err,
              "function repeat: result of 2000 bytes, over max_record_bytes "
              "(1024)")
    doc["streams"]["x"]["ops"][0]["fn"]["arg"] = 100
    rc, out, err = run(streamctl, "run", doc, tmp, "repeat_fits")
    expect("repeat_fits status (stderr %r)" % err[-500:], rc, 0)
    print("ok   run_time_messages")


def main():
    streamctl = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="sl_limits_") as tmp:
        try:
            depth_cases(streamctl, tmp)
            size_cases(streamctl, tmp)
            kind_cases(streamctl, tmp)
            run_time_cases(streamctl, tmp)
        except Failure as e:
            print("FAIL %s" % e)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
