#!/usr/bin/env python3
"""streamctl start --exec of examples/c/managed_wordcount (a C program
without control code): started, queried and stopped as a job file is; a
program that cannot be run is reported (exit 1, status 127)."""

import sys

from mglib import Env, Ncat, check, free_port, main

STREAMCTL, PROGRAM = sys.argv[1], sys.argv[2]


def managed():
    port = free_port()
    with Env(STREAMCTL) as env, Ncat(port) as nc:
        rc, out, err = env.sc("start", "--exec", PROGRAM, "--wait", "20s",
                              "--", "127.0.0.1", str(port))
        check(rc == 0 and 'started job "managed_wordcount"' in out,
              "start %d %r %r" % (rc, out, err))
        nc.wait_connections(1)
        nc.send(b"to be or not to be\n")
        env.wait_status("managed_wordcount",
                        lambda s: s.get("input_rows_total", 0) >= 1, 20,
                        "the line in status")
        rc, out, err = env.query(
            "managed_wordcount",
            "SELECT value AS word, count(*) AS n FROM words GROUP BY value "
            "ORDER BY word", "csv")
        check(rc == 0, "query %d %r" % (rc, err))
        check(out.split() == ["word,n", "be,2", "not,1", "or,1", "to,2"],
              "query printed %r" % out)
        rc, out, err = env.sc("stop", "managed_wordcount")
        check(rc == 0, "stop %d %r %r" % (rc, out, err))
        check(env.state("managed_wordcount")["state"] == "stopped",
              "%r" % env.state("managed_wordcount"))


def missing():
    with Env(STREAMCTL) as env:
        rc, out, err = env.sc("start", "--exec", "/nonexistent/app",
                              "--wait", "10s")
        check(rc == 1 and "127" in err and "/nonexistent/app" in err,
              "start %d %r %r" % (rc, out, err))


if __name__ == "__main__":
    main([("managed", managed), ("missing", missing)])
