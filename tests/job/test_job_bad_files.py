#!/usr/bin/env python3
"""Broken job files, table-driven: each row is a job file's text and the
exact problem lines `streamctl validate` must print for it (the contract is
the Problems table of docs/job-file.md). Every row must exit with status 3,
print nothing on stdout, print exactly the expected "FILE: PATH: MESSAGE"
lines on stderr and not die of a signal; some rows also go through
`streamctl run`, which must refuse them the same way. Valid files (the
examples' jobs among them, when present) must print "FILE: valid".

usage: test_job_bad_files.py STREAMCTL SOURCE_ROOT

Readings of the spec where it leaves a choice (checked against the
implementation; rows marked in comments where it chose):
- the type words of "expected X, got Y" are the JSON types for Y (number,
  string, boolean, null, array, object); names and durations are "a string"
  (join's single `with` is "a name", `initial` "an array of pairs");
- a missing field is reported at its own path ($.sources.s.host);
- a problem of a function object's part is reported at that part
  (fn.name, fn.arg, fn.on); a function given as a bare name at fn;
- a cycle is reported once, written from the first stream of the cycle
  in file order along `from`/`with` links (a -> b: a reads b), at the link
  that closes it;
- a misplaced state_snapshots is reported at its "op";
- a plain identifier (unquoted in paths) is [A-Za-z_][A-Za-z0-9_]*;
- names over 60 characters are cut to 60 and "..." in messages.
"""

import os
import re
import sys
import tempfile

import joblib
from joblib import Failure

STREAMCTL = None
TIMEOUT = 30  # seconds for one streamctl process

H = '"name": "t", "batch_interval": "1s"'
SQ = '"sources": {"nums": {"type": "queue", "batches": [[1, 2, 3]]}}'
K = '"sinks": [{"from": "nums", "type": "console"}]'
NAME_RULE = "(1-64 letters, digits, '.', '_', '-')"
DUR_RULE = "(an integer and a unit: ms, s, m, h)"
KNOWN_SOURCES = "(known: socket, queue, rate, generator, directory, kafka)"
KNOWN_SINKS = "(known: console, save_as_text_files, file, memory, kafka)"
OPS_DOC = '; the operators are listed in docs/job-file.md, section "Operators"'
MAPP_HINT = ' (did you mean "map"?)' + OPS_DOC


def doc(*parts):
    """A job object from its members' text, in the order given."""
    return "{" + ", ".join(parts) + "}"


def streams(body):
    return '"streams": {%s}' % body


def ops(*op_texts):
    """Header, queue source nums, stream s from nums with these ops, and a
    sink on s."""
    return doc(H, SQ, streams('"s": {"from": "nums", "ops": [%s]}'
                              % ", ".join(op_texts)),
               '"sinks": [{"from": "s", "type": "console"}]')


def src(name, body):
    """Header, one source called name with the given text, a sink on it."""
    return doc(H, '"sources": {"%s": %s}' % (name, body),
               '"sinks": [{"from": "%s", "type": "console"}]' % name)


def sink(*sink_texts):
    return doc(H, SQ, '"sinks": [%s]' % ", ".join(sink_texts))


def at(text, marker):
    """'line L, column C' (1-based) of the first occurrence of marker."""
    off = text.index(marker)
    line = text.count("\n", 0, off) + 1
    col = off - (text.rfind("\n", 0, off) + 1) + 1
    return "line %d, column %d" % (line, col)


def invalid_json(text, marker):
    return "$: invalid JSON near %s" % at(text, marker)


def invalid_json_near(text, marker):
    """At marker or one column after it: cJSON places a string that does
    not start with '"' one past its first character."""
    line, col = re.fullmatch(r"line (\d+), column (\d+)",
                             at(text, marker)).groups()
    return re.compile(re.escape("$: invalid JSON near line %s, column " % line)
                      + "(%d|%d)" % (int(col), int(col) + 1))


R = re.compile
OP0 = "$.streams.s.ops[0]"

# Texts that several rows need.
T_BAD_VALUE = '{"name": "t",\n "batch_interval": @}'
T_TRAILING_COMMA = '{"name": "t", "batch_interval": "1s",}'
T_TRAILING_GARBAGE = doc(H, SQ, K) + "\n  x"
T_MISSING_COLON = '{\n  "name" "t"\n}'
T_SINGLE_QUOTES = "{'name': 't'}"
T_BIG = "a" * (1 << 20)
T_DEEP_ARRAYS = "[" * 10000 + "]" * 10000
T_DEEP_OBJECTS = ('{"name": ' + '{"a": ' * 10000 + "1" + "}" * 10000 +
                  ', "batch_interval": "1s", %s, %s}' % (SQ, K))
# More streams (or fields) than any job needs: refused at once, not
# checked pair by pair (quadratic), and fast (the runner's timeout).
T_MANY_STREAMS = doc(H, SQ, '"streams": {%s}' % ", ".join(
    '"s%d": {"from": "nums"}' % i for i in range(5000)), K)
T_MANY_CONF = doc(H, '"conf": {%s}' % ", ".join(
    '"p%d": 1' % i for i in range(5000)), SQ, K)
T_GARBAGE = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" +
             bytes(range(256)) * 8)
T_NUL_AFTER = (doc(H, SQ, K) + "\0" + '{"trailing": 1}').encode()

# Streams w (window 2s, slide 2s) and, for the slide rows, a stream u of
# slide 1s combining with w.
W2 = '"w": {"from": "nums", "ops": [{"op": "window", "window": "2s", ' \
     '"slide": "2s"}]}'


def two_slides(op_text):
    return doc(H, SQ, streams(W2 + ', "u": {"from": "nums", "ops": [%s]}'
                              % op_text),
               '"sinks": [{"from": "u", "type": "console"}]')


