#!/usr/bin/env python3
"""streamctl start / status / query / progress / logs / stop of a socket
job writing a memory table, over a real `ncat -lk`, as a user drives it:
the lines sent appear in `streamctl query` and are counted by the progress
entries; stop exits 0 with state.json stopped, the log and the checkpoint
checked. Then the workshop flow (SPLIT over new_dataframe) and a second
start of a running job's name (refused, the first unharmed)."""

import json
import os
import signal
import subprocess
import sys
import time

from mglib import Env, Ncat, check, free_port, main, socket_job, wait_until

STREAMCTL = sys.argv[1]


def started(env, name, path, *extra):
    rc, out, err = env.sc("start", path, "--wait", "20s", *extra)
    check(rc == 0, "start: %d %r %r" % (rc, out, err))
    check('started job "%s" (pid ' % name in out, "start said %r" % out)
    return env.pid(name)


def lifecycle():
    port = free_port()
    with Env(STREAMCTL) as env, Ncat(port) as nc:
        ckpt = os.path.join(env.dir, "ckpt")
        path = env.job_file("wc", socket_job("wc", port, "words",
                                             {"checkpoint": ckpt}))
        pid = started(env, "wc", path)
        st = env.status("wc")
        check(st["state"] == "running" and st["pid"] == pid,
              "status %r" % st)
        nc.wait_connections(1)
        lines = ["alpha beta", "gamma", "delta epsilon"]
        nc.send(("\n".join(lines) + "\n").encode())
        q = "SELECT count(*) AS n FROM words"
        env.wait_status("wc", lambda s: s.get("input_rows_total", 0) >= 3,
                        20, "3 input rows in status")
        rc, out, err = env.query("wc", q, "json")
        check(rc == 0, "query: %d %r" % (rc, err))
        check('"n":3' in out.replace(" ", ""), "query said %r" % out)
        rc, out, err = env.sc("progress", "wc", "-n", "0", "--format", "json")
        check(rc == 0, "progress: %d %r" % (rc, err))
        entries = json.loads(out)
        total = sum(e["input_rows"] for e in entries)
        check(total == len(lines), "progress input_rows sum %d" % total)
        rc, out, err = env.sc("query", "wc", "SELEC nonsense")
        check(rc == 1 and "streamctl:" in err and not out,
              "bad query: %d %r %r" % (rc, out, err))
        rc, out, err = env.sc("stop", "wc")
        check(rc == 0, "stop: %d %r %r" % (rc, out, err))
        check(env.state("wc")["state"] == "stopped", "%r" % env.state("wc"))
        check("alpha" in env.log_text("wc"), "log %r" % env.log_text("wc"))
        rc, out, err = env.sc("logs", "wc", "-n", "3")
        check(rc == 0 and len(out.splitlines()) == 3, "logs %r" % out)
        check(os.listdir(os.path.join(ckpt, "commits")), "no commits")
        rc, out, err = env.sc("stop", "wc")
        check(rc == 1 and "not running" in err, "stop again %d %r" % (rc, err))
        rc, out, err = env.sc("progress", "wc", "--format", "json")
        check(rc == 0 and sum(e["input_rows"] for e in json.loads(out)) == 3,
              "progress from the log %r" % out)


def workshop():
    port = free_port()
    with Env(STREAMCTL) as env, Ncat(port) as nc:
        path = env.job_file("shop", socket_job("shop", port, "new_dataframe"))
        started(env, "shop", path)
        nc.wait_connections(1)
        nc.send(b"a,b\nc,d\n")
        env.wait_status("shop", lambda s: s.get("input_rows_total", 0) >= 2,
                        20, "2 rows")
        rc, out, err = env.query(
            "shop", "SELECT SPLIT(value, ',')[0] AS Col1, "
            "SPLIT(value, ',')[1] AS Col2 FROM new_dataframe")
        check(rc == 0, "query %d %r" % (rc, err))
        rows = [ln.replace("|", " ").split() for ln in out.splitlines()
                if ln.startswith("|")]
        check(rows == [["Col1", "Col2"], ["a", "b"], ["c", "d"]],
              "query printed %r" % out)
        rc, out, err = env.sc("status")
        head, row = out.splitlines()[0].split(), out.splitlines()[1].split()
        check(rc == 0 and head[:5] == ["NAME", "STATE", "PID", "UPTIME",
                                       "BATCHES"] and head[-1] ==
              "LAST_ERROR" and row[:2] == ["shop", "running"],
              "status table %r" % out)
        follow(env, nc)
        rc, out, err = env.sc("stop", "shop")
        check(rc == 0, "stop %d %r" % (rc, err))


def follow(env, nc):
    """logs -f prints what the log gains, and ends at SIGINT with 0."""
    p = subprocess.Popen([env.streamctl, "--run-dir", env.run_dir, "logs",
                          "shop", "-f", "-n", "0"], env=env.env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)
        nc.send(b"followed,line\n")
        wait_until(lambda: "followed" in env.log_text("shop"), 20,
                   "the line in the log")
        time.sleep(0.6)  # logs -f reads every 200 ms
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
        check(p.returncode == 0 and b"followed" in out,
              "logs -f: %d %r %r" % (p.returncode, out[-500:], err))
    finally:
        if p.poll() is None:
            p.kill()


def twice():
    port = free_port()
    with Env(STREAMCTL) as env, Ncat(port):
        path = env.job_file("one", socket_job("one", port))
        pid = started(env, "one", path)
        rc, out, err = env.sc("start", path, "--wait", "10s")
        check(rc == 1 and "already running" in err,
              "second start %d %r %r" % (rc, out, err))
        st = env.status("one")
        check(st["state"] == "running" and st["pid"] == pid, "%r" % st)
        rc, out, err = env.sc("list", "--format", "json", "--run-dir",
                              env.run_dir)
        check(rc == 0 and [j["name"] for j in json.loads(out)] == ["one"],
              "list %r" % out)
        rc, out, err = env.sc("stop", "one")
        check(rc == 0, "stop %d %r" % (rc, err))


if __name__ == "__main__":
    main([("lifecycle", lifecycle), ("workshop", workshop),
          ("twice", twice)])
