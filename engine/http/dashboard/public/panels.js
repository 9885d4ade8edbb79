// The panels beside the hosts: actions in flight, restarts waiting for a
// fence, the last plan with its explanation, the policy sets with the
// diagnostics of a failed reload, and the decisions log.
import { clock, elapsed, fill, h, show } from "./dom.js";

/** Migrations and restarts in flight; `.elapsed` cells are ticked by `tickElapsed`. */
export function renderFlights(el, flights) {
  if (flights.length === 0) return fill(el, h("p", { class: "empty" }, "No migration in flight."));
  fill(
    el,
    h(
      "ul",
      { class: "flights" },
      flights.map((f) =>
        h(
          "li",
          { class: "flight", dataset: { vm: f.vm, kind: f.kind } },
          h("span", { class: "flight-what" }, h("strong", null, f.vm), ` ${f.kind === "restart" ? "restarts" : "migrates"} `, f.from, " → ", f.to),
          // Agents that report how far a migration is (sim, virsh) get a bar in the track; for the others the dot runs until it ends.
          typeof f.progress === "number"
            ? h("span", { class: "track" }, h("progress", { max: "1", value: String(f.progress), "aria-label": `progress of ${f.vm}` }))
            : h("span", { class: "track", "aria-hidden": "true" }, h("span", { class: "dot" })),
          h("span", { class: "elapsed", dataset: { since: String(Date.parse(f.started_at)) } }, elapsed(Date.now() - Date.parse(f.started_at))),
          h("span", { class: "rule" }, f.rule),
        ),
      ),
    ),
  );
}

export function tickElapsed(root) {
  for (const el of root.querySelectorAll(".elapsed[data-since]")) el.textContent = elapsed(Date.now() - Number(el.dataset.since));
}

/** Down hosts whose VMs wait for a fence, with the reason and the operator's way out. */
export function renderFenceWaits(el, waits, onConfirm) {
  if (waits.length === 0) return fill(el, h("p", { class: "empty" }, "No restart waits for a fence."));
  fill(
    el,
    h(
      "ul",
      { class: "waits" },
      waits.map((w) =>
        h(
          "li",
          { dataset: { host: w.host } },
          h("strong", null, w.host),
          `: ${w.vms.length} VM${w.vms.length === 1 ? "" : "s"} wait (${w.vms.join(", ")}) — `,
          w.reason,
          " ",
          h("button", { type: "button", onclick: () => onConfirm(w.host) }, `Confirm ${w.host} is powered off…`),
        ),
      ),
    ),
  );
}

function explanation(x) {
  if (!x.explain) return null;
  const rows = [];
  for (const [k, v] of Object.entries(x.explain.binding ?? {})) rows.push(h("li", null, h("code", null, k), " = ", show(v)));
  for (const [k, v] of Object.entries(x.explain.lets ?? {})) rows.push(h("li", null, h("code", null, `let ${k}`), " = ", show(v)));
  return rows.length ? h("details", null, h("summary", null, "why"), h("ul", { class: "why" }, rows)) : null;
}

function actionText(a) {
  if (a.kind === "alert") return [h("span", { class: "kind alert" }, "alert"), " ", a.message];
  return [h("span", { class: `kind ${a.kind}` }, a.kind), " ", h("strong", null, a.vm), " ", a.from ?? "?", " → ", a.to ?? "?"];
}

/** The last plan: actions, skips with reasons, errors, each with its rule and explanation. */
export function renderPlan(el, plan, round) {
  const head = round
    ? h("p", { class: "round" }, `Round at ${clock(round.at)}, ${round.duration_ms} ms: ${round.actions} actions, ${round.skipped} skipped, ${round.errors} errors${round.executed ? "" : " (nothing executed)"}.`)
    : h("p", { class: "empty" }, "No round yet.");
  if (!plan) return fill(el, head);
  const list = (title, items, render) =>
    h("div", { class: "plan-part" }, h("h3", null, `${title} (${items.length})`), items.length === 0 ? h("p", { class: "empty" }, "none") : h("ul", null, items.map(render)));
  fill(
    el,
    head,
    list("Actions", plan.actions, (a) => h("li", { class: "action" }, actionText(a), h("span", { class: "rule" }, a.rule), explanation(a))),
    list("Skipped", plan.skipped, (s) =>
      h("li", { class: "skip" }, h("span", { class: `kind ${s.kind}` }, s.kind), " ", s.vm ? h("strong", null, s.vm) : null, s.to ? ` → ${s.to}` : "", s.host ? ` ${s.host}` : "", ": ", s.reason, h("span", { class: "rule" }, s.rule), explanation(s)),
    ),
    list("Errors", plan.errors, (e) => h("li", { class: "error" }, h("span", { class: "rule" }, e.rule), " ", e.message)),
  );
}

