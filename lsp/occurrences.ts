/**
 * Every name in a checked policy file and what it means: declarations and
 * uses of params, lets, groups, rule lets, binding elements, constraints,
 * rules and script functions, and the fields, functions, aggregates and
 * states a name may also be. Built once per check from the checker's own
 * side tables (so the editor resolves a name exactly as the checker did),
 * then hover, definition, references and rename only look things up.
 */
import type {
  Binding,
  ConstraintDecl,
  Expr,
  GroupDecl,
  LetClause,
  LetDecl,
  Order,
  ParamDecl,
  RuleDecl,
  ScriptDecl,
  Span,
} from "../grammar/ast.js";
import type { CheckedPolicy } from "../grammar/types.js";
import type { AggregateFn } from "../stdlib/aggregates.js";
import { LineIndex } from "./ranges.js";

/** What a name in the text means. */
export type Target =
  | { readonly kind: "param"; readonly decl: ParamDecl }
  | { readonly kind: "let"; readonly decl: LetDecl }
  | { readonly kind: "group"; readonly decl: GroupDecl }
  | { readonly kind: "ruleLet"; readonly decl: LetClause; readonly rule: RuleDecl }
  | { readonly kind: "element"; readonly binding: Binding }
  | { readonly kind: "subject"; readonly subject: "host" | "vm"; readonly of: ConstraintDecl | GroupDecl }
  | { readonly kind: "constraint"; readonly decl: ConstraintDecl }
  | { readonly kind: "rule"; readonly decl: RuleDecl }
  | { readonly kind: "script"; readonly name: string; readonly arity: number; readonly decl: ScriptDecl | null }
  | { readonly kind: "state"; readonly state: string }
  | { readonly kind: "field"; readonly of: "host" | "vm" | "labels"; readonly name: string }
  | { readonly kind: "stdlib"; readonly name: string }
  | { readonly kind: "canMove" }
  | { readonly kind: "aggregate"; readonly fn: AggregateFn };

export interface Occurrence {
  readonly span: Span;
  readonly target: Target;
  /** True where the name is declared (`let mean = …`), false where it is used. */
  readonly declaration: boolean;
}

/**
 * What makes two occurrences the same symbol: the declaring node, or a
 * script function's name. Fields, functions and states have no identity
 * worth finding references of.
 */
export function targetKey(t: Target): object | string | null {
  switch (t.kind) {
    case "param":
    case "let":
    case "group":
    case "ruleLet":
    case "constraint":
    case "rule":
      return t.decl;
    case "element":
      return t.binding;
    case "script":
      return `script:${t.name}`;
    default:
      return null;
  }
}

