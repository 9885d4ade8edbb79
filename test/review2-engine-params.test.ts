/**
 * The engine's params come from its config: when a hot reload drops a param
 * the config still sets, the refusal names `config params`, not a `--param`
 * flag the operator never gave.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { engineTestState, POLICIES, testConfig } from "./engine-harness.js";

const t = engineTestState();

describe("engine: config params on reload", () => {
  it("a reload that drops a param the config sets is refused naming the config's params", async () => {
    const cluster = await t.startCluster([{ name: "h1", vms: ["a1"] }]);
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-params-"));
    for (const f of ["cslb.policy", "evacuate.policy"]) copyFileSync(join(POLICIES, f), join(dir, f));
    const { engine } = await t.startEngine(testConfig(cluster.hosts, { policies: [dir], params: ["cslb.band=15"], dry_run: true }));
    await engine.runRound();
    expect(engine.lastPlan()!.values["cslb"]!["band"]).toBe(15);

    const cslb = join(dir, "cslb.policy");
    writeFileSync(cslb, readFileSync(cslb, "utf8").replace(/^param band = 10.*$/m, "").replace(/\bband\b/g, "10"));
    const result = await engine.reload();
    expect(result.ok).toBe(false);
    const errors = engine.status().reload_error!.diagnostics.filter((d) => d.severity === "error");
    expect(errors.map((d) => [d.span.file, d.message])).toEqual([["config params", "config params cslb.band=15: unknown param `cslb.band`"]]);
  });
});
