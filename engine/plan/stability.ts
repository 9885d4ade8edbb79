/**
 * Re-planning on a static workload (SPEC 12): plan a round, apply its
 * migrations and restarts as if they completed, let time pass by one
 * interval, plan again. Whether a policy settles, cycles (ping-pong) or
 * keeps moving can be seen here before it ever runs, because `planRound` is
 * the engine's own planner and the workload is held still: any move after
 * the first few is the policy's doing, not the load's.
 */
import { compareNames } from "../names.js";
import { planRound } from "./index.js";
import type { CompiledPolicySet } from "../../grammar/compile-types.js";
import type { Facts, HostFact, PlanSettings, PlannedAction, RecentFact, VmFact } from "../types.js";

export type MoveAction = Extract<PlannedAction, { kind: "migrate" | "restart" }>;

export interface ReplanRound {
  /** 1-based. */
  readonly round: number;
  /** Seconds from the first round to this one. */
  readonly at_s: number;
  /** The migrations and restarts this round planned (alerts are not moves). */
  readonly moves: MoveAction[];
}

export interface ReplanCycle {
  /** Rounds from a placement to its return. */
  readonly period_rounds: number;
  readonly period_s: number;
  /** The VMs moved within one period, by name. */
  readonly vms: string[];
  /** Moves of one period, scaled to an hour. */
  readonly migrations_per_hour: number;
}

export type ReplanOutcome = "settled" | "cycle" | "unsettled";

export interface ReplanResult {
  readonly rounds: ReplanRound[];
  readonly outcome: ReplanOutcome;
  /** When settled: the last round that moved (0 when the first plan moved nothing). */
  readonly settled_after?: number;
  readonly cycle?: ReplanCycle;
}

export interface ReplanOptions {
  /** Rounds to plan at the most (SPEC 12: default 60). */
  readonly rounds: number;
  /** Seconds between rounds (default 10, the engine's interval). */
  readonly interval: number;
}

export const DEFAULT_REPLAN_OPTIONS: ReplanOptions = { rounds: 60, interval: 10 };

/**
 * Plans up to `options.rounds` rounds, each on the cluster the previous
 * one left. Stops at the first outcome: `settled` once no VM has moved for
 * longer than the cooldown plus one interval (nothing can move again on a
 * static workload: every refusal that could lift has lifted), `cycle` as
 * soon as moves bring back a placement seen before.
 */
export function replan(set: CompiledPolicySet, facts: Facts, settings: PlanSettings, options: ReplanOptions = DEFAULT_REPLAN_OPTIONS): ReplanResult {
  const rounds: ReplanRound[] = [];
  // The whole state a plan depends on (placement and cooldowns) → the round
  // it was first seen at and the moves made before it. The planner is a
  // function of that state, so once a state comes back after moves, the
  // same moves come back with it, forever.
  const seen = new Map<string, { round: number; moves: number }>();
  let current: Facts = { hosts: facts.hosts, migrating: [], recent: facts.recent };
  let moves = 0;
  let lastMove = 0;
  const quietRounds = Math.floor((settings.cooldown + options.interval) / options.interval) + 1;

  for (let round = 1; round <= options.rounds; round++) {
    const key = stateKey(current, settings.cooldown);
    const before = seen.get(key);
    if (before !== undefined && before.moves < moves) {
      const period = round - before.round;
      const inCycle = rounds.slice(before.round - 1).flatMap((r) => r.moves);
      const period_s = period * options.interval;
      return {
        rounds,
        outcome: "cycle",
        cycle: {
          period_rounds: period,
          period_s,
          vms: [...new Set(inCycle.map((m) => m.vm))].sort(compareNames),
          migrations_per_hour: (inCycle.length * 3600) / period_s,
        },
      };
    }
    if (before === undefined) seen.set(key, { round, moves });

    const plan = planRound(set, current, settings);
    const planned = plan.actions.filter((a): a is MoveAction => a.kind === "migrate" || a.kind === "restart");
    rounds.push({ round, at_s: (round - 1) * options.interval, moves: planned });
    current = advance(current, planned, options.interval, settings.cooldown);
    if (planned.length > 0) {
      moves += planned.length;
      lastMove = round;
    } else if (round - lastMove >= quietRounds) {
      return { rounds, outcome: "settled", settled_after: lastMove };
    }
  }
  return { rounds, outcome: "unsettled" };
}

/**
 * The cluster at the next round after `moves`: each VM moves with its
 * facts and `recent` records it as just completed (0 s ago: a migration
 * takes most of an interval, so the engine's next round sees it fresh),
 * while every older entry ages by `interval`; entries past the cooldown
 * refuse nothing any more and are dropped. Nothing is in flight.
 */
export function advance(facts: Facts, moves: readonly MoveAction[], interval: number, cooldown: number): Facts {
  const byHost = new Map<string, VmFact[]>(facts.hosts.map((h) => [h.name, [...h.vms]]));
  const moved = new Set<string>();
  for (const m of moves) {
    const from = byHost.get(m.from);
    const to = byHost.get(m.to);
    const i = from?.findIndex((v) => v.name === m.vm) ?? -1;
    if (from === undefined || to === undefined || i < 0) continue;
    to.push(from.splice(i, 1)[0]!);
    moved.add(m.vm);
  }
  const hosts: HostFact[] = facts.hosts.map((h) => {
    const vms = byHost.get(h.name)!;
    return vms.length === h.vms.length && vms.every((v, i) => v === h.vms[i]) ? h : { ...h, vms: vms.sort((a, b) => compareNames(a.name, b.name)) };
  });
  const recent: RecentFact[] = [
    ...[...moved].sort(compareNames).map((vm) => ({ vm, seconds_ago: 0 })),
    ...facts.recent.filter((r) => !moved.has(r.vm) && r.seconds_ago + interval < cooldown).map((r) => ({ vm: r.vm, seconds_ago: r.seconds_ago + interval })),
  ];
  return { hosts, migrating: [], recent };
}

/**
 * Where every VM is and how long each cooldown has to run, as one string:
 * equal states give equal keys. A cooldown is all `recent` means to the
 * planner, so ages at or past it are one and the same.
 */
function stateKey(facts: Facts, cooldown: number): string {
  const parts: string[] = [];
  for (const h of facts.hosts) parts.push(`${h.name}:${h.vms.map((v) => v.name).join(",")}`);
  parts.sort(compareNames);
  const cooling = facts.recent.filter((r) => r.seconds_ago < cooldown).map((r) => `${r.vm}@${r.seconds_ago}`);
  return `${parts.join(";")}|${cooling.sort(compareNames).join(",")}`;
}
