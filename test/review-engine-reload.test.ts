/**
 * Reload outside the running window: a SIGHUP or POST /reload that arrives
 * while `vmpolicy run` is still starting (the API listens first) or while
 * it stops is refused with 409, and never swaps a set in behind start()'s
 * back (which would leak it and race the start-up load).
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EngineRequestError } from "../engine/engine-api.js";
import { Engine } from "../engine/engine.js";
import { POLICIES, testConfig, testLogger } from "./engine-harness.js";

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
