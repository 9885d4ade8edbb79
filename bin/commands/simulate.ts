/**
 * `vmpolicy simulate`: runs static placement and each policy set against the
 * simulated thesis testbed (or a scenario file) over a sweep of workload
 * lengths, and prints a Table 5.5-style table, JSON rows, or an SVG chart
 * (SPEC 7). Policies load through the same `loadPolicySet` and plan through
 * the same `planRound` as the engine. Exit 0 done, 1 bad scenario or policy,
 * 2 usage error or unreadable file.
 */
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import cliProgress from "cli-progress";
import { renderDiagnostics } from "../../grammar/render-diagnostics.js";
import { useColor } from "./check.js";
import { parseDuration } from "../../engine/run/config-schema.js";
import { readPolicySources } from "../../engine/policy/files.js";
import { loadPolicySet } from "../../engine/policy/set.js";
import { renderChart, type ThesisMark } from "../../engine/simulator/chart-svg.js";
import { renderPaired, runPaired } from "../../engine/simulator/paired.js";
import { renderTable } from "../../engine/simulator/report-table.js";
import { loadScenarioFile, MAX_SCENARIO_SECONDS } from "../../engine/simulator/scenario-load.js";
import { thesisScenario, type Scenario } from "../../engine/simulator/scenario.js";
import { runSweep, type Contestant } from "../../engine/simulator/sweep.js";
import type { PlanError } from "../../engine/types.js";
import { runThesis } from "./simulate-thesis.js";
import { thesisTable } from "../../engine/simulator/thesis-tables.js";

export interface SimulateOptions {
  scenario?: string;
  policy?: string[];
  param?: string[];
  static?: boolean;
  iterations?: string;
  sweep?: string;
  repeat: string;
  seed: string;
  duration?: string;
  json?: boolean;
  chart?: string;
  thesis?: string | boolean;
  markdown?: boolean;
  paired?: boolean;
}

const DEFAULT_SWEEP = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Registers `simulate` on the program. */
export function registerSimulate(program: Command): void {
  program
    .command("simulate")
    .description("simulate static placement and policies on the thesis testbed (or a scenario) and report runs, VM%, Dom0%, Idle%, engine%, migrations")
    .option("--scenario <file>", "cluster and workload (YAML or JSON); default: the thesis testbed, two quad-core hosts, nine VMs, eight busy")
    .option("--policy <path>", "a policy file or folder, simulated as one set; repeatable (each is compared); default policies/cslb.policy", collect)
    .option("--param <P=V>", "set a param of the policies: POLICY.NAME=VALUE or NAME=VALUE; repeatable", collect)
    .option("--static", "static placement only (no policy), unless --policy is also given")
    .option("--iterations <n>", "runs per VM before another VM takes over (one value)")
    .option("--sweep <list>", `comma-separated iterations values (default ${DEFAULT_SWEEP.join(",")})`)
    .option("--repeat <r>", "seeded repeats per (iterations, policy); a multiple of 9 starts from every placement equally often", "9")
    .option("--seed <s>", "seed of every random choice: the same seed gives the same numbers", "1")
    .option("--duration <d>", "simulated time per run (30m, 1h, 3600; default the scenario's, 1h)")
    .option("--json", 'print { "rows": [ { iterations, policy, runs, runs_sd, vm_pct, dom0_pct, idle_pct, engine_pct, migrations, … } ] }')
    .option("--chart <file.svg>", "write an SVG chart of completed runs against log2(iterations)")
    .option("--thesis [table]", "compare with the thesis's Table 5.1 … 5.8 or 6.1 (default all): thesis value, model mean and 95% CI, both baselines, a verdict per cell")
    .option("--markdown", "with --thesis: print docs/thesis-comparison.md (comparison, constants, spurious migrations, sensitivity)")
    .option("--paired", "each policy's change in runs against static and against the first policy, on the same seeds: mean ± 95% CI of the paired differences")
    .addHelpText(
      "after",
      "\nStatic placement is always compared unless only --static is given. Rows with policy \"static\" have no engine.\nExit status: 0 done, 1 bad scenario or policy set, 2 usage error or unreadable file.",
    )
    .action(async (options: SimulateOptions) => {
      process.exitCode = await runSimulate(options);
    });
}

