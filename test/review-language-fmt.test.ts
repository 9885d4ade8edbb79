/**
 * `vmpolicy fmt` rewrites a file in place: what is replaced is the file, not
 * a symlink to it, and the file keeps its permissions (an operator's
 * policies/ may link into a shared checkout or be readable by the engine's
 * user only). In-process, through runFmt, so no build is needed.
 */
import { chmodSync, lstatSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runFmt } from "../bin/commands/fmt.js";

const MESSY = "policy p\nlet a=1+2\nrule r when a>1 then alert \"big\"\n";
const TIDY = 'policy p\n\nlet a = 1 + 2\n\nrule r\n  when a > 1\n  then alert "big"\n';

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
    writeFileSync(real, MESSY);
    symlinkSync(real, link);
    expect(await runFmt([link], {})).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, "utf8")).toBe(TIDY);
    expect(readdirSync(dir).sort()).toEqual(["link.policy", "real.policy"]);
  });

  it("keeps the file's permission bits", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-fmt-mode-"));
    const file = join(dir, "p.policy");
    writeFileSync(file, MESSY);
    chmodSync(file, 0o640);
    expect(await runFmt([file], {})).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(TIDY);
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });
});
