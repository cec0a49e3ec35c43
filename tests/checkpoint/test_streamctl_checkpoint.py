#!/usr/bin/env python3
"""streamctl checkpoint inspect and rollback on a checkpoint directory that
this test writes itself from docs/checkpoint-format.md (so the documented
header is checked against the C reader): the table and JSON descriptions,
problems named by file and reason (exit 1), rollback of later batches,
refusal beyond what is kept, and usage errors (exit 2). Then a real job's
checkpoint (a socket source over 127.0.0.1 with keyed state): a damaged
delta, a missing middle delta, a damaged WAL record before the last (a
torn last one is only a note) and a file the last commit lists deleted
are each named as a restart names them.

usage: test_streamctl_checkpoint.py STREAMCTL
"""

import glob
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import zlib

from cklib import serve_lines

STREAMCTL = None


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def header_file(path, magic, payload, version=1):
    """Write path as docs/checkpoint-format.md "Headers" describes."""
    head = struct.pack("<IQ", version, len(payload))
    reserved = struct.pack("<I", 0)
    crc = zlib.crc32(head + reserved + payload) & 0xFFFFFFFF
    with open(path, "wb") as f:
        f.write(magic + head + struct.pack("<I", crc) + reserved + payload)


def uvarint(x):
    out = b""
    while True:
        if x < 0x80:
            return out + bytes([x])
        out += bytes([(x & 0x7F) | 0x80])
        x >>= 7


def zstd_raw(data):
    """One zstd frame holding data in a raw block, its size declared."""
    assert len(data) < 256
    return (struct.pack("<I", 0xFD2FB528) + bytes([0x20, len(data)]) +
            struct.pack("<I", (len(data) << 3) | 1)[:3] + data)


def state_file(path, version, base, magic):
    """An empty delta or snapshot of shard 0 of 1 ("State files")."""
    zz = (base << 1) ^ (base >> 63)
    raw = (bytes([1]) + uvarint(0) + uvarint(1) + uvarint(version) +
           uvarint(zz & (2**64 - 1)) + uvarint(0))
    header_file(path, magic, zstd_raw(raw))
    return os.path.getsize(path)


def make_checkpoint(d, offsets, commits):
    os.makedirs(os.path.join(d, "offsets"))
    os.makedirs(os.path.join(d, "commits"))
    os.makedirs(os.path.join(d, "state", "counts", "0"))
    header_file(os.path.join(d, "metadata"), b"SLMD",
                b"0123abcd-0000-4000-8000-00000000cafe\n{\"fp\": 1}")
    for b in offsets:
        header_file(os.path.join(d, "offsets", str(b)), b"SLOF",
                    json.dumps({"batch": b}).encode())
    for b in commits:
        header_file(os.path.join(d, "commits", str(b)), b"SLCM",
                    json.dumps({"batch": b, "files": []}).encode())
    shard = os.path.join(d, "state", "counts", "0")
    return sum(state_file(os.path.join(shard, name), v, base, magic)
               for name, v, base, magic in (
                   ("1.delta", 1, -1, b"SLSD"), ("2.delta", 2, 1, b"SLSD"),
                   ("2.snapshot", 2, -2, b"SLSS")))


