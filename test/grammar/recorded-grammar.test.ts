import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CstElement, CstNode, IToken, Rule } from "chevrotain";
import { lexPolicy } from "../../grammar/lexer.js";
import { MAX_LOOKAHEAD } from "../../grammar/lookahead.js";
import { PolicyParser } from "../../grammar/parser.js";
import { decodeGrammar, encodeGrammar, RECORDED_GRAMMAR_FILE, recordedGrammarSource } from "../../grammar/recorded-grammar.js";
import { RECORDED_GRAMMAR } from "../../grammar/recorded-grammar-data.js";
import { ALL_TOKENS } from "../../grammar/tokens.js";

/** The grammar as chevrotain records it from parser.ts right now (under vitest the parser records and validates). */
function recorded(): Rule[] {
  return new PolicyParser(true).grammarRules();
}

function policyFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return policyFiles(path);
    return e.name.endsWith(".policy") ? [path] : [];
  });
}

function dump(e: CstElement): unknown {
  if ("image" in e) return `${(e as IToken).tokenType.name}@${(e as IToken).startOffset}`;
  const n = e as CstNode;
  return [n.name, Object.entries(n.children).map(([k, v]) => [k, v.map(dump)])];
}

describe("the recorded grammar", () => {
  it("is what parser.ts records (UPDATE_GRAMMAR=1 rewrites it)", () => {
    const text = recordedGrammarSource(recorded(), MAX_LOOKAHEAD);
    if (process.env["UPDATE_GRAMMAR"] === "1") writeFileSync(RECORDED_GRAMMAR_FILE, text);
    expect(readFileSync(RECORDED_GRAMMAR_FILE, "utf8")).toBe(text);
  });

  it("decodes into the productions it was encoded from", () => {
    const tokens = new Map(ALL_TOKENS.map((t) => [t.name, t]));
    expect(encodeGrammar(decodeGrammar(RECORDED_GRAMMAR, tokens))).toEqual(RECORDED_GRAMMAR);
    expect(encodeGrammar(decodeGrammar(RECORDED_GRAMMAR, tokens))).toEqual(encodeGrammar(recorded()));
  });

  it("parses and recovers exactly as the recorded grammar does (every policy file, whole and cut short)", () => {
    const fromData = new PolicyParser(false);
    const fromRecording = new PolicyParser(true);
    const files = [...policyFiles("policies"), ...policyFiles("test")].map((f) => readFileSync(f, "utf8"));
    const texts = [
      "policy p\nlet x = (1 +\nrule r when exists host h then migrate\n",
      "policy p\ngroup g when host.load > \nlet = 3\nconstraint c require no vm in host.vms where\n",
      // Cut at seven places, each file stops mid-construct: recovery from everywhere.
      ...files.flatMap((text) => [text, ...[1, 2, 3, 4, 5, 6, 7].map((i) => text.slice(0, Math.floor((text.length * i) / 8)))]),
    ];
    for (const text of texts) {
      const results = [fromData, fromRecording].map((parser) => {
        parser.reservedNames = [];
        parser.input = lexPolicy(text).tokens;
        const cst = parser.file();
        return { cst: dump(cst), errors: parser.errors.map((e) => `${e.name}: ${e.message} @${e.token.startOffset}`) };
      });
      expect(results[0], text).toEqual(results[1]);
    }
  });
});
