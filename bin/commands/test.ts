/**
 * `vmpolicy test [PATH…] [--run REGEX] [-v] [--json] [--coverage]` (SPEC 8):
 * runs policy test files (`*.test.yaml`; default: every one under
 * `policies/`). Prints a block per failing case (with -v every case), test
 * file problems like `check`, the coverage with `--coverage`, and last
 * `N passed, M failed`. Exit 0 all passed, 1 a failure or a test file with
 * an error, 2 a path that cannot be read (or a bad --run).
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { createColors } from "picocolors";
import { CoverageRecorder } from "../../grammar/coverage.js";
import { diagnosticToJson, renderDiagnostics } from "../../grammar/render-diagnostics.js";
import { describeFsError, type UnreadablePath } from "../../engine/policy/files.js";
import { coverageReport, renderCoverage } from "../../engine/testing/coverage.js";
import { loadTestFile } from "../../engine/testing/load.js";
import { runTestFile, type CaseResult, type FileRun } from "../../engine/testing/run.js";
import { useColor } from "./check.js";

interface TestOptions {
  run?: string;
  verbose?: boolean;
  json?: boolean;
  coverage?: boolean;
}

const SUFFIX = ".test.yaml";

/** Registers `test` on the program. */
export function registerTest(program: Command): void {
  program
    .command("test")
    .description("run policy test files (*.test.yaml; default: every one under policies/) and report failing cases")
    .argument("[paths...]", "test files or folders searched for *.test.yaml (default: policies/)")
    .option("--run <regex>", "only the cases whose name matches this regular expression")
    .option("-v, --verbose", "print every case, passed or failed, with its time")
    .option("--json", "print the results (and coverage) as one JSON object")
    .option("--coverage", "report, per policy file, the rules, when clauses, lets and groups no case exercised")
    .addHelpText(
      "after",
      "\nThe last line is `N passed, M failed` (`, K errors` when test files have errors).\n" +
        "Exit status: 0 every case passed, 1 a case failed or a test file has an error, 2 a path cannot be read.\n" +
        "Colour only on a terminal and never with NO_COLOR. See docs/testing.md.",
    )
    .action(async (paths: string[] | undefined, options: TestOptions) => {
      process.exitCode = await runTests(paths ?? [], options);
    });
}

/** Every `*.test.yaml` under `paths` (files as given, folders recursively, sorted). */
async function findTestFiles(paths: readonly string[]): Promise<{ files: string[]; unreadable: UnreadablePath[] }> {
  const files: string[] = [];
  const unreadable: UnreadablePath[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory() && e.name !== "node_modules" && !e.name.startsWith(".")) await walk(path);
      else if (e.isFile() && e.name.endsWith(SUFFIX)) files.push(path);
    }
  };
  for (const path of paths) {
    try {
      if ((await stat(path)).isDirectory()) await walk(path);
      else files.push(path);
    } catch (err) {
      unreadable.push({ path, message: describeFsError(err) });
    }
  }
  return { files: [...new Set(files)], unreadable };
}

/** Runs the test files under `paths` (none: `policies/`); returns the exit code. */
export async function runTests(paths: readonly string[], options: TestOptions): Promise<number> {
  let filter: RegExp | undefined;
  if (options.run !== undefined) {
    try {
      filter = new RegExp(options.run);
    } catch (err) {
      process.stderr.write(`vmpolicy test: --run: ${(err as Error).message}\n`);
      return 2;
    }
  }
  const roots = paths.length === 0 ? ["policies"] : paths;
  const found = await findTestFiles(roots);
  for (const u of found.unreadable) process.stderr.write(`vmpolicy test: cannot read ${u.path}: ${u.message}\n`);
  if (found.files.length === 0 && found.unreadable.length === 0) {
    process.stderr.write(`vmpolicy test: no ${SUFFIX} files in ${roots.join(", ")}\n`);
    return 2;
  }
  const coverage = options.coverage ? new CoverageRecorder() : undefined;
  const runs: FileRun[] = [];
  let unreadable = found.unreadable.length > 0;
  for (const file of found.files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      process.stderr.write(`vmpolicy test: cannot read ${file}: ${describeFsError(err)}\n`);
      unreadable = true;
      continue;
    }
    const loaded = await loadTestFile(file, text);
    runs.push(await runTestFile(loaded, { ...(filter ? { filter } : {}), ...(coverage ? { coverage } : {}) }));
  }

  const cases = runs.flatMap((r) => r.cases);
  const passed = cases.filter((c) => c.passed).length;
  const failed = cases.length - passed;
  const errors = runs.reduce((n, r) => n + r.diagnostics.length, 0);
  const report = coverage ? coverageReport(coverage.items()) : undefined;

  if (options.json) {
    const json = {
      cases: cases.map((c) => ({ ...c, ms: Math.round(c.ms * 100) / 100 })),
      errors: runs.flatMap((r) => r.diagnostics.map(diagnosticToJson)),
      passed,
      failed,
      ...(report ? { coverage: report } : {}),
    };
    process.stdout.write(JSON.stringify(json, null, 2) + "\n");
  } else {
    const color = useColor(process.stdout);
    const out: string[] = [];
    for (const r of runs) {
      if (r.diagnostics.length > 0) out.push(renderDiagnostics(r.diagnostics, r.texts, { color, summary: false }).trimEnd());
      for (const c of r.cases) if (!c.passed || options.verbose) out.push(renderCase(c, color, options.verbose === true));
    }
    if (report) out.push(renderCoverage(report).trimEnd());
    out.push(`${passed} passed, ${failed} failed${errors > 0 ? `, ${errors} error${errors === 1 ? "" : "s"}` : ""}`);
    process.stdout.write(out.join("\n") + "\n");
  }
  if (unreadable) return 2;
  return failed > 0 || errors > 0 ? 1 : 0;
}

/** `FAIL file:line: name` and the differences, indented; `PASS …` with -v. */
function renderCase(c: CaseResult, color: boolean, verbose: boolean): string {
  const p = createColors(color);
  const time = verbose ? ` (${c.ms.toFixed(1)} ms)` : "";
  const head = `${c.passed ? p.green("PASS") : p.bold(p.red("FAIL"))} ${c.file}:${c.line}: ${c.name}${time}`;
  const body = c.failures.flatMap((f) =>
    f.lines.map((l) => "  " + (l.startsWith("  - ") ? p.red(l) : l.startsWith("  + ") ? p.green(l) : l)),
  );
  return [head, ...body].join("\n");
}
