/**
 * The engine records every round (engine/run/recorder.ts) and a replay of
 * that recording (engine/replay/report.ts) re-plans it: the active set
 * again differs in no round; a set that never migrates differs exactly in
 * the rounds that migrated.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readPolicySources } from "../../../engine/policy/files.js";
import { loadPolicySet } from "../../../engine/policy/set.js";
import { readRecording } from "../../../engine/replay/store.js";
import { replayRounds, REPLAY_LIMIT } from "../../../engine/replay/report.js";
import { withoutExplain } from "../../../engine/run/round.js";
import { POLICIES } from "./harness.js";
import { recordRounds } from "./recording-helpers.js";

async function load(path: string) {
  const read = await readPolicySources([path]);
  const loaded = await loadPolicySet(read.sources);
  if (loaded.set === null) throw new Error(`${path}: ${loaded.diagnostics.map((d) => d.message).join("; ")}`);
  return loaded.set;
}

describe("recording and replay", () => {
  it("records every round's facts, settings, set hash, actions and groups", async () => {
    const { dir, plans } = await recordRounds(3);
    const rec = await readRecording(dir);
    expect(rec.problems).toEqual([]);
    expect(rec.rounds.map((r) => r.round)).toEqual([1, 2, 3]);
    const set = await load(POLICIES);
    for (const [i, r] of rec.rounds.entries()) {
      expect(r.set_hash).toBe(set.hash);
      expect(r.policies.map((p) => p.name)).toEqual(["cslb", "evacuate"]);
      expect(r.settings).toEqual({ cooldown: 0, max_per_host: 2, max_per_round: 16, require_fencing: true, fenced: [], interval: 2 });
      expect(r.actions).toEqual(withoutExplain(plans[i]!).actions);
      expect(r.groups).toEqual(plans[i]!.groups);
      expect(r.facts.hosts.map((h) => h.name)).toEqual(["xen1", "xen2"]);
    }
    expect(rec.rounds[0]!.actions[0]).toMatchObject({ kind: "migrate", from: "xen1", to: "xen2" });
    set.dispose();
  });

  it("replays with the recorded set: no round differs; with a set that never migrates: the migrating rounds differ", async () => {
    const { dir } = await recordRounds(4);
    const { rounds } = await readRecording(dir);
    const migrating = rounds.filter((r) => r.actions.some((a) => a.kind === "migrate"));
    expect(migrating.length).toBeGreaterThan(0);

    const same = await load(POLICIES);
    const equal = replayRounds(rounds, same, null);
    expect(equal.rounds).toBe(4);
    expect(equal.differing).toBe(0);
    expect(equal.diffs).toEqual([]);
    expect(equal.candidate.migrate).toBe(equal.baseline.migrate);
    expect(equal.candidate.time_in_groups).toEqual(equal.baseline.time_in_groups);
    expect(equal.limit).toBe(REPLAY_LIMIT);

    const calmDir = mkdtempSync(join(tmpdir(), "vmpolicy-calm-"));
    writeFileSync(join(calmDir, "calm.policy"), "policy calm\n\ngroup all otherwise\n");
    const calm = await load(calmDir);
    const report = replayRounds(rounds, calm, null);
    expect(report.candidate.migrate).toBe(0);
    expect(report.baseline.migrate).toBe(migrating.reduce((n, r) => n + r.actions.filter((a) => a.kind === "migrate").length, 0));
    expect(report.differing).toBe(migrating.length);
    expect(report.diffs.map((d) => d.at)).toEqual(migrating.map((r) => r.at));
    expect(report.diffs[0]!.only_candidate).toEqual([]);
    expect(report.diffs[0]!.only_baseline).toEqual(migrating[0]!.actions.filter((a) => a.kind === "migrate"));
    // Every round stands for the time to the next, at most the 2 s interval: all time of xen1 is in a cslb group.
    const xen1 = report.baseline.time_in_groups.cslb!.xen1!;
    expect(Object.values(xen1).reduce((a, b) => a + b, 0)).toBeCloseTo(report.seconds, 6);
    expect(report.candidate.time_in_groups.calm!.xen1).toEqual({ all: report.seconds });

    // A baseline set instead of what was recorded: the recorded set planned again gives the same counts.
    const again = replayRounds(rounds, calm, same);
    expect(again.baseline_source).toBe("set");
    expect(again.baseline.migrate).toBe(report.baseline.migrate);
    same.dispose();
    calm.dispose();
  });
});
