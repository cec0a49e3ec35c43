#!/usr/bin/env python3
"""The web UI's gate and the control plane's permissions: a Host header
that does not name the server (DNS rebinding) and cross-origin POSTs are
refused (403); /api/query takes read-only queries only (400); a UI bound
beyond loopback makes a token, writes it to the log, and refuses requests
without it (401); the run folder is 0700 and the control socket 0600, and
another user (uid 65534) cannot connect to the socket."""

import os
import shutil
import socket
import stat
import subprocess
import sys

from uilib import (Env, Ncat, check, free_port, get_json, log, main,
                   post_query, request, start_ui_job, wait_until)

STREAMCTL = sys.argv[1]


def gate():
    nc_port, ui = free_port(), free_port()
    with Env(STREAMCTL) as env, Ncat(nc_port):
        start_ui_job(env, "gate", nc_port, str(ui))
        for host in ("127.0.0.1:%d" % ui, "localhost:%d" % ui,
                     "LOCALHOST:%d" % ui, "127.0.0.1", "[::1]:%d" % ui):
            status, _, _ = request(ui, "GET", "/api/status", host=host)
            check(status == 200, "Host %r: %d" % (host, status))
        for host in ("evil.example:%d" % ui, "evil.example",
                     "127.0.0.1:%d" % (ui + 1), "", "127.0.0.1.evil.example",
                     "localhost.:%d" % ui, "[::1"):
            status, _, body = request(ui, "GET", "/api/status", host=host)
            check(status == 403 and b"Host" in body,
                  "Host %r: %d %r" % (host, status, body))
        # the page is refused the same way (a rebinding page loads it too)
        status, _, _ = request(ui, "GET", "/", host="evil.example:%d" % ui)
        check(status == 403, "page with a foreign Host: %d" % status)

        sql = "SELECT count(*) AS n FROM lines"
        status, reply = post_query(ui, sql)
        check(status == 200 and reply["ok"], "query %d %r" % (status, reply))
        status, reply = post_query(ui, sql, {"Origin": "http://127.0.0.1:%d"
                                             % ui})
        check(status == 200, "same-origin query: %d %r" % (status, reply))
        for h in ({"Origin": "http://evil.example"},
                  {"Origin": "null"},
                  {"Origin": "http://127.0.0.1:%d" % (ui + 1)},
                  {"Origin": "https://127.0.0.1:%d" % ui},
                  {"Sec-Fetch-Site": "cross-site"}):
            status, reply = post_query(ui, sql, h)
            check(status == 403 and "cross-origin" in reply["error"],
                  "%r: %d %r" % (h, status, reply))
        status, _, body = request(ui, "POST", "/api/query", '{"sql": "%s"}'
                                  % sql, {"Content-Type": "text/plain"})
        check(status == 415, "text/plain POST: %d %r" % (status, body))
        status, _, _ = request(ui, "GET", "/api/query")
        check(status == 405, "GET /api/query: %d" % status)
        status, _, _ = request(ui, "POST", "/api/status", "{}",
                               {"Content-Type": "application/json"})
        check(status == 405, "POST /api/status: %d" % status)
        for bad in ("DROP TABLE lines", "INSERT INTO lines VALUES ('x')",
                    "SELECT 1; DROP TABLE lines", "CREATE TABLE t (a INT)",
                    "DELETE FROM lines"):
            status, reply = post_query(ui, bad)
            check(status == 400 and not reply["ok"] and reply["error"],
                  "%r: %d %r" % (bad, status, reply))
        status, _, _ = request(ui, "POST", "/api/query", "not json",
                               {"Content-Type": "application/json"})
        check(status == 400, "bad body: %d" % status)
        # the table is unharmed
        status, reply = post_query(ui, sql)
        check(status == 200 and reply["rows"] == [{"n": 0}], "%r" % reply)


