/**
 * Coverage of a policy set by the rounds planned with it (`vmpolicy test
 * --coverage`, SPEC 8). Measured, not inferred: `compilePolicySet` with a
 * `CoverageRecorder` wraps the evaluators of every rule, `when` clause, let
 * and group in probes that count what evaluation actually did. Compiling
 * the same file again (another case's params) finds the same items, keyed
 * by file and position, so counts add up across every case of a run.
 * Without a recorder the compiler emits no probe and a round costs nothing extra.
 */
import type { Span } from "./ast.js";
import type { Evaluator } from "./compile-types.js";

/** What is counted. `when` covers a rule's `when` clauses and a constraint's `when`. */
export type CoverageKind = "rule" | "when" | "let" | "group";

/** One counted place of a policy file. */
export interface CoverageItem {
  readonly kind: CoverageKind;
  /** How a report names it: `rule balance`, `when exists light host where …`, `let dst`, `group heavy`. */
  readonly label: string;
  /** Qualified rule name (`cslb.balance`) for rules, to match the plan's actions; "" otherwise. */
  readonly rule: string;
  readonly span: Span;
  /** Rules: bindings whose body began; whens: conditions evaluated; lets: values computed; groups: hosts tested. */
  evaluated: number;
  /** Rules: bindings that reached their actions; whens: true results; groups: hosts that joined. */
  held: number;
  /** Rules: actions planned (counted from the plans, by rule name). */
  planned: number;
}

/** Collects coverage items and their counts over any number of compiles and rounds. */
export class CoverageRecorder {
  private readonly byPlace = new Map<string, CoverageItem>();

  /** The item of this place, made on first sight (a second compile of the same file reuses it). */
  item(kind: CoverageKind, label: string, span: Span, rule = ""): CoverageItem {
    const key = `${span.file}\0${span.start.offset}\0${kind}`;
    let item = this.byPlace.get(key);
    if (item === undefined) {
      item = { kind, label, rule, span, evaluated: 0, held: 0, planned: 0 };
      this.byPlace.set(key, item);
    }
    return item;
  }

  /** Counts the planned actions of a round against the rules of `files` (the set's files: a rule name alone may be reused by another set). */
  countPlanned(files: ReadonlySet<string>, actions: readonly { readonly rule: string }[]): void {
    for (const action of actions) {
      for (const item of this.byPlace.values()) {
        if (item.kind === "rule" && item.rule === action.rule && files.has(item.span.file)) item.planned++;
      }
    }
  }

  /** Every item, by file and position. */
  items(): CoverageItem[] {
    return [...this.byPlace.values()].sort(
      (a, b) => (a.span.file < b.span.file ? -1 : a.span.file > b.span.file ? 1 : a.span.start.offset - b.span.start.offset),
    );
  }
}

/** Counts every evaluation of `ev`, and its `true` results. */
export function probeCondition(item: CoverageItem, ev: Evaluator): Evaluator {
  return (env) => {
    item.evaluated++;
    const value = ev(env);
    if (value === true) item.held++;
    return value;
  };
}

/** Counts every evaluation of `ev` (a let). */
export function probeValue(item: CoverageItem, ev: Evaluator): Evaluator {
  return (env) => {
    item.evaluated++;
    return ev(env);
  };
}

/** Counts a rule's body beginning (`entered`) and reaching its actions (`reached`). */
export function probeRule(item: CoverageItem, ev: Evaluator, entered: boolean, reached: boolean): Evaluator {
  return (env) => {
    if (entered) item.evaluated++;
    if (reached) item.held++;
    return ev(env);
  };
}

/** Why an item is not covered, or null when it is. */
export function uncoveredReason(item: CoverageItem): string | null {
  if (item.evaluated === 0) return "never evaluated";
  switch (item.kind) {
    case "rule":
      if (item.held === 0) return "never reached its actions (a when was never true)";
      return item.planned === 0 ? "never planned an action" : null;
    case "when":
      return item.held === 0 ? "never true" : null;
    case "group":
      return item.held === 0 ? "never true (no host joined it)" : null;
    case "let":
      return null;
  }
}
