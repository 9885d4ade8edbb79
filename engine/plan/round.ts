/**
 * The planner core of one round (`RoundState` of `grammar/view.ts`): it holds
 * the projected cluster, decides every refusal of SPEC 2.6 and 2.7 through
 * `refusals.ts`, places evacuated and recovered VMs through `placement.ts`,
 * and records actions, skips and errors in the order they happen. It knows
 * nothing of the policy language.
 */
import { Cluster, compareNames, type HostNode, type VmNode } from "./cluster.js";
import { chooseDestination } from "./placement.js";
import {
  hostLimitRefusal,
  migrateRefusal,
  reasons,
  roundRefusal,
  vmRefusal,
  type Limits,
  type Refusal,
} from "./refusals.js";
import type { ActionOrigin, HostView, PlacementConstraint, RoundState, VmView } from "../../grammar/view.js";
import type { Explanation, Facts, Plan, PlanError, PlannedAction, PlanSettings, SkippedAction } from "../types.js";

/** At most this many constraint refusals are listed per placed VM; the rest are summed up in one more skip. */
export const MAX_LISTED_CONSTRAINT_REFUSALS = 3;

/**
 * Builds the projected cluster of `facts` and the operations that plan on
 * it. `facts` must have passed `validateFacts`; it is never mutated.
 */
export function createRound(
  facts: Facts,
  settings: PlanSettings,
  constraints: readonly PlacementConstraint[],
): RoundState {
  return new Round(facts, settings, constraints);
}

type MoveKind = "migrate" | "restart";
type LazyExplain = () => Explanation | undefined;
const NO_EXPLAIN: LazyExplain = () => undefined;

class Round implements RoundState {
  private readonly cluster: Cluster;
  private readonly limits: Limits;
  private readonly actions: PlannedAction[] = [];
  private readonly skipped: SkippedAction[] = [];
  private readonly errors: PlanError[] = [];
  /** Migrations and restarts planned (alerts do not count toward `max_per_round`). */
  private moves = 0;
  /** Down hosts already alerted about this round, so a second `recover` does not repeat the alert. */
  private readonly fencingAlerted = new Set<string>();

  constructor(
    facts: Facts,
    private readonly settings: PlanSettings,
    private readonly constraints: readonly PlacementConstraint[],
  ) {
    this.cluster = new Cluster(facts);
    this.limits = { cooldown: settings.cooldown, max_per_host: settings.max_per_host, max_per_round: settings.max_per_round };
  }

  get hosts(): readonly HostView[] {
    return this.cluster.hosts;
  }

  get vms(): readonly VmView[] {
    return this.cluster.vms;
  }

  hostByName(name: string): HostView | undefined {
    return this.cluster.hostByName(name);
  }

  vmByName(name: string): VmView | undefined {
    return this.cluster.vmByName(name);
  }

  get full(): boolean {
    return this.moves >= this.limits.max_per_round;
  }

  refusal(vm: VmView, host: HostView): string | null {
    const r = migrateRefusal(vm as VmNode, host as HostNode, this.moves, this.limits, this.constraints);
    return r === null ? null : r.reason;
  }

  canMove(vm: VmView, host: HostView): boolean {
    return migrateRefusal(vm as VmNode, host as HostNode, this.moves, this.limits, this.constraints) === null;
  }

  migrate(vmView: VmView, toView: HostView, origin: ActionOrigin): boolean {
    const vm = vmView as VmNode;
    const to = toView as HostNode;
    const r = migrateRefusal(vm, to, this.moves, this.limits, this.constraints);
    const explain = this.explainer(origin);
    if (r !== null) {
      this.refuse("migrate", vm, vm.host, to, origin, r, explain);
      return false;
    }
    this.plan("migrate", vm, to, origin, explain);
    return true;
  }

  evacuate(hostView: HostView, origin: ActionOrigin): void {
    const source = hostView as HostNode;
    const explain = this.explainer(origin);
    if (source.state === "down") {
      this.push({ kind: "evacuate", host: source.name, rule: origin.rule, reason: reasons.evacuateDown(source) }, explain);
      return;
    }
    for (const vm of byMemDesc(source.vms)) {
      const r = vmRefusal(vm, this.limits) ?? hostLimitRefusal("source", source, this.limits) ?? roundRefusal(this.moves, this.limits);
      if (r !== null) {
        this.refuse("migrate", vm, source, null, origin, r, explain);
        continue;
      }
      this.place("migrate", vm, source, origin, explain);
    }
  }

  recover(hostView: HostView, origin: ActionOrigin): void {
    const source = hostView as HostNode;
    const explain = this.explainer(origin);
    if (source.state !== "down") {
      this.push({ kind: "recover", host: source.name, rule: origin.rule, reason: reasons.recoverNotDown(source) }, explain);
      return;
    }
    const waiting = source.vms.filter((vm) => vm.planned === null);
    if (this.settings.requireFencing && !this.settings.fenced.has(source.name)) {
      if (waiting.length > 0 && !this.fencingAlerted.has(source.name)) {
        this.fencingAlerted.add(source.name);
        this.pushAction({ kind: "alert", message: reasons.waitsForFencing(source, waiting.length), rule: origin.rule }, explain);
      }
      return;
    }
    for (const vm of byMemDesc(source.vms)) {
      const r = this.restartRefusal(vm, source);
      if (r !== null) {
        this.refuse("restart", vm, source, null, origin, r, explain);
        continue;
      }
      this.place("restart", vm, source, origin, explain);
    }
  }

