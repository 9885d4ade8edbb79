/**
 * The default policy set (cslb.policy + evacuate.policy) written by hand in
 * TypeScript over the same planner core, as a yardstick for the language:
 * `plan_10k` reports how much slower planning through compiled policies is
 * than this. It must produce exactly the plan the policies produce; the
 * benchmark asserts so. It is what a programmer would write without the
 * language: one pass for the mean and the groups, the light hosts sorted
 * once, and a cursor over them instead of a scan per heavy host.
 */
import { createRound } from "../engine/plan/round.js";
import type { HostView, VmView } from "../grammar/view.js";
import type { Facts, Plan, PlanSettings } from "../engine/types.js";

const BAND = 10;

/** Plans one round of CSLB + evacuate over `facts`. */
export function cslbBaseline(facts: Facts, settings: PlanSettings): Plan {
  const round = createRound(facts, settings, []);
  const hosts = round.hosts;

  // Load evaluation and groups, at the start of the round.
  let sum = 0;
  let up = 0;
  for (const h of hosts) {
    if (h.state === "up") {
      sum += h.load;
      up++;
    }
  }
  const mean = up === 0 ? null : sum / up;
  const lower = mean === null ? null : mean - BAND;
  const upper = mean === null ? null : mean + BAND;
  const mid = lower === null || upper === null ? null : (lower + upper) / 2;
  const groupOf: Record<string, string> = {};
  const heavy: HostView[] = [];
  const light: HostView[] = [];
  for (const h of hosts) {
    let g: string;
    if (h.state !== "up") g = "offline";
    else if (upper !== null && h.load > upper) g = "heavy";
    else if (lower !== null && h.load < lower) g = "light";
    else g = "moderate";
    groupOf[h.name] = g;
    if (g === "heavy") heavy.push(h);
    else if (g === "light") light.push(h);
  }

  // evacuate.recover (110), evacuate.drain (100).
  for (const h of hosts) if (h.state === "down" && h.vm_count > 0) round.recover(h, { rule: "evacuate.recover" });
  for (const h of hosts) {
    if ((h.state === "degraded" || h.state === "maintenance") && h.vm_count > 0) round.evacuate(h, { rule: "evacuate.drain" });
  }

  // cslb.balance: heavy hosts by load desc; the lightest free light host for each.
  const byName = (a: HostView, b: HostView) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  heavy.sort((a, b) => b.load - a.load || byName(a, b));
  light.sort((a, b) => a.load - b.load || byName(a, b));
  const origin = { rule: "cslb.balance" };
  let cursor = 0;
  for (const src of heavy) {
    // Light hosts only change load when they take part in a move, which makes them busy.
    while (cursor < light.length && light[cursor]!.busy) cursor++;
    if (cursor === light.length) continue;
    const dst = light[cursor]!;
    const want = (mid! - dst.load) * dst.cpus;
    let vm: VmView | null = null;
    for (const v of src.vms) {
      if (v.cpu > want || !round.canMove(v, dst)) continue;
      if (vm === null || v.cpu > vm.cpu || (v.cpu === vm.cpu && v.name < vm.name)) vm = v;
    }
    if (vm === null) {
      for (const v of src.vms) {
        if (!round.canMove(v, dst)) continue;
        if (vm === null || v.cpu < vm.cpu || (v.cpu === vm.cpu && v.name < vm.name)) vm = v;
      }
    }
    if (vm === null) round.skip({ kind: "migrate", to: dst.name, rule: origin.rule, reason: "vm is none" + (round.full ? ` (the round is full: max_per_round is ${settings.max_per_round})` : "") });
    else round.migrate(vm, dst, origin);
  }

  return {
    ...round.result(),
    groups: { cslb: groupOf, evacuate: {} },
    values: { cslb: { band: BAND, mean, lower, upper, mid }, evacuate: {} },
  };
}
