#!/usr/bin/env python3
"""The web UI's endpoints on a running job (streamctl start --ui) over a
real `ncat -lk`: the page and its script are served; /api/status agrees
with `streamctl status`; lines sent are counted by /api/progress and
found by POST /api/query; /metrics passes `promtool check metrics` and its
counters equal the sums of the progress entries; stop ends the server."""

import json
import re
import shutil
import subprocess
import sys

from uilib import (Env, Ncat, check, free_port, get_json, main, post_query,
                   request, socket_job, start_ui_job, wait_until)

STREAMCTL = sys.argv[1]


def metrics_samples(text):
    """{(name, frozenset(labels)): value} of the exposition text."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^(\w+)\{(.*)\} (\S+)$', line)
        check(m, "metrics line %r" % line)
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"',
                                      m.group(2)))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def endpoints():
    nc_port, ui = free_port(), free_port()
    with Env(STREAMCTL) as env, Ncat(nc_port) as nc:
        start_ui_job(env, "web", nc_port, str(ui), "words")
        st = env.status("web")
        check(st["ui"] == "http://127.0.0.1:%d/" % ui, "status ui %r" % st)
        status, headers, body = request(ui, "GET", "/")
        check(status == 200 and b'<script src="/app.js"' in body and
              headers["content-type"].startswith("text/html"),
              "page: %d %r" % (status, headers))
        check("default-src 'self'" in headers["content-security-policy"],
              "CSP %r" % headers)
        for path, kind in (("/app.js", "text/javascript"),
                           ("/app.css", "text/css")):
            status, headers, body = request(ui, "GET", path)
            check(status == 200 and headers["content-type"].startswith(kind)
                  and len(body) > 500, "%s: %d %r" % (path, status, headers))
        # nothing the page loads comes from elsewhere
        _, _, page = request(ui, "GET", "/")
        check(not re.search(rb'(src|href)="(https?:)?//', page),
              "the page fetches from elsewhere")
        status, _, _ = request(ui, "GET", "/nothing-here")
        check(status == 404, "unknown path: %d" % status)

        nc.wait_connections(1)
        lines = ["a b", "c", "d e f", "g"]
        nc.send(("\n".join(lines) + "\n").encode())
        wait_until(lambda: get_json(ui, "/api/status")["input_rows_total"]
                   >= len(lines), 20, "the lines in /api/status")
        api = get_json(ui, "/api/status")
        cli = env.status("web")
        for k in ("name", "state", "pid", "started_at", "batch_interval_ms",
                  "input_rows_total", "tables"):
            check(api[k] == cli[k], "%s: api %r, status %r" %
                  (k, api[k], cli[k]))
        check(api["state"] == "running" and api["tables"] == ["words"],
              "status %r" % api)

        status, reply = post_query(ui, "SELECT value FROM words ORDER BY value")
        check(status == 200 and reply["ok"], "query: %d %r" % (status, reply))
        check([r["value"] for r in reply["rows"]] == sorted(lines),
              "query rows %r" % reply["rows"])
        check(reply["columns"][0]["name"] == "value", "columns %r" % reply)

        wait_until(lambda: get_json(ui, "/api/status")["batches"] >= 3, 20,
                   "3 batches")
        progress = get_json(ui, "/api/progress?n=0")
        check(sum(e["input_rows"] for e in progress) == len(lines),
              "progress input rows %r" % [e["input_rows"] for e in progress])
        two = get_json(ui, "/api/progress?n=2")
        check(len(two) == 2 and two[-1]["batch"] >= progress[-1]["batch"],
              "progress?n=2 %r" % [e["batch"] for e in two])
        status, _, _ = request(ui, "GET", "/api/progress?n=-1")
        check(status == 400, "progress?n=-1: %d" % status)

        check_metrics(env, ui, len(lines))

        rc, out, err = env.sc("stop", "web")
        check(rc == 0, "stop: %d %r" % (rc, err))
        try:
            request(ui, "GET", "/api/status")
            served = True
        except OSError:
            served = False
        check(not served, "the UI still answers after stop")


def check_metrics(env, ui, nlines):
    status, headers, body = request(ui, "GET", "/metrics")
    check(status == 200 and headers["content-type"].startswith("text/plain"),
          "/metrics: %d %r" % (status, headers))
    text = body.decode()
    promtool = shutil.which("promtool")
    check(promtool, "promtool is not installed (tools/setup.sh installs it)")
    p = subprocess.run([promtool, "check", "metrics"], input=text,
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 0, "promtool: %s%s" % (p.stdout, p.stderr))
    m = metrics_samples(text)
    job = ("job", "web")
    last = int(m[("sluice_last_batch_id", frozenset([job]))])
    entries = [e for e in get_json(ui, "/api/progress?n=0")
               if e["batch"] <= last]
    check(m[("sluice_batches_total", frozenset([job]))] == len(entries),
          "batches_total %r, entries %d" % (m, len(entries)))
    rows = sum(e["input_rows"] for e in entries)
    check(rows == nlines and
          m[("sluice_input_rows_total", frozenset([job]))] == rows,
          "input_rows_total %r, entries %d" % (m, rows))
    src = m[("sluice_source_input_rows_total",
             frozenset([job, ("source", "lines")]))]
    check(src == sum(s["rows"] for e in entries for s in e["sources"]
                     if s["name"] == "lines"), "source rows %r" % src)
    sink = m[("sluice_sink_output_rows_total",
              frozenset([job, ("sink", "lines.memory")]))]
    check(sink == sum(s["rows"] for e in entries for s in e["sinks"]
                      if s["name"] == "lines.memory"), "sink rows %r" % sink)
    ms = sum(e["duration_ms"]["total"] for e in entries)
    got = m[("sluice_processing_seconds_total", frozenset([job]))]
    check(abs(got - ms / 1000.0) < 1e-6 + 1e-6 * ms,
          "processing seconds %r vs %r" % (got, ms / 1000.0))
    check(m[("sluice_job_state", frozenset([job, ("state", "running")]))]
          == 1, "job_state")


def run_ui():
    """streamctl run --ui: the foreground job serves the same UI and is
    managed for its run (status by name)."""
    nc_port, ui = free_port(), free_port()
    with Env(STREAMCTL) as env, Ncat(nc_port):
        path = env.job_file("fg", socket_job("fg", nc_port))
        p = subprocess.Popen([STREAMCTL, "--run-dir", env.run_dir, "run",
                              "--ui", "127.0.0.1:%d" % ui, path],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=env.env)
        try:
            wait_until(lambda: _answers(ui), 20, "run --ui to serve")
            check(get_json(ui, "/api/status")["name"] == "fg", "status")
            env.wait_status("fg", lambda s: s["state"] == "running", 20,
                            "status by name to say running")
        finally:
            p.terminate()
            p.wait(timeout=20)
        check(p.returncode == 0, "run --ui exit %d %r" %
              (p.returncode, p.stderr.read()))
        rc, _, err = env.sc("run", "--ui", "nonsense", path)
        check(rc == 2 and "bad --ui 'nonsense'" in err, "bad --ui %r" % err)


def _answers(port):
    try:
        return request(port, "GET", "/api/status")[0] == 200
    except OSError:
        return False


main([("endpoints", endpoints), ("run_ui", run_ui)])
