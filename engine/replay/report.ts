/**
 * Replaying recorded rounds (SPEC 10): every recorded snapshot is planned
 * again with the candidate set, through the same pure `planRound` and the
 * settings the engine used, and compared with a baseline — another set
 * planned the same way, or what the recorded set actually planned. Pure:
 * rounds and sets in, a report out (`bin/commands/replay.ts` reads the
 * folder and prints it).
 *
 * The limit, stated in the report: each recorded snapshot is what the
 * cluster looked like after the *recorded* decisions. A replay shows what
 * the candidate would have decided on each of them, not how the cluster
 * would have evolved had it decided differently.
 */
import type { CompiledPolicySet } from "../../grammar/compile.js";
import { planRound } from "../plan/index.js";
import type { Plan, PlannedAction } from "../types.js";
import { diffActions } from "./compare.js";
import { bareAction, planSettingsOf, type RecordedRound } from "./recording.js";

/** What the report says about its own limit (printed and in `--json`). */
export const REPLAY_LIMIT =
  "a replay shows what each set would have decided on every recorded snapshot; it does not know how the cluster would have evolved after a different decision (every snapshot shows the cluster as the recorded set left it). To see that, export the recorded load with --export-trace FILE.csv and run it with vmpolicy simulate --scenario.";

/** Per set: what it planned over the replayed rounds. */
export interface SetTotals {
  readonly migrate: number;
  readonly restart: number;
  readonly alert: number;
  /** Migrations per hour of recorded time, or null when the rounds span no time. */
  readonly migrations_per_hour: number | null;
  /** Plan errors (a script that failed, …). */
  readonly errors: number;
  /** Seconds per policy, per host, per group (each round stands for the time to the next, at most the recorded interval). */
  readonly time_in_groups: Record<string, Record<string, Record<string, number>>>;
}

/** One round whose actions differ. */
export interface RoundDiff {
  readonly round: number;
  readonly at: string;
  readonly only_baseline: readonly PlannedAction[];
  readonly only_candidate: readonly PlannedAction[];
}

/** The report of `vmpolicy replay` (`--json` prints it as is). */
export interface ReplayReport {
  readonly rounds: number;
  readonly differing: number;
  readonly from: string | null;
  readonly to: string | null;
  /** Recorded time the rounds stand for, in seconds. */
  readonly seconds: number;
  /** "recorded": the actions the recorded set planned; "set": a --baseline set planned again. */
  readonly baseline_source: "recorded" | "set";
  /** The active sets found in the recording (hash and how many of the replayed rounds each planned). */
  readonly recorded_sets: readonly { readonly hash: string; readonly policies: readonly string[]; readonly rounds: number }[];
  readonly baseline: SetTotals;
  readonly candidate: SetTotals;
  /** The first `maxDiffs` differing rounds, oldest first. */
  readonly diffs: readonly RoundDiff[];
  readonly limit: string;
}

/** Accumulates one set's totals round by round. */
class Tally {
  migrate = 0;
  restart = 0;
  alert = 0;
  errors = 0;
  readonly groups: Record<string, Record<string, Record<string, number>>> = {};

  add(actions: readonly PlannedAction[], errors: number, groups: Plan["groups"], seconds: number): void {
    for (const a of actions) this[a.kind]++;
    this.errors += errors;
    for (const [policy, byHost] of Object.entries(groups)) {
      const p = (this.groups[policy] ??= {});
      for (const [host, group] of Object.entries(byHost)) {
        const h = (p[host] ??= {});
        h[group] = (h[group] ?? 0) + seconds;
      }
    }
  }

  totals(seconds: number): SetTotals {
    return {
      migrate: this.migrate,
      restart: this.restart,
      alert: this.alert,
      migrations_per_hour: seconds > 0 ? Math.round((this.migrate / (seconds / 3600)) * 100) / 100 : null,
      errors: this.errors,
      time_in_groups: this.groups,
    };
  }
}

/**
 * Re-plans `rounds` (time order) with `candidate`, and with `baseline` when
 * given (else the recorded actions and groups are the baseline).
 */
export function replayRounds(rounds: readonly RecordedRound[], candidate: CompiledPolicySet, baseline: CompiledPolicySet | null, options: { maxDiffs?: number } = {}): ReplayReport {
  const maxDiffs = options.maxDiffs ?? 10;
  const base = new Tally();
  const cand = new Tally();
  const diffs: RoundDiff[] = [];
  const sets = new Map<string, { hash: string; policies: string[]; rounds: number }>();
  let differing = 0;
  let seconds = 0;
  rounds.forEach((r, i) => {
    const next = rounds[i + 1];
    const gap = next ? (Date.parse(next.at) - Date.parse(r.at)) / 1000 : r.settings.interval;
    // A gap longer than the interval is time the engine was not running (or a round was late): it counts as one interval.
    const span = Math.max(0, Math.min(gap, r.settings.interval));
    seconds += span;
    const seen = sets.get(r.set_hash) ?? { hash: r.set_hash, policies: r.policies.map((p) => p.name), rounds: 0 };
    seen.rounds++;
    sets.set(r.set_hash, seen);

    const settings = planSettingsOf(r.settings);
    const candPlan = planRound(candidate, r.facts, settings);
    const basePlan: Pick<Plan, "actions" | "groups" | "errors"> = baseline ? planRound(baseline, r.facts, settings) : { actions: [...r.actions], groups: r.groups, errors: [] };
    cand.add(candPlan.actions, candPlan.errors.length, candPlan.groups, span);
    base.add(basePlan.actions, basePlan.errors.length, basePlan.groups, span);
    const d = diffActions(basePlan.actions, candPlan.actions);
    if (d.onlyA.length === 0 && d.onlyB.length === 0) return;
    differing++;
    if (diffs.length < maxDiffs) diffs.push({ round: r.round, at: r.at, only_baseline: d.onlyA.map(bareAction), only_candidate: d.onlyB.map(bareAction) });
  });
  return {
    rounds: rounds.length,
    differing,
    from: rounds[0]?.at ?? null,
    to: rounds[rounds.length - 1]?.at ?? null,
    seconds,
    baseline_source: baseline ? "set" : "recorded",
    recorded_sets: [...sets.values()],
    baseline: base.totals(seconds),
    candidate: cand.totals(seconds),
    diffs,
    limit: REPLAY_LIMIT,
  };
}