  alert(message: string, origin: ActionOrigin): void {
    this.pushAction({ kind: "alert", message, rule: origin.rule }, this.explainer(origin));
  }

  skip(skipped: SkippedAction): void {
    this.skipped.push(skipped);
  }

  error(error: PlanError): void {
    this.errors.push(error);
  }

  result(): Pick<Plan, "actions" | "skipped" | "errors"> {
    return { actions: this.actions.slice(), skipped: this.skipped.slice(), errors: this.errors.slice() };
  }

  // ---------------------------------------------------------------- internals

  /**
   * A restart of a lost VM ignores pinned (a pinned VM must not be moved by
   * balancing, but a lost one still has to run somewhere), cooldown, the
   * source's `max_per_host`, and an in-flight migration off the lost host.
   * It refuses a VM that already has an action, one that was migrating onto
   * the lost host from a live one (it may still run there), and a full round.
   */
  private restartRefusal(vm: VmNode, source: HostNode): Refusal | null {
    if (vm.planned !== null) return { reason: reasons.alreadyPlanned(vm.planned) };
    if (vm.migrating && vm.inFlight !== null && vm.inFlight.from !== source.name) {
      const from = this.cluster.hostByName(vm.inFlight.from);
      if (from !== undefined && from.state !== "down") return { reason: reasons.migratingToLostHost(vm) };
    }
    return roundRefusal(this.moves, this.limits);
  }

  /** Places one VM of an evacuation or recovery and lists what refused it on the way. */
  private place(kind: MoveKind, vm: VmNode, source: HostNode, origin: ActionOrigin, explain: LazyExplain): void {
    const choice = chooseDestination(vm, source, this.cluster.hosts, this.limits, this.constraints);
    const listed = choice.refused.slice(0, MAX_LISTED_CONSTRAINT_REFUSALS);
    for (const r of listed) {
      this.refuse(kind, vm, source, r.host, origin, { reason: r.reason, constraint: r.constraint }, explain);
    }
    const more = choice.refused.length - listed.length;
    if (more > 0) {
      const which = choice.host === null ? "" : " with lower load";
      const text = `${more} more destination${more === 1 ? "" : "s"}${which} refused by constraints`;
      this.refuse(kind, vm, source, null, origin, { reason: text }, explain);
    }
    if (choice.host === null) {
      this.refuse(kind, vm, source, null, origin, { reason: choice.why }, explain);
      return;
    }
    this.plan(kind, vm, choice.host, origin, explain);
  }

  private plan(kind: MoveKind, vm: VmNode, to: HostNode, origin: ActionOrigin, explain: LazyExplain): void {
    const from = vm.host;
    const e = explain();
    const action: PlannedAction =
      e === undefined
        ? { kind, vm: vm.name, from: from.name, to: to.name, rule: origin.rule }
        : { kind, vm: vm.name, from: from.name, to: to.name, rule: origin.rule, explain: e };
    vm.planned = action;
    from.busy = true;
    to.busy = true;
    // The source of a restart is a lost host: it takes part in nothing.
    if (kind === "migrate") from.moves++;
    to.moves++;
    this.moves++;
    this.cluster.move(vm, to);
    this.actions.push(action);
  }

  private refuse(
    kind: MoveKind,
    vm: VmNode,
    from: HostNode,
    to: HostNode | null,
    origin: ActionOrigin,
    r: Refusal,
    explain: LazyExplain,
  ): void {
    const s: { -readonly [K in keyof SkippedAction]: SkippedAction[K] } = { kind, vm: vm.name, from: from.name, rule: origin.rule, reason: r.reason };
    if (to !== null) s.to = to.name;
    if (r.constraint !== undefined) s.constraint = r.constraint;
    this.push(s, explain);
  }

  private push(s: SkippedAction, explain: LazyExplain): void {
    const e = explain();
    this.skipped.push(e === undefined ? s : { ...s, explain: e });
  }

  private pushAction(a: PlannedAction, explain: LazyExplain): void {
    const e = explain();
    this.actions.push(e === undefined ? a : { ...a, explain: e });
  }

  /**
   * The origin's explanation, fetched at most once per operation and only
   * when an action or skip needs it; never when explaining is off.
   */
  private explainer(origin: ActionOrigin): LazyExplain {
    const thunk = origin.explain;
    if (!this.settings.explain || thunk === undefined) return NO_EXPLAIN;
    let done = false;
    let value: Explanation | undefined;
    return () => {
      if (!done) {
        value = thunk();
        done = true;
      }
      return value;
    };
  }
}

/** Evacuation order: largest `mem` first, ties by name. */
function byMemDesc(vms: readonly VmNode[]): VmNode[] {
  return vms.slice().sort((a, b) => b.mem - a.mem || compareNames(a.name, b.name));
}
