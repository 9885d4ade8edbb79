/**
 * The engine's recording store (engine/run/recorder.ts, read back by
 * engine/replay/store.ts): rotation by rounds and by hour, the size cap
 * deleting the oldest files (and nothing but ours), a corrupt or cut-off
 * file skipped with a warning while the rest is read.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateFacts } from "../../../engine/plan/facts.js";
import { Recorder } from "../../../engine/run/recorder.js";
import { RECORDING_VERSION, type RecordedRound } from "../../../engine/replay/recording.js";
import { readRecording, recordingFiles } from "../../../engine/replay/store.js";
import { testLogger } from "./harness.js";

const T0 = Date.parse("2026-12-06T10:00:00.000Z");

/** Round `n` at `T0 + n × 10 s`; `noise` makes each round's CPU differ so gzip cannot fold rounds together. */
function round(n: number, at = T0 + n * 10_000, noise = false): RecordedRound {
  const cpu = (i: number) => (noise ? Math.round(((n * 7919 + i * 104729) % 10007) / 1.37) / 100 : 50);
  const facts = validateFacts({
    hosts: [
      { name: "xen1", state: "up", cpus: 4, mem: 16384, vms: Array.from({ length: 6 }, (_, i) => ({ name: `vm${i + 1}`, cpu: cpu(i), mem: 1024, ...(i === 0 ? { cpu_changes: 1.5 } : {}) })) },
      { name: "xen2", state: "up", cpus: 4, mem: 16384, vms: [{ name: "vm7", cpu: cpu(7), mem: 1024 }] },
    ],
  });
  if (!facts.ok) throw new Error("bad test facts");
  return {
    v: RECORDING_VERSION,
    round: n,
    at: new Date(at).toISOString(),
    set_hash: "abc",
    policies: [{ name: "cslb", file: "/p/cslb.policy", hash: "def" }],
    settings: { cooldown: 60, max_per_host: 2, max_per_round: 16, require_fencing: true, fenced: [], interval: 10 },
    facts: facts.facts,
    actions: n % 2 === 0 ? [{ kind: "migrate", vm: "vm1", from: "xen1", to: "xen2", rule: "cslb.balance" }] : [],
    groups: { cslb: { xen1: "heavy", xen2: "light" } },
  };
}

async function recorder(options: { maxBytes?: number; roundsPerFile?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "vmpolicy-recorder-test-"));
  const { log, lines } = testLogger();
  const r = await Recorder.open({ dir, maxBytes: options.maxBytes ?? 200 * 1024 * 1024, roundsPerFile: options.roundsPerFile ?? 360, log });
  return { dir, r, lines };
}

