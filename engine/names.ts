/**
 * The one order of names everything sorts by: the planner (SPEC 2.3), the
 * drivers' facts and the engine's gathered snapshot. Shared, so drivers need
 * nothing from the planner.
 */

/** Code-unit order, the "by name" order of SPEC 2.3 (locale-independent, so plans are byte-identical everywhere). */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
