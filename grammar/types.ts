/**
 * What the checker learns about a policy set, kept in side tables keyed by
 * AST node (the AST stays immutable, as in cel-go). The compiler reads these
 * tables and never resolves a name on its own.
 */
import type {
  Binding,
  Call,
  ConstraintDecl,
  Expr,
  GroupDecl,
  LetClause,
  LetDecl,
  NameRef,
  ParamDecl,
  PolicyFile,
  RuleDecl,
} from "./ast.js";
import type { Diagnostic } from "./diagnostics.js";

export const HOST_STATES = ["up", "degraded", "maintenance", "down"] as const;
export type HostStateName = (typeof HOST_STATES)[number];

/**
 * Types of the language (SPEC 2.5). Every value may also be `none` at run
 * time, so `none` is not tracked per type; the type `none` is only the
 * literal's. `labels` is the type of `host.labels` / `vm.labels`, whose
 * members are strings. `error` stands for an expression that already has an
 * error, so one mistake is reported once.
 */
export type Type =
  | { readonly kind: "number" }
  | { readonly kind: "string" }
  | { readonly kind: "bool" }
  | { readonly kind: "host" }
  | { readonly kind: "vm" }
  | { readonly kind: "group" }
  | { readonly kind: "state" }
  | { readonly kind: "labels" }
  | { readonly kind: "none" }
  | { readonly kind: "list"; readonly element: Type }
  | { readonly kind: "error" };

/** What a bare name (`NameRef`) refers to. */
export type NameSymbol =
  | { readonly kind: "param"; readonly decl: ParamDecl }
  | { readonly kind: "let"; readonly decl: LetDecl }
  | { readonly kind: "group"; readonly decl: GroupDecl }
  | { readonly kind: "state"; readonly state: HostStateName }
  /** The element of a binding (`host`, `vm`, or its `as` name). */
  | { readonly kind: "element"; readonly binding: Binding }
  /** The element of the constraint being checked: `vm` (placed) or `host` (destination). */
  | { readonly kind: "constraintSubject"; readonly decl: ConstraintDecl; readonly subject: "vm" | "host" }
  /** The host a `group … when` condition classifies. */
  | { readonly kind: "groupSubject"; readonly decl: GroupDecl }
  | { readonly kind: "ruleLet"; readonly decl: LetClause; readonly rule: RuleDecl };

/** What a call's callee refers to. */
export type FunctionRef =
  | { readonly kind: "stdlib"; readonly name: string }
  | { readonly kind: "script"; readonly name: string; readonly arity: number; readonly script: number }
  /** `can_move(vm, host)`: answered by the planner, not by the stdlib table. */
  | { readonly kind: "planner"; readonly name: "can_move" };

/** A JavaScript function that a `script` block defines (found by the sandbox). */
export interface ScriptFunction {
  readonly name: string;
  readonly arity: number;
  /** Index of the `script` declaration among the file's script blocks. */
  readonly script: number;
}

/**
 * Looks into a `script` block without running policy code: the functions it
 * defines at top level, or the JavaScript syntax error (line and column
 * relative to the block, 1-based). Injected so `grammar/` stays free of the
 * QuickJS sandbox.
 */
export interface ScriptAnalyzer {
  analyze(source: string):
    | { readonly ok: true; readonly functions: readonly { name: string; arity: number }[] }
    | { readonly ok: false; readonly message: string; readonly line: number; readonly column: number };
}

export interface CheckedPolicy {
  readonly file: string;
  readonly ast: PolicyFile;
  readonly name: string;
  readonly symbols: ReadonlyMap<NameRef, NameSymbol>;
  readonly types: ReadonlyMap<Expr, Type>;
  readonly calls: ReadonlyMap<Call, FunctionRef>;
  readonly scriptFunctions: readonly ScriptFunction[];
}

export interface CheckResult {
  readonly policies: readonly CheckedPolicy[];
  /** Sorted by file and position. */
  readonly diagnostics: readonly Diagnostic[];
  /** True when no diagnostic is an error. */
  readonly ok: boolean;
}
