/**
 * `vmpolicy check` as a real process (the built CLI in dist/): exit codes,
 * output formats and colour rules of SPEC 4. Run `npm run build` first
 * (`npm test` does).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readPolicySources } from "../../engine/policy/files.js";

const CLI = resolve("dist/bin/vmpolicy.js");

function run(args: string[], env: Record<string, string | undefined> = {}, cwd = process.cwd()) {
  const base = { ...process.env };
  delete base["NO_COLOR"];
  delete base["FORCE_COLOR"];
  const r = spawnSync(process.execPath, [CLI, "check", ...args], { cwd, env: { ...base, ...env }, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), "vmpolicy-check-"));
const BAD = join(dir, "bad.policy");
writeFileSync(BAD, "policy bad\ngroup heavy when host.lod > 80\nrule r for each heavy host then evacuate host\n");
const WARN = join(dir, "warn.policy");
writeFileSync(WARN, "policy warn\nparam spare = 1\nrule r for each host where host.state == maintenance then evacuate host\n");
const SCRIPTED = join(dir, "scripted.policy");
writeFileSync(
  SCRIPTED,
  'policy scripted\nscript """\nfunction over(host, limit) { return host.load > limit; }\n"""\nrule r for each host where over(host, 90) then evacuate host\n',
);

describe("vmpolicy check (process)", () => {
  it("checks policies/ by default: no output, exit 0", () => {
    const r = run([]);
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("checks a folder and files together; examples are clean", () => {
    expect(run(["policies/examples", "policies/evacuate.policy"])).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("an error: exit 1, FILE:LINE:COL header, source line, caret, summary", () => {
    const r = run([BAD]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      `${BAD}:2:23: error: unknown field \`lod\` of host; did you mean \`load\`?\n` +
        "    group heavy when host.lod > 80\n" +
        "                          ^^^\n" +
        "1 error\n",
    );
  });

  it("warnings only: exit 0", () => {
    const r = run([WARN]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${WARN}:2:7: warning: unused param \`spare\``);
    expect(r.stdout.endsWith("1 warning\n")).toBe(true);
  });

  it("a path that cannot be read: exit 2 with the reason, other paths still checked", () => {
    const r = run([join(dir, "missing.policy"), BAD]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`vmpolicy check: cannot read ${join(dir, "missing.policy")}: no such file or directory\n`);
    expect(r.stdout).toContain("unknown field `lod`");
  });

  it("no path, run where there is no policies/: exit 2, saying where the default was looked for and where the shipped one is", () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "vmpolicy-nowhere-"));
    const r = run([], {}, elsewhere);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `vmpolicy check: cannot read policies: no such file or directory (the default is read from the working directory, ${elsewhere}; name a file or folder, e.g. the shipped ${resolve("policies")})\n`,
    );
  });

  it("a file that is not UTF-8: exit 2, naming the first bad byte", () => {
    const latin = join(dir, "latin.policy");
    writeFileSync(latin, Buffer.from('policy bad\nrule r then alert "caf\xe9"\n', "latin1"));
    const r = run([latin]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`vmpolicy check: cannot read ${latin}: not UTF-8 text (save it as UTF-8): the first bad byte is at line 2, column 23\n`);
  });

  it("--json on a file that is not UTF-8: the reason is in the JSON too, at the first bad byte (exit 2)", () => {
    const latin = join(dir, "latin-json.policy");
    writeFileSync(latin, Buffer.from('policy bad\nrule r then alert "caf\xe9"\n', "latin1"));
    const r = run(["--json", latin, WARN]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        file: latin,
        line: 2,
        column: 23,
        endLine: 2,
        endColumn: 24,
        severity: "error",
        code: "E001",
        message: `cannot read ${latin}: not UTF-8 text (save it as UTF-8): the first bad byte is at line 2, column 23`,
      },
      { file: WARN, line: 2, column: 7, endLine: 2, endColumn: 12, severity: "warning", code: "W301", message: "unused param `spare`" },
    ]);
    expect(r.stderr).toContain("not UTF-8 text");
  });

  it("a file over 1 MiB is an error (E002, exit 1), refused without being parsed", () => {
    const big = join(dir, "big.policy");
    writeFileSync(big, "policy big\n" + "#".repeat(1024 * 1024) + "\n");
    const started = Date.now();
    const r = run([big, WARN]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(`${big}:1:1: error: the file is 1048588 bytes, over the limit of 1 MiB per policy file (max_policy_bytes)\n`);
    expect(JSON.parse(run(["--json", big]).stdout)).toEqual([
      { file: big, line: 1, column: 1, endLine: 1, endColumn: 1, severity: "error", code: "E002", message: "the file is 1048588 bytes, over the limit of 1 MiB per policy file (max_policy_bytes)" },
    ]);
  });

  it("a folder with no .policy file: exit 2", () => {
    const empty = mkdtempSync(join(tmpdir(), "vmpolicy-empty-"));
    const r = run([empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`vmpolicy check: no .policy files in ${empty}\n`);
  });

  it("--json: an array of {file, line, column, endLine, endColumn, severity, code, message}", () => {
    const r = run(["--json", BAD, WARN]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual([
      { file: BAD, line: 2, column: 23, endLine: 2, endColumn: 26, severity: "error", code: "T202", message: "unknown field `lod` of host; did you mean `load`?" },
      { file: WARN, line: 2, column: 7, endLine: 2, endColumn: 12, severity: "warning", code: "W301", message: "unused param `spare`" },
    ]);
    expect(JSON.parse(run(["--json"]).stdout)).toEqual([]);
  });

  it("a script block is analyzed by the QuickJS sandbox: its functions are callable", () => {
    expect(run([SCRIPTED])).toEqual({ code: 0, stdout: "", stderr: "" });
    const broken = join(dir, "broken.policy");
    writeFileSync(broken, 'policy broken\nscript """\nfunction over(host) { return host.load > ; }\n"""\nrule r for each host where over(host) then evacuate host\n');
    const r = run(["--json", broken]);
    expect(r.code).toBe(1);
    const [first] = JSON.parse(r.stdout) as { code: string; line: number }[];
    expect(first).toMatchObject({ code: "T224", line: 3 });
  });

  it("colour: never through a pipe, with FORCE_COLOR yes, never with NO_COLOR", () => {
    expect(run([BAD]).stdout).not.toContain("\u001b[");
    expect(run([BAD], { FORCE_COLOR: "1" }).stdout).toContain("\u001b[31m");
    expect(run([BAD], { FORCE_COLOR: "1", NO_COLOR: "1" }).stdout).not.toContain("\u001b[");
  });

  it("colour on a terminal unless NO_COLOR (through script(1), a real pty)", () => {
    const pty = (env: string) =>
      spawnSync("script", ["-qec", `${env} ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} check ${JSON.stringify(BAD)}`, "/dev/null"], {
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined } as NodeJS.ProcessEnv,
      });
    const tty = pty("env -u NO_COLOR -u FORCE_COLOR");
    expect(tty.status).toBe(1);
    expect(tty.stdout).toContain("\u001b[31m");
    const noColor = pty("env -u FORCE_COLOR NO_COLOR=1");
    expect(noColor.stdout).toContain("unknown field `lod`");
    expect(noColor.stdout).not.toContain("\u001b[");
  });

  it("the built bin runs as a program (npx vmpolicy execs it directly): shebang and exec bit survive the build", () => {
    const r = spawnSync(CLI, ["check", BAD], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1", PATH: `${resolve(process.execPath, "..")}:${process.env["PATH"] ?? ""}` } });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("unknown field `lod`");
  });

  it("--help", () => {
    const r = spawnSync(process.execPath, [CLI, "check", "--help"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("--json");
    expect(r.stdout).toContain("Exit status: 0 no error");
  });
});


describe("readPolicySources", () => {
  it("a folder gives its *.policy files sorted, not recursively; a file is taken as given", async () => {
    const root = mkdtempSync(join(tmpdir(), "vmpolicy-read-"));
    writeFileSync(join(root, "b.policy"), "policy b\n");
    writeFileSync(join(root, "a.policy"), "policy a\n");
    writeFileSync(join(root, "notes.txt"), "x");
    mkdirSync(join(root, "sub"));
    writeFileSync(join(root, "sub", "c.policy"), "policy c\n");
    const read = await readPolicySources([root, join(root, "sub", "c.policy")]);
    expect(read).toEqual({
      sources: [
        { file: join(root, "a.policy"), text: "policy a\n" },
        { file: join(root, "b.policy"), text: "policy b\n" },
        { file: join(root, "sub", "c.policy"), text: "policy c\n" },
      ],
      unreadable: [],
      ok: true,
    });
  });

  it("a missing path is listed as unreadable with the reason; the rest is still read", async () => {
    const read = await readPolicySources(["/nonexistent/x.policy", "policies"]);
    expect(read.unreadable).toEqual([{ path: "/nonexistent/x.policy", message: "no such file or directory" }]);
    expect(read.sources.map((s) => s.file)).toEqual(["policies/cslb.policy", "policies/evacuate.policy"]);
    expect(read.ok).toBe(false);
    expect(read.message).toBe("cannot read /nonexistent/x.policy: no such file or directory");
  });
});
