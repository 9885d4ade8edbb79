/**
 * `vmpolicy fmt` as a process (the built CLI: `npm run build` first).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, lstatSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, afterEach, beforeEach, vi } from "vitest";
import { runFmt } from "../../bin/commands/fmt.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLI = join(ROOT, "dist", "bin", "vmpolicy.js");

function fmt(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, "fmt", ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const MESSY = "policy p\nlet a=1+2   # sum\nrule r when a>1 then alert \"big\"\n";
const TIDY = 'policy p\n\nlet a = 1 + 2 # sum\n\nrule r\n  when a > 1\n  then alert "big"\n';

function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "vmpolicy-fmt-"));
  writeFileSync(join(dir, "messy.policy"), MESSY);
  writeFileSync(join(dir, "tidy.policy"), TIDY);
  writeFileSync(join(dir, "notes.txt"), "not a policy");
  return dir;
}

describe("vmpolicy fmt", () => {
  it("rewrites the files of a folder in place and lists them", () => {
    const dir = workspace();
    const r = fmt(dir);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toBe(`formatted ${join(dir, "messy.policy")}\n`);
    expect(readFileSync(join(dir, "messy.policy"), "utf8")).toBe(TIDY);
    expect(readFileSync(join(dir, "tidy.policy"), "utf8")).toBe(TIDY);
    expect(readdirSync(dir).sort()).toEqual(["messy.policy", "notes.txt", "tidy.policy"]);
    // Formatting again changes nothing.
    const again = fmt(dir);
    expect([again.code, again.out, again.err]).toEqual([0, "", ""]);
  });

  it("--check lists the files that differ, rewrites nothing and exits 1", () => {
    const dir = workspace();
    const r = fmt("--check", join(dir, "tidy.policy"), join(dir, "messy.policy"));
    expect(r.code).toBe(1);
    expect(r.out).toBe(`${join(dir, "messy.policy")}\n`);
    expect(readFileSync(join(dir, "messy.policy"), "utf8")).toBe(MESSY);
    const clean = fmt("--check", join(dir, "tidy.policy"));
    expect([clean.code, clean.out, clean.err]).toEqual([0, "", ""]);
  });

  it("prints syntax errors as FILE:LINE:COL and exits 1, leaving the file alone", () => {
    const dir = workspace();
    const bad = join(dir, "bad.policy");
    writeFileSync(bad, "policy p\nlet rule = 1\nlet b = \n");
    const r = fmt(bad);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `${bad}:2:5: error: \`rule\` is a reserved word and cannot be used as a name\n` +
        `${bad}:3:8: error: expected an expression, found the end of the file\n`,
    );
    expect(readFileSync(bad, "utf8")).toBe("policy p\nlet rule = 1\nlet b = \n");
  });

  it("exits 2 on a path that cannot be read", () => {
    const r = fmt(join(tmpdir(), "no-such-vmpolicy-dir", "x.policy"));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^vmpolicy fmt: cannot read .*x\.policy: no such file or directory\n$/);
    if (process.getuid?.() !== 0) {
      const dir = mkdtempSync(join(tmpdir(), "vmpolicy-fmt-"));
      mkdirSync(join(dir, "locked"));
      writeFileSync(join(dir, "locked", "a.policy"), TIDY);
      chmodSync(join(dir, "locked"), 0o000);
      expect(fmt(join(dir, "locked")).code).toBe(2);
      chmodSync(join(dir, "locked"), 0o755);
    }
  });

  it("leaves the shipped default policies byte-identical when checked", () => {
    const before = readFileSync(join(ROOT, "policies", "cslb.policy"), "utf8");
    const r = fmt("--check", "policies");
    // The SPEC's own layout aligns `=`: it differs from the canonical one, and --check says so without touching it.
    expect(r.code).toBe(1);
    expect(r.out).toContain("policies/cslb.policy\n");
    expect(readFileSync(join(ROOT, "policies", "cslb.policy"), "utf8")).toBe(before);
  });

  it("has --help, and needs a path", () => {
    const help = fmt("--help");
    expect(help.code).toBe(0);
    expect(help.out).toContain("Usage: vmpolicy fmt [options] <paths...>");
    expect(help.out).toContain("--check");
    const none = fmt();
    expect(none.code).toBe(2);
    expect(none.err).toContain("missing required argument 'paths'");
  });
});

const MESSY_PLAIN = "policy p\nlet a=1+2\nrule r when a>1 then alert \"big\"\n";
const TIDY_PLAIN = 'policy p\n\nlet a = 1 + 2\n\nrule r\n  when a > 1\n  then alert "big"\n';

describe("vmpolicy fmt replaces files faithfully", () => {
  beforeEach(() => {
    vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  });
  afterEach(() => vi.restoreAllMocks());

  it("formats the target of a symlink and leaves the link a link", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-fmt-link-"));
    const real = join(dir, "real.policy");
    const link = join(dir, "link.policy");
    writeFileSync(real, MESSY_PLAIN);
    symlinkSync(real, link);
    expect(await runFmt([link], {})).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, "utf8")).toBe(TIDY_PLAIN);
    expect(readdirSync(dir).sort()).toEqual(["link.policy", "real.policy"]);
  });

  it("keeps the file's permission bits", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-fmt-mode-"));
    const file = join(dir, "p.policy");
    writeFileSync(file, MESSY_PLAIN);
    chmodSync(file, 0o640);
    expect(await runFmt([file], {})).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(TIDY_PLAIN);
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });
});
