/**
 * The recording format (SPEC 10, issue 14): one JSON line per engine round
 * holding what that round planned from — the validated snapshot (after
 * smoothing, exactly as planned), the settings, the active set's hash — and
 * what it planned (actions and groups). The engine's recorder writes these
 * lines (gzip, rotating files); `vmpolicy replay` reads them back through
 * `decodeRounds`, which is pure: text in, rounds and problems out.
 */
import { validateFacts } from "../plan/facts.js";
import type { Facts, Plan, PlannedAction, PlanSettings } from "../types.js";

/** Bumped when a line's shape changes incompatibly; lines of another version are skipped with a problem. */
export const RECORDING_VERSION = 1;

/** The planner settings of a recorded round (`fenced` as a sorted list). */
export interface RecordedSettings {
  readonly cooldown: number;
  readonly max_per_host: number;
  readonly max_per_round: number;
  readonly require_fencing: boolean;
  readonly fenced: readonly string[];
  /** The engine's interval in seconds: the most time one round stands for in `replay`'s time per group. */
  readonly interval: number;
}

/** One recorded round. */
export interface RecordedRound {
  readonly v: typeof RECORDING_VERSION;
  /** The engine's round number (restarts at 1 when the engine restarts). */
  readonly round: number;
  /** ISO time the round started. */
  readonly at: string;
  /** sha256 of the active set's files (`CompiledPolicySet.hash`). */
  readonly set_hash: string;
  /** The active set's policies: name, file, sha256 of the text. */
  readonly policies: readonly { readonly name: string; readonly file: string; readonly hash: string }[];
  readonly settings: RecordedSettings;
  readonly facts: Facts;
  /** The plan's actions without explanations, in planned order. */
  readonly actions: readonly PlannedAction[];
  readonly groups: Plan["groups"];
}

/** A line that could not be used, with where it was. */
export interface RecordingProblem {
  readonly file: string;
  /** 1-based line; 0 for the file as a whole. */
  readonly line: number;
  readonly message: string;
}

/** The planner settings a recorded round was planned with (explanations off: replay compares actions). */
export function planSettingsOf(s: RecordedSettings): PlanSettings {
  return { cooldown: s.cooldown, max_per_host: s.max_per_host, max_per_round: s.max_per_round, requireFencing: s.require_fencing, fenced: new Set(s.fenced), explain: false };
}

/** The settings part of a round line, from what the engine planned with. */
export function recordedSettings(s: Omit<PlanSettings, "explain">, interval: number): RecordedSettings {
  return { cooldown: s.cooldown, max_per_host: s.max_per_host, max_per_round: s.max_per_round, require_fencing: s.requireFencing, fenced: [...s.fenced].sort(), interval };
}

/** An action without its explanation (what is recorded and compared). */
export function bareAction(a: PlannedAction): PlannedAction {
  if (a.explain === undefined) return a;
  const { explain: _explain, ...rest } = a;
  return rest as PlannedAction;
}

/** The record of one engine round, from what it planned with and what it planned. */
export function roundRecord(r: {
  round: number;
  at: string;
  set: { readonly hash: string };
  policies: readonly { readonly name: string; readonly file: string; readonly hash: string }[];
  settings: Omit<PlanSettings, "explain">;
  interval: number;
  facts: Facts;
  plan: Plan;
}): RecordedRound {
  return {
    v: RECORDING_VERSION,
    round: r.round,
    at: r.at,
    set_hash: r.set.hash,
    policies: r.policies.map((p) => ({ name: p.name, file: p.file, hash: p.hash })),
    settings: recordedSettings(r.settings, r.interval),
    facts: r.facts,
    actions: r.plan.actions.map(bareAction),
    groups: r.plan.groups,
  };
}

/** One round as its line (with the newline). */
export function encodeRound(r: RecordedRound): string {
  return JSON.stringify(r) + "\n";
}

const ACTION_KINDS = new Set(["migrate", "restart", "alert"]);

/** Checks one parsed line; returns the round or why it is unusable. */
function decodeLine(v: unknown): RecordedRound | string {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "not a JSON object";
  const o = v as Record<string, unknown>;
  if (o.v !== RECORDING_VERSION) return `recording version ${JSON.stringify(o.v)} is not ${RECORDING_VERSION}`;
  if (typeof o.round !== "number" || !Number.isInteger(o.round)) return "round: must be a whole number";
  if (typeof o.at !== "string" || !Number.isFinite(Date.parse(o.at))) return "at: must be an ISO time";
  if (typeof o.set_hash !== "string") return "set_hash: must be a string";
  if (!Array.isArray(o.policies)) return "policies: must be a list";
  const s = o.settings as Record<string, unknown> | null;
  if (typeof s !== "object" || s === null) return "settings: must be a map";
  for (const k of ["cooldown", "max_per_host", "max_per_round", "interval"]) if (typeof s[k] !== "number" || !((s[k] as number) >= 0)) return `settings.${k}: must be a number ≥ 0`;
  if (typeof s.require_fencing !== "boolean") return "settings.require_fencing: must be true or false";
  if (!Array.isArray(s.fenced) || s.fenced.some((h) => typeof h !== "string")) return "settings.fenced: must be a list of host names";
  if (!Array.isArray(o.actions) || o.actions.some((a) => typeof a !== "object" || a === null || !ACTION_KINDS.has((a as { kind?: string }).kind ?? ""))) return "actions: must be a list of actions";
  if (typeof o.groups !== "object" || o.groups === null) return "groups: must be a map";
  // Re-validated, so a hand-edited or damaged line cannot reach the planner.
  const facts = validateFacts(o.facts);
  if (!facts.ok) return `facts: ${facts.errors.slice(0, 3).map((e) => `${e.path}: ${e.message}`).join("; ")}`;
  return { ...(o as unknown as RecordedRound), facts: facts.facts };
}

/**
 * The rounds in the text of one recording file. A line that is not JSON or
 * not a round is a problem and skipped; a last line without its newline is
 * a round cut off by a crash (`truncated`).
 */
export function decodeRounds(text: string, file: string): { rounds: RecordedRound[]; problems: RecordingProblem[] } {
  const rounds: RecordedRound[] = [];
  const problems: RecordingProblem[] = [];
  const lines = text.split("\n");
  const clean = text.endsWith("\n") || text === "";
  if (clean) lines.pop();
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    if (i === lines.length - 1 && !clean) {
      problems.push({ file, line: i + 1, message: "truncated last line skipped (the engine stopped while writing it)" });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (e) {
      problems.push({ file, line: i + 1, message: `not JSON: ${(e as Error).message}` });
      return;
    }
    const r = decodeLine(parsed);
    if (typeof r === "string") problems.push({ file, line: i + 1, message: r });
    else rounds.push(r);
  });
  return { rounds, problems };
}
