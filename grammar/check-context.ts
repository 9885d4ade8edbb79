/**
 * The state of checking one policy file: the side tables the compiler reads
 * (`symbols`, `types`, `calls`), the policy's own names, what has been used
 * (for the W3xx warnings) and where the walk is (a top-level let, a group
 * condition, a constraint or a rule), since what a name may refer to depends
 * on that (SPEC 2.3–2.7). Local names live in an immutable linked list of
 * scopes, so an inner binding shadows an outer one simply by coming first.
 */
import type {
  Call,
  ConstraintDecl,
  Expr,
  GroupDecl,
  LetClause,
  LetDecl,
  NameRef,
  ParamDecl,
  PolicyFile,
  Span,
} from "./ast.js";
import type { Diagnostic } from "./diagnostics.js";
import type { FunctionRef, NameSymbol, ScriptFunction, Type } from "./types.js";

/** A local name: a binding element, a rule let, a constraint subject or a group's `host`. */
export interface Local {
  readonly name: string;
  readonly symbol: NameSymbol;
  readonly type: Type;
  readonly span: Span;
  readonly parent: Scope;
}
export type Scope = Local | null;

/** Pushes a local in front of `scope`. */
export function bind(scope: Scope, name: string, symbol: NameSymbol, type: Type, span: Span): Local {
  return { name, symbol, type, span, parent: scope };
}

/** A policy-level name: params, lets and groups share one namespace. */
export type PolicyName =
  | { readonly kind: "param"; readonly decl: ParamDecl }
  | { readonly kind: "let"; readonly decl: LetDecl }
  | { readonly kind: "group"; readonly decl: GroupDecl };

/** Where the walk is; decides what names and forms are allowed. */
export type Mode =
  | { readonly kind: "let"; readonly decl: LetDecl; readonly index: number }
  | { readonly kind: "group"; readonly decl: GroupDecl }
  | { readonly kind: "constraint"; readonly decl: ConstraintDecl }
  | { readonly kind: "rule" };

export class PolicyContext {
  readonly symbols = new Map<NameRef, NameSymbol>();
  readonly types = new Map<Expr, Type>();
  readonly calls = new Map<Call, FunctionRef>();
  readonly diagnostics: Diagnostic[] = [];

  readonly names = new Map<string, PolicyName>();
  /** Groups in declaration order (first declarations of each name only). */
  readonly groups: GroupDecl[] = [];
  readonly letIndex = new Map<LetDecl, number>();
  readonly letTypes = new Map<LetDecl, Type>();
  /** Top-level lets that need the group classification (directly or through other lets). */
  readonly letsReadingGroups = new Set<LetDecl>();
  readonly scriptFunctions = new Map<string, ScriptFunction>();

  /** Params, lets, groups and rule lets that some expression or binding reads. */
  readonly used = new Set<ParamDecl | LetDecl | GroupDecl | LetClause>();
  /** True once any expression reads `host.group` (then every group is observable). */
  readsHostGroup = false;
  /** Set while checking a top-level let that reads the classification. */
  currentReadsGroups = false;

  mode: Mode = { kind: "rule" };
  /** The first `script` block the analyzer rejected, for the hint on calls to its (unknown) functions. */
  brokenScript: Span | null = null;

  constructor(
    readonly file: PolicyFile,
    readonly policyName: string,
  ) {}

  report(d: Diagnostic): void {
    this.diagnostics.push(d);
  }

  group(name: string): GroupDecl | undefined {
    const n = this.names.get(name);
    return n?.kind === "group" ? n.decl : undefined;
  }

  groupNames(): string[] {
    return this.groups.map((g) => g.name.name);
  }

  /**
   * Called wherever an expression needs the classification (`host.group`,
   * a binding over a group, a let that does): an error inside a group
   * condition, a note on the let being checked otherwise.
   */
  readsGroups(what: string, span: Span, report: (what: string, span: Span) => Diagnostic): void {
    if (this.mode.kind === "group") this.report(report(what, span));
    else if (this.mode.kind === "let") this.currentReadsGroups = true;
  }
}
