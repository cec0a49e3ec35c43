#!/usr/bin/env python3
"""Spark's stream test vectors, run through job files and `streamctl run`.

Usage: test_job_oracle.py STREAMCTL SOURCE_ROOT [--keep-jobs DIR]

Reads SOURCE_ROOT/tests/oracle/spark_vectors.json (described in
tests/oracle/README.md) and takes every case of the suites
BasicOperationsSuite, WindowOperationsSuite, MapWithStateSuite,
MapWithStateRDDSuite and CheckpointSuite. Each case is either

- run: PIPELINES maps its Spark test name to a function that builds the
  job file's "streams" and the streams to output from the case's params
  (built-in operators and functions of docs/job-file.md only). The job has
  a queue source per input stream holding the case's batches (at most
  num_batches_run of them, a null batch being "no batch"), split into
  params.input_partitions partitions, the manual clock with
  batch_interval = params.batch_ms and max_batches = num_batches_run, and
  a json console sink per output. `streamctl run` runs it (cwd a temporary
  directory, 60 s at most), with workers = 2 and then workers = 1; each
  run's stdout lines are checked against what Spark's test asserts, and the
  two runs must print the same lines. A case with
  params.restart_after_batches gets a "checkpoint" (snapshot every
  checkpoint_interval_ms / batch_ms batches) and runs twice in one
  directory: to that batch, then again from the checkpoint to the end; the
  two runs' lines together are checked (a re-run batch would show as a
  batch printed twice); or
- not run: NOT_RUN gives the specific reason (arbitrary user code,
  checkpoints, a query rather than an operator, a record-level test).

Comparison follows the C oracle harness (tests/oracle/oracle_harness.c):
records compare as canonical JSON text (integral numbers bare, so 1 and
1.0 are equal; no spaces); params.compare says how batches compare
(list_per_batch: in order; set_per_batch: as multisets; error: the job must
exit 1 after printing exactly expected.output_before_error; property:
repartition's partition count and records). A stream with a slide of k
batches outputs at every k-th batch only, so output batch i (1-based) of
every output must be at time i x k x batch_ms, and every output has exactly
num_batches_run / k batches. params.value_compare "set_of_values" compares
each grouped value list as a set. An expected object names outputs (each a
list of batches) and assertions (assert_all_mapped_sorted: every record of
the output "mapped", sorted, is the list; assert_some_snapshot_equals: some
batch of "state_snapshots" holds the records, as a multiset;
assert_last_snapshot_equals: its last batch does).

Prints one line per case, "RUN <suite> / <test>: ok", "FAIL <suite> /
<test>: <why>" or "NOT RUN <suite> / <test>: <reason>", then a summary.
Exits 1 if any case fails, if a case of those suites is neither in
PIPELINES nor in NOT_RUN, if a case has a params key nothing here reads,
or if a table row names no case; 2 on a usage error.
"""

import json
import math
import os
import subprocess
import sys
import tempfile

SUITES = (
    "BasicOperationsSuite",
    "WindowOperationsSuite",
    "MapWithStateSuite",
    "MapWithStateRDDSuite",
    "CheckpointSuite",
)
TIMEOUT_S = 60
WORKERS = (2, 1)
# Params every case may have; a row names the others it reads.
COMMON_PARAMS = {"batch_ms", "input_partitions", "compare", "num_batches_run",
                 "restart_after_batches"}
LINE_KEYS = {"batch", "time_ms", "stream", "records"}
# Job name -> the batch a checkpointed case stops at before its restart.
CASE_RESTART = {}


class CaseError(Exception):
    """A case the table cannot turn into a job file (a failure)."""


# ------------------------------------------------------------ canonical JSON


def canon_number(x):
    """A number as the C harness prints it: integral values bare, others
    with the fewest %g digits that read back as the same double."""
    if isinstance(x, int):
        return str(x)
    if math.isfinite(x) and x == math.floor(x) and abs(x) < 2.0**53:
        return str(int(x))
    for prec in range(1, 18):
        text = "%.*g" % (prec, x)
        if float(text) == x:
            return text
    return "%.17g" % x


