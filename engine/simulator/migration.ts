/**
 * Live migration in the model (Xen pre-copy, Clark et al. 2005): the VM keeps
 * running on its source while its memory is copied, slowed by dirty-page
 * logging; both Dom0s pay CPU for the copy; at the end the VM pauses for
 * the stop-and-copy downtime and resumes on the destination.
 */
import type { MigrationCost } from "./scenario.js";

/** One migration in flight. */
export interface MigrationState {
  readonly vm: number;
  readonly from: number;
  readonly to: number;
  /** MiB still to send. */
  remaining: number;
  readonly startedAt: number;
}

/** MiB a migration of a `mem` MiB guest sends in all (pre-copy rounds included). */
export function migrationVolume(mem: number, cost: MigrationCost): number {
  return mem * cost.dirtyFactor;
}

/** Seconds a migration takes when it has the link to itself, downtime included. */
export function migrationSeconds(mem: number, cost: MigrationCost): number {
  return migrationVolume(mem, cost) / cost.bandwidth + cost.downtime;
}

/**
 * Advances every migration by `dt` seconds. A host's link is shared by the
 * migrations it takes part in, so two at once each go at half speed.
 * Returns the migrations whose pre-copy finished during this step.
 */
export function advanceMigrations(active: MigrationState[], hostCount: number, dt: number, cost: MigrationCost): MigrationState[] {
  const perHost = new Int32Array(hostCount);
  for (const m of active) {
    perHost[m.from]!++;
    perHost[m.to]!++;
  }
  const done: MigrationState[] = [];
  for (const m of active) {
    const share = Math.max(perHost[m.from]!, perHost[m.to]!);
    m.remaining -= (cost.bandwidth / share) * dt;
    if (m.remaining <= 1e-9) done.push(m);
  }
  return done;
}
