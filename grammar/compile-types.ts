/**
 * What the compiler hands the planner: every expression of a checked policy
 * set turned once into a closure over an evaluation environment, plus the
 * shape of each declaration (params, lets, groups, constraints, rules) so
 * `engine/plan/index.ts` can run a round without ever seeing the AST.
 */
import type { Position } from "./ast.js";
import type { HostView, RoundState, VmView } from "./view.js";

/** A label map as `host.labels` gives it. */
export type Labels = Readonly<Record<string, string>>;

/**
 * A run-time value. `null` is `none`; groups and states are their names as
 * strings (the checker already forbids comparing a group with a string).
 */
export type Value = number | string | boolean | null | HostView | VmView | Labels | readonly Value[];

/** A compiled expression. */
export type Evaluator = (env: EvalEnv) => Value;

/**
 * The sandbox side of a policy's `script` blocks, as the planner sees it
 * (the QuickJS sandbox of `engine/sandbox/index.ts` satisfies it).
 */
export interface ScriptRunner {
  /** Starts a round: the hosts and VMs that crossed in the last round are forgotten. */
  beginRound(): void;
  /** `args` are plain JSON values, or a `ScriptRef` (compile-script.ts) for a host or VM of the round. */
  call(name: string, args: readonly unknown[]): { ok: true; value: unknown } | { ok: false; message: string };
  /** Ends a round: lets go of what the round passed in, so the round's views are not kept until the next. */
  endRound(): void;
  dispose(): void;
}

/**
 * Everything a compiled closure reads while a round runs, one per policy per
 * round. Slots hold params, top-level lets, binding elements, rule lets and
 * constraint subjects; the compiler gives each its own index, so nested
 * bindings never overwrite each other.
 */
export interface EvalEnv {
  round: RoundState;
  readonly slots: Value[];
  /** Per top-level let: 0 not yet evaluated, 1 being evaluated, 2 done. */
  readonly letState: Uint8Array;
  /**
   * 0 until the hosts are classified, 1 while classifying, 2 after. Groups
   * are classified lazily (a let may count a group, a group may read a let)
   * but always before the first rule runs, and never again in the round.
   */
  groupState: number;
  /** Classifies the hosts into this policy's groups (set by the planner). */
  classify: (env: EvalEnv) => void;
  /** Group index per host (by `HostView.index`), -1 for no group. */
  groupOf: Int32Array;
  /** Per group index: its hosts at the start of the round, sorted by name. */
  groupMembers: HostView[][];
  readonly groupNames: readonly string[];
  scripts: ScriptRunner | null;
  /**
   * Hosts whose projected fields changed this round, in order, shared by
   * every policy of the round: the planner appends both ends of each
   * planned move. A host not listed is exactly as at the start of the round.
   */
  readonly touched: HostView[];
  /** Per cached binding site (see `compile-cache.ts`): its state this round. */
  readonly caches: unknown[];
  /** Guards constraints against calling `can_move` (which would re-enter them). */
  constraintDepth: number;
  /** The rule (or `policy.let`) being evaluated, for error messages. */
  where: string;
}

/** Makes sure the groups of `env`'s policy are classified before they are read. */
export function ensureGroups(env: EvalEnv): void {
  if (env.groupState === 2) return;
  if (env.groupState === 1) throw new EvalError("a group condition depends on the groups themselves");
  env.classify(env);
}

/** Thrown by compiled closures when evaluation fails; fails one binding only. */
export class EvalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EvalError";
  }
}

export type ParamType = "number" | "duration" | "string" | "bool";

export interface CompiledParam {
  readonly name: string;
  readonly type: ParamType;
  readonly slot: number;
  /** The declared value, or the one set with `--param`. */
  readonly value: number | string | boolean;
}

export interface CompiledLet {
  readonly name: string;
  readonly slot: number;
  /** Index into `EvalEnv.letState`. */
  readonly index: number;
  readonly value: Evaluator;
}

/** A param or top-level let in declaration order, for the plan's `values`. */
export interface ValueEntry {
  readonly name: string;
  readonly slot: number;
}

export interface CompiledGroup {
  readonly name: string;
  /** null for `otherwise`. */
  readonly when: Evaluator | null;
  readonly subjectSlot: number;
}

export interface CompiledConstraint {
  /** `policy.constraint`. */
  readonly name: string;
  readonly when: Evaluator | null;
  readonly require: Evaluator;
  readonly vmSlot: number;
  readonly hostSlot: number;
}

/** `for each`: members fixed when the rule starts, then ordered. */
export interface CompiledForEach {
  /** The element's name in the rule (`host`, `vm` or the `as` name). */
  readonly elementName: string;
  readonly slot: number;
  readonly members: (env: EvalEnv) => readonly Value[];
  readonly where: Evaluator | null;
  readonly key: Evaluator | null;
  readonly desc: boolean;
}

export type CompiledClause =
  | { readonly kind: "when"; readonly condition: Evaluator }
  | { readonly kind: "let"; readonly name: string; readonly slot: number; readonly value: Evaluator };

export type CompiledAction =
  | { readonly kind: "migrate"; readonly vm: Evaluator; readonly to: Evaluator }
  | { readonly kind: "evacuate"; readonly host: Evaluator }
  | { readonly kind: "recover"; readonly host: Evaluator }
  | { readonly kind: "alert"; readonly message: Evaluator };

export interface CompiledRule {
  /** `policy.rule`, as plans name it. */
  readonly name: string;
  readonly priority: number;
  /** Index of the policy in the set. */
  readonly policy: number;
  /** Position of the rule in its file, for ties in priority. */
  readonly order: number;
  readonly forEach: CompiledForEach | null;
  readonly clauses: readonly CompiledClause[];
  readonly actions: readonly CompiledAction[];
}

export interface CompiledScript {
  readonly source: string;
  readonly sourceStart: Position;
}

export interface CompiledPolicy {
  readonly name: string;
  readonly file: string;
  readonly slotCount: number;
  /** Binding sites with a per-round cache (`EvalEnv.caches`). */
  readonly siteCount: number;
  readonly params: readonly CompiledParam[];
  readonly lets: readonly CompiledLet[];
  /** Params and lets in declaration order. */
  readonly values: readonly ValueEntry[];
  readonly groups: readonly CompiledGroup[];
  readonly constraints: readonly CompiledConstraint[];
  readonly rules: readonly CompiledRule[];
  readonly scripts: readonly CompiledScript[];
  /** The policy's script sandbox, attached by `engine/policy/set.ts` when it has scripts. */
  runner: ScriptRunner | null;
}

/**
 * A policy set ready to plan: the unit the engine swaps atomically on reload.
 * `hash` is the sha256 of the sources (empty when compiled without them);
 * `dispose` releases the script sandboxes.
 */
export interface CompiledPolicySet {
  readonly policies: readonly CompiledPolicy[];
  hash: string;
  dispose(): void;
}
