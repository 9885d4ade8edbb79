/**
 * The policy watcher reacts to what the engine loads, and only to that:
 * a folder's own `*.policy` files (added, changed, removed) and files named
 * directly; not sub-folders such as `policies/examples/` (never loaded
 * unless named), not editor scratch files or other files beside them.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { watchPolicies } from "../engine/engine-reload.js";
import { sleep, testLogger, until } from "./engine-harness.js";

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
