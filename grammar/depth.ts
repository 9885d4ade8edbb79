/**
 * A bound on how deeply expressions nest (P114). The checker, the compiler
 * and the formatter walk expressions recursively, so a tree thousands of
 * levels deep (`1 + 1 + …` two thousand times, or as many parentheses)
 * would overflow the stack and crash `vmpolicy check` or a reload instead
 * of being reported. No policy a person writes comes near the bound; one
 * that does gets an error naming where, like any other syntax error.
 */
import type { Binding, Decl, Expr, PolicyFile, Span } from "./ast.js";
import type { IToken } from "chevrotain";
import { KW, LBracket, LParen, Minus, RBracket, RParen } from "./tokens.js";

/** Levels of operators, parentheses, members, calls and bindings an expression may have. */
export const MAX_EXPRESSION_DEPTH = 256;

function bindingExprs(b: Binding): Expr[] {
  const out: Expr[] = [];
  if (b.source !== null) out.push(b.source);
  if (b.where !== null) out.push(b.where);
  return out;
}

/** The expressions directly inside `e`. */
function children(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case "Paren":
      return [e.expr];
    case "ListLit":
      return e.items;
    case "Member":
      return [e.object];
    case "Unary":
      return [e.operand];
    case "Binary":
      return [e.left, e.right];
    case "Call":
      return e.args;
    case "Aggregate":
      return [e.value, ...bindingExprs(e.binding)];
    case "Count":
    case "Quantifier":
      return bindingExprs(e.binding);
    case "Pick":
      return [...bindingExprs(e.binding), e.order.key];
    default:
      return [];
  }
}

/** The expressions at the top of a declaration. */
function roots(d: Decl): Expr[] {
  switch (d.kind) {
    case "ParamDecl":
    case "LetDecl":
      return [d.value];
    case "GroupDecl":
      return d.when === null ? [] : [d.when];
    case "ScriptDecl":
      return [];
    case "ConstraintDecl":
      return d.when === null ? [d.require] : [d.when, d.require];
    case "RuleDecl": {
      const out: Expr[] = [];
      if (d.forEach !== null) {
        out.push(...bindingExprs(d.forEach.binding));
        if (d.forEach.order !== null) out.push(d.forEach.order.key);
      }
      for (const c of d.clauses) out.push(c.kind === "WhenClause" ? c.condition : c.value);
      for (const a of d.actions) {
        if (a.kind === "MigrateAction") out.push(a.vm, a.to);
        else if (a.kind === "AlertAction") out.push(a.message);
        else out.push(a.host);
      }
      return out;
    }
  }
}

/**
 * The span of the first expression of `file` that lies deeper than the
 * bound, or null. Iterative, so the check itself cannot overflow.
 */
export function tooDeepExpression(file: PolicyFile, limit = MAX_EXPRESSION_DEPTH): Span | null {
  for (const decl of file.decls) {
    // Depth first in source order (children pushed last first), so the
    // report points at the first too-deep expression as the file reads.
    // Two parallel stacks rather than a pair per expression: this walk runs over every parse.
    const stack: Expr[] = [];
    const depths: number[] = [];
    const top = roots(decl);
    for (let i = top.length - 1; i >= 0; i--) {
      stack.push(top[i]!);
      depths.push(1);
    }
    while (stack.length > 0) {
      const e = stack.pop()!;
      const depth = depths.pop()!;
      if (depth > limit) return e.span;
      const inner = children(e);
      for (let i = inner.length - 1; i >= 0; i--) {
        stack.push(inner[i]!);
        depths.push(depth + 1);
      }
    }
  }
  return null;
}

/**
 * Where the tokens nest deepest (open brackets plus a run of prefix `-` and
 * `not`): where to point when the parser itself ran out of stack.
 */
export function deepestToken(tokens: readonly IToken[]): IToken | undefined {
  let brackets = 0;
  let prefixes = 0;
  let best = -1;
  let at: IToken | undefined;
  for (const t of tokens) {
    if (t.tokenType === LParen || t.tokenType === LBracket) brackets++;
    else if (t.tokenType === RParen || t.tokenType === RBracket) brackets = Math.max(0, brackets - 1);
    prefixes = t.tokenType === Minus || t.tokenType === KW.not ? prefixes + 1 : 0;
    if (brackets + prefixes > best) {
      best = brackets + prefixes;
      at = t;
    }
  }
  return at;
}