# (name, text, expected problem lines, flags). A line is a string (exact)
# or a compiled regex (full match) where the spec leaves the text open.
# Flags: "run" also checks `streamctl run`; "unordered" compares the lines
# as a multiset (only where the spec does not fix the order).
CASES = [
    # ---------------------------------------------------------- not JSON
    ("json_bad_value", T_BAD_VALUE, [invalid_json(T_BAD_VALUE, "@")],
     {"run"}),
    ("json_trailing_comma", T_TRAILING_COMMA,
     [invalid_json_near(T_TRAILING_COMMA, "}")], ()),
    ("json_trailing_garbage", T_TRAILING_GARBAGE,
     [invalid_json(T_TRAILING_GARBAGE, "x")], ()),
    ("json_missing_colon", T_MISSING_COLON,
     [invalid_json(T_MISSING_COLON, '"t"')], ()),
    ("json_single_quotes", T_SINGLE_QUOTES,
     [invalid_json_near(T_SINGLE_QUOTES, "'")], ()),
    # Where an unterminated string or object "fails" is up to the parser.
    ("json_unterminated_string", '{"name": "t',
     [R(r"\$: invalid JSON near line 1, column (9|1[0-2])")], ()),
    ("json_unterminated_object", '{"name": "t",\n "sources": {}',
     [R(r"\$: invalid JSON near line 2, column (1[2-6])")], ()),
    ("empty_file", "", ["$: invalid JSON: the file is empty"], {"run"}),
    ("blank_file", "  \n\t\n",
     [R(r"\$: invalid JSON near line [123], column \d+")], ()),
    ("binary_garbage", T_GARBAGE,
     ["$: invalid JSON: the text holds a NUL byte"], ()),
    # A NUL byte ends nothing: the text after it is garbage.
    ("nul_then_garbage", T_NUL_AFTER,
     ["$: invalid JSON: the text holds a NUL byte"], ()),
    ("many_streams", T_MANY_STREAMS,
     ["$.streams: more than 4096 streams"], ()),
    ("many_conf_fields", T_MANY_CONF,
     ["$.conf: more than 4096 fields"] +
     ['$.conf.p%d: unknown configuration property "p%d"' % (i, i)
      for i in range(198)] +
     ["$: 4802 more problems not shown"], ()),
    # 10000 nested arrays: refused by the nesting limit (64) at the 65th.
    ("deep_arrays", T_DEEP_ARRAYS,
     ["$: arrays and objects nested deeper than 64 (the limit of a job "
      "file), at line 1, column 65"], {"run"}),
    ("deep_objects", T_DEEP_OBJECTS,
     ["$: arrays and objects nested deeper than 64 (the limit of a job "
      "file), at line 1, column %d" % (T_DEEP_OBJECTS.index('{"a"') + 1 +
                                       63 * len('{"a": '))], ()),
    # -------------------------------------------------- top-level shape
    ("top_array", "[1, 2]", ["$: expected an object, got array"], {"run"}),
    ("top_string", '"job"', ["$: expected an object, got string"], ()),
    ("top_null", "null", ["$: expected an object, got null"], ()),
    ("top_number", "42", ["$: expected an object, got number"], ()),
    # ----------------------------------------------------- missing fields
    ("missing_name", doc('"batch_interval": "1s"', SQ, K),
     ["$.name: missing required field"], {"run"}),
    ("missing_batch_interval", doc('"name": "t"', SQ, K),
     ["$.batch_interval: missing required field"], ()),
    ("missing_sinks", doc(H, SQ), ["$.sinks: missing required field"], ()),
    # Without sources, the sink's "nums" names nothing either; the spec
    # does not say where a missing field sorts, hence unordered.
    ("missing_sources", doc(H, K),
     ["$.sources: missing required field",
      '$.sinks[0].from: unknown stream or source "nums"'], {"unordered"}),
    ("missing_all", "{}",
     ["$.name: missing required field",
      "$.batch_interval: missing required field",
      "$.sources: missing required field",
      "$.sinks: missing required field"], {"unordered"}),
    ("no_sources", doc(H, '"sources": {}', K),
     ["$.sources: at least one source is required",
      '$.sinks[0].from: unknown stream or source "nums"'], ()),
    ("no_sinks", doc(H, SQ, '"sinks": []'),
     ["$.sinks: at least one sink is required"], {"run"}),
    # ---------------------------------------------------- wrong types
    ("type_name", doc('"name": 5, "batch_interval": "1s"', SQ, K),
     ["$.name: expected a string, got number"], ()),
    ("type_batch_interval_number", doc('"name": "t", "batch_interval": 5',
                                       SQ, K),
     ["$.batch_interval: expected a duration string such as \"5s\", got number 5"], ()),
    ("type_clock", doc(H, '"clock": true', SQ, K),
     ["$.clock: expected a string, got boolean"], ()),
    ("type_max_batches_string", doc(H, '"max_batches": "3"', SQ, K),
     ["$.max_batches: expected an integer, got string"], ()),
    ("type_max_batches_fraction", doc(H, '"max_batches": 1.5', SQ, K),
     ["$.max_batches: expected an integer, got number"], ()),
    ("type_workers_null", doc(H, '"workers": null', SQ, K),
     ["$.workers: expected an integer, got null"], ()),
    ("type_conf", doc(H, '"conf": []', SQ, K),
     ["$.conf: expected an object, got array"], ()),
    ("type_sources", doc(H, '"sources": []', K),
     ["$.sources: expected an object, got array",
      '$.sinks[0].from: unknown stream or source "nums"'], ()),
    ("type_streams", doc(H, SQ, '"streams": []', K),
     ["$.streams: expected an object, got array"], ()),
    ("type_sinks", doc(H, SQ, '"sinks": {}'),
     ["$.sinks: expected an array, got object"], ()),
    ("type_source", src("nums", '"queue"'),
     ["$.sources.nums: expected an object, got string"], ()),
    ("type_socket_fields",
     src("s", '{"type": "socket", "host": 1, "port": "80"}'),
     ["$.sources.s.host: expected a string, got number",
      "$.sources.s.port: expected an integer, got string"], ()),
    ("type_socket_timeout",
     src("s", '{"type": "socket", "host": "h", "port": 80, '
         '"connect_timeout": 5}'),
     ["$.sources.s.connect_timeout: expected a duration string such as \"5s\", got number 5"], ()),
    ("type_generator_zipf", src("g", '{"type": "generator", "zipf_s": [1]}'),
     ["$.sources.g.zipf_s: expected a string or a number, got array"], ()),
    ("type_generator_words",
     src("g", '{"type": "generator", "words_per_line": "3"}'),
     ["$.sources.g.words_per_line: expected an integer, got string"], ()),
    ("type_socket_reconnect_bool",
     src("s", '{"type": "socket", "host": "h", "port": 80, '
         '"reconnect_min": true}'),
     ["$.sources.s.reconnect_min: expected a string, got boolean"], ()),
    ("type_queue_partitions",
     src("q", '{"type": "queue", "partitions": "2", "batches": []}'),
     ["$.sources.q.partitions: expected an integer, got string"], ()),
    ("type_rate_rows", src("r", '{"type": "rate", "rows_per_second": "10"}'),
     ["$.sources.r.rows_per_second: expected an integer, got string"], ()),
    ("type_source_type", src("nums", '{"type": 1, "batches": []}'),
     ["$.sources.nums.type: expected a string, got number"], ()),
    ("type_stream", doc(H, SQ, streams('"s": []'), K),
     ["$.streams.s: expected an object, got array"], ()),
    ("type_stream_from", doc(H, SQ, streams('"s": {"from": 1}'), K),
     ["$.streams.s.from: expected a string, got number"], ()),
    ("type_ops", doc(H, SQ, streams('"s": {"from": "nums", "ops": {}}'), K),
     ["$.streams.s.ops: expected an array, got object"], ()),
    ("type_op", ops('"map"'), [OP0 + ": expected an object, got string"], ()),
    ("type_op_name", ops('{"op": 1}'),
     [OP0 + ".op: expected a string, got number"], ()),
    ("type_fn", ops('{"op": "map", "fn": 1}'),
     [OP0 + ".fn: expected a function name or object, got number"], ()),
    ("type_fn_name", ops('{"op": "map", "fn": {"name": 5}}'),
     [OP0 + ".fn.name: expected a string, got number"], ()),
    ("type_with", ops('{"op": "union", "with": 1}'),
     [OP0 + ".with: expected a name or array of names, got number"], ()),
    ("type_with_item", ops('{"op": "union", "with": ["nums", 5]}'),
     [OP0 + ".with[1]: expected a string, got number"], ()),
    # Only union takes an array; "a name" is not among the spec's type
    # words but says what join takes.
    ("type_join_with", ops('{"op": "join", "with": 1}'),
     [OP0 + ".with: expected a name, got number"], ()),
    ("type_join_with_array", ops('{"op": "join", "with": ["nums"]}'),
     [OP0 + ".with: expected a name, got array"], ()),
    ("type_window", ops('{"op": "window", "window": 2}'),
     [OP0 + ".window: expected a duration string such as \"5s\", got number 2"], ()),
    ("type_partitions", ops('{"op": "repartition", "partitions": "2"}'),
     [OP0 + ".partitions: expected an integer, got string"], ()),
    ("type_initial",
     ops('{"op": "update_state_by_key", "fn": "sum", "initial": {}}'),
     [OP0 + ".initial: expected an array of pairs, got object"], ()),
    ("type_initial_item", ops('{"op": "update_state_by_key", "fn": "sum", '
                              '"initial": [["a", 1], ["b", 2, 3]]}'),
     [OP0 + ".initial[1]: expected a pair (an array of two values), got "
      "array"], ()),
    ("type_sink", doc(H, SQ, '"sinks": ["nums"]'),
     ["$.sinks[0]: expected an object, got string"], ()),
    ("type_sink_num", sink('{"from": "nums", "type": "console", '
                           '"num": "5"}'),
     ["$.sinks[0].num: expected an integer, got string"], ()),
    ("type_sink_prefix", sink('{"from": "nums", "type": '
                              '"save_as_text_files", "prefix": 5}'),
     ["$.sinks[0].prefix: expected a string, got number"], ()),
    # "values are strings, numbers or booleans": the words are not fixed.
    ("type_conf_value", doc(H, '"conf": {"log.level": {}}', SQ, K),
     [R(r'\$\.conf\["log\.level"\]: expected .+, got object')], ()),
    # ------------------------------------------------- unknown fields
    ("unknown_top", doc(H, '"nmae": "t"', SQ, K),
     ["$.nmae: unknown field (did you mean \"name\"?)"], {"run"}),
    ("unknown_top_quoted", doc(H, '"bad field": 1', SQ, K),
     ['$["bad field"]: unknown field'], ()),
    ("unknown_source_field",
     src("nums", '{"type": "queue", "batches": [], "host": "x"}'),
     ["$.sources.nums.host: unknown field"], ()),
    ("unknown_stream_field", doc(H, SQ, streams(
        '"s": {"from": "nums", "opz": []}'), K),
     ["$.streams.s.opz: unknown field (did you mean \"ops\"?)"], ()),
    ("unknown_op_field", ops('{"op": "map", "fn": "identity", "bogus": 1}'),
     [OP0 + ".bogus: unknown field"], ()),
    # A parameter of other operators is unknown to this one.
    ("unknown_op_param", ops('{"op": "map", "fn": "identity", '
                             '"window": "2s"}'),
     [OP0 + ".window: unknown field"], ()),
    ("unknown_fn_field", ops('{"op": "map", "fn": {"name": "identity", '
                             '"argh": 1}}'),
     [OP0 + ".fn.argh: unknown field (did you mean \"arg\"?)"], ()),
    ("unknown_sink_field", sink('{"from": "nums", "type": "console", '
                                '"colour": "red"}'),
     ["$.sinks[0].colour: unknown field"], ()),
    # ------------------------------------------------- duplicate fields
    ("duplicate_top", doc(H, '"name": "u"', SQ, K),
     ["$.name: duplicate field"], {"run"}),
    ("duplicate_source_field",
     src("nums", '{"type": "queue", "batches": [], "batches": [[1]]}'),
     ["$.sources.nums.batches: duplicate field"], ()),
    ("duplicate_stream", doc(H, SQ, streams(
        '"s": {"from": "nums"}, "s": {"from": "nums"}'), K),
     ["$.streams.s: duplicate field"], ()),
    ("duplicate_source", doc(
        H, '"sources": {"nums": {"type": "queue", "batches": []}, '
        '"nums": {"type": "queue", "batches": [[1]]}}', K),
     ["$.sources.nums: duplicate field"], ()),
    ("duplicate_sinks", doc(H, SQ, K, K), ["$.sinks: duplicate field"], ()),
    ("duplicate_op_field", ops('{"op": "map", "fn": "identity", '
                               '"fn": "lower"}'),
     [OP0 + ".fn: duplicate field"], ()),
    # ---------------------------------------------------------- names
    ("name_space", doc('"name": "x y", "batch_interval": "1s"', SQ, K),
     ['$.name: invalid name "x y" ' + NAME_RULE], ()),
    ("name_empty", doc('"name": "", "batch_interval": "1s"', SQ, K),
     ['$.name: invalid name "" ' + NAME_RULE], ()),
    ("name_too_long", doc('"name": "%s", "batch_interval": "1s"' % ("a" * 65),
                          SQ, K),
     # Names longer than 60 characters are cut in messages.
     ['$.name: invalid name "%s"... %s' % ("a" * 60, NAME_RULE)], ()),
    ("name_source", doc(H, '"sources": {"nums": {"type": "queue", '
                        '"batches": []}, "my src": {"type": "queue", '
                        '"batches": []}}', K),
     ['$.sources["my src"]: invalid name "my src" ' + NAME_RULE], ()),
    ("name_stream", doc(H, SQ, streams('"a/b": {"from": "nums"}'), K),
     ['$.streams["a/b"]: invalid name "a/b" ' + NAME_RULE], ()),
    # A NUL character is no name character (and must not end the string).
    ("name_nul", doc(r'"name": "a\u0000b", "batch_interval": "1s"', SQ, K),
     ["$: invalid JSON near line 1, column 12: \\u0000 in a string is not "
      "supported"], ()),
    # Field names that need escapes are quoted as JSON strings.
    ("unknown_escaped_names", doc(H, r'"a\"b": 1, "\u00e9t\u00e9": 2, '
                                  r'"x\ny": 3', SQ, K),
     ['$["a\\"b"]: unknown field', '$["\u00e9t\u00e9"]: unknown field',
      '$["x\\ny"]: unknown field'], ()),
    ("duplicate_escaped", doc(H, r'"na\u006de": "u"', SQ, K),
     ["$.name: duplicate field"], ()),
    # A valid name that is not a plain identifier is quoted in paths.
    ("name_quoted_path", doc(H, SQ, streams(
        '"my-stream.v2": {"from": "nums", "ops": [{"op": "mapp"}]}'), K),
     ['$.streams["my-stream.v2"].ops[0].op: unknown operator "mapp"' + MAPP_HINT], ()),
    # ------------------------------------------------------ durations
    ("duration_unit", doc('"name": "t", "batch_interval": "1x"', SQ, K),
     ['$.batch_interval: invalid duration "1x" ' + DUR_RULE], {"run"}),
    ("duration_bare", doc('"name": "t", "batch_interval": "10"', SQ, K),
     ['$.batch_interval: invalid duration "10" ' + DUR_RULE], ()),
    ("duration_zero", doc('"name": "t", "batch_interval": "0s"', SQ, K),
     ["$.batch_interval: must be positive"], ()),
    ("duration_negative", doc('"name": "t", "batch_interval": "-1s"', SQ, K),
     ['$.batch_interval: invalid duration "-1s" ' + DUR_RULE], ()),
    ("duration_fraction", doc('"name": "t", "batch_interval": "1.5s"', SQ,
                              K),
     ['$.batch_interval: invalid duration "1.5s" ' + DUR_RULE], ()),
    ("duration_space", doc('"name": "t", "batch_interval": "1 s"', SQ, K),
     ['$.batch_interval: invalid duration "1 s" ' + DUR_RULE], ()),
    ("duration_socket_zero",
     src("s", '{"type": "socket", "host": "h", "port": 80, '
         '"reconnect_max": "0ms"}'),
     ["$.sources.s.reconnect_max: must be positive"], ()),
    ("duration_socket_unit",
     src("s", '{"type": "socket", "host": "h", "port": 80, '
         '"reconnect_min": "1x"}'),
     ['$.sources.s.reconnect_min: invalid duration "1x" ' + DUR_RULE], ()),
    ("duration_timeout", ops('{"op": "map_with_state", "fn": "sum", '
                             '"timeout": "5"}'),
     [OP0 + '.timeout: invalid duration "5" ' + DUR_RULE], ()),
    # --------------------------------------------------------- choices
    ("clock_sun", doc(H, '"clock": "sun"', SQ, K),
     ['$.clock: expected one of "system", "manual"; got "sun"'], ()),
    ("clock_case", doc(H, '"clock": "Manual"', SQ, K),
     ['$.clock: expected one of "system", "manual"; got "Manual" (did you mean "manual"?)'], ()),
    ("emit_bad", ops('{"op": "map_with_state", "fn": "sum", '
                     '"emit": "all"}'),
     [OP0 + '.emit: expected one of "none", "state", "key", "value", '
      '"pair"; got "all"'], ()),
    # ---------------------------------------------------------- ranges
    # The spec says "integer >= 0" without a maximum: any is accepted.
    ("checkpoint_number", doc(H, '"checkpoint": 3', SQ, K),
     ["$.checkpoint: expected a string (the directory) or an object, "
      "got number"], ()),
    ("checkpoint_empty_path", doc(H, '"checkpoint": ""', SQ, K),
     ["$.checkpoint: the checkpoint path is empty"], ()),
    ("checkpoint_no_path", doc(H, '"checkpoint": {"retain_batches": 5}', SQ,
                               K),
     ["$.checkpoint.path: missing required field"], ()),
    ("checkpoint_bad_fields",
     doc(H, '"checkpoint": {"path": "ck", "snapshot_every_batches": 0, '
         '"retain_batches": "x", "keep": 1}', SQ, K),
     [R(r"\$\.checkpoint\.snapshot_every_batches: 0 is out of range "
        r"\(1\.\.\d+\)"),
      R(r"\$\.checkpoint\.retain_batches: expected an integer, got string"),
      "$.checkpoint.keep: unknown field"], ()),
    ("max_batches_negative", doc(H, '"max_batches": -1', SQ, K),
     [R(r"\$\.max_batches: -1 is out of range \(0\.\.\d+\)")], ()),
    ("workers_negative", doc(H, '"workers": -3', SQ, K),
     [R(r"\$\.workers: -3 is out of range \(0\.\.\d+\)")], ()),
    ("port_high", src("s", '{"type": "socket", "host": "h", '
                      '"port": 70000}'),
     ["$.sources.s.port: 70000 is out of range (1..65535)"], ()),
    ("port_zero", src("s", '{"type": "socket", "host": "h", "port": 0}'),
     ["$.sources.s.port: 0 is out of range (1..65535)"], ()),
    ("generator_seed_negative",
     src("g", '{"type": "generator", "seed": -1}'),
     [R(r"\$\.sources\.g\.seed: -1 is out of range \(0\.\.\d+\)")], ()),
    ("generator_zipf_zero", src("g", '{"type": "generator", "zipf_s": 0}'),
     ["$.sources.g.zipf_s: '0' is not a positive decimal number "
      "(e.g. 1.0)"], ()),
    ("rate_partitions_high",
     src("r", '{"type": "rate", "partitions": 5000}'),
     [R(r"\$\.sources\.r\.partitions: 5000 is out of range \(0\.\.\d+\)")],
     ()),
    # ------------------------------------------------ directory sources
    ("dir_no_path", src("d", '{"type": "directory"}'),
     ["$.sources.d.path: missing required field"], ()),
    ("dir_separator_long",
     src("d", '{"type": "directory", "path": "/tmp", "format": "csv", '
         '"separator": ";;"}'),
     ["$.sources.d.separator: must be a single byte"], ()),
    ("dir_quote_same",
     src("d", '{"type": "directory", "path": "/tmp", "separator": "|", '
         '"quote": "|"}'),
     ['$.sources.d.quote: must differ from "separator"'], ()),
    ("dir_header_and_columns",
     src("d", '{"type": "directory", "path": "/tmp", "header": true, '
         '"columns": ["a"]}'),
     ['$.sources.d.header: "header" and "columns" exclude each other'], ()),
    ("dir_columns_empty_name",
     src("d", '{"type": "directory", "path": "/tmp", "columns": "a,,b"}'),
     ["$.sources.d.columns: a column name must be non-empty"], ()),
    ("dir_archive_without_dir",
     src("d", '{"type": "directory", "path": "/tmp", '
         '"clean_source": "archive"}'),
     ['$.sources.d.clean_source: "archive" needs "source_archive_dir"'], ()),
    ("dir_separator_newline",
     src("d", '{"type": "directory", "path": "/tmp", "separator": "\\n"}'),
     ["$.sources.d.separator: must not be a line break"], ()),
    ("dir_archive_empty",
     src("d", '{"type": "directory", "path": "/tmp", '
         '"clean_source": "archive", "source_archive_dir": ""}'),
     ['$.sources.d.clean_source: "archive" needs "source_archive_dir"'], ()),
    ("dir_archive_inside",
     src("d", '{"type": "directory", "path": "/data/in/", '
         '"clean_source": "archive", "source_archive_dir": "/data/in/done"}'),
     ["$.sources.d.source_archive_dir: lies inside the watched directory"],
     ()),
    ("dir_dead_letter_inside",
     src("d", '{"type": "directory", "path": "in", '
         '"dead_letter": "./in/bad.jsonl"}'),
     ["$.sources.d.dead_letter: lies inside the watched directory"], ()),
    ("timeout_emit_value",
     ops('{"op": "map_with_state", "fn": "sum", "timeout": "1s", '
         '"timeout_emit": "value"}'),
     [OP0 + '.timeout_emit: expected one of "none", "state", "key", '
      '"pair"; got "value"'], ()),
    ("dir_bad_watch",
     src("d", '{"type": "directory", "path": "/tmp", "watch": "fanotify"}'),
     ['$.sources.d.watch: expected one of "auto", "inotify", "poll"; got '
      '"fanotify" (did you mean "inotify"?)'], ()),
    ("dir_bad_bool",
     src("d", '{"type": "directory", "path": "/tmp", '
         '"include_existing": "yes"}'),
     ["$.sources.d.include_existing: expected a boolean, got string"], ()),
    ("dir_bad_age",
     src("d", '{"type": "directory", "path": "/tmp", "max_file_age": 7}'),
     ["$.sources.d.max_file_age: expected a duration string such as \"5s\", got number 7"], ()),
    ("queue_partitions_zero",
     src("nums", '{"type": "queue", "partitions": 0, "batches": []}'),
     ["$.sources.nums.partitions: 0 is out of range (1..1024)"], ()),
    ("queue_partitions_high",
     src("nums", '{"type": "queue", "partitions": 1025, "batches": []}'),
     ["$.sources.nums.partitions: 1025 is out of range (1..1024)"], ()),
    ("op_partitions_zero", ops('{"op": "reduce_by_key", "fn": "sum", '
                               '"partitions": 0}'),
     [OP0 + ".partitions: 0 is out of range (1..1024)"], ()),
    ("sink_num_zero", sink('{"from": "nums", "type": "console", "num": 0}'),
     [R(r"\$\.sinks\[0\]\.num: 0 is out of range \(1\.\.\d+\)")], ()),
    # ------------------------------------------------------------ conf
    # Properties are checked by their type, as every other field; what the
    # property table reports comes without the property's name (the path
    # has it).
    ("conf_unknown", doc(H, '"conf": {"no.such": "1"}', SQ, K),
     ['$.conf["no.such"]: unknown configuration property "no.such"'], ()),
    ("conf_bad_choice", doc(H, '"conf": {"log.level": "loud"}', SQ, K),
     ['$.conf["log.level"]: expected one of "error", "warn", "info", '
      '"debug"; got "loud"'], ()),
    ("conf_out_of_range", doc(H, '"conf": {"state.shards": 0}', SQ, K),
     ['$.conf["state.shards"]: 0 is out of range (1..4096)'], ()),
    ("conf_bad_size", doc(H, '"conf": {"receiver.max_buffered_bytes": '
                          '"lots"}', SQ, K),
     ['$.conf["receiver.max_buffered_bytes"]: \'lots\' is not a size '
      '(e.g. 512k, 64m, 1g)'], ()),
    ("conf_bool_for_int", doc(H, '"conf": {"state.shards": true}', SQ, K),
     ['$.conf["state.shards"]: expected an integer, got boolean'], ()),
    # --------------------------------------------------------- sources
    ("source_type_unknown", src("nums", '{"type": "kinesis"}'),
     ['$.sources.nums.type: unknown source type "kinesis" ' + KNOWN_SOURCES],
     {"run"}),
    ("source_type_missing", src("nums", '{"batches": []}'),
     ["$.sources.nums.type: missing required field"], ()),
    ("socket_no_host", src("s", '{"type": "socket", "port": 9999}'),
     ["$.sources.s.host: missing required field"], ()),
    ("socket_no_port", src("s", '{"type": "socket", "host": "h"}'),
     ["$.sources.s.port: missing required field"], ()),
    ("queue_no_batches", src("nums", '{"type": "queue"}'),
     ["$.sources.nums.batches: missing required field"], ()),
    ("queue_batches_number", src("nums", '{"type": "queue", "batches": 5}'),
     ["$.sources.nums.batches: expected an array, got number"], ()),
    # A batch is an array or null; the words for that are not fixed.
    ("queue_batch_number", src("nums", '{"type": "queue", '
                               '"batches": [[1], 5, null]}'),
     [R(r"\$\.sources\.nums\.batches\[1\]: expected an array( or null)?, "
        r"got number")], ()),
    ("queue_batch_string", src("nums", '{"type": "queue", '
                               '"batches": [null, [1], "x"]}'),
     [R(r"\$\.sources\.nums\.batches\[2\]: expected an array( or null)?, "
        r"got string")], ()),
    # --------------------------------------------------------- streams
    ("stream_named_as_source", doc(
        H, '"sources": {"nums": {"type": "queue", "batches": []}, '
        '"other": {"type": "queue", "batches": []}}',
        streams('"nums": {"from": "other"}'), K),
     ['$.streams.nums: "nums" is already the name of a source'], ()),
    ("stream_unknown_from", doc(H, SQ, streams('"s": {"from": "nope"}'), K),
     ['$.streams.s.from: unknown stream or source "nope"'], {"run"}),
    ("stream_missing_from", doc(H, SQ, streams('"s": {"ops": []}'), K),
     ["$.streams.s.from: missing required field"], ()),
    ("stream_unknown_with", ops('{"op": "join", "with": "nope"}'),
     [OP0 + '.with: unknown stream or source "nope"'], ()),
    ("stream_unknown_with_array", ops('{"op": "union", '
                                      '"with": ["nums", "nope"]}'),
     [OP0 + '.with[1]: unknown stream or source "nope"'], ()),
    ("cycle_2", doc(H, SQ, streams('"a": {"from": "b"}, "b": {"from": "a"}'),
                    K),
     ["$.streams.b.from: cycle between streams: a -> b -> a"], {"run"}),
    ("cycle_3", doc(H, SQ, streams('"a": {"from": "b"}, "b": {"from": "c"}, '
                                   '"c": {"from": "a"}'), K),
     ["$.streams.c.from: cycle between streams: a -> b -> c -> a"], ()),
    ("cycle_self", doc(H, SQ, streams('"a": {"from": "a"}'), K),
     ["$.streams.a.from: cycle between streams: a -> a"], ()),
    # Through "with": which edge closes the cycle is open.
    ("cycle_with", doc(H, SQ, streams(
        '"a": {"from": "nums", "ops": [{"op": "union", "with": "b"}]}, '
        '"b": {"from": "a"}'), K),
     [R(r"\$\.streams\.[ab]\.(from|ops\[0\]\.with): cycle between "
        r"streams: (a -> b -> a|b -> a -> b)")], ()),
    # ------------------------------------------------------- operators
    ("op_unknown", ops('{"op": "mapp", "fn": "identity"}'),
     [OP0 + '.op: unknown operator "mapp"' + MAPP_HINT], {"run"}),
    ("op_missing", ops('{"fn": "identity"}'),
     [OP0 + ".op: missing required field"], ()),
    ("op_sql_name", ops('{"op": "sl_dstream_map", "fn": "identity"}'),
     [OP0 + '.op: unknown operator "sl_dstream_map"' + OPS_DOC], ()),
    ("fn_missing", ops('{"op": "map"}'),
     [OP0 + ".fn: missing required field"], ()),
    ("fn_missing_repartition", ops('{"op": "repartition"}'),
     [OP0 + ".partitions: missing required field"], ()),
    ("fn_unknown", ops('{"op": "reduce", "fn": "sums"}'),
     [OP0 + '.fn: unknown function "sums" (did you mean "sum"?)'], ()),
    ("fn_unknown_object", ops('{"op": "reduce", "fn": {"name": "sums"}}'),
     [OP0 + '.fn.name: unknown function "sums" (did you mean "sum"?)'], ()),
    ("fn_object_no_name", ops('{"op": "map", "fn": {"arg": 1}}'),
     [OP0 + ".fn.name: missing required field"], ()),
    ("fn_kind_flat_map_for_map", ops('{"op": "map", "fn": "split_words"}'),
     [OP0 + '.fn: "split_words" is a flat_map function; map needs a map '
      'function'], ()),
    ("fn_kind_map_for_filter", ops('{"op": "filter", "fn": "identity"}'),
     [OP0 + '.fn: "identity" is a map function; filter needs a predicate '
      'function'], ()),
    ("fn_kind_map_for_reduce", ops('{"op": "reduce_by_key", '
                                   '"fn": "pair_one"}'),
     [OP0 + '.fn: "pair_one" is a map function; reduce_by_key needs a '
      'reduce function'], ()),
    ("fn_kind_reduce_for_flat_map", ops('{"op": "flat_map", "fn": "sum"}'),
     [OP0 + '.fn: "sum" is a reduce function; flat_map needs a flat_map '
      'function'], ()),
    ("fn_kind_predicate_for_map", ops('{"op": "map_values", "fn": "even"}'),
     [OP0 + '.fn: "even" is a predicate function; map_values needs a map '
      'function'], ()),
    ("fn_kind_inverse", ops('{"op": "reduce_by_window", "fn": "sum", '
                            '"inverse": "identity", "window": "2s"}'),
     [OP0 + '.inverse: "identity" is a map function; inverse needs a '
      'reduce function'], ()),
    ("fn_add_no_arg", ops('{"op": "map", "fn": "add"}'),
     [OP0 + '.fn: "add" needs arg: a number'], {"run"}),
    ("fn_add_object_no_arg", ops('{"op": "map", "fn": {"name": "add"}}'),
     [OP0 + '.fn: "add" needs arg: a number'], ()),
    ("fn_add_string_arg", ops('{"op": "map", "fn": {"name": "add", '
                              '"arg": "x"}}'),
     [OP0 + '.fn.arg: "add" needs arg: a number'], ()),
    ("fn_sum_with_arg", ops('{"op": "reduce", "fn": {"name": "sum", '
                            '"arg": 1}}'),
     [OP0 + '.fn.arg: "sum" takes no arg'], ()),
    ("fn_on_reduce", ops('{"op": "reduce", "fn": {"name": "sum", '
                         '"on": "key"}}'),
     [OP0 + '.fn.on: "on" applies to map functions and predicates only'],
     ()),
    ("fn_on_flat_map", ops('{"op": "flat_map", "fn": {"name": '
                           '"split_words", "on": "value"}}'),
     [OP0 + '.fn.on: "on" applies to map functions and predicates only'],
     ()),
    ("fn_on_bad_choice", ops('{"op": "map", "fn": {"name": "lower", '
                             '"on": "both"}}'),
     [OP0 + '.fn.on: expected one of "element", "key", "value"; got '
      '"both"'], ()),
    ("fn_fanout_unknown", ops('{"op": "flat_map", "fn": {"name": "fanout", '
                              '"arg": ["identity", "nope"]}}'),
     [OP0 + '.fn.arg[1]: unknown function "nope"'], ()),
    # --------------------------------------------------------- windows
    ("window_not_multiple", ops('{"op": "window", "window": "1500ms"}'),
     [OP0 + ".window: 1500ms is not a multiple of the parent stream's "
      "slide (1s)"], {"run"}),
    ("slide_not_multiple", ops('{"op": "window", "window": "3s", '
                               '"slide": "1500ms"}'),
     [OP0 + ".slide: 1500ms is not a multiple of the parent stream's "
      "slide (1s)"], ()),
    ("window_of_window", doc(H, SQ, streams(
        W2 + ', "w3": {"from": "w", "ops": [{"op": "count_by_window", '
        '"window": "3s"}]}'), K),
     ["$.streams.w3.ops[0].window: 3s is not a multiple of the parent "
      "stream's slide (2s)"], ()),
    ("window_after_window_op", ops(
        '{"op": "window", "window": "4s", "slide": "2s"}',
        '{"op": "reduce_by_window", "fn": "sum", "window": "5s"}'),
     ["$.streams.s.ops[1].window: 5s is not a multiple of the parent "
      "stream's slide (2s)"], ()),
    ("window_missing", ops('{"op": "count_by_window", "slide": "1s"}'),
     [OP0 + ".window: missing required field"], ()),
    ("window_zero", ops('{"op": "window", "window": "0ms"}'),
     [OP0 + ".window: must be positive"], ()),
    ("union_slides", two_slides('{"op": "union", "with": "w"}'),
     ['$.streams.u.ops[0].with: stream "w" has slide 2s, this stream has '
      '1s; they must be equal'], ()),
    ("union_slides_array", two_slides('{"op": "union", "with": ["w"]}'),
     ['$.streams.u.ops[0].with[0]: stream "w" has slide 2s, this stream '
      'has 1s; they must be equal'], ()),
    ("join_slides", two_slides('{"op": "join", "with": "w"}'),
     ['$.streams.u.ops[0].with: stream "w" has slide 2s, this stream has '
      '1s; they must be equal'], ()),
    # --------------------------------------------------- state_snapshots
    ("snapshots_after_map", ops('{"op": "map", "fn": "identity"}',
                                '{"op": "state_snapshots"}'),
     ["$.streams.s.ops[1].op: state_snapshots must follow map_with_state"],
     ()),
    ("snapshots_first_on_source", ops('{"op": "state_snapshots"}'),
     [OP0 + ".op: state_snapshots must follow map_with_state"], ()),
    ("snapshots_not_directly", ops(
        '{"op": "map_with_state", "fn": "sum"}',
        '{"op": "map", "fn": "identity"}', '{"op": "state_snapshots"}'),
     ["$.streams.s.ops[2].op: state_snapshots must follow map_with_state"],
     ()),
    # ----------------------------------------------------------- sinks
    ("sink_unknown_from", sink('{"from": "nope", "type": "console"}'),
     ['$.sinks[0].from: unknown stream or source "nope"'], {"run"}),
    ("sink_missing_from", sink('{"type": "console"}'),
     ["$.sinks[0].from: missing required field"], ()),
    ("sink_bad_format", sink('{"from": "nums", "type": "console", '
                             '"format": "xml"}'),
     ['$.sinks[0].format: expected one of "text", "json", "table"; got "xml"'], ()),
    ("sink_bad_type", sink('{"from": "nums", "type": "kinesis"}'),
     ['$.sinks[0].type: unknown sink type "kinesis" ' + KNOWN_SINKS], ()),
    ("sink_no_prefix", sink('{"from": "nums", "type": '
                            '"save_as_text_files"}'),
     ["$.sinks[0].prefix: missing required field"], ()),
    ("sink_file_no_path", sink('{"from": "nums", "type": "file"}'),
     ["$.sinks[0].path: missing required field"], ()),
    ("sink_file_bad_format", sink('{"from": "nums", "type": "file", '
                                  '"path": "out", "format": "xml"}'),
     ['$.sinks[0].format: expected one of "json", "csv", "text"; got "xml"'],
     ()),
    ("sink_file_empty_path", sink('{"from": "nums", "type": "file", '
                                  '"path": ""}'),
     ["$.sinks[0].path: must not be empty"], ()),
    ("sink_second_bad", sink('{"from": "nums", "type": "console"}',
                             '{"from": "nums", "type": "console", '
                             '"name": "second", "format": "yaml"}'),
     ['$.sinks[1].format: expected one of "text", "json", "table"; got "yaml"'], ()),
    # Sink names: "name", or FROM.TYPE; one name is one sink (its identity
    # for manifests and metrics), so a second is a problem naming both.
    ("sink_names_default_twice", sink('{"from": "nums", "type": "console"}',
                                      '{"from": "nums", "type": "console", '
                                      '"format": "json"}'),
     ['$.sinks[1]: sink name "nums.console" is also the name of $.sinks[0] '
      '(a sink\'s name defaults to FROM.TYPE: give one a "name")'], ()),
    ("sink_names_given_twice", sink('{"from": "nums", "type": "console", '
                                    '"name": "out"}',
                                    '{"from": "nums", "type": "console", '
                                    '"name": "err"}',
                                    '{"from": "nums", "type": '
                                    '"save_as_text_files", "prefix": "p", '
                                    '"name": "out"}'),
     ['$.sinks[2].name: sink name "out" is also the name of $.sinks[0]'],
     ()),
    ("sink_name_is_a_default", sink('{"from": "nums", "type": "console"}',
                                    '{"from": "nums", "type": "console", '
                                    '"name": "nums.console"}'),
     ['$.sinks[1].name: sink name "nums.console" is also the name of '
      '$.sinks[0]'], ()),
    ("sink_name_invalid", sink('{"from": "nums", "type": "console", '
                               '"name": "a b"}'),
     ['$.sinks[0].name: invalid name "a b" ' + NAME_RULE], ()),
    ("sink_name_type", sink('{"from": "nums", "type": "console", '
                            '"name": 3}'),
     ["$.sinks[0].name: expected a string, got number"], ()),
    # ------------------------------------------- several problems, in order
    ("many_problems", doc(
        '"name": "x y", "batch_interval": "1x", "clock": "sun"',
        '"sources": {"nums": {"type": "kinesis"}}',
        streams('"s": {"from": "nums", "ops": [{"op": "mapp"}, '
                '{"op": "reduce", "fn": "sums"}]}'),
        '"sinks": [{"from": "s", "type": "console", "format": "xml"}]'),
     ['$.name: invalid name "x y" ' + NAME_RULE,
      '$.batch_interval: invalid duration "1x" ' + DUR_RULE,
      '$.clock: expected one of "system", "manual"; got "sun"',
      '$.sources.nums.type: unknown source type "kinesis" ' + KNOWN_SOURCES,
      '$.streams.s.ops[0].op: unknown operator "mapp"' + MAPP_HINT,
      '$.streams.s.ops[1].fn: unknown function "sums" (did you mean "sum"?)',
      '$.sinks[0].format: expected one of "text", "json", "table"; got "xml"'],
     {"run"}),
    # A reference problem (found once all names are known) still sorts
    # before a later type problem: file order, not pass order.
    ("problems_file_order", doc(
        H, SQ, streams('"s": {"from": "nope"}, "t": {"from": "nums", '
                       '"ops": [{"op": "map", "fn": 7}]}'),
        '"sinks": [{"from": "nums", "type": "console", "format": "xml"}, '
        '{"from": "nope2", "type": "console"}]'),
     ['$.streams.s.from: unknown stream or source "nope"',
      '$.streams.t.ops[0].fn: expected a function name or object, got '
      'number',
      '$.sinks[0].format: expected one of "text", "json", "table"; got "xml"',
      '$.sinks[1].from: unknown stream or source "nope2"'], ()),
    # Members in an unusual order: sinks first.
    ("problems_sinks_first", doc(
        '"sinks": [{"from": "nums", "type": "console", "num": -1}]',
        '"sources": {"nums": {"type": "queue", "partitions": 0, '
        '"batches": []}}', H, '"bogus": true'),
     [R(r"\$\.sinks\[0\]\.num: -1 is out of range \(1\.\.\d+\)"),
      "$.sources.nums.partitions: 0 is out of range (1..1024)",
      "$.bogus: unknown field"], ()),
    # ------------------------------------------------------- big inputs
    ("huge_unknown_field", doc(H, '"comment": "%s"' % T_BIG, SQ, K),
     ["$.comment: unknown field"], {"run"}),
    ("huge_name", doc('"name": "%s", "batch_interval": "1s"' % T_BIG, SQ, K),
     [R(r'\$\.name: invalid name "a+"(\.\.\.)?( .*)?')], ()),
    ("huge_unknown_op", ops('{"op": "%s"}' % T_BIG),
     [R(re.escape(OP0) + r'\.op: unknown operator "a+"(\.\.\.)?' + re.escape(OPS_DOC))], ()),
    # ------------------------------------------- hints: "did you mean"
    # Spark's camelCase names and Spark's own names for sources and fields.
] + [("hint_op_" + spark, ops('{"op": "%s"}' % spark),
      [OP0 + '.op: unknown operator "%s" (did you mean "%s"?)%s'
       % (spark, ours, OPS_DOC)], ()) for spark, ours in [
    ("reduceByKey", "reduce_by_key"),
    ("updateStateByKey", "update_state_by_key"),
    ("countByWindow", "count_by_window"),
    ("reduceByKeyAndWindow", "reduce_by_key_and_window"),
    ("flatMap", "flat_map"),
    ("mapWithState", "map_with_state"),
    ("ReduceByKey", "reduce_by_key"),
    # Typos: a swap, a missing letter, one wrong letter, a camelCase typo.
    ("redcue_by_key", "reduce_by_key"),
    ("reduce_by_ky", "reduce_by_key"),
    ("mpa", "map"),
    ("filtr", "filter"),
    ("groupByKy", "group_by_key"),
]] + [
    # Too far from every operator, or too short to guess: no hint.
    ("hint_op_none", ops('{"op": "zzzzz"}'),
     [OP0 + '.op: unknown operator "zzzzz"' + OPS_DOC], ()),
    ("hint_op_short", ops('{"op": "ma"}'),
     [OP0 + '.op: unknown operator "ma"' + OPS_DOC], ()),
    ("hint_op_three_edits", ops('{"op": "reduse_bi_kee"}'),
     [OP0 + '.op: unknown operator "reduse_bi_kee"' + OPS_DOC], ()),
    ("hint_field_batch_duration",
     doc('"name": "t", "batchDuration": "1s", "batch_interval": "1s"', SQ,
         K),
     ['$.batchDuration: unknown field (did you mean "batch_interval"?)'],
     {"run"}),
    ("hint_field_camel", ops('{"op": "reduce_by_key", "fn": "sum", '
                             '"numPartitions": 2}'),
     [OP0 + '.numPartitions: unknown field (did you mean "partitions"?)'],
     ()),
    ("hint_field_typo", ops('{"op": "window", "windw": "2s"}'),
     [OP0 + ".window: missing required field",
      OP0 + '.windw: unknown field (did you mean "window"?)'], ()),
    ("hint_source_socket_text_stream",
     src("a", '{"type": "socketTextStream", "host": "h", "port": 1}'),
     ['$.sources.a.type: unknown source type "socketTextStream" (did you '
      'mean "socket"?) ' + KNOWN_SOURCES], ()),
    ("hint_source_text_file_stream",
     src("a", '{"type": "textFileStream", "path": "/tmp"}'),
     ['$.sources.a.type: unknown source type "textFileStream" (did you '
      'mean "directory"?) ' + KNOWN_SOURCES], ()),
    ("hint_source_queue_stream", src("a", '{"type": "queueStream"}'),
     ['$.sources.a.type: unknown source type "queueStream" (did you mean '
      '"queue"?) ' + KNOWN_SOURCES], ()),
    ("hint_source_typo", src("a", '{"type": "sockt"}'),
     ['$.sources.a.type: unknown source type "sockt" (did you mean '
      '"socket"?) ' + KNOWN_SOURCES], ()),
    ("hint_source_none", src("a", '{"type": "kinesis"}'),
     ['$.sources.a.type: unknown source type "kinesis" ' + KNOWN_SOURCES], ()),
    ("hint_fn_spark", ops('{"op": "map", "fn": "toUpperCase"}'),
     [OP0 + '.fn: unknown function "toUpperCase" (did you mean "upper"?)'],
     ()),
    ("hint_fn_camel", ops('{"op": "map", "fn": "pairOne"}'),
     [OP0 + '.fn: unknown function "pairOne" (did you mean "pair_one"?)'],
     ()),
    ("hint_fn_typo", ops('{"op": "map", "fn": {"name": "uper"}}'),
     [OP0 + '.fn.name: unknown function "uper" (did you mean "upper"?)'],
     ()),
    ("hint_conf_typo",
     doc(H, '"conf": {"receiver.max_bufferd_bytes": "1m"}', SQ, K),
     ['$.conf["receiver.max_bufferd_bytes"]: unknown configuration '
      'property "receiver.max_bufferd_bytes" (did you mean '
      '"receiver.max_buffered_bytes"?)'], ()),
    # Sink types' hints come from the sink-type registry.
    ("hint_sink_print", sink('{"from": "nums", "type": "print"}'),
     ['$.sinks[0].type: unknown sink type "print" (did you mean "console"?) '
      + KNOWN_SINKS], ()),
    ("hint_sink_camel", sink('{"from": "nums", "type": "saveAsTextFiles", '
                             '"prefix": "x"}'),
     ['$.sinks[0].type: unknown sink type "saveAsTextFiles" (did you mean '
      '"save_as_text_files"?) ' + KNOWN_SINKS], ()),
    ("hint_sink_typo", sink('{"from": "nums", "type": "consle"}'),
     ['$.sinks[0].type: unknown sink type "consle" (did you mean "console"?) '
      + KNOWN_SINKS], ()),
    ("hint_sink_near_miss", sink('{"from": "nums", "type": '
                                 '"save_as_textfile", "prefix": "x"}'),
     ['$.sinks[0].type: unknown sink type "save_as_textfile" (did you mean '
      '"save_as_text_files"?) ' + KNOWN_SINKS], ()),
    # A bare number where a duration is expected (Spark's Seconds(5)).
    ("duration_number_fraction", ops('{"op": "window", "window": 0.5}'),
     [OP0 + '.window: expected a duration string such as "5s", got number '
      '0.5'], ()),
    ("duration_number_conf", doc(H, '"conf": {"stop.graceful_timeout": 30}',
                                 SQ, K),
     ['$.conf["stop.graceful_timeout"]: expected a duration string such as '
      '"5s", got number 30'], ()),
    # ------------------------------ job names that name folders and args
    ("job_name_dot", doc('"name": ".", "batch_interval": "1s"', SQ, K),
     ['$.name: invalid job name ".": "." and ".." are not allowed (a '
      "job's name will name its run folder)"], {"run"}),
    ("job_name_dotdot", doc('"name": "..", "batch_interval": "1s"', SQ, K),
     ['$.name: invalid job name "..": "." and ".." are not allowed (a '
      "job's name will name its run folder)"], ()),
    ("job_name_dash", doc('"name": "-rf", "batch_interval": "1s"', SQ, K),
     ['$.name: invalid job name "-rf": it must not start with \'-\' (a '
      "job's name will be a command argument)"], {"run"}),
    ("job_name_dash_only", doc('"name": "-", "batch_interval": "1s"', SQ, K),
     ['$.name: invalid job name "-": it must not start with \'-\' (a '
      "job's name will be a command argument)"], ()),
    # Invalid UTF-8 inside a string: refused as JSON, or read as bytes.
    ("invalid_utf8", (doc(H, '"comment": "\udcff\udcfe"', SQ, K))
     .encode("utf-8", "surrogateescape"),
     [R(r"\$(: invalid JSON near line 1, column \d+|\.comment: unknown "
        r"field)")], ()),
]

