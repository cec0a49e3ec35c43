"""Helpers of the web UI tests: a managed socket job (tests/manage/mglib.py)
started with --ui on a free port over a real `ncat -lk`, and plain HTTP
requests (http.client, so every header is the test's own)."""

import http.client
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "manage"))
from mglib import (Env, Ncat, TestFailure, check, free_port, log,  # noqa: E402
                   main, socket_job, wait_until)

__all__ = ["Env", "Ncat", "TestFailure", "check", "free_port", "log", "main",
           "socket_job", "wait_until", "request", "get_json", "post_query",
           "start_ui_job"]


def request(port, method, path, body=None, headers=None, host=None):
    """(status, headers dict with lower-case names, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True,
                        skip_accept_encoding=True)
        conn.putheader("Host", host if host is not None
                       else "127.0.0.1:%d" % port)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        data = body.encode() if isinstance(body, str) else body
        if data is not None:
            conn.putheader("Content-Length", str(len(data)))
        conn.endheaders(data)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def get_json(port, path, **kw):
    status, _, body = request(port, "GET", path, **kw)
    check(status == 200, "GET %s: %d %r" % (path, status, body[:300]))
    return json.loads(body)


def post_query(port, sql, headers=None, **kw):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    status, _, body = request(port, "POST", "/api/query",
                              json.dumps({"sql": sql}), h, **kw)
    return status, json.loads(body) if body else None


def start_ui_job(env, name, nc_port, ui, table="lines", extra=None):
    """streamctl start of a socket job into a memory table with --ui UI."""
    path = env.job_file(name, socket_job(name, nc_port, table, extra))
    rc, out, err = env.sc("start", path, "--wait", "20s", "--ui", ui)
    check(rc == 0, "start --ui %s: %d %r %r" % (ui, rc, out, err))
    return path
