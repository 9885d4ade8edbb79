/**
 * `formatPolicy`: the one canonical layout of a `.policy` file, for
 * `vmpolicy fmt`. The layout is built from the AST (so formatting cannot
 * change what a policy means) and the comments the lexer kept:
 *
 * - `policy NAME`, a blank line, then one declaration per line;
 * - a blank line between declarations of different kinds, around every rule,
 *   constraint and script, and wherever the source had one between two
 *   params, lets or groups;
 * - rule and constraint clauses on their own lines, indented two spaces;
 * - single spaces around operators, parentheses exactly as written; a `let`
 *   longer than 100 characters whose value is a `??` chain breaks before
 *   each `??`, operands aligned;
 * - comments kept: an own-line comment stays before the line it preceded
 *   (with a blank line kept where the source had one), a trailing comment
 *   stays at the end of its line after one space;
 * - script blocks copied verbatim.
 *
 * Formatting is idempotent: the output of the output is the output.
 */
import type { Comment, Decl, Expr, PolicyFile, RuleDecl } from "./ast.js";
import type { Diagnostic } from "./diagnostics.js";
import { parsePolicy } from "./parse.js";
import { printBinding, printExpr, printOrder, quoteString } from "./print-expr.js";

/** What formatting one file gives: the text (null when it has syntax errors) and the diagnostics. */
export interface FormatResult {
  readonly output: string | null;
  readonly diagnostics: Diagnostic[];
}

/** One output line and the source text it stands for (offsets, end exclusive). */
interface Unit {
  readonly start: number;
  readonly end: number;
  readonly indent: string;
  readonly text: string;
  /** Index of the declaration, -1 for the `policy` line. */
  readonly decl: number;
}

const INDENT = "  ";

/** Past this width a `let` whose value is a `??` chain puts each fallback on its own line. */
const MAX_LINE = 100;

/**
 * `let NAME = VALUE`, broken before each `??` when the line would be too
 * long, with the operands aligned under the first (the layout of SPEC 2.1):
 *
 *     let vm = pick vm in src.vms where … by vm.cpu desc
 *           ?? pick vm in src.vms where … by vm.cpu asc
 */
function letText(name: string, value: Expr, indent: string): string {
  const head = `let ${name} = `;
  const oneLine = head + printExpr(value);
  if (indent.length + oneLine.length <= MAX_LINE || value.kind !== "Binary" || value.op !== "??") return oneLine;
  const operands: Expr[] = [];
  let e: Expr = value;
  while (e.kind === "Binary" && e.op === "??") {
    operands.unshift(e.right);
    e = e.left;
  }
  operands.unshift(e);
  const continuation = `\n${indent}${" ".repeat(head.length - 3)}?? `;
  return head + operands.map(printExpr).join(continuation);
}

function unitsOfDecl(d: Decl, index: number): Unit[] {
  const unit = (start: number, end: number, text: string, indent = ""): Unit => ({ start, end, indent, text, decl: index });
  const whole = (text: string): Unit[] => [unit(d.span.start.offset, d.span.end.offset, text)];
  switch (d.kind) {
    case "ParamDecl": {
      const v = d.value;
      const lit = v.kind === "StringLit" ? quoteString(v.value) : v.kind === "BoolLit" ? String(v.value) : v.text;
      return whole(`param ${d.name.name} = ${lit}`);
    }
    case "LetDecl":
      return whole(letText(d.name.name, d.value, ""));
    case "GroupDecl":
      return whole(`group ${d.name.name} ${d.when === null ? "otherwise" : `when ${printExpr(d.when)}`}`);
    case "ScriptDecl":
      return whole(`script """${d.source}"""`);
    case "ConstraintDecl": {
      const out = [unit(d.span.start.offset, d.name.span.end.offset, `constraint ${d.name.name}`)];
      if (d.when !== null) out.push(unit(d.when.span.start.offset, d.when.span.end.offset, `when ${printExpr(d.when)}`, INDENT));
      out.push(unit(d.require.span.start.offset, d.require.span.end.offset, `require ${printExpr(d.require)}`, INDENT));
      return out;
    }
    case "RuleDecl":
      return unitsOfRule(d, index);
  }
}

function unitsOfRule(d: RuleDecl, index: number): Unit[] {
  const headEnd = (d.priority ?? d.name).span.end.offset;
  const head = d.priority === null ? `rule ${d.name.name}` : `rule ${d.name.name} priority ${d.priority.text}`;
  const out: Unit[] = [{ start: d.span.start.offset, end: headEnd, indent: "", text: head, decl: index }];
  const add = (start: number, end: number, text: string): void => {
    out.push({ start, end, indent: INDENT, text, decl: index });
  };
  if (d.forEach !== null) {
    const fe = d.forEach;
    const order = fe.order === null ? "" : ` ${printOrder(fe.order)}`;
    add(fe.span.start.offset, fe.span.end.offset, `for each ${printBinding(fe.binding)}${order}`);
  }
  for (const c of d.clauses) {
    const text = c.kind === "WhenClause" ? `when ${printExpr(c.condition)}` : letText(c.name.name, c.value, INDENT);
    add(c.span.start.offset, c.span.end.offset, text);
  }
  const actions = d.actions.map((a) => {
    switch (a.kind) {
      case "MigrateAction":
        return `migrate ${printExpr(a.vm)} to ${printExpr(a.to)}`;
      case "EvacuateAction":
        return `evacuate ${printExpr(a.host)}`;
      case "RecoverAction":
        return `recover ${printExpr(a.host)}`;
      case "AlertAction":
        return `alert ${printExpr(a.message)}`;
    }
  });
  add(d.actions[0]!.span.start.offset, d.span.end.offset, `then ${actions.join(", ")}`);
  return out;
}

