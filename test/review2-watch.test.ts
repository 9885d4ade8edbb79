/**
 * SPEC 5: the engine keeps watching its policy folder after the folder itself
 * is replaced (a deploy's `rm -rf pd; mkdir pd; cp …`) or renamed away and
 * back. A watch is tied to the folder it was opened on, so without re-arming
 * it every later edit went unnoticed.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ReloadResult } from "../engine/engine-api.js";
import type { Engine } from "../engine/engine.js";
import { engineTestState, POLICIES, testConfig, until } from "./engine-harness.js";

const t = engineTestState();

const FILES = ["cslb.policy", "evacuate.policy"];

function fillFolder(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const f of FILES) copyFileSync(join(POLICIES, f), join(dir, f));
}

async function engineWatching(dir: string): Promise<{ engine: Engine; reloads: ReloadResult[] }> {
  const cluster = await t.startCluster([{ name: "h1", vms: ["a1", "a2"] }]);
  const { engine } = await t.startEngine(testConfig(cluster.hosts, { policies: [dir], dry_run: true }), { watch: true, watchDebounceMs: 100 });
  const reloads: ReloadResult[] = [];
  engine.events.on("reload", (r: ReloadResult) => reloads.push(r));
  return { engine, reloads };
}

/** The part that used to fail: edits made after the replacement must still be seen. */
async function expectStillWatched(e: Engine, dir: string): Promise<void> {
  const cslbHash = () => e.status().policies.find((p) => p.name === "cslb")!.hash;
  const before = cslbHash();
  const cslb = join(dir, "cslb.policy");
  writeFileSync(cslb, readFileSync(cslb, "utf8").replace("param band = 10", "param band = 20"));
  await until(() => cslbHash() !== before, 5000, "a reload for the edit in the new folder");
  expect(e.status().reload_error).toBeNull();

  const evacuate = join(dir, "evacuate.policy");
  writeFileSync(evacuate, "policy evacuate\nrule r then migrate nothing to nowhere\n");
  await until(() => e.status().reload_error !== null, 5000, "a reload_error for the broken file");
  expect(e.status().reload_error!.diagnostics.some((d) => d.severity === "error" && d.span.file === evacuate)).toBe(true);
}

describe("engine: the policy watcher survives its folder being replaced", () => {
  it("rm -rf + mkdir + copy: one reload, then later edits and breakages still reload", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "vmpolicy-review2-")), "pd");
    fillFolder(dir);
    const { engine: e, reloads } = await engineWatching(dir);

    rmSync(dir, { recursive: true });
    fillFolder(dir);
    await until(() => reloads.length >= 1, 5000, "the reload for the replaced folder");
    expect(reloads.at(-1)).toMatchObject({ ok: true });

    await expectStillWatched(e, dir);
  });

  it("renamed away and back: a reload for each, then later edits and breakages still reload", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "vmpolicy-review2-")), "pd");
    fillFolder(dir);
    const { engine: e, reloads } = await engineWatching(dir);

    // Away long enough to be noticed: the set is missing, so the running one stays.
    renameSync(dir, `${dir}x`);
    await until(() => e.status().reload_error !== null, 5000, "the reload_error for the missing folder");
    const n = reloads.length;
    renameSync(`${dir}x`, dir);
    await until(() => reloads.length > n && reloads.at(-1)!.ok, 5000, "the reload for the folder coming back");
    expect(e.status().reload_error).toBeNull();

    await expectStillWatched(e, dir);
  });
});
