import { copyFileSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ReloadResult } from "../../../engine/http/control.js";
import { Engine, EngineStartError } from "../../../engine/run/engine.js";
import { engineTestState, POLICIES, testConfig, testLogger, until } from "./harness.js";
import { EngineRequestError } from "../../../engine/http/control.js";

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

describe("engine: reload before start and after stop", () => {
  it("is refused with 409 and changes nothing", async () => {
    const { log } = testLogger();
    const engine = new Engine({ config: testConfig([], { interval: 3600 }), log, timer: false, watch: false });
    const before = await engine.reload().catch((e: unknown) => e);
    expect(before).toBeInstanceOf(EngineRequestError);
    expect(before).toMatchObject({ status: 409, message: "the engine is not started yet; it loads the policies as it starts" });
    expect(engine.status().policies).toEqual([]);
    expect(engine.reloadFailures).toBe(0);

    await engine.start();
    const loaded = engine.status().policies;
    expect(loaded.map((p) => p.name)).toEqual(["cslb", "evacuate"]);
    expect(await engine.reload()).toMatchObject({ ok: true });
    await engine.stop();
    const after = await engine.reload().catch((e: unknown) => e);
    expect(after).toMatchObject({ status: 409, message: "the engine is stopping; nothing to reload" });
    expect(engine.reloadFailures).toBe(0);
  });
});

describe("engine: stop while starting", () => {
  it("a stop that arrives during start-up (Ctrl-C while reconciling) leaves no timer, round or demo agent behind", async () => {
    const { log, lines } = testLogger();
    const engine = new Engine({ config: testConfig([], { interval: 0.1 }), log, watch: true });
    const rounds: unknown[] = [];
    engine.events.on("round", (s) => rounds.push(s));
    const starting = engine.start();
    await engine.stop();
    await starting;
    const hosts = engine.hosts;
    expect(hosts.map((h) => h.name)).toEqual(["xen1", "xen2"]);
    await new Promise((r) => setTimeout(r, 400));
    expect(rounds).toEqual([]);
    expect(lines.some((l) => l.msg === "engine stopped")).toBe(true);
    for (const h of hosts) await expect(fetch(`${h.url}/facts`)).rejects.toThrow();
    await expect(engine.runRound()).rejects.toMatchObject({ status: 409, message: "the engine is stopping" });
  });
});

describe("engine: reload of files that are gone", () => {
  it("a deleted file, an emptied folder or a binary file never replaces the running set", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-reload-gone-"));
    for (const f of ["cslb.policy", "evacuate.policy"]) copyFileSync(join(POLICIES, f), join(dir, f));
    const named = join(dir, "evacuate.policy");
    const { log } = testLogger();
    const engine = new Engine({ config: testConfig([], { interval: 3600, policies: [join(dir, "cslb.policy"), named], dry_run: true }), log, timer: false, watch: false });
    await engine.start();
    try {
      const running = engine.status().policies;
      rmSync(named);
      const gone = await engine.reload();
      expect(gone.ok).toBe(false);
      if (!gone.ok) expect(gone.diagnostics.map((d) => d.message)).toEqual([`cannot read ${named}: no such file or directory`]);
      expect(engine.status().policies).toEqual(running);
      expect(engine.status().reload_error?.diagnostics).toHaveLength(1);

      writeFileSync(named, Buffer.from([0, 1, 2, 0xff, 0xfe, 10]));
      expect((await engine.reload()).ok).toBe(false);
      expect(engine.status().policies).toEqual(running);
      expect(await engine.runRound()).toMatchObject({ errors: 0 });
      expect(engine.lastPlan()!.values.cslb).toBeDefined();
    } finally {
      await engine.stop();
    }

    const folder = mkdtempSync(join(tmpdir(), "vmpolicy-reload-empty-"));
    copyFileSync(join(POLICIES, "cslb.policy"), join(folder, "cslb.policy"));
    const e2 = new Engine({ config: testConfig([], { interval: 3600, policies: [folder], dry_run: true }), log, timer: false, watch: false });
    await e2.start();
    try {
      rmSync(join(folder, "cslb.policy"));
      const empty = await e2.reload();
      expect(empty.ok).toBe(false);
      if (!empty.ok) expect(empty.diagnostics.map((d) => d.message)).toEqual([`cannot read ${folder}: no .policy files found`]);
      expect(e2.status().policies.map((p) => p.name)).toEqual(["cslb"]);
    } finally {
      await e2.stop();
    }
  });
});


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

describe("engine: hostile sizes", () => {
  it("a file over max_policy_bytes dropped into the watched folder is refused (E002) without being parsed; the last good set keeps planning", async () => {
    const cluster = await t.startCluster(SPECS);
    const dir = policyDir();
    const { engine } = await t.startEngine(testConfig(cluster.hosts, { policies: [dir], dry_run: true, max_policy_bytes: 64 * 1024 }), { watch: true, watchDebounceMs: 100 });
    const before = engine.status().policies;
    const reloads: ReloadResult[] = [];
    engine.events.on("reload", (r: ReloadResult) => reloads.push(r));
    const huge = join(dir, "huge.policy");
    // 8 MiB: far past the limit (a 50 MB file used to take the engine's memory and a minute).
    writeFileSync(huge, "policy huge\n" + "# padding padding padding padding padding padding padding\n".repeat(8 * 1024 * 1024 / 58));
    await until(() => reloads.length > 0, 5000, "the reload of huge.policy");
    expect(reloads[0]).toMatchObject({ ok: false });
    const diags = reloads[0]!.ok ? [] : reloads[0]!.diagnostics;
    expect(diags.map((d) => [d.code, d.span.file, d.message])).toEqual([
      ["E002", huge, `the file is ${readFileSync(huge).length} bytes, over the limit of 64 KiB per policy file (max_policy_bytes)`],
    ]);
    expect(engine.status().policies).toEqual(before);
    expect(engine.status().reload_error?.diagnostics).toHaveLength(1);
    expect(await engine.runRound()).toMatchObject({ errors: 0 });
    expect(engine.lastPlan()!.groups["cslb"]).toEqual({ h1: "heavy", h2: "light", h3: "light" });
  });

  it("the set as a whole is capped too (max_policy_set_bytes)", async () => {
    const cluster = await t.startCluster(SPECS);
    const dir = policyDir();
    const { engine } = await t.startEngine(testConfig(cluster.hosts, { policies: [dir], dry_run: true, max_policy_bytes: 4096, max_policy_set_bytes: 8192 }));
    for (const n of ["x1", "x2", "x3"]) writeFileSync(join(dir, `${n}.policy`), `policy ${n}\n${"#".repeat(3000)}\n`);
    const r = await engine.reload();
    expect(r.ok).toBe(false);
    const diags = r.ok ? [] : r.diagnostics;
    expect(diags.map((d) => [d.code, d.span.file, d.message])).toEqual([["E002", join(dir, "x3.policy"), "with this file the policy set is over 8 KiB (max_policy_set_bytes)"]]);
  });
});
