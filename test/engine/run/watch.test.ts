/**
 * The policy watcher reacts to what the engine loads, and only to that:
 * a folder's own `*.policy` files (added, changed, removed) and files named
 * directly; not sub-folders such as `policies/examples/` (never loaded
 * unless named), not editor scratch files or other files beside them.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, copyFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { watchPolicies } from "../../../engine/run/reload.js";
import { sleep, testLogger, until, engineTestState, POLICIES, testConfig } from "./harness.js";
import type { ReloadResult } from "../../../engine/http/control.js";
import type { Engine } from "../../../engine/run/engine.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

function policyFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), "vmpolicy-watch-"));
  writeFileSync(join(dir, "cslb.policy"), "policy cslb\n");
  writeFileSync(join(dir, "evacuate.policy"), "policy evacuate\n");
  mkdirSync(join(dir, "examples"));
  writeFileSync(join(dir, "examples", "extra.policy"), "policy extra\n");
  writeFileSync(join(dir, "README.md"), "notes\n");
  return dir;
}

async function watching(paths: string[]): Promise<{ count: () => number }> {
  let n = 0;
  const close = await watchPolicies(paths, 50, () => n++, testLogger().log);
  closers.push(close);
  return { count: () => n };
}

describe("policy watcher", () => {
  it("a folder: its own .policy files trigger a reload; examples/, other files and scratch files do not", async () => {
    const dir = policyFolder();
    const w = await watching([dir]);
    writeFileSync(join(dir, "examples", "extra.policy"), "policy extra\n# edited\n");
    writeFileSync(join(dir, "examples", "new.policy"), "policy new\n");
    mkdirSync(join(dir, "examples", "deeper"));
    writeFileSync(join(dir, "examples", "deeper", "x.policy"), "policy x\n");
    writeFileSync(join(dir, "README.md"), "more notes\n");
    writeFileSync(join(dir, ".cslb.policy.swp"), "scratch");
    writeFileSync(join(dir, "cslb.policy~"), "backup");
    await sleep(500);
    expect(w.count()).toBe(0);

    writeFileSync(join(dir, "cslb.policy"), "policy cslb\n# edited\n");
    await until(() => w.count() === 1, 5000, "a reload for cslb.policy");
    writeFileSync(join(dir, "added.policy"), "policy added\n");
    await until(() => w.count() === 2, 5000, "a reload for a new .policy file");
    rmSync(join(dir, "added.policy"));
    await until(() => w.count() === 3, 5000, "a reload for a removed .policy file");
    await sleep(300);
    expect(w.count()).toBe(3);
  });

  it("idle, it sets no timer shorter than a minute: its folders' own watches see a replacement at once", async () => {
    const dir = policyFolder();
    const spy = vi.spyOn(globalThis, "setInterval");
    try {
      const w = await watching([dir, join(dir, "cslb.policy")]);
      // Counted, not timed: a check every second cost the idle engine more CPU than its rounds.
      const delays = spy.mock.calls.map((c) => c[1]);
      expect(delays).toEqual([60_000]);
      renameSync(dir, `${dir}x`);
      await until(() => w.count() === 1, 5000, "a reload for the folder renamed away");
      renameSync(`${dir}x`, dir);
      await until(() => w.count() === 2, 5000, "a reload for the folder coming back");
    } finally {
      spy.mockRestore();
    }
  });

  it("the folder holding a named folder removed and made again: the named folder coming back is seen", async () => {
    const outer = join(mkdtempSync(join(tmpdir(), "vmpolicy-watch-")), "outer");
    const dir = join(outer, "pd");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "cslb.policy"), "policy cslb\n");
    const w = await watching([dir]);
    rmSync(outer, { recursive: true });
    await until(() => w.count() >= 1, 5000, "a reload for the folder removed");
    const n = w.count();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "cslb.policy"), "policy cslb\n# back\n");
    await until(() => w.count() > n, 5000, "a reload for the folder made again");
  });

  it("a file named directly: only that file counts, not its neighbours", async () => {
    const dir = policyFolder();
    const w = await watching([join(dir, "examples", "extra.policy")]);
    writeFileSync(join(dir, "examples", "other.policy"), "policy other\n");
    writeFileSync(join(dir, "cslb.policy"), "policy cslb\n# edited\n");
    await sleep(500);
    expect(w.count()).toBe(0);
    writeFileSync(join(dir, "examples", "extra.policy"), "policy extra\n# edited\n");
    await until(() => w.count() === 1, 5000, "a reload for the named file");
    // An editor's atomic save: a scratch file renamed over the named one.
    writeFileSync(join(dir, "examples", ".extra.policy.tmp"), "policy extra\n# saved\n");
    renameSync(join(dir, "examples", ".extra.policy.tmp"), join(dir, "examples", "extra.policy"));
    await until(() => w.count() === 2, 5000, "a reload for the atomic save");
  });
});

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
    const dir = join(mkdtempSync(join(tmpdir(), "vmpolicy-watch-")), "pd");
    fillFolder(dir);
    const { engine: e, reloads } = await engineWatching(dir);

    rmSync(dir, { recursive: true });
    fillFolder(dir);
    await until(() => reloads.length >= 1, 5000, "the reload for the replaced folder");
    expect(reloads.at(-1)).toMatchObject({ ok: true });

    await expectStillWatched(e, dir);
  });

  it("renamed away and back: a reload for each, then later edits and breakages still reload", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "vmpolicy-watch-")), "pd");
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
