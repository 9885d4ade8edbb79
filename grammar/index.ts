/**
 * The front door of the language: parse → check → compile, each a pure
 * function over values. Callers (the CLI, the engine, the simulator, tests)
 * go through here rather than reaching into the phases.
 */
export { parsePolicy } from "./parse.js";
export { checkPolicySet, type CheckOptions } from "./checker.js";
export { compilePolicySet, type CompileOptions, type CompiledPolicySet } from "./compile.js";
export { formatPolicy, type FormatResult } from "./format.js";
export { renderDiagnostics, renderDiagnosticsJson, summaryLine } from "./render-diagnostics.js";
export type { PolicyFile } from "./ast.js";
export type { Diagnostic, Severity } from "./diagnostics.js";
export type { CheckResult, CheckedPolicy, ScriptAnalyzer, Type } from "./types.js";
