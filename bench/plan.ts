/**
 * `plan_10k`: one round of the default policies (cslb + evacuate) through
 * the language over a seeded cluster of 10,000 hosts and 200,000 VMs, beside
 * the hand-written TypeScript CSLB of `cslb-baseline.ts` on the same facts;
 * the two plans must be identical. Goals: median < 150 ms, ratio ≤ 1.5.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { validateFacts } from "../engine/plan/facts.js";
import { planRound } from "../engine/plan/index.js";
import { mulberry32 } from "../engine/rng.js";
import { loadPolicySet } from "../engine/policy/set.js";
import { DEFAULT_PLAN_SETTINGS, type Facts, type PlanSettings } from "../engine/types.js";
import { median, medianMs, round, type Benchmark } from "./api.js";
import { cslbBaseline } from "./cslb-baseline.js";

const HOSTS = 10_000;
const VMS_PER_HOST = 20;

/**
 * A production-like cluster: most hosts near 50 % load, about 5 % running
 * hot (70–95 %) and 5 % nearly idle (5–30 %), a few in maintenance or down,
 * some pinned VMs and recent migrations.
 */
export function generateFacts(hosts = HOSTS, vmsPerHost = VMS_PER_HOST, seed = 20090601): Facts {
  const rand = mulberry32(seed);
  const out = [];
  const recent = [];
  let n = 0;
  for (let i = 0; i < hosts; i++) {
    const r = rand();
    const target = r < 0.05 ? 70 + rand() * 25 : r < 0.1 ? 5 + rand() * 25 : 40 + rand() * 20;
    const cpus = rand() < 0.5 ? 16 : 32;
    const state = i % 2500 === 7 ? "maintenance" : i % 5000 === 11 ? "down" : "up";
    const vms = [];
    const perVm = (target * cpus) / vmsPerHost;
    for (let j = 0; j < vmsPerHost; j++) {
      const name = `vm${String(n++).padStart(6, "0")}`;
      const cpu = Math.round(perVm * (0.4 + rand() * 1.2) * 10) / 10;
      vms.push({ name, cpu, mem: 512 * (1 + Math.floor(rand() * 8)), ...(rand() < 0.02 ? { pinned: true } : {}) });
      if (rand() < 0.01) recent.push({ vm: name, seconds_ago: Math.floor(rand() * 120) });
    }
    out.push({ name: `host${String(i).padStart(5, "0")}`, state, cpus, mem: 262144, vms });
  }
  const result = validateFacts({ hosts: out, recent });
  if (!result.ok) throw new Error(`generated facts are invalid: ${result.errors[0]!.path}: ${result.errors[0]!.message}`);
  return result.facts;
}

/** The repository root (holds package.json), from bench/ or dist/bench/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
}

/** At this size a round may pair every hot host: no round limit, the usual two moves per host. */
export const BENCH_SETTINGS: PlanSettings = { ...DEFAULT_PLAN_SETTINGS, max_per_round: 1_000_000 };

const bench: Benchmark = {
  name: "plan_10k",
  description: "CSLB + evacuate through the language, 10,000 hosts / 200,000 VMs, vs hand-written TypeScript (goal < 150 ms, ratio ≤ 1.5)",
  async run() {
    const root = repoRoot();
    const sources = ["cslb.policy", "evacuate.policy"].map((f) => ({
      file: `policies/${f}`,
      text: readFileSync(join(root, "policies", f), "utf8"),
    }));
    const loaded = await loadPolicySet(sources);
    if (loaded.set === null) throw new Error(`default policies do not load: ${loaded.diagnostics.map((d) => d.message).join("; ")}`);
    const set = loaded.set;
    const facts = generateFacts();
    const language = planRound(set, facts, BENCH_SETTINGS);
    const baseline = cslbBaseline(facts, BENCH_SETTINGS);
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(language)), JSON.parse(JSON.stringify(baseline)))) {
      throw new Error("plan_10k: the language and the hand-written CSLB disagree");
    }
    // Interleaved pairs, so both see the same machine load (the machine is shared);
    // the ratio is the median of the per-pair ratios, which drifting load disturbs least.
    const runs = 9;
    const lang: number[] = [];
    const base: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < 2; i++) {
      planRound(set, facts, BENCH_SETTINGS);
      cslbBaseline(facts, BENCH_SETTINGS);
    }
    for (let i = 0; i < runs; i++) {
      const l = await medianMs(() => planRound(set, facts, BENCH_SETTINGS), 1, 0);
      const b = await medianMs(() => cslbBaseline(facts, BENCH_SETTINGS), 1, 0);
      lang.push(l);
      base.push(b);
      ratios.push(l / b);
    }
    set.dispose();
    return {
      hosts: facts.hosts.length,
      vms: facts.hosts.reduce((s, h) => s + h.vms.length, 0),
      actions: language.actions.length,
      median_ms: round(median(lang), 1),
      baseline_median_ms: round(median(base), 1),
      ratio: round(median(ratios), 2),
    };
  },
};

export default bench;
