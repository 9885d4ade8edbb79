/**
 * Runs policy test files (SPEC 8): loads each file's policy set once per
 * distinct params (through the same `loadPolicySet` and `planRound` as the
 * engine), plans each case and compares the plan with its expectations.
 * With a `CoverageRecorder`, the sets are compiled with probes and every
 * planned action is counted against its rule.
 */
import type { CompiledPolicySet } from "../../grammar/compile-types.js";
import type { CoverageRecorder } from "../../grammar/coverage.js";
import { makeDiagnostic, type Diagnostic } from "../../grammar/diagnostics.js";
import { planRound } from "../plan/index.js";
import { readPolicySources } from "../policy/files.js";
import { loadPolicySet } from "../policy/set.js";
import type { CaseOutcome, PlanJson } from "./expectations.js";
import type { TestCase, TestFile } from "./load.js";

export interface Failure {
  /** The `expect` key. */
  readonly expectation: string;
  /** Readable lines of difference. */
  readonly lines: readonly string[];
}

export interface CaseResult {
  readonly file: string;
  readonly line: number;
  readonly name: string;
  readonly passed: boolean;
  readonly failures: readonly Failure[];
  readonly ms: number;
}

export interface FileRun {
  readonly file: TestFile;
  /** Problems with the test file or its policies; when any, no case ran. */
  readonly diagnostics: readonly Diagnostic[];
  /** Texts of the files the diagnostics point into, for the caret lines. */
  readonly texts: ReadonlyMap<string, string>;
  readonly cases: readonly CaseResult[];
}

export interface RunOptions {
  /** Only cases whose name this matches. */
  readonly filter?: RegExp;
  readonly coverage?: CoverageRecorder;
}

/** Runs the cases of one loaded test file. */
export async function runTestFile(file: TestFile, options: RunOptions = {}): Promise<FileRun> {
  const texts = new Map<string, string>([[file.file, file.source.text]]);
  const diagnostics: Diagnostic[] = [...file.source.diagnostics];
  const chosen = file.cases.filter((c) => options.filter === undefined || options.filter.test(c.name));
  if (diagnostics.length > 0 || chosen.length === 0) return { file, diagnostics, texts, cases: [] };

  const read = await readPolicySources(file.policies);
  for (const u of read.unreadable) diagnostics.push(makeDiagnostic("F504", "error", `policies: cannot read ${u.path}: ${u.message}`, file.source.spanOf(["policies"])));
  if (read.ok && read.sources.length === 0) diagnostics.push(makeDiagnostic("F504", "error", `policies: no .policy files in ${file.policies.join(", ")}`, file.source.spanOf(["policies"])));
  for (const s of read.sources) texts.set(s.file, s.text);
  if (diagnostics.length > 0) return { file, diagnostics, texts, cases: [] };

  // One set per distinct params; every one is loaded before any case runs, so a bad param stops the file like any other error.
  const sets = new Map<string, CompiledPolicySet>();
  try {
    for (const c of chosen) {
      const key = c.params.join("\n");
      if (sets.has(key)) continue;
      const loaded = await loadPolicySet(read.sources, { params: c.params, paramSource: "params", ...(options.coverage ? { coverage: options.coverage } : {}) });
      if (loaded.set !== null) {
        sets.set(key, loaded.set);
        continue;
      }
      for (const d of loaded.diagnostics) {
        if (d.severity !== "error") continue;
        // A bad param is the test file's fault: report it at the case's params; policy errors where they are.
        diagnostics.push(d.span.file === "params" ? { ...d, code: "F505", span: file.source.spanOf([...c.path, "params"]) } : d);
      }
      // The policies' own errors are the same for every params: report them once.
      if (diagnostics.some((d) => d.span.file !== file.file)) break;
    }
    if (diagnostics.length > 0) return { file, diagnostics: dedupe(diagnostics), texts, cases: [] };
    const files = new Set(read.sources.map((s) => s.file));
    const cases: CaseResult[] = [];
    for (const c of chosen) cases.push(await runCase(file, c, sets.get(c.params.join("\n"))!, files, options.coverage));
    return { file, diagnostics, texts, cases };
  } finally {
    for (const set of sets.values()) set.dispose();
  }
}

async function runCase(file: TestFile, c: TestCase, set: CompiledPolicySet, files: ReadonlySet<string>, coverage: CoverageRecorder | undefined): Promise<CaseResult> {
  const start = performance.now();
  const plan = JSON.parse(JSON.stringify(planRound(set, c.facts, c.settings))) as PlanJson;
  coverage?.countPlanned(files, plan.actions);
  const outcome: CaseOutcome = { plan, set, facts: c.facts, settings: c.settings };
  const failures: Failure[] = [];
  for (const e of c.expect) {
    const lines = await e.kind.compare(e.value as never, outcome);
    if (lines.length > 0) failures.push({ expectation: e.key, lines });
  }
  return { file: file.file, line: c.line, name: c.name, passed: failures.length === 0, failures, ms: performance.now() - start };
}

function dedupe(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.span.file}:${d.span.start.offset}:${d.code}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
