import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { JournalEntry } from "../../../engine/http/control.js";
import { Journal } from "../../../engine/run/journal.js";
import type { Engine } from "../../../engine/run/engine.js";
import { engineTestState, placement, sleep, testConfig } from "./harness.js";

const dir = mkdtempSync(join(tmpdir(), "vmpolicy-journal-"));
let n = 0;
const fresh = () => join(dir, `j${++n}.jsonl`);

const start = (id: string, vm: string, extra: Partial<JournalEntry> = {}): JournalEntry => ({
  id,
  phase: "start",
  at: "2026-01-01T00:00:00.000Z",
  kind: "migrate",
  vm,
  from: "h1",
  to: "h2",
  rule: "cslb.balance",
  ...extra,
});
const end = (id: string, vm: string, outcome: "completed" | "failed" | "lost", at = "2026-01-01T00:00:05.000Z"): JournalEntry => ({
  id,
  phase: "end",
  at,
  kind: "migrate",
  vm,
  from: "h1",
  to: "h2",
  rule: "cslb.balance",
  outcome,
});

describe("journal", () => {
  it("appends JSON lines and reads them back: unfinished actions, last moves", async () => {
    const path = fresh();
    const { journal, state } = await Journal.open(path);
    expect(state).toEqual({ unfinished: [], lastMoved: new Map(), problems: [], lines: 0 });
    await journal.append(start("a", "vm1"));
    await journal.append(start("a", "vm1", { agent_id: "m-1" }));
    await journal.append(end("a", "vm1", "completed"));
    await journal.append(start("b", "vm2"));
    await journal.append(start("b", "vm2", { agent_id: "m-2" }));
    await journal.append(start("c", "vm3"));
    await journal.append({ id: "x", phase: "start", at: "2026-01-01T00:00:06.000Z", kind: "alert", message: "host h3 is down", rule: "evacuate.recover" });
    await journal.close();

    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines).toHaveLength(8);
    expect(JSON.parse(lines[1]!)).toEqual(start("a", "vm1", { agent_id: "m-1" }));

    const again = await Journal.open(path);
    expect(again.state.problems).toEqual([]);
    expect(again.state.unfinished).toEqual([start("b", "vm2", { agent_id: "m-2" }), start("c", "vm3")]);
    expect(again.state.lastMoved).toEqual(new Map([["vm1", Date.parse("2026-01-01T00:00:05.000Z")]]));
    await again.journal.close();
  });

  it("decisions are newest first, limited, with the two start lines of one action shown once", async () => {
    const { journal } = await Journal.open(fresh());
    await journal.append(start("a", "vm1"));
    await journal.append(start("a", "vm1", { agent_id: "m-1" }));
    await journal.append(end("a", "vm1", "failed"));
    await journal.append(start("b", "vm2"));
    expect(journal.decisions(10)).toEqual([start("b", "vm2"), end("a", "vm1", "failed"), start("a", "vm1", { agent_id: "m-1" })]);
    expect(journal.decisions(2)).toEqual([start("b", "vm2"), end("a", "vm1", "failed")]);
    await journal.close();
  });

  it("tolerates a truncated last line: reported, cut off, and the next append starts clean", async () => {
    const path = fresh();
    writeFileSync(path, JSON.stringify(start("a", "vm1")) + "\n" + '{"id":"b","phase":"st');
    const { journal, state } = await Journal.open(path);
    expect(state.problems).toEqual([{ line: 2, message: expect.stringMatching(/^truncated last line ignored \(not JSON: /), truncatedTail: true }]);
    expect(state.unfinished).toEqual([start("a", "vm1")]);
    await journal.append(end("a", "vm1", "completed"));
    await journal.close();
    expect(readFileSync(path, "utf8")).toBe(JSON.stringify(start("a", "vm1")) + "\n" + JSON.stringify(end("a", "vm1", "completed")) + "\n");
    const again = await Journal.open(path);
    expect(again.state.problems).toEqual([]);
    expect(again.state.unfinished).toEqual([]);
    await again.journal.close();
  });

  it("reports corruption elsewhere with its line number and keeps reading", async () => {
    const path = fresh();
    writeFileSync(path, [JSON.stringify(start("a", "vm1")), "garbage", JSON.stringify({ id: "q", phase: "middle" }), JSON.stringify(start("b", "vm2")), ""].join("\n"));
    const { journal, state } = await Journal.open(path);
    expect(state.problems).toEqual([
      { line: 2, message: expect.stringMatching(/^not JSON: /), truncatedTail: false },
      { line: 3, message: 'bad phase "middle"', truncatedTail: false },
    ]);
    expect(state.unfinished.map((e) => e.id)).toEqual(["a", "b"]);
    await journal.close();
  });

  it("finishes a complete last line that lacks its newline before appending", async () => {
    const path = fresh();
    writeFileSync(path, JSON.stringify(start("a", "vm1")));
    const { journal, state } = await Journal.open(path);
    expect(state.problems).toEqual([]);
    await journal.append(end("a", "vm1", "lost"));
    await journal.close();
    appendFileSync(path, "");
    expect(readFileSync(path, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l).phase)).toEqual(["start", "end"]);
  });
});

const t = engineTestState();

function breakJournal(e: Engine): void {
  const journal = (e as unknown as { journal: Journal }).journal;
  journal.append = () => Promise.reject(new Error("ENOSPC: no space left on device, write"));
}

describe("engine: an unwritable journal", () => {
  it("rounds go on and report; the alert is logged; nothing is issued unjournaled", async () => {
    const cluster = await t.startCluster([
      { name: "h1", vms: ["a1", "a2", "a3", "a4", "a5", "a6"] },
      { name: "h2", vms: ["b1"] },
      { name: "h3", vms: ["c1"] },
    ]);
    const { engine, lines } = await t.startEngine(testConfig(cluster.hosts));
    await engine.runRound();
    const before = await placement(cluster);
    breakJournal(engine);
    await cluster.agents[2]!.close(); // h3 will be down: an alert (not fenced)
    await sleep(700);
    const summary = await engine.runRound();
    expect(summary).toMatchObject({ executed: true, errors: 0 });
    const kinds = engine.lastPlan()!.actions.map((a) => a.kind);
    expect(kinds).toContain("alert");
    expect(kinds).toContain("migrate");
    expect(lines.some((l) => /^alert \(evacuate\.recover\): cannot write the journal: ENOSPC/.test(l.msg))).toBe(true);
    expect(lines.some((l) => /^not executing migrate of a\d: cannot write the journal: ENOSPC/.test(l.msg))).toBe(true);
    const after = await placement(cluster);
    expect({ h1: after.h1, h2: after.h2 }).toEqual({ h1: before.h1, h2: before.h2 });
    expect(engine.status().last_round).toEqual(summary);
  });
});
