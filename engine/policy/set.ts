/**
 * The front door from policy text to a plannable set: parse every file,
 * check them as one set, apply `--param` values, compile, and attach the
 * script sandboxes. The engine (load and hot reload), `vmpolicy plan` and
 * the simulator all load policies through `loadPolicySet`, so a set that
 * one accepts the others accept too.
 *
 * Room `engine/policy/`: reading and compiling a policy set (files, params,
 * set). Imports `grammar/`, `engine/sandbox/` and the shared `engine/*.ts`.
 */
import { createHash } from "node:crypto";
import type { PolicyFile } from "../../grammar/ast.js";
import { checkPolicySet } from "../../grammar/checker.js";
import { compilePolicySetSteps, paramType } from "../../grammar/compile.js";
import type { CompiledPolicySet } from "../../grammar/compile-types.js";
import type { CheckResult } from "../../grammar/types.js";
import { compareDiagnostics, hasErrors, type Diagnostic } from "../../grammar/diagnostics.js";
import { type ParseResult, parsePolicy } from "../../grammar/parse.js";
import { resolveParams, type DeclaredParam } from "./params.js";
import type { CoverageRecorder } from "../../grammar/coverage.js";
import { DEFAULT_SCRIPT_LIMITS, type ScriptLimits } from "../types.js";
import type { PolicySourceText } from "./files.js";

export interface PolicySource {
  readonly file: string;
  readonly text: string;
  /** The file already parsed (off the event loop, `off-loop.ts`); parsed here when absent. */
  readonly parsed?: ParseResult;
}

export interface LoadOptions {
  /** `POLICY.NAME=VALUE` or `NAME=VALUE`. */
  readonly params?: readonly string[];
  /** Where `params` came from, for their diagnostics (default `--param`). */
  readonly paramSource?: string;
  readonly scriptLimits?: ScriptLimits;
  /** Where a script's `console.log` goes (the engine's log); dropped when absent. */
  readonly log?: (policy: string, message: string) => void;
  /** Compile with coverage probes (`vmpolicy test --coverage`). */
  readonly coverage?: CoverageRecorder;
}

/** A policy of a loaded set: its name, file and the sha256 of its text. */
export interface LoadedPolicyInfo {
  readonly name: string;
  readonly file: string;
  readonly hash: string;
}

export interface LoadResult {
  /** Null when any diagnostic is an error. */
  readonly set: CompiledPolicySet | null;
  /** Every diagnostic of parsing, checking, params and compiling, sorted (warnings too). */
  readonly diagnostics: Diagnostic[];
  readonly policies: LoadedPolicyInfo[];
}

/**
 * Parses (unless parsed already) and checks `sources` as one set, the
 * script blocks analysed in the sandbox: everything short of params and
 * compiling. The engine's reload runs this in a worker thread first, so a
 * set with errors never costs its event loop anything.
 */
export async function checkSources(sources: readonly PolicySource[], scriptLimits: ScriptLimits = DEFAULT_SCRIPT_LIMITS) {
  const diagnostics: Diagnostic[] = [];
  const files: PolicyFile[] = [];
  for (const source of sources) {
    const parsed = source.parsed ?? parsePolicy(source.text, source.file);
    diagnostics.push(...parsed.diagnostics);
    if (parsed.ast !== null) files.push(parsed.ast);
  }
  const sandbox = await sandboxIfScripts(files);
  const analyzer = sandbox === null ? null : sandbox.scriptAnalyzer(scriptLimits);
  const checked = checkPolicySet(files, analyzer === null ? {} : { scripts: analyzer });
  diagnostics.push(...checked.diagnostics);
  return { files, checked, diagnostics, sandbox };
}

/** Parses, checks, applies params and compiles `sources` as one set. */
export async function loadPolicySet(sources: readonly PolicySource[], options: LoadOptions = {}): Promise<LoadResult> {
  const { checked, diagnostics } = await checkSources(sources, options.scriptLimits ?? DEFAULT_SCRIPT_LIMITS);
  return compileChecked(sources, checked, diagnostics, options);
}

