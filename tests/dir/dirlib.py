"""Helpers of the directory-source tests: a temporary tree (watched
directory, staging directory on the same file system, archive), job files
with one directory source and a json console sink, `streamctl run` as a
child process whose stdout lines are parsed as they arrive, and the wall
clock arithmetic that places a file's moment of arrival among the batches.

Every wait is bounded by the test's budget; every child is killed by the
`with` blocks (and the temporary tree removed) even when a check fails, and
its output is then printed.

Usage of a test: NAME.py STREAMCTL SOURCE_ROOT (as tests/dir/CMakeLists.txt
runs it). Exit 0 pass, 1 fail, 77 skip.
"""

import ctypes
import json
import os
import select
import struct
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77  # ctest SKIP_RETURN_CODE
SKIPPED_RE = "directory source: skipped file '%s': "

if len(sys.argv) != 3:
    sys.stderr.write("usage: %s STREAMCTL SOURCE_ROOT\n" % sys.argv[0])
    sys.exit(2)
STREAMCTL = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(sys.argv[2])

_START = time.monotonic()
BUDGET_S = 60.0  # a test's whole budget; set_budget() changes it


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def log(msg):
    print(msg, flush=True)


def set_budget(seconds):
    global BUDGET_S
    BUDGET_S = seconds


def left(timeout):
    """timeout, cut to what is left of the test's budget."""
    return max(0.1, min(timeout, _START + BUDGET_S - time.monotonic()))


def now_ms():
    """The wall clock in ms: the clock of the batch times (system clock)."""
    return time.time() * 1000.0


def wait_until(pred, timeout, what, step=0.01):
    deadline = time.monotonic() + left(timeout)
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TestFailure("timed out after %.1f s waiting for %s"
                              % (timeout, what))
        time.sleep(step)


# ----------------------------------------------------------------- files

