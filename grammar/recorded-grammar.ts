/**
 * The grammar of parser.ts as chevrotain records it (its GAST: rules,
 * alternations, repetitions, terminals), stored as data so that building the
 * parser outside the tests skips the recording phase (~15–20 ms of cold code
 * at every start-up). `encodeGrammar` turns the recorded rules into plain
 * data and `decodeGrammar` back into chevrotain's own production classes.
 * The data lives in recorded-grammar-data.ts; test/grammar/recorded-grammar.test.ts
 * fails when it no longer matches what parser.ts records, and rewrites it
 * with `UPDATE_GRAMMAR=1 npx vitest run test/grammar/recorded-grammar.test.ts`.
 */
import type { IProduction, Rule, TokenType } from "chevrotain";
import { GAST_CLASSES as CLASSES } from "./chevrotain.js";

/** One production as data: its class and its own fields, children under `_definition`, token types by name. */
export interface EncodedProduction {
  readonly c: string;
  readonly [field: string]: unknown;
}

/** Fields that hold a token type (stored by its name). */
const TOKEN_FIELDS = new Set(["terminalType", "separator"]);

function encode(node: object): EncodedProduction {
  const c = Object.keys(CLASSES).find((name) => node.constructor === CLASSES[name]);
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
