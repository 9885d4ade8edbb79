/**
 * One agent per run dir. Two qemu agents given the same `--run-dir` would
 * both adopt its guests (two masters for one QEMU, each reporting it, each
 * free to migrate or quit it). So an agent takes `RUNDIR/agent.lock` before
 * it touches the folder: the lock names its pid, host and the process's
 * start (boot id and start time from /proc, so a pid reused by another
 * process after a crash or a reboot does not count as the holder). A lock
 * whose holder is gone (`kill -9`, a crash, a reboot) is taken over; a live
 * one is an error naming the folder and the pid.
 */
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The run dir is held by a live agent. */
export class RunDirInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunDirInUseError";
  }
}

interface Holder {
  readonly pid: number;
  readonly host?: string;
  /** `BOOT_ID:STARTTIME` of the process, or null where /proc does not tell. */
  readonly started?: string | null;
}

/** `BOOT_ID:STARTTIME` of process `pid` from /proc, or undefined when there is no such process (or no /proc). */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces and parentheses): state is field 3, starttime field 22.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return `${readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()}:${fields[19]}`;
  } catch {
    return undefined;
  }
}

const HAVE_PROC = processStart(process.pid) !== undefined;

/** Whether the process that wrote `holder` still runs. */
function holderAlive(holder: Holder): boolean {
  if (HAVE_PROC) {
    const now = processStart(holder.pid);
    return now !== undefined && (holder.started == null || now === holder.started);
  }
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function parseHolder(text: string): Holder | null {
  try {
    const o = JSON.parse(text) as Holder;
    return Number.isSafeInteger(o.pid) && o.pid > 0 ? o : null;
  } catch {
    return null;
  }
}

/** What taking the lock found: the release function, and the dead agent's lock it replaced, if any. */
export interface RunDirLock {
  readonly path: string;
  /** Removes the lock if it is still this process's. */
  release(): void;
  /** Set when a lock left by a dead agent was taken over. */
  readonly tookOverFrom?: { readonly pid: number; readonly host?: string };
}

/**
 * Takes `RUNDIR/agent.lock` for `host` (this process). Throws
 * `RunDirInUseError` when a live agent holds it.
 */
export function lockRunDir(runDir: string, host: string): RunDirLock {
  const path = join(runDir, "agent.lock");
  const mine = JSON.stringify({ pid: process.pid, host, started: processStart(process.pid) ?? null }) + "\n";
  let tookOverFrom: RunDirLock["tookOverFrom"];
  for (let attempt = 0; attempt < 10; attempt++) {
    // Written whole to a file of our own, then linked into place: a reader never sees an empty lock, and link fails if one exists.
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, mine);
    try {
      linkSync(tmp, path);
      return { path, release: () => release(path, mine), ...(tookOverFrom ? { tookOverFrom } : {}) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new Error(`cannot lock the run dir ${runDir} (${path}): ${(e as Error).message}`);
    } finally {
      rmSync(tmp, { force: true });
    }
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      continue; // released meanwhile
    }
    const holder = parseHolder(text);
    if (holder !== null && holderAlive(holder)) {
      throw new RunDirInUseError(
        `the run dir ${runDir} is in use by another agent (pid ${holder.pid}${holder.host ? `, host ${holder.host}` : ""}; ${path}): ` +
          "two agents on one run dir would both adopt its guests; stop that agent or give this one another --run-dir",
      );
    }
    // Left by an agent that is gone. Moved aside atomically: of two agents doing this, one finds it gone.
    const aside = `${path}.${process.pid}.stale`;
    try {
      renameSync(path, aside);
    } catch {
      continue;
    }
    // Between the read and the rename another agent may have taken over and locked: then that lock goes back.
    if (readFileSync(aside, "utf8") !== text) {
      try {
        linkSync(aside, path);
      } catch {
        // A third agent locked meanwhile: its lock stands.
      }
    } else if (holder !== null) tookOverFrom = { pid: holder.pid, ...(holder.host ? { host: holder.host } : {}) };
    rmSync(aside, { force: true });
  }
  throw new Error(`cannot lock the run dir ${runDir}: ${path} keeps changing hands`);
}

function release(path: string, mine: string): void {
  try {
    if (readFileSync(path, "utf8") === mine) rmSync(path, { force: true });
  } catch {
    // Gone already.
  }
}
