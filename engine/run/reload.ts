/**
 * Loading the policy set for the engine (SPEC 5, hot reload): read every
 * configured file and folder, check and compile the whole set, and report
 * either a ready set or the diagnostics that keep it out. Also the file
 * watcher that triggers a reload, debounced so an editor's save (often
 * several events) becomes one reload.
 */
import { watch as fsWatch, type FSWatcher as FsWatcher } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { watch, type FSWatcher } from "chokidar";
import type { Logger } from "pino";
import type { Diagnostic } from "../../grammar/diagnostics.js";
import type { PolicyInfo } from "../http/control.js";
import { type PolicySizeLimits, unusableDiagnostic } from "../policy/files.js";
import { loopTurns } from "../policy/handoff.js";
import { readAndCheck } from "../policy/off-loop.js";
import { compileChecked } from "../policy/set.js";
import type { CompiledPolicySet } from "../../grammar/compile.js";
import type { ScriptLimits } from "../types.js";

/** A set compiled without errors, ready to swap in. */
export interface LoadedSet {
  readonly set: CompiledPolicySet;
  readonly policies: readonly PolicyInfo[];
  /** Warnings, logged but not blocking. */
  readonly warnings: readonly Diagnostic[];
}

/** A set ready to swap in, or the diagnostics that keep it out. */
export type LoadResult = { readonly ok: true; readonly loaded: LoadedSet } | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/** A diagnostic for a path that names no policy file (it has no position in any text). */
function unreadableDiagnostic(file: string, message: string): Diagnostic {
  return unusableDiagnostic({ path: file, message });
}

/**
 * Reads, checks and compiles the whole set; only a set without errors
 * comes back as `ok`. Files over the size limits are errors. Reading,
 * parsing and checking run in a worker thread (`off-loop.ts`); the event
 * loop only rebuilds a clean set and compiles it, a slice at a time
 * (`loopTurns`), so a reload never holds the API or a round for long.
 */
