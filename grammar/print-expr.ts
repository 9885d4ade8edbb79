/**
 * Two printers of AST nodes. `printExpr` writes an expression back as
 * canonical source (single spaces around operators, parentheses exactly where
 * the Paren nodes are), for the formatter and for messages that quote code.
 * `dumpAst` writes a compact S-expression of a whole file that shows the tree
 * structure, for table-driven parser tests and for debugging.
 */
import {
  assertNever,
  type Action,
  type Binding,
  type Clause,
  type Decl,
  type Expr,
  type Order,
  type PolicyFile,
} from "./ast.js";

/** A string literal as source: only the escapes the lexer knows. */
export function quoteString(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

/** A binding as source: `light host in x as h where cond`. */
export function printBinding(b: Binding): string {
  let out = b.group === null ? b.element : `${b.group.name} ${b.element}`;
  if (b.source !== null) out += ` in ${printExpr(b.source)}`;
  if (b.alias !== null) out += ` as ${b.alias.name}`;
  if (b.where !== null) out += ` where ${printExpr(b.where)}`;
  return out;
}

/** A sort key as source: `by KEY` plus the direction when it was written. */
export function printOrder(o: Order): string {
  return o.explicit ? `by ${printExpr(o.key)} ${o.direction}` : `by ${printExpr(o.key)}`;
}

/** An expression as canonical source. Parentheses come only from Paren nodes. */
export function printExpr(e: Expr): string {
  switch (e.kind) {
    case "NumberLit":
    case "DurationLit":
      return e.text;
    case "StringLit":
      return quoteString(e.value);
    case "BoolLit":
      return e.value ? "true" : "false";
    case "NoneLit":
      return "none";
    case "NameRef":
      return e.name;
    case "Paren":
      return `(${printExpr(e.expr)})`;
    case "ListLit":
      return `[${e.items.map(printExpr).join(", ")}]`;
    case "Member":
      return `${printExpr(e.object)}.${e.property.name}`;
    case "Unary": {
      const operand = printExpr(e.operand);
      if (e.op === "not") return `not ${operand}`;
      return operand.startsWith("-") ? `- ${operand}` : `-${operand}`;
    }
    case "Binary":
      return `${printExpr(e.left)} ${e.op} ${printExpr(e.right)}`;
    case "Call":
      return `${e.callee.name}(${e.args.map(printExpr).join(", ")})`;
    case "Aggregate":
      return `${e.fn}(${printExpr(e.value)} for ${printBinding(e.binding)})`;
    case "Count":
      return `count(${printBinding(e.binding)})`;
    case "Quantifier":
      return `${e.quantifier} ${printBinding(e.binding)}`;
    case "Pick":
      return `pick ${printBinding(e.binding)} ${printOrder(e.order)}`;
    default:
      return assertNever(e);
  }
}

// ---------------------------------------------------------------- S-expression dump

function dumpBinding(b: Binding): string {
  const parts: string[] = [b.element];
  if (b.group !== null) parts.push(`group=${b.group.name}`);
  if (b.source !== null) parts.push(`in=${dumpExpr(b.source)}`);
  if (b.alias !== null) parts.push(`as=${b.alias.name}`);
  if (b.where !== null) parts.push(`where=${dumpExpr(b.where)}`);
  return `(${parts.join(" ")})`;
}

function dumpOrder(o: Order): string {
  return `(by ${dumpExpr(o.key)}${o.explicit ? ` ${o.direction}` : ""})`;
}

/** An expression as an S-expression: `(+ a (* b c))`, `(. host load)`. */
export function dumpExpr(e: Expr): string {
  switch (e.kind) {
    case "NumberLit":
      return e.text === String(e.value) ? e.text : `${e.text}=${e.value}`;
    case "DurationLit":
      return `${e.text}=${e.value}s`;
    case "StringLit":
      return JSON.stringify(e.value);
    case "BoolLit":
      return e.value ? "#true" : "#false";
    case "NoneLit":
      return "#none";
    case "NameRef":
      return e.name;
    case "Paren":
      return `(paren ${dumpExpr(e.expr)})`;
    case "ListLit":
      return `(list${e.items.map((i) => ` ${dumpExpr(i)}`).join("")})`;
    case "Member":
      return `(. ${dumpExpr(e.object)} ${e.property.name})`;
    case "Unary":
      return `(${e.op === "-" ? "neg" : "not"} ${dumpExpr(e.operand)})`;
    case "Binary":
      return `(${e.op} ${dumpExpr(e.left)} ${dumpExpr(e.right)})`;
    case "Call":
      return `(call ${e.callee.name}${e.args.map((a) => ` ${dumpExpr(a)}`).join("")})`;
    case "Aggregate":
      return `(${e.fn} ${dumpExpr(e.value)} ${dumpBinding(e.binding)})`;
    case "Count":
      return `(count ${dumpBinding(e.binding)})`;
    case "Quantifier":
      return `(${e.quantifier} ${dumpBinding(e.binding)})`;
    case "Pick":
      return `(pick ${dumpBinding(e.binding)} ${dumpOrder(e.order)})`;
    default:
      return assertNever(e);
  }
}

function dumpClause(c: Clause): string {
  return c.kind === "WhenClause" ? `(when ${dumpExpr(c.condition)})` : `(let ${c.name.name} ${dumpExpr(c.value)})`;
}

function dumpAction(a: Action): string {
  switch (a.kind) {
    case "MigrateAction":
      return `(migrate ${dumpExpr(a.vm)} ${dumpExpr(a.to)})`;
    case "EvacuateAction":
      return `(evacuate ${dumpExpr(a.host)})`;
    case "RecoverAction":
      return `(recover ${dumpExpr(a.host)})`;
    case "AlertAction":
      return `(alert ${dumpExpr(a.message)})`;
    default:
      return assertNever(a);
  }
}

/** One declaration as an S-expression. */
export function dumpDecl(d: Decl): string {
  switch (d.kind) {
    case "ParamDecl":
      return `(param ${d.name.name} ${dumpExpr(d.value)})`;
    case "LetDecl":
      return `(let ${d.name.name} ${dumpExpr(d.value)})`;
    case "GroupDecl":
      return `(group ${d.name.name} ${d.when === null ? "otherwise" : dumpExpr(d.when)})`;
    case "ScriptDecl":
      return `(script ${JSON.stringify(d.source)})`;
    case "ConstraintDecl":
      return `(constraint ${d.name.name}${d.when === null ? "" : ` (when ${dumpExpr(d.when)})`} (require ${dumpExpr(d.require)}))`;
    case "RuleDecl": {
      const parts = [`rule ${d.name.name}`];
      if (d.priority !== null) parts.push(`(priority ${d.priority.text})`);
      if (d.forEach !== null) {
        const order = d.forEach.order === null ? "" : ` ${dumpOrder(d.forEach.order)}`;
        parts.push(`(for ${dumpBinding(d.forEach.binding)}${order})`);
      }
      parts.push(...d.clauses.map(dumpClause));
      parts.push(`(then${d.actions.map((a) => ` ${dumpAction(a)}`).join("")})`);
      return `(${parts.join(" ")})`;
    }
    default:
      return assertNever(d);
  }
}

/** A whole file as S-expressions, one declaration per line after the `policy` line. */
export function dumpAst(file: PolicyFile): string {
  return [`(policy ${file.name.name})`, ...file.decls.map(dumpDecl)].join("\n");
}
