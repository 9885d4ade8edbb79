/**
 * `planRound`: one round of a compiled policy set over one facts snapshot,
 * a pure function (SPEC 2.6, 2.9, 3). The engine loop, `vmpolicy plan` and
 * the simulator all call it. Order of a round:
 *   1. the round (projected cluster) is created with every policy's constraints;
 *   2. per policy, params and top-level lets in declaration order;
 *   3. per policy, hosts classified into groups (fixed for the round);
 *   4. all rules of all policies by priority (higher first), then set order,
 *      then position in the file; each `for each` runs its bindings in `by`
 *      order (ties by name), `when`/`let` in written order, then actions.
 *
 * Room `engine/plan/`: the pure planner (facts validation, projected cluster,
 * refusals, placement, rendering). No I/O, no clock. Imports `grammar/` and
 * the shared `engine/*.ts` only.
 */
import { ensureGroups, EvalError, type CompiledConstraint, type CompiledPolicy, type CompiledPolicySet, type CompiledRule, type EvalEnv, type Value } from "../../grammar/compile-types.js";
import { compareForOrder, describeValue, elementName, isHost, isVm, toJson } from "../../grammar/compile-values.js";
import { createRound } from "./round.js";
import type { ActionOrigin, HostView, PlacementConstraint, RoundState, VmView } from "../../grammar/view.js";
import type { Explanation, Facts, JsonValue, Plan, PlanSettings } from "../types.js";

/** Plans one round. Never throws for a policy's fault: evaluation failures land in `errors`. */
export function planRound(set: CompiledPolicySet, facts: Facts, settings: PlanSettings): Plan {
  const touched: HostView[] = [];
  const envs = set.policies.map((policy) => createEnv(policy, touched));
  const constraints: PlacementConstraint[] = [];
  set.policies.forEach((policy, i) => {
    for (const c of policy.constraints) constraints.push(constraintOf(c, envs[i]!));
  });
  const round = createRound(facts, settings, constraints);
  for (const env of envs) {
    env.round = round;
    env.groupOf = new Int32Array(round.hosts.length).fill(-1);
  }

  set.policies.forEach((policy, i) => startPolicy(policy, envs[i]!, round));

  const rules: CompiledRule[] = [];
  for (const policy of set.policies) rules.push(...policy.rules);
  // Stable sort: equal priorities keep set order, then file order.
  rules.sort((a, b) => b.priority - a.priority || a.policy - b.policy || a.order - b.order);
  for (const rule of rules) runRule(rule, envs[rule.policy]!, round, settings.explain, settings.max_per_round);
  for (const env of envs) env.scripts?.endRound();

  // Keyed by names from the facts and the policies: without a prototype, a
  // host or param called `__proto__` is an entry like any other.
  const record = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;
  const groups = record<Record<string, string>>();
  const values = record<Record<string, JsonValue>>();
  set.policies.forEach((policy, i) => {
    const env = envs[i]!;
    const g = record<string>();
    if (policy.groups.length > 0) {
      for (const host of round.hosts) {
        const index = env.groupOf[host.index]!;
        if (index >= 0) g[host.name] = env.groupNames[index]!;
      }
    }
    groups[policy.name] = g;
    const v = record<JsonValue>();
    for (const entry of policy.values) v[entry.name] = toJson(env.slots[entry.slot] ?? null);
    values[policy.name] = v;
  });
  return { ...round.result(), groups, values };
}

function createEnv(policy: CompiledPolicy, touched: HostView[]): EvalEnv {
  const slots: Value[] = new Array(policy.slotCount).fill(null);
  for (const p of policy.params) slots[p.slot] = p.value;
  return {
    round: null as unknown as RoundState,
    slots,
    letState: new Uint8Array(policy.lets.length),
    groupState: 0,
    classify: (env) => classify(policy, env),
    groupOf: new Int32Array(0),
    groupMembers: policy.groups.map(() => []),
    groupNames: policy.groups.map((g) => g.name),
    scripts: policy.runner,
    touched,
    caches: new Array(policy.siteCount),
    constraintDepth: 0,
    where: policy.name,
  };
}

/** Params are in their slots already; evaluates the lets in order, then the groups. */
function startPolicy(policy: CompiledPolicy, env: EvalEnv, round: RoundState): void {
  env.scripts?.beginRound();
  for (const let_ of policy.lets) {
    if (env.letState[let_.index] === 2) continue;
    env.where = `${policy.name}.${let_.name}`;
    try {
      env.letState[let_.index] = 1;
      env.slots[let_.slot] = let_.value(env);
    } catch (err) {
      // A failed let is none for the rest of the round, reported once.
      round.error({ rule: policy.name, message: `let ${let_.name}: ${messageOf(err)}` });
      env.slots[let_.slot] = null;
    }
    env.letState[let_.index] = 2;
  }
  try {
    ensureGroups(env);
  } catch (err) {
    round.error({ rule: policy.name, message: `groups: ${messageOf(err)}` });
  }
}

