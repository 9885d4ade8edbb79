/**
 * Which assumptions move the result: the gap preset with one assumed
 * constant changed at a time (guest memory, the engine's interval, CSLB's
 * band, migration Dom0 cost, test duration), reporting CSLB against static
 * at the same length, at 1 and 64 iterations, with 95 % confidence
 * intervals. Printed into docs/thesis-comparison.md.
 */
import type { CompiledPolicySet } from "../../grammar/compile-types.js";
import { thesisScenario, type Scenario } from "./scenario.js";
import { ci95HalfWidth, mean } from "./stats.js";
import { simulateOnce } from "./runner.js";
import { mixSeed } from "../rng.js";

export interface SensitivityRow {
  readonly knob: string;
  readonly value: string;
  /** CSLB against static at the same length, percent of static's runs: mean and 95 % CI half-width of the paired differences. */
  readonly at1: readonly [number, number];
  readonly at64: readonly [number, number];
  readonly migrations1: number;
}

interface Variant {
  readonly knob: string;
  readonly value: string;
  readonly scenario: Scenario;
  /** The set to run (another band loads another set). */
  readonly set: CompiledPolicySet;
}

/** The variants: the base first, then one knob at a time. `bandSets` maps a band to CSLB loaded with it. */
export function sensitivityVariants(cslb: CompiledPolicySet, bandSets: ReadonlyMap<number, CompiledPolicySet>): Variant[] {
  const base = thesisScenario("gap");
  const out: Variant[] = [{ knob: "(base)", value: "gap preset", scenario: base, set: cslb }];
  for (const mem of [256, 1024, 2048]) out.push({ knob: "guest memory", value: `${mem} MiB`, set: cslb, scenario: { ...base, hosts: base.hosts.map((h) => ({ ...h, mem: Math.max(h.mem, mem * 10) })), vms: base.vms.map((v) => ({ ...v, mem })) } });
  for (const interval of [5, 30]) out.push({ knob: "interval", value: `${interval} s`, set: cslb, scenario: { ...base, engine: { ...base.engine, interval } } });
  for (const [band, set] of bandSets) out.push({ knob: "band", value: `${band}`, set, scenario: base });
  for (const d of [0, 100]) out.push({ knob: "migration Dom0", value: `${d}% each side`, set: cslb, scenario: { ...base, migration: { ...base.migration, dom0Source: d, dom0Dest: d } } });
  for (const duration of [1800, 7200]) out.push({ knob: "duration", value: `${duration / 60} min`, set: cslb, scenario: { ...base, duration } });
  return out;
}

/** Runs each variant: static and CSLB on the same seeds, paired differences. */
export function runSensitivity(variants: readonly Variant[], repeats: number, seed: number): SensitivityRow[] {
  return variants.map((v) => {
    const at = (iterations: number) => {
      const diffs: number[] = [];
      let migrations = 0;
      const scenario = { ...v.scenario, workload: { ...v.scenario.workload, iterations } };
      for (let r = 0; r < repeats; r++) {
        const s = mixSeed(seed, r, iterations);
        const st = simulateOnce(scenario, null, s, r);
        const dy = simulateOnce(scenario, v.set, s, r);
        diffs.push((100 * (dy.runs - st.runs)) / st.runs);
        migrations += dy.migrations;
      }
      return { change: [round(mean(diffs)), round(ci95HalfWidth(diffs))] as const, migrations: round((migrations / repeats) * (3600 / v.scenario.duration)) };
    };
    const one = at(1);
    return { knob: v.knob, value: v.value, at1: one.change, at64: at(64).change, migrations1: one.migrations };
  });
}

/** As a Markdown table. */
export function renderSensitivity(rows: readonly SensitivityRow[]): string {
  const pm = ([m, h]: readonly [number, number]) => `${m >= 0 ? "+" : ""}${m.toFixed(2)} ± ${h.toFixed(2)}%`;
  return [
    "| assumption | value | CSLB vs static, 1 iteration | CSLB vs static, 64 iterations | migrations per hour at 1 |",
    "| --- | --- | ---: | ---: | ---: |",
    ...rows.map((r) => `| ${r.knob} | ${r.value} | ${pm(r.at1)} | ${pm(r.at64)} | ${r.migrations1.toFixed(1)} |`),
  ].join("\n") + "\n";
}

const round = (x: number) => Math.round(x * 100) / 100;
