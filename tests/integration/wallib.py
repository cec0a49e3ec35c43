"""What the receiver WAL tests (test_wal_kill.py, test_wal_restart.py)
share: the load (numbered lines written to ncat at a steady rate), the
socket job file with a console json sink and 200 ms batches, and the
parser of what the job printed."""

import json
import os
import random
import time

KILLS = 10
MAX_BUFFERED = 256 * 1024  # receiver.max_buffered_bytes
MAX_LINE = 1024  # receiver.max_line_bytes
LINES_PER_WRITE = 50
WRITE_EVERY_S = 0.01


def seed():
    """Seed random (the kill instants) from SL_SEED to repeat a run, else
    from the time."""
    random.seed(int(os.environ.get("SL_SEED", str(int(time.time())))))


def write_job(path, name, port, top=None, conf=None):
    """A socket job reading lines from 127.0.0.1:port, printing them as
    json; top and conf are added to the job's keys and to its conf."""
    job = {
        "name": name,
        "batch_interval": "200ms",
        "clock": "system",
        "max_batches": 0,
        "conf": {"receiver.max_buffered_bytes": str(MAX_BUFFERED),
                 "receiver.max_line_bytes": str(MAX_LINE),
                 "log.level": "warn"},
        "sources": {"lines": {"type": "socket", "host": "127.0.0.1",
                              "port": port}},
        "sinks": [{"from": "lines", "type": "console", "format": "json"}],
    }
    job.update(top or {})
    job["conf"].update(conf or {})
    with open(path, "w") as f:
        json.dump(job, f)


def send_for(ncat, sent, seconds, line):
    """Write line(n) for n after sent, LINES_PER_WRITE at a time every
    WRITE_EVERY_S, for `seconds`; returns the last n written."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        ncat.send(b"".join(line(sent + 1 + i)
                           for i in range(LINES_PER_WRITE)))
        sent += LINES_PER_WRITE
        time.sleep(WRITE_EVERY_S)
    return sent


def printed(job):
    """{batch: [line numbers]} of the complete json lines printed."""
    out = {}
    for raw in job.out.data().split(b"\n")[:-1]:
        rec = json.loads(raw)
        out[rec["batch"]] = [int(r.split()[0]) for r in rec["records"]]
    return out