# Valid jobs: each must print "FILE: valid" and exit 0.
VALID = [
    ("valid_minimal", doc(H, SQ, K)),
    # Two sinks of one type on one stream, told apart by "name".
    ("valid_sink_names", sink('{"from": "nums", "type": "console"}',
                              '{"from": "nums", "type": "console", '
                              '"format": "json", "name": "nums.json"}')),
    # Dots and dashes inside a job's name stay valid.
    ("valid_name_dots", doc('"name": "...a.-b-", "batch_interval": "1s"',
                            SQ, K)),
    ("valid_doc_example", """{
  "name": "windowed-wordcount",
  "batch_interval": "1s",
  "clock": "system",
  "max_batches": 0,
  "sources": {
    "lines": {"type": "socket", "host": "127.0.0.1", "port": 9999}
  },
  "streams": {
    "pairs":  {"from": "lines", "ops": [{"op": "flat_map", "fn": "split_words"},
                                        {"op": "map", "fn": "pair_one"}]},
    "counts": {"from": "pairs", "ops": [{"op": "reduce_by_key_and_window", "fn": "sum",
                                         "inverse": "subtract", "window": "30s", "slide": "10s"}]}
  },
  "sinks": [{"from": "counts", "type": "console", "format": "text"}]
}"""),
    ("valid_everything", """{
  "sinks": [{"from": "counts", "type": "console", "format": "json"},
            {"from": "snap", "type": "console", "num": 3},
            {"from": "evens", "type": "save_as_text_files", "prefix": "out/e",
             "suffix": "txt"},
            {"from": "nums", "type": "console"}],
  "name": "every.thing_1-2",
  "batch_interval": "500ms",
  "clock": "manual",
  "max_batches": 4,
  "workers": 2,
  "conf": {"log.level": "warn", "state.shards": 4,
           "receiver.max_buffered_bytes": "64m"},
  "streams": {
    "counts": {"from": "win", "ops": [{"op": "count_by_window", "window": "2s"}]},
    "win": {"from": "pairs", "ops": [{"op": "window", "window": "2s", "slide": "1s"}]},
    "pairs": {"from": "words", "ops": [{"op": "map", "fn": "pair_one"}]},
    "words": {"from": "lines", "ops": [{"op": "flat_map", "fn": "split_words"},
                                       {"op": "map", "fn": "lower"}]},
    "evens": {"from": "nums", "ops": [{"op": "filter", "fn": "even"},
      {"op": "map", "fn": {"name": "add", "arg": 1}},
      {"op": "map", "fn": {"name": "pair_with", "arg": ["x", 1]}},
      {"op": "map_values", "fn": {"name": "multiply", "arg": 2.5}},
      {"op": "filter", "fn": {"name": "ne", "arg": 0, "on": "value"}},
      {"op": "union", "with": ["kv", "kv2"]}]},
    "kv": {"from": "nums", "ops": [{"op": "map", "fn": "pair_one"},
      {"op": "reduce_by_key", "fn": "sum", "partitions": 3},
      {"op": "join", "with": "kv2"},
      {"op": "map_values", "fn": "to_string"}]},
    "kv2": {"from": "nums", "ops": [{"op": "map", "fn": "pair_one"},
      {"op": "update_state_by_key", "fn": "sum", "initial": [["a", 1], [2, 3]]}]},
    "mws": {"from": "kv2", "ops": [{"op": "map_with_state", "fn": "max",
      "emit": "pair", "timeout": "3s", "timeout_emit": "key",
      "initial": [["a", 1]]}]},
    "snap": {"from": "mws", "ops": [{"op": "state_snapshots"}]},
    "fan": {"from": "nums", "ops": [{"op": "flat_map", "fn": {"name": "fanout",
      "arg": ["identity", {"name": "multiply", "arg": 2}]}},
      {"op": "map_partitions", "fn": "sum", "zero": 0},
      {"op": "glom"}, {"op": "flat_map", "fn": "flatten"},
      {"op": "count_by_value", "partitions": 2},
      {"op": "combine_by_key", "create": "identity", "merge_value": "sum",
       "merge_combiners": "sum"},
      {"op": "group_by_key"}, {"op": "cogroup", "with": "kv"},
      {"op": "left_outer_join", "with": "kv"},
      {"op": "right_outer_join", "with": "kv"},
      {"op": "full_outer_join", "with": "kv"},
      {"op": "repartition", "partitions": 1024},
      {"op": "reduce_by_key_and_window", "fn": "sum", "inverse": "subtract",
       "filter": {"name": "gt", "arg": 0, "on": "value"}, "window": "2s",
       "slide": "1s"},
      {"op": "count_by_value_and_window", "window": "2s"},
      {"op": "group_by_key_and_window", "window": "4s", "slide": "2s"},
      {"op": "reduce_by_window", "fn": "first", "window": "4s"},
      {"op": "reduce", "fn": "last"}, {"op": "count"}]}
  },
  "sources": {
    "nums": {"type": "queue", "partitions": 2,
             "batches": [[1, 2, 3], [], null, [["a", 1], ["b", 2.5]], [true, "s", null]]},
    "lines": {"type": "generator", "lines_per_batch": 10, "words_per_line": 3,
              "vocabulary": 50, "zipf_s": 1.2, "seed": 7, "partitions": 2},
    "r": {"type": "rate", "rows_per_second": 100, "partitions": 0},
    "sock": {"type": "socket", "host": "localhost", "port": 65535,
             "connect_timeout": "2s", "reconnect_min": "50ms", "reconnect_max": "1m"}
  }
}"""),
    ("valid_name_64", doc('"name": "%s", "batch_interval": "1h"' % ("n" * 64),
                          '"sources": {"%s": {"type": "queue", "batches": []}}'
                          % ("s" * 64),
                          '"sinks": [{"from": "%s", "type": "console"}]'
                          % ("s" * 64))),
    ("valid_huge_record", doc(H, '"sources": {"nums": {"type": "queue", '
                              '"batches": [["%s"]]}}' % T_BIG, K)),
]