/** True when the source has an empty line between two offsets (only whitespace and comments lie between). */
function blankBetween(text: string, from: number, to: number): boolean {
  return /\n[ \t\r\f\v]*\r?\n/.test(text.slice(from, to));
}

/** True when code precedes the comment on its line. */
function isTrailing(text: string, c: Comment): boolean {
  const lineStart = text.lastIndexOf("\n", c.span.start.offset - 1) + 1;
  return text.slice(lineStart, c.span.start.offset).trim() !== "";
}

/** Lays out a parsed file; `text` is its source, for comments and blank lines. */
export function layout(ast: PolicyFile, text: string): string {
  const units: Unit[] = [
    { start: ast.span.start.offset, end: ast.name.span.end.offset, indent: "", text: `policy ${ast.name.name}`, decl: -1 },
    ...ast.decls.flatMap(unitsOfDecl),
  ];
  // Comments before a unit lead it. Comments inside a unit's text (a
  // multi-line expression) or after its code on its last line: the first, if
  // it is a trailing comment, stays at the end of the unit's line; the others
  // follow the unit as own-line comments. Source order is always kept.
  const leading: Comment[][] = units.map(() => []);
  const inner: Comment[][] = units.map(() => []);
  const trailing: (Comment | null)[] = units.map(() => null);
  const tail: Comment[] = [];
  let p = -1;
  for (const c of ast.comments) {
    const at = c.span.start.offset;
    while (p + 1 < units.length && units[p + 1]!.start < at) p++;
    if (p >= 0 && (at < units[p]!.end || isTrailing(text, c))) inner[p]!.push(c);
    else if (p + 1 < units.length) leading[p + 1]!.push(c);
    else tail.push(c);
  }
  for (let i = units.length - 1; i >= 0; i--) {
    const list = inner[i]!;
    if (list.length > 0 && isTrailing(text, list[0]!)) trailing[i] = list.shift()!;
    if (list.length > 0) (i + 1 < units.length ? leading[i + 1]! : tail).unshift(...list);
  }

  const lines: string[] = [];
  let prevEnd = -1;
  const emitComments = (comments: readonly Comment[], indent: string, keepBlanks: boolean): void => {
    for (const c of comments) {
      if (keepBlanks && prevEnd >= 0 && lines.length > 0 && lines[lines.length - 1] !== "" && blankBetween(text, prevEnd, c.span.start.offset)) {
        lines.push("");
      }
      lines.push(indent + c.text);
      prevEnd = c.span.end.offset;
    }
  };
  for (let i = 0; i < units.length; i++) {
    const unit = units[i]!;
    const first = i === 0 || units[i - 1]!.decl !== unit.decl;
    if (first && i > 0) {
      const prevDecl = units[i - 1]!.decl;
      const needsBlank =
        prevDecl === -1 ||
        separated(ast.decls[prevDecl]!, ast.decls[unit.decl]!) ||
        blankBetween(text, prevEnd, leading[i]![0]?.span.start.offset ?? unit.start);
      if (needsBlank) lines.push("");
    }
    const topLevel = unit.indent === "";
    emitComments(leading[i]!, unit.indent, topLevel);
    if (topLevel && leading[i]!.length > 0 && blankBetween(text, prevEnd, unit.start)) lines.push("");
    const trail = trailing[i];
    lines.push(unit.indent + unit.text + (trail === null ? "" : ` ${trail.text}`));
    prevEnd = Math.max(unit.end, trail?.span.end.offset ?? 0);
  }
  emitComments(tail, "", true);
  return `${lines.join("\n")}\n`;
}

/** Declarations of different kinds, and blocks (rules, constraints, scripts), always get a blank line between them. */
function separated(a: Decl, b: Decl): boolean {
  const block = (d: Decl): boolean => d.kind === "RuleDecl" || d.kind === "ConstraintDecl" || d.kind === "ScriptDecl";
  return a.kind !== b.kind || block(a) || block(b);
}

/** Formats one `.policy` file; `output` is null when it has syntax errors. */
export function formatPolicy(text: string, file: string): FormatResult {
  const parsed = parsePolicy(text, file);
  if (parsed.ast === null) return { output: null, diagnostics: parsed.diagnostics };
  return { output: layout(parsed.ast, text), diagnostics: parsed.diagnostics };
}