def run(*args):
    p = subprocess.run([STREAMCTL] + list(args), capture_output=True,
                       text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def test_inspect(d, state_bytes):
    rc, out, err = run("checkpoint", "inspect", d, "--format", "json")
    check(rc == 0, "inspect json: status %d, stderr %r" % (rc, err))
    desc = json.loads(out)
    check(desc["job_id"] == "0123abcd-0000-4000-8000-00000000cafe",
          "job id %r" % desc["job_id"])
    check(desc["last_offsets"] == 5 and desc["last_commit"] == 4,
          "last entries %r" % out)
    states = [(b["batch"], b["state"]) for b in desc["batches"]]
    check(states == [(1, "committed"), (2, "committed"), (3, "committed"),
                     (4, "committed"), (5, "uncommitted")],
          "batches %r" % states)
    dirs = {x["name"]: x for x in desc["dirs"]}
    check(dirs["state"]["files"] == 3
          and dirs["state"]["bytes"] == state_bytes,
          "state dir %r" % dirs.get("state"))
    check(desc["state"] == [{"op": "counts", "shard": "0", "deltas": 2,
                             "snapshots": 1, "first_version": 1,
                             "last_version": 2, "last_snapshot": 2,
                             "bytes": state_bytes}],
          "state %r" % desc["state"])
    check(desc["problems"] == [], "problems %r" % desc["problems"])
    rc, out, err = run("checkpoint", "inspect", d)
    check(rc == 0 and "problems: none" in out and "uncommitted" in out
          and "counts" in out,
          "inspect table: %d %r %r" % (rc, out, err))


def test_problems(d):
    path = os.path.join(d, "commits", "3")
    with open(path, "r+b") as f:
        f.seek(30)
        b = f.read(1)
        f.seek(30)
        f.write(bytes([b[0] ^ 0x01]))
    os.truncate(os.path.join(d, "offsets", "2"), 10)
    rc, out, err = run("checkpoint", "inspect", d, "--format", "json")
    check(rc == 1, "corrupt: status %d" % rc)
    probs = json.loads(out)["problems"]
    check(len(probs) == 2, "problems %r" % probs)
    check(any(p.endswith("commits/3: checksum mismatch") for p in probs),
          "flipped byte not named: %r" % probs)
    check(any(p.endswith("offsets/2: truncated: 10 of 24 header bytes")
              for p in probs), "truncation not named: %r" % probs)
    os.unlink(os.path.join(d, "metadata"))
    rc, out, err = run("checkpoint", "inspect", d)
    check(rc == 1 and "metadata: missing" in out,
          "missing metadata: %d %r" % (rc, out))


def add_windows_sources(d):
    """windows/<op>/<b>.window and sources/<source>/<b>.log files, checked
    headers as docs/checkpoint-format.md describes."""
    os.makedirs(os.path.join(d, "windows", "sums"))
    os.makedirs(os.path.join(d, "sources", "files"))
    for b in (3, 4):
        header_file(os.path.join(d, "windows", "sums", "%d.window" % b),
                    b"SLWN", b"w" * (10 * b))
    header_file(os.path.join(d, "sources", "files", "4.log"), b"SLSO",
                b'{"version":1,"started_ms":1,"files":[]}')


def versioned_rows(desc, key, name):
    return {x[name]: (x["files"], x["bytes"], x["first_batch"],
                      x["last_batch"]) for x in desc[key]}


def test_windows_sources(d):
    add_windows_sources(d)
    rc, out, err = run("checkpoint", "inspect", d, "--format", "json")
    check(rc == 0, "windows/sources: status %d %r %r" % (rc, out, err))
    desc = json.loads(out)
    check(versioned_rows(desc, "windows", "op") ==
          {"sums": (2, 24 + 30 + 24 + 40, 3, 4)}, "windows %r" % out)
    log_size = 24 + len(b'{"version":1,"started_ms":1,"files":[]}')
    check(versioned_rows(desc, "sources", "source") ==
          {"files": (1, log_size, 4, 4)}, "sources %r" % out)
    rc, out, err = run("checkpoint", "inspect", d)
    check(rc == 0 and "sums" in out and "window op" in out
          and "source log" in out, "table: %d %r" % (rc, out))
    wpath = os.path.join(d, "windows", "sums", "4.window")
    with open(wpath, "r+b") as f:
        f.seek(30)
        f.write(b"x")
    os.truncate(os.path.join(d, "sources", "files", "4.log"), 30)
    rc, out, err = run("checkpoint", "inspect", d, "--format", "json")
    check(rc == 1, "damaged window/log: status %d %r" % (rc, out))
    probs = json.loads(out)["problems"]
    check(any(p.endswith("windows/sums/4.window: checksum mismatch")
              for p in probs), "window not named: %r" % probs)
    check(any(p.endswith("sources/files/4.log: truncated: 30 of %d bytes"
                         % log_size) for p in probs),
          "source log not named: %r" % probs)
    check(len(probs) == 2, "problems %r" % probs)
    rc, out, err = run("checkpoint", "inspect", d)
    check(rc == 1 and "4.window: checksum mismatch" in out
          and "4.log: truncated" in out, "table problems: %r" % out)


# Temporaries (".NAME.tmp" beside NAME) an interrupted write leaves in each
# directory a checkpoint owns, and look-alikes that are not of that form.
TEMPS = ["metadata", "offsets/6", "commits/5", "wal/1-2.wal",
         "state/counts/0/3.delta", "state/counts/0/4.snapshot",
         "windows/sums/5.window", "sources/files/5.log"]
LOOKALIKES = ["notes.tmp", "offsets/.6.tmp2", "commits/5.tmp",
              "state/counts/0/.x.delta.tmp", "windows/sums/.tmp",
              "sources/files/.5.log.tmp.keep", ".foo.tmp", "wal/.segment.tmp"]


def temp_path(d, rel):
    head, base = os.path.split(rel)
    return os.path.join(d, head, "." + base + ".tmp")


def make_temps(d):
    for rel in TEMPS:
        p = temp_path(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(b"half")
    for rel in LOOKALIKES:
        with open(os.path.join(d, rel), "wb") as f:
            f.write(b"keep")


def test_leftovers(d):
    make_temps(d)
    rc, out, err = run("checkpoint", "inspect", d, "--format", "json")
    check(rc == 0, "leftovers are no problem: %d %r" % (rc, out))
    got = sorted(os.path.normpath(p) for p in json.loads(out)["leftovers"])
    want = sorted(os.path.normpath(temp_path(d, rel)) for rel in TEMPS)
    check(got == want, "leftovers %r, want %r" % (got, want))
    rc, out, err = run("checkpoint", "inspect", d)
    check(rc == 0 and "leftovers" in out and ".3.delta.tmp" in out,
          "table leftovers: %r" % out)


def listing(d, sub):
    return sorted(int(n) for n in os.listdir(os.path.join(d, sub)))


def test_rollback(d):
    rc, out, err = run("checkpoint", "rollback", d, "--to", "2")
    check(rc == 0, "rollback: %d %r" % (rc, err))
    check("rolled back to batch 2" in out, "rollback output %r" % out)
    check(listing(d, "offsets") == [1, 2] and listing(d, "commits") == [1, 2],
          "after rollback: %r %r" % (listing(d, "offsets"),
                                     listing(d, "commits")))
    rc, out, err = run("checkpoint", "rollback", d, "--to", "4")
    check(rc == 1 and "cannot roll back to batch 4" in err
          and "kept: 1 to 2" in err, "beyond: %d %r" % (rc, err))
    rc, out, err = run("checkpoint", "rollback", d + "/nope", "--to", "1")
    check(rc == 1 and "nope/metadata" in err, "no checkpoint: %d %r"
          % (rc, err))


def test_usage(d):
    for args in (["checkpoint"], ["checkpoint", "inspect"],
                 ["checkpoint", "rollback", d],
                 ["checkpoint", "rollback", d, "--to", "x"],
                 ["checkpoint", "inspect", d, "--format", "xml"],
                 ["checkpoint", "inspect", d, "--to", "1"],
                 ["checkpoint", "purge", d]):
        rc, out, err = run(*args)
        check(rc == 2 and "usage: streamctl checkpoint" in err,
              "%r: status %d, stderr %r" % (args, rc, err))
    rc, out, err = run("--help")
    check("checkpoint inspect DIR" in out, "--help lacks checkpoint")
    rc, out, err = run("help", "checkpoint")
    check(rc == 0 and "--format table|json" in out, "help checkpoint")

def real_checkpoint(root):
    """A socket job with keyed state, run to its end; the final snapshots
    removed (what a crash just before them leaves), so that a restart
    restores the deltas' chain."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    threading.Thread(target=serve_lines, args=(srv,), daemon=True).start()
    d = os.path.join(root, "real")
    os.makedirs(d)
    job = {"name": "inspectreal", "batch_interval": "200ms",
           "max_batches": 5,
           "checkpoint": {"path": os.path.join(d, "ck"),
                          "snapshot_every_batches": 1000},
           "conf": {"log.level": "warn"},
           "sources": {"lines": {"type": "socket", "host": "127.0.0.1",
                                 "port": srv.getsockname()[1]}},
           "streams": {
               "pairs": {"from": "lines",
                         "ops": [{"op": "flat_map", "fn": "split_words"},
                                 {"op": "map", "fn": "pair_one"}]},
               "totals": {"from": "pairs",
                          "ops": [{"op": "update_state_by_key",
                                   "fn": "sum"}]}},
           "sinks": [{"from": "totals", "type": "file", "format": "json",
                      "path": os.path.join(d, "out")}]}
    with open(os.path.join(d, "job.json"), "w") as f:
        json.dump(job, f)
    r = subprocess.run([STREAMCTL, "run", os.path.join(d, "job.json")],
                       capture_output=True, text=True, timeout=60)
    srv.close()
    check(r.returncode == 0, "socket job: %r" % r.stderr)
    ck = os.path.join(d, "ck")
    last = max(int(n) for n in os.listdir(os.path.join(ck, "commits")))
    for p in glob.glob(os.path.join(ck, "state", "*", "*", "*.snapshot")):
        os.unlink(p)
    return ck, last


def flip_at(p, i):
    with open(p, "r+b") as f:
        f.seek(i)
        b = f.read(1)
        f.seek(i)
        f.write(bytes([b[0] ^ 0x40]))


def inspect_both(d):
    """(status, problems, notes) of the JSON output, and the table."""
    rc, out, err = run("checkpoint", "inspect", d, "--format", "json")
    desc = json.loads(out)
    rc2, table, err2 = run("checkpoint", "inspect", d)
    check(rc == rc2, "json %d, table %d" % (rc, rc2))
    for p in desc["problems"] + desc.get("notes", []):
        check(p in table, "table lacks %r:\n%s" % (p, table))
    return rc, desc["problems"], desc.get("notes"), table


def longest_chain(ck):
    """The shard directory with the most deltas, and their versions."""
    best = (None, [])
    for sh in glob.glob(os.path.join(ck, "state", "*", "*")):
        v = sorted(int(n[:-6]) for n in os.listdir(sh)
                   if n.endswith(".delta"))
        if len(v) > len(best[1]):
            best = (sh, v)
    check(len(best[1]) >= 3, "no shard with 3 deltas: %r" % (best,))
    return best


def test_real(root):
    ck, last = real_checkpoint(root)
    rc, probs, notes, _ = inspect_both(ck)
    check(rc == 0 and probs == [] and notes == [],
          "real checkpoint: %d %r %r" % (rc, probs, notes))

    def copy(name):
        d = os.path.join(root, name)
        shutil.copytree(ck, d)
        return d

    # A byte flipped in a delta before the newest.
    d = copy("flip_delta")
    sh, v = longest_chain(d)
    flip_at(os.path.join(sh, "%d.delta" % v[-2]), 30)
    rc, probs, _, _ = inspect_both(d)
    check(rc == 1 and any(p.endswith("/%d.delta: checksum mismatch" % v[-2])
                          for p in probs), "flipped delta: %d %r" % (rc, probs))

    # A middle delta deleted: the next names it as restore does.
    d = copy("missing_delta")
    sh, v = longest_chain(d)
    os.unlink(os.path.join(sh, "%d.delta" % v[-2]))
    rc, probs, _, _ = inspect_both(d)
    want = ("%s/%d.delta: follows version %d, but the file before it is "
            "version %d: missing %s/%d.delta or %s/%d.snapshot"
            % (sh, v[-1], v[-2], v[-3], sh, v[-2], sh, v[-2]))
    check(rc == 1 and want in probs, "missing delta: %d %r\nwant %r"
          % (rc, probs, want))

    # WAL: a record before the last damaged is a problem; the last one
    # damaged is a torn end, a note only.
    seg = max(glob.glob(os.path.join(ck, "wal", "*.wal")),
              key=os.path.getsize)
    rel = os.path.relpath(seg, ck)
    d = copy("wal_first")
    flip_at(os.path.join(d, rel), 24 + 60)
    rc, probs, _, _ = inspect_both(d)
    check(rc == 1 and any(os.path.basename(seg) in p and
                          "record at offset 24: checksum mismatch" in p
                          for p in probs), "WAL record: %d %r" % (rc, probs))
    d = copy("wal_last")
    flip_at(os.path.join(d, rel), os.path.getsize(seg) - 3)
    rc, probs, notes, table = inspect_both(d)
    check(rc == 0 and probs == [] and notes and len(notes) == 1
          and "torn record" in notes[0] and "notes" in table,
          "torn WAL end: %d %r %r" % (rc, probs, notes))

    # A file the last commit lists deleted.
    d = copy("listed")
    with open(os.path.join(d, "commits", str(last)), "rb") as f:
        entry = json.loads(f.read()[24:])
    listed = [x["path"] for x in entry["checkpoint_files"]]
    check(listed, "commit %d lists no files: %r" % (last, entry))
    os.unlink(os.path.join(d, listed[0]))
    rc, probs, _, _ = inspect_both(d)
    want = ("batch %d is committed (%s/commits/%d lists it) but %s/%s: "
            "missing" % (last, d, last, d, listed[0]))
    check(rc == 1 and any(p.startswith(want) for p in probs),
          "listed file: %d %r\nwant %r" % (rc, probs, want))


def main():
    global STREAMCTL
    STREAMCTL = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "ck")
        test_inspect(d, make_checkpoint(d, range(1, 6), range(1, 5)))
        test_usage(d)
        test_rollback(d)
        d2 = os.path.join(tmp, "ck2")
        make_checkpoint(d2, range(1, 6), range(1, 5))
        test_problems(d2)
        d3 = os.path.join(tmp, "ck3")
        make_checkpoint(d3, range(1, 6), range(1, 5))
        test_windows_sources(d3)
        d4 = os.path.join(tmp, "ck4")
        make_checkpoint(d4, range(1, 6), range(1, 5))
        os.makedirs(os.path.join(d4, "wal"))
        add_windows_sources(d4)
        test_leftovers(d4)
        test_real(tmp)
    print("ok")


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print("FAILED:", e)
        sys.exit(1)
