/**
 * Shared by the checker tests: parse and check policy texts as one set and
 * flatten diagnostics to `[code, line, column, message]` rows, so test
 * tables state exactly what is reported and where.
 */
import { parsePolicy } from "../../grammar/parse.js";
import { checkPolicySet, type CheckOptions } from "../../grammar/checker.js";
import type { Diagnostic } from "../../grammar/diagnostics.js";
import type { CheckResult } from "../../grammar/types.js";

export type Row = [code: string, line: number, column: number, message: string];

/** Parses each `[file, text]` (failing loudly on a syntax error) and checks them as one set. */
export function checkTexts(files: readonly (readonly [string, string])[], options: CheckOptions = {}): CheckResult {
  const asts = files.map(([file, text]) => {
    const parsed = parsePolicy(text, file);
    if (parsed.ast === null) throw new Error(`syntax error in test source ${file}: ${parsed.diagnostics.map((d) => d.message).join("; ")}`);
    return parsed.ast;
  });
  return checkPolicySet(asts, options);
}

/** One source as `t.policy`. */
export function check(source: string, options: CheckOptions = {}): CheckResult {
  return checkTexts([["t.policy", source]], options);
}

export function rows(diagnostics: readonly Diagnostic[]): Row[] {
  return diagnostics.map((d) => [d.code, d.span.start.line, d.span.start.column, d.message]);
}
