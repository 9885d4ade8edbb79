import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO } from "../lsp/fixtures.js";

// A real editor on the language server: headless Neovim loads editors/neovim as a user's
// init.lua would, and driver.lua reports what the editor itself shows (`npm run build` first).
const root = resolve(import.meta.dirname, "../..");
const nvim = spawnSync("nvim", ["--version"], { encoding: "utf8" });
const missing = nvim.error ? "nvim is not installed (Debian package neovim; .ci/run installs it)" : "";
if (missing && process.env.CI) throw new Error(missing);

const dir = mkdtempSync(join(tmpdir(), "vmpolicy-nvim-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(missing !== "")("Neovim with editors/neovim", () => {
  it("sets the filetype, shows the checker's diagnostic, hovers, and clears it as the typo is fixed", () => {
    const policy = join(dir, "demo.policy");
    writeFileSync(policy, DEMO.replace("let upper = mean", "let upper = meen"));
    const out = join(dir, "seen.json");
    const run = spawnSync(
      "nvim",
      ["--headless", "-u", "NONE", "-i", "NONE", "--cmd", `set rtp^=${join(root, "editors/neovim")}`, "-c", `luafile ${join(import.meta.dirname, "neovim/driver.lua")}`],
      {
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, VMPOLICY_NODE: process.execPath, VMPOLICY_CLI: join(root, "dist/bin/vmpolicy.js"), VMPOLICY_POLICY: policy, VMPOLICY_OUT: out },
      },
    );
    expect(run.status, run.stderr + run.stdout).toBe(0);
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual({
      filetype: "vmpolicy",
      commentstring: "# %s",
      published: true,
      // [line, column, end line, end column] 0-based, severity 1 = error, source, message
      diagnostics: [[5, 12, 5, 16, 1, "vmpolicy", "unknown name `meen`; did you mean `mean`?"]],
      hover: "```vmpolicy\nparam band = 10\n```\n\nA param of policy `demo`; set it with `demo.band=VALUE`.",
      cleared: true,
    });
  });
});

it.runIf(missing !== "")("explains why the Neovim test did not run", () => {
  console.warn(`skipped the Neovim test: ${missing}`);
});
