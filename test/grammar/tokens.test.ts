import { describe, expect, it } from "vitest";
import type { TokenType } from "chevrotain";
import { Lexer } from "../../grammar/chevrotain.js";
import { ALL_TOKENS, policyLexer } from "../../grammar/tokens.js";

/**
 * The lexer is built from hints (`start_chars_hint`, `line_breaks`) instead of
 * analysing each regular expression at start-up: a missing first character
 * would silently stop a token from being tried, so each hint is checked
 * against its pattern here.
 */
const regexTokens = ALL_TOKENS.filter((t) => t.PATTERN instanceof RegExp && t.PATTERN !== Lexer.NA);

/** Every character a pattern could begin with, tried with several continuations. */
function firstChars(pattern: RegExp): Set<string> {
  const sticky = new RegExp(pattern.source, "y");
  const tails = ["", "a", "0", "1s", "_", '"', '""', '"x"', ".5", "e3", " ", "\n"];
  const out = new Set<string>();
  for (let code = 0; code <= 0xffff; code++) {
    const c = String.fromCharCode(code);
    for (const tail of tails) {
      sticky.lastIndex = 0;
      const m = sticky.exec(c + tail);
      if (m !== null && m[0].length > 0) {
        out.add(c);
        break;
      }
    }
  }
  return out;
}

describe("token hints", () => {
  it("every regular-expression token has both hints", () => {
    const missing = regexTokens.filter((t) => t.START_CHARS_HINT === undefined || t.LINE_BREAKS === undefined).map((t) => t.name);
    expect(missing).toEqual([]);
  });

  it.each(regexTokens.map((t) => [t.name, t] as [string, TokenType]))("%s: start_chars_hint lists exactly the characters it can start with", (_name, t) => {
    const hinted = new Set((t.START_CHARS_HINT ?? []).map((c) => (typeof c === "number" ? String.fromCharCode(c) : c)));
    expect([...firstChars(t.PATTERN as RegExp)].sort()).toEqual([...hinted].sort());
  });

  it.each(regexTokens.map((t) => [t.name, t] as [string, TokenType]))("%s: line_breaks says whether a match can hold a line break", (_name, t) => {
    const sticky = new RegExp((t.PATTERN as RegExp).source, "y");
    const starts = (t.START_CHARS_HINT ?? []).map((c) => (typeof c === "number" ? String.fromCharCode(c) : c));
    let spans = false;
    for (const s of starts) {
      for (const input of [`${s}\n`, `${s}\r`, `${s}${s}\n${s}`, `${s}x\ny`, `${s}""\nx"""`, `${s}1\n`]) {
        sticky.lastIndex = 0;
        const m = sticky.exec(input);
        if (m !== null && /[\n\r]/.test(m[0])) spans = true;
      }
    }
    expect(spans).toBe(t.LINE_BREAKS);
  });

  it("lexes every kind of token with its position", () => {
    const r = policyLexer.tokenize('policy p # c\nlet x = """a\nb""" ?? "s" + 1.5e3 - 30s\nlet hosts = host.vm');
    expect(r.errors).toEqual([]);
    expect(r.tokens.map((t) => `${t.tokenType.name}:${t.image}@${t.startLine}:${t.startColumn}`)).toEqual([
      "Policy:policy@1:1",
      "Identifier:p@1:8",
      "Let:let@2:1",
      "Identifier:x@2:5",
      "Equals:=@2:7",
      'String3:"""a\nb"""@2:9',
      "Coalesce:??@3:6",
      'String:"s"@3:9',
      "Plus:+@3:13",
      "PlainNumber:1.5e3@3:15",
      "Minus:-@3:21",
      "Duration:30s@3:23",
      "Let:let@4:1",
      "Identifier:hosts@4:5",
      "Equals:=@4:11",
      "HostWord:host@4:13",
      "Dot:.@4:17",
      "VmWord:vm@4:18",
    ]);
  });
});
