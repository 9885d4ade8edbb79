/**
 * Golden diagnostics: one case per code in test/golden/ — `CODE.policy` (or
 * a folder `CODE/` of files checked as one set) and `CODE.txt`, the exact
 * human output of `vmpolicy check` for it (no colour). Anyone can add a case
 * without writing TypeScript. `UPDATE_GOLDEN=1` rewrites the .txt files;
 * review the diff before committing it.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parsePolicy } from "../../grammar/parse.js";
import { checkPolicySet } from "../../grammar/checker.js";
import { compareDiagnostics, type Diagnostic } from "../../grammar/diagnostics.js";
import { renderDiagnostics } from "../../grammar/render-diagnostics.js";
import type { PolicyFile } from "../../grammar/ast.js";
import type { ScriptAnalyzer } from "../../grammar/types.js";

const DIR = "test/golden";
const cases = readdirSync(DIR)
  .filter((f) => f.endsWith(".policy") || statSync(join(DIR, f)).isDirectory())
  .map((f) => f.replace(/\.policy$/, ""))
  .sort();

let scripts: ScriptAnalyzer;
beforeAll(async () => {
  const sandbox = await import("../../engine/sandbox/index.js");
  await sandbox.loadSandbox();
  scripts = sandbox.scriptAnalyzer();
});

function render(code: string): string {
  const path = join(DIR, code);
  const files = existsSync(path) ? readdirSync(path).sort().map((f) => join(path, f)) : [`${path}.policy`];
  const texts = new Map(files.map((f) => [f, readFileSync(f, "utf8")]));
  const diagnostics: Diagnostic[] = [];
  const asts: PolicyFile[] = [];
  for (const [file, text] of texts) {
    const parsed = parsePolicy(text, file);
    diagnostics.push(...parsed.diagnostics);
    if (parsed.ast !== null) asts.push(parsed.ast);
  }
  diagnostics.push(...checkPolicySet(asts, { scripts }).diagnostics);
  return renderDiagnostics(diagnostics.sort(compareDiagnostics), texts, { color: false });
}

describe("golden diagnostics (test/golden)", () => {
  it("has a case for every code of the catalogue", () => {
    const catalogue = readFileSync("grammar/messages.ts", "utf8").match(/"[TW]\d{3}"/g)!.map((c) => c.slice(1, -1));
    expect(cases).toEqual([...new Set(catalogue)].sort());
  });

  for (const code of cases) {
    it(code, () => {
      const actual = render(code);
      const expectedFile = join(DIR, `${code}.txt`);
      if (process.env["UPDATE_GOLDEN"]) writeFileSync(expectedFile, actual);
      expect(actual).toBe(readFileSync(expectedFile, "utf8"));
      // The case shows its own code (first), and no syntax error hides it.
      expect(actual).toContain(`: ${code.startsWith("W") ? "warning" : "error"}: `);
    });
  }
});
