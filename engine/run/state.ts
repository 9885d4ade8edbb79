/**
 * The engine's memory across restarts (SPEC 5, "State survives a
 * restart"): operator maintenance, fence confirmations, which hosts are
 * down, the last facts of every host and the VMs already restarted away
 * from a down host. Without it an engine restarted after a fence forgets
 * the down host's VMs (they then run nowhere, unflagged) or the fence
 * itself. One JSON file beside the journal, replaced atomically (write a
 * temporary file, fsync it, rename it over the old one, fsync the folder),
 * so a crash leaves the old state or the new, never half of one.
 */
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Logger } from "pino";
import { validateFacts } from "../plan/facts.js";
import type { HostFact } from "../types.js";
import type { Fencer } from "./fencing.js";
import type { HostTracker } from "./gather.js";

/** What the engine keeps of one host. */
export interface PersistedHost {
  readonly operator_state: "maintenance" | null;
  readonly down: boolean;
  readonly fenced: boolean;
  /** The host's last accepted facts, or null when it never answered. */
  readonly last: HostFact | null;
  /** VMs restarted elsewhere while it was down: never restarted from it again. */
  readonly restarted_away: readonly string[];
}

/** The whole file. */
export interface PersistedState {
  readonly version: 1;
  readonly hosts: Readonly<Record<string, PersistedHost>>;
}

/** `vmpolicy-journal.jsonl` → `vmpolicy-journal.state.json`, in the journal's folder. */
export function statePathFor(journal: string): string {
  return join(dirname(journal), `${basename(journal).replace(/\.jsonl?$/, "")}.state.json`);
}

/** What loading found: the state (null when there is none), and why a file that exists could not be used. */
export interface LoadedState {
  readonly state: PersistedState | null;
  readonly problem: string | null;
}

/**
 * Reads the state file; never throws. A missing file is a first start. An
 * unreadable or malformed one is reported (the engine then starts as if
 * fresh and says so): each host entry is checked on its own, so one bad
 * entry costs that host's memory only.
 */
export async function loadState(path: string): Promise<LoadedState> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { state: null, problem: null };
    return { state: null, problem: `cannot read ${path}: ${(e as Error).message}` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { state: null, problem: `${path}: not JSON: ${(e as Error).message}` };
  }
  const o = doc as { version?: unknown; hosts?: unknown };
  if (typeof doc !== "object" || doc === null || o.version !== 1 || typeof o.hosts !== "object" || o.hosts === null) {
    return { state: null, problem: `${path}: not a vmpolicy state file (version 1 with hosts)` };
  }
  const hosts: Record<string, PersistedHost> = {};
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(o.hosts as Record<string, unknown>)) {
    const h = readHost(name, raw);
    if (typeof h === "string") problems.push(`hosts.${name}: ${h}`);
    else hosts[name] = h;
  }
  return { state: { version: 1, hosts }, problem: problems.length > 0 ? `${path}: entries ignored: ${problems.join("; ")}` : null };
}

function readHost(name: string, raw: unknown): PersistedHost | string {
  if (typeof raw !== "object" || raw === null) return "not an object";
  const h = raw as Record<string, unknown>;
  if (h.operator_state !== null && h.operator_state !== "maintenance") return "operator_state must be maintenance or null";
  if (typeof h.down !== "boolean" || typeof h.fenced !== "boolean") return "down and fenced must be true or false";
  if (!Array.isArray(h.restarted_away) || h.restarted_away.some((v) => typeof v !== "string")) return "restarted_away must be a list of VM names";
  let last: HostFact | null = null;
  if (h.last !== null) {
    const v = validateFacts({ hosts: [{ ...(h.last as object), name }] });
    if (!v.ok) return `last: ${v.errors.map((e) => `${e.path.replace(/^hosts\[0\]\.?/, "")}: ${e.message}`).join("; ")}`;
    last = v.facts.hosts[0]!;
  }
  return { operator_state: h.operator_state, down: h.down, fenced: h.fenced, last, restarted_away: h.restarted_away as string[] };
}