def run_streamctl(args, cwd):
    """(status, stdout, stderr) of streamctl with args (joblib)."""
    return joblib.run_streamctl(STREAMCTL, args, cwd, TIMEOUT)


def line_matches(want, got):
    if isinstance(want, str):
        return want == got
    return want.fullmatch(got) is not None


def short(s, n=300):
    s = s if isinstance(s, str) else "/%s/" % s.pattern
    return s if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


def check_lines(fname, expect, err, unordered):
    """The stderr lines are "fname: " + each expected problem."""
    got = err.split("\n")
    if got and got[-1] == "":
        got.pop()
    else:
        raise Failure("stderr does not end with a newline: %r"
                      % short(err, 500))
    prefix = fname + ": "
    bad = [g for g in got if not g.startswith(prefix)]
    if bad:
        raise Failure("stderr lines without the prefix %r: %r"
                      % (prefix, [short(b) for b in bad]))
    got = [g[len(prefix):] for g in got]
    ok = len(got) == len(expect)
    if ok and not unordered:
        ok = all(line_matches(w, g) for w, g in zip(expect, got))
    elif ok:
        rest = list(got)
        for w in expect:
            hit = next((g for g in rest if line_matches(w, g)), None)
            if hit is None:
                ok = False
                break
            rest.remove(hit)
    if not ok:
        raise Failure("problem lines differ\n  expected:\n%s\n  got:\n%s"
                      % ("\n".join("    " + short(w) for w in expect),
                         "\n".join("    " + short(g) for g in got)))