describe("Recorder", () => {
  it("writes one gzip JSON line per round, read back in order with facts, settings and actions", async () => {
    const { dir, r } = await recorder();
    for (let n = 1; n <= 5; n++) r.record(round(n));
    await r.close();
    expect(await recordingFiles(dir)).toHaveLength(1);
    const got = await readRecording(dir);
    expect(got.problems).toEqual([]);
    expect(got.rounds.map((x) => x.round)).toEqual([1, 2, 3, 4, 5]);
    expect(got.rounds[1]).toEqual(round(2));
    expect(got.rounds[1]!.facts.hosts[0]!.vms[0]!.cpu_avg).toBe(50);
    expect(got.rounds[1]!.facts.hosts[0]!.vms.map((v) => v.cpu_changes)).toEqual([1.5, 0, 0, 0, 0, 0]);
  });

  it("starts a new file after roundsPerFile rounds and at every UTC hour", async () => {
    const { dir, r } = await recorder({ roundsPerFile: 3 });
    for (let n = 1; n <= 7; n++) r.record(round(n));
    // 10:59:50 and 11:00:00: the hour turns between them.
    r.record(round(8, Date.parse("2026-12-06T10:59:50Z")));
    r.record(round(9, Date.parse("2026-12-06T11:00:00Z")));
    await r.close();
    const files = await recordingFiles(dir);
    // 1-3, 4-6, 7-8 (the 10:59:50 round still in hour 10), 9.
    expect(files).toHaveLength(4);
    expect((await readRecording(dir)).rounds.map((x) => x.round)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("keeps the folder under its size cap by deleting the oldest files, never a file that is not a recording", async () => {
    const { dir, r } = await recorder({ maxBytes: 4000, roundsPerFile: 4 });
    writeFileSync(join(dir, "notes.txt"), "the operator's own file");
    for (let n = 1; n <= 60; n++) r.record(round(n, T0 + n * 10_000, true));
    await r.close();
    const files = await recordingFiles(dir);
    const total = files.reduce((s, f) => s + statSync(join(dir, f)).size, 0);
    expect(total).toBeLessThanOrEqual(4000);
    expect(r.deleted).toBeGreaterThan(0);
    expect(readdirSync(dir)).toContain("notes.txt");
    // What is left is the newest rounds, without a gap, ending with the last one.
    const rounds = (await readRecording(dir)).rounds.map((x) => x.round);
    expect(rounds[rounds.length - 1]).toBe(60);
    expect(rounds).toEqual(Array.from({ length: rounds.length }, (_, i) => 61 - rounds.length + i));
    expect(rounds.length).toBeLessThan(60);
  });

  it("applies the cap to the files already there when it opens", async () => {
    const first = await recorder({ roundsPerFile: 2 });
    for (let n = 1; n <= 20; n++) first.r.record(round(n, T0 + n * 10_000, true));
    await first.r.close();
    const before = await recordingFiles(first.dir);
    const { log } = testLogger();
    const again = await Recorder.open({ dir: first.dir, maxBytes: 2000, log });
    await again.close();
    const after = await recordingFiles(first.dir);
    expect(after.length).toBeLessThan(before.length);
    expect(after).toEqual(before.slice(before.length - after.length));
  });

  it("skips a corrupt file and reads a cut-off one up to the cut, with a warning for each", async () => {
    const { dir, r } = await recorder({ roundsPerFile: 5 });
    for (let n = 1; n <= 15; n++) r.record(round(n, T0 + n * 10_000, true));
    await r.close();
    const [a, b] = await recordingFiles(dir);
    writeFileSync(join(dir, a!), "this is not gzip at all");
    const whole = readFileSync(join(dir, b!));
    writeFileSync(join(dir, b!), whole.subarray(0, Math.floor(whole.length * 0.6)));
    const got = await readRecording(dir);
    const rounds = got.rounds.map((x) => x.round);
    // File a (rounds 1-5) is gone, file b (6-10) is read up to its cut, file c (11-15) is whole.
    expect(rounds.filter((n) => n <= 5)).toEqual([]);
    expect(rounds.filter((n) => n >= 11)).toEqual([11, 12, 13, 14, 15]);
    const fromB = rounds.filter((n) => n >= 6 && n <= 10);
    expect(fromB.length).toBeGreaterThan(0);
    expect(fromB.length).toBeLessThan(5);
    expect(fromB).toEqual(Array.from({ length: fromB.length }, (_, i) => 6 + i));
    const messages = got.problems.map((p) => `${p.file.endsWith(a!) ? "a" : p.file.endsWith(b!) ? "b" : "?"}: ${p.message}`);
    expect(messages[0]).toMatch(/^a: not a readable gzip file, skipped: /);
    expect(messages.slice(1).every((m) => m.startsWith("b: "))).toBe(true);
    expect(messages.join("\n")).toMatch(/ends early|truncated last line/);
  });

  it("logs a folder it cannot write once and goes on", async () => {
    const { dir, r, lines } = await recorder();
    r.record(round(1));
    await r.flush();
    // Replace the folder's file with a folder of the same name: the next file cannot be created there.
    const { rmSync, mkdirSync } = await import("node:fs");
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(dir, "not a folder");
    for (let n = 2; n <= 4; n++) r.record(round(n, Date.parse("2026-12-06T12:00:00Z") + n * 10_000));
    await r.flush();
    expect(lines.filter((l) => /recording: cannot write/.test(l.msg))).toHaveLength(1);
    rmSync(dir, { force: true });
    mkdirSync(dir);
    r.record(round(5, Date.parse("2026-12-06T13:00:00Z")));
    await r.close();
    expect(lines.some((l) => /recording: writing to .* again/.test(l.msg))).toBe(true);
    expect((await readRecording(dir)).rounds.map((x) => x.round)).toEqual([5]);
  });
});
