// The mini-flink dashboard. It reads the same REST API as any Flink tool
// (Flink 2.3's shapes) and refreshes at /config's refresh-interval.
// Pages: #/ (cluster overview: TaskManagers, their slots and what runs in
// each), #/jobs, #/job/<jid> (dataflow pictures, vertices and subtasks,
// checkpoints, exceptions, cancel/savepoint/stop), #/submit (job files).
"use strict";

const state = { refresh: 3000, view: "chained", timer: null, openVertices: new Set() };
const PALETTE = ["#1a73e8", "#e8710a", "#188038", "#a142f4", "#d01884", "#12b5cb", "#b06000", "#5f6368"];

function esc(v) {
  return String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
function colourOf(jid) {
  let h = 0;
  for (const c of String(jid)) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length];
}
function badge(s) { return `<span class="badge ${esc(s)}">${esc(s)}</span>`; }
function duration(ms) {
  if (ms == null || ms < 0) return "–";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
function time(t) { return t > 0 ? new Date(t).toISOString().replace("T", " ").slice(0, 19) : "–"; }

async function api(path, options) {
  const r = await fetch(path, options);
  let body = null;
  try { body = await r.json(); } catch (_) { body = null; }
  if (!r.ok) {
    const msg = body && body.errors ? body.errors.join("; ") : `${r.status} ${r.statusText}`;
    throw new Error(msg);
  }
  return body;
}
function flash(text, error) {
  const f = document.getElementById("flash");
  f.hidden = false;
  f.className = error ? "error" : "";
  f.textContent = text;
}

// ---- overview ---------------------------------------------------------

async function overviewPage() {
  const [ov, tms, jobs] = await Promise.all([api("/overview"), api("/taskmanagers"), api("/jobs/overview")]);
  const details = await Promise.all(tms.taskmanagers.map((t) => api(`/taskmanagers/${encodeURIComponent(t.id)}`).catch(() => t)));
  const names = {};
  for (const j of jobs.jobs) names[j.jid] = j.name;
  const card = (n, l) => `<div class="card"><div class="n">${esc(n)}</div><div class="l">${esc(l)}</div></div>`;
  let html = `<h1>Cluster overview</h1><div class="cards">
    ${card(ov.taskmanagers, "TaskManagers")}
    ${card(ov["slots-total"], "task slots")}
    ${card(ov["slots-available"], "free slots")}
    ${card(ov["slots-total"] - ov["slots-available"], "used slots")}
    ${card(ov["jobs-running"], "running jobs")}
    ${card(ov["jobs-finished"], "finished jobs")}
    ${card(ov["jobs-cancelled"], "cancelled jobs")}
    ${card(ov["jobs-failed"], "failed jobs")}
  </div>
  <h2>TaskManagers and their slots</h2>
  <p class="muted">Subtasks of one job share a slot (slot sharing): subtask <i>i</i> of every operator chain of a slot sharing group runs in the same slot.</p>
  <div class="taskmanagers" id="taskmanagers">`;
  for (const tm of details) html += taskManagerCard(tm, names);
  if (details.length === 0) html += `<p class="muted">No TaskManager has registered yet.</p>`;
  html += `</div>${jobsTables(jobs.jobs)}`;
  return html;
}

function taskManagerCard(tm, names) {
  const slots = [];
  const allocated = tm.allocatedSlots || [];
  for (let i = 0; i < (tm.slotsNumber || 0); i++) {
    const a = allocated.find((s) => s.index === i);
    if (!a) { slots.push(`<div class="slot free"><div class="title">slot ${i}</div><span class="muted">free</span></div>`); continue; }
    const tasks = (a.tasks || []).map((t) =>
      `<div class="task" style="background:${colourOf(t.jobId)}" title="${esc(names[t.jobId] || t.jobId)}">${esc(t.name)} [${esc(t.subtask)}]</div>`).join("");
    slots.push(`<div class="slot used"><div class="title">slot ${i} · <a href="#/job/${esc(a.jobId)}">${esc(names[a.jobId] || a.jobId || "")}</a></div>${tasks || '<span class="muted">allocated</span>'}</div>`);
  }
  return `<div class="taskmanager" data-id="${esc(tm.id)}">
    <div class="head">${esc(tm.id)}</div>
    <div class="sub">${esc(tm.freeSlots)} of ${esc(tm.slotsNumber)} slots free · data port ${esc(tm.dataPort)}</div>
    <div class="slots">${slots.join("")}</div></div>`;
}

function jobsTables(jobs) {
  const rows = (list) => list.map((j) => `<tr><td><a href="#/job/${esc(j.jid)}">${esc(j.name)}</a><div class="muted">${esc(j.jid)}</div></td>
      <td>${badge(j.state)}</td><td>${time(j["start-time"])}</td><td>${duration(j.duration)}</td>
      <td>${esc(j.tasks.running)} / ${esc(j.tasks.total)}</td></tr>`).join("") || `<tr><td colspan="5" class="muted">none</td></tr>`;
  const head = `<tr><th>Job</th><th>Status</th><th>Started</th><th>Duration</th><th>Tasks running</th></tr>`;
  const done = ["FINISHED", "CANCELED", "FAILED"];
  return `<h2>Running jobs</h2><table id="running-jobs">${head}${rows(jobs.filter((j) => !done.includes(j.state)))}</table>
    <h2>Completed jobs</h2><table id="completed-jobs">${head}${rows(jobs.filter((j) => done.includes(j.state)))}</table>`;
}

async function jobsPage() {
  const jobs = await api("/jobs/overview");
  return `<h1>Jobs</h1>${jobsTables(jobs.jobs)}`;
}

// ---- one job ----------------------------------------------------------

async function jobPage(jid) {
  const job = await api(`/jobs/${jid}`);
  const [picture, checkpoints, exceptions] = await Promise.all([
    api(`/jobs/${jid}/dataflow?view=${state.view}`),
    api(`/jobs/${jid}/checkpoints`).catch(() => null),
    api(`/jobs/${jid}/exceptions?maxExceptions=10`).catch(() => null),
  ]);
  const vertices = job.vertices || [];
  const subtasks = await Promise.all(vertices.map((v) =>
    state.openVertices.has(v.id) ? api(`/jobs/${jid}/vertices/${v.id}`).catch(() => null) : null));
  const terminal = ["FINISHED", "CANCELED", "FAILED"].includes(job.state);
  let html = `<h1>${esc(job.name)} ${badge(job.state)}</h1>
    <table class="info"><tr><th>Job ID</th><td>${esc(job.jid)}</td><th>Job state</th><td>${badge(job.state)}</td><th>Job type</th><td>${esc(job["job-type"])}</td></tr>
      <tr><th>Start time</th><td>${time(job["start-time"])}</td><th>End time</th><td>${time(job["end-time"])}</td><th>Duration</th><td>${duration(job.duration)}</td></tr></table>
    <div class="toolbar">
      <button id="cancel" class="danger" ${terminal ? "disabled" : ""} onclick="control('${esc(jid)}','cancel')">Cancel job</button>
      <button id="savepoint" ${terminal ? "disabled" : ""} onclick="control('${esc(jid)}','savepoint')">Trigger savepoint</button>
      <button id="stop" ${terminal ? "disabled" : ""} onclick="control('${esc(jid)}','stop')">Stop with savepoint</button>
    </div>
    <h2>Dataflow</h2>
    <div class="toolbar">
      <button class="${state.view === "chained" ? "on" : ""}" onclick="setView('chained')">Operator chains</button>
      <button class="${state.view === "parallel" ? "on" : ""}" onclick="setView('parallel')">Parallel (subtasks)</button>
      <span class="muted">edges: ship strategy, records/s of the producer, back-pressure</span>
    </div>
    <div id="dataflow">${picture.svg}</div>
    <h2>Vertices</h2>
    <table id="vertices"><tr><th>Name</th><th>Parallelism</th><th>Status</th><th>Records received</th><th>Records sent</th><th>Tasks</th><th></th></tr>`;
  vertices.forEach((v, i) => {
    const m = v.metrics || {};
    const counts = Object.entries(v.tasks || {}).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s.toLowerCase()}`).join(", ");
    html += `<tr><td>${esc(v.name)}</td><td>${esc(v.parallelism)}</td><td>${badge(v.status)}</td>
      <td>${esc(m["read-records"])}</td><td>${esc(m["write-records"])}</td><td>${esc(counts)}</td>
      <td><button onclick="toggleVertex('${esc(v.id)}')">${state.openVertices.has(v.id) ? "hide" : "subtasks"}</button></td></tr>`;
    const d = subtasks[i];
    if (d && d.subtasks) {
      html += `<tr><td colspan="7"><table><tr><th>Subtask</th><th>Status</th><th>Attempt</th><th>TaskManager</th><th>Endpoint</th><th>Duration</th><th>Records in / out</th></tr>`;
      for (const s of d.subtasks) {
        const sm = s.metrics || {};
        html += `<tr><td>${esc(s.subtask)}</td><td>${badge(s.status)}</td><td>${esc(s.attempt)}</td><td>${esc(s["taskmanager-id"])}</td>
          <td>${esc(s.endpoint)}</td><td>${duration(s.duration)}</td><td>${esc(sm["read-records"])} / ${esc(sm["write-records"])}</td></tr>`;
      }
      html += `</table></td></tr>`;
    }
  });
  html += `</table>${checkpointsSection(checkpoints)}${exceptionsSection(exceptions)}`;
  return html;
}

function checkpointsSection(c) {
  if (!c || !c.counts) return `<h2>Checkpoints</h2><p class="muted">No checkpoint statistics.</p>`;
  const k = c.counts;
  let html = `<h2>Checkpoints</h2><div class="cards">
    <div class="card"><div class="n">${esc(k.completed)}</div><div class="l">completed</div></div>
    <div class="card"><div class="n">${esc(k.in_progress)}</div><div class="l">in progress</div></div>
    <div class="card"><div class="n">${esc(k.failed)}</div><div class="l">failed</div></div>
    <div class="card"><div class="n">${esc(k.restored)}</div><div class="l">restored</div></div></div>`;
  const hist = c.history || [];
  if (hist.length) {
    html += `<table id="checkpoint-history" style="margin-top:10px"><tr><th>ID</th><th>Status</th><th>Type</th><th>Triggered</th><th>End to end</th><th>State size</th><th>Acknowledged</th></tr>`;
    for (const h of hist.slice(0, 10)) {
      html += `<tr><td>${esc(h.id)}</td><td>${badge(h.status)}</td><td>${esc(h.checkpoint_type || "")}${h.is_savepoint ? " (savepoint)" : ""}</td>
        <td>${time(h.trigger_timestamp)}</td><td>${esc(h.end_to_end_duration)} ms</td><td>${esc(h.state_size)} B</td>
        <td>${esc(h.num_acknowledged_subtasks)} / ${esc(h.num_subtasks)}</td></tr>`;
    }
    html += `</table>`;
  }
  return html;
}

function exceptionsSection(e) {
  const entries = (e && e.exceptionHistory && e.exceptionHistory.entries) || [];
  if (!entries.length) return `<h2>Exceptions</h2><p class="muted">No exceptions.</p>`;
  return `<h2>Exceptions</h2><table id="exceptions"><tr><th>Time</th><th>Exception</th><th>Task</th><th>Location</th></tr>${entries.map((x) =>
    `<tr><td>${time(x.timestamp)}</td><td><b>${esc(x.exceptionName)}</b><pre>${esc(x.stacktrace)}</pre></td><td>${esc(x.taskName)}</td><td>${esc(x.location || x.endpoint)}</td></tr>`).join("")}</table>`;
}

window.setView = (v) => { state.view = v; render(); };
window.toggleVertex = (id) => { if (state.openVertices.has(id)) state.openVertices.delete(id); else state.openVertices.add(id); render(); };

window.control = async (jid, what) => {
  try {
    if (what === "cancel") {
      await api(`/jobs/${jid}?mode=cancel`, { method: "PATCH" });
      flash(`Cancelling job ${jid}.`);
    } else {
      const path = what === "stop" ? `/jobs/${jid}/stop` : `/jobs/${jid}/savepoints`;
      const t = await api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(what === "stop" ? { drain: false } : { "cancel-job": false }) });
      flash(`${what === "stop" ? "Stop with savepoint" : "Savepoint"} triggered (request ${t["request-id"]}); waiting for it…`);
      pollSavepoint(jid, t["request-id"]);
    }
  } catch (err) { flash(`Could not ${what}: ${err.message}`, true); }
  render();
};

async function pollSavepoint(jid, id) {
  for (let i = 0; i < 120; i++) {
    await new Promise((r) => setTimeout(r, 500));
    try {
      const s = await api(`/jobs/${jid}/savepoints/${id}`);
      if (s.status && s.status.id === "COMPLETED") {
        const op = s.operation || {};
        if (op.location) flash(`Savepoint completed: ${op.location}`);
        else flash(`Savepoint failed: ${JSON.stringify(op["failure-cause"] || op)}`, true);
        render();
        return;
      }
    } catch (err) { flash(`Savepoint status: ${err.message}`, true); return; }
  }
}

// ---- submit -----------------------------------------------------------

async function submitPage() {
  const jars = await api("/jars");
  const rows = (jars.files || []).map((f) => `<tr><td>${esc(f.name)}<div class="muted">${esc(f.id)}</div></td><td>${time(f.uploaded)}</td>
    <td><form class="inline" onsubmit="runJar(event,'${esc(f.id)}')">
      <input type="number" min="1" name="parallelism" placeholder="parallelism">
      <input type="text" name="savepointPath" placeholder="savepoint path (optional)" size="28">
      <button class="primary" type="submit">Run</button>
      <button type="button" onclick="deleteJar('${esc(f.id)}')">Delete</button></form></td></tr>`).join("")
    || `<tr><td colspan="3" class="muted">No job file uploaded yet.</td></tr>`;
  return `<h1>Submit a new job</h1>
    <p class="muted">Upload a job file (a mini-flink job or application TOML, where Flink takes a jar), then run it.</p>
    <form class="inline" id="upload" onsubmit="upload(event)"><input type="file" name="jarfile" accept=".toml">
      <button class="primary" type="submit">Upload</button></form>
    <h2>Uploaded job files</h2><table id="jars"><tr><th>File</th><th>Uploaded</th><th></th></tr>${rows}</table>`;
}

window.upload = async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  try { const r = await api("/jars/upload", { method: "POST", body: form }); flash(`Uploaded ${r.filename}.`); }
  catch (err) { flash(`Upload refused: ${err.message}`, true); }
  render();
};
window.runJar = async (ev, id) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const body = {};
  if (f.get("parallelism")) body.parallelism = Number(f.get("parallelism"));
  if (f.get("savepointPath")) body.savepointPath = f.get("savepointPath");
  try {
    const r = await api(`/jars/${encodeURIComponent(id)}/run`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    location.hash = `#/job/${r.jobid}`;
  } catch (err) { flash(`Could not run: ${err.message}`, true); }
};
window.deleteJar = async (id) => {
  try { await api(`/jars/${encodeURIComponent(id)}`, { method: "DELETE" }); } catch (err) { flash(err.message, true); }
  render();
};

// ---- routing and refresh ----------------------------------------------

function route() {
  const h = location.hash.replace(/^#/, "") || "/";
  const m = h.match(/^\/job\/([0-9a-fA-F]+)/);
  if (m) return { page: "jobs", render: () => jobPage(m[1]) };
  if (h.startsWith("/jobs")) return { page: "jobs", render: jobsPage };
  if (h.startsWith("/submit")) return { page: "submit", render: submitPage, manual: true };
  return { page: "overview", render: overviewPage };
}

let rendering = false;
async function render() {
  if (rendering) return;
  rendering = true;
  const r = route();
  for (const a of document.querySelectorAll("#sidebar a")) a.classList.toggle("active", a.dataset.page === r.page);
  try { document.getElementById("main").innerHTML = await r.render(); }
  catch (err) { document.getElementById("main").innerHTML = `<h1>Cannot load this page</h1><p class="muted">${esc(err.message)}</p>`; }
  finally { rendering = false; }
}

window.addEventListener("hashchange", () => { document.getElementById("flash").hidden = true; render(); });
(async () => {
  try {
    const cfg = await api("/config");
    state.refresh = cfg["refresh-interval"] || 3000;
    document.getElementById("version").textContent = `REST API of Flink ${cfg["flink-version"]} · ${cfg["flink-revision"]}`;
  } catch (_) { /* keep the default refresh */ }
  await render();
  // Live refresh, except on the submit page (a form being filled in).
  state.timer = setInterval(() => { if (!route().manual) render(); }, state.refresh);
})();