def check_invalid(cmd, fname, expect, cwd, unordered=False):
    status, out, err = run_streamctl([cmd, fname], cwd)
    if status != 3:
        raise Failure("%s: exit status %d, expected 3; stderr %r"
                      % (cmd, status, short(err, 1000)))
    if out != "":
        raise Failure("%s: stdout not empty: %r" % (cmd, short(out, 500)))
    check_lines(fname, expect, err, unordered)


def write(path, text):
    with open(path, "wb") as f:
        f.write(text if isinstance(text, bytes) else text.encode())


def test_case(tmp, name, text, expect, flags):
    fname = name + ".json"
    write(os.path.join(tmp, fname), text)
    check_invalid("validate", fname, expect, tmp, "unordered" in flags)
    if "run" in flags:
        check_invalid("run", fname, expect, tmp, "unordered" in flags)


def test_valid(tmp, name, text, cwd=None):
    path = os.path.join(tmp, name + ".json") if text is not None else name
    if text is not None:
        write(path, text)
    # --no-env: these files are about the format, not about this machine
    # (their output prefixes need not exist); test_job_env checks that.
    status, out, err = run_streamctl(["validate", "--no-env", path],
                                     cwd or tmp)
    if status != 0 or out != "%s: valid\n" % path:
        raise Failure("exit status %d, stdout %r, stderr %r (expected 0 and "
                      "'%s: valid')" % (status, short(out), short(err, 2000),
                                        path))


