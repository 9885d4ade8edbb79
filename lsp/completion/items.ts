/**
 * Completion (SPEC 9): keywords where they fit, the fields of a host or a
 * VM after a dot, label keys and values seen in a configured facts file,
 * and the policy's groups, params, lets, rule lets and elements, the stdlib
 * and script functions and the aggregates. Names come from the file's last
 * check (with types) and from its text (so a name typed a moment ago is
 * offered before the file parses again).
 */
import { CompletionItemKind, type CompletionItem } from "vscode-languageserver";
import { HOST_FIELDS, typeName, VM_FIELDS } from "../../grammar/check-types.js";
import type { CheckedPolicy, Type } from "../../grammar/types.js";
import { HOST_STATES } from "../../grammar/types.js";
import { AGGREGATES } from "../../stdlib/aggregates.js";
import { HOST_FIELD_DOCS, VM_FIELD_DOCS } from "../../stdlib/fields.js";
import { signatureOf, STDLIB_FUNCTIONS } from "../../stdlib/functions.js";
import { CAN_MOVE_DOC } from "../hover.js";
import type { FactsLabels } from "./labels.js";
import { completionPlace } from "./context.js";

const DECLARATION_KEYWORDS = ["param", "let", "group", "script", "constraint", "rule"];
const RULE_CLAUSES = ["for each", "when", "let", "then"];
const CONSTRAINT_CLAUSES = ["when", "require"];
const ACTIONS = ["migrate", "evacuate", "recover", "alert"];
const EXPRESSION_KEYWORDS = ["not", "and", "or", "in", "exists", "no", "pick", "count", "none", "true", "false", "where", "as", "by", "asc", "desc"];

/** What completion knows about the file beyond its text. */
export interface CompletionSources {
  /** The file's latest check that parsed (possibly of an older text), for types and script functions. */
  readonly policy: CheckedPolicy | null;
  readonly labels?: FactsLabels;
}

const keyword = (word: string): CompletionItem => ({ label: word, kind: CompletionItemKind.Keyword });

/** The completion items at `offset` of `text`. */
export function completionItems(text: string, offset: number, sources: CompletionSources): CompletionItem[] {
  const place = completionPlace(text, offset);
  switch (place.kind) {
    case "none":
      return [];
    case "declaration":
      return (place.hasPolicy ? DECLARATION_KEYWORDS : ["policy", ...DECLARATION_KEYWORDS]).map(keyword);
    case "clause":
      return (place.block === "rule" ? RULE_CLAUSES : place.block === "constraint" ? CONSTRAINT_CLAUSES : []).map(keyword);
    case "action":
      return ACTIONS.map(keyword);
    case "keywords":
      return place.words.map(keyword);
    case "binding":
      return [...groupItems(text, sources), ...["host", "vm"].map(keyword)];
    case "element":
      return ["host", "vm"].map(keyword);
    case "member":
      return memberItems(text, offset, place.chain, sources);
    case "labelValue": {
      const of = chainType(text, offset, place.chain, sources);
      const values = new Set<string>();
      for (const kind of of === "vm" ? ["vm"] : of === "host" ? ["host"] : ["host", "vm"]) {
        for (const v of sources.labels?.[kind as "host" | "vm"].get(place.key) ?? []) values.add(v);
      }
      return [...values].sort().map((v) => ({ label: v, kind: CompletionItemKind.Value, detail: `a value of label ${place.key} in the facts file` }));
    }
    case "expression":
      return expressionItems(text, offset, sources);
  }
}

function fieldItems(of: "host" | "vm"): CompletionItem[] {
  const fields = of === "host" ? HOST_FIELDS : VM_FIELDS;
  const docs = of === "host" ? HOST_FIELD_DOCS : VM_FIELD_DOCS;
  return [...fields].map(([name, t]) => ({
    label: name,
    kind: CompletionItemKind.Field,
    detail: `${of}.${name}: ${typeName(t)}`,
    documentation: docs[name] ?? "",
  }));
}

function memberItems(text: string, offset: number, chain: readonly string[], sources: CompletionSources): CompletionItem[] {
  const t = chainType(text, offset, chain, sources);
  if (t === "labels") {
    const base = chainType(text, offset, chain.slice(0, -1), sources);
    const keys = new Set<string>();
    for (const kind of base === "vm" ? ["vm"] : base === "host" ? ["host"] : ["host", "vm"]) {
      for (const k of sources.labels?.[kind as "host" | "vm"].keys() ?? []) keys.add(k);
    }
    return [...keys].sort().map((k) => ({ label: k, kind: CompletionItemKind.Property, detail: "a label seen in the facts file" }));
  }
  if (t === "host" || t === "vm") return fieldItems(t);
  if (t === null) return [...fieldItems("host"), ...fieldItems("vm").filter((f) => !HOST_FIELDS.has(f.label))];
  return [];
}

/** The kind of value a chain of names (`src`, `vm.host`, `dst.labels`) stands for, as far as can be told. */
function chainType(text: string, offset: number, chain: readonly string[], sources: CompletionSources): "host" | "vm" | "labels" | null {
  if (chain.length === 0) return null;
  let t = nameType(text, offset, chain[0]!, sources);
  for (const field of chain.slice(1)) {
    if (t !== "host" && t !== "vm") return null;
    const ft = (t === "host" ? HOST_FIELDS : VM_FIELDS).get(field);
    t = ft?.kind === "host" || ft?.kind === "vm" || ft?.kind === "labels" ? ft.kind : null;
  }
  return t;
}

