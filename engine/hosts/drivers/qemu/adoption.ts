/**
 * How a qemu agent takes back the guests an earlier run of it left running
 * (SPEC 6: guests outlive their agent). For each guest in the run dir it
 * checks that the process lives and is the guest it claims to be (its
 * command line, then QMP `query-name`), then goes by the guest's state:
 * - `postmigrate`: a migration from here completed while no agent watched,
 *   so the guest lives at the destination now; this copy is quit, never
 *   resumed;
 * - waiting for an incoming migration (`inmigrate`): prepared again;
 * - migrating away (`query-migrate` still active): followed to its end;
 * - running or paused: adopted when the shared-storage record is absent,
 *   names this host, or (an incoming migration that completed meanwhile)
 *   names the host it came from; otherwise the record wins and this copy is
 *   quit, so a VM never runs twice.
 */
import type { AgentContext, VmDefinition } from "../contract.js";
import type { QemuVm } from "./process.js";
import { guestPaths, leftGuests, removeGuestFiles, runsGuest } from "./run-dir.js";

/** `query-migrate` states of a migration still under way. */
export const MIGRATION_RUNNING = new Set(["setup", "active", "pre-switchover", "device", "wait-unplug", "cancelling", "postcopy-active", "postcopy-paused", "postcopy-recover"]);

/** What adoption may do to the driver being created. */
export interface Adoption {
  readonly log: AgentContext["log"];
  /** Connects to a left guest's QEMU (pid checked) and verifies its name. */
  attach(def: VmDefinition, pid: number): Promise<QemuVm>;
  /** Claims the record and takes the guest as one of this host's VMs; returns why not, or null. */
  running(vm: QemuVm, from: string | undefined): string | null;
  /** Takes the guest back as a prepared incoming migration from `from`. */
  incoming(vm: QemuVm, from: string): void;
  /** Takes the guest back while QEMU migrates it away. */
  migrating(vm: QemuVm): void;
}

/** Adopts (or stops, or leaves with a log line) every guest in `runDir`. */
export async function adoptLeftGuests(to: Adoption, runDir: string): Promise<void> {
  for (const left of leftGuests(runDir)) {
    const name = left.name;
    if ("problem" in left) {
      to.log("warn", `run dir: guest ${name} not adopted: ${left.problem}`, { vm: name });
      if (left.ended) removeGuestFiles(runDir, name);
      continue;
    }
    const { file, pid } = left;
    if (!runsGuest(pid, name, guestPaths(runDir, name).qmp)) {
      to.log("info", `run dir: guest ${name} of an earlier run has ended (no QEMU pid ${pid} for it)`, { vm: name });
      removeGuestFiles(runDir, name);
      continue;
    }
    let vm: QemuVm;
    let status: string | undefined;
    let migration: string | undefined;
    try {
      vm = await to.attach(file.def, pid);
    } catch (e) {
      to.log("error", `run dir: guest ${name} (QEMU pid ${pid}) runs but is not adopted: ${(e as Error).message}`, { vm: name });
      continue;
    }
    try {
      status = (await vm.qmp.execute<{ status?: string }>("query-status")).status;
      migration = (await vm.qmp.execute<{ status?: string }>("query-migrate")).status;
    } catch (e) {
      to.log("error", `run dir: guest ${name} (QEMU pid ${pid}) does not answer QMP (${(e as Error).message}); left running, not adopted`, { vm: name });
      vm.release();
      continue;
    }
    const which = `${name} (QEMU pid ${pid}, ${status})`;
    if (status === "postmigrate") {
      to.log("warn", `${which} migrated away while no agent watched: stopped, never resumed`, { vm: name });
      await vm.stop();
    } else if (file.incomingFrom !== undefined && status === "inmigrate") {
      to.incoming(vm, file.incomingFrom);
      to.log("info", `adopted ${which}: waits again for its migration from ${file.incomingFrom}`, { vm: name });
    } else if (file.incomingFrom === undefined && MIGRATION_RUNNING.has(migration ?? "")) {
      to.migrating(vm);
      to.log("info", `adopted ${which}: its migration (${migration}) is followed to its end`, { vm: name });
    } else {
      const refused = to.running(vm, file.incomingFrom);
      if (refused === null) {
        to.log("info", `adopted ${which} from an earlier run`, { vm: name });
      } else {
        to.log("error", `${which} stopped: ${refused} (the record is the authority, never two copies)`, { vm: name });
        await vm.stop();
      }
    }
  }
}

/**
 * Follows a migration from here that an earlier run started: QEMU carries
 * on by itself. Resolves `completed` (the destination has the guest and
 * adopts it; this paused copy must be quit, never resumed) or how else it
 * ended (the guest runs on here).
 */
export async function followMigration(vm: QemuVm, log: AgentContext["log"]): Promise<string> {
  const name = vm.def.name;
  try {
    while (!vm.exited) {
      const { status = "none" } = await vm.qmp.execute<{ status?: string }>("query-migrate");
      if (!MIGRATION_RUNNING.has(status)) {
        log(status === "completed" ? "info" : "warn", `${name}: the migration an earlier run started ended ${status}${status === "completed" ? "; the copy here is stopped" : "; it runs on here"}`, { vm: name });
        return status;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return "exited";
  } catch (e) {
    log("warn", `${name}: cannot follow the migration an earlier run started: ${(e as Error).message}`, { vm: name });
    return "unknown";
  }
}
