/**
 * One QEMU guest process of the qemu driver: how it is started (with a QMP
 * socket, optionally waiting for an incoming migration), how its CPU use is
 * measured (from /proc, as `top` does: percent of one CPU since the last
 * sample), and how it is stopped. Kept apart from the driver so the driver
 * reads as the migration protocol only.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { VmDefinition } from "./driver.js";
import { processCpuNs } from "./proc-host.js";
import { QmpClient } from "./qemu-qmp.js";

/**
 * The guests' whole software: a boot sector on a small disk image.
 * `busy` spins, counting in the 32-bit word at physical address 0x7e00
 * (`xor ax,ax; mov ds,ax; l: inc dword [0x7e00]; jmp l`): one vCPU flat out,
 * and a counter that shows a guest's memory moved with it. `idle` halts
 * until the next interrupt (`sti; hlt; jmp` back). Real CPU demand, no OS.
 */
export const BUSY_COUNTER_ADDRESS = 0x7e00;

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
  writeFileSync(busy, image([0x31, 0xc0, 0x8e, 0xd8, 0x66, 0xff, 0x06, 0x00, 0x7e, 0xeb, 0xf9]));
  writeFileSync(idle, image([0xfb, 0xf4, 0xeb, 0xfd]));
  return { busy, idle };
}

export interface QemuLaunch {
  readonly binary: string;
  readonly runDir: string;
  /** `-accel` values in order of preference (default kvm, then tcg). */
  readonly accel: readonly string[];
  /** Start paused, waiting for `migrate-incoming`. (`runDir` holds the boot images of `writeBootImages`.) */
  readonly incoming?: boolean;
}

/** A running guest and its QMP connection. */
export class QemuVm {
  private stderr = "";
  /** Set once the process has ended, with why. */
  exited: string | null = null;

  private constructor(
    readonly def: VmDefinition,
    readonly child: ChildProcess,
    readonly qmp: QmpClient,
  ) {}

  /** Starts QEMU for `def` and connects to its QMP socket; rejects with QEMU's own message if it fails to start. */
  static async start(def: VmDefinition, launch: QemuLaunch, onExit: (vm: QemuVm) => void): Promise<QemuVm> {
    const socket = join(launch.runDir, `${def.name}.qmp`);
    rmSync(socket, { force: true });
    const args = [
      "-name", `guest=${def.name}`,
      "-m", `${Math.max(16, Math.round(def.mem))}M`,
      "-smp", String(def.vcpus),
      "-nodefaults", "-display", "none",
      ...launch.accel.flatMap((a) => ["-accel", a]),
      // An IDE disk boots in about a second (a floppy can take many under load); snapshot=on keeps the image unwritten.
      "-drive", `file=${join(launch.runDir, def.extra?.busy === true ? "busy.img" : "idle.img")},format=raw,if=ide,snapshot=on`,
      "-qmp", `unix:${socket},server=on,wait=off`,
      ...(launch.incoming ? ["-incoming", "defer"] : []),
    ];
    const child = spawn(launch.binary, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-2000)));
    const early = new Promise<never>((_, rej) => {
      child.once("error", (e) => rej(new Error(`cannot run ${launch.binary}: ${e.message}`)));
      child.once("exit", (code) => rej(new Error(`QEMU for ${def.name} exited (${code}) at start: ${lastLine(stderr)}`)));
    });
    let qmp: QmpClient;
    try {
      qmp = await Promise.race([QmpClient.connect(socket, 10_000), early]);
    } catch (e) {
      child.kill("SIGKILL");
      throw e;
    }
    const vm = new QemuVm(def, child, qmp);
    child.stderr!.on("data", (d: string) => (vm.stderr = (vm.stderr + d).slice(-2000)));
    child.removeAllListeners("exit");
    child.once("exit", (code, signal) => {
      vm.exited = `QEMU exited (${signal ?? code}): ${lastLine(vm.stderr) || "no message"}`;
      qmp.close();
      onExit(vm);
    });
    return vm;
  }

  /** CPU time the QEMU process has used (all its threads), in ns; undefined once it is gone. */
  cpuNs(): bigint | undefined {
    return this.child.pid === undefined ? undefined : processCpuNs(this.child.pid);
  }

  /** Ends the process: QMP `quit`, then SIGKILL if it lingers; resolves once it is gone. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once("exit", () => r()));
    this.qmp.execute("quit").catch(() => {});
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
    await gone;
    clearTimeout(timer);
  }
}

function lastLine(text: string): string {
  return text.trim().split("\n").filter((l) => !/warning: host doesn't support requested feature/.test(l)).pop() ?? "";
}
