/**
 * The two `expect` keys of SPEC 8 that re-plan (SPEC 12): `settles_within: N`
 * and `cycles: true|false`. Each runs `replan` on the case's facts and
 * settings, 10 s apart as the engine's default interval, and a failure shows
 * the rounds that moved and how it ended, as `plan --rounds` prints them.
 */
import { DEFAULT_REPLAN_OPTIONS, replan, type ReplanResult } from "../plan/stability.js";
import { renderReplan } from "../plan/render-stability.js";
import type { CaseOutcome, ExpectationKind } from "./expectations.js";
import type { YamlPath } from "./yaml-source.js";

/** Rounds enough to see `n` rounds of moves and then the quiet that proves settling. */
function roundsFor(n: number, cooldown: number): number {
  const interval = DEFAULT_REPLAN_OPTIONS.interval;
  return Math.max(DEFAULT_REPLAN_OPTIONS.rounds, n + Math.floor((cooldown + interval) / interval) + 2);
}

function replanned(outcome: CaseOutcome, rounds: number): ReplanResult {
  return replan(outcome.set, outcome.facts, outcome.settings, { rounds, interval: DEFAULT_REPLAN_OPTIONS.interval });
}

function shown(result: ReplanResult, outcome: CaseOutcome): string[] {
  const text = renderReplan(result, { color: false, interval: DEFAULT_REPLAN_OPTIONS.interval, cooldown: outcome.settings.cooldown });
  return text.trimEnd().split("\n").map((l) => `  ${l}`);
}

export const settlesWithin: ExpectationKind<number> = {
  parse(value: unknown, fail: (sub: YamlPath, message: string) => void) {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 10_000) {
      fail([], "must be a whole number of rounds from 0 to 10000");
      return undefined;
    }
    return value;
  },
  compare(expected, outcome) {
    const result = replanned(outcome, roundsFor(expected, outcome.settings.cooldown));
    if (result.outcome === "settled" && result.settled_after! <= expected) return [];
    const how = result.outcome === "settled" ? `settled only after round ${result.settled_after}` : result.outcome === "cycle" ? "cycles" : "did not settle";
    return [`settles_within: expected to settle within ${expected} round${expected === 1 ? "" : "s"}; it ${how}:`, ...shown(result, outcome)];
  },
};

export const cycles: ExpectationKind<boolean> = {
  parse(value: unknown, fail: (sub: YamlPath, message: string) => void) {
    if (typeof value !== "boolean") {
      fail([], "must be true or false");
      return undefined;
    }
    return value;
  },
  compare(expected, outcome) {
    const result = replanned(outcome, DEFAULT_REPLAN_OPTIONS.rounds);
    if ((result.outcome === "cycle") === expected) return [];
    return [`cycles: expected ${expected ? "a cycle" : "no cycle"}, got ${result.outcome}:`, ...shown(result, outcome)];
  },
};
