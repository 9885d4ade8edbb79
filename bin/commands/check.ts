/**
 * `vmpolicy check [PATH…] [--json]` (SPEC 4): parses and checks policy
 * files or folders (default `policies/`) as one set and prints every
 * diagnostic. Exit 0 when there is no error, 1 when there is one, 2 when a
 * path cannot be read (or names no policy file).
 */
import type { Command } from "commander";
import type { PolicyFile } from "../../grammar/ast.js";
import { checkPolicySet } from "../../grammar/checker.js";
import { compareDiagnostics, hasErrors, type Diagnostic } from "../../grammar/diagnostics.js";
import { parsePolicy } from "../../grammar/parse.js";
import { renderDiagnostics, renderDiagnosticsJson } from "../../grammar/render-diagnostics.js";
import type { ScriptAnalyzer } from "../../grammar/types.js";
import { readPolicySources, unusableDiagnostic } from "../../engine/policy/files.js";

interface CheckOptions {
  json?: boolean;
}

/** Registers `check` on the program. */
export function registerCheck(program: Command): void {
  program
    .command("check")
    .description("check policy files or folders of .policy files (default policies/) and print every problem")
    .argument("[paths...]", "policy files or folders (default: policies/)")
    .option("--json", "print the diagnostics as a JSON array of {file, line, column, endLine, endColumn, severity, code, message}")
    .addHelpText(
      "after",
      "\nExit status: 0 no error (warnings allowed), 1 an error, 2 a path cannot be read.\nColour only on a terminal and never with NO_COLOR.",
    )
    .action(async (paths: string[] | undefined, options: CheckOptions) => {
      process.exitCode = await runCheck(paths ?? [], options);
    });
}

/** Colour on a terminal (or with FORCE_COLOR, for tests and CI logs), never with NO_COLOR (SPEC 4). */
export function useColor(stream: NodeJS.WriteStream): boolean {
  const noColor = process.env["NO_COLOR"];
  if (noColor !== undefined && noColor !== "") return false;
  const force = process.env["FORCE_COLOR"];
  return stream.isTTY === true || (force !== undefined && force !== "" && force !== "0");
}

/**
 * The sandbox's analyzer, when a file has `script` blocks: loaded lazily, so
 * checking plain policies never loads QuickJS. (A literal specifier, so the
 * compiler notices when the module moves.)
 */
async function analyzerFor(files: readonly PolicyFile[]): Promise<ScriptAnalyzer | undefined> {
  if (!files.some((f) => f.decls.some((d) => d.kind === "ScriptDecl"))) return undefined;
  const sandbox = await import("../../engine/sandbox/index.js");
  await sandbox.loadSandbox();
  return sandbox.scriptAnalyzer();
}

/** Parses and checks `paths` (none: `policies/`); returns the exit code. */
export async function runCheck(paths: readonly string[], options: CheckOptions): Promise<number> {
  const defaulted = paths.length === 0;
  const read = await readPolicySources(defaulted ? ["policies"] : paths, { defaulted });
  // A file over max_policy_bytes is an error in the set (exit 1); a path that cannot be read is exit 2.
  const unreadable = read.unreadable.filter((u) => !u.tooLarge);
  for (const u of unreadable) process.stderr.write(`vmpolicy check: cannot read ${u.path}: ${u.message}\n`);
  if (read.sources.length === 0 && read.unreadable.length === 0) {
    process.stderr.write(`vmpolicy check: no .policy files in ${paths.join(", ")}\n`);
    return 2;
  }
  const diagnostics: Diagnostic[] = read.unreadable.filter((u) => u.tooLarge).map(unusableDiagnostic);
  const files: PolicyFile[] = [];
  for (const source of read.sources) {
    const parsed = parsePolicy(source.text, source.file);
    diagnostics.push(...parsed.diagnostics);
    if (parsed.ast !== null) files.push(parsed.ast);
  }
  const scripts = await analyzerFor(files);
  const checked = checkPolicySet(files, scripts === undefined ? {} : { scripts });
  diagnostics.push(...checked.diagnostics);
  diagnostics.sort(compareDiagnostics);

  // In JSON every problem is in the array, the unreadable paths too (they are on stderr as well).
  if (options.json) process.stdout.write(renderDiagnosticsJson([...unreadable.map(unusableDiagnostic), ...diagnostics]));
  else {
    const texts = new Map(read.sources.map((s) => [s.file, s.text]));
    process.stdout.write(renderDiagnostics(diagnostics, texts, { color: useColor(process.stdout) }));
  }
  if (unreadable.length > 0) return 2;
  return hasErrors(diagnostics) ? 1 : 0;
}
