/**
 * The migrations and restarts a driver has issued, by id, for `GET
 * /migrations/ID` and `GET /restarts/ID`. Shared by the sim, qemu and
 * toolstack (xl, virsh) drivers; each keeps its own extra fields on the entry.
 * The log is bounded: past `limit` entries the oldest finished one is
 * forgotten (a running one never is).
 */
import type { OperationStatus } from "./contract.js";

/** What every driver records of an operation. */
export interface OperationEntry {
  readonly kind: "migration" | "restart";
  readonly vm: string;
  status: OperationStatus;
}

export const MAX_OPERATIONS = 1000;

export class OperationLog<T extends OperationEntry> {
  private readonly ops = new Map<string, T>();

  constructor(private readonly limit = MAX_OPERATIONS) {}

  /** Records `op` under `id`, forgetting the oldest finished entry when over the limit. */
  add(id: string, op: T): void {
    this.ops.set(id, op);
    if (this.ops.size <= this.limit) return;
    for (const [old, o] of this.ops) {
      if (o.status.state !== "running") {
        this.ops.delete(old);
        return;
      }
    }
  }

  get(id: string): T | undefined {
    return this.ops.get(id);
  }

  /** The status of operation `id` if it is of `kind`; undefined for an unknown (or forgotten) id. */
  status(kind: OperationEntry["kind"], id: string): OperationStatus | undefined {
    const op = this.ops.get(id);
    return op?.kind === kind ? op.status : undefined;
  }

  /** Entries still running, with their ids. */
  running(): [string, T][] {
    return [...this.ops].filter(([, o]) => o.status.state === "running");
  }
}
