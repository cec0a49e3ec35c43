#!/usr/bin/env python3
"""streamctl stop's exit statuses on a generator job whose batches are
slow (2M lines split and counted every 10 ms, so batches queue up): 4 when
the job's stop.graceful_timeout (1ms) cuts the graceful stop short, input
left unprocessed; 5 when stop --timeout (100ms) runs out while a long
graceful stop (60s) still runs, and the job then goes on stopping."""

import sys

from mglib import Env, check, main, wait_until

STREAMCTL = sys.argv[1]


def slow_job(name, graceful):
    return {"name": name, "batch_interval": "10ms",
            "conf": {"stop.graceful_timeout": graceful},
            "sources": {"text": {"type": "generator",
                                 "lines_per_batch": 2000000}},
            "streams": {"n": {"from": "text", "ops": [
                {"op": "flat_map", "fn": "split_words"}, {"op": "count"}]}},
            "sinks": [{"from": "n", "type": "console", "format": "json"}]}


def started(env, name, graceful):
    path = env.job_file(name, slow_job(name, graceful))
    rc, out, err = env.sc("start", path, "--wait", "30s")
    check(rc == 0, "start %d %r" % (rc, err))
    env.wait_status(name, lambda s: s.get("batches", 0) >= 1, 60,
                    "a first batch")


def left():
    with Env(STREAMCTL) as env:
        started(env, "left", "1ms")
        rc, out, err = env.sc("stop", "left", "--timeout", "60s", timeout=90)
        check(rc == 4 and "input left unprocessed" in err,
              "stop %d %r %r" % (rc, out, err))
        st = env.state("left")
        check(st["state"] == "stopped" and st["stop"]["timed_out"], "%r" % st)


def timeout():
    with Env(STREAMCTL) as env:
        started(env, "slow", "60s")
        rc, out, err = env.sc("stop", "slow", "--timeout", "100ms")
        check(rc == 5 and "still stopping" in err,
              "stop %d %r %r" % (rc, out, err))
        check(env.state("slow")["state"] == "stopping",
              "state %r" % env.state("slow"))
        rc, out, err = env.sc("stop", "slow", "--now", "--timeout", "60s",
                              timeout=90)
        check(rc in (0, 4), "stop --now %d %r" % (rc, err))
        wait_until(lambda: env.state("slow")["state"] == "stopped", 30,
                   "stopped")


if __name__ == "__main__":
    main([("left", left), ("timeout", timeout)])
