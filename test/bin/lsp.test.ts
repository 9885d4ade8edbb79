import { spawn, spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

// Runs the built CLI (`npm run build` first). The protocol itself is tested in test/lsp/.
const CLI = resolve(import.meta.dirname, "../../dist/bin/vmpolicy.js");

describe("vmpolicy lsp", () => {
  it("--help names the transport and the two optional sources", () => {
    const r = spawnSync(process.execPath, [CLI, "lsp", "--help"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: vmpolicy lsp \[options\]/);
    for (const flag of ["--stdio", "--engine <url>", "--facts <file>", "docs/editors.md"]) expect(r.stdout).toContain(flag);
  });

  it("ends when its editor goes away without a shutdown (stdin closed), exit 1", async () => {
    const child = spawn(process.execPath, [CLI, "lsp", "--stdio"], { stdio: ["pipe", "pipe", "pipe"] });
    const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
    child.stdin.end();
    expect(await exited).toBe(1);
  });

  it("refuses an unknown option as a usage error, exit 2", () => {
    const r = spawnSync(process.execPath, [CLI, "lsp", "--tcp"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown option '--tcp'");
  });
});
