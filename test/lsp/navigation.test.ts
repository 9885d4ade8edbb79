import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { at, LspClient, range, uriOf } from "./client.js";
import { DEMO, policyFolder, serverWith, stopClean } from "./fixtures.js";

// One server: hover, definition, references, outline and rename on fixtures.ts's DEMO policy.
const folder = policyFolder();
const demo = uriOf(join(folder.dir, "demo.policy"));
let client: LspClient;

beforeAll(async () => {
  client = await serverWith(demo, DEMO);
});
afterAll(async () => {
  await stopClean(client);
  folder.cleanup();
});

const hoverText = async (line: number, column: number): Promise<string | null> => {
  const h = await client.hover(demo, at(line, column));
  return h === null ? null : (h.contents as { value: string }).value;
};

describe("hover", () => {
  it("documents a field from the stdlib field table, with its type and the range of the name", async () => {
    expect(await client.hover(demo, at(5, 22))).toEqual({
      contents: {
        kind: "markdown",
        value:
          "`host.load`: a number\n\n`sum(vm.cpu) / cpus`: percent of the host's capacity (may exceed 100 when overcommitted); projected during planning.",
      },
      range: range(5, 21, 5, 25),
    });
  });

  it("documents stdlib functions, aggregates and can_move", async () => {
    expect(await hoverText(6, 20)).toBe(
      "```vmpolicy\nmax(number, number, …) → number\n```\n\nThe largest of two or more numbers (`max(x for BINDING)` is the aggregate).\n\nExample: `max(mean - band, 0)`: 0 when mean is 5 and band 10.",
    );
    expect(await hoverText(5, 13)).toBe(
      "```vmpolicy\navg(VALUE for BINDING) → number\n```\n\nThe arithmetic mean; none over no elements.\n\nExample: `avg(host.load for host where host.state == up)`",
    );
    expect(await hoverText(18, 38)).toMatch(/^```vmpolicy\ncan_move\(vm, host\) → bool\n```\n\nTrue exactly when the planner would accept/);
  });

  it("shows the declaration of params, lets, groups and rule lets", async () => {
    expect(await hoverText(6, 24)).toBe("```vmpolicy\nparam band = 10\n```\n\nA param of policy `demo`; set it with `demo.band=VALUE`.");
    expect(await hoverText(8, 31)).toBe("```vmpolicy\nlet upper = mean + max(band, 0)\n```\n\nA let of policy `demo`: a number.");
    expect(await hoverText(17, 18)).toBe("```vmpolicy\ngroup rest otherwise\n```\n\nA group of policy `demo`.");
    expect(await hoverText(19, 22)).toBe("```vmpolicy\nlet dst = pick rest host where not host.busy by host.load asc\n```\n\nA let of rule `balance`: a host.");
    expect(await hoverText(12, 8)).toBe("`vm`: the VM being placed, in constraint `apart`.");
    expect(await hoverText(16, 33)).toBe("`src`: a host, the element of `heavy host as src`.");
  });

  it("has nothing to say on a comment, a keyword or a number", async () => {
    expect(await client.hover(demo, at(3, 14))).toBeNull();
    expect(await client.hover(demo, at(19, 4))).toBeNull();
  });
});

describe("definition and references", () => {
  it("goes from a use to its declaration: param, group in a binding, rule let, element, constraint subject", async () => {
    expect(await client.definition(demo, at(6, 25))).toEqual({ uri: demo, range: range(3, 7, 3, 11) });
    expect(await client.definition(demo, at(16, 12))).toEqual({ uri: demo, range: range(8, 7, 8, 12) });
    expect(await client.definition(demo, at(19, 16))).toEqual({ uri: demo, range: range(18, 7, 18, 9) });
    expect(await client.definition(demo, at(16, 33))).toEqual({ uri: demo, range: range(16, 26, 16, 29) });
    expect(await client.definition(demo, at(12, 8))).toEqual({ uri: demo, range: range(11, 12, 11, 17) });
    expect(await client.definition(demo, at(5, 22))).toBeNull();
  });

  it("finds every reference of a let and a group, with or without the declaration", async () => {
    expect(await client.references(demo, at(6, 6))).toEqual([
      { uri: demo, range: range(6, 5, 6, 10) },
      { uri: demo, range: range(8, 30, 8, 35) },
    ]);
    expect(await client.references(demo, at(8, 8), false)).toEqual([{ uri: demo, range: range(16, 12, 16, 17) }]);
    expect(await client.references(demo, at(11, 13))).toEqual([{ uri: demo, range: range(11, 12, 11, 17) }]);
  });
});

