// The dashboard (SPEC 11): state from `GET /events` (server-sent events; when
// they fail, the same snapshot polled as JSON), rendered without reloading the
// page; operator actions through the engine's routes (api.js).
import { change } from "./api.js";
import { History, LoadChart } from "./chart.js";
import { $, clock, fill, groupColor, h } from "./dom.js";
import { HostList } from "./hosts.js";
import { renderDecisions, renderFenceWaits, renderFlights, renderPlan, renderPolicies, tickElapsed } from "./panels.js";

const MAX_CHARTED = 8;
const POLL_MS = 3000;

const state = { data: null, history: new History(), charted: new Set(), chartChosen: false, connection: "connecting", allDecisions: false };

// ------------------------------------------------------------ dialogs

/** Resolves to the token typed in, or null when cancelled. */
function askToken(reason) {
  const dialog = $("#token-dialog");
  const input = $("#token-input");
  $("#token-reason").textContent = reason ?? "";
  input.value = "";
  dialog.showModal();
  return new Promise((resolve) => {
    const done = (value) => {
      dialog.close();
      $("#token-form").removeEventListener("submit", submit);
      $("#token-cancel").removeEventListener("click", cancel);
      resolve(value);
    };
    const submit = (e) => {
      e.preventDefault();
      done(input.value.trim() || null);
    };
    const cancel = () => done(null);
    $("#token-form").addEventListener("submit", submit);
    $("#token-cancel").addEventListener("click", cancel);
    dialog.addEventListener("cancel", cancel, { once: true });
  });
}

/** Asks before an irreversible step; the question names the host. */
function confirmStep(question, yes) {
  const dialog = $("#confirm-dialog");
  $("#confirm-text").textContent = question;
  $("#confirm-yes").textContent = yes;
  dialog.showModal();
  return new Promise((resolve) => {
    const done = (v) => {
      dialog.close();
      resolve(v);
    };
    $("#confirm-yes").onclick = () => done(true);
    $("#confirm-no").onclick = () => done(false);
    dialog.addEventListener("cancel", () => resolve(false), { once: true });
  });
}

function notice(text, bad) {
  const el = $("#notice");
  el.textContent = text;
  el.className = bad ? "bad" : "ok";
}

async function act(label, method, path, body) {
  notice(`${label}…`);
  const r = await change(method, path, body, askToken);
  if (r.ok) notice(`${label}: done.`);
  else notice(`${label}: refused (${r.status || "no answer"}): ${r.error}`, true);
  if (r.ok && state.connection !== "live") void poll();
  return r;
}

const actions = {
  maintenance: (host, on) => act(on ? `Maintenance on ${host}` : `End maintenance of ${host}`, "PUT", `/hosts/${encodeURIComponent(host)}/state`, { state: on ? "maintenance" : "up" }),
  fence: async (host) => {
    const ok = await confirmStep(
      `Confirm that host ${host} is powered off? Its VMs are then restarted on other hosts; if ${host} still runs them, two copies will corrupt their disks.`,
      `${host} is powered off`,
    );
    if (ok) await act(`Confirm ${host} fenced`, "POST", `/hosts/${encodeURIComponent(host)}/fenced`);
  },
  chart: (host) => {
    state.chartChosen = true;
    if (state.charted.has(host)) state.charted.delete(host);
    else if (state.charted.size < MAX_CHARTED) state.charted.add(host);
    else notice(`At most ${MAX_CHARTED} hosts are charted at once; remove one first.`, true);
    render();
  },
};

$("#pause").addEventListener("click", () => act(state.data?.status.paused ? "Resume" : "Pause", "POST", state.data?.status.paused ? "/resume" : "/pause"));
$("#round").addEventListener("click", () => act("Round", "POST", "/round"));
$("#reload").addEventListener("click", () => act("Reload policies", "POST", "/reload"));
for (const id of ["#decision-vm", "#decision-host"]) $(id).addEventListener("input", () => renderLog());
$("#host-filter").addEventListener("input", () => render());

// ------------------------------------------------------------ rendering

const hostList = new HostList($("#host-list"), actions);
const chart = new LoadChart($("#chart"), $("#chart-caption"));

/** The first policy with groups decides colours and band (the policy's `values`: lower, mean, upper). */
function primaryPolicy(data) {
  const names = (data.status.policies ?? []).map((p) => p.name);
  return names.find((n) => data.plan?.groups?.[n] && Object.keys(data.plan.groups[n]).length > 0) ?? names[0];
}

function bandOf(data, policy) {
  const v = data.plan?.values?.[policy];
  if (!v) return null;
  const band = {};
  for (const k of ["lower", "mean", "upper"]) if (typeof v[k] === "number") band[k] = v[k];
  return Object.keys(band).length ? band : null;
}

function hostsOf(data, policy) {
  const byName = new Map((data.status.hosts ?? []).map((s) => [s.name, s]));
  const source = data.cluster?.hosts ?? data.status.hosts ?? [];
  return source.map((c) => {
    const s = byName.get(c.name) ?? {};
    return { ...s, ...c, vms: c.vms ?? [], group: (c.groups ?? s.groups ?? {})[policy] ?? null };
  });
}

const shown = new Map();
/** Runs `render` unless `key` is what `name` last rendered. */
function once(name, key, render) {
  if (shown.get(name) === key) return;
  shown.set(name, key);
  render();
}

