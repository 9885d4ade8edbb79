/**
 * What a qemu agent keeps in its `--run-dir` for each guest, so that guests
 * outlive the agent and a later run of it can find and adopt them:
 * `<vm>.pid` (written by QEMU itself, `-pidfile`), `<vm>.qmp` (its QMP
 * socket), `<vm>.json` (the definition, and while the guest waits for an
 * incoming migration the host it comes from) and `<vm>.log` (QEMU's
 * stderr, so the guest does not die of a closed pipe when the agent does).
 * A guest's files go when it ends under an agent.
 */
import { readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { VmDefinition } from "../contract.js";
import { VM_NAME_PATTERN } from "../sim-storage.js";

export interface GuestPaths {
  readonly qmp: string;
  readonly pid: string;
  readonly state: string;
  readonly log: string;
}

export function guestPaths(runDir: string, vm: string): GuestPaths {
  const base = join(runDir, vm);
  return { qmp: `${base}.qmp`, pid: `${base}.pid`, state: `${base}.json`, log: `${base}.log` };
}

/** The `<vm>.json` of a guest. */
export interface GuestFile {
  readonly def: VmDefinition;
  /** Set while the guest is a prepared incoming migration from that host, not yet adopted. */
  readonly incomingFrom?: string;
}

export function writeGuestFile(runDir: string, file: GuestFile): void {
  const path = guestPaths(runDir, file.def.name).state;
  writeFileSync(`${path}.tmp`, JSON.stringify(file) + "\n");
  renameSync(`${path}.tmp`, path);
}

/** Removes a guest's files (its log stays, for the operator). */
export function removeGuestFiles(runDir: string, vm: string): void {
  const p = guestPaths(runDir, vm);
  for (const f of [p.state, p.pid, p.qmp]) rmSync(f, { force: true });
}

/** A guest an earlier run left in the run dir: its file and pid, or why it cannot be adopted. */
export type LeftGuest =
  | { readonly name: string; readonly file: GuestFile; readonly pid: number }
  | { readonly name: string; readonly problem: string; readonly ended?: boolean };

/** Every guest file in `runDir`, sorted by name. */
export function leftGuests(runDir: string): LeftGuest[] {
  const names = readdirSync(runDir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -".json".length))
    .filter((n) => VM_NAME_PATTERN.test(n))
    .sort();
  return names.map((name): LeftGuest => {
    const p = guestPaths(runDir, name);
    let file: GuestFile;
    try {
      file = JSON.parse(readFileSync(p.state, "utf8")) as GuestFile;
      if (file.def?.name !== name) return { name, problem: `${p.state} describes ${JSON.stringify(file.def?.name)}, not ${name}` };
    } catch (e) {
      return { name, problem: `cannot read ${p.state}: ${(e as Error).message}` };
    }
    let pid: number;
    try {
      pid = Number(readFileSync(p.pid, "utf8").trim());
    } catch {
      return { name, problem: `no pid file ${p.pid} (the guest ended)`, ended: true };
    }
    if (!Number.isSafeInteger(pid) || pid <= 1) return { name, problem: `${p.pid} holds no process id` };
    return { name, file, pid };
  });
}

/** The pid of a QEMU that runs guest `vm` from `runDir` now (adopted or not), or undefined. */
export function runningGuestPid(runDir: string, vm: string): number | undefined {
  const p = guestPaths(runDir, vm);
  let pid: number;
  try {
    pid = Number(readFileSync(p.pid, "utf8").trim());
  } catch {
    return undefined;
  }
  return Number.isSafeInteger(pid) && pid > 1 && runsGuest(pid, vm, p.qmp) ? pid : undefined;
}

/**
 * Whether process `pid` is the QEMU of guest `vm` with QMP socket `qmp`:
 * its command line says `-name guest=VM` and `-qmp unix:QMP,…`. A pid file
 * outlives a reboot and pids are reused, so the pid alone proves nothing.
 */
export function runsGuest(pid: number, vm: string, qmp: string): boolean {
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return false;
  }
  const after = (flag: string) => args[args.indexOf(flag) + 1] ?? "";
  return after("-name") === `guest=${vm}` && after("-qmp").startsWith(`unix:${qmp},`);
}