def test_files(tmp):
    """File-level rows: missing file, a directory, several files, and the
    file name printed as given."""
    check_invalid("validate", "missing.json",
                  ['$: cannot read "missing.json": No such file or '
                   'directory'], tmp)
    check_invalid("run", "missing.json",
                  ['$: cannot read "missing.json": No such file or '
                   'directory'], tmp)
    os.mkdir(os.path.join(tmp, "adir"))
    check_invalid("validate", "adir",
                  ['$: cannot read "adir": Is a directory'], tmp)
    sub = os.path.join(tmp, "sub dir")
    os.mkdir(sub)
    write(os.path.join(sub, "j.json"), doc(H, '"clock": "sun"', SQ, K))
    absname = os.path.join(sub, "j.json")
    check_invalid("validate", absname,
                  ['$.clock: expected one of "system", "manual"; got '
                   '"sun"'], tmp)
    check_invalid("validate", "sub dir/j.json",
                  ['$.clock: expected one of "system", "manual"; got '
                   '"sun"'], tmp)
    # Several files: each is reported under its own name, in order; the
    # status is 3 when any is invalid.
    write(os.path.join(tmp, "ok.json"), doc(H, SQ, K))
    write(os.path.join(tmp, "bad.json"), "[]")
    status, out, err = run_streamctl(
        ["validate", "ok.json", "bad.json", "missing.json", "ok.json"], tmp)
    want_err = ("bad.json: $: expected an object, got array\n"
                'missing.json: $: cannot read "missing.json": No such file '
                "or directory\n")
    if status != 3 or out != "ok.json: valid\nok.json: valid\n" or \
            err != want_err:
        raise Failure("validate of 4 files: status %d, stdout %r, stderr %r"
                      % (status, out, err))
    status, out, err = run_streamctl(["validate", "ok.json", "ok.json"], tmp)
    if status != 0 or out != "ok.json: valid\nok.json: valid\n":
        raise Failure("validate of 2 valid files: status %d, stdout %r, "
                      "stderr %r" % (status, out, err))


