/**
 * `vmpolicy plan --facts FILE [--policy PATH]… [--param P=V]… [--json] [--explain]`:
 * one round over a facts snapshot (SPEC 3, 4), through the same
 * `loadPolicySet` + `planRound` as the engine. Exit 0 with a plan, 1 on bad
 * facts or a policy set with errors, 2 on a usage error or when a file cannot be read.
 * With `--rounds N [--interval D]` (SPEC 12) it re-plans round after round
 * with each plan applied, and exits 3 when the policy cycles or never settles.
 */
import type { Command } from "commander";
import { renderDiagnostics } from "../../grammar/render-diagnostics.js";
import { useColor } from "./check.js";
import { readFactsFile } from "../../engine/facts-file.js";
import { type FactsResult, formatFactErrors } from "../../engine/plan/facts.js";
import { describeFsError, readPolicySources } from "../../engine/policy/files.js";
import { loadPolicySet } from "../../engine/policy/set.js";
import { planRound } from "../../engine/plan/index.js";
import { renderPlan } from "../../engine/plan/render.js";
import { DEFAULT_REPLAN_OPTIONS, replan } from "../../engine/plan/stability.js";
import { renderReplan } from "../../engine/plan/render-stability.js";
import { parseDuration } from "../../engine/run/config-schema.js";
import { DEFAULT_PLAN_SETTINGS, type PlanSettings } from "../../engine/types.js";

interface PlanOptions {
  facts: string;
  policy?: string[];
  param?: string[];
  json?: boolean;
  explain?: boolean;
  cooldown?: number;
  maxPerHost?: number;
  maxPerRound?: number;
  /** `true` when written bare (`--rounds`): 60 rounds. */
  rounds?: number | true;
  interval?: number;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Registers `plan` on the program. */
export function registerPlan(program: Command): void {
  program
    .command("plan")
    .description("plan one round over a facts snapshot and print the plan")
    .requiredOption("--facts <file>", "facts snapshot (JSON, SPEC section 1)")
    .option("--policy <path>", "a policy file or folder; repeatable; replaces the default policies/", collect)
    .option("--param <P=V>", "set a param: POLICY.NAME=VALUE or NAME=VALUE; repeatable", collect)
    .option("--json", "print the plan as JSON (SPEC section 3)")
    .option("--explain", "add, per action and skip, the binding and the let values that led to it")
    .option("--cooldown <seconds>", "seconds before a migrated VM may move again (default 60)", nonNegative("--cooldown", false))
    .option("--max-per-host <n>", "migrations and restarts a host takes part in at once (default 2)", nonNegative("--max-per-host", true))
    .option("--max-per-round <n>", "migrations and restarts per round (default 16)", nonNegative("--max-per-round", true))
    .option("--rounds [n]", "re-plan up to N rounds (default 60), each plan applied as completed, on a static workload (SPEC 12)", positiveCount("--rounds"))
    .option("--interval <duration>", "with --rounds: time between rounds, e.g. 10s, 1m (default 10s)", duration("--interval"))
    .addHelpText(
      "after",
      "\nExit status: 0 a plan was printed (with --rounds: the policy settled), 1 bad facts or a policy set with errors, 2 a usage error or a file that cannot be read, 3 with --rounds: the placement cycles or never settles.\nColour only on a terminal and never with NO_COLOR.",
    )
    .action(async (options: PlanOptions) => {
      process.exitCode = await runPlan(options);
    });
}

/** The parser of a numeric flag: a number ≥ 0 (a whole one for a count), else a usage error (exit 2) naming the flag. */
function nonNegative(flag: string, whole: boolean): (text: string) => number {
  return (text) => {
    const n = Number(text);
    const shape = whole ? /^\d+$/ : /^\d+(\.\d+)?$/;
    if (!shape.test(text.trim()) || !Number.isFinite(n)) {
      process.stderr.write(`vmpolicy plan: ${flag}: expected ${whole ? "a whole number" : "a number"} ≥ 0, got "${text}"\n`);
      process.exit(2);
    }
    return n;
  };
}

/** `--rounds`: a whole number from 1 to 100,000 (a bound so a typo cannot plan for hours). */
function positiveCount(flag: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || n < 1 || n > 100_000) {
      process.stderr.write(`vmpolicy plan: ${flag}: expected a whole number from 1 to 100000, got "${text}"\n`);
      process.exit(2);
    }
    return n;
  };
}

