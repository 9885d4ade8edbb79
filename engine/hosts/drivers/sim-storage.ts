/**
 * The agents' "shared storage": a folder that every agent of a cluster is
 * given (sim, qemu, xl, virsh), holding one JSON record per VM
 * (`<vm>.json`). The record is the authority on where a VM lives (SPEC 6):
 * it names the VM's host and a generation that grows by one with every
 * change of hands. `POST /restarts` on another agent reads it to start a
 * lost host's VM there; an agent never starts a VM whose record names
 * another host.
 *
 * Every write is a claim: under the VM's lock file (created exclusively, so
 * one agent at a time, held for the few milliseconds of a read and a write)
 * the current record is read, the claimer may refuse it, and the new record
 * is written atomically (temporary file, then rename) with the generation
 * one higher. Of two agents racing for a VM, the second sees the first's
 * record and, if it only takes a VM from a given host, loses.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DriverError, type VmDefinition } from "./contract.js";

/** VM names become file names: only these characters, so no name can escape the folder. */
export const VM_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** A VM's record: its definition, `host` where it lives, and how many times it changed hands (records older than generations read as 0). */
export interface VmRecord extends VmDefinition {
  readonly generation: number;
}

/** Why a claim of a VM's record must not go ahead (shown the current record, or undefined when there is none), or null. */
export type Refusal = (current: VmRecord | undefined) => string | null;

/** Starting a VM of `host`'s initial list: only when its record is absent or names `host` already. */
export function listedHere(host: string, vm: string): Refusal {
  return (current) => (current === undefined || current.host === host ? null : `not starting ${vm}: shared storage names ${current.host} as its host (generation ${current.generation})`);
}

/** Restarting a VM lost with `from`: only when its record still names `from`. */
export function lostWith(from: string, vm: string): Refusal {
  return (current) => (current?.host === from ? null : `VM ${vm} last ran on ${current?.host}, not ${from}: refusing to start a second copy`);
}

/** A VM that runs on `host` now, having come from one of `from`: the record may name none, `host`, or one of `from`, never a third host. */
export function arrivedFrom(host: string, vm: string, from: readonly string[]): Refusal {
  return (current) =>
    current === undefined || current.host === host || from.includes(current.host) ? null : `shared storage names ${current.host} as the host of ${vm} (generation ${current.generation})`;
}

/** A lock older than this was left by an agent that died inside a claim (a claim takes milliseconds). */
const STALE_LOCK_MS = 10_000;
/** How long a claim waits for another agent's lock before giving up with a 409. */
const LOCK_WAIT_MS = 1_000;

/** Sleeps the thread (claims are synchronous and short; the wait only happens while another agent holds the lock). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export class SimStorage {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private file(vm: string): string {
    if (!VM_NAME_PATTERN.test(vm)) throw new DriverError(400, `bad VM name ${JSON.stringify(vm)}: letters, digits, "_", "-", "." only`);
    return join(this.dir, `${vm}.json`);
  }

  /** Records `def` as living on `def.host`, whoever held it before (a driver reporting what it runs). */
  write(def: VmDefinition): VmRecord {
    return this.claim(def, () => null);
  }

  /**
   * Takes the record of `def.name` for `def.host` unless `refuse` (shown
   * the current record, or undefined when there is none) says why not: that
   * reason becomes a 409. Returns the record written (generation + 1).
   */
  claim(def: VmDefinition, refuse: Refusal): VmRecord {
    const path = this.file(def.name);
    const lock = `${path}.lock`;
    this.lock(lock, def);
    try {
      const current = this.read(def.name);
      const why = refuse(current);
      if (why !== null) throw new DriverError(409, why);
      const record: VmRecord = { ...def, generation: (current?.generation ?? 0) + 1 };
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(record, null, 2) + "\n");
      renameSync(tmp, path);
      return record;
    } finally {
      rmSync(lock, { force: true });
    }
  }

  /**
   * Claims the record (as `claim`), then runs `start`; if that fails, hands
   * the record back to the host it named before (unless another agent took
   * it meanwhile). Claiming before starting means that of two agents
   * racing, the loser never starts anything.
   */
  async claimThen<T>(def: VmDefinition, refuse: Refusal, start: () => Promise<T>): Promise<T> {
    const before = this.read(def.name);
    const mine = this.claim(def, refuse);
    try {
      return await start();
    } catch (e) {
      if (before) {
        try {
          this.claim(before, (current) => (current?.generation === mine.generation ? null : "taken meanwhile"));
        } catch {
          // Another agent took the record meanwhile: it is theirs.
        }
      }
      throw e;
    }
  }

  /**
   * Claims the record of a VM that runs on `def.host` now (adopted, arrived
   * by migration, resumed): allowed when there is none, when it names that
   * host already, or one of `from` (the host it came from). Returns why
   * not, or null.
   */
  take(def: VmDefinition, from: readonly string[]): string | null {
    try {
      this.claim(def, arrivedFrom(def.host, def.name, from));
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }

  private lock(lock: string, def: VmDefinition): void {
    const end = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        writeFileSync(lock, `${def.host} ${process.pid}\n`, { flag: "wx" });
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new DriverError(409, `cannot lock ${lock}: ${(e as Error).message}`);
      }
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if (age > STALE_LOCK_MS) rmSync(lock, { force: true });
      else if (Date.now() > end) throw new DriverError(409, `the record of ${def.name} is locked by another agent (${lock}); try again`);
      else sleepSync(10);
    }
  }

  /** The stored record, or undefined when there is none; a damaged file is a 409 naming it. */
  read(vm: string): VmRecord | undefined {
    const path = this.file(vm);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new DriverError(409, `cannot read ${path}: ${(e as Error).message}`);
    }
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new DriverError(409, `${path} is not valid JSON`);
    }
    const problem = checkDefinition(o);
    if (problem) throw new DriverError(409, `${path}: ${problem}`);
    return { ...(o as unknown as VmDefinition), generation: (o.generation as number | undefined) ?? 0 };
  }
}

/** Why `o` is not a usable VM record, or null (`/incoming` bodies are checked by their schema instead). */
function checkDefinition(o: unknown): string | null {
  if (typeof o !== "object" || o === null || Array.isArray(o)) return "must be an object";
  const d = o as Record<string, unknown>;
  if (typeof d.name !== "string" || !VM_NAME_PATTERN.test(d.name)) return "name must be a VM name";
  if (typeof d.mem !== "number" || !Number.isFinite(d.mem) || d.mem < 0) return "mem must be a number ≥ 0";
  if (typeof d.vcpus !== "number" || !Number.isInteger(d.vcpus) || d.vcpus < 1) return "vcpus must be an integer ≥ 1";
  if (typeof d.labels !== "object" || d.labels === null || Object.values(d.labels).some((v) => typeof v !== "string")) return "labels must map names to strings";
  if (typeof d.pinned !== "boolean") return "pinned must be true or false";
  if (typeof d.host !== "string") return "host must be a string";
  if (d.generation !== undefined && !(typeof d.generation === "number" && Number.isSafeInteger(d.generation) && d.generation >= 0)) return "generation must be an integer ≥ 0";
  return null;
}
