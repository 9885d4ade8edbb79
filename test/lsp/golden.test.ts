import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LspClient, uriOf } from "./client.js";
import { stopClean } from "./fixtures.js";

// The editor shows what `vmpolicy check` prints: every golden case of test/golden/ (one per
// diagnostic code, with the CLI's exact output in CODE.txt) opened in a real server gives the
// same diagnostics — position, severity, message, hint, and the width of the caret.
const DIR = resolve(import.meta.dirname, "../golden");
const cases = readdirSync(DIR)
  .filter((f) => f.endsWith(".policy"))
  .map((f) => f.replace(/\.policy$/, ""))
  .sort();
let client: LspClient;

beforeAll(async () => {
  client = new LspClient();
  await client.initialize();
});
afterAll(async () => {
  await stopClean(client);
});

interface Shown {
  file: string;
  line: number;
  column: number;
  severity: "error" | "warning";
  message: string;
  width?: number;
}

/** The diagnostics of a CLI rendering: header, source line, caret line, optional hint. */
function parseRendered(text: string): Shown[] {
  const out: Shown[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const head = /^(.+?):(\d+):(\d+): (error|warning): (.*)$/.exec(lines[i]!);
    if (head !== null) {
      const caret = /^ {4}\s*(\^+)$/.exec(lines[i + 2] ?? "");
      out.push({ file: head[1]!, line: Number(head[2]), column: Number(head[3]), severity: head[4] as Shown["severity"], message: head[5]!, width: caret?.[1]!.length });
      continue;
    }
    const hint = /^ {4}hint: (.*)$/.exec(lines[i]!);
    if (hint !== null) out[out.length - 1]!.message += `\nhint: ${hint[1]}`;
  }
  return out;
}

/** The same fields of published LSP diagnostics (the caret width only for one-line spans, as the CLI draws it). */
function shown(file: string, diagnostics: Awaited<ReturnType<LspClient["diagnostics"]>>): Shown[] {
  return diagnostics.map((d) => {
    const s: Shown = { file, line: d.range.start.line + 1, column: d.range.start.character + 1, severity: d.severity === 1 ? "error" : "warning", message: d.message };
    s.width = d.range.end.line === d.range.start.line ? Math.max(1, d.range.end.character - d.range.start.character) : undefined;
    return s;
  });
}

describe("the editor's diagnostics are the CLI's", () => {
  it.each(cases)("%s", async (code) => {
    const golden = parseRendered(readFileSync(join(DIR, `${code}.txt`), "utf8"));
    expect(golden.length).toBeGreaterThan(0);
    const file = `test/golden/${code}.policy`;
    // An unsaved buffer is a set of its own, as the golden case is checked alone.
    const uri = `untitled:${code}.policy`;
    client.open(uri, readFileSync(join(DIR, `${code}.policy`), "utf8"));
    const actual = shown(file, await client.diagnostics(uri, 1));
    client.close(uri);
    // The caret of a multi-line span runs to the end of its first line; compare widths of one-line spans only.
    for (const [g, a] of golden.map((g, i) => [g, actual[i]] as const)) if (a?.width === undefined) delete g.width;
    expect(actual).toEqual(golden);
  });

  it("T221 (a folder checked as one set): the duplicate is shown on the file that has it", async () => {
    const a = uriOf(join(DIR, "T221", "a.policy"));
    const b = uriOf(join(DIR, "T221", "b.policy"));
    client.open(a, readFileSync(join(DIR, "T221", "a.policy"), "utf8"));
    expect(await client.diagnostics(a, 1)).toEqual([]);
    const golden = parseRendered(readFileSync(join(DIR, "T221.txt"), "utf8"));
    const onB = shown("test/golden/T221/b.policy", await client.diagnostics(b));
    // Spans name files by absolute path in the editor, by the path given on the command line in the CLI.
    expect(onB.map((d) => ({ ...d, message: d.message.replace(`${DIR}/`, "test/golden/") }))).toEqual(golden);
  });
});
