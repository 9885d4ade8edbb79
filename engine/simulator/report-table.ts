/**
 * The human output of `vmpolicy simulate`: one block per `iterations` value
 * with static placement and each policy side by side, laid out like the
 * thesis's Tables 5.5–5.8 (runs ± the half-width of the 95 % confidence
 * interval of their mean, VM%, Dom0%, Idle%, engine%, migrations),
 * plus the change in runs against static and the ping-pong migrations among them.
 */
import type { SweepRow } from "./sweep.js";

/** Renders the rows as a fixed-width text table. */
export function renderTable(rows: readonly SweepRow[]): string {
  const header = ["iterations", "policy", "runs", "±95%", "vs static", "VM%", "Dom0%", "Idle%", "engine%", "migrations", "ping-pong"];
  const lines: string[][] = [];
  const staticRuns = new Map<number, number>();
  for (const r of rows) if (r.policy === "static") staticRuns.set(r.iterations, r.runs);
  let last = -1;
  for (const r of rows) {
    const base = staticRuns.get(r.iterations);
    const delta = base === undefined || r.policy === "static" || base === 0 ? "" : `${r.runs >= base ? "+" : ""}${((100 * (r.runs - base)) / base).toFixed(1)}%`;
    lines.push([
      r.iterations === last ? "" : String(r.iterations),
      r.policy,
      r.runs.toFixed(1),
      r.ci95.runs.toFixed(1),
      delta,
      r.vm_pct.toFixed(2),
      r.dom0_pct.toFixed(2),
      r.idle_pct.toFixed(2),
      r.engine_pct.toFixed(3),
      r.migrations.toFixed(1),
      r.pingpong.toFixed(1),
    ]);
    last = r.iterations;
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: readonly string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  const out = [fmt(header), widths.map((w) => "-".repeat(w)).join("  ")];
  let prev = -1;
  rows.forEach((r, i) => {
    if (prev !== -1 && r.iterations !== prev) out.push("");
    out.push(fmt(lines[i]!));
    prev = r.iterations;
  });
  return out.join("\n") + "\n";
}
