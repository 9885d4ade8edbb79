/**
 * `checkPolicySet`: the second phase behind grammar/index.ts. Checks a set
 * of parsed policy files together (SPEC 2.9): each file is its own
 * namespace, policy names must differ across files, and every file is
 * checked to the end even after errors so one run reports everything.
 * Its side tables (types.ts) are what the compiler builds from.
 */
import type { PolicyFile } from "./ast.js";
import { PolicyContext } from "./check-context.js";
import { checkConstraints, checkGroups, checkLets, checkRules, collectNames, collectScripts } from "./check-decls.js";
import { checkWarnings } from "./check-warnings.js";
import { compareDiagnostics, hasErrors, type Diagnostic } from "./diagnostics.js";
import { duplicatePolicy } from "./messages.js";
import type { CheckedPolicy, CheckResult, ScriptAnalyzer } from "./types.js";

export interface CheckOptions {
  /** Finds the functions of `script` blocks (the QuickJS sandbox's analyzer); without it, calls to them are unknown. */
  readonly scripts?: ScriptAnalyzer;
}

/** Checks one file on its own; the set-level checks are done by `checkPolicySet`. */
export function checkPolicyFile(file: PolicyFile, options: CheckOptions = {}): { policy: CheckedPolicy; diagnostics: Diagnostic[] } {
  const cx = new PolicyContext(file, file.name.name);
  collectNames(cx);
  collectScripts(cx, options.scripts);
  checkLets(cx);
  checkGroups(cx);
  checkConstraints(cx);
  checkRules(cx);
  checkWarnings(cx);
  const policy: CheckedPolicy = {
    file: file.span.file,
    ast: file,
    name: cx.policyName,
    symbols: cx.symbols,
    types: cx.types,
    calls: cx.calls,
    scriptFunctions: [...cx.scriptFunctions.values()],
  };
  return { policy, diagnostics: cx.diagnostics };
}

/** Checks `files` as one policy set (SPEC 2.10). */
export function checkPolicySet(files: readonly PolicyFile[], options: CheckOptions = {}): CheckResult {
  const policies: CheckedPolicy[] = [];
  const diagnostics: Diagnostic[] = [];
  const byName = new Map<string, PolicyFile>();
  for (const file of files) {
    const first = byName.get(file.name.name);
    if (first !== undefined) diagnostics.push(duplicatePolicy(file.name.name, file.name.span, first.name.span));
    else byName.set(file.name.name, file);
    const checked = checkPolicyFile(file, options);
    policies.push(checked.policy);
    diagnostics.push(...checked.diagnostics);
  }
  diagnostics.sort(compareDiagnostics);
  return { policies, diagnostics, ok: !hasErrors(diagnostics) };
}