/**
 * Classifies every host: in file order, first match wins; a host that
 * matches nothing has no group. A condition that fails is reported once per
 * group and counts as not matching.
 */
function classify(policy: CompiledPolicy, env: EvalEnv): void {
  env.groupState = 1;
  const failed = new Set<number>();
  const hosts = env.round.hosts;
  const groups = policy.groups;
  for (let h = 0; h < hosts.length; h++) {
    const host = hosts[h]!;
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g]!;
      if (group.when !== null) {
        env.slots[group.subjectSlot] = host;
        let hit: Value;
        try {
          hit = group.when(env);
        } catch (err) {
          if (!failed.has(g)) env.round.error({ rule: policy.name, message: `group ${group.name}: ${messageOf(err)}` });
          failed.add(g);
          continue;
        }
        if (hit !== true) continue;
      }
      env.groupOf[host.index] = g;
      env.groupMembers[g]!.push(host);
      break;
    }
  }
  env.groupState = 2;
}

/**
 * A compiled constraint as the round core checks it, in its own policy's
 * environment. A constraint that fails to evaluate (a script that throws)
 * fails the binding that asked, as SPEC 2.8 wants of a failing script: the
 * error goes up through the round core's checks, which change nothing, to
 * the rule, which lists it under `errors` with its own name.
 */
function constraintOf(c: CompiledConstraint, env: EvalEnv): PlacementConstraint {
  return {
    name: c.name,
    allows(vm: VmView, host: HostView): boolean {
      env.slots[c.vmSlot] = vm;
      env.slots[c.hostSlot] = host;
      env.constraintDepth++;
      try {
        if (c.when !== null && c.when(env) !== true) return true;
        return c.require(env) === true;
      } catch (err) {
        throw new EvalError(`constraint ${c.name}: ${messageOf(err)}`);
      } finally {
        env.constraintDepth--;
      }
    },
  };
}

function runRule(rule: CompiledRule, env: EvalEnv, round: RoundState, explain: boolean, maxPerRound: number): void {
  env.where = rule.name;
  const forEach = rule.forEach;
  if (forEach === null) {
    runBody(rule, env, round, explain, maxPerRound, null);
    return;
  }
  const ordered = orderMembers(rule, env, round);
  const slots = env.slots;
  for (let i = 0; i < ordered.length; i++) {
    const element = ordered[i]!;
    slots[forEach.slot] = element;
    if (forEach.where !== null) {
      // Re-checked when its turn comes: earlier bindings may have changed the projected cluster.
      let still: Value;
      try {
        still = forEach.where(env);
      } catch (err) {
        round.error({ rule: rule.name, message: messageOf(err) });
        continue;
      }
      if (still !== true) continue;
    }
    runBody(rule, env, round, explain, maxPerRound, element);
  }
}

/**
 * The members of a `for each`, fixed when the rule starts: those that pass
 * `where` at that moment, sorted by the `by` key as it stands then (none
 * last, ties by name). Keys are not re-evaluated as the rule plans.
 */
function orderMembers(rule: CompiledRule, env: EvalEnv, round: RoundState): Value[] {
  const forEach = rule.forEach!;
  let members: readonly Value[];
  try {
    members = forEach.members(env);
  } catch (err) {
    round.error({ rule: rule.name, message: messageOf(err) });
    return [];
  }
  const chosen: Value[] = [];
  const keys: Value[] = [];
  const slots = env.slots;
  for (let i = 0; i < members.length; i++) {
    const element = members[i]!;
    slots[forEach.slot] = element;
    try {
      if (forEach.where !== null && forEach.where(env) !== true) continue;
      keys.push(forEach.key === null ? null : forEach.key(env));
    } catch (err) {
      round.error({ rule: rule.name, message: `${elementName(element)}: ${messageOf(err)}` });
      continue;
    }
    chosen.push(element);
  }
  if (forEach.key === null) {
    // Without `by`, bindings run by name (hosts and VMs lists are name-sorted already, lists as given are not).
    const index = chosen.map((_, i) => i);
    index.sort((a, b) => compareForOrder(null, elementName(chosen[a]!), null, elementName(chosen[b]!), false));
    return index.map((i) => chosen[i]!);
  }
  const index = chosen.map((_, i) => i);
  index.sort((a, b) => compareForOrder(keys[a]!, elementName(chosen[a]!), keys[b]!, elementName(chosen[b]!), forEach.desc));
  return index.map((i) => chosen[i]!);
}

