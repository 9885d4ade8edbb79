/**
 * `vmpolicy fmt [--check] PATH…` (SPEC 4): rewrites policy files in the
 * canonical layout of grammar/format.ts, or with `--check` only lists the
 * files that would change (for CI). Exit 0 when all is well, 1 when a file
 * has syntax errors or (with `--check`) differs, 2 when a path cannot be read.
 */
import { chmod, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import type { Diagnostic } from "../../grammar/diagnostics.js";
import { formatPolicy } from "../../grammar/format.js";
import { readPolicySources } from "../../engine/policy/files.js";

interface FmtOptions {
  check?: boolean;
}

/** Registers `fmt` on the program. */
export function registerFmt(program: Command): void {
  program
    .command("fmt")
    .description("rewrite policy files (or the .policy files of folders) in the canonical layout")
    .argument("<paths...>", "policy files or folders")
    .option("--check", "rewrite nothing; list the files whose layout differs and exit 1 if there is one")
    .addHelpText(
      "after",
      "\nFormatting keeps comments and never changes what a policy means; formatting twice changes nothing." +
        "\nExit status: 0 done (or, with --check, nothing to change), 1 a syntax error or (with --check) a file that differs," +
        "\n2 a path cannot be read.",
    )
    .action(async (paths: string[], options: FmtOptions) => {
      process.exitCode = await runFmt(paths, options);
    });
}

function formatDiagnostic(d: Diagnostic): string {
  return `${d.span.file}:${d.span.start.line}:${d.span.start.column}: ${d.severity}: ${d.message}\n`;
}

/**
 * Replaces a file by writing a sibling and renaming it over the original, so
 * an engine watching the file never reads half of it. A symlink is followed
 * (the file it names is replaced, the link stays), the permission bits are
 * kept, and the sibling is removed when anything fails.
 */
async function replaceFile(file: string, text: string): Promise<void> {
  const target = await realpath(file);
  const mode = (await stat(target)).mode & 0o7777;
  const temp = `${target}.fmt-${process.pid}.tmp`;
  try {
    await writeFile(temp, text, "utf8");
    await chmod(temp, mode);
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** Formats (or checks) every policy file under `paths`; returns the exit code. */
export async function runFmt(paths: readonly string[], options: FmtOptions): Promise<number> {
  const read = await readPolicySources(paths);
  let code = 0;
  for (const u of read.unreadable) {
    process.stderr.write(`vmpolicy fmt: cannot read ${u.path}: ${u.message}\n`);
    code = 2;
  }
  if (read.sources.length === 0 && read.unreadable.length === 0) {
    process.stderr.write(`vmpolicy fmt: no .policy files in ${paths.join(", ")}\n`);
    return 2;
  }
  for (const source of read.sources) {
    const result = formatPolicy(source.text, source.file);
    if (result.output === null) {
      for (const d of result.diagnostics) process.stderr.write(formatDiagnostic(d));
      code = Math.max(code, 1);
      continue;
    }
    if (result.output === source.text) continue;
    if (options.check === true) {
      process.stdout.write(`${source.file}\n`);
      code = Math.max(code, 1);
      continue;
    }
    try {
      await replaceFile(source.file, result.output);
      process.stdout.write(`formatted ${source.file}\n`);
    } catch (err) {
      process.stderr.write(`vmpolicy fmt: cannot write ${source.file}: ${err instanceof Error ? err.message : String(err)}\n`);
      code = 2;
    }
  }
  return code;
}
