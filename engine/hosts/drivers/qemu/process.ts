/**
 * One QEMU guest process of the qemu driver: how it is started (with a QMP
 * socket, optionally waiting for an incoming migration) or found again
 * after the agent restarted, how its CPU use is measured (from /proc, as
 * `top` does: percent of one CPU since the last sample), and how it is
 * stopped or let go. Guests run in their own session with stderr to a file
 * (`run-dir.ts`), so they outlive the agent (SPEC 6). Kept apart from
 * the driver so the driver reads as the migration protocol only.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { VmDefinition } from "../contract.js";
import { type GuestPaths, guestPaths, removeGuestFiles, runningGuestPid, writeGuestFile } from "./run-dir.js";
import { processCpuNs } from "../proc-host.js";
import { QmpClient } from "./qmp.js";

/** How often an adopted guest (not this process's child) is checked for having ended, once its QMP socket closed. */
const GONE_POLL_MS = 100;

/**
 * The guests' whole software: a boot sector on a small disk image.
 * `busy` spins, counting in the 32-bit word at physical address 0x7e00
 * (`xor ax,ax; mov ds,ax; l: inc dword [0x7e00]; jmp l`): one vCPU flat out,
 * and a counter that shows a guest's memory moved with it. `idle` halts
 * until the next interrupt (`sti; hlt; jmp` back). Real CPU demand, no OS.
 */
export const BUSY_COUNTER_ADDRESS = 0x7e00;

/** Writes the boot images (unless already there: running guests of an earlier run boot from them). */
export function writeBootImages(runDir: string): { busy: string; idle: string } {
  const image = (code: number[]) => {
    const b = Buffer.alloc(1024 * 1024);
    Buffer.from(code).copy(b, 0);
    b[510] = 0x55;
    b[511] = 0xaa;
    return b;
  };
  const busy = join(runDir, "busy.img");
  const idle = join(runDir, "idle.img");
  for (const [path, code] of [[busy, [0x31, 0xc0, 0x8e, 0xd8, 0x66, 0xff, 0x06, 0x00, 0x7e, 0xeb, 0xf9]], [idle, [0xfb, 0xf4, 0xeb, 0xfd]]] as const) {
    const want = image([...code]);
    if (!existsSync(path) || !readFileSync(path).equals(want)) writeFileSync(path, want);
  }
  return { busy, idle };
}

export interface QemuLaunch {
  readonly binary: string;
  readonly runDir: string;
  /** `-accel` values in order of preference (default kvm, then tcg). */
  readonly accel: readonly string[];
  /** Start paused, waiting for `migrate-incoming` of a guest from this host. (`runDir` holds the boot images of `writeBootImages`.) */
  readonly incomingFrom?: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A running guest and its QMP connection. */
export class QemuVm {
  /** Set once the process has ended, with why. */
  exited: string | null = null;
  /** Let go by `release`: its end is no longer this agent's business. */
  private released = false;
  private readonly ended: Promise<void>;
  private markEnded!: () => void;

  private constructor(
    readonly def: VmDefinition,
    readonly pid: number,
    readonly qmp: QmpClient,
    private readonly paths: GuestPaths,
    private readonly runDir: string,
  ) {
    this.ended = new Promise((r) => (this.markEnded = r));
  }

