/**
 * `vmpolicy replay` as a real process (the built CLI, `npm run build`
 * first) on a recording made by a test run of the engine on sim agents:
 * the JSON of SPEC 10, the readable report with its limit, a candidate
 * equal to the recorded set (0 differing rounds) and one that never
 * migrates, `--from`/`--to`, usage errors, and `--export-trace` read back by
 * `simulate --scenario`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { runReplay } from "../../bin/commands/replay.js";
import { ROOT } from "../scenarios/helpers.js";
import { recordRounds } from "../engine/run/recording-helpers.js";

const CLI = join(ROOT, "dist", "bin", "vmpolicy.js");
const tmp = mkdtempSync(join(tmpdir(), "vmpolicy-replay-"));

function vmpolicy(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The same command in this process (each CLI start costs seconds on a loaded machine): exit code and output. */
async function replay(dirArg: string, options: Parameters<typeof runReplay>[1]) {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s) => ((err += String(s)), true));
  try {
    const code = await runReplay(dirArg, options);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

let dir = "";
const calm = join(tmp, "calm.policy");

beforeAll(async () => {
  dir = (await recordRounds(4)).dir;
  writeFileSync(calm, "policy calm\n\ngroup all otherwise\n");
}, 30_000);

// Each CLI start takes seconds on a machine shared by many; the tests wait for them.
describe("vmpolicy replay", { timeout: 120_000 }, () => {
  it("prints SPEC 10's JSON: the recorded set again differs in no round", () => {
    const r = vmpolicy("replay", dir, "--policy", "policies", "--json");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.rounds).toBe(4);
    expect(report.differing).toBe(0);
    expect(report.diffs).toEqual([]);
    expect(report.baseline_source).toBe("recorded");
    for (const side of ["baseline", "candidate"]) expect(Object.keys(report[side])).toEqual(["migrate", "restart", "alert", "migrations_per_hour", "errors", "time_in_groups"]);
    expect(report.candidate.migrate).toBe(report.baseline.migrate);
    expect(report.baseline.migrate).toBeGreaterThan(0);
    expect(report.limit).toMatch(/does not know how the cluster would have evolved/);
  });

  it("reports a candidate that never migrates: counts side by side, the differing rounds, and the limit last", async () => {
    const json = JSON.parse((await replay(dir, { policy: [calm], json: true })).out);
    expect(json.candidate.migrate).toBe(0);
    expect(json.differing).toBeGreaterThan(0);
    expect(json.diffs[0].only_candidate).toEqual([]);
    expect(json.diffs[0].only_baseline[0]).toMatchObject({ kind: "migrate", from: "xen1", to: "xen2", rule: "cslb.balance" });

    const r = vmpolicy("replay", dir, "--policy", calm);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^replayed 4 recorded rounds from \S+ to \S+ \(0\.0 h\)$/);
    expect(lines).toContain(`candidate: ${calm}`);
    expect(lines).toContain("baseline:  what the recorded set planned");
    expect(lines.find((l) => l.startsWith("migrations "))).toMatch(new RegExp(`^migrations\\s+${json.baseline.migrate}\\s+0$`));
    expect(lines).toContain(`rounds whose actions differ: ${json.differing} of 4`);
    expect(r.out).toMatch(/^ {4}- migrate vm\d xen1 → xen2 \(cslb\.balance\)$/m);
    expect(lines[lines.length - 1]).toMatch(/^note: a replay shows what each set would have decided/);
  });

  it("compares with a --baseline set, and keeps to --from/--to", async () => {
    const r = JSON.parse((await replay(dir, { policy: [calm], baseline: ["policies"], json: true })).out);
    expect(r.baseline_source).toBe("set");
    expect(r.baseline.migrate).toBeGreaterThan(0);
    const none = await replay(dir, { from: "2000-01-01", to: "2000-01-02" });
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/^vmpolicy replay: no recorded rounds in .* between 2000-01-01 and 2000-01-02 \(1 recording file\)$/m);
    const from = await replay(dir, { from: r.to, json: true });
    expect(JSON.parse(from.out).rounds).toBe(1);
    const to = await replay(dir, { to: r.from, json: true });
    expect(JSON.parse(to.out).rounds).toBe(1);
  });

  it("refuses a bad time, a missing folder and a broken candidate with their exit codes", async () => {
    const bad = vmpolicy("replay", dir, "--from", "yesterday");
    expect(bad.code).toBe(2);
    expect(bad.err).toBe('vmpolicy replay: --from: expected an ISO date or time such as 2026-12-06 or 2026-12-06T08:00:00Z, got "yesterday"\n');
    const missing = await replay(join(tmp, "nope"), {});
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^vmpolicy replay: cannot read .*nope: /);
    const broken = join(tmp, "broken.policy");
    writeFileSync(broken, "policy broken\n\nrule r\n  for each host as h\n  then migrate nothing_here to h\n");
    const r = await replay(dir, { policy: [broken] });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/broken\.policy:5:\d+/);
  });

  it("--export-trace writes the recorded VM CPU as a trace that simulate --scenario runs", () => {
    const csv = join(tmp, "recorded.csv");
    const r = vmpolicy("replay", dir, "--export-trace", csv, "--json");
    expect(r.code).toBe(0);
    expect(r.err).toContain(`wrote the recorded VM CPU to ${csv} and a scenario to ${join(tmp, "recorded.yaml")}`);
    const lines = readFileSync(csv, "utf8").trimEnd().split("\n");
    expect(lines[0]).toBe("time,vm1,vm2,vm3,vm4,vm5,vm6,vm7");
    // One row per recorded round (times in seconds with milliseconds, strictly ascending).
    expect(lines).toHaveLength(5);
    const times = lines.slice(1).map((l) => Number(l.split(",")[0]));
    expect(times[0]).toBe(0);
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThan(times[i - 1]!);
    // The busy test VMs want 50% each; the idle one ~0.
    expect(lines[1]!.split(",").slice(1, 7).map(Number)).toEqual([50, 50, 50, 50, 50, 50]);
    const sim = vmpolicy("simulate", "--scenario", join(tmp, "recorded.yaml"), "--iterations", "1", "--repeat", "1", "--json");
    expect(sim.err).toBe("");
    expect(sim.code).toBe(0);
    const rows = JSON.parse(sim.out).rows as { policy: string; served_pct: number }[];
    expect(rows.map((x) => x.policy)).toEqual(["static", "cslb"]);
    expect(rows[0]!.served_pct).toBeGreaterThan(0);
  });
});
