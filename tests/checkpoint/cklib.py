"""What the checkpoint tests share: the numbered-lines server a socket
job's WAL is filled from, and the output files of a job's sinks."""

import os
import time


def serve_lines(srv):
    """Send numbered lines to each connection srv accepts, in pieces over
    several batches (several WAL records), until srv is closed."""
    while True:
        try:
            c, _ = srv.accept()
        except OSError:
            return
        try:
            for k in range(12):
                c.sendall(b"".join(b"line %d\n" % (k * 100 + i)
                                   for i in range(100)))
                time.sleep(0.1)
        except OSError:
            pass


def tree(d):
    """{relative path: bytes} of every file under d/out."""
    got = {}
    root = os.path.join(d, "out")
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            with open(p, "rb") as f:
                got[os.path.relpath(p, root)] = f.read()
    return got


def visible(t):
    """The output files of a tree(): neither manifests nor hidden ones."""
    return {k: v for k, v in t.items()
            if "_sluice_metadata" not in k and
            not os.path.basename(k).startswith(".")}
