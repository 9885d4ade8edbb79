/**
 * The readable form of a replay report (`vmpolicy replay` without
 * `--json`): the counts side by side, time per host in each group, the
 * first differing rounds with the actions only one side planned, and the
 * replay's limit, always last so it is never missed.
 */
import { describeAction } from "./compare.js";
import type { ReplayReport, SetTotals } from "./report.js";

/** `1h02m`, `4m10s`, `35s`. */
export function formatSeconds(s: number): string {
  const t = Math.round(s);
  if (t >= 3600) return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}m`;
  if (t >= 60) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s`;
  return `${t}s`;
}

function groupLines(base: SetTotals, cand: SetTotals): string[] {
  const out: string[] = [];
  const policies = [...new Set([...Object.keys(base.time_in_groups), ...Object.keys(cand.time_in_groups)])].sort();
  for (const policy of policies) {
    const b = base.time_in_groups[policy] ?? {};
    const c = cand.time_in_groups[policy] ?? {};
    const hosts = [...new Set([...Object.keys(b), ...Object.keys(c)])].sort();
    // A policy in one set only (the candidate renamed or added one) is shown for that set alone.
    const only = !(policy in base.time_in_groups) ? " (candidate only)" : !(policy in cand.time_in_groups) ? " (baseline only)" : "";
    for (const host of hosts) {
      const groups = [...new Set([...Object.keys(b[host] ?? {}), ...Object.keys(c[host] ?? {})])].sort();
      const cells = groups.map((g) => (only ? formatSeconds((b[host]?.[g] ?? 0) + (c[host]?.[g] ?? 0)) : `${formatSeconds(b[host]?.[g] ?? 0)} → ${formatSeconds(c[host]?.[g] ?? 0)}`)).map((t, i) => `${groups[i]} ${t}`);
      out.push(`  ${policy} ${host}${only}: ${cells.join(", ")}`);
    }
  }
  return out;
}

/** The whole text report; `candidate` and `baseline` name the sets as the operator gave them. */
export function renderReplay(r: ReplayReport, names: { candidate: string; baseline: string }): string {
  const lines: string[] = [];
  const hours = (r.seconds / 3600).toFixed(1);
  lines.push(`replayed ${r.rounds} recorded round${r.rounds === 1 ? "" : "s"}${r.from ? ` from ${r.from} to ${r.to}` : ""} (${hours} h)`);
  lines.push(`candidate: ${names.candidate}`);
  lines.push(`baseline:  ${names.baseline}`);
  if (r.recorded_sets.length > 0) {
    lines.push(`recorded active set${r.recorded_sets.length === 1 ? "" : "s"}: ${r.recorded_sets.map((s) => `${s.policies.join(", ")} (${s.hash.slice(0, 12)}, ${s.rounds} rounds)`).join("; ")}`);
  }
  lines.push("");
  const rows: [string, (t: SetTotals) => string][] = [
    ["migrations", (t) => String(t.migrate)],
    ["migrations per hour", (t) => (t.migrations_per_hour === null ? "-" : t.migrations_per_hour.toFixed(2))],
    ["restarts", (t) => String(t.restart)],
    ["alerts", (t) => String(t.alert)],
    ["plan errors", (t) => String(t.errors)],
  ];
  lines.push(`${"".padEnd(22)}${"baseline".padStart(10)}${"candidate".padStart(11)}`);
  for (const [label, cell] of rows) lines.push(`${label.padEnd(22)}${cell(r.baseline).padStart(10)}${cell(r.candidate).padStart(11)}`);
  lines.push("");
  lines.push(`rounds whose actions differ: ${r.differing} of ${r.rounds}`);
  const groups = groupLines(r.baseline, r.candidate);
  if (groups.length > 0) lines.push("", "time per host in each group (baseline → candidate):", ...groups);
  if (r.diffs.length > 0) {
    lines.push("", `first differing rounds (${r.diffs.length} of ${r.differing}; - baseline only, + candidate only):`);
    for (const d of r.diffs) {
      lines.push(`  round ${d.round} at ${d.at}:`);
      for (const a of d.only_baseline) lines.push(`    - ${describeAction(a)}`);
      for (const a of d.only_candidate) lines.push(`    + ${describeAction(a)}`);
    }
  }
  lines.push("", `note: ${r.limit}`);
  return lines.join("\n") + "\n";
}
