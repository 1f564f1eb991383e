// The status page: renders each `state` event of /status/events. No data
// is ever put into the page as HTML (textContent only).
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
let received = Date.now();
let view = null;

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function duration(secs) {
  if (secs === null || secs === undefined) return "";
  secs = Math.max(0, Math.floor(secs));
  const d = Math.floor(secs / 86400), h = Math.floor(secs % 86400 / 3600);
  const m = Math.floor(secs % 3600 / 60), s = secs % 60;
  if (d) return d + "d " + h + "h";
  if (h) return h + "h " + m + "m";
  if (m) return m + "m " + s + "s";
  return s + "s";
}

function when(iso) {
  if (!iso) return "";
  const t = new Date(iso);
  return isNaN(t) ? iso : t.toLocaleString();
}

function elapsed() { return (Date.now() - received) / 1000; }

function fill(id, rows) {
  const body = document.querySelector("#" + id + " tbody");
  if (rows.length === 0) {
    const cols = document.querySelectorAll("#" + id + " thead th").length;
    const tr = el("tr", { class: "empty" });
    tr.append(el("td", { colspan: cols }, "none"));
    rows = [tr];
  }
  body.replaceChildren(...rows);
}

function renderChildren(children) {
  fill("children", children.map(c => {
    const tr = el("tr", { "data-name": c.name });
    tr.append(
      el("td", { class: "name" }, c.name),
      el("td", { class: "state state-" + c.state }, c.state),
      el("td", { class: "restarts num", title: "automatic restarts (+ restarts on request)" },
        c.restarts + (c.restarts_requested ? " (+" + c.restarts_requested + " on request)" : "")),
      el("td", { class: "uptime", "data-secs": c.uptime_secs === null ? "" : c.uptime_secs },
        duration(c.uptime_secs)),
      el("td", { class: "last-exit" }, c.last_exit || ""),
      el("td", { class: "detail" }, c.detail || ""));
    return tr;
  }));
  fill("channels", children.filter(c => c.name.startsWith("channel:")).map(c => {
    const tr = el("tr", { "data-name": c.name });
    tr.append(
      el("td", {}, c.name.slice("channel:".length)),
      el("td", { class: "state state-" + c.state }, c.state),
      el("td", {}, when(c.last_activity)),
      el("td", { class: "idle", "data-secs": c.idle_secs === null ? "" : c.idle_secs },
        c.idle_secs === null ? "never" : duration(c.idle_secs)));
    return tr;
  }));
}

function button(job, action, label, disabled) {
  const b = el("button", { type: "button", class: action, "data-action": action }, label);
  b.disabled = disabled;
  b.addEventListener("click", () => act(job, action, b));
  return b;
}

function renderJobs(jobs) {
  fill("jobs", jobs.map(j => {
    const tr = el("tr", { "data-job": j.name });
    const last = j.last_run;
    const actions = el("td", { class: "actions" });
    actions.append(
      button(j.name, "run", "Run now", j.state === "running"),
      button(j.name, "enable", "Enable", j.enabled),
      button(j.name, "disable", "Disable", !j.enabled));
    tr.append(
      el("td", { class: "name" }, j.name),
      el("td", {}, j.schedule + (j.timezone ? " (" + j.timezone + ")" : "")),
      el("td", { class: "enabled" }, j.enabled ? "yes" : "no"),
      el("td", { class: "state" }, j.state),
      el("td", {}, when(j.next_run)),
      el("td", {}, last ? when(last.started_at) : "never"),
      el("td", { class: last ? "status-" + last.status : "" },
        last ? last.status + (last.error ? ": " + last.error : "") : ""),
      actions);
    return tr;
  }));
}

function renderRuns(runs) {
  fill("runs", runs.map(r => {
    const took = r.started_at && r.finished_at
      ? (new Date(r.finished_at) - new Date(r.started_at)) / 1000 : null;
    const tr = el("tr", { "data-run": r.id });
    tr.append(
      el("td", {}, r.job_name),
      el("td", {}, when(r.started_at)),
      el("td", { class: "status-" + r.status }, r.status),
      el("td", { class: "num" }, took === null ? "" : took.toFixed(1) + "s"),
      el("td", {}, r.error || ""));
    return tr;
  }));
}

function render(v) {
  view = v;
  received = Date.now();
  const err = document.getElementById("error");
  err.hidden = !v.error;
  err.textContent = v.error || "";
  renderChildren(v.children);
  renderJobs(v.jobs);
  renderRuns(v.runs);
  tick();
}

// Uptimes and idle times count on between events (the server sends a view
// only when something changed).
function tick() {
  if (!view) return;
  const dt = elapsed();
  document.getElementById("uptime").textContent = "up " + duration(view.uptime_secs + dt);
  for (const td of document.querySelectorAll("td.uptime, td.idle")) {
    const s = td.getAttribute("data-secs");
    if (s !== "") td.textContent = duration(Number(s) + dt);
  }
}

async function act(job, action, b) {
  const out = document.getElementById("action-result");
  b.disabled = true;
  try {
    const r = await fetch("/status/jobs/" + encodeURIComponent(job) + "/" + action, {
      method: "POST",
      headers: { "X-CSRF-Token": csrf },
      credentials: "same-origin",
    });
    const body = await r.json().catch(() => ({}));
    out.textContent = r.ok ? job + ": " + action + " done"
      : job + ": " + ((body.error && body.error.message) || r.status);
    out.className = r.ok ? "ok" : "error";
  } catch (e) {
    out.textContent = job + ": " + e;
    out.className = "error";
  }
}

function connect() {
  const live = document.getElementById("live");
  const source = new EventSource("/status/events");
  source.addEventListener("state", e => {
    live.textContent = "live";
    live.className = "live on";
    render(JSON.parse(e.data));
  });
  source.onerror = () => {
    live.textContent = "reconnecting";
    live.className = "live off";
    if (source.readyState === EventSource.CLOSED) {
      // Signed out (401) or the daemon went away: back to the sign-in form.
      setTimeout(() => location.reload(), 3000);
    }
  };
}

setInterval(tick, 1000);
connect();
