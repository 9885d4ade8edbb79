import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { at, LspClient, range, uriOf } from "./client.js";
import { DEMO, policyFolder, serverWith, stopClean } from "./fixtures.js";

// One server started as an editor would with --engine and --facts: completion, formatting,
// quick fixes, and hover with the values of a running engine's latest plan.
const folder = policyFolder();
const demo = uriOf(join(folder.dir, "demo.policy"));
const factsFile = join(folder.dir, "facts.json");
writeFileSync(
  factsFile,
  JSON.stringify({
    hosts: [
      { name: "h1", state: "up", cpus: 4, mem: 8192, labels: { rack: "r1", gpu: "yes" }, vms: [{ name: "a", cpu: 10, mem: 512, labels: { tier: "db" } }] },
      { name: "h2", state: "up", cpus: 4, mem: 8192, labels: { rack: "r2" }, vms: [{ name: "b", cpu: 10, mem: 512, labels: { tier: "web", team: "x" } }] },
    ],
  }),
);
let engine: Server;
let client: LspClient;

beforeAll(async () => {
  // A stand-in for `vmpolicy run`'s GET /plan (SPEC 3), on loopback.
  engine = createServer((req, res) => {
    if (req.url !== "/plan") return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ actions: [], values: { demo: { band: 10, mean: 42.5 } } }));
  });
  await new Promise<void>((r) => engine.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(engine.address() as AddressInfo).port}`;
  client = await serverWith(demo, DEMO, ["--engine", url, "--facts", factsFile]);
});
afterAll(async () => {
  await stopClean(client);
  await new Promise((r) => engine.close(r));
  folder.cleanup();
});

let version = 1;
/** Replaces the demo document's text and returns the labels offered at the end of `marker`'s line part. */
async function labelsAt(text: string, line: number, column: number): Promise<string[]> {
  client.replace(demo, ++version, text);
  return (await client.completion(demo, at(line, column))).map((i) => i.label);
}

describe("completion", () => {
  it("offers declaration keywords at the start of a line, clause keywords inside a rule, actions after then", async () => {
    expect(await labelsAt(DEMO.replace("\n\nconstraint", "\n\ng\nconstraint"), 11, 2)).toEqual(["param", "let", "group", "script", "constraint", "rule"]);
    expect(await labelsAt(DEMO.replace("  then migrate", "  w\n  then migrate"), 19, 4)).toEqual(["for each", "when", "let", "then"]);
    expect(await labelsAt(DEMO.replace("  when vm.labels", "  \n  when vm.labels"), 12, 3)).toEqual(["when", "require"]);
    expect(await labelsAt(DEMO.replace("then migrate vm to dst", "then a"), 19, 9)).toEqual(["migrate", "evacuate", "recover", "alert"]);
    expect(await labelsAt(DEMO.replace("group rest otherwise", "group rest "), 9, 12)).toEqual(["when", "otherwise"]);
    expect(await labelsAt(DEMO.replace("rule balance", "rule balance "), 15, 14)).toEqual(["priority"]);
  });

  it("offers groups and elements where a binding starts", async () => {
    expect(await labelsAt(DEMO.replace("for each heavy host", "for each "), 16, 12)).toEqual(["heavy", "rest", "host", "vm"]);
    expect(await labelsAt(DEMO.replace("for each heavy host", "for each heavy "), 16, 18)).toEqual(["host", "vm"]);
  });

  it("offers the fields of a host or a VM after a dot, by the type of what is before it", async () => {
    const host = ["name", "state", "cpus", "mem", "labels", "vms", "load", "load_avg", "used", "other_cpu", "mem_used", "mem_free", "mem_avail", "vm_count", "busy", "group"];
    const vm = ["name", "cpu", "cpu_avg", "cpu_changes", "mem", "labels", "pinned", "migrating", "host", "load"];
    // While the line is half typed the file does not parse: types come from its last check.
    expect(await labelsAt(DEMO.replace("then migrate vm to dst", "when dst.\n  then migrate vm to dst"), 19, 12)).toEqual(host);
    expect(await labelsAt(DEMO.replace("then migrate vm to dst", "when vm.\n  then migrate vm to dst"), 19, 11)).toEqual(vm);
    expect(await labelsAt(DEMO.replace("then migrate vm to dst", "when src.\n  then migrate vm to dst"), 19, 12)).toEqual(host);
    expect(await labelsAt(DEMO.replace("then migrate vm to dst", "when vm.host.\n  then migrate vm to dst"), 19, 16)).toEqual(host);
    const item = (await client.completion(demo, at(19, 16))).find((i) => i.label === "mem_free");
    expect(item).toEqual({
      label: "mem_free",
      kind: 5,
      detail: "host.mem_free: a number",
      documentation: "`mem - mem_used` in MiB (the smaller of that and a measured `mem_avail`).",
    });
  });

  it("offers label keys and values seen in the facts file", async () => {
    expect(await labelsAt(DEMO.replace("then migrate vm to dst", "when dst.labels.\n  then migrate vm to dst"), 19, 19)).toEqual(["gpu", "rack"]);
    expect(await labelsAt(DEMO.replace("then migrate vm to dst", "when vm.labels.\n  then migrate vm to dst"), 19, 18)).toEqual(["team", "tier"]);
    expect(await labelsAt(DEMO.replace('when vm.labels.tier == "db"', 'when vm.labels.tier == "'), 12, 27)).toEqual(["db", "web"]);
  });

  it("offers the policy's names, the rule's lets and elements, functions and states in an expression", async () => {
    const labels = await labelsAt(DEMO.replace("then migrate vm to dst", "when m\n  then migrate vm to dst"), 19, 9);
    for (const name of ["dst", "vm", "src", "band", "mean", "upper", "heavy", "rest", "up", "abs", "clamp", "avg", "median", "can_move", "exists", "pick"]) {
      expect(labels).toContain(name);
    }
    expect(labels).not.toContain("param");
    const mean = (await client.completion(demo, at(19, 9))).find((i) => i.label === "mean");
    expect(mean).toEqual({ label: "mean", kind: 6, detail: "let: a number" });
  });

  it("offers nothing in a comment, a string or where a new name is being written", async () => {
    expect(await labelsAt(DEMO.replace("let upper", "# let upper"), 6, 9)).toEqual([]);
    expect(await labelsAt(DEMO.replace("let upper", "let "), 6, 5)).toEqual([]);
  });
});

describe("formatting", () => {
  it("gives the layout of `vmpolicy fmt` as one edit, and nothing for a canonical or broken file", async () => {
    const messy = "policy   demo\nparam band=10\nlet mean=avg(host.load for host)+band\nrule r\n    when mean>1\n then alert \"hot\"\n";
    client.replace(demo, ++version, messy);
    expect(await client.formatting(demo)).toEqual([
      {
        range: range(1, 1, 7, 1),
        newText: 'policy demo\n\nparam band = 10\n\nlet mean = avg(host.load for host) + band\n\nrule r\n  when mean > 1\n  then alert "hot"\n',
      },
    ]);
    client.replace(demo, ++version, DEMO);
    expect(await client.formatting(demo)).toEqual([]);
    client.replace(demo, ++version, DEMO.replace("group rest otherwise", "group rest"));
    expect(await client.formatting(demo)).toEqual([]);
  });
});

describe("quick fixes", () => {
  const fixes = async (text: string, line: number, column: number): Promise<unknown[]> => {
    client.replace(demo, ++version, text);
    const actions = await client.codeActions(demo, range(line, column, line, column));
    return actions.map((a) => ({ title: a.title, edits: a.edit?.changes?.[demo], code: a.diagnostics?.[0]?.code }));
  };

  it("fixes every did-you-mean: names, fields, groups, functions", async () => {
    expect(await fixes(DEMO.replace("mean + max", "meen + max"), 6, 14)).toEqual([
      { title: "Change `meen` to `mean`", edits: [{ range: range(6, 13, 6, 17), newText: "mean" }], code: "T201" },
    ]);
    expect(await fixes(DEMO.replace("host.load > upper", "host.lod > upper"), 8, 24)).toEqual([
      { title: "Change `lod` to `load`", edits: [{ range: range(8, 23, 8, 26), newText: "load" }], code: "T202" },
    ]);
    expect(await fixes(DEMO.replace("for each heavy host", "for each hevy host"), 16, 12)).toEqual([
      { title: "Change `hevy` to `heavy`", edits: [{ range: range(16, 12, 16, 16), newText: "heavy" }], code: "T203" },
    ]);
    expect(await fixes(DEMO.replace("max(band, 0)", "mux(band, 0)"), 6, 21)).toEqual([
      { title: "Change `mux` to `max`", edits: [{ range: range(6, 20, 6, 23), newText: "max" }], code: "T204" },
    ]);
  });

  it("fixes a misspelt keyword, swapped migrate arguments and a quoted state", async () => {
    expect(await fixes(DEMO.replace("  let dst", "  when exist rest host\n  let dst"), 17, 8)).toEqual([
      { title: "Change `exist` to `exists`", edits: [{ range: range(17, 8, 17, 13), newText: "exists" }], code: "P107" },
    ]);
    expect(await fixes(DEMO.replace("migrate vm to dst", "migrate dst to vm"), 19, 16)).toEqual([
      { title: "Swap the arguments of `migrate`", edits: [{ range: range(19, 16, 19, 25), newText: "vm to dst" }], code: "T218" },
    ]);
    expect(await fixes(DEMO.replace("host.state == up", 'host.state == "up"'), 5, 50)).toEqual([
      { title: "Write `up` without quotes", edits: [{ range: range(5, 55, 5, 59), newText: "up" }], code: "T209" },
    ]);
  });
});

describe("hover with --engine", () => {
  it("adds a param's and a let's value in the engine's latest plan", async () => {
    client.replace(demo, ++version, DEMO);
    expect(await client.diagnostics(demo, version)).toEqual([]);
    const text = async (line: number, column: number): Promise<string> =>
      ((await client.hover(demo, at(line, column)))!.contents as { value: string }).value;
    expect(await text(6, 14)).toMatch(/\n\nIn the latest plan of http:\/\/127\.0\.0\.1:\d+: `42\.5`$/);
    expect(await text(3, 8)).toMatch(/In the latest plan of http:\/\/127\.0\.0\.1:\d+: `10`$/);
    expect(await text(6, 6)).toBe("```vmpolicy\nlet upper = mean + max(band, 0)\n```\n\nA let of policy `demo`: a number.");
  });
});
