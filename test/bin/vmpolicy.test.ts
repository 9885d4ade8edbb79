/**
 * bin/vmpolicy.ts as a process: every command is listed, and each command
 * loads only what it uses (a command's module is imported when it runs), so
 * `check` does not pay for the engine's fastify, pino, undici and
 * prom-client. Packages are seen through a preload that lists the CommonJS
 * packages loaded (test/fixtures/cli/list-packages.cjs).
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const CLI = resolve("dist/bin/vmpolicy.js");
const PRELOAD = resolve("test/fixtures/cli/list-packages.cjs");

function packagesOf(args: string[]): { code: number | null; stdout: string; packages: string } {
  const r = spawnSync(process.execPath, ["-r", PRELOAD, CLI, ...args], { encoding: "utf8" });
  const line = /^packages: (.*)$/m.exec(r.stderr);
  return { code: r.status, stdout: r.stdout, packages: line?.[1] ?? `(none: ${r.stderr})` };
}

describe("vmpolicy (process)", () => {
  it("--help lists every command without loading any command's module", () => {
    const r = packagesOf(["--help"]);
    expect(r.code).toBe(0);
    for (const name of ["check", "fmt", "plan", "test", "simulate", "run", "agent"]) expect(r.stdout).toMatch(new RegExp(`^  ${name} `, "m"));
    expect(r.packages).toBe("commander");
  });

  it("help NAME shows that command's own options", () => {
    const r = packagesOf(["help", "test"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--coverage");
  });

  it("check, plan and test load none of the engine's packages", () => {
    expect(packagesOf(["check", "policies/cslb.policy"]).packages).toBe("commander picocolors");
    expect(packagesOf(["plan", "--facts", "test/scenarios/cslb-thesis-two-hosts/facts.json"]).packages).toBe("commander picocolors");
    expect(packagesOf(["test", "policies/cslb.test.yaml"]).packages).toBe("commander picocolors yaml");
  });

  it("run loads the engine's packages (the preload sees them)", () => {
    expect(packagesOf(["run", "--help"]).packages).toContain("fastify");
  });
});
