#!/usr/bin/env python3
"""The directory source over a file sink's output reads only the files
the sink's manifest (_sluice_metadata/<batch>) lists:

1. a job on the manual clock writes 3 batches of generated lines with the
   file sink (text) into OUT;
2. into OUT then go what a crash could leave: a part file of a batch
   without a manifest (part-00000009-00000.txt) and a staging file
   (.part-00000004-00000.txt.tmp); and a manifest of batch 3 that fails
   its checksum (a byte flipped) in a copy, OUT2;
3. a second job reads OUT with the directory source (include_existing):
   its records are exactly the lines of the listed files, never the
   other two; over OUT2 batch 3's files are not read and the error names
   the manifest and the checksum.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def run_job(streamctl, job, cwd):
    path = os.path.join(cwd, job["name"] + ".json")
    with open(path, "w") as f:
        json.dump(job, f)
    proc = subprocess.run([streamctl, "run", path], cwd=cwd, timeout=60,
                          stdin=subprocess.DEVNULL, capture_output=True)
    check(proc.returncode == 0, "%s: exit %d, stderr %r"
          % (job["name"], proc.returncode, proc.stderr[-2000:]))
    return proc.stdout.decode(), proc.stderr.decode()


def write_job(out):
    return {
        "name": "writer", "batch_interval": "1s", "clock": "manual",
        "max_batches": 3, "conf": {"log.level": "warn"},
        "sources": {"text": {"type": "generator", "lines_per_batch": 7,
                             "words_per_line": 3, "partitions": 2}},
        "sinks": [{"from": "text", "type": "file", "path": out,
                   "format": "text"}]}


def read_job(name, inbox):
    return {
        "name": name, "batch_interval": "1s", "clock": "manual",
        "max_batches": 6, "conf": {"log.level": "warn"},
        "sources": {"files": {"type": "directory", "path": inbox,
                              "include_existing": True, "watch": "poll"}},
        "sinks": [{"from": "files", "type": "console", "format": "json"}]}


def records(stdout):
    got = []
    for line in stdout.splitlines():
        got += json.loads(line)["records"]
    return sorted(got)


def listed_lines(out, batches):
    lines = []
    for b in batches:
        with open(os.path.join(out, "_sluice_metadata", str(b)), "rb") as f:
            payload = json.loads(f.read()[24:])
        for entry in payload["files"]:
            with open(os.path.join(out, entry["path"])) as f:
                lines += f.read().splitlines()
    return sorted(lines)


def main():
    streamctl = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        run_job(streamctl, write_job(out), tmp)
        expected = listed_lines(out, (1, 2, 3))
        check(len(expected) == 21, "the sink wrote %d lines, not 21"
              % len(expected))
        out2 = os.path.join(tmp, "out2")
        shutil.copytree(out, out2)
        with open(os.path.join(out, "part-00000009-00000.txt"), "w") as f:
            f.write("ROGUE no manifest\n")
        with open(os.path.join(out, ".part-00000004-00000.txt.tmp"),
                  "w") as f:
            f.write("STAGED half written\n")
        got = records(run_job(streamctl, read_job("reader", out), tmp)[0])
        check(got == expected, "records %r, expected the listed lines %r"
              % (got, expected))

        manifest = os.path.join(out2, "_sluice_metadata", "3")
        with open(manifest, "r+b") as f:
            f.seek(30)
            byte = f.read(1)
            f.seek(30)
            f.write(bytes([byte[0] ^ 0x01]))
        stdout, stderr = run_job(streamctl, read_job("reader2", out2), tmp)
        got = records(stdout)
        check(got == listed_lines(out, (1, 2)),
              "over a corrupt manifest of batch 3: records %r" % got)
        check("_sluice_metadata/3" in stderr and "checksum" in stderr,
              "the corrupt manifest is not reported: %r" % stderr[-2000:])
    print("ok: directory source over a file sink's output")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print("FAIL: %s" % e)
        sys.exit(1)
