/**
 * The shadow set (engine/run/shadow.ts through the Engine and its HTTP
 * API): planned every round on the same facts right after the active set,
 * never executed or journaled; shown in /status, GET /plan?set=shadow and
 * the metrics; promoted atomically between rounds (journaled, token
 * guarded) or dropped; hot-reloaded, a broken file leaving the previous
 * shadow planning.
 */
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildHttpApp } from "../../../engine/http/server.js";
import { EngineMetrics, wireEngineMetrics } from "../../../engine/http/metrics.js";
import { POLICIES, engineTestState, journalOf, placement, testConfig, until } from "./harness.js";

const { startCluster, startEngine } = engineTestState();

/** A policy set that never moves anything (one file in a fresh folder). */
function calmPolicies(): string {
  const dir = mkdtempSync(join(tmpdir(), "vmpolicy-calm-"));
  writeFileSync(join(dir, "calm.policy"), "policy calm\n\ngroup all otherwise\n");
  return dir;
}

/** Four busy VMs on xen1, one idle on xen2: CSLB migrates at once. */
const IMBALANCED = [
  { name: "xen1", vms: ["vm1", "vm2", "vm3", "vm4"] },
  { name: "xen2", vms: ["vm5*"] },
];

describe("shadow set", () => {
  it("is planned every round on the same facts and never executed or journaled", async () => {
    const cluster = await startCluster(IMBALANCED);
    const before = await placement(cluster);
    const { engine } = await startEngine(testConfig(cluster.hosts, { policies: [calmPolicies()], shadow: [POLICIES] }));
    const metrics = new EngineMetrics({ status: () => engine.status() });
    wireEngineMetrics(engine.events, metrics);
    for (let i = 0; i < 3; i++) await engine.runRound();

    const shadow = engine.status().shadow!;
    expect(shadow.policies.map((p) => p.name)).toEqual(["cslb", "evacuate"]);
    expect(shadow.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(shadow.reload_error).toBeNull();
    expect(shadow.rounds_compared).toBe(3);
    expect(shadow.rounds_differing).toBe(3);
    expect(shadow.last_difference!.only_active).toEqual([]);
    expect(shadow.last_difference!.only_shadow).toEqual([{ kind: "migrate", vm: expect.stringMatching(/^vm[1-4]$/), from: "xen1", to: "xen2", rule: "cslb.balance" }]);

    expect(engine.lastPlan()!.actions).toEqual([]);
    expect(engine.lastPlan({ set: "shadow" })!.actions.map((a) => a.kind)).toEqual(["migrate"]);
    // Nothing moved, nothing journaled.
    expect(await placement(cluster)).toEqual(before);
    expect(await journalOf(engine)).toEqual([]);

    const text = await metrics.text();
    expect(text).toMatch(/^vmpolicy_shadow_rounds_total 3$/m);
    expect(text).toMatch(/^vmpolicy_shadow_differing_rounds_total 3$/m);
    expect(text).toMatch(/^vmpolicy_shadow_planned_actions_total\{kind="migrate"\} 3$/m);
  });

  it("counts no difference when the shadow equals the active set", async () => {
    const cluster = await startCluster(IMBALANCED);
    const { engine } = await startEngine(testConfig(cluster.hosts, { shadow: [POLICIES] }));
    for (let i = 0; i < 2; i++) await engine.runRound();
    const shadow = engine.status().shadow!;
    expect(shadow.rounds_compared).toBe(2);
    expect(shadow.rounds_differing).toBe(0);
    expect(shadow.last_difference).toBeNull();
  });

  it("is promoted through the API between rounds: journaled, token guarded, and executed from then on", async () => {
    const cluster = await startCluster(IMBALANCED);
    const { engine } = await startEngine(testConfig(cluster.hosts, { policies: [calmPolicies()], shadow: [POLICIES] }));
    const app = buildHttpApp(engine, { metrics: new EngineMetrics(), token: "s3cret" });
    await engine.runRound();
    expect((await app.inject({ method: "GET", url: "/plan?set=shadow" })).json().actions[0].kind).toBe("migrate");

    const refused = await app.inject({ method: "POST", url: "/shadow/promote" });
    expect(refused.statusCode).toBe(401);
    const auth = { authorization: "Bearer s3cret" };
    const promoted = await app.inject({ method: "POST", url: "/shadow/promote", headers: auth });
    expect(promoted.statusCode).toBe(200);
    expect(promoted.json().policies.map((p: { name: string }) => p.name)).toEqual(["cslb", "evacuate"]);
    expect(engine.status().policies.map((p) => p.name)).toEqual(["cslb", "evacuate"]);
    expect(engine.status().shadow).toBeNull();
    expect((await app.inject({ method: "GET", url: "/plan?set=shadow" })).statusCode).toBe(404);
    expect((await app.inject({ method: "POST", url: "/shadow/promote", headers: auth })).statusCode).toBe(409);

    const journal = await journalOf(engine);
    expect(journal).toHaveLength(1);
    expect(journal[0]).toMatchObject({ kind: "promote", phase: "start", rule: "shadow.promote" });
    expect(journal[0]!.message).toMatch(/^shadow set promoted to active: cslb, evacuate \(was calm\)/);

    await engine.runRound();
    await until(async () => (await placement(cluster)).xen2!.length === 2, 5000, "the promoted set's migration");
    await app.close();
  });

  it("is dropped by DELETE /shadow", async () => {
    const cluster = await startCluster(IMBALANCED);
    const { engine } = await startEngine(testConfig(cluster.hosts, { shadow: [POLICIES] }));
    const app = buildHttpApp(engine, { metrics: new EngineMetrics() });
    await engine.runRound();
    expect((await app.inject({ method: "DELETE", url: "/shadow" })).json()).toEqual({ shadow: null });
    expect(engine.status().shadow).toBeNull();
    expect((await app.inject({ method: "DELETE", url: "/shadow" })).statusCode).toBe(404);
    await engine.runRound();
    expect(engine.lastPlan({ set: "shadow" })).toBeNull();
    expect(engine.status().policies.map((p) => p.name)).toEqual(["cslb", "evacuate"]);
    await app.close();
  });

  it("hot-reloads: a broken file leaves the previous shadow planning and shows as its reload error", async () => {
    const cluster = await startCluster(IMBALANCED);
    const shadowDir = mkdtempSync(join(tmpdir(), "vmpolicy-shadow-"));
    cpSync(join(POLICIES, "cslb.policy"), join(shadowDir, "cslb.policy"));
    const { engine } = await startEngine(testConfig(cluster.hosts, { policies: [calmPolicies()], shadow: [shadowDir] }), { watch: true, watchDebounceMs: 50 });
    await engine.runRound();
    const hash = engine.status().shadow!.hash;

    writeFileSync(join(shadowDir, "cslb.policy"), "policy cslb\n\nrule r\n  for each host as h\n  then migrate nothing_here to h\n");
    await until(() => engine.status().shadow!.reload_error !== null, 5000, "the shadow's reload error");
    expect(engine.status().shadow!.reload_error!.diagnostics[0]!.span.file).toBe(join(shadowDir, "cslb.policy"));
    await engine.runRound();
    expect(engine.status().shadow!.hash).toBe(hash);
    expect(engine.status().shadow!.rounds_compared).toBe(2);
    expect(engine.lastPlan({ set: "shadow" })!.actions.map((a) => a.kind)).toEqual(["migrate"]);

    writeFileSync(join(shadowDir, "cslb.policy"), "policy cslb\n\ngroup all otherwise\n");
    await until(() => engine.status().shadow!.reload_error === null, 5000, "the fixed shadow");
    expect(engine.status().shadow!.hash).not.toBe(hash);
    await engine.runRound();
    expect(engine.lastPlan({ set: "shadow" })!.actions).toEqual([]);
  });
});