/**
 * Writes the state file atomically, one write at a time; a write asked for
 * while one runs is merged into the next. `flush()` resolves once the
 * latest state asked for is on disk (the engine waits for it before it
 * executes a plan, so a fence is never acted on before it is remembered).
 */
export class StateFile {
  private chain: Promise<void> = Promise.resolve();
  private pending: string | null = null;
  private pendingStable: string | null = null;
  private writtenStable: string | null = null;

  constructor(
    readonly path: string,
    private readonly onError: (message: string) => void,
  ) {}

  /**
   * Saves `state` unless it differs from the last saved only in CPU
   * figures (they change every round; what a restart needs is where VMs
   * are, which hosts are down, fenced or in maintenance).
   */
  save(state: PersistedState): Promise<void> {
    const stable = JSON.stringify(state, (k, v: unknown) => (k === "cpu" || k === "cpu_avg" || k === "cpu_changes" ? undefined : v));
    if (stable === (this.pendingStable ?? this.writtenStable)) return this.chain;
    const text = JSON.stringify(state, null, 1) + "\n";
    const first = this.pending === null;
    this.pending = text;
    this.pendingStable = stable;
    if (first) {
      this.chain = this.chain.then(async () => {
        const [next, nextStable] = [this.pending!, this.pendingStable!];
        this.pending = this.pendingStable = null;
        try {
          await writeAtomically(this.path, next);
          this.writtenStable = nextStable;
        } catch (e) {
          this.onError(`cannot write the state file ${this.path}: ${(e as Error).message}`);
        }
      });
    }
    return this.chain;
  }

  flush(): Promise<void> {
    return this.chain;
  }
}

/** What the tracker and the fencer know now, as the file keeps it. */
export function captureState(tracker: HostTracker, fencer: Fencer): PersistedState {
  const hosts: Record<string, PersistedHost> = {};
  for (const r of tracker.all()) {
    hosts[r.cfg.name] = {
      operator_state: r.operatorState,
      down: r.down,
      fenced: r.down && fencer.isFenced(r.cfg.name),
      last: r.last,
      restarted_away: [...r.restartedAway].sort(),
    };
  }
  return { version: 1, hosts };
}

/**
 * Puts a loaded state back: maintenance, down hosts with their last facts
 * and the VMs already restarted away, fences. A host remembered as down
 * and not fenced is fenced again (the command runs, or the alert waits for
 * an operator). Hosts no longer configured are logged and forgotten.
 */
export function restoreState(state: PersistedState, tracker: HostTracker, fencer: Fencer, log: Logger): void {
  for (const [name, h] of Object.entries(state.hosts)) {
    const r = tracker.get(name);
    if (!r) {
      log.warn({ host: name }, `state file: host ${name} is no longer configured; what was kept of it is dropped`);
      continue;
    }
    r.operatorState = h.operator_state;
    r.last = h.last;
    r.down = h.down;
    for (const vm of h.restarted_away) r.restartedAway.add(vm);
    if (h.operator_state) log.warn({ host: name }, `host ${name} stays in ${h.operator_state} (remembered from before the restart)`);
    if (!h.down) continue;
    const vms = (h.last?.vms ?? []).filter((v) => !r.restartedAway.has(v.name)).map((v) => v.name);
    log.warn({ host: name, vms }, `host ${name} is still down (remembered from before the restart), ${h.fenced ? "fenced" : "not fenced"}, with ${vms.length} VM(s) to recover: ${vms.join(", ") || "none"}`);
    if (h.fenced) fencer.restore(name);
    else if (vms.length > 0) fencer.hostDown(name);
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const handle = await open(tmp, "w");
  try {
    await handle.writeFile(text, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  try {
    const dir = await open(dirname(path), "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Some filesystems refuse fsync on a folder; the rename itself is atomic.
  }
}