  /** Starts QEMU for `def` and connects to its QMP socket; rejects with QEMU's own message if it fails to start. */
  static async start(def: VmDefinition, launch: QemuLaunch, onExit: (vm: QemuVm) => void): Promise<QemuVm> {
    const paths = guestPaths(launch.runDir, def.name);
    // One that was not adopted (it did not answer as itself) keeps its files: never a second copy beside it.
    const running = runningGuestPid(launch.runDir, def.name);
    if (running !== undefined) throw new Error(`a QEMU for ${def.name} already runs (pid ${running}, ${paths.pid}) without being this agent's; not starting a second one`);
    rmSync(paths.qmp, { force: true });
    const args = [
      "-name", `guest=${def.name}`,
      "-m", `${Math.max(16, Math.round(def.mem))}M`,
      "-smp", String(def.vcpus),
      "-nodefaults", "-display", "none",
      ...launch.accel.flatMap((a) => ["-accel", a]),
      // An IDE disk boots in about a second (a floppy can take many under load); snapshot=on keeps the image unwritten.
      "-drive", `file=${join(launch.runDir, def.extra?.busy === true ? "busy.img" : "idle.img")},format=raw,if=ide,snapshot=on`,
      "-qmp", `unix:${paths.qmp},server=on,wait=off`,
      "-pidfile", paths.pid,
      ...(launch.incomingFrom !== undefined ? ["-incoming", "defer"] : []),
    ];
    writeGuestFile(launch.runDir, { def, ...(launch.incomingFrom !== undefined ? { incomingFrom: launch.incomingFrom } : {}) });
    const log = openSync(paths.log, "w");
    // Its own session: a signal to the agent's process group (Ctrl-C) does not reach the guest.
    const child = spawn(launch.binary, args, { stdio: ["ignore", "ignore", log], detached: true });
    closeSync(log);
    const early = new Promise<never>((_, rej) => {
      child.once("error", (e) => rej(new Error(`cannot run ${launch.binary}: ${e.message}`)));
      child.once("exit", (code) => rej(new Error(`QEMU for ${def.name} exited (${code}) at start: ${lastLine(paths.log)}`)));
    });
    let qmp: QmpClient;
    try {
      qmp = await Promise.race([QmpClient.connect(paths.qmp, 10_000), early]);
    } catch (e) {
      child.kill("SIGKILL");
      removeGuestFiles(launch.runDir, def.name);
      throw e;
    }
    const vm = new QemuVm(def, child.pid!, qmp, paths, launch.runDir);
    child.removeAllListeners("exit");
    child.once("exit", (code, signal) => vm.gone(`QEMU exited (${signal ?? code})`, onExit));
    // The guest outlives the agent: its child handle must not keep the agent's process alive.
    child.unref();
    return vm;
  }

  /**
   * Connects to the guest an earlier run of the agent left behind (the
   * caller checked that `pid` is its QEMU) and checks over QMP that it is
   * `def.name`; rejects otherwise, leaving the process alone.
   */
  static async attach(def: VmDefinition, pid: number, runDir: string, onExit: (vm: QemuVm) => void): Promise<QemuVm> {
    const paths = guestPaths(runDir, def.name);
    const qmp = await QmpClient.connect(paths.qmp, 3000);
    try {
      const { name } = await qmp.execute<{ name?: string }>("query-name");
      if (name !== def.name) throw new Error(`QEMU pid ${pid} at ${paths.qmp} calls itself ${JSON.stringify(name)}, not ${def.name}`);
    } catch (e) {
      qmp.close();
      throw e;
    }
    const vm = new QemuVm(def, pid, qmp, paths, runDir);
    // Not our child: it has ended when its QMP socket closed and its pid is gone.
    void qmp.closed.then(async () => {
      while (!vm.released && alive(pid)) await new Promise((r) => setTimeout(r, GONE_POLL_MS));
      vm.gone("QEMU exited", onExit);
    });
    return vm;
  }

  private gone(how: string, onExit: (vm: QemuVm) => void): void {
    if (this.exited) return;
    this.exited = `${how}: ${lastLine(this.paths.log) || "no message"}`;
    this.qmp.close();
    this.markEnded();
    if (this.released) return;
    removeGuestFiles(this.runDir, this.def.name);
    onExit(this);
  }

  /** Records in the run dir that the guest is no longer an incoming migration but runs here. */
  settle(): void {
    writeGuestFile(this.runDir, { def: this.def });
  }

  /** CPU time the QEMU process has used (all its threads), in ns; undefined once it is gone. */
  cpuNs(): bigint | undefined {
    return processCpuNs(this.pid);
  }

  /** Ends the process: QMP `quit`, then SIGKILL if it lingers; resolves once it is gone. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.qmp.execute("quit").catch(() => {});
    const timer = setTimeout(() => {
      try {
        process.kill(this.pid, "SIGKILL");
      } catch {
        // gone already
      }
    }, 3000);
    await this.ended;
    clearTimeout(timer);
  }

  /** Lets the guest run on without this agent: closes the QMP connection (so a later agent can connect), keeps the run-dir files. */
  release(): void {
    if (this.exited) return;
    this.released = true;
    this.qmp.close();
  }
}

/** The last meaningful line of a guest's log. */
function lastLine(log: string): string {
  let text = "";
  try {
    text = readFileSync(log, "utf8").slice(-2000);
  } catch {
    return "";
  }
  return text.trim().split("\n").filter((l) => !/warning: host doesn't support requested feature/.test(l)).pop() ?? "";
}
