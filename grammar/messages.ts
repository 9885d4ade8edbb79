/**
 * The catalogue of checker diagnostics: one builder per message, so each
 * wording lives in one place and a code never changes meaning. T2xx are
 * errors about names and types, W3xx warnings (docs/diagnostics.md lists
 * them all, with examples). Messages name what is wrong with both types
 * where types meet ("cannot compare a group with a state").
 */
import type { Span } from "./ast.js";
import { makeDiagnostic, type Diagnostic } from "./diagnostics.js";
import { didYouMean } from "./suggest.js";
import { typeName } from "./check-types.js";
import type { Type } from "./types.js";

function error(code: string, message: string, span: Span, hint?: string): Diagnostic {
  return makeDiagnostic(code, "error", message, span, hint);
}

function warning(code: string, message: string, span: Span, hint?: string): Diagnostic {
  return makeDiagnostic(code, "warning", message, span, hint);
}

/** "line 7, column 5" of a span, for notes that point at another declaration. */
export function where(span: Span, from?: Span): string {
  const at = `${span.start.line}:${span.start.column}`;
  return from !== undefined && from.file !== span.file ? `${span.file}:${at}` : `line ${span.start.line}, column ${span.start.column}`;
}

/** T201: a bare name that is no local, let, param, group or state. */
export function unknownName(name: string, span: Span, candidates: Iterable<string>, hint?: string): Diagnostic {
  return error("T201", `unknown name \`${name}\`${didYouMean(name, candidates)}`, span, hint);
}

/** T202: `host.lod`. */
export function unknownField(field: string, of: "host" | "vm", span: Span, fields: Iterable<string>): Diagnostic {
  const near = didYouMean(field, fields);
  const hint = near === "" ? `the fields of a ${of} are ${[...fields].join(", ")}` : undefined;
  return error("T202", `unknown field \`${field}\` of ${of}${near}`, span, hint);
}

/**
 * T203: a binding over a group the policy does not declare (`exists lite host`).
 * A policy has few groups, so when none is a near miss the hint lists them.
 */
export function unknownGroup(name: string, policy: string, span: Span, groups: readonly string[]): Diagnostic {
  const near = didYouMean(name, groups);
  let hint: string | undefined;
  if (groups.length === 0) hint = `policy ${policy} declares no groups`;
  else if (near === "") hint = `the groups of policy ${policy} are ${groups.join(", ")}`;
  return error("T203", `unknown group \`${name}\` in policy ${policy}${near}`, span, hint);
}

/** T204: a call to a function that is neither stdlib, script nor `can_move`. */
export function unknownFunction(name: string, span: Span, candidates: Iterable<string>, hint?: string): Diagnostic {
  return error("T204", `unknown function \`${name}\`${didYouMean(name, candidates)}`, span, hint);
}

/** T205: a call with the wrong number of arguments. `takes` is "2 arguments", "2 or more arguments". */
export function wrongArity(name: string, takes: string, got: number, span: Span): Diagnostic {
  return error("T205", `\`${name}\` takes ${takes}, got ${got}`, span);
}

/** T206: an argument of the wrong type. */
export function argumentType(name: string, index: number, expected: Type, got: Type, span: Span): Diagnostic {
  return error("T206", `argument ${index + 1} of \`${name}\` must be ${typeName(expected)}, got ${typeName(got)}`, span);
}

/** T207: arithmetic (`+ - * / %`, unary `-`) on something that is not a number. */
export function arithmeticType(op: string, left: Type, right: Type | null, span: Span): Diagnostic {
  if (right === null) return error("T207", `\`${op}\` needs a number, got ${typeName(left)}`, span);
  return error("T207", `cannot apply \`${op}\` to ${typeName(left)} and ${typeName(right)}: arithmetic needs numbers`, span);
}

/** T208: `and`, `or`, `not` on something that is not a bool. */
export function logicalType(op: string, got: Type, span: Span): Diagnostic {
  return error("T208", `\`${op}\` needs bools, got ${typeName(got)}`, span);
}

/** T209: `==`/`!=` between values of different types. */
export function cannotCompare(left: Type, right: Type, span: Span, hint?: string): Diagnostic {
  return error("T209", `cannot compare ${typeName(left)} with ${typeName(right)}`, span, hint);
}

/** T210: `< <= > >=` on something other than two numbers or two strings. */
export function orderingType(op: string, left: Type, right: Type, span: Span): Diagnostic {
  return error("T210", `\`${op}\` needs two numbers or two strings, got ${typeName(left)} and ${typeName(right)}`, span);
}

/** T211: `x in y` where y is no list of x's type. */
export function inType(left: Type, right: Type, span: Span): Diagnostic {
  const want = left.kind === "none" || left.kind === "error" ? "a list" : `a list of ${typeName(left).replace(/^an? /, "")}s`;
  return error("T211", `\`in\` needs ${want} on the right of ${typeName(left)}, got ${typeName(right)}`, span);
}

/** T212: `a ?? b` with sides of different types. */
export function coalesceType(left: Type, right: Type, span: Span): Diagnostic {
  return error("T212", `\`??\` needs both sides of one type, got ${typeName(left)} and ${typeName(right)}`, span);
}

/** T213: a `when`, `where`, `require` or group condition that is not a bool. */
export function conditionType(clause: string, got: Type, span: Span): Diagnostic {
  return error("T213", `a \`${clause}\` condition must be a bool, got ${typeName(got)}`, span);
}

/** T214: an aggregate over values that are not numbers. */
export function aggregateValueType(fn: string, got: Type, span: Span): Diagnostic {
  return error("T214", `\`${fn}\` needs numbers, got ${typeName(got)}`, span);
}

