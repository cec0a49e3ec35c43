"""Helpers of the integration tests: free ports, a real `ncat -lk` server fed
through its stdin, the network_wordcount job run as a child process, and the
parser of Spark's print() output. Every wait is bounded; every child process
is killed by the `with` blocks even when a check fails."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

SKIP = 77  # ctest SKIP_RETURN_CODE

DASHES = b"-" * 43
TIME_RE = re.compile(rb"^Time: (\d+) ms$")
RECORD_RE = re.compile(rb"^\((.*),(-?\d+)\)$", re.DOTALL)


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def log(msg):
    print(msg, flush=True)


def free_port():
    """A port that was free a moment ago on 127.0.0.1."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def wait_until(pred, timeout, what, step=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TestFailure("timed out after %.1f s waiting for %s"
                              % (timeout, what))
        time.sleep(step)


class Output:
    """Collects a pipe's bytes on a thread."""

    def __init__(self, pipe):
        self.buf = bytearray()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._pump, args=(pipe,),
                                       daemon=True)
        self.thread.start()

    def _pump(self, pipe):
        while True:
            chunk = pipe.read1(65536) if hasattr(pipe, "read1") else \
                pipe.read(65536)
            if not chunk:
                return
            with self.lock:
                self.buf += chunk

    def data(self):
        with self.lock:
            return bytes(self.buf)

    def text(self):
        return self.data().decode("utf-8", "replace")


def kill(proc):
    if proc is not None and proc.poll() is None:
        proc.kill()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


class Ncat:
    """`ncat -v -lk 127.0.0.1 PORT` whose stdin the test writes: ncat sends
    what it reads from stdin to every connected client (and does not read
    stdin while no client is connected)."""

    CONN_RE = re.compile(r"Connection from [0-9.]+:\d+\.")

    def __init__(self, port):
        self.port = port
        self.proc = None

    def __enter__(self):
        exe = shutil.which("ncat")
        if not exe:
            log("ncat not found: skipping")
            sys.exit(SKIP)
        self.proc = subprocess.Popen(
            [exe, "-v", "-lk", "127.0.0.1", str(self.port)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        self.err = Output(self.proc.stderr)
        wait_until(lambda: "Listening on" in self.err.text() or
                   self.proc.poll() is not None, 10, "ncat to listen")
        check(self.proc.poll() is None,
              "ncat exited: %s" % self.err.text())
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        kill(self.proc)

    def connections(self):
        return len(self.CONN_RE.findall(self.err.text()))

    def wait_connections(self, n, timeout=15):
        wait_until(lambda: self.connections() >= n, timeout,
                   "%d connection(s) to ncat" % n)

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()


def parse_batches(data):
    """Spark's print() blocks in data: [(time_ms, {word: count}, more, odd)]
    for complete blocks only (ended by their blank line); odd lists record
    lines that are not "(word,count)"."""
    lines = data.split(b"\n")
    out = []
    i = 0
    while i + 2 < len(lines):
        m = TIME_RE.match(lines[i + 1])
        if lines[i] != DASHES or not m or lines[i + 2] != DASHES:
            i += 1
            continue
        j = i + 3
        counts = {}
        more = False
        odd = []
        while j < len(lines) and lines[j] != b"":
            r = RECORD_RE.match(lines[j])
            if lines[j] == b"...":
                more = True
            elif r:
                counts[r.group(1)] = counts.get(r.group(1), 0) + \
                    int(r.group(2))
            else:
                odd.append(lines[j])
            j += 1
        if j >= len(lines) - 1:
            break  # the block is still being printed
        out.append((int(m.group(1)), counts, more, odd))
        i = j + 1
    return out


class Job:
    """The network_wordcount example (or another program) as a child."""

    def __init__(self, argv):
        self.argv = [str(a) for a in argv]
        self.proc = None

    def __enter__(self):
        log("running: %s" % " ".join(self.argv))
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out = Output(self.proc.stdout)
        self.err = Output(self.proc.stderr)
        return self

    def __exit__(self, *exc):
        kill(self.proc)
        if exc[0] is not None:
            self.dump()

    def dump(self):
        log("---- job stdout (last 3000 bytes):")
        log(self.out.text()[-3000:])
        log("---- job stderr (last 3000 bytes):")
        log(self.err.text()[-3000:])

    def batches(self):
        return parse_batches(self.out.data())

    def alive(self):
        return self.proc.poll() is None

    def wait_batch(self, pred, timeout, what):
        """The first complete batch for which pred(counts) holds."""
        def find():
            for b in self.batches():
                if pred(b[1]):
                    return b
            check(self.alive(), "the job exited (status %s) while waiting "
                  "for %s" % (self.proc.returncode, what))
            return None
        return wait_until(find, timeout, what)

    def wait_batches_after(self, time_ms, n, timeout):
        """Wait until n complete batches later than time_ms were printed."""
        wait_until(lambda: len([b for b in self.batches()
                                if b[0] > time_ms]) >= n,
                   timeout, "%d more batches" % n)

    def stop(self, sig=signal.SIGINT, timeout=20):
        """Ask for a graceful stop; returns the exit status."""
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure("the job did not exit within %d s of %s"
                              % (timeout, sig.name))

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure("the program did not exit within %d s"
                              % timeout)


def nonempty(batches):
    return [b for b in batches if b[1]]


def check_times(batches, interval_ms):
    """Consecutive printed batches are one interval apart, in order."""
    for a, b in zip(batches, batches[1:]):
        check(b[0] - a[0] == interval_ms,
              "batch times %d then %d: expected a step of %d ms"
              % (a[0], b[0], interval_ms))


def check_totals(batches, expected):
    """Summed over all batches, the counts are exactly `expected`."""
    total = {}
    for _, counts, more, odd in batches:
        check(not more, "a batch had more than 10 records; the test's "
              "vocabulary is too large to check")
        check(not odd, "unexpected output lines %r" % [o[:100] for o in odd])
        for w, c in counts.items():
            total[w] = total.get(w, 0) + c
    check(total == expected, "word totals %r, expected %r"
          % (total, expected))


def main(test):
    """Run test(), print PASS/FAIL, exit 0/1 (77 for a skip)."""
    try:
        test()
    except TestFailure as e:
        log("FAIL: %s" % e)
        sys.exit(1)
    log("PASS")
    sys.exit(0)
