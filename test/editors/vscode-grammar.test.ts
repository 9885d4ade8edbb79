import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, join, resolve } from "node:path";
import oniguruma from "vscode-oniguruma";
import textmate from "vscode-textmate";
import { beforeAll, describe, expect, it } from "vitest";

// The VS Code grammar (editors/vscode/syntaxes/vmpolicy.tmLanguage.json) run by the engine VS Code
// uses (vscode-textmate + oniguruma) over every shipped policy, against golden scope files in
// test/editors/golden/: one line per token, `LINE:COLUMN "text" scopes`. Regenerate after a
// deliberate grammar change with UPDATE_GOLDEN=1 and read the diff.
const root = resolve(import.meta.dirname, "../..");
const grammarPath = join(root, "editors/vscode/syntaxes/vmpolicy.tmLanguage.json");
const goldenDir = join(import.meta.dirname, "golden");
let grammar: textmate.IGrammar;
const JS_STAND_IN = {
  scopeName: "source.js",
  patterns: [
    { match: "\\b(function|return)\\b", name: "keyword.js" },
    { begin: '"', end: '"', name: "string.quoted.double.js" },
  ],
};

beforeAll(async () => {
  const wasm = readFileSync(createRequire(import.meta.url).resolve("vscode-oniguruma/release/onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope: string) => {
      if (scope === "source.vmpolicy") return textmate.parseRawGrammar(readFileSync(grammarPath, "utf8"), grammarPath);
      // VS Code brings its own JavaScript grammar; this stand-in knows strings and two keywords, enough
      // to show that a script body is handed to `source.js` (a missing grammar would drop the whole rule).
      if (scope === "source.js") return textmate.parseRawGrammar(JSON.stringify(JS_STAND_IN), "js.json");
      return null;
    },
  });
  grammar = (await registry.loadGrammar("source.vmpolicy"))!;
});

/** `LINE:COLUMN "text" scopes` for every token that is not only blanks, trimmed (the root scope left out; `-` for none). */
function scopes(text: string): string {
  const out: string[] = [];
  let stack = textmate.INITIAL;
  text.split("\n").forEach((line, i) => {
    const r = grammar.tokenizeLine(line, stack);
    for (const t of r.tokens) {
      const piece = line.slice(t.startIndex, t.endIndex);
      const text = piece.trim();
      if (text === "") continue;
      const column = t.startIndex + piece.length - piece.trimStart().length + 1;
      out.push(`${i + 1}:${column} ${JSON.stringify(text)} ${t.scopes.slice(1).join(" ") || "-"}`);
    }
    stack = r.ruleStack;
  });
  return out.join("\n") + "\n";
}

const shipped = [
  ...readdirSync(join(root, "policies")).filter((f) => f.endsWith(".policy")).map((f) => join(root, "policies", f)),
  ...readdirSync(join(root, "policies/examples")).filter((f) => f.endsWith(".policy")).map((f) => join(root, "policies/examples", f)),
];

describe("the TextMate grammar", () => {
  it.each(shipped.map((p) => [p.slice(root.length + 1), p]))("gives the golden scopes for %s", (_name, path) => {
    const golden = join(goldenDir, `${basename(path, ".policy")}.scopes`);
    const actual = scopes(readFileSync(path, "utf8"));
    if (process.env["UPDATE_GOLDEN"] === "1" || !existsSync(golden)) writeFileSync(golden, actual);
    expect(actual).toBe(readFileSync(golden, "utf8"));
  });

  it("scopes a script block's body as embedded JavaScript, up to the closing quotes", () => {
    const lines = scopes('script """\nfunction f(x) { return "a" + x; }\n"""\nlet y = f(1)').split("\n");
    expect(lines).toEqual([
      '1:1 "script" keyword.other.declaration.script.vmpolicy',
      '1:8 "\\"\\"\\"" punctuation.definition.string.begin.vmpolicy',
      '2:1 "function" meta.embedded.block.javascript source.js keyword.js',
      '2:10 "f(x) {" meta.embedded.block.javascript source.js',
      '2:17 "return" meta.embedded.block.javascript source.js keyword.js',
      '2:24 "\\"" meta.embedded.block.javascript source.js string.quoted.double.js',
      '2:25 "a" meta.embedded.block.javascript source.js string.quoted.double.js',
      '2:26 "\\"" meta.embedded.block.javascript source.js string.quoted.double.js',
      '2:28 "+ x; }" meta.embedded.block.javascript source.js',
      '3:1 "\\"\\"\\"" punctuation.definition.string.end.vmpolicy',
      '4:1 "let" keyword.other.declaration.let.vmpolicy',
      '4:5 "y" variable.other.definition.let.vmpolicy',
      '4:7 "=" keyword.operator.assignment.vmpolicy',
      '4:9 "f" variable.function.vmpolicy',
      '4:10 "(" punctuation.bracket.vmpolicy',
      '4:11 "1" constant.numeric.vmpolicy',
      '4:12 ")" punctuation.bracket.vmpolicy',
      "",
    ]);
  });

  it("reads a keyword after a dot as a field, and `hosts` as no keyword", () => {
    expect(scopes("when host.group == heavy and hosts > 5m").split("\n").slice(0, -1)).toEqual([
      '1:1 "when" keyword.control.vmpolicy',
      '1:6 "host" variable.language.element.vmpolicy',
      '1:10 "." punctuation.accessor.vmpolicy',
      '1:11 "group" variable.other.property.vmpolicy',
      '1:17 "==" keyword.operator.comparison.vmpolicy',
      '1:20 "heavy" -',
      '1:26 "and" keyword.operator.logical.vmpolicy',
      '1:30 "hosts" -',
      '1:36 ">" keyword.operator.comparison.vmpolicy',
      '1:38 "5m" constant.numeric.duration.vmpolicy',
    ]);
  });
});