function policyTable(policies) {
  return h(
    "table",
    null,
    h("thead", null, h("tr", null, h("th", null, "policy"), h("th", null, "file"), h("th", null, "hash"), h("th", null, "loaded"))),
    h("tbody", null, policies.map((p) => h("tr", null, h("td", null, p.name), h("td", { class: "file" }, p.file), h("td", null, h("code", { title: p.hash }, String(p.hash).slice(0, 12))), h("td", null, clock(p.loaded_at))))),
  );
}

/** The active set, the shadow set when the engine has one, and a failed reload rendered like `check`. */
export function renderPolicies(el, status, reloadText) {
  const parts = [h("h3", null, "Active"), policyTable(status.policies ?? [])];
  const shadow = status.shadow;
  if (shadow) {
    parts.push(h("h3", null, "Shadow"));
    if (Array.isArray(shadow.policies)) parts.push(policyTable(shadow.policies));
    const extra = Object.entries(shadow).filter(([k]) => k !== "policies");
    if (extra.length) parts.push(h("ul", { class: "shadow" }, extra.map(([k, v]) => h("li", null, h("code", null, k), ": ", show(v)))));
  }
  const err = status.reload_error;
  if (err) {
    const text = reloadText ?? err.diagnostics.map((d) => `${d.span.file}:${d.span.start.line}:${d.span.start.column}: ${d.severity}: ${d.message}`).join("\n");
    parts.push(h("h3", { class: "bad" }, `Reload rejected at ${clock(err.at)}: the running set stays active`), h("pre", { class: "diagnostics" }, text));
  }
  fill(el, parts);
}

/** Rows shown before "Show all": a table of hundreds of rows costs more than an update may. */
const FIRST_ROWS = 100;

function matches(d, vm, host) {
  if (vm && !(d.vm ?? "").toLowerCase().includes(vm)) return false;
  if (host && ![d.from, d.to, d.message].some((x) => (x ?? "").toLowerCase().includes(host))) return false;
  return true;
}

/** The decisions log, newest first, narrowed by VM and host (substring, any case; an alert's message counts for the host). */
export function renderDecisions(el, decisions, vmFilter, hostFilter, showAll, onShowAll) {
  const vm = vmFilter.trim().toLowerCase();
  const host = hostFilter.trim().toLowerCase();
  const matching = decisions.filter((d) => matches(d, vm, host));
  if (matching.length === 0) return fill(el, h("p", { class: "empty" }, decisions.length ? "No decision matches." : "No decision yet."));
  const rows = showAll ? matching : matching.slice(0, FIRST_ROWS);
  fill(
    el,
    h(
      "table",
      { class: "decisions" },
      h("thead", null, h("tr", null, ["time", "", "action", "outcome", "rule"].map((t) => h("th", null, t)))),
      h(
        "tbody",
        null,
        rows.map((d) =>
          h(
            "tr",
            { class: d.outcome && d.outcome !== "completed" ? "bad" : "" },
            h("td", null, clock(d.at)),
            h("td", null, d.phase),
            h("td", null, h("span", { class: `kind ${d.kind}` }, d.kind), " ", d.vm ? h("strong", null, d.vm) : null, d.from ? ` ${d.from} → ${d.to}` : "", d.kind !== "migrate" && d.kind !== "restart" && d.message ? ` ${d.message}` : ""),
            h("td", null, d.outcome ?? (d.phase === "start" ? "started" : ""), d.error ? `: ${d.error}` : ""),
            h("td", { class: "rule" }, d.rule),
          ),
        ),
      ),
    ),
    rows.length < matching.length ? h("button", { type: "button", class: "more", onclick: onShowAll }, `Show all ${matching.length}`) : null,
  );
}
