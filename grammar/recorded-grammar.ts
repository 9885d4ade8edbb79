/**
 * The grammar of parser.ts as chevrotain records it (its GAST: rules,
 * alternations, repetitions, terminals) and the LL(k) lookahead paths
 * chevrotain computes from it, stored as data so that a parser built outside
 * the tests neither records (~15–20 ms of cold code at every start-up) nor
 * computes lookahead (~10 ms in the first parse). `encodeGrammar` turns the recorded rules into plain
 * data and `decodeGrammar` back into chevrotain's own production classes.
 * The data lives in recorded-grammar-data.ts. `npm run build` (bin/bundle.ts)
 * records the grammar and, when the file no longer matches, rewrites it and
 * fails, so a stale file is never built; test/grammar/recorded-grammar.test.ts
 * fails on it too (`UPDATE_GRAMMAR=1` rewrites it there).
 */
import type { IProduction, Rule, TokenType } from "chevrotain";
import { GAST_CLASSES as CLASSES, getLookaheadPaths } from "./chevrotain.js";

/** One production as data: its class and its own fields, children under `_definition`, token types by name. */
export interface EncodedProduction {
  readonly c: string;
  readonly [field: string]: unknown;
}

/** Fields that hold a token type (stored by its name). */
const TOKEN_FIELDS = new Set(["terminalType", "separator"]);

/** The name of a production's class in `CLASSES`. */
function classOf(node: object): string | undefined {
  return Object.keys(CLASSES).find((name) => node.constructor === CLASSES[name]);
}

function encode(node: object): EncodedProduction {
  const c = classOf(node);
  if (c === undefined) throw new Error(`unknown grammar production ${node.constructor.name}`);
  const out: Record<string, unknown> = { c };
  for (const [key, value] of Object.entries(node)) {
    // A NonTerminal's rule is linked again by chevrotain's resolving phase.
    if (key === "referencedRule" || value === undefined) continue;
    if (key === "_definition") out[key] = (value as object[]).map(encode);
    else if (TOKEN_FIELDS.has(key)) out[key] = (value as TokenType).name;
    else out[key] = value;
  }
  return out as EncodedProduction;
}

/** Where the data lives, from the repository root. */
export const RECORDED_GRAMMAR_FILE = "grammar/recorded-grammar-data.ts";

/** The text of recorded-grammar-data.ts for the rules a parser recorded. */
export function recordedGrammarSource(rules: readonly Rule[], maxLookahead: number): string {
  return [
    "// Generated from grammar/parser.ts by npm run build or test/grammar/recorded-grammar.test.ts (see grammar/recorded-grammar.ts); do not edit.",
    'import type { EncodedLookahead, EncodedProduction } from "./recorded-grammar.js";',
    "",
    `export const RECORDED_GRAMMAR: readonly EncodedProduction[] = ${JSON.stringify(encodeGrammar(rules))};`,
    "",
    `export const RECORDED_LOOKAHEAD: EncodedLookahead = ${JSON.stringify(encodeLookahead(rules, maxLookahead))};`,
    "",
  ].join("\n");
}

/** The recorded rules as data. */
export function encodeGrammar(rules: readonly Rule[]): EncodedProduction[] {
  return rules.map(encode);
}

/** chevrotain's production objects again, each field as recorded; `tokens` gives the token types by name. */
export function decodeGrammar(data: readonly EncodedProduction[], tokens: ReadonlyMap<string, TokenType>): Rule[] {
  const decode = (e: EncodedProduction): IProduction => {
    const node = Object.create(CLASSES[e.c]!.prototype) as Record<string, unknown>;
    for (const [key, value] of Object.entries(e)) {
      if (key === "c") continue;
      if (key === "_definition") node[key] = (value as EncodedProduction[]).map(decode);
      else if (TOKEN_FIELDS.has(key)) node[key] = tokens.get(value as string);
      else node[key] = value;
    }
    return node as unknown as IProduction;
  };
  return data.map((e) => decode(e) as Rule);
}

// ---------------------------------------------------------------- lookahead

/**
 * The LL(k) lookahead of every alternation and optional production: per
 * alternative (an optional production has one, the way into it), the token
 * paths that choose it, as token names. Keyed `RULE:TYPE:OCCURRENCE`.
 */
export type EncodedLookahead = Readonly<Record<string, readonly (readonly (readonly string[])[])[]>>;

const LOOKAHEAD_TYPES = new Set(["Alternation", "Option", "Repetition", "RepetitionMandatory", "RepetitionMandatoryWithSeparator", "RepetitionWithSeparator"]);

/** The key of a production's lookahead. */
export function lookaheadKey(rule: string, type: string, occurrence: number): string {
  return `${rule}:${type}:${occurrence}`;
}

/** The productions of a rule that have a lookahead function (as chevrotain collects them: subrules are not entered). */
function lookaheadProductions(rule: Rule): { type: string; idx: number; maxLookahead: number | undefined }[] {
  const out: { type: string; idx: number; maxLookahead: number | undefined }[] = [];
  const walk = (prods: readonly IProduction[]): void => {
    for (const p of prods) {
      const type = classOf(p) ?? "";
      if (type === "NonTerminal" || type === "Terminal") continue;
      const fields = p as unknown as { idx: number; maxLookahead?: number; definition: IProduction[] };
      if (LOOKAHEAD_TYPES.has(type)) out.push({ type, idx: fields.idx, maxLookahead: fields.maxLookahead });
      walk(fields.definition);
    }
  };
  walk(rule.definition);
  return out;
}

/** Every lookahead of the recorded rules, computed by chevrotain. */
export function encodeLookahead(rules: readonly Rule[], maxLookahead: number): EncodedLookahead {
  const out: Record<string, string[][][]> = {};
  for (const rule of rules) {
    for (const p of lookaheadProductions(rule)) {
      const paths = getLookaheadPaths({ occurrence: p.idx, rule, prodType: p.type as "Alternation", maxLookahead: p.maxLookahead ?? maxLookahead });
      const alternatives = p.type === "Alternation" ? paths : [paths[0]!];
      out[lookaheadKey(rule.name, p.type, p.idx)] = alternatives.map((alt) => alt.map((path) => path.map((t) => t.name)));
    }
  }
  return out;
}

/** The lookahead paths again as token types. */
export function decodeLookahead(data: EncodedLookahead, tokens: ReadonlyMap<string, TokenType>): Map<string, TokenType[][][]> {
  return new Map(Object.entries(data).map(([key, alts]) => [key, alts.map((alt) => alt.map((path) => path.map((name) => tokens.get(name)!)))]));
}