def main():
    global STREAMCTL
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[1])
        return 2
    STREAMCTL = os.path.abspath(sys.argv[1])
    root = sys.argv[2]
    if not os.access(STREAMCTL, os.X_OK):
        print("FAIL: %s is not an executable" % STREAMCTL)
        return 1
    names = [c[0] for c in CASES] + [v[0] for v in VALID]
    assert len(names) == len(set(names)), "duplicate case names"
    failures = []
    with tempfile.TemporaryDirectory(prefix="sl-badjobs-") as tmp:
        for name, text, expect, flags in CASES:
            try:
                test_case(tmp, name, text, expect, set(flags))
                print("ok   %s" % name, flush=True)
            except Failure as e:
                failures.append(name)
                print("FAIL %s: %s" % (name, e), flush=True)
        for name, text in VALID:
            try:
                test_valid(tmp, name, text)
                print("ok   %s" % name, flush=True)
            except Failure as e:
                failures.append(name)
                print("FAIL %s: %s" % (name, e), flush=True)
        jobs = os.path.join(os.path.abspath(root), "examples", "streaming",
                        "jobs")
        examples = sorted(f for f in os.listdir(jobs) if f.endswith(".json")) \
            if os.path.isdir(jobs) else []
        if not examples:
            print("note: no examples/streaming/jobs/*.json to validate")
        # The Kafka examples read ${ENV:KAFKA_BOOTSTRAP}, which their docs
        # export first (validate needs no broker).
        os.environ.setdefault("KAFKA_BOOTSTRAP", "127.0.0.1:9092")
        for f in examples:
            try:
                test_valid(tmp, os.path.join(jobs, f), None)
                print("ok   example %s" % f, flush=True)
            except Failure as e:
                failures.append("example " + f)
                print("FAIL example %s: %s" % (f, e), flush=True)
        try:
            test_files(tmp)
            print("ok   files", flush=True)
        except Failure as e:
            failures.append("files")
            print("FAIL files: %s" % e, flush=True)
    total = len(CASES) + len(VALID) + len(examples) + 1
    print("%d of %d checks passed (%d broken files, %d valid files)"
          % (total - len(failures), total, len(CASES),
             len(VALID) + len(examples)))
    if failures:
        print("failed: %s" % ", ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