/** T215: a `by` key that is neither a number nor a string. */
export function orderKeyType(got: Type, span: Span): Diagnostic {
  return error("T215", `a \`by\` key must be a number or a string, got ${typeName(got)}`, span);
}

/** T216: `vm in SOURCE` where SOURCE is not a list of VMs (likewise for hosts). */
export function bindingSourceType(element: "host" | "vm", got: Type, span: Span): Diagnostic {
  return error("T216", `\`${element} in …\` needs a list of ${element}s, got ${typeName(got)}`, span);
}

/** T217: `.field` on a value that has no fields. */
export function noFields(field: string, of: Type, span: Span): Diagnostic {
  return error("T217", `${typeName(of)} has no field \`${field}\`: only hosts, vms and labels have fields`, span);
}

/** T218: an action argument of the wrong type (`migrate` of a host, `alert` of a number). */
export function actionArgument(action: string, expected: Type, got: Type, span: Span): Diagnostic {
  return error("T218", `\`${action}\` needs ${typeName(expected)}, got ${typeName(got)}`, span);
}

/** T218 for `migrate HOST to VM`: one error over both arguments, with the fix. */
export function migrateSwapped(vm: string, host: string, span: Span): Diagnostic {
  return error("T218", `\`migrate\` needs a vm, then a host: these are the other way round; did you mean \`migrate ${vm} to ${host}\`?`, span);
}

/** T219: a group declared after the `otherwise` group, which can never match anything. */
export function otherwiseNotLast(otherwise: string, span: Span, otherwiseSpan: Span): Diagnostic {
  return error(
    "T219",
    `\`group ${otherwise} otherwise\` must be the last group; this group can never match`,
    span,
    `\`${otherwise}\` is declared at ${where(otherwiseSpan)}`,
  );
}

/** T220: a second declaration of a name (param, let, group, constraint, rule, rule let, script function). */
export function duplicateDeclaration(what: string, name: string, span: Span, first: { what: string; span: Span }): Diagnostic {
  return error("T220", `duplicate ${what} \`${name}\``, span, `the ${first.what} \`${name}\` is first declared at ${where(first.span, span)}`);
}

/** T221: two files of one set declare the same policy name. */
export function duplicatePolicy(name: string, span: Span, first: Span): Diagnostic {
  return error("T221", `duplicate policy \`${name}\`: another file of this set declares it`, span, `first declared in ${first.file}:${first.start.line}:${first.start.column}`);
}

/** T222: a top-level let that uses a let declared after it. */
export function letForwardReference(name: string, span: Span, declared: Span): Diagnostic {
  return error(
    "T222",
    `let \`${name}\` is declared later, at ${where(declared)}: a let may use only params, earlier lets, aggregates and functions`,
    span,
  );
}

/** T223: a top-level let that uses itself. */
export function letSelfReference(name: string, span: Span): Diagnostic {
  return error("T223", `let \`${name}\` refers to itself`, span);
}

/** T224: JavaScript that does not parse, at its place in the `.policy` file. */
export function scriptSyntax(message: string, span: Span): Diagnostic {
  return error("T224", `script: ${message}`, span);
}

/** T225: a script function named like a stdlib function or `can_move`. */
export function scriptNameClash(name: string, span: Span): Diagnostic {
  return error("T225", `script function \`${name}\` has the name of a built-in function; rename it`, span);
}

/** T226: a list literal whose items differ in type. */
export function listItemsType(first: Type, other: Type, span: Span): Diagnostic {
  return error("T226", `list items must have one type: ${typeName(first)}, then ${typeName(other)}`, span);
}

/** T227: a policy-level name that is a host state or an element word. */
export function reservedName(what: string, name: string, span: Span): Diagnostic {
  const why = name === "host" || name === "vm" ? `\`${name}\` names the element of a binding` : `\`${name}\` is a host state`;
  return error("T227", `${why} and cannot name a ${what}`, span);
}

/** T228: a rule let that hides a name of the policy or of its own binding. */
export function ruleLetShadows(name: string, shadowed: string, span: Span, shadowedSpan: Span): Diagnostic {
  return error("T228", `let \`${name}\` hides the ${shadowed} \`${name}\`; rename it`, span, `the ${shadowed} is declared at ${where(shadowedSpan)}`);
}

/** T229: `can_move` inside a constraint (the planner asks constraints while answering it). */
export function canMoveInConstraint(span: Span): Diagnostic {
  return error("T229", "`can_move` cannot be used in a constraint: `can_move` itself checks the constraints", span);
}

/** T230: a group condition that depends on the classification it is part of. */
export function groupInGroupCondition(what: string, span: Span): Diagnostic {
  return error("T230", `a group condition cannot depend on groups (${what}): groups are being decided`, span);
}

/** W301: a param nothing reads. */
export function unusedParam(name: string, span: Span): Diagnostic {
  return warning("W301", `unused param \`${name}\``, span);
}

/** W302: a let nothing reads (top-level or in a rule). */
export function unusedLet(name: string, span: Span, rule?: string): Diagnostic {
  return warning("W302", rule === undefined ? `unused let \`${name}\`` : `unused let \`${name}\` in rule \`${rule}\``, span);
}

/** W303: a group that nothing can observe (docs/diagnostics.md says exactly when). */
export function unusedGroup(name: string, span: Span): Diagnostic {
  return warning("W303", `unused group \`${name}\`: no rule or expression uses it`, span);
}

/** W304: a rule that can never plan anything, with why. */
export function ruleNeverPlans(rule: string, why: string, span: Span): Diagnostic {
  return warning("W304", `rule \`${rule}\` can never plan anything: ${why}`, span);
}

/** W305: a constraint whose `when` can never hold. */
export function constraintNeverApplies(name: string, span: Span): Diagnostic {
  return warning("W305", `constraint \`${name}\` never applies: its \`when\` is always false`, span);
}
