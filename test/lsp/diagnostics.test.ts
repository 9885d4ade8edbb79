import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { at, LspClient, range, uriOf } from "./client.js";
import { DEMO, OTHER, policyFolder } from "./fixtures.js";

// One server for the file: diagnostics as the user types, set-wide checks, and survival of bad input.
const folder = policyFolder();
const demo = uriOf(join(folder.dir, "demo.policy"));
const other = uriOf(join(folder.dir, "other.policy"));
let client: LspClient;

beforeAll(async () => {
  client = new LspClient();
  const init = await client.initialize();
  expect(init.capabilities).toMatchObject({ hoverProvider: true, definitionProvider: true, renameProvider: { prepareProvider: true } });
});
afterAll(async () => {
  expect(await client.stop()).toBe(0);
  folder.cleanup();
});

describe("diagnostics", () => {
  it("publishes the checker's diagnostics for the document and the other files of its folder", async () => {
    client.open(demo, DEMO, 1);
    expect(await client.diagnostics(demo, 1)).toEqual([]);
    expect(await client.diagnostics(other)).toEqual([]);
  });

  it("re-checks after a keystroke: an unknown name with its code, exact range and suggestion", async () => {
    // `let upper = mean + band` → `let upper = meen + band`
    client.change(demo, 2, range(6, 15, 6, 16), "e");
    expect(await client.diagnostics(demo, 2)).toEqual([
      {
        range: range(6, 13, 6, 17),
        severity: 1,
        code: "T201",
        source: "vmpolicy",
        message: "unknown name `meen`; did you mean `mean`?",
      },
    ]);
    client.change(demo, 3, range(6, 15, 6, 16), "a");
    expect(await client.diagnostics(demo, 3)).toEqual([]);
  });

  it("tags every publication with the version of the text it checked, through a burst of edits", async () => {
    // Even versions misspell `mean`, odd ones fix it, typed at 8–15 ms a key: some keys land while
    // the check of the one before is running (the server waits 10 ms after a key before checking).
    for (let v = 10; v < 40; v++) {
      client.change(demo, v, range(6, 15, 6, 16), v % 2 === 0 ? "e" : "a");
      await new Promise((r) => setTimeout(r, 8 + (v % 8)));
    }
    expect(await client.diagnostics(demo, 39)).toEqual([]);
    const burst = client.published.filter((p) => p.uri === demo && p.version !== undefined && p.version >= 10);
    expect(burst.length).toBeGreaterThan(1);
    for (const p of burst) expect([p.version, p.diagnostics.map((d) => d.code)]).toEqual([p.version, p.version! % 2 === 0 ? ["T201"] : []]);
    client.change(demo, 40, range(6, 15, 6, 16), "a");
    expect(await client.diagnostics(demo, 40)).toEqual([]);
  });

  it("checks the document with its siblings: a policy name taken by another file of the folder", async () => {
    client.change(demo, 41, range(1, 8, 1, 12), "other");
    // The set is demo.policy then other.policy; the second declaration is the duplicate.
    const onOther = await waitFor(async () => (await client.diagnostics(other)).filter((d) => d.code === "T221"));
    expect(onOther).toEqual([
      {
        range: range(1, 8, 1, 13),
        severity: 1,
        code: "T221",
        source: "vmpolicy",
        message: `duplicate policy \`other\`: another file of this set declares it\nhint: first declared in ${join(folder.dir, "demo.policy")}:1:8`,
      },
    ]);
    client.change(demo, 42, range(1, 8, 1, 13), "demo");
    expect(await client.diagnostics(demo, 42)).toEqual([]);
    expect(await waitFor(async () => ((await client.diagnostics(other)).length === 0 ? [true] : []))).toEqual([true]);
  });

  it("reports syntax errors of a half-typed line, and warnings with their code", async () => {
    client.change(demo, 43, range(6, 1, 6, 1), "let x = host.\n");
    const ds = await client.diagnostics(demo, 43);
    // The dangling dot, then the parser's knock-on error at `upper` of the next line (as `vmpolicy check` reports them).
    expect(ds.map((d) => [d.code, d.range.start.line + 1, d.range.start.character + 1])).toEqual([
      ["P115", 6, 13],
      ["P108", 7, 5],
    ]);
    client.change(demo, 44, range(6, 1, 7, 1), "let unused = 1\n");
    expect(await client.diagnostics(demo, 44)).toEqual([
      { range: range(6, 5, 6, 11), severity: 2, code: "W302", source: "vmpolicy", message: "unused let `unused`" },
    ]);
    client.change(demo, 45, range(6, 1, 7, 1), "");
    expect(await client.diagnostics(demo, 45)).toEqual([]);
  });

  it("survives garbage, deep nesting and a huge file, answering with diagnostics", async () => {
    const scratch = "untitled:scratch.policy";
    client.open(scratch, "\u0000\u0001 }}}} policy", 1);
    expect((await client.diagnostics(scratch, 1)).length).toBeGreaterThan(0);
    client.replace(scratch, 2, `policy deep\nlet x = ${"(".repeat(5000)}1${")".repeat(5000)}\n`);
    expect((await client.diagnostics(scratch, 2)).map((d) => d.code)).toEqual(["P114"]);
    client.replace(scratch, 3, 'policy open\nscript """\nfunction f() {\n');
    expect((await client.diagnostics(scratch, 3)).map((d) => [d.code, d.message])).toEqual([
      ["P104", 'unterminated script block: a closing `"""` is missing'],
    ]);
    client.replace(scratch, 4, "policy huge\n" + "# padding\n".repeat(60_000));
    expect(await client.diagnostics(scratch, 4)).toEqual([
      {
        range: range(1, 1, 1, 1),
        severity: 2,
        code: "L001",
        source: "vmpolicy",
        message: "file too large to check in the editor: 600012 characters (limit 500000); run `vmpolicy check` on it",
      },
    ]);
    client.close(scratch);
    expect(client.alive).toBe(true);
    const hover = await client.hover(demo, at(3, 8));
    expect(client.logs).toEqual([]);
    expect(hover?.contents).toMatchObject({ kind: "markdown" });
  });

  it("re-checks the set when a sibling changes on disk (workspace/didChangeWatchedFiles)", async () => {
    writeFileSync(join(folder.dir, "other.policy"), OTHER.replace("host.vm_count", "host.vm_cont"));
    void client.connection.sendNotification("workspace/didChangeWatchedFiles", { changes: [{ uri: other, type: 2 }] });
    const onOther = await waitFor(async () => await client.diagnostics(other));
    expect(onOther).toEqual([
      {
        range: range(4, 58, 4, 65),
        severity: 1,
        code: "T202",
        source: "vmpolicy",
        message: "unknown field `vm_cont` of host; did you mean `vm_count`?",
      },
    ]);
    writeFileSync(join(folder.dir, "other.policy"), OTHER);
  });
});

/** Polls `probe` until it gives a non-empty list (diagnostics of a file nobody versions). */
async function waitFor<T>(probe: () => Promise<T[]>): Promise<T[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = await probe();
    if (found.length > 0 || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}
