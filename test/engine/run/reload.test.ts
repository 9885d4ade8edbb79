import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ReloadResult } from "../engine/engine-api.js";
import { Engine, EngineStartError } from "../engine/engine.js";
import { engineTestState, POLICIES, testConfig, testLogger, until } from "./engine-harness.js";

const t = engineTestState();

function policyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "vmpolicy-reload-"));
  for (const f of ["cslb.policy", "evacuate.policy"]) copyFileSync(join(POLICIES, f), join(dir, f));
  return dir;
}

const SPECS = [
  { name: "h1", vms: ["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"] },
  { name: "h2", vms: ["b1", "b2"] },
  { name: "h3", vms: ["c1", "c2"] },
];

describe("engine: hot reload", () => {
  it("a broken file keeps the old set running with reload_error set; the fix loads and clears it", async () => {
    const cluster = await t.startCluster(SPECS);
    const dir = policyDir();
    const cslb = join(dir, "cslb.policy");
    const good = readFileSync(cslb, "utf8");
    const { engine } = await t.startEngine(testConfig(cluster.hosts, { policies: [dir], dry_run: true }), { watch: true, watchDebounceMs: 100 });
    const reloads: ReloadResult[] = [];
    engine.events.on("reload", (r: ReloadResult) => reloads.push(r));
    const before = engine.status().policies;
    expect(before.map((p) => p.name).sort()).toEqual(["cslb", "evacuate"]);

    // A typo in a field name: the watcher reloads, the checker refuses.
    writeFileSync(cslb, good.replace("group heavy    when host.load > upper", "group heavy    when host.lod > upper"));
    await until(() => reloads.length === 1, 5000, "the watcher's reload");
    expect(reloads[0]!.ok).toBe(false);
    const err = engine.status().reload_error!;
    expect(err).not.toBeNull();
    expect(err.diagnostics.some((d) => d.severity === "error" && d.span.file === cslb && /lod/.test(d.message))).toBe(true);
    expect(engine.reloadFailures).toBe(1);
    expect(engine.status().policies).toEqual(before);
    // The old set keeps planning.
    await engine.runRound();
    expect(engine.lastPlan()!.values.cslb!.band).toBe(10);
    expect(engine.lastPlan()!.actions.length).toBeGreaterThan(0);

    // The fix (with a new band) loads and clears the error.
    writeFileSync(cslb, good.replace("param band = 10", "param band = 20"));
    await until(() => reloads.length === 2, 5000, "the second reload");
    expect(reloads[1]).toMatchObject({ ok: true });
    const st = engine.status();
    expect(st.reload_error).toBeNull();
    const after = st.policies.find((p) => p.name === "cslb")!;
    expect(after.hash).not.toBe(before.find((p) => p.name === "cslb")!.hash);
    await engine.runRound();
    expect(engine.lastPlan()!.values.cslb!.band).toBe(20);

    // An explicit reload (SIGHUP, POST /reload) of a broken set answers with the diagnostics.
    writeFileSync(join(dir, "evacuate.policy"), "policy evacuate\nrule r then migrate nothing to nowhere\n");
    const r = await engine.reload();
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.diagnostics.length).toBeGreaterThan(0);
    expect(engine.reloadFailures).toBeGreaterThanOrEqual(2);
  });

  it("refuses to start with a broken policy set, naming the problems", async () => {
    const dir = policyDir();
    writeFileSync(join(dir, "cslb.policy"), "policy cslb\nlet x = \n");
    const { log } = testLogger();
    const e = new Engine({ config: testConfig([{ name: "h1", url: "http://127.0.0.1:9" }], { policies: [dir] }), log, timer: false, watch: false });
    const err = await e.start().then(
      () => null,
      (x: unknown) => x,
    );
    expect(err).toBeInstanceOf(EngineStartError);
    expect((err as EngineStartError).message).toBe("the policy set has errors; not starting");
    expect((err as EngineStartError).diagnostics).toEqual([
      expect.objectContaining({ severity: "error", message: "expected an expression, found the end of the file", span: expect.objectContaining({ file: join(dir, "cslb.policy"), start: { offset: 19, line: 2, column: 8 } }) }),
    ]);
  });
});
