"""Helpers of the Kafka tests: librdkafka's mock cluster run as
`streamctl kafka-mock` (a real process on 127.0.0.1), and the two
independent clients, kcat and Python's kafka module (Debian's
python3-kafka). Every wait is bounded."""

import shutil
import subprocess
import sys
import time


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def need(*programs):
    """Skip (77) when a program the test needs is missing."""
    for p in programs:
        if not shutil.which(p):
            print("SKIP: %s not found" % p)
            sys.exit(77)


class MockCluster:
    """streamctl kafka-mock with its topics; .bootstrap, .command(line)."""

    def __init__(self, streamctl, brokers=1, topics=()):
        args = [streamctl, "kafka-mock", "--brokers", str(brokers)]
        for t in topics:
            args += ["--topic", t]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        check(line.startswith("bootstrap.servers="),
              "kafka-mock printed %r" % line)
        self.bootstrap = line.split("=", 1)[1]

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def kcat_produce(bootstrap, topic, lines, key_sep=None, partition=None):
    """Produce lines with kcat (KEY<sep>VALUE when key_sep is given)."""
    args = ["kcat", "-P", "-b", bootstrap, "-t", topic]
    if key_sep:
        args += ["-K", key_sep]
    if partition is not None:
        args += ["-p", str(partition)]
    r = subprocess.run(args, input="".join(l + "\n" for l in lines),
                       text=True, capture_output=True, timeout=30)
    check(r.returncode == 0, "kcat -P: %r" % r.stderr)


def kcat_consume(bootstrap, topic, fmt="%p\t%o\t%k\t%s\n"):
    """Every record of topic now, as kcat formats it (sorted lines)."""
    r = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-e",
                        "-q", "-f", fmt], text=True, capture_output=True,
                       timeout=30)
    check(r.returncode == 0, "kcat -C: %r" % r.stderr)
    return sorted(l for l in r.stdout.split("\n") if l)


def py_produce(bootstrap, topic, records):
    """Produce (key, value) byte pairs with Python's kafka module."""
    from kafka import KafkaProducer
    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all",
                      request_timeout_ms=5000, max_block_ms=5000)
    try:
        for k, v in records:
            p.send(topic, key=k, value=v)
        p.flush(10)
    finally:
        p.close(5)


def last_offsets(ck):
    """The newest batch with an offsets entry in checkpoint ck (0: none)."""
    import os
    try:
        return max((int(n) for n in os.listdir(os.path.join(ck, "offsets"))
                    if n.isdigit()), default=0)
    except FileNotFoundError:
        return 0


def kill_at(streamctl, path, ck, target, rng, deadline, max_delay=0.03):
    """Start `streamctl run path`; SIGKILL it 0..max_delay s after its
    checkpoint ck's offsets reach batch target. True when killed, False
    when it ended by itself (cleanly: a failed start fails the test)."""
    import subprocess
    p = subprocess.Popen([streamctl, "run", path], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    while p.poll() is None and last_offsets(ck) < target:
        if time.monotonic() > deadline:
            p.kill()
            fail("the crash loop did not finish in time")
        time.sleep(0.002)
    time.sleep(rng.uniform(0, max_delay))
    if p.poll() is None:
        p.kill()
        p.wait()
        p.stderr.close()
        return True
    err = p.stderr.read()
    p.stderr.close()
    if p.returncode != 0:
        fail("a start failed (%d): %s" % (p.returncode, err[-2000:]))
    return False


def wait_for(fn, seconds, what):
    end = time.time() + seconds
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    fail("timed out after %ss waiting for %s" % (seconds, what))