function kindOf(t: Type | undefined): "host" | "vm" | null {
  return t?.kind === "host" || t?.kind === "vm" ? t.kind : null;
}

/** What a bare name stands for: the last check's type of a let or element of that name, else a guess from the text. */
function nameType(text: string, offset: number, name: string, sources: CompletionSources): "host" | "vm" | "labels" | null {
  const policy = sources.policy;
  if (policy !== null) {
    for (const decl of policy.ast.decls) {
      if (decl.kind === "LetDecl" && decl.name.name === name) return kindOf(policy.types.get(decl.value));
      if (decl.kind !== "RuleDecl") continue;
      for (const c of decl.clauses) if (c.kind === "LetClause" && c.name.name === name) return kindOf(policy.types.get(c.value));
    }
  }
  const before = text.slice(0, offset);
  const alias = new RegExp(`\\b(host|vm)\\b[^\\n]*?\\bas\\s+${name}\\b`, "g");
  let found: "host" | "vm" | null = null;
  for (const m of before.matchAll(alias)) found = m[1] as "host" | "vm";
  if (found !== null) return found;
  const picked = new RegExp(`\\blet\\s+${name}\\s*=\\s*pick\\s+(?:[A-Za-z_]\\w*\\s+)?(host|vm)\\b`).exec(text);
  if (picked !== null) return picked[1] as "host" | "vm";
  if (name === "host" || name === "vm") return name;
  return null;
}

/** Top-level `param|let|group NAME` lines of the text, with the kind. */
function declaredNames(text: string): { name: string; kind: "param" | "let" | "group" }[] {
  const out: { name: string; kind: "param" | "let" | "group" }[] = [];
  for (const m of text.matchAll(/^(param|let|group)[ \t]+([A-Za-z_][A-Za-z0-9_]*)/gm)) out.push({ kind: m[1] as "param" | "let" | "group", name: m[2]! });
  return out;
}

function groupItems(text: string, sources: CompletionSources): CompletionItem[] {
  const names = new Set(declaredNames(text).filter((d) => d.kind === "group").map((d) => d.name));
  for (const d of sources.policy?.ast.decls ?? []) if (d.kind === "GroupDecl") names.add(d.name.name);
  return [...names].map((name) => ({ label: name, kind: CompletionItemKind.EnumMember, detail: "group" }));
}

/** The rule lets and binding aliases of the rule the cursor is in, written before it. */
function localNames(text: string, offset: number): { name: string; detail: string }[] {
  const before = text.slice(0, offset);
  const ruleStart = before.search(/^rule\b(?![\s\S]*^(?:rule|constraint|param|let|group|script)\b)/m);
  if (ruleStart < 0) return [];
  const body = before.slice(ruleStart);
  const out: { name: string; detail: string }[] = [];
  for (const m of body.matchAll(/^[ \t]+let[ \t]+([A-Za-z_][A-Za-z0-9_]*)/gm)) out.push({ name: m[1]!, detail: "let of this rule" });
  for (const m of body.matchAll(/\bas[ \t]+([A-Za-z_][A-Za-z0-9_]*)/g)) out.push({ name: m[1]!, detail: "binding element" });
  return out;
}

function expressionItems(text: string, offset: number, sources: CompletionSources): CompletionItem[] {
  const items = new Map<string, CompletionItem>();
  const add = (item: CompletionItem): void => {
    if (!items.has(item.label)) items.set(item.label, item);
  };
  for (const l of localNames(text, offset)) add({ label: l.name, kind: CompletionItemKind.Variable, detail: l.detail });
  const policy = sources.policy;
  for (const d of declaredNames(text)) {
    const decl = policy?.ast.decls.find((x) => (x.kind === "LetDecl" || x.kind === "ParamDecl") && x.name.name === d.name);
    const type = decl?.kind === "LetDecl" ? policy!.types.get(decl.value) : undefined;
    const kind = d.kind === "param" ? CompletionItemKind.Constant : d.kind === "let" ? CompletionItemKind.Variable : CompletionItemKind.EnumMember;
    add({ label: d.name, kind, detail: type === undefined ? d.kind : `${d.kind}: ${typeName(type)}` });
  }
  for (const s of HOST_STATES) add({ label: s, kind: CompletionItemKind.EnumMember, detail: "host state" });
  for (const f of STDLIB_FUNCTIONS) add({ label: f.name, kind: CompletionItemKind.Function, detail: signatureOf(f), documentation: f.doc });
  for (const a of AGGREGATES) {
    if (!items.has(a.name)) add({ label: a.name, kind: CompletionItemKind.Function, detail: `${a.name}(VALUE for BINDING) → number`, documentation: a.doc });
  }
  add({ label: "can_move", kind: CompletionItemKind.Function, detail: "can_move(vm, host) → bool", documentation: CAN_MOVE_DOC });
  for (const f of policy?.scriptFunctions ?? []) add({ label: f.name, kind: CompletionItemKind.Function, detail: `script function, ${f.arity} argument${f.arity === 1 ? "" : "s"}` });
  for (const m of text.matchAll(/^[ \t]*function[ \t]+([A-Za-z_$][\w$]*)[ \t]*\(/gm)) add({ label: m[1]!, kind: CompletionItemKind.Function, detail: "script function" });
  for (const w of ["host", "vm", ...EXPRESSION_KEYWORDS]) add(keyword(w));
  return [...items.values()];
}
