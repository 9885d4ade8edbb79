/**
 * The readable form of `vmpolicy plan --rounds` (SPEC 12): what the result
 * rests on (a static workload), the rounds that moved, and the outcome in
 * the terms an operator acts on: how often the VMs would migrate.
 */
import pc from "picocolors";
import type { ReplanResult } from "./stability.js";

export interface ReplanRenderOptions {
  readonly color: boolean;
  /** Seconds between rounds, as planned. */
  readonly interval: number;
  readonly cooldown: number;
}

/** Renders `result` as lines of text ending in a newline. */
export function renderReplan(result: ReplanResult, options: ReplanRenderOptions): string {
  const c = pc.createColors(options.color);
  const out: string[] = [
    c.dim(`Static workload: every VM keeps its CPU; each plan is applied as if it completed, ${formatSeconds(options.interval)} between rounds.`),
  ];
  const moving = result.rounds.filter((r) => r.moves.length > 0);
  for (const r of moving) {
    out.push(c.bold(`round ${r.round} (${formatSeconds(r.at_s)})`));
    for (const m of r.moves) out.push(`  ${c.green(`${m.kind} ${m.vm} ${m.from} -> ${m.to}`)}  ${c.dim(m.rule)}`);
  }
  const planned = result.rounds.length;
  switch (result.outcome) {
    case "settled":
      out.push(
        result.settled_after === 0
          ? `${c.green("settled")}: no move in ${planned} rounds`
          : `${c.green("settled")} after round ${result.settled_after}: no move for longer than the cooldown (${formatSeconds(options.cooldown)}) plus one interval`,
      );
      break;
    case "cycle": {
      const cy = result.cycle!;
      out.push(
        `${c.red("cycle")}: the placement comes back every ${cy.period_rounds} rounds (${formatSeconds(cy.period_s)}); ` +
          `VMs ${cy.vms.join(", ")} take part; ${round1(cy.migrations_per_hour)} migrations an hour, for nothing`,
      );
      break;
    }
    case "unsettled":
      out.push(`${c.yellow("unsettled")}: VMs still moved in the last ${formatSeconds(options.cooldown + options.interval)} of ${planned} rounds`);
      break;
  }
  return out.join("\n") + "\n";
}

function formatSeconds(s: number): string {
  return Number.isInteger(s) ? `${s} s` : `${round1(s)} s`;
}

function round1(n: number): string {
  return String(Math.round(n * 10) / 10);
}
