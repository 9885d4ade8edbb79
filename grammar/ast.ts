/**
 * The abstract syntax tree of a `.policy` file: one discriminated union per
 * syntactic category, a `kind` tag on every node and a source `span` on every
 * node, so every later phase (checker, formatter, compiler, diagnostics) can
 * point back at the exact text. Nodes are immutable; phases keep what they
 * learn about a node in side tables keyed by the node (see `types.ts`).
 */

/** A position in a source file. `line` and `column` are 1-based; `offset` is 0-based. */
export interface Position {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

/**
 * The text a node covers: `start` is its first character, `end` the position
 * just past its last character (exclusive), so an empty span has start == end.
 */
export interface Span {
  readonly file: string;
  readonly start: Position;
  readonly end: Position;
}

export interface Node {
  readonly span: Span;
}

export interface Ident extends Node {
  readonly kind: "Ident";
  readonly name: string;
}

/** A `# …` comment, kept so that `fmt` can put it back. `text` includes the `#`. */
export interface Comment extends Node {
  readonly kind: "Comment";
  readonly text: string;
}

export interface PolicyFile extends Node {
  readonly kind: "PolicyFile";
  readonly name: Ident;
  readonly decls: readonly Decl[];
  readonly comments: readonly Comment[];
}

// ---------------------------------------------------------------- declarations

export type Decl = ParamDecl | LetDecl | GroupDecl | ScriptDecl | ConstraintDecl | RuleDecl;

/** `param NAME = literal`; a negative number is a NumberLit with a negative value. */
export interface ParamDecl extends Node {
  readonly kind: "ParamDecl";
  readonly name: Ident;
  readonly value: NumberLit | DurationLit | StringLit | BoolLit;
}

export interface LetDecl extends Node {
  readonly kind: "LetDecl";
  readonly name: Ident;
  readonly value: Expr;
}

/** `group NAME when EXPR`, or `group NAME otherwise` (then `when` is null). */
export interface GroupDecl extends Node {
  readonly kind: "GroupDecl";
  readonly name: Ident;
  readonly when: Expr | null;
}

/**
 * `script """…"""`. `source` is the text between the triple quotes, and
 * `sourceStart` the position of its first character, so a JavaScript error
 * at (line, column) of the block maps back to the `.policy` file.
 */
export interface ScriptDecl extends Node {
  readonly kind: "ScriptDecl";
  readonly source: string;
  readonly sourceStart: Position;
}

export interface ConstraintDecl extends Node {
  readonly kind: "ConstraintDecl";
  readonly name: Ident;
  readonly when: Expr | null;
  readonly require: Expr;
}

export interface RuleDecl extends Node {
  readonly kind: "RuleDecl";
  readonly name: Ident;
  readonly priority: NumberLit | null;
  readonly forEach: ForEach | null;
  readonly clauses: readonly Clause[];
  readonly actions: readonly Action[];
}

/** `for each BINDING (by KEY (asc|desc)?)?` */
export interface ForEach extends Node {
  readonly kind: "ForEach";
  readonly binding: Binding;
  readonly order: Order | null;
}

/** A sort key. `direction` defaults to asc; `explicit` records whether it was written. */
export interface Order extends Node {
  readonly kind: "Order";
  readonly key: Expr;
  readonly direction: "asc" | "desc";
  readonly explicit: boolean;
}

export type Clause = WhenClause | LetClause;

export interface WhenClause extends Node {
  readonly kind: "WhenClause";
  readonly condition: Expr;
}

export interface LetClause extends Node {
  readonly kind: "LetClause";
  readonly name: Ident;
  readonly value: Expr;
}

/**
 * `GROUP? (host|vm) (in SOURCE)? (as NAME)? (where COND)?`. The element is
 * named `alias` if given, else `host` or `vm`. `elementSpan` covers the
 * `host`/`vm` word.
 */
export interface Binding extends Node {
  readonly kind: "Binding";
  readonly group: Ident | null;
  readonly element: "host" | "vm";
  readonly elementSpan: Span;
  readonly source: Expr | null;
  readonly alias: Ident | null;
  readonly where: Expr | null;
}

// ---------------------------------------------------------------- actions

export type Action = MigrateAction | EvacuateAction | RecoverAction | AlertAction;

export interface MigrateAction extends Node {
  readonly kind: "MigrateAction";
  readonly vm: Expr;
  readonly to: Expr;
}

export interface EvacuateAction extends Node {
  readonly kind: "EvacuateAction";
  readonly host: Expr;
}

export interface RecoverAction extends Node {
  readonly kind: "RecoverAction";
  readonly host: Expr;
}

export interface AlertAction extends Node {
  readonly kind: "AlertAction";
  readonly message: Expr;
}

// ---------------------------------------------------------------- expressions

export type Expr =
  | NumberLit
  | DurationLit
  | StringLit
  | BoolLit
  | NoneLit
  | NameRef
  | Paren
  | ListLit
  | Member
  | Unary
  | Binary
  | Call
  | Aggregate
  | Count
  | Quantifier
  | Pick;

export interface NumberLit extends Node {
  readonly kind: "NumberLit";
  readonly value: number;
  /** The text as written (`1e3`, `-2`), for the formatter. */
  readonly text: string;
}

/** `30s`, `5m`, `2h`: `value` is in seconds. */
export interface DurationLit extends Node {
  readonly kind: "DurationLit";
  readonly value: number;
  readonly text: string;
}

export interface StringLit extends Node {
  readonly kind: "StringLit";
  /** The decoded value (escapes resolved). */
  readonly value: string;
}

export interface BoolLit extends Node {
  readonly kind: "BoolLit";
  readonly value: boolean;
}

export interface NoneLit extends Node {
  readonly kind: "NoneLit";
}

/** A bare name: a local, a let, a param, a group, a state (`up`), `host`/`vm`. */
export interface NameRef extends Node {
  readonly kind: "NameRef";
  readonly name: string;
}

/** Parentheses as written; kept so `fmt` reproduces them and spans stay exact. */
export interface Paren extends Node {
  readonly kind: "Paren";
  readonly expr: Expr;
}

export interface ListLit extends Node {
  readonly kind: "ListLit";
  readonly items: readonly Expr[];
}

/** `object.property` */
export interface Member extends Node {
  readonly kind: "Member";
  readonly object: Expr;
  readonly property: Ident;
}

export type UnaryOp = "-" | "not";

export interface Unary extends Node {
  readonly kind: "Unary";
  readonly op: UnaryOp;
  readonly operand: Expr;
}

export type ArithmeticOp = "+" | "-" | "*" | "/" | "%";
export type ComparisonOp = "==" | "!=" | "<" | "<=" | ">" | ">=" | "in";
export type LogicalOp = "and" | "or";
export type BinaryOp = ArithmeticOp | ComparisonOp | LogicalOp | "??";

export interface Binary extends Node {
  readonly kind: "Binary";
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
  /** The span of the operator token, for diagnostics about the operator. */
  readonly opSpan: Span;
}

/** `NAME(args…)`: a stdlib or script function. */
export interface Call extends Node {
  readonly kind: "Call";
  readonly callee: Ident;
  readonly args: readonly Expr[];
}

import type { AggregateFn } from "../stdlib/aggregates.js";

export type { AggregateFn };
export const AGGREGATE_FUNCTIONS: readonly AggregateFn[] = ["sum", "avg", "min", "max", "median", "stddev"];

/** `AGG(VALUE for BINDING)` */
export interface Aggregate extends Node {
  readonly kind: "Aggregate";
  readonly fn: AggregateFn;
  readonly fnSpan: Span;
  readonly value: Expr;
  readonly binding: Binding;
}

/** `count(BINDING)` */
export interface Count extends Node {
  readonly kind: "Count";
  readonly binding: Binding;
}

/** `exists BINDING` or `no BINDING` */
export interface Quantifier extends Node {
  readonly kind: "Quantifier";
  readonly quantifier: "exists" | "no";
  readonly binding: Binding;
}

/** `pick BINDING by KEY (asc|desc)?`: the first element in that order, or none. */
export interface Pick extends Node {
  readonly kind: "Pick";
  readonly binding: Binding;
  readonly order: Order;
}

export type AnyNode =
  | PolicyFile
  | Ident
  | Comment
  | Decl
  | ForEach
  | Order
  | Clause
  | Binding
  | Action
  | Expr;

/** The literal `none`, possibly in parentheses: `x == none` is a none test, not a comparison (SPEC 2.5). */
export function isNoneLiteral(expr: Expr): boolean {
  return expr.kind === "NoneLit" || (expr.kind === "Paren" && isNoneLiteral(expr.expr));
}

/** For exhaustive switches: a compile error if a case is missing. */
export function assertNever(value: never): never {
  throw new Error(`unexpected node: ${JSON.stringify(value)}`);
}