function runBody(rule: CompiledRule, env: EvalEnv, round: RoundState, explain: boolean, maxPerRound: number, element: Value): void {
  const slots = env.slots;
  try {
    for (const clause of rule.clauses) {
      if (clause.kind === "when") {
        if (clause.condition(env) !== true) return;
      } else {
        slots[clause.slot] = clause.value(env);
      }
    }
    const origin: ActionOrigin = explain ? { rule: rule.name, explain: explainer(rule, env, element) } : ruleOrigin(rule);
    for (const action of rule.actions) {
      switch (action.kind) {
        case "migrate": {
          const vm = asVm(action.vm(env), round);
          const to = asHost(action.to(env), round);
          if (vm === null || to === null) {
            round.skip({
              kind: "migrate",
              ...(vm !== null ? { vm: vm.name, from: vm.host.name } : {}),
              ...(to !== null ? { to: to.name } : {}),
              rule: rule.name,
              reason: (vm === null ? "vm is none" : "destination is none") + fullNote(round, maxPerRound),
              ...explained(origin),
            });
          } else {
            const from = vm.host;
            if (round.migrate(vm, to, origin)) env.touched.push(from, to);
          }
          break;
        }
        case "evacuate":
        case "recover": {
          const host = asHost(action.host(env), round);
          if (host === null) {
            round.skip({ kind: action.kind, rule: rule.name, reason: "host is none", ...explained(origin) });
          } else {
            // The VMs as they were: each one that moved touched its destination.
            const before = host.vms;
            if (action.kind === "evacuate") round.evacuate(host, origin);
            else round.recover(host, origin);
            if (host.vms !== before || host.vm_count !== before.length) {
              env.touched.push(host);
              for (const vm of before) if (vm.host !== host) env.touched.push(vm.host);
            }
          }
          break;
        }
        case "alert": {
          const message = action.message(env);
          if (message === null) {
            round.skip({ kind: "alert", rule: rule.name, reason: "message is none", ...explained(origin) });
          } else round.alert(describeValue(message), origin);
          break;
        }
      }
    }
  } catch (err) {
    round.error({ rule: rule.name, message: messageOf(err) });
  }
}

/** The `explain` field of a skip the planner lists itself: present only when explaining. */
function explained(origin: ActionOrigin): { explain?: Explanation } {
  return origin.explain ? { explain: origin.explain() } : {};
}

/**
 * Past `max_per_round`, `can_move` is false everywhere, so a pick that asks
 * it finds none: say so, or the skip reads as if nothing qualified.
 */
function fullNote(round: RoundState, maxPerRound: number): string {
  return round.full ? ` (the round is full: max_per_round is ${maxPerRound})` : "";
}

const origins = new WeakMap<CompiledRule, ActionOrigin>();

/** One origin object per rule when not explaining, so a binding allocates nothing. */
function ruleOrigin(rule: CompiledRule): ActionOrigin {
  let origin = origins.get(rule);
  if (origin === undefined) {
    origin = { rule: rule.name };
    origins.set(rule, origin);
  }
  return origin;
}

/** The binding and let values as they are now (the round calls the thunk while planning). */
function explainer(rule: CompiledRule, env: EvalEnv, element: Value): () => Explanation {
  const binding: Record<string, JsonValue> = {};
  if (rule.forEach !== null) binding[rule.forEach.elementName] = toJson(element);
  const lets: Record<string, JsonValue> = {};
  for (const clause of rule.clauses) if (clause.kind === "let") lets[clause.name] = toJson(env.slots[clause.slot] ?? null);
  const explanation: Explanation = { binding, lets };
  return () => explanation;
}

/** An action's VM: a VM, none, or (from a script) a VM's name. */
function asVm(value: Value, round: RoundState): VmView | null {
  if (value === null || isVm(value)) return value;
  if (typeof value === "string") {
    const vm = round.vmByName(value);
    if (vm !== undefined) return vm;
    throw new EvalError(`"${value}" names no vm`);
  }
  throw new EvalError(`expected a vm, got ${describeValue(value)}`);
}

function asHost(value: Value, round: RoundState): HostView | null {
  if (value === null || isHost(value)) return value;
  if (typeof value === "string") {
    const host = round.hostByName(value);
    if (host !== undefined) return host;
    throw new EvalError(`"${value}" names no host`);
  }
  throw new EvalError(`expected a host, got ${describeValue(value)}`);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
