/**
 * One check of a policy set as the editor sees it: the text of each file
 * (an open document's unsaved text, or the file on disk), parsed and
 * checked together exactly as `vmpolicy check` does, with each file's
 * diagnostics, its checked policy and its occurrence index. Parses are
 * cached by text, so a keystroke re-parses one file; the set is re-checked
 * whole because the checker is cheap and one file's change (a duplicate
 * policy name) can touch another's diagnostics.
 */
import type { PolicyFile } from "../grammar/ast.js";
import { checkPolicySet } from "../grammar/checker.js";
import { compareDiagnostics, makeDiagnostic, type Diagnostic } from "../grammar/diagnostics.js";
import { parsePolicy, type ParseResult } from "../grammar/parse.js";
import type { CheckedPolicy, ScriptAnalyzer } from "../grammar/types.js";
import { OccurrenceIndex } from "./occurrences.js";

/** A file of the set: `file` is what spans name (an absolute path, or the URI of an unsaved buffer). */
export interface SetSource {
  readonly file: string;
  readonly text: string;
  /** The version of an open document's text (absent for a file read from disk). */
  readonly version?: number;
}

export interface FileAnalysis {
  readonly file: string;
  readonly text: string;
  /** The document version `text` is (absent for a file read from disk). */
  readonly version: number | undefined;
  /** Null when the text has syntax errors (features then fall back to scanning the text). */
  readonly ast: PolicyFile | null;
  readonly policy: CheckedPolicy | null;
  /** Built on first use: most checks are only for diagnostics. */
  readonly index: OccurrenceIndex | null;
  /** This file's diagnostics, sorted. */
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Past this size a file is not parsed in the editor: one diagnostic says so,
 * and the server stays responsive (`vmpolicy check` still checks it). About
 * 10,000 lines of policy: a parse of a few hundred milliseconds per
 * keystroke on a quiet machine; a policy a person writes is a hundredth of it.
 */
export const MAX_EDITOR_FILE_CHARS = 500_000;

/** The diagnostic of a file too large to check as you type. */
export function tooLarge(file: string, chars: number): Diagnostic {
  const at = { offset: 0, line: 1, column: 1 };
  return makeDiagnostic(
    "L001",
    "warning",
    `file too large to check in the editor: ${chars} characters (limit ${MAX_EDITOR_FILE_CHARS}); run \`vmpolicy check\` on it`,
    { file, start: at, end: at },
  );
}

/** Parses by text: an unchanged file is not parsed again. */
export class ParseCache {
  private readonly byFile = new Map<string, { text: string; result: ParseResult }>();

  parse(file: string, text: string): ParseResult {
    const hit = this.byFile.get(file);
    if (hit !== undefined && hit.text === text) return hit.result;
    const result =
      text.length > MAX_EDITOR_FILE_CHARS ? { ast: null, diagnostics: [tooLarge(file, text.length)] } : parsePolicy(text, file);
    this.byFile.set(file, { text, result });
    return result;
  }

  /** Forgets files not in `keep` (closed buffers, deleted files). */
  retain(keep: ReadonlySet<string>): void {
    for (const file of this.byFile.keys()) if (!keep.has(file)) this.byFile.delete(file);
  }
}

/** Checks `sources` as one set; `scripts` finds the functions of `script` blocks when given. */
export function analyzeSet(sources: readonly SetSource[], cache: ParseCache, scripts?: ScriptAnalyzer): Map<string, FileAnalysis> {
  const parsed = sources.map((s) => ({ source: s, result: cache.parse(s.file, s.text) }));
  const asts = parsed.flatMap((p) => (p.result.ast === null ? [] : [p.result.ast]));
  const checked = checkPolicySet(asts, scripts === undefined ? {} : { scripts });
  const policies = new Map(checked.policies.map((p) => [p.file, p]));
  const byFile = new Map<string, Diagnostic[]>();
  for (const d of checked.diagnostics) {
    let list = byFile.get(d.span.file);
    if (list === undefined) byFile.set(d.span.file, (list = []));
    list.push(d);
  }
  const out = new Map<string, FileAnalysis>();
  for (const { source, result } of parsed) {
    const policy = result.ast === null ? null : (policies.get(source.file) ?? null);
    const diagnostics = [...result.diagnostics, ...(byFile.get(source.file) ?? [])].sort(compareDiagnostics);
    let index: OccurrenceIndex | null | undefined;
    out.set(source.file, {
      file: source.file,
      text: source.text,
      version: source.version,
      ast: result.ast,
      policy,
      get index() {
        if (index === undefined) index = policy === null ? null : new OccurrenceIndex(policy, source.text);
        return index;
      },
      diagnostics,
    });
  }
  return out;
}

/** Whether any file of the set has a `script` block (only then is the QuickJS analyzer loaded). */
export function needsScripts(sources: readonly SetSource[]): boolean {
  return sources.some((s) => s.text.includes('"""'));
}

/**
 * Wraps the sandbox's analyzer so each distinct block is analyzed once:
 * typing elsewhere in a file does not re-run QuickJS on its scripts.
 */
export function memoizedAnalyzer(inner: ScriptAnalyzer): ScriptAnalyzer {
  const cache = new Map<string, ReturnType<ScriptAnalyzer["analyze"]>>();
  return {
    analyze(source) {
      let result = cache.get(source);
      if (result === undefined) {
        result = inner.analyze(source);
        if (cache.size > 200) cache.clear();
        cache.set(source, result);
      }
      return result;
    },
  };
}
