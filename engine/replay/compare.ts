/**
 * Comparing two plans' actions (SPEC 10): what one set planned that the
 * other did not. Shared by `vmpolicy replay` (candidate against baseline on
 * recorded rounds) and the engine's shadow set (shadow against active on
 * the live round), so both call the same rounds "differing".
 *
 * Actions are compared by what they do, not by which rule planned them: a
 * migration or restart by kind, VM, source and destination; an alert by its
 * message. So a candidate that only renames a policy or a rule differs in
 * nothing. Order is ignored (the same moves planned in another order are
 * the same decision); each action counts as often as it appears.
 */
import type { PlannedAction } from "../types.js";

/** The identity of an action for comparison (see the module comment). */
export function actionKey(a: PlannedAction): string {
  return a.kind === "alert" ? `alert\u0000${a.message}` : `${a.kind}\u0000${a.vm}\u0000${a.from}\u0000${a.to}`;
}

/** The actions only in `a` and only in `b` (as multisets), each in its side's order. */
export function diffActions(a: readonly PlannedAction[], b: readonly PlannedAction[]): { onlyA: PlannedAction[]; onlyB: PlannedAction[] } {
  const counts = new Map<string, number>();
  for (const x of b) counts.set(actionKey(x), (counts.get(actionKey(x)) ?? 0) + 1);
  const onlyA: PlannedAction[] = [];
  for (const x of a) {
    const k = actionKey(x);
    const n = counts.get(k) ?? 0;
    if (n > 0) counts.set(k, n - 1);
    else onlyA.push(x);
  }
  // What is left in `counts` is b's unmatched share of each key.
  const onlyB: PlannedAction[] = [];
  for (const x of b) {
    const k = actionKey(x);
    const n = counts.get(k) ?? 0;
    if (n > 0) {
      counts.set(k, n - 1);
      onlyB.push(x);
    }
  }
  return { onlyA, onlyB };
}

/** One action as a short line: `migrate vm1 xen1 → xen2 (cslb.balance)`, `alert "…" (evacuate.recover)`. */
export function describeAction(a: PlannedAction): string {
  return a.kind === "alert" ? `alert ${JSON.stringify(a.message)} (${a.rule})` : `${a.kind} ${a.vm} ${a.from} → ${a.to} (${a.rule})`;
}