def token():
    nc_port, ui = free_port(), free_port()
    with Env(STREAMCTL) as env, Ncat(nc_port):
        start_ui_job(env, "tok", nc_port, "0.0.0.0:%d" % ui)
        text = wait_until(lambda: "its token is" in env.log_text("tok") and
                          env.log_text("tok"), 10, "the token in the log")
        tok = text.split("its token is ", 1)[1].split()[0]
        check(len(tok) == 32, "token %r" % tok)
        status, _, body = request(ui, "GET", "/api/status")
        check(status == 401 and b"token" in body, "no token: %d" % status)
        status, _, _ = request(ui, "GET", "/metrics")
        check(status == 401, "metrics without token: %d" % status)
        status, _, _ = request(ui, "GET", "/api/status",
                               headers={"Authorization": "Bearer " + "0" * 32})
        check(status == 401, "wrong token: %d" % status)
        status, _, _ = request(ui, "GET", "/api/status",
                               headers={"Authorization": "Bearer " + tok})
        check(status == 200, "bearer token: %d" % status)
        status, headers, _ = request(ui, "GET", "/?token=" + tok)
        check(status == 200 and "sluice_token=" + tok in
              headers.get("set-cookie", "") and
              "HttpOnly" in headers["set-cookie"], "?token: %r" % headers)
        status, _, _ = request(ui, "GET", "/api/status",
                               headers={"Cookie": "sluice_token=" + tok})
        check(status == 200, "cookie: %d" % status)
        st = get_json(ui, "/api/status",
                      headers={"Authorization": "Bearer " + tok})
        check(tok not in str(st), "the token shows in status")
        # bound to every address, a foreign name is still refused
        status, _, _ = request(ui, "GET", "/api/status", host="evil.example",
                               headers={"Authorization": "Bearer " + tok})
        check(status == 403, "foreign Host with token: %d" % status)

    # bound to every IPv6 address (dual stack): a token is made too, and the
    # URL in the log names 127.0.0.1 without brackets
    nc_port, ui = free_port(), free_port()
    with Env(STREAMCTL) as env, Ncat(nc_port):
        start_ui_job(env, "tok6", nc_port, "[::]:%d" % ui)
        text = wait_until(lambda: "its token is" in env.log_text("tok6") and
                          env.log_text("tok6"), 10, "the token in the log")
        tok = text.split("its token is ", 1)[1].split()[0]
        url = "http://127.0.0.1:%d/" % ui
        check(url + "?token=" + tok in text, "URL in the log: %r" % text)
        status, _, _ = request(ui, "GET", "/api/status")
        check(status == 401, "[::] without token: %d" % status)
        status, _, _ = request(ui, "GET", "/api/status",
                               headers={"Authorization": "Bearer " + tok})
        check(status == 200, "[::] bearer token: %d" % status)

    nc_port, ui = free_port(), free_port()
    with Env(STREAMCTL) as env, Ncat(nc_port):
        given = "s3cret-token-of-the-user-0123456789"
        start_ui_job(env, "tok2", nc_port, str(ui),
                     extra={"ui": {"port": ui, "token": given}})
        status, _, _ = request(ui, "GET", "/api/status")
        check(status == 401, "loopback with ui.token, none sent: %d" % status)
        status, _, _ = request(ui, "GET", "/api/status",
                               headers={"Authorization": "Bearer " + given})
        check(status == 200, "ui.token: %d" % status)
        check(given not in env.log_text("tok2"), "ui.token in the log")


def permissions():
    nc_port = free_port()
    with Env(STREAMCTL) as env, Ncat(nc_port):
        path = env.job_file("perm", {
            "name": "perm", "batch_interval": "200ms",
            "sources": {"lines": {"type": "socket", "host": "127.0.0.1",
                                  "port": nc_port}},
            "sinks": [{"from": "lines", "type": "memory", "table": "t"}]})
        rc, out, err = env.sc("start", path, "--wait", "20s")
        check(rc == 0, "start: %r" % err)
        folder = os.path.join(env.run_dir, "perm")
        sock = os.path.join(folder, "control.sock")
        check(stat.S_IMODE(os.stat(folder).st_mode) == 0o700,
              "run folder mode %o" % os.stat(folder).st_mode)
        check(stat.S_ISSOCK(os.stat(sock).st_mode) and
              stat.S_IMODE(os.stat(sock).st_mode) == 0o600,
              "socket mode %o" % os.stat(sock).st_mode)
        # the owner connects
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        s.close()
        setpriv = shutil.which("setpriv")
        check(setpriv and os.geteuid() == 0 or os.geteuid() != 0,
              "setpriv is missing")
        if os.geteuid() != 0:
            log("not root: cannot act as uid 65534; checked modes only")
            return
        # every folder on the way must let uid 65534 reach the socket's
        # folder for the test to show that the modes, not the path, stop it
        for d in (env.dir, env.run_dir):
            os.chmod(d, 0o755)
        probe = ("import socket,sys\n"
                 "s=socket.socket(socket.AF_UNIX)\n"
                 "try:\n s.connect(sys.argv[1])\nexcept PermissionError:\n"
                 " sys.exit(13)\nsys.exit(0)\n")
        p = subprocess.run([setpriv, "--reuid", "65534", "--regid", "65534",
                            "--clear-groups", sys.executable, "-c", probe,
                            sock], capture_output=True, text=True, timeout=30)
        check(p.returncode == 13, "uid 65534 connect: exit %d %r" %
              (p.returncode, p.stderr))
        # and with the run folder opened up, the socket's own mode stops it
        os.chmod(folder, 0o755)
        p = subprocess.run([setpriv, "--reuid", "65534", "--regid", "65534",
                            "--clear-groups", sys.executable, "-c", probe,
                            sock], capture_output=True, text=True, timeout=30)
        os.chmod(folder, 0o700)
        check(p.returncode == 13, "uid 65534 through an open folder: exit %d"
              " %r" % (p.returncode, p.stderr))


main([("gate", gate), ("token", token), ("permissions", permissions)])