function renderLog() {
  if (!state.data) return;
  const d = state.data.decisions ?? [];
  const vm = $("#decision-vm").value;
  const host = $("#decision-host").value;
  const key = `${d.length}|${d[0]?.id}|${d[0]?.phase}|${d[0]?.at}|${state.allDecisions}|${vm}\u0000${host}`;
  once("decisions", key, () =>
    renderDecisions($("#decisions"), d, vm, host, state.allDecisions, () => {
      state.allDecisions = true;
      renderLog();
    }),
  );
}

let renders = 0;
function render() {
  const data = state.data;
  if (!data) return;
  const t0 = performance.now();
  const policy = primaryPolicy(data);
  const band = bandOf(data, policy);
  const all = hostsOf(data, policy);
  const groups = [...new Set(all.map((x) => x.group).filter(Boolean))];
  const filter = $("#host-filter").value.trim().toLowerCase();
  const hosts = filter ? all.filter((x) => x.name.toLowerCase().includes(filter) || (x.group ?? "").includes(filter) || x.state.includes(filter)) : all;
  if (!state.chartChosen) state.charted = new Set(all.slice(0, MAX_CHARTED).map((x) => x.name));
  const flights = data.cluster?.flights ?? [];
  const scale = Math.max(100, band?.upper ?? 0, ...all.map((x) => x.load ?? 0));
  hostList.update({ hosts, scale, band, groups, charted: state.charted, flights: new Map(flights.map((f) => [f.vm, f])) });
  summary(all, groups, policy, band);
  renderFlights($("#flights"), flights);
  renderFenceWaits($("#fence-waits"), data.cluster?.fence_waits ?? [], actions.fence);
  // The big panels are rebuilt only when what they show changed.
  const round = data.status.last_round;
  once("plan", `${round?.at}|${data.plan?.actions.length}|${data.plan?.skipped.length}|${data.plan?.errors.length}`, () => renderPlan($("#plan"), data.plan, round));
  once("policies", JSON.stringify([data.status.policies, data.status.shadow, data.status.reload_error?.at, data.reload_text]), () => renderPolicies($("#policies"), data.status, data.reload_text));
  renderLog();
  chart.update(state.history, [...state.charted].filter((n) => state.history.load.has(n)), band);
  const p = data.status.paused;
  $("#pause").textContent = p ? "Resume" : "Pause";
  $("#pause").setAttribute("aria-pressed", String(p));
  $("#mode").textContent = p ? "paused: plans only" : data.status.dry_run ? "dry run: plans only" : "executing";
  $("#mode").className = p || data.status.dry_run ? "badge warn" : "badge";
  renders++;
  // User timings are kept until cleared: keep the page's memory flat over days.
  if (renders % 100 === 0) for (const n of ["vmpolicy:render", "vmpolicy:update"]) performance.clearMeasures(n);
  if (renders === 1) performance.mark("vmpolicy:first-render");
  performance.measure("vmpolicy:render", { start: t0 });
  document.body.dataset.renders = String(renders);
}

function summary(hosts, groups, policy, band) {
  const states = {};
  let vms = 0;
  for (const x of hosts) {
    states[x.state] = (states[x.state] ?? 0) + 1;
    vms += x.vms.length || x.vm_count || 0;
  }
  fill(
    $("#summary"),
    `${hosts.length} hosts (${Object.entries(states).map(([s, n]) => `${n} ${s}`).join(", ")}) · ${vms} VMs`,
    policy ? ` · groups of ${policy}: ` : "",
    groups.map((g) => {
      const chip = h("span", { class: "chip legend" }, g);
      const c = groupColor(g, groups);
      chip.style.background = c.bg;
      chip.style.color = c.fg;
      return chip;
    }),
    band ? ` · band: lower ${band.lower ?? "–"} · mean ${band.mean ?? "–"} · upper ${band.upper ?? "–"}` : "",
  );
}

// ------------------------------------------------------------ data

/** Takes one message of the feed (JSON text); the page's whole work per update is measured as `vmpolicy:update`. */
function apply(kind, text) {
  const t0 = performance.now();
  const msg = JSON.parse(text);
  state.history.merge(msg.history, kind === "snapshot" || !state.data);
  state.data = msg;
  $("#updated").textContent = `updated ${clock(msg.at)}`;
  render();
  performance.measure("vmpolicy:update", { start: t0 });
}

function setConnection(c) {
  state.connection = c;
  const el = $("#connection");
  el.textContent = { live: "live", polling: "polling", connecting: "connecting…", offline: "engine not answering" }[c];
  el.className = c === "live" ? "badge" : "badge warn";
}

async function poll() {
  try {
    const res = await fetch("/events", { headers: { accept: "application/json" }, cache: "no-store" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    apply("snapshot", await res.text());
    if (state.connection !== "live") setConnection("polling");
  } catch {
    if (state.connection !== "live") setConnection("offline");
  }
}

let pollTimer = null;
function startPolling() {
  if (pollTimer) return;
  void poll();
  pollTimer = setInterval(poll, POLL_MS);
}

function connect() {
  if (typeof EventSource !== "function") return startPolling();
  const es = new EventSource("/events");
  let failures = 0;
  es.addEventListener("snapshot", (e) => {
    failures = 0;
    clearInterval(pollTimer);
    pollTimer = null;
    setConnection("live");
    apply("snapshot", e.data);
  });
  es.addEventListener("update", (e) => apply("update", e.data));
  es.addEventListener("error", () => {
    // EventSource reconnects by itself; after repeated failures poll meanwhile.
    if (++failures >= 3) startPolling();
    setConnection(pollTimer ? "polling" : "connecting");
  });
}

setInterval(() => tickElapsed($("#flights")), 500);
connect();