/**
 * The steps after `checkSources`: applies params, compiles and attaches the
 * script sandboxes, without checking again. `checked` is what checking
 * `sources` gave (in the engine's reload, in a worker thread) and
 * `diagnostics` everything found so far. With `pause`, compiling awaits it
 * between declarations (the engine passes `loopTurns`, so a large set never
 * holds its event loop for long).
 */
export async function compileChecked(
  sources: readonly PolicySourceText[],
  checked: CheckResult,
  found: readonly Diagnostic[],
  options: LoadOptions & { readonly pause?: () => Promise<void> } = {},
): Promise<LoadResult> {
  const limits = options.scriptLimits ?? DEFAULT_SCRIPT_LIMITS;
  const diagnostics = [...found];
  const hashes = new Map(sources.map((s) => [s.file, sha256(s.text)]));
  const policies: LoadedPolicyInfo[] = checked.policies.map((p) => ({ name: p.name, file: p.file, hash: hashes.get(p.file) ?? "" }));
  const done = (set: CompiledPolicySet | null): LoadResult => ({ set, diagnostics: dedupe(diagnostics).sort(compareDiagnostics), policies });
  if (hasErrors(diagnostics) || !checked.ok) return done(null);

  const declared: DeclaredParam[] = [];
  for (const p of checked.policies) {
    for (const decl of p.ast.decls) if (decl.kind === "ParamDecl") declared.push({ policy: p.name, name: decl.name.name, type: paramType(decl) });
  }
  const params = resolveParams(options.params ?? [], declared, options.paramSource);
  diagnostics.push(...params.diagnostics);
  if (params.diagnostics.length > 0) return done(null);

  const steps = compilePolicySetSteps(checked, { params: params.values, ...(options.coverage ? { coverage: options.coverage } : {}) });
  let step = steps.next();
  while (!step.done) {
    if (options.pause) await options.pause();
    step = steps.next();
  }
  const compiled = step.value;
  diagnostics.push(...compiled.diagnostics);
  if (compiled.set === null) return done(null);
  const set = compiled.set;
  set.hash = sha256(sources.map((s) => `${s.file}\n${s.text}`).join("\n\0\n"));
  const sandbox = await sandboxIfScripts(checked.policies.map((p) => p.ast));
  if (sandbox !== null) attachScripts(sandbox, set, limits, options.log);
  return done(set);
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The parser and the checker may both report one problem; keep one copy. */
function dedupe(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.span.file}:${d.span.start.offset}:${d.span.end.offset}:${d.code}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---------------------------------------------------------------- scripts (SPEC 2.8)

type Sandbox = typeof import("../sandbox/index.js");

/**
 * The sandbox module, loaded, when some file has a `script` block; null
 * otherwise: a set without scripts never imports QuickJS (its JavaScript
 * alone costs a CLI command noticeable start-up time), let alone its WASM.
 */
async function sandboxIfScripts(files: readonly PolicyFile[]): Promise<Sandbox | null> {
  if (!files.some((f) => f.decls.some((d) => d.kind === "ScriptDecl"))) return null;
  const sandbox = await import("../sandbox/index.js");
  await sandbox.loadSandbox();
  return sandbox;
}

/** Gives each policy with `script` blocks its own sandbox, reused across rounds until `dispose`. */
function attachScripts(
  sandbox: Sandbox,
  set: CompiledPolicySet,
  limits: ScriptLimits,
  log: ((policy: string, message: string) => void) | undefined,
): void {
  for (const policy of set.policies) {
    if (policy.scripts.length === 0) continue;
    policy.runner = sandbox.createPolicySandbox({ policy: policy.name, scripts: policy.scripts, limits, ...(log ? { log } : {}) });
  }
}
