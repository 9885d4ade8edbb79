import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { IToken } from "chevrotain";
import { Lexer } from "../../grammar/chevrotain.js";
import { lexPolicy } from "../../grammar/lexer.js";
import { ALL_TOKENS } from "../../grammar/tokens.js";

/** chevrotain's own lexer over the same token types: what lexer.ts must reproduce exactly. */
const reference = new Lexer(ALL_TOKENS, { positionTracking: "full", ensureOptimizations: true });

function show(t: IToken): string {
  return `${t.tokenType.name}:${JSON.stringify(t.image)}@${t.startOffset}-${t.endOffset} ${t.startLine}:${t.startColumn}-${t.endLine}:${t.endColumn} #${t.tokenTypeIdx}`;
}

function bothLexers(text: string): { ours: unknown; theirs: unknown } {
  const r = reference.tokenize(text);
  const o = lexPolicy(text);
  return {
    theirs: { tokens: r.tokens.map(show), comments: (r.groups["comments"] ?? []).map(show), errors: r.errors },
    ours: { tokens: o.tokens.map(show), comments: o.comments.map(show), errors: o.errors },
  };
}

function policyFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return policyFiles(path);
    return e.name.endsWith(".policy") ? [path] : [];
  });
}

/** Pieces that meet at every kind of token boundary, bad characters and line ending included. */
const PIECES = [
  "policy", "p", " ", "  ", "\n", "\r\n", "\r", "\t", "\uFEFF", "\v", "host", "hostx", "vm", "vms", "no", "none", "not", "note",
  "in", "index", "exists", "for", "each", "_x", "A9", "x_1", "0", "12", "1.5", "1.", ".5", "1e3", "1E-2", "30s", "5m", "2h", "5min",
  "2x", "3.h", '"', '"a b"', '"\\"q\\\\"', '"\\n', '"""', '"""js\nx\r\n"""', '""', "#", "# c", "#x\r\n", "?", "??", "!", "!=", "=",
  "==", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", ".", ",", "(", ")", "[", "]", "@", "$", "é", "{", "}", ";", "\\", "`", "~",
];

/** A deterministic stream of pseudo-random texts (a linear congruential generator, so a failure can be re-run). */
function* generatedTexts(count: number): Generator<string> {
  let seed = 12345;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < count; i++) {
    let text = "";
    const pieces = 1 + next(30);
    for (let j = 0; j < pieces; j++) text += PIECES[next(PIECES.length)];
    yield text;
  }
}

describe("lexPolicy matches chevrotain's lexer", () => {
  it("on every shipped and test policy file", () => {
    const files = [...policyFiles("policies"), ...policyFiles("test")];
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const { ours, theirs } = bothLexers(readFileSync(file, "utf8"));
      expect(ours, file).toEqual(theirs);
    }
  });

  it("on 3,000 generated texts (every token boundary, line endings, unknown characters)", () => {
    for (const text of generatedTexts(3000)) {
      const { ours, theirs } = bothLexers(text);
      expect(ours, JSON.stringify(text)).toEqual(theirs);
    }
  });

  it("gives exact positions, lines of a script block and skipped characters", () => {
    const r = lexPolicy('policy p # c\nlet x = """a\r\nb""" ?? "s" @@ 1.5e3\r\n\thost.vm');
    expect(r.tokens.map(show)).toEqual([
      'Policy:"policy"@0-5 1:1-1:6 #' + r.tokens[0]!.tokenTypeIdx,
      'Identifier:"p"@7-7 1:8-1:8 #' + r.tokens[1]!.tokenTypeIdx,
      'Let:"let"@13-15 2:1-2:3 #' + r.tokens[2]!.tokenTypeIdx,
      'Identifier:"x"@17-17 2:5-2:5 #' + r.tokens[3]!.tokenTypeIdx,
      'Equals:"="@19-19 2:7-2:7 #' + r.tokens[4]!.tokenTypeIdx,
      'String3:"\\"\\"\\"a\\r\\nb\\"\\"\\""@21-30 2:9-3:4 #' + r.tokens[5]!.tokenTypeIdx,
      'Coalesce:"??"@32-33 3:6-3:7 #' + r.tokens[6]!.tokenTypeIdx,
      'String:"\\"s\\""@35-37 3:9-3:11 #' + r.tokens[7]!.tokenTypeIdx,
      'PlainNumber:"1.5e3"@42-46 3:16-3:20 #' + r.tokens[8]!.tokenTypeIdx,
      'HostWord:"host"@50-53 4:2-4:5 #' + r.tokens[9]!.tokenTypeIdx,
      'Dot:"."@54-54 4:6-4:6 #' + r.tokens[10]!.tokenTypeIdx,
      'VmWord:"vm"@55-56 4:7-4:8 #' + r.tokens[11]!.tokenTypeIdx,
    ]);
    expect(r.comments.map((t) => t.image)).toEqual(["# c"]);
    expect(r.errors).toEqual([{ offset: 39, line: 3, column: 13, length: 2, message: "unexpected character: ->@<- at offset: 39, skipped 2 characters." }]);
  });
});
