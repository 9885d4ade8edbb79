/**
 * Paired comparison: static placement and every policy set run on the same
 * seeds (`mixSeed(seed, r, iterations)`, repeat r starting with benchmark VM
 * r mod n idle), so the difference of two contestants within one repeat
 * carries none of the workload's randomness. Reports each policy against
 * static and against the first policy, in percent of the other's runs, as
 * mean ± 95 % CI of the per-repeat differences — the table of
 * docs/simulation.md's "Going beyond" section.
 */
import { mixSeed } from "../rng.js";
import { simulateOnce } from "./runner.js";
import { withIterations } from "./scenario.js";
import { ci95HalfWidth, mean } from "./stats.js";
import type { SweepOptions } from "./sweep.js";

/** A change in completed runs, percent: mean and 95 % CI half-width over the paired repeats. */
export interface PairedChange {
  readonly mean: number;
  readonly ci95: number;
}

export interface PairedRow {
  readonly iterations: number;
  readonly policy: string;
  readonly vs_static: PairedChange;
  /** Against the first policy (absent for the first policy itself). */
  readonly vs_first?: PairedChange;
  /** Migrations per simulated hour, mean over the repeats. */
  readonly migrations_per_hour: number;
  readonly repeats: number;
}

/** As a sweep's, but `contestants` are policy sets only: static placement is always the baseline. */
export type PairedOptions = Pick<SweepOptions, "scenario" | "contestants" | "iterations" | "repeats" | "seed" | "onProgress">;

/** Runs static and every contestant on the same seeds; one row per (iterations, policy). */
export function runPaired(options: PairedOptions): PairedRow[] {
  const rows: PairedRow[] = [];
  const total = options.iterations.length * (options.contestants.length + 1) * options.repeats;
  let done = 0;
  const hours = options.scenario.duration / 3600;
  for (const iterations of options.iterations) {
    const scenario = withIterations(options.scenario, iterations);
    const runs: number[][] = [];
    const migrations: number[] = options.contestants.map(() => 0);
    for (let r = 0; r < options.repeats; r++) {
      const seed = mixSeed(options.seed, r, iterations);
      const row = [simulateOnce(scenario, null, seed, r).runs];
      options.onProgress?.(++done, total);
      options.contestants.forEach((c, k) => {
        const result = simulateOnce(scenario, c.set, seed, r);
        row.push(result.runs);
        migrations[k]! += result.migrations;
        options.onProgress?.(++done, total);
      });
      runs.push(row);
    }
    const change = (a: number, b: number): PairedChange => {
      const diffs = runs.map((row) => (100 * (row[a]! - row[b]!)) / row[b]!);
      return { mean: round(mean(diffs)), ci95: round(ci95HalfWidth(diffs)) };
    };
    options.contestants.forEach((c, k) => {
      rows.push({
        iterations,
        policy: c.name,
        vs_static: change(k + 1, 0),
        ...(k > 0 ? { vs_first: change(k + 1, 1) } : {}),
        migrations_per_hour: round(migrations[k]! / options.repeats / hours),
        repeats: options.repeats,
      });
    });
  }
  return rows;
}

/** As a fixed-width text table. */
export function renderPaired(rows: readonly PairedRow[]): string {
  const first = rows[0]?.policy ?? "";
  const pm = (c: PairedChange | undefined) => (c === undefined ? "" : `${c.mean >= 0 ? "+" : ""}${c.mean.toFixed(2)} ± ${c.ci95.toFixed(2)}%`);
  const header = ["iterations", "policy", "vs static", `vs ${first}`, "migrations/h"];
  let last = -1;
  const lines = rows.map((r) => {
    const cells = [r.iterations === last ? "" : String(r.iterations), r.policy, pm(r.vs_static), pm(r.vs_first), r.migrations_per_hour.toFixed(1)];
    last = r.iterations;
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: readonly string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  return [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(fmt)].join("\n") + "\n";
}

const round = (x: number) => Math.round(x * 100) / 100;