def canon(v):
    """Canonical JSON text of a parsed JSON value."""
    if v is None:
        return "null"
    if isinstance(v, bool):  # before int: True == 1 in Python
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return canon_number(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(canon(x) for x in v) + "]"
    # Records are never objects; keep them unequal to anything else.
    return "{object}" + json.dumps(v, sort_keys=True)


def canon_record(v, values_as_set):
    """With values_as_set, the value list of a (key, [values]) pair is
    printed sorted and without duplicates (Spark's test makes it a set)."""
    if values_as_set and isinstance(v, list) and len(v) == 2 and isinstance(
            v[1], list):
        items = sorted(set(canon(x) for x in v[1]))
        return "[" + canon(v[0]) + ",[" + ",".join(items) + "]]"
    return canon(v)


def canon_batch(records, values_as_set, ordered):
    out = [canon_record(r, values_as_set) for r in records]
    return out if ordered else sorted(out)


def show(texts):
    return "[" + ",".join(texts) + "]"


# ---------------------------------------------------------------- job pieces


def fn(name, arg=None, on=None):
    """A built-in function reference of docs/job-file.md."""
    if arg is None and on is None:
        return name
    f = {"name": name}
    if arg is not None:
        f["arg"] = arg
    if on is not None:
        f["on"] = on
    return f


def op(name, **params):
    d = {"op": name}
    d.update(params)
    return d


def ms(n):
    return "%dms" % n


def param(p, name, kind=int):
    if name not in p:
        raise CaseError("params.%s missing" % name)
    v = p[name]
    if kind is int and (isinstance(v, bool) or not isinstance(v, int)):
        raise CaseError("params.%s is not an integer: %r" % (name, v))
    if kind is not int and not isinstance(v, kind):
        raise CaseError("params.%s has the wrong type: %r" % (name, v))
    return v


def positive(p, name):
    v = param(p, name)
    if v <= 0:
        raise CaseError("params.%s is not positive: %r" % (name, v))
    return v


# A pipeline: its streams (name -> stream object) and its outputs in order,
# (output name, stream name); output names are the keys of an expected
# object ("out" when expected is a list of batches).


def single(ops):
    return {"out": {"from": "in", "ops": ops}}, [("out", "out")]


def word_counts():
    return [op("map", fn="pair_one"), op("reduce_by_key", fn="sum")]


def two_streams(join_op):
    """left = map(x -> (x, 1)), right = map(x -> (x, "x")), then join_op."""
    streams = {
        "ones": {"from": "left", "ops": [op("map", fn="pair_one")]},
        "xs": {"from": "right", "ops": [op("map", fn=fn("pair_with", "x"))]},
        "out": {"from": "ones", "ops": [op(join_op, **{"with": "xs"})]},
    }
    return streams, [("out", "out")]


def pl_union(p):
    streams = {
        "plus4": {"from": "in", "ops": [op("map", fn=fn("add", 4))]},
        "out": {"from": "in", "ops": [op("union", **{"with": "plus4"})]},
    }
    return streams, [("out", "out")]


def pl_context_union(p):
    streams = {
        "plus4": {"from": "in", "ops": [op("map", fn=fn("add", 4))]},
        "plus8": {"from": "in", "ops": [op("map", fn=fn("add", 8))]},
        "out": {"from": "in",
                "ops": [op("union", **{"with": ["plus4", "plus8"]})]},
    }
    return streams, [("out", "out")]


def pl_repartition(p):
    """Two outputs: the repartitioned records, and their glom (one list
    per partition) for the partition count."""
    n = positive(p, "output_partitions")
    streams = {
        "records": {"from": "in", "ops": [op("repartition", partitions=n)]},
        "partitions": {"from": "records", "ops": [op("glom")]},
    }
    return streams, [("records", "records"), ("partitions", "partitions")]


def initial_state(p):
    init = p.get("initial_state")
    if init is None:
        return {}
    if not isinstance(init, list) or not all(
            isinstance(x, list) and len(x) == 2 for x in init):
        raise CaseError("params.initial_state is not a list of pairs")
    return {"initial": init}


def pl_update_state(p):
    return single([op("map", fn="pair_one"),
                   op("update_state_by_key", fn="sum", **initial_state(p))])


# --- windows

REDUCES = {"sum": "sum"}
INVERSES = {"subtract": "subtract"}
FILTERS = {"value != 0": fn("ne", 0, on="value")}


def window_params(p):
    """window and slide durations; checkpoint_interval_ms must lie beyond
    the run (Spark's test sets it so that no checkpoint is taken; job
    files have no stream checkpoints)."""
    b = positive(p, "batch_ms")
    w, s = positive(p, "window_batches"), positive(p, "slide_batches")
    cp = p.get("checkpoint_interval_ms")
    run_ms = positive(p, "num_batches_run") * b
    if "restart_after_batches" in p:
        cp = None  # a checkpointed case: it sets snapshot_every_batches
    if cp is not None and (not isinstance(cp, int) or cp <= run_ms):
        raise CaseError("checkpoint_interval_ms %r falls within the run (%d "
                        "ms): job files have no stream checkpoints" %
                        (cp, run_ms))
    return {"window": ms(w * b), "slide": ms(s * b)}


def pl_window(p):
    return single([op("window", **window_params(p))])


def lookup(table, p, name):
    v = p.get(name)
    if v not in table:
        raise CaseError("unknown params.%s %r (known: %s)" %
                        (name, v, ", ".join(sorted(table))))
    return table[v]


def pl_reduce_by_key_and_window(test):
    """The functions named by params; the test's name says which it uses
    (inverse for "with inverse", filter for "and filter")."""
    want_inv = "inverse" in test
    want_filter = "filter" in test

    def build(p):
        if ("inverse" in p) != want_inv or ("filter" in p) != want_filter:
            raise CaseError("params inverse/filter do not match the test "
                            "name")
        kw = window_params(p)
        kw["fn"] = lookup(REDUCES, p, "reduce")
        if want_inv:
            kw["inverse"] = lookup(INVERSES, p, "inverse")
        if want_filter:
            kw["filter"] = lookup(FILTERS, p, "filter")
        return single([op("reduce_by_key_and_window", **kw)])

    return build


def pl_group_by_key_and_window(p):
    if p.get("value_compare") != "set_of_values":
        raise CaseError("params.value_compare is not \"set_of_values\"")
    return single([op("group_by_key_and_window", **window_params(p))])


def pl_count_by_window(p):
    return single([op("count_by_window", **window_params(p))])


def pl_count_by_value_and_window(p):
    return single([op("count_by_value_and_window", **window_params(p))])


# --- mapWithState: outputs "mapped" and "state_snapshots"


def pl_map_with_state(emit, then=None, timing_out=False):
    """map(x -> (x, 1)).mapWithState(state = value + (state or 0), emit),
    optionally followed by the ops `then` on the mapped stream. With
    timing_out: state = value (always 1), timeout params.timeout_ms, and
    only the timeout call emits (the key)."""

    def build(p):
        if p.get("pre_map") != "x -> (x, 1)":
            raise CaseError("params.pre_map is not \"x -> (x, 1)\"")
        kw = {"fn": "last" if timing_out else "sum", "emit": emit}
        kw.update(initial_state(p))
        if timing_out:
            kw["timeout"] = ms(positive(p, "timeout_ms"))
            kw["timeout_emit"] = "key"
        elif "timeout_ms" in p:
            raise CaseError("params.timeout_ms on a case without timeouts")
        if "state_partitions" in p:
            positive(p, "state_partitions")  # outputs compare as multisets
        streams = {
            "state": {"from": "in",
                      "ops": [op("map", fn="pair_one"),
                              op("map_with_state", **kw)]},
            "snapshots": {"from": "state", "ops": [op("state_snapshots")]},
        }
        mapped = "state"
        if then:
            streams["mapped"] = {"from": "state", "ops": then}
            mapped = "mapped"
        return streams, [("mapped", mapped), ("state_snapshots", "snapshots")]

    return build


# ---------------------------------------------------------------- the tables

RBKW = "reduceByKeyAndWindow - "
RBKW_INV = "reduceByKeyAndWindow with inverse function - "
RBKW_CASES = ("basic reduction",
              "key already in window and new value added into window",
              "new key added into window", "key removed from window",
              "larger slide time", "big test")
WINDOW_PARAMS = {"window_batches", "slide_batches"}

# (suite, test) -> (number of input streams, builder(params) -> (streams,
# outputs), the params keys it reads beyond COMMON_PARAMS)
PIPELINES = {
    ("BasicOperationsSuite", "map"):
        (1, lambda p: single([op("map", fn="to_string")]), set()),
    ("BasicOperationsSuite", "flatMap"):
        (1, lambda p: single([op("flat_map", fn=fn(
            "fanout", ["identity", fn("multiply", 2)]))]), set()),
    ("BasicOperationsSuite", "filter"):
        (1, lambda p: single([op("filter", fn="even")]), set()),
    ("BasicOperationsSuite", "glom"):
        (1, lambda p: single([op("glom")]), set()),
    ("BasicOperationsSuite", "mapPartitions"):
        (1, lambda p: single([op("map_partitions", fn="sum", zero=0)]),
         set()),
    ("BasicOperationsSuite", "repartition (more partitions)"):
        (1, pl_repartition, {"output_partitions"}),
    ("BasicOperationsSuite", "repartition (fewer partitions)"):
        (1, pl_repartition, {"output_partitions"}),
    ("BasicOperationsSuite", "groupByKey"):
        (1, lambda p: single([op("map", fn="pair_one"),
                              op("group_by_key")]), set()),
    ("BasicOperationsSuite", "reduceByKey"):
        (1, lambda p: single(word_counts()), set()),
    ("BasicOperationsSuite", "reduce"):
        (1, lambda p: single([op("reduce", fn="sum")]), set()),
    ("BasicOperationsSuite", "count"):
        (1, lambda p: single([op("count")]), set()),
    ("BasicOperationsSuite", "countByValue"):
        (1, lambda p: single([op("count_by_value")]), set()),
    ("BasicOperationsSuite", "mapValues"):
        (1, lambda p: single(word_counts() +
                             [op("map_values", fn=fn("add", 10))]), set()),
    ("BasicOperationsSuite", "flatMapValues"):
        (1, lambda p: single(word_counts() + [op(
            "flat_map_values",
            fn=fn("fanout", ["identity", fn("add", 10)]))]), set()),
    ("BasicOperationsSuite", "union"): (1, pl_union, set()),
    ("BasicOperationsSuite", "StreamingContext.union"):
        (1, pl_context_union, set()),
    ("BasicOperationsSuite", "cogroup"):
        (2, lambda p: two_streams("cogroup"), set()),
    ("BasicOperationsSuite", "join"):
        (2, lambda p: two_streams("join"), set()),
    ("BasicOperationsSuite", "leftOuterJoin"):
        (2, lambda p: two_streams("left_outer_join"), set()),
    ("BasicOperationsSuite", "rightOuterJoin"):
        (2, lambda p: two_streams("right_outer_join"), set()),
    ("BasicOperationsSuite", "fullOuterJoin"):
        (2, lambda p: two_streams("full_outer_join"), set()),
    ("BasicOperationsSuite", "updateStateByKey"):
        (1, pl_update_state, set()),
    ("BasicOperationsSuite", "updateStateByKey - simple with initial value "
                             "RDD"):
        (1, pl_update_state, {"initial_state"}),
    # Spark's partition-iterator form of the same update function.
    ("BasicOperationsSuite", "updateStateByKey - with initial value RDD"):
        (1, pl_update_state, {"initial_state"}),
    # A missing (null) parent batch fails union: exit status 1.
    ("BasicOperationsSuite", "union with input stream return None"):
        (1, pl_union, set()),
    ("WindowOperationsSuite", "window - basic window"):
        (1, pl_window, WINDOW_PARAMS),
    ("WindowOperationsSuite", "window - tumbling window"):
        (1, pl_window, WINDOW_PARAMS),
    ("WindowOperationsSuite", "window - larger window"):
        (1, pl_window, WINDOW_PARAMS),
    ("WindowOperationsSuite", "window - non-overlapping window"):
        (1, pl_window, WINDOW_PARAMS),
    ("WindowOperationsSuite", "groupByKeyAndWindow"):
        (1, pl_group_by_key_and_window, WINDOW_PARAMS | {"value_compare"}),
    ("WindowOperationsSuite", "countByWindow"):
        (1, pl_count_by_window, WINDOW_PARAMS),
    ("WindowOperationsSuite", "countByValueAndWindow"):
        (1, pl_count_by_value_and_window, WINDOW_PARAMS),
    ("MapWithStateSuite", "mapWithState - basic operations with simple API"):
        (1, pl_map_with_state("state"), {"pre_map"}),
    ("MapWithStateSuite",
     "mapWithState - basic operations with advanced API"):
        (1, pl_map_with_state("key", then=[op("map", fn=fn("repeat", 2))]),
         {"pre_map"}),
    ("MapWithStateSuite", "mapWithState - states as mapped data"):
        (1, pl_map_with_state("pair"), {"pre_map"}),
    ("MapWithStateSuite", "mapWithState - initial states, with nothing "
                          "returned as from mapping function"):
        (1, pl_map_with_state("none"), {"pre_map", "initial_state"}),
    # Spark scans idle keys for timeouts only at state checkpoints (every
    # default_state_checkpoint_interval_batches); the case's assertions
    # hold for a per-batch scan too.
    ("MapWithStateSuite", "mapWithState - state timing out"):
        (1, pl_map_with_state("none", timing_out=True),
         {"pre_map", "timeout_ms",
          "default_state_checkpoint_interval_batches"}),
}
# Checkpoint cases: run to restart_after_batches with a checkpoint, then
# again on it to num_batches_run (run_job); the outputs of both runs
# together must be Spark's.
PIPELINES[("MapWithStateSuite", "mapWithState - driver failure recovery")] = (
    1, pl_map_with_state("state"), {"pre_map", "checkpoint_interval_ms"})
PIPELINES[("CheckpointSuite",
           "recovery with map and reduceByKey operations")] = (
    1, lambda p: single(word_counts()), set())
PIPELINES[("CheckpointSuite",
           "recovery with invertible reduceByKeyAndWindow operation")] = (
    1, lambda p: single([op("map", fn="pair_one"),
                         op("reduce_by_key_and_window", fn="sum",
                            inverse="subtract", **window_params(p))]),
    WINDOW_PARAMS | {"checkpoint_interval_ms"})
PIPELINES[("CheckpointSuite", "recovery with updateStateByKey operation")] = (
    1, pl_update_state, {"checkpoint_interval_ms"})
for _name in RBKW_CASES:
    PIPELINES[("WindowOperationsSuite", RBKW + _name)] = (
        1, pl_reduce_by_key_and_window(RBKW + _name),
        WINDOW_PARAMS | {"reduce"})
    PIPELINES[("WindowOperationsSuite", RBKW_INV + _name)] = (
        1, pl_reduce_by_key_and_window(RBKW_INV + _name),
        WINDOW_PARAMS | {"reduce", "inverse", "checkpoint_interval_ms"})
RBKW_FILTER = ("reduceByKeyAndWindow with inverse and filter functions - "
               "big test")
PIPELINES[("WindowOperationsSuite", RBKW_FILTER)] = (
    1, pl_reduce_by_key_and_window(RBKW_FILTER),
    WINDOW_PARAMS | {"reduce", "inverse", "filter", "checkpoint_interval_ms"})

NOT_RUN = {
    ("BasicOperationsSuite", "transform"):
        "transform takes a user function over each batch's collection; "
        "job files have no transform operator",
    ("BasicOperationsSuite", "transformWith"):
        "transformWith takes a user function over two batch collections "
        "(here a per-batch join); job files have no transform operator",
    ("BasicOperationsSuite", "StreamingContext.transform"):
        "StreamingContext.transform takes a user function over several "
        "streams' batch collections; job files have no transform operator",
    ("BasicOperationsSuite", "transform with NULL"):
        "the user transform function returns null; job files have no "
        "transform operator and built-in functions never return null",
    ("BasicOperationsSuite", "transform with input stream return None"):
        "the failure comes from transform (a user per-batch function) "
        "meeting a missing parent batch; job files have no transform "
        "operator",
    ("BasicOperationsSuite", "slice"):
        "slice(from, to) is a query on a stream's remembered batches after "
        "the run, not an operator; a job file cannot ask it",
    ("BasicOperationsSuite", "updateStateByKey - testing time stamps as "
                             "input"):
        "the update function reads the batch time; no built-in reduce "
        "function sees it",
    ("BasicOperationsSuite", "updateStateByKey - object lifecycle"):
        "the state is a user object {counter, expireCounter} and the "
        "function removes the key after two batches without values; "
        "update_state_by_key's built-in folds neither keep such a state "
        "nor remove keys",
    ("MapWithStateSuite", "mapWithState - state removing"):
        "the mapping function removes a key's state when it exists and "
        "emits the key only then (conditional removal); map_with_state's "
        "built-in functions only fold values into the state",
    ("MapWithStateRDDSuite", "updating state and generating mapped data in "
                             "MapWithStateRDDRecord"):
        "record-level test of Spark's MapWithStateRDDRecord internals (one "
        "key's update calls), not a stream",
}

# Keys of an expected object that are assertions: key -> (output, kind).
ASSERTIONS = {
    "assert_all_mapped_sorted": ("mapped", "all_sorted"),
    "assert_some_snapshot_equals": ("state_snapshots", "some_batch"),
    "assert_last_snapshot_equals": ("state_snapshots", "last_batch"),
}


# ---------------------------------------------------------------- job files


def make_job(index, case, workers):
    """The job file (a dict) for a case, and its outputs."""
    ninputs, build, extra = PIPELINES[(case["suite"], case["test"])]
    p = case["params"]
    unknown = sorted(set(p) - COMMON_PARAMS - extra)
    if unknown:
        raise CaseError("params.%s not understood by this runner" %
                        unknown[0])
    nbatches = positive(p, "num_batches_run")
    inp = case["input"]
    if ninputs == 2:
        if not isinstance(inp, dict) or set(inp) != {"left", "right"}:
            raise CaseError("input is not {left, right}")
        inputs = {"left": inp["left"], "right": inp["right"]}
    else:
        if not isinstance(inp, list):
            raise CaseError("input is not a list of batches")
        inputs = {"in": inp}
    sources = {}
    for name, batches in inputs.items():
        if not all(b is None or isinstance(b, list) for b in batches):
            raise CaseError("an input batch is neither a list nor null")
        sources[name] = {"type": "queue",
                         "partitions": positive(p, "input_partitions"),
                         "batches": batches[:nbatches]}
    streams, outputs = build(p)
    job = {
        "name": "oracle-%d" % index,
        "batch_interval": ms(positive(p, "batch_ms")),
        "clock": "manual",
        "max_batches": nbatches,
        "workers": workers,
        "conf": {"log.level": "warn"},
        "sources": sources,
        "streams": streams,
        "sinks": [{"from": s, "type": "console", "format": "json"}
                  for _, s in outputs],
    }
    restart = p.get("restart_after_batches")
    if restart is not None:
        if not isinstance(restart, int) or not 0 < restart < nbatches:
            raise CaseError("params.restart_after_batches is not within the "
                            "run")
        job["checkpoint"] = {"path": "ck"}
        CASE_RESTART[job["name"]] = restart
        cp = p.get("checkpoint_interval_ms")
        if cp is not None:
            job["checkpoint"]["snapshot_every_batches"] = max(
                1, cp // positive(p, "batch_ms"))
    return job, outputs


# ---------------------------------------------------------------- running


class Run:
    """One `streamctl run`: exit status, stderr, and per stream the
    (batch, time_ms, records) of its json lines in order."""

    def __init__(self):
        self.rc = None
        self.stderr = ""
        self.batches = {}
        self.problems = []


def run_restarting(streamctl, job, path, cwd):
    """`streamctl run` of the job; a checkpointed job is run to the
    restart batch first, then again on its checkpoint to the end, and the
    result has both runs' stdout (the second's exit status and stderr)."""
    def run(j):
        with open(path, "w") as f:
            json.dump(j, f, indent=1)
        return subprocess.run([streamctl, "run", path], cwd=cwd,
                              stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=TIMEOUT_S)
    if "checkpoint" not in job:
        return run(job)
    first = dict(job)
    first["max_batches"] = CASE_RESTART[job["name"]]
    a = run(first)
    if a.returncode != 0:
        return a
    b = run(job)
    b.stdout = a.stdout + b.stdout
    return b


def run_job(streamctl, job, outputs, keep_dir, tag):
    r = Run()
    with tempfile.TemporaryDirectory(prefix="sl-oracle-") as tmp:
        path = os.path.join(tmp, "job.json")
        with open(path, "w") as f:
            json.dump(job, f, indent=1)
        if keep_dir:
            with open(os.path.join(keep_dir, tag + ".json"), "w") as f:
                json.dump(job, f, indent=1)
        try:
            proc = run_restarting(streamctl, job, path, tmp)
        except subprocess.TimeoutExpired:
            r.problems.append("still running after %d s (killed)" % TIMEOUT_S)
            return r
    r.rc = proc.returncode
    r.stderr = proc.stderr.decode("utf-8", "replace")
    names = {s for _, s in outputs}
    for s in names:
        r.batches[s] = []
    for n, line in enumerate(proc.stdout.decode("utf-8", "replace")
                             .splitlines(), 1):
        try:
            obj = json.loads(line)
        except ValueError:
            r.problems.append("stdout line %d is not JSON: %r" %
                              (n, line[:200]))
            continue
        if not isinstance(obj, dict) or set(obj) != LINE_KEYS:
            r.problems.append("stdout line %d does not have exactly the keys "
                              "batch, time_ms, stream, records: %r" %
                              (n, line[:200]))
            continue
        if obj["stream"] not in names or not isinstance(obj["records"], list):
            r.problems.append("stdout line %d: unknown stream or records not "
                              "a list: %r" % (n, line[:200]))
            continue
        b = obj["batch"]
        if (isinstance(b, bool) or not isinstance(b, int) or b < 1 or
                obj["time_ms"] != b * job_batch_ms(job)):
            r.problems.append("stdout line %d: batch %r has time_ms %r, want "
                              "batch x %d" % (n, b, obj["time_ms"],
                                              job_batch_ms(job)))
            continue
        r.batches[obj["stream"]].append((b, obj["time_ms"], obj["records"]))
    return r


def job_batch_ms(job):
    return int(job["batch_interval"][:-2])


def stderr_tail(r):
    lines = [x for x in r.stderr.strip().splitlines() if x.strip()]
    return " | ".join(lines[-3:]) if lines else "(empty)"


# ---------------------------------------------------------------- checking


def check_times(got, slide_ms, label, why):
    """Output batch i (1-based) must be at i x slide."""
    for i, (_, t, _) in enumerate(got, 1):
        if t != i * slide_ms:
            why.append("%s: output batch %d at %s ms, want %d ms (output "
                       "times: %s)" % (label, i, t, i * slide_ms,
                                       [x[1] for x in got]))
            return False
    return True


def check_batches(expected, got, ordered, values_as_set, label, why):
    ok = True
    if len(got) != len(expected):
        why.append("%s: expected %d output batches, got %d (at %s ms)" %
                   (label, len(expected), len(got), [x[1] for x in got]))
        ok = False
    for i, (exp, (_, t, recs)) in enumerate(zip(expected, got), 1):
        e = canon_batch(exp, values_as_set, ordered)
        g = canon_batch(recs, values_as_set, ordered)
        if e != g:
            why.append("%s: batch %d (%d ms): expected %s, got %s" %
                       (label, i, t, show(e), show(g)))
            ok = False
    return ok


def check_assertion(key, exp, got, values_as_set, why):
    output, kind = ASSERTIONS[key]
    if kind == "all_sorted":
        allrecs = sorted(canon_record(r, values_as_set)
                         for _, _, recs in got for r in recs)
        e = [canon_record(r, values_as_set) for r in exp]
        if allrecs != e:
            why.append("%s: expected %s, got (all %s records, sorted) %s" %
                       (key, show(e), output, show(allrecs)))
            return False
        return True
    e = canon_batch(exp, values_as_set, False)
    if kind == "some_batch":
        if not any(canon_batch(recs, values_as_set, False) == e
                   for _, _, recs in got):
            why.append("%s: no %s batch of %d holds %s" %
                       (key, output, len(got), show(e)))
            return False
        return True
    if not got:
        why.append("%s: %s has no batches" % (key, output))
        return False
    g = canon_batch(got[-1][2], values_as_set, False)
    if g != e:
        why.append("%s: last %s batch (%d ms): expected %s, got %s" %
                   (key, output, got[-1][1], show(e), show(g)))
        return False
    return True


def check_run(case, r, outputs, why):
    """Check one run against Spark's expectation; reasons go to why."""
    p = case["params"]
    exp = case["expected"]
    compare = p["compare"]
    values_as_set = "value_compare" in p
    slide_ms = p["batch_ms"] * p.get("slide_batches", 1)
    nout = p["num_batches_run"] // p.get("slide_batches", 1)
    got = {name: r.batches.get(stream, []) for name, stream in outputs}
    if r.problems:
        why.extend(r.problems)
        return False
    if compare == "error":
        if not isinstance(exp, dict) or exp.get("error") is not True:
            why.append("error case without expected.error = true")
            return False
        ok = True
        if r.rc != 1:
            why.append("expected exit status 1 (failed while running), got "
                       "%s; stderr: %s" % (r.rc, stderr_tail(r)))
            ok = False
        first = got[outputs[0][0]]
        if "output_before_error" in exp:
            ok &= check_batches(exp["output_before_error"], first, True,
                                values_as_set, outputs[0][0], why)
        return check_times(first, slide_ms, outputs[0][0], why) and ok
    if r.rc != 0:
        why.append("exit status %s; stderr: %s" % (r.rc, stderr_tail(r)))
        return False
    ok = True
    for name, _ in outputs:
        if len(got[name]) != nout:
            why.append("%s: expected %d output batches, got %d (at %s ms)" %
                       (name, nout, len(got[name]),
                        [x[1] for x in got[name]]))
            ok = False
        elif not check_times(got[name], slide_ms, name, why):
            ok = False
    if not ok:
        return False
    if compare == "property":
        return check_property(case, got, why)
    if compare not in ("list_per_batch", "set_per_batch"):
        why.append("unsupported params.compare %r" % compare)
        return False
    ordered = compare == "list_per_batch"
    if isinstance(exp, list):
        return check_batches(exp, got[outputs[0][0]], ordered, values_as_set,
                             outputs[0][0], why)
    if not isinstance(exp, dict) or not exp:
        why.append("expected is neither a list of batches nor an object")
        return False
    for key, val in exp.items():
        if key in got:
            ok &= check_batches(val, got[key], ordered, values_as_set, key,
                                why)
        elif key in ASSERTIONS and ASSERTIONS[key][0] in got:
            ok &= check_assertion(key, val, got[ASSERTIONS[key][0]],
                                  values_as_set, why)
        else:
            why.append("expected.%s not understood by this runner" % key)
            ok = False
    return ok


def check_property(case, got, why):
    """repartition: each batch has output_partitions partitions, and both
    the records and the partitions' records flattened are the input batch
    (as multisets)."""
    want = case["params"]["output_partitions"]
    exp = case["expected"]
    ok = check_batches(exp, got["records"], False, False, "records", why)
    flat = []
    for i, (b, t, parts) in enumerate(got["partitions"], 1):
        if len(parts) != want or not all(isinstance(x, list) for x in parts):
            why.append("partitions: batch %d (%d ms) has %d partitions (%s), "
                       "want %d lists" % (i, t, len(parts),
                                          [len(x) if isinstance(x, list)
                                           else "not a list" for x in parts],
                                          want))
            ok = False
        flat.append((b, t, [r for x in parts if isinstance(x, list)
                            for r in x]))
    return check_batches(exp, flat, False, False, "partitions (flattened)",
                         why) and ok


def same_runs(a, b, why):
    """workers=1 must print what workers=2 printed, order included."""
    if a.rc != b.rc:
        why.append("workers=2 exited %s, workers=1 %s" % (a.rc, b.rc))
        return False
    for s in a.batches:
        if a.batches[s] != b.batches.get(s):
            why.append("%s: workers=1 printed %s, workers=2 %s" %
                       (s, json.dumps(b.batches.get(s)),
                        json.dumps(a.batches[s])))
            return False
    return True


def run_case(streamctl, index, case, keep_dir):
    """(ok, why) for one case of PIPELINES."""
    runs = []
    for w in WORKERS:
        why = []
        try:
            job, outputs = make_job(index, case, w)
        except CaseError as e:
            return False, "cannot make the job file: %s" % e
        r = run_job(streamctl, job, outputs, keep_dir,
                    "case%02d-workers%d" % (index, w))
        if not check_run(case, r, outputs, why):
            return False, "[workers=%d] %s" % (w, "; ".join(why))
        runs.append(r)
    why = []
    if not same_runs(runs[0], runs[1], why):
        return False, "; ".join(why)
    return True, "ok"


# ---------------------------------------------------------------- main


def main(argv):
    keep_dir = None
    args = list(argv[1:])
    if "--keep-jobs" in args:
        i = args.index("--keep-jobs")
        if i + 1 >= len(args):
            print("--keep-jobs needs a directory", file=sys.stderr)
            return 2
        keep_dir = os.path.abspath(args[i + 1])
        del args[i:i + 2]
        os.makedirs(keep_dir, exist_ok=True)
    if len(args) != 2:
        print("usage: %s STREAMCTL SOURCE_ROOT [--keep-jobs DIR]" % argv[0],
              file=sys.stderr)
        return 2
    streamctl = os.path.abspath(args[0])
    vectors = os.path.join(args[1], "tests", "oracle", "spark_vectors.json")
    if not os.access(streamctl, os.X_OK):
        print("FAIL: %s is not an executable" % streamctl)
        return 1
    with open(vectors) as f:
        cases = json.load(f)

    failures = []
    nrun = nnot = 0
    seen = set()
    for index, case in enumerate(cases):
        key = (case.get("suite"), case.get("test"))
        if key[0] not in SUITES:
            continue
        label = "%s / %s" % key
        if key in seen:
            failures.append("%s: the vectors hold this test twice" % label)
            print("FAIL %s: the vectors hold this test twice" % label)
            continue
        seen.add(key)
        if key in PIPELINES and key in NOT_RUN:
            failures.append(label)
            print("FAIL %s: both in PIPELINES and in NOT_RUN" % label)
        elif key in PIPELINES:
            nrun += 1
            ok, why = run_case(streamctl, index, case, keep_dir)
            if ok:
                print("RUN %s: ok" % label)
            else:
                failures.append(label)
                print("FAIL %s: %s" % (label, why))
        elif key in NOT_RUN:
            nnot += 1
            print("NOT RUN %s: %s" % (label, NOT_RUN[key]))
        else:
            failures.append(label)
            print("FAIL %s: neither run (PIPELINES) nor listed (NOT_RUN)" %
                  label)
        sys.stdout.flush()
    for key in sorted(set(PIPELINES) | set(NOT_RUN)):
        if key not in seen:
            failures.append("%s / %s" % key)
            print("FAIL %s / %s: the table names a test that is not in the "
                  "vectors" % key)
    print("%d cases run, %d not run, %d failures" %
          (nrun, nnot, len(failures)))
    if nrun == 0:
        print("FAIL: no case ran")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