class Tree:
    """A temporary directory holding in/ (watched), stage/ (where files are
    written before being renamed in: same file system), and whatever else
    a test needs. Removed on exit."""

    def __init__(self, tag="dir"):
        self.tag = tag

    def __enter__(self):
        self.root = tempfile.mkdtemp(prefix="sl-%s-" % self.tag)
        os.chmod(self.root, 0o755)  # for a job run as another user
        self.inbox = self.sub("in")
        self.stage = self.sub("stage")
        return self

    def __exit__(self, *exc):
        # Undo chmod 000 so that the tree can be removed.
        for d, dirs, files in os.walk(self.root):
            for n in dirs + files:
                p = os.path.join(d, n)
                if not os.path.islink(p):
                    try:
                        os.chmod(p, 0o755)
                    except OSError:
                        pass
        shutil.rmtree(self.root, ignore_errors=True)

    def sub(self, *parts):
        p = os.path.join(self.root, *parts)
        os.makedirs(p, exist_ok=True)
        return p

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def staged(self, name, data, mtime=None, sub=None):
        """Write data (str or bytes) to stage/name (or stage/sub/name);
        optionally set its mtime (seconds). Returns the path."""
        d = self.stage if sub is None else self.sub("stage", sub)
        p = os.path.join(d, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        if mtime is not None:
            os.utime(p, (mtime, mtime))
        return p

    def move_in(self, src, rel=None, into=None):
        """Rename src into the watched directory (as rel, default its
        name); returns (wall ms before, wall ms after, destination)."""
        dst = os.path.join(into or self.inbox,
                           rel if rel is not None else os.path.basename(src))
        t0 = now_ms()
        os.rename(src, dst)
        return t0, now_ms(), dst

    def drop(self, name, data, mtime=None, into=None):
        """Stage name with data and rename it in at once; returns the
        (before, after, destination) of the rename."""
        return self.move_in(self.staged(name, data, mtime), into=into)


def lines_of(*items):
    """'a\\nb\\n' from items."""
    return "".join("%s\n" % i for i in items)


class OpenWatch:
    """The test's own inotify watch (libc through ctypes) of IN_OPEN in a
    directory: tells when the job opens a file there to read it."""

    IN_OPEN = 0x20

    def __init__(self, directory):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        check(self.fd >= 0, "inotify_init1: errno %d" % ctypes.get_errno())
        wd = self.libc.inotify_add_watch(self.fd, directory.encode(),
                                         self.IN_OPEN)
        check(wd >= 0, "inotify_add_watch: errno %d" % ctypes.get_errno())

    def close(self):
        os.close(self.fd)

    def wait_open(self, name, timeout):
        """True once `name` is opened, False after timeout seconds."""
        deadline = time.monotonic() + left(timeout)
        want = name.encode()
        while True:
            rest = deadline - time.monotonic()
            if rest <= 0:
                return False
            r, _, _ = select.select([self.fd], [], [], rest)
            if not r:
                continue
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                continue
            off = 0
            while off + 16 <= len(data):
                _, _, _, n = struct.unpack_from("iIII", data, off)
                ev = data[off + 16:off + 16 + n].rstrip(b"\0")
                off += 16 + n
                if ev == want:
                    return True


# --------------------------------------------------------------- the job

class _Pump:
    """Reads a pipe on a thread. Lines are kept with their arrival time;
    pause() stops reading (so that the writer blocks once the pipe is
    full), resume() reads again."""

    def __init__(self, pipe):
        self.pipe = pipe
        self.buf = bytearray()
        self.lines = []  # (wall ms at arrival, bytes)
        self.lock = threading.Lock()
        self.go = threading.Event()
        self.go.set()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            self.go.wait()
            chunk = self.pipe.read1(65536)
            if not chunk:
                return
            t = now_ms()
            with self.lock:
                self.buf += chunk
                while True:
                    i = self.buf.find(b"\n")
                    if i < 0:
                        break
                    self.lines.append((t, bytes(self.buf[:i])))
                    del self.buf[:i + 1]

    def pause(self):
        self.go.clear()

    def resume(self):
        self.go.set()

    def snapshot(self):
        with self.lock:
            return list(self.lines), bytes(self.buf)


class Job:
    """`streamctl run` of a job with one directory source named "files"
    and a json console sink of it.

    source: the source's fields besides type (path defaults to the tree's
    inbox). batch_ms: the batch interval. conf: the job's conf object.
    ops: when given, the source is named "raw" and "files" is the stream of
    these operators over it (e.g. [{"op": "count"}]).
    """

    def __init__(self, tree, name, source, batch_ms=300, conf=None,
                 workers=None, user=None, ops=None):
        self.tree = tree
        self.name = name
        self.batch_ms = batch_ms
        src = {"type": "directory", "path": tree.inbox}
        src.update(source)
        self.doc = {"name": name, "batch_interval": "%dms" % batch_ms,
                    "clock": "system",
                    "sources": {"files": src},
                    "sinks": [{"from": "files", "type": "console",
                               "format": "json"}]}
        if ops is not None:
            self.doc["sources"] = {"raw": src}
            self.doc["streams"] = {"files": {"from": "raw", "ops": ops}}
        if conf:
            self.doc["conf"] = conf
        if workers is not None:
            self.doc["workers"] = workers
        self.user = user  # a uid to run streamctl as (the test being root)
        self.proc = None
        self._parsed = []
        self._nparsed = 0

    def __enter__(self):
        path = self.tree.path("%s.json" % self.name)
        with open(path, "w") as f:
            json.dump(self.doc, f)
        log("running: %s run %s  (%s)" % (STREAMCTL, path,
                                          json.dumps(self.doc["sources"])))
        ids = {} if self.user is None else {
            "user": self.user, "group": self.user, "extra_groups": []}
        self.proc = subprocess.Popen([STREAMCTL, "run", path],
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, **ids)
        self.out = _Pump(self.proc.stdout)
        self.err = _Pump(self.proc.stderr)
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if exc[0] is not None:
            self.dump()

    def dump(self):
        self.out.resume()
        lines, rest = self.out.snapshot()
        text = b"\n".join(l for _, l in lines[-40:]).decode("utf-8",
                                                           "replace")
        log("---- %s stdout (last 40 lines, each cut to 300 bytes):"
            % self.name)
        log("\n".join(l[:300] for l in text.split("\n")))
        log("---- %s stderr (last 3000 bytes):" % self.name)
        log(self.stderr()[-3000:])

    # ---------------------------------------------------------- output

    def stderr(self):
        lines, rest = self.err.snapshot()
        return (b"\n".join(l for _, l in lines) + b"\n" + rest).decode(
            "utf-8", "replace")

    def batches(self):
        """The complete stdout lines so far, parsed and checked: dicts
        {batch, time_ms, stream, records} (plus "arrival": the wall ms at
        which the test read the line, an upper bound of the plan's time)."""
        lines, _ = self.out.snapshot()
        for t, raw in lines[self._nparsed:]:
            try:
                b = json.loads(raw)
            except ValueError:
                raise TestFailure("%s: stdout line is no JSON: %r"
                                  % (self.name, raw[:300]))
            check(isinstance(b, dict) and
                  set(b) == {"batch", "time_ms", "stream", "records"} and
                  b["stream"] == "files" and isinstance(b["records"], list),
                  "%s: unexpected stdout line %r" % (self.name, raw[:300]))
            if self._parsed:
                # Ids may skip ticks absorbed while batches waited
                # (max_queued_batches); time always follows the id.
                prev = self._parsed[-1]
                gap = b["batch"] - prev["batch"]
                check(gap >= 1 and
                      b["time_ms"] == prev["time_ms"] + gap * self.batch_ms,
                      "%s: batch %d at %d follows batch %d at %d: expected "
                      "a later batch, %d ms later per id" % (
                          self.name, b["batch"], b["time_ms"], prev["batch"],
                          prev["time_ms"], self.batch_ms))
            b["arrival"] = t
            self._parsed.append(b)
        self._nparsed = len(lines)
        return self._parsed

    def alive(self):
        return self.proc.poll() is None

    def wait_batch(self, pred, timeout, what):
        """The first batch for which pred(batch) holds."""
        def find():
            for b in self.batches():
                if pred(b):
                    return b
            check(self.alive(), "%s exited (status %s) while waiting for %s"
                  % (self.name, self.proc.returncode, what))
            return None
        return wait_until(find, timeout, "%s: %s" % (self.name, what))

    def wait_started(self, timeout=10):
        """The first batch (the job runs and its clock phase is known)."""
        return self.wait_batch(lambda b: True, timeout, "its first batch")

    def wait_after(self, t_ms, n=1, timeout=10):
        """Wait until n batches with time_ms > t_ms were output."""
        def enough(b):
            return len([x for x in self.batches() if x["time_ms"] > t_ms]) >= n
        self.wait_batch(enough, timeout,
                        "%d batch(es) after %d" % (n, t_ms))

    def records(self):
        return [r for b in self.batches() for r in b["records"]]

    def peak_rss_mb(self):
        """The job's peak resident memory so far (VmHWM), in MB."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
        raise TestFailure("%s: no VmHWM in /proc" % self.name)

    def stop(self, timeout=15, sig=signal.SIGINT):
        """SIGINT (or sig); the job must exit 0 within timeout. Returns
        stderr."""
        self.out.resume()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=left(timeout))
        except subprocess.TimeoutExpired:
            raise TestFailure("%s did not exit within %d s of signal %d"
                              % (self.name, timeout, sig))
        self.out.thread.join(5)
        self.err.thread.join(5)
        check(rc == 0, "%s: exit status %d after signal %d, expected 0"
              % (self.name, rc, sig))
        self.batches()
        return self.stderr()

    # ------------------------------------------------------------ timing

    def phase(self):
        """time_ms modulo the interval (batch times are evenly spaced)."""
        return self.batches()[0]["time_ms"] % self.batch_ms

    def sleep_to_mid(self, frac=0.5):
        """Sleep until the wall clock is `frac` of an interval past a batch
        time (at least 30 ms from now), far from both plans."""
        t = now_ms()
        k = (t - self.phase()) // self.batch_ms
        target = self.phase() + k * self.batch_ms + frac * self.batch_ms
        while target < t + 30:
            target += self.batch_ms
        time.sleep((target - t) / 1000.0)
        return target

    def first_after(self, t_ms):
        """The time of the first batch whose time is later than t_ms."""
        ph = self.phase()
        k = (t_ms - ph) // self.batch_ms + 1
        return int(ph + k * self.batch_ms)


def allowed_times(job, t0, t1, poll):
    """The times of the batches that may take a file that became complete
    (renamed in, or closed) between wall ms t0 and t1.

    inotify: the first batch whose time is after t1, or an earlier one whose
    plan may have run after t0 (its line arrived after t0: a late batch).
    poll: a file is found by one listing and taken by the next (size and
    mtime held for one batch), so each of those, one batch later.
    """
    first = job.first_after(t1)
    times = {first}
    for b in job.batches():
        if b["time_ms"] < first and b["arrival"] >= t0:
            times.add(b["time_ms"])
    if poll:
        times |= {t + job.batch_ms for t in times}
    return times


def check_placed(job, placed, key, t0, t1, poll, what=None):
    """placed: placement() of the job's batches; the records of key are in
    exactly one batch, one of allowed_times()."""
    allowed = allowed_times(job, t0, t1, poll)
    got = placed.get(json.dumps(key, sort_keys=True), [])
    check(len(got) == 1, "%s: record %r of %s was output %d times (batches "
          "at %s), expected once" % (job.name, key, what or "a file",
                                     len(got), got))
    check(got[0] in allowed,
          "%s: record %r of %s is in the batch at %d; expected %s (complete "
          "between %d and %d)" % (job.name, key, what or "a file", got[0],
                                  " or ".join(str(t) for t in sorted(allowed)),
                                  t0, t1))
    return got[0]


def placement(batches, key=lambda r: r):
    """key(record) -> [batch time_ms, ...], one entry per occurrence."""
    out = {}
    for b in batches:
        for r in b["records"]:
            out.setdefault(json.dumps(key(r), sort_keys=True), []).append(
                b["time_ms"])
    return out


def multiset(records):
    out = {}
    for r in records:
        k = json.dumps(r, sort_keys=True)
        out[k] = out.get(k, 0) + 1
    return out


def skipped_lines(stderr):
    return [l for l in stderr.split("\n")
            if "directory source: skipped file '" in l]


def run(test):
    """Run test(), print PASS/FAIL, exit 0/1 (77 for a skip)."""
    try:
        test()
    except TestFailure as e:
        log("FAIL: %s" % e)
        sys.exit(1)
    log("PASS (%.1f s)" % (time.monotonic() - _START))
    sys.exit(0)