/** `--interval`: a duration as the config writes it, at most a day (a round further apart is no engine's interval). */
function duration(flag: string): (text: string) => number {
  return (text) => {
    const d = parseDuration(text, { min: 0.1, max: 86_400 });
    if (!d.ok) {
      process.stderr.write(`vmpolicy plan: ${flag}: ${d.message}\n`);
      process.exit(2);
    }
    return d.value;
  };
}

async function runPlan(options: PlanOptions): Promise<number> {
  if (options.interval !== undefined && options.rounds === undefined) {
    process.stderr.write("vmpolicy plan: --interval needs --rounds\n");
    return 2;
  }
  let facts: FactsResult;
  try {
    facts = readFactsFile(options.facts);
  } catch (err) {
    process.stderr.write(`vmpolicy plan: cannot read ${options.facts}: ${describeFsError(err)}\n`);
    return 2;
  }
  if (!facts.ok) {
    process.stderr.write(`vmpolicy plan: ${options.facts} is not a valid facts snapshot:\n${formatFactErrors(facts.errors)}\n`);
    return 1;
  }

  const paths = options.policy ?? ["policies"];
  const read = await readPolicySources(paths, { defaulted: options.policy === undefined });
  if (!read.ok) {
    for (const u of read.unreadable) process.stderr.write(`vmpolicy plan: cannot read ${u.path}: ${u.message}\n`);
    return 2;
  }
  if (read.sources.length === 0) {
    process.stderr.write(`vmpolicy plan: no .policy files in ${paths.join(", ")}\n`);
    return 2;
  }
  const loaded = await loadPolicySet(read.sources, { params: options.param ?? [] });
  if (loaded.set === null) {
    const texts = new Map(read.sources.map((s) => [s.file, s.text]));
    const errors = loaded.diagnostics.filter((d) => d.severity === "error");
    process.stderr.write(renderDiagnostics(errors, texts, { color: useColor(process.stderr) }));
    return 1;
  }
  try {
    const settings: PlanSettings = {
      ...DEFAULT_PLAN_SETTINGS,
      cooldown: options.cooldown ?? DEFAULT_PLAN_SETTINGS.cooldown,
      max_per_host: options.maxPerHost ?? DEFAULT_PLAN_SETTINGS.max_per_host,
      max_per_round: options.maxPerRound ?? DEFAULT_PLAN_SETTINGS.max_per_round,
      explain: options.explain === true,
    };
    if (options.rounds !== undefined) {
      const result = replan(loaded.set, facts.facts, settings, { rounds: options.rounds === true ? DEFAULT_REPLAN_OPTIONS.rounds : options.rounds, interval: options.interval ?? DEFAULT_REPLAN_OPTIONS.interval });
      if (options.json) process.stdout.write(JSON.stringify(result, null, 2) + "\n");
      else process.stdout.write(renderReplan(result, { color: useColor(process.stdout), interval: options.interval ?? DEFAULT_REPLAN_OPTIONS.interval, cooldown: settings.cooldown }));
      return result.outcome === "settled" ? 0 : 3;
    }
    const plan = planRound(loaded.set, facts.facts, settings);
    if (options.json) process.stdout.write(JSON.stringify(plan, null, 2) + "\n");
    else process.stdout.write(renderPlan(plan, { color: useColor(process.stdout) }));
    return 0;
  } finally {
    loaded.set.dispose();
  }
}