/** `function NAME(` at the start of a line of a script block: the functions a policy may call. */
const SCRIPT_FUNCTION = /^[ \t]*(?:async[ \t]+)?function[ \t]*\*?[ \t]*([A-Za-z_$][\w$]*)[ \t]*\(/gm;

/** The occurrences of one file, in source order. */
export class OccurrenceIndex {
  readonly all: Occurrence[] = [];
  private readonly groups = new Map<string, GroupDecl>();
  private readonly lines: LineIndex;

  /** Walks `policy` (checked from `text`); with `occurrences`, takes those instead (see `moved`). */
  constructor(
    readonly policy: CheckedPolicy,
    text: string,
    occurrences?: readonly Occurrence[],
  ) {
    this.lines = new LineIndex(text);
    if (occurrences !== undefined) {
      this.all.push(...occurrences);
      return;
    }
    for (const d of policy.ast.decls) if (d.kind === "GroupDecl" && !this.groups.has(d.name.name)) this.groups.set(d.name.name, d);
    this.walkFile();
    this.all.sort((a, b) => a.span.start.offset - b.span.start.offset);
  }

  /**
   * This index carried over to `text`, an edit of the text it was built
   * from: occurrences before and after the edited stretch move with the
   * text, those inside it are dropped. While a line is half typed the file
   * does not parse; hover, definition and references elsewhere in it keep
   * working from its last check that parsed.
   */
  moved(old: string, text: string): OccurrenceIndex {
    let prefix = 0;
    const shortest = Math.min(old.length, text.length);
    while (prefix < shortest && old.charCodeAt(prefix) === text.charCodeAt(prefix)) prefix++;
    let suffix = 0;
    while (suffix < shortest - prefix && old.charCodeAt(old.length - 1 - suffix) === text.charCodeAt(text.length - 1 - suffix)) suffix++;
    const delta = text.length - old.length;
    const lines = new LineIndex(text);
    const position = (offset: number): Span["start"] => {
      const p = lines.position(offset);
      return { offset, line: p.line + 1, column: p.character + 1 };
    };
    const out: Occurrence[] = [];
    for (const o of this.all) {
      let shift: number;
      if (o.span.end.offset <= prefix) shift = 0;
      else if (o.span.start.offset >= old.length - suffix) shift = delta;
      else continue;
      const span = { file: o.span.file, start: position(o.span.start.offset + shift), end: position(o.span.end.offset + shift) };
      out.push({ ...o, span });
    }
    return new OccurrenceIndex(this.policy, text, out);
  }

  /** The occurrence under `offset` (the innermost, when names touch). */
  at(offset: number): Occurrence | undefined {
    let found: Occurrence | undefined;
    for (const o of this.all) {
      if (o.span.start.offset > offset) break;
      if (offset <= o.span.end.offset) found = o;
    }
    return found;
  }

  /** Every occurrence of the symbol `target` names (declaration first when it is in this file). */
  referencesOf(target: Target): Occurrence[] {
    const key = targetKey(target);
    if (key === null) return [];
    return this.all.filter((o) => targetKey(o.target) === key).sort((a, b) => Number(b.declaration) - Number(a.declaration));
  }

  /** The declaration of the symbol `target` names, if it has one in this file. */
  declarationOf(target: Target): Occurrence | undefined {
    return this.referencesOf(target).find((o) => o.declaration);
  }

  private add(span: Span, target: Target, declaration: boolean): void {
    this.all.push({ span, target, declaration });
  }

  private walkFile(): void {
    const scripts = new Map(this.policy.scriptFunctions.map((f) => [f.name, f]));
    let scriptIndex = 0;
    for (const decl of this.policy.ast.decls) {
      switch (decl.kind) {
        case "ParamDecl":
          this.add(decl.name.span, { kind: "param", decl }, true);
          break;
        case "LetDecl":
          this.add(decl.name.span, { kind: "let", decl }, true);
          this.expr(decl.value);
          break;
        case "GroupDecl":
          this.add(decl.name.span, { kind: "group", decl }, true);
          if (decl.when !== null) this.expr(decl.when);
          break;
        case "ScriptDecl": {
          const index = scriptIndex++;
          for (const m of decl.source.matchAll(SCRIPT_FUNCTION)) {
            const fn = scripts.get(m[1]!);
            if (fn === undefined || fn.script !== index) continue;
            const start = decl.sourceStart.offset + m.index! + m[0].lastIndexOf(m[1]!);
            this.add(this.span(decl.span.file, start, start + m[1]!.length), { kind: "script", name: fn.name, arity: fn.arity, decl }, true);
          }
          break;
        }
        case "ConstraintDecl":
          this.add(decl.name.span, { kind: "constraint", decl }, true);
          if (decl.when !== null) this.expr(decl.when);
          this.expr(decl.require);
          break;
        case "RuleDecl":
          this.add(decl.name.span, { kind: "rule", decl }, true);
          if (decl.priority !== null) this.expr(decl.priority);
          if (decl.forEach !== null) {
            this.binding(decl.forEach.binding);
            this.order(decl.forEach.order);
          }
          for (const c of decl.clauses) {
            if (c.kind === "WhenClause") this.expr(c.condition);
            else {
              this.expr(c.value);
              this.add(c.name.span, { kind: "ruleLet", decl: c, rule: decl }, true);
            }
          }
          for (const a of decl.actions) {
            if (a.kind === "MigrateAction") {
              this.expr(a.vm);
              this.expr(a.to);
            } else this.expr(a.kind === "AlertAction" ? a.message : a.host);
          }
          break;
      }
    }
  }

  private span(file: string, start: number, end: number): Span {
    const s = this.lines.position(start);
    const e = this.lines.position(end);
    return {
      file,
      start: { offset: start, line: s.line + 1, column: s.character + 1 },
      end: { offset: end, line: e.line + 1, column: e.character + 1 },
    };
  }

  private order(o: Order | null): void {
    if (o !== null) this.expr(o.key);
  }

  private binding(b: Binding): void {
    if (b.group !== null) {
      const g = this.groups.get(b.group.name);
      if (g !== undefined) this.add(b.group.span, { kind: "group", decl: g }, false);
    }
    if (b.source !== null) this.expr(b.source);
    this.add(b.alias?.span ?? b.elementSpan, { kind: "element", binding: b }, true);
    if (b.where !== null) this.expr(b.where);
  }

  private expr(e: Expr): void {
    switch (e.kind) {
      case "NumberLit":
      case "DurationLit":
      case "StringLit":
      case "BoolLit":
      case "NoneLit":
        return;
      case "NameRef": {
        const target = this.nameTarget(e);
        if (target !== null) this.add(e.span, target, false);
        return;
      }
      case "Paren":
        return this.expr(e.expr);
      case "ListLit":
        for (const item of e.items) this.expr(item);
        return;
      case "Member": {
        this.expr(e.object);
        const of = this.policy.types.get(e.object)?.kind;
        if (of === "host" || of === "vm" || of === "labels") this.add(e.property.span, { kind: "field", of, name: e.property.name }, false);
        return;
      }
      case "Unary":
        return this.expr(e.operand);
      case "Binary":
        this.expr(e.left);
        return this.expr(e.right);
      case "Call": {
        const ref = this.policy.calls.get(e);
        if (ref?.kind === "stdlib") this.add(e.callee.span, { kind: "stdlib", name: ref.name }, false);
        else if (ref?.kind === "planner") this.add(e.callee.span, { kind: "canMove" }, false);
        else if (ref?.kind === "script") this.add(e.callee.span, { kind: "script", name: ref.name, arity: ref.arity, decl: null }, false);
        for (const arg of e.args) this.expr(arg);
        return;
      }
      case "Aggregate":
        this.add(e.fnSpan, { kind: "aggregate", fn: e.fn }, false);
        this.binding(e.binding);
        return this.expr(e.value);
      case "Count":
      case "Quantifier":
        return this.binding(e.binding);
      case "Pick":
        this.binding(e.binding);
        return this.order(e.order);
    }
  }

  private nameTarget(ref: Extract<Expr, { kind: "NameRef" }>): Target | null {
    const s = this.policy.symbols.get(ref);
    if (s === undefined) return null;
    switch (s.kind) {
      case "param":
        return { kind: "param", decl: s.decl };
      case "let":
        return { kind: "let", decl: s.decl };
      case "group":
        return { kind: "group", decl: s.decl };
      case "state":
        return { kind: "state", state: s.state };
      case "element":
        return { kind: "element", binding: s.binding };
      case "constraintSubject":
        return { kind: "subject", subject: s.subject, of: s.decl };
      case "groupSubject":
        return { kind: "subject", subject: "host", of: s.decl };
      case "ruleLet":
        return { kind: "ruleLet", decl: s.decl, rule: s.rule };
    }
  }
}