function usage(message: string): number {
  process.stderr.write(`vmpolicy simulate: ${message}\n`);
  return 2;
}

function positiveInt(text: string): number | null {
  return /^\s*\d+\s*$/.test(text) && Number(text) >= 1 ? Number(text) : null;
}

/** The command without commander: returns the exit status (exported for tests). */
export async function runSimulate(options: SimulateOptions): Promise<number> {
  if (options.iterations !== undefined && options.sweep !== undefined) return usage("give --iterations or --sweep, not both");
  let iterations = DEFAULT_SWEEP;
  if (options.iterations !== undefined) {
    const n = positiveInt(options.iterations);
    if (n === null) return usage(`--iterations: expected an integer ≥ 1, got "${options.iterations}"`);
    iterations = [n];
  } else if (options.sweep !== undefined) {
    const list = options.sweep.split(",").map(positiveInt);
    if (list.some((n) => n === null)) return usage(`--sweep: expected integers ≥ 1 separated by commas, got "${options.sweep}"`);
    iterations = list as number[];
  }
  const repeats = positiveInt(options.repeat);
  if (repeats === null) return usage(`--repeat: expected an integer ≥ 1, got "${options.repeat}"`);
  // Seeds are 32-bit: a larger one would silently wrap onto another seed's numbers.
  if (!/^\s*\d+\s*$/.test(options.seed) || Number(options.seed) > 0xffffffff) return usage(`--seed: expected an integer from 0 to 4294967295, got "${options.seed}"`);
  const seed = Number(options.seed);
  if (options.thesis !== undefined) {
    if (options.scenario !== undefined || options.iterations !== undefined || options.sweep !== undefined || options.duration !== undefined || options.chart !== undefined || options.static)
      return usage("--thesis runs the thesis's presets: it takes only --repeat, --seed, --policy (one), --json and --markdown");
    if ((options.policy?.length ?? 0) > 1) return usage("--thesis compares one policy with the thesis (default policies/cslb.policy)");
    const which = options.thesis === true ? "all" : String(options.thesis);
    return runThesis({ which, repeats, seed, json: options.json === true, markdown: options.markdown === true, policy: options.policy?.[0] ?? "policies/cslb.policy" });
  }
  if (options.markdown) return usage("--markdown goes with --thesis");
  if (options.paired && (options.chart !== undefined || (options.static && options.policy === undefined)))
    return usage("--paired compares policies with static placement: give policies, and no --chart");

  let scenario: Scenario = thesisScenario();
  if (options.scenario !== undefined) {
    const loaded = await loadScenarioFile(options.scenario);
    if (!loaded.ok) {
      process.stderr.write(loaded.errors.map((e) => `vmpolicy simulate: ${e}\n`).join(""));
      return loaded.errors.some((e) => e.includes("cannot read")) ? 2 : 1;
    }
    scenario = loaded.scenario;
  }
  if (options.duration !== undefined) {
    const d = parseDuration(options.duration, { max: MAX_SCENARIO_SECONDS });
    if (!d.ok) return usage(`--duration: ${d.message}`);
    if (d.value < scenario.step) return usage(`--duration: must be at least the scenario's step, ${scenario.step}s (got ${JSON.stringify(options.duration)})`);
    scenario = { ...scenario, duration: d.value };
  }

  // Repeat r starts with benchmark VM r mod n idle: other counts favour some starting placements.
  const benchVms = scenario.vms.filter((v) => v.trace === undefined).length;
  if (benchVms > scenario.workload.busy && repeats % benchVms !== 0)
    process.stderr.write(`vmpolicy simulate: note: --repeat ${repeats} is not a multiple of the ${benchVms} benchmark VMs, so not every starting placement is equally represented\n`);
  const contestants: Contestant[] = [{ name: "static", set: null }];
  const paths = options.policy ?? (options.static ? [] : ["policies/cslb.policy"]);
  // POLICY.NAME=VALUE goes to the set that declares POLICY only (cslb_cost.link must not fail on cslb's set).
  const params = options.param ?? [];
  const policyOf = (arg: string) => /^\s*([^=.]+)\.[^=]*=/.exec(arg)?.[1]?.trim() ?? null;
  const claimed = new Set<string>();
  try {
    for (const path of paths) {
      const read = await readPolicySources([path], { defaulted: options.policy === undefined });
      if (!read.ok) return usage(read.unreadable.map((u) => `cannot read ${u.path}: ${u.message}`).join("; "));
      if (read.sources.length === 0) return usage(`no .policy files in ${path}`);
      let loaded = await loadPolicySet(read.sources, { params: params.filter((a) => policyOf(a) === null) });
      const names = new Set(loaded.policies.map((p) => p.name));
      const mine = params.filter((a) => policyOf(a) === null || names.has(policyOf(a)!));
      if (loaded.set !== null && mine.length > params.filter((a) => policyOf(a) === null).length) {
        loaded.set.dispose();
        loaded = await loadPolicySet(read.sources, { params: mine });
      }
      for (const a of mine) claimed.add(a);
      if (loaded.set === null) {
        const texts = new Map(read.sources.map((s) => [s.file, s.text]));
        process.stderr.write(renderDiagnostics(loaded.diagnostics.filter((d) => d.severity === "error"), texts, { color: useColor(process.stderr) }));
        return 1;
      }
      const name = loaded.policies.map((p) => p.name).join("+");
      contestants.push({ name: contestants.some((c) => c.name === name) ? `${name}#${contestants.length}` : name, set: loaded.set });
    }
    const unclaimed = params.filter((a) => !claimed.has(a));
    if (unclaimed.length > 0) return usage(`--param ${unclaimed[0]}: no simulated policy is named ${policyOf(unclaimed[0]!)} (policies: ${contestants.slice(1).map((c) => c.name).join(", ") || "none"})`);

    if (options.paired) {
      const rows = runPaired({ scenario, contestants: contestants.slice(1), iterations, repeats, seed });
      process.stdout.write(options.json ? JSON.stringify({ paired: rows }, null, 2) + "\n" : renderPaired(rows));
      return 0;
    }
    const total = iterations.length * contestants.length * repeats;
    const bar = process.stderr.isTTY && total > 20 ? new cliProgress.SingleBar({ stream: process.stderr, clearOnComplete: true }, cliProgress.Presets.shades_classic) : null;
    bar?.start(total, 0);
    const planErrors = new Map<string, { count: number; first: PlanError }>();
    const onPlanError = (contestant: string, error: PlanError) => {
      const seen = planErrors.get(contestant);
      if (seen) seen.count += 1;
      else planErrors.set(contestant, { count: 1, first: error });
    };
    const rows = runSweep({ scenario, contestants, iterations, repeats, seed, onProgress: (done) => bar?.update(done), onPlanError });
    bar?.stop();
    // A failing script plans nothing for its bindings: the figures would look like a weak policy, not a broken one.
    for (const [name, { count, first }] of planErrors) {
      process.stderr.write(`vmpolicy simulate: warning: policy ${name}: ${count} plan error${count === 1 ? "" : "s"} over the runs; those bindings planned nothing (first: ${first.rule}: ${first.message})\n`);
    }

    if (options.chart !== undefined) {
      try {
        await writeFile(options.chart, renderChart(rows, { scenario: options.scenario ?? "thesis testbed (gap)", repeats, seed, thesis: options.scenario === undefined && scenario.duration === 3600 ? table55Marks() : [] }));
      } catch (err) {
        return usage(`cannot write ${options.chart}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    if (options.json) process.stdout.write(JSON.stringify({ rows }, null, 2) + "\n");
    else process.stdout.write(renderTable(rows));
    return 0;
  } finally {
    for (const c of contestants) c.set?.dispose();
  }
}

/** Table 5.5's CSLB points and its pooled static row, for the chart of the default scenario (one simulated hour of gap). */
function table55Marks(): ThesisMark[] {
  return thesisTable("5.5")!.rows.map((r) => ({ label: r.engine ? "thesis 5.5, CSLB" : "thesis 5.5, static pooled", iterations: r.iterations, runs: r.runs }));
}