export async function loadEngineSet(paths: readonly string[], params: readonly string[], scriptLimits: ScriptLimits, sizeLimits: PolicySizeLimits, log?: Logger): Promise<LoadResult> {
  const pause = loopTurns();
  let offLoop;
  try {
    offLoop = await readAndCheck(paths, sizeLimits, scriptLimits, pause);
  } catch (e) {
    return { ok: false, diagnostics: [unreadableDiagnostic(paths.join(", "), (e as Error).message)] };
  }
  const { read, checked } = offLoop;
  if (read.unreadable.length > 0) return { ok: false, diagnostics: read.unreadable.map(unusableDiagnostic) };
  if (read.sources.length === 0) return { ok: false, diagnostics: [unreadableDiagnostic(paths.join(", "), "no .policy files found")] };
  // Checked with errors in the worker: refused without touching the loop.
  if (checked === null) return { ok: false, diagnostics: offLoop.diagnostics.filter((d) => d.severity === "error") };
  const result = await compileChecked(read.sources, checked, offLoop.diagnostics, {
    params: [...params],
    // The engine's params come from its config file, not from a flag.
    paramSource: "config params",
    scriptLimits,
    pause,
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
 * How often the watcher checks that each named path is still the file or
 * folder it watches: while a named path's folder cannot be watched itself,
 * and otherwise as a slow safety net (a folder's watch tells at once when an
 * entry of it is removed, created or renamed; a check every second cost the
 * idle engine more CPU than its rounds).
 */
const ROOT_CHECK_MS = 1000;
const ROOT_SAFETY_CHECK_MS = 60_000;

/** `dev:ino` of a path, or null when it is missing: tells a replaced or returned folder from the one watched. */
async function identity(path: string): Promise<string | null> {
  return stat(path).then(
    (s) => `${s.dev}:${s.ino}`,
    () => null,
  );
}

/**
 * Watches the policy paths and calls `onChange` once per burst of events,
 * `debounceMs` after the last one. Resolves, once watching, to a close function.
 *
 * A watch is tied to the folder (or file) it was opened on: once a named path
 * is deleted and created again, or renamed away and back, it reports nothing
 * more, and a path missing when watching starts is never picked up. So the
 * watch is opened afresh after every burst (before `onChange`, so the reload
 * reads what the new watch already covers), and each named path is compared
 * with the one watched whenever its folder reports an entry of that name
 * changing (and every `ROOT_SAFETY_CHECK_MS`; every `ROOT_CHECK_MS` while
 * that folder cannot be watched); a path that vanished, came back or was
 * replaced counts as a change. An idle watcher wakes the process only for
 * the safety check.
 */
export async function watchPolicies(paths: readonly string[], debounceMs: number, onChange: () => void, log: Logger): Promise<() => Promise<void>> {
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  let watcher: FSWatcher | null = null;
  // Identities of the named paths as last watched, in `paths` order.
  let watched: (string | null)[] = [];
  // Re-arming and the `onChange` after it run one at a time, in order.
  let chain: Promise<void> = Promise.resolve();
  // Only what `readPolicySources` loads: each named path, and the `*.policy` files directly in
  // a named folder (not sub-folders such as policies/examples/, not scratch or other files).
  const roots = new Set(paths.map((p) => resolve(p)));
  const loaded = (path: string): boolean => {
    const abs = resolve(path);
    return roots.has(abs) || (abs.endsWith(".policy") && roots.has(dirname(abs)));
  };
  const identities = () => Promise.all(paths.map(identity));

  const burst = (): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      chain = chain
        .then(async () => {
          await arm();
          if (!closed) onChange();
        })
        .catch((e: Error) => log.warn({ err: e.message }, `policy watcher: ${e.message}`));
    }, debounceMs);
  };

  const arm = async (): Promise<void> => {
    await watcher?.close();
    watcher = null;
    if (closed) return;
    // Taken before the watch opens, so a replacement during the scan shows up at the next check.
    watched = await identities();
    if (closed) return;
    armFolders(); // the folders too: one removed and made again needs a new watch
    const w = watch([...paths], { ignoreInitial: true, persistent: false, depth: 0, ignored: (path) => !loaded(path) });
    w.on("all", (event, path) => {
      log.debug({ event, path }, "policy path changed");
      burst();
    });
    w.on("error", (e) => log.warn({ err: (e as Error).message }, `policy watcher: ${(e as Error).message}`));
    // Resolve once the initial scan is done, so a change right after start is not missed.
    await new Promise<void>((resolve) => w.once("ready", () => resolve()));
    if (closed) await w.close();
    else watcher = w;
  };

  let checking = false;
  let again = false;
  const checkRoots = (): void => {
    if (closed) return;
    if (checking) {
      again = true; // an event during a check is looked at once it ends
      return;
    }
    checking = true;
    void identities()
      .then((now) => {
        if (closed || now.every((id, i) => id === watched[i])) return;
        log.debug({ paths }, "a policy path was replaced, removed or came back");
        watched = now; // one burst per replacement, not one per check until it is re-armed
        burst();
      })
      .finally(() => {
        checking = false;
        if (again) {
          again = false;
          checkRoots();
        }
      });
  };
  let check: NodeJS.Timeout | null = null;
  const pollEvery = (ms: number): void => {
    if (check) clearInterval(check);
    check = setInterval(checkRoots, ms);
    check.unref();
  };
  let folders: { all: boolean; close: () => void } | null = null;
  function armFolders(): void {
    folders?.close();
    folders = watchFolders(paths, checkRoots, () => {
      if (!closed) pollEvery(ROOT_CHECK_MS);
    });
    pollEvery(folders.all ? ROOT_SAFETY_CHECK_MS : ROOT_CHECK_MS);
  }

  await arm();
  return async () => {
    closed = true;
    if (check) clearInterval(check);
    folders?.close();
    if (timer) clearTimeout(timer);
    await chain;
    await watcher?.close();
    watcher = null;
  };
}

/**
 * Watches the folder holding each named path (not persistent: it never
 * keeps the process alive) and calls `onEntry` when an entry of a named
 * path's name changes there. `all` is false when some folder could not be
 * watched; `onLost` is called when a watch fails later (its folder removed).
 */
function watchFolders(paths: readonly string[], onEntry: () => void, onLost: () => void): { all: boolean; close: () => void } {
  const byFolder = new Map<string, Set<string>>();
  for (const p of paths) {
    const abs = resolve(p);
    const names = byFolder.get(dirname(abs)) ?? new Set<string>();
    byFolder.set(dirname(abs), names.add(basename(abs)));
  }
  const watchers: FsWatcher[] = [];
  let all = true;
  for (const [folder, names] of byFolder) {
    try {
      const w = fsWatch(folder, { persistent: false }, (_event, name) => {
        if (name === null || names.has(String(name))) onEntry();
      });
      w.on("error", () => {
        w.close();
        onLost();
      });
      watchers.push(w);
    } catch {
      all = false;
    }
  }
  return { all, close: () => watchers.forEach((w) => w.close()) };
}
