/**
 * Loading the policy set for the engine (SPEC 5, hot reload): read every
 * configured file and folder, check and compile the whole set, and report
 * either a ready set or the diagnostics that keep it out. Also the file
 * watcher that triggers a reload, debounced so an editor's save (often
 * several events) becomes one reload.
 */
import { dirname, resolve } from "node:path";
import { watch, type FSWatcher } from "chokidar";
import type { Logger } from "pino";
import type { Diagnostic } from "../grammar/diagnostics.js";
import type { PolicyInfo } from "./engine-api.js";
import { readPolicySources } from "./policy-files.js";
import { loadPolicySet } from "./policy-set.js";
import type { CompiledPolicySet } from "../grammar/compile.js";
import type { ScriptLimits } from "./types.js";

/** A set compiled without errors, ready to swap in. */
export interface LoadedSet {
  readonly set: CompiledPolicySet;
  readonly policies: readonly PolicyInfo[];
  /** Warnings, logged but not blocking. */
  readonly warnings: readonly Diagnostic[];
}

/** A set ready to swap in, or the diagnostics that keep it out. */
export type LoadResult = { readonly ok: true; readonly loaded: LoadedSet } | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/** A diagnostic for a path that could not be read (it has no position in any text). */
function unreadableDiagnostic(file: string, message: string): Diagnostic {
  const at = { offset: 0, line: 1, column: 1 };
  return { code: "E001", severity: "error", message: `cannot read ${file}: ${message}`, span: { file, start: at, end: at } };
}

/** Reads, checks and compiles the whole set; only a set without errors comes back as `ok`. */
export async function loadEngineSet(paths: readonly string[], params: readonly string[], scriptLimits: ScriptLimits, log?: Logger): Promise<LoadResult> {
  const read = await readPolicySources(paths);
  if (read.unreadable.length > 0) return { ok: false, diagnostics: read.unreadable.map((u) => unreadableDiagnostic(u.path, u.message)) };
  if (read.sources.length === 0) return { ok: false, diagnostics: [unreadableDiagnostic(paths.join(", "), "no .policy files found")] };
  const result = await loadPolicySet(read.sources, {
    params: [...params],
    scriptLimits,
    ...(log ? { log: (policy: string, message: string) => log.info({ policy }, `script (${policy}): ${message}`) } : {}),
  });
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (result.set === null || errors.length > 0) {
    result.set?.dispose();
    return { ok: false, diagnostics: errors.length > 0 ? errors : result.diagnostics };
  }
  const loadedAt = new Date().toISOString();
  return {
    ok: true,
    loaded: {
      set: result.set,
      policies: result.policies.map((p) => ({ name: p.name, file: p.file, hash: p.hash, loaded_at: loadedAt })),
      warnings: result.diagnostics.filter((d) => d.severity !== "error"),
    },
  };
}

/** One line per diagnostic, `FILE:LINE:COL: severity: message`, for the log. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.span.file}:${d.span.start.line}:${d.span.start.column}: ${d.severity}: ${d.message}${d.hint ? ` (${d.hint})` : ""}`;
}

/**
 * Watches the policy paths and calls `onChange` once per burst of events,
 * `debounceMs` after the last one. Resolves, once watching, to a close function.
 */
export async function watchPolicies(paths: readonly string[], debounceMs: number, onChange: () => void, log: Logger): Promise<() => Promise<void>> {
  let timer: NodeJS.Timeout | null = null;
  // Only what `readPolicySources` loads: each named path, and the `*.policy` files directly in
  // a named folder (not sub-folders such as policies/examples/, not scratch or other files).
  const roots = new Set(paths.map((p) => resolve(p)));
  const loaded = (path: string): boolean => {
    const abs = resolve(path);
    return roots.has(abs) || (abs.endsWith(".policy") && roots.has(dirname(abs)));
  };
  const watcher: FSWatcher = watch([...paths], { ignoreInitial: true, persistent: false, depth: 0, ignored: (path) => !loaded(path) });
  watcher.on("all", (event, path) => {
    log.debug({ event, path }, "policy path changed");
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, debounceMs);
  });
  watcher.on("error", (e) => log.warn({ err: (e as Error).message }, `policy watcher: ${(e as Error).message}`));
  // Resolve once the initial scan is done, so a change right after start is not missed.
  await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  return async () => {
    if (timer) clearTimeout(timer);
    await watcher.close();
  };
}
