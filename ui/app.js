// The sluice job page: polls /api/status and /api/progress once a second,
// draws the batch charts (as Spark's Streaming tab), and runs read-only
// queries through /api/query. Text goes in with textContent only.
"use strict";

const POINTS = 60; // batches kept on the charts and in the table

function $(id) { return document.getElementById(id); }

function fmt(n, digits) {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  return Number(n).toLocaleString("en-US", { maximumFractionDigits: digits ?? 1 });
}

function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return fmt(n, i ? 1 : 0) + " " + units[i];
}

function duration(s) {
  s = Math.floor(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return (h ? h + "h " : "") + (h || m ? m + "m " : "") + r + "s";
}

function setText(id, text) { $(id).textContent = text; }

function fillRows(tbody, rows) {
  tbody.replaceChildren(...rows.map(cells => {
    const tr = document.createElement("tr");
    for (const c of cells) {
      const td = document.createElement("td");
      td.textContent = c;
      tr.appendChild(td);
    }
    return tr;
  }));
}

// A line chart of values (oldest first) on canvas; data-points says how
// many points it shows (the browser test reads it).
function chart(canvas, values, unit) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, pad = 28;
  ctx.clearRect(0, 0, w, h);
  canvas.dataset.points = String(values.length);
  const max = Math.max(1, ...values);
  ctx.strokeStyle = "#e5e7eb";
  ctx.fillStyle = "#6b7280";
  ctx.font = "11px sans-serif";
  for (let i = 0; i <= 2; i++) {
    const y = pad / 2 + (h - pad) * i / 2;
    ctx.beginPath(); ctx.moveTo(pad, y); ctx.lineTo(w - 4, y); ctx.stroke();
    ctx.fillText(fmt(max * (2 - i) / 2, max < 10 ? 1 : 0), 2, y + 4);
  }
  if (!values.length) return;
  const x = i => pad + (w - pad - 6) * (values.length === 1 ? 1 : i / (values.length - 1));
  const y = v => pad / 2 + (h - pad) * (1 - v / max);
  ctx.strokeStyle = "#2563eb";
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  values.forEach((v, i) => (i ? ctx.lineTo(x(i), y(v)) : ctx.moveTo(x(i), y(v))));
  ctx.stroke();
  ctx.fillStyle = "#2563eb";
  values.forEach((v, i) => { ctx.beginPath(); ctx.arc(x(i), y(v), 2, 0, 7); ctx.fill(); });
  const last = values[values.length - 1];
  ctx.fillStyle = "#1d2330";
  ctx.fillText("last " + fmt(last) + (unit ? " " + unit : ""), w - 110, 12);
}

function showStatus(s) {
  setText("job-name", s.name);
  document.title = s.name + " · sluice";
  const st = $("state");
  st.textContent = s.state;
  st.className = "state " + s.state;
  setText("uptime", duration(s.uptime_s));
  setText("batches", fmt(s.batches, 0));
  setText("batch-interval", fmt(s.batch_interval_ms, 0) + " ms");
  setText("last-batch-ms", s.last_batch_ms === null ? "–" : fmt(s.last_batch_ms) + " ms");
  setText("input-rate", fmt(s.input_rows_per_s));
  setText("processing-rate", fmt(s.processed_rows_per_s));
  setText("scheduling-delay", fmt(s.scheduling_delay_ms, 0) + " ms");
  setText("queued", fmt(s.queued_batches, 0));
  setText("input-rows-total", fmt(s.input_rows_total, 0));
  setText("state-size", fmt(s.state_rows, 0) + " keys · " + bytes(s.state_bytes));
  setText("watermark", s.watermark ?? "–");
  const err = $("last-error");
  err.hidden = !s.last_error;
  err.textContent = s.last_error ? "Last error: " + s.last_error : "";
  const wait = $("waiting-for");
  wait.hidden = !s.waiting_for;
  wait.textContent = s.waiting_for ? "Waiting for " + s.waiting_for : "";
  fillRows($("sources-table").tBodies[0], (s.sources || []).map(x => [
    x.name, fmt(x.rows_total, 0), x.lag === null ? "–" : fmt(x.lag, 0),
    x.end === null ? "–" : JSON.stringify(x.end)]));
  fillRows($("sinks-table").tBodies[0], (s.sinks || []).map(x => [x.name, fmt(x.rows_total, 0)]));
  const tables = s.tables || [];
  setText("tables", tables.length ? tables.join(", ") : "none");
  const sql = $("sql");
  if (!sql.value && !sql.placeholderSet && tables.length) {
    sql.placeholder = "SELECT * FROM " + tables[0] + " LIMIT 20";
    sql.placeholderSet = true;
  }
}

function showProgress(entries) {
  const total = e => (e.scheduling_delay_ms || 0) + ((e.duration_ms || {}).total || 0);
  chart($("chart-input"), entries.map(e => e.input_rows_per_s || 0), "rows/s");
  chart($("chart-processing"), entries.map(e => (e.duration_ms || {}).total || 0), "ms");
  chart($("chart-scheduling"), entries.map(e => e.scheduling_delay_ms || 0), "ms");
  chart($("chart-total"), entries.map(total), "ms");
  fillRows($("batches-table").tBodies[0], entries.slice(-20).reverse().map(e => [
    e.batch, (e.timestamp || "").replace("T", " ").replace("Z", ""),
    fmt(e.input_rows, 0), fmt((e.duration_ms || {}).total),
    fmt(e.scheduling_delay_ms, 0), fmt(total(e))]));
}

async function getJSON(url) {
  const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (!r.ok) throw new Error(url + ": HTTP " + r.status);
  return r.json();
}

async function refresh() {
  try {
    const [s, p] = await Promise.all([getJSON("/api/status"),
                                      getJSON("/api/progress?n=" + POINTS)]);
    showStatus(s);
    showProgress(p);
    setText("refresh", "updated " + new Date().toLocaleTimeString());
  } catch (e) {
    setText("refresh", "cannot reach the job: " + e.message);
  }
}

async function runQuery(ev) {
  ev.preventDefault();
  const err = $("query-error"), result = $("query-result");
  err.hidden = true;
  setText("query-count", "running…");
  try {
    const r = await fetch("/api/query", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sql: $("sql").value, format: "json", max_rows: 100 }),
    });
    const body = await r.json();
    if (!body.ok) throw new Error(body.error || "HTTP " + r.status);
    const cols = body.columns.map(c => c.name);
    const head = document.createElement("tr");
    for (const c of cols) {
      const th = document.createElement("th");
      th.textContent = c;
      head.appendChild(th);
    }
    result.tHead.replaceChildren(head);
    fillRows(result.tBodies[0], body.rows.map(row => cols.map(c => {
      const v = row[c];
      return v === null || v === undefined ? "null"
        : typeof v === "object" ? JSON.stringify(v) : String(v);
    })));
    setText("query-count", body.row_count + " row(s)" +
            (body.rows.length < body.row_count ? ", " + body.rows.length + " shown" : ""));
  } catch (e) {
    result.tHead.replaceChildren();
    result.tBodies[0].replaceChildren();
    setText("query-count", "");
    err.textContent = e.message;
    err.hidden = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("query-form").addEventListener("submit", runQuery);
  refresh();
  setInterval(refresh, 1000);
});