describe("while a line is half typed (the file does not parse)", () => {
  it("answers hover, definition and references from the last check, names moved to where they are now", async () => {
    // Two new lines in the rule: everything after them moves down two lines.
    client.change(demo, 2, range(18, 1, 18, 1), "  when dst.\n  let x = \n");
    expect((await client.diagnostics(demo, 2)).map((d) => d.code)).toContain("P115");
    expect(await hoverText(6, 24)).toBe("```vmpolicy\nparam band = 10\n```\n\nA param of policy `demo`; set it with `demo.band=VALUE`.");
    expect(await client.definition(demo, at(21, 22))).toEqual({ uri: demo, range: range(17, 7, 17, 10) });
    expect(await client.references(demo, at(17, 8))).toEqual([
      { uri: demo, range: range(17, 7, 17, 10) },
      { uri: demo, range: range(20, 50, 20, 53) },
      { uri: demo, range: range(21, 22, 21, 25) },
    ]);
    // The edited lines themselves have no names yet, and rename waits for a file that parses.
    expect(await client.hover(demo, at(18, 9))).toBeNull();
    await expect(client.rename(demo, at(3, 8), "width")).rejects.toThrow("the file has syntax errors; fix them to rename");
    client.change(demo, 3, range(18, 1, 20, 1), "");
    expect(await client.diagnostics(demo, 3)).toEqual([]);
  });
});

describe("document symbols", () => {
  it("outlines the policy: params, lets, groups, constraints, rules with their lets", async () => {
    const symbols = await client.symbols(demo);
    const outline = (s: { name: string; detail?: string; children?: unknown[] }): unknown =>
      s.children === undefined || s.children.length === 0 ? `${s.detail} ${s.name}` : { [`${s.detail} ${s.name}`]: s.children.map((c) => outline(c as typeof s)) };
    expect(symbols.map(outline)).toEqual([
      {
        "policy demo": [
          "param band",
          "let mean",
          "let upper",
          "group heavy",
          "group rest",
          "constraint apart",
          { "rule balance": ["let dst", "let vm"] },
        ],
      },
    ]);
    expect(symbols[0]!.children![6]!.selectionRange).toEqual(range(15, 6, 15, 13));
  });
});

describe("rename", () => {
  it("renames a param and a group at every use, including bindings", async () => {
    expect(await client.prepareRename(demo, at(6, 25))).toEqual({ range: range(6, 24, 6, 28), placeholder: "band" });
    expect(await client.rename(demo, at(3, 8), "width")).toEqual({
      changes: {
        [demo]: [
          { range: range(3, 7, 3, 11), newText: "width" },
          { range: range(6, 24, 6, 28), newText: "width" },
        ],
      },
    });
    expect(await client.rename(demo, at(17, 19), "cool")).toEqual({
      changes: {
        [demo]: [
          { range: range(9, 7, 9, 11), newText: "cool" },
          { range: range(17, 18, 17, 22), newText: "cool" },
        ],
      },
    });
  });

  it("refuses what would break the policy, saying why", async () => {
    await expect(client.rename(demo, at(5, 6), "upper")).rejects.toThrow("cannot rename to `upper`: it is already declared at line 6");
    await expect(client.rename(demo, at(5, 6), "when")).rejects.toThrow("cannot rename to `when`: it is a reserved word");
    await expect(client.rename(demo, at(5, 6), "2x")).rejects.toThrow("cannot rename to `2x`: it is not a name");
    await expect(client.prepareRename(demo, at(15, 8))).rejects.toThrow("only a let, a param or a group can be renamed");
  });
});

describe("script functions", () => {
  const SCRIPTED = `policy scripted

script """
function headroom(load, target) {
  return target - load;
}
"""

rule roomy
  for each host as h
  when headroom(h.load, 50) > 10
  then alert "room on " + h.name
`;
  const scripted = uriOf(join(folder.dir, "scripted.policy"));

  it("resolves a call to its function in the script block (the QuickJS analyzer, loaded on first need)", async () => {
    client.open(scripted, SCRIPTED, 1);
    expect(await client.diagnostics(scripted, 1)).toEqual([]);
    expect(await client.definition(scripted, at(11, 9))).toEqual({ uri: scripted, range: range(4, 10, 4, 18) });
    expect(await client.references(scripted, at(4, 12))).toEqual([
      { uri: scripted, range: range(4, 10, 4, 18) },
      { uri: scripted, range: range(11, 8, 11, 16) },
    ]);
    expect(await hoverAt(scripted, 11, 9)).toBe(
      "```vmpolicy\nfunction headroom(…)  # 2 arguments\n```\n\nA function of a `script` block, run in the QuickJS sandbox (SPEC 2.8).",
    );
    const outline = (await client.symbols(scripted))[0]!.children!.map((s) => `${s.detail} ${s.name}`);
    expect(outline).toEqual(["script function headroom", "rule roomy"]);
    client.replace(scripted, 2, SCRIPTED.replace("when headroom(h.load, 50) > 10", "when h"));
    const item = (await client.completion(scripted, at(11, 9))).find((i) => i.label === "headroom");
    expect(item).toEqual({ label: "headroom", kind: 3, detail: "script function, 2 arguments" });
    client.close(scripted);
  });
});

async function hoverAt(uri: string, line: number, column: number): Promise<string | null> {
  const h = await client.hover(uri, at(line, column));
  return h === null ? null : (h.contents as { value: string }).value;
}
