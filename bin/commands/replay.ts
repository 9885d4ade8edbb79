/**
 * `vmpolicy replay DIR [--policy PATH]… [--baseline PATH]… [--from T] [--to T]
 * [--json] [--export-trace FILE.csv]` (SPEC 10): re-plans every round the
 * engine recorded in DIR with a candidate policy set and compares it with a
 * baseline set or with what the recorded set planned. Exit 0 with a report,
 * 1 when a policy set has errors or no round is in range, 2 on a usage
 * error or an unreadable folder or file.
 */
import { writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Command } from "commander";
import { renderDiagnostics } from "../../grammar/render-diagnostics.js";
import type { CompiledPolicySet } from "../../grammar/compile.js";
import { useColor } from "./check.js";
import { describeFsError, readPolicySources } from "../../engine/policy/files.js";
import { loadPolicySet } from "../../engine/policy/set.js";
import { readRecording } from "../../engine/replay/store.js";
import { replayRounds } from "../../engine/replay/report.js";
import { renderReplay } from "../../engine/replay/render.js";
import { traceScenario } from "../../engine/replay/trace.js";

interface ReplayOptions {
  policy?: string[];
  baseline?: string[];
  from?: string;
  to?: string;
  json?: boolean;
  exportTrace?: string;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Registers `replay` on the program. */
export function registerReplay(program: Command): void {
  program
    .command("replay")
    .description("re-plan the rounds the engine recorded with another policy set and report what it would have decided differently")
    .argument("<dir>", "the engine's recording folder (config record.dir)")
    .option("--policy <path>", "the candidate: a policy file or folder; repeatable (default policies/)", collect)
    .option("--baseline <path>", "compare with this set planned on the same rounds instead of what was recorded; repeatable", collect)
    .option("--from <time>", "only rounds at or after this ISO time (2026-12-06T08:00:00Z or 2026-12-06)")
    .option("--to <time>", "only rounds at or before this ISO time")
    .option("--json", 'print { rounds, differing, baseline: { migrate, restart, alert, … }, candidate: { … }, diffs: [ { round, at, only_baseline, only_candidate } ] }')
    .option("--export-trace <file.csv>", "also write the recorded VM CPU as a simulate --scenario trace, and a scenario (.yaml) beside it")
    .addHelpText(
      "after",
      "\nA replay shows what a set would have decided on each recorded snapshot, not how the cluster would have evolved\nafter a different decision; for that, run the exported trace with vmpolicy simulate --scenario.\nExit status: 0 a report, 1 a policy set with errors or no recorded round in range, 2 a usage error or unreadable path.",
    )
    .action(async (dir: string, options: ReplayOptions) => {
      process.exitCode = await runReplay(dir, options);
    });
}

function say(message: string): void {
  process.stderr.write(`vmpolicy replay: ${message}\n`);
}

/** An ISO date or time as epoch ms, or null when it is not one. */
function parseTime(text: string): number | null {
  if (!/^\d{4}-\d\d-\d\d([T ][\d:.]+(Z|[+-]\d\d:?\d\d)?)?$/.test(text.trim())) return null;
  const t = Date.parse(text.trim());
  return Number.isFinite(t) ? t : null;
}

/** Loads one set; prints the diagnostics and returns the exit code when it cannot. */
async function loadSet(paths: readonly string[], defaulted: boolean): Promise<CompiledPolicySet | number> {
  const read = await readPolicySources(paths, { defaulted });
  if (!read.ok) {
    for (const u of read.unreadable) say(`cannot read ${u.path}: ${u.message}`);
    return 2;
  }
  if (read.sources.length === 0) {
    say(`no .policy files in ${paths.join(", ")}`);
    return 2;
  }
  const loaded = await loadPolicySet(read.sources);
  if (loaded.set === null) {
    const texts = new Map(read.sources.map((s) => [s.file, s.text]));
    process.stderr.write(renderDiagnostics(loaded.diagnostics.filter((d) => d.severity === "error"), texts, { color: useColor(process.stderr) }));
    return 1;
  }
  return loaded.set;
}

/** The command without commander: returns the exit status. */
export async function runReplay(dir: string, options: ReplayOptions): Promise<number> {
  const range: { from?: number; to?: number } = {};
  for (const key of ["from", "to"] as const) {
    const text = options[key];
    if (text === undefined) continue;
    const t = parseTime(text);
    if (t === null) {
      say(`--${key}: expected an ISO date or time such as 2026-12-06 or 2026-12-06T08:00:00Z, got "${text}"`);
      return 2;
    }
    range[key] = t;
  }
  let recording;
  try {
    recording = await readRecording(dir, range);
  } catch (e) {
    say(`cannot read ${dir}: ${describeFsError(e)}`);
    return 2;
  }
  for (const p of recording.problems) say(`warning: ${p.file}${p.line > 0 ? `:${p.line}` : ""}: ${p.message}`);
  if (recording.rounds.length === 0) {
    say(`no recorded rounds in ${dir}${options.from || options.to ? ` between ${options.from ?? "the start"} and ${options.to ?? "the end"}` : ""} (${recording.files} recording file${recording.files === 1 ? "" : "s"})`);
    return 1;
  }

  const candidatePaths = options.policy ?? ["policies"];
  const candidate = await loadSet(candidatePaths, options.policy === undefined);
  if (typeof candidate === "number") return candidate;
  const baseline = options.baseline ? await loadSet(options.baseline, false) : null;
  if (typeof baseline === "number") {
    candidate.dispose();
    return baseline;
  }
  try {
    if (options.exportTrace !== undefined) {
      const csvFile = options.exportTrace;
      const yamlFile = join(dirname(csvFile), `${basename(csvFile).replace(/\.csv$/i, "")}.yaml`);
      const t = traceScenario(recording.rounds, basename(csvFile));
      try {
        await writeFile(csvFile, t.csv);
        await writeFile(yamlFile, t.yaml);
      } catch (e) {
        say(`cannot write the trace: ${describeFsError(e)}`);
        return 2;
      }
      say(`wrote the recorded VM CPU to ${csvFile} and a scenario to ${yamlFile} (vmpolicy simulate --scenario ${yamlFile})`);
    }
    const report = replayRounds(recording.rounds, candidate, baseline);
    if (options.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
    else {
      process.stdout.write(
        renderReplay(report, {
          candidate: candidatePaths.join(", "),
          baseline: options.baseline ? options.baseline.join(", ") : "what the recorded set planned",
        }),
      );
    }
    return 0;
  } finally {
    candidate.dispose();
    baseline?.dispose();
  }
}
