/**
 * Review fixes to config and scenario validation: config durations are
 * bounded by Node's timer limit, the config's `params` are checked against
 * the policies and reported against their config key (not as `--param`),
 * and a scenario's `duration` and `step` are bounded so a run can neither
 * step for hours nor round to zero steps.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { applyFlags, defaultConfig, loadEngineConfig, parseConfig } from "../engine/config.js";
import { MAX_TIMER_SECONDS, parseDuration } from "../engine/config-schema.js";
import { loadScenarioFile, MAX_SCENARIO_SECONDS } from "../engine/simulator/scenario-load.js";

const dir = mkdtempSync(join(tmpdir(), "vmpolicy-review2-config-"));

function errorsOf(text: string): readonly string[] {
  const r = parseConfig(text, "config.yaml", dir);
  if (r.ok) throw new Error("expected errors, got a config");
  return r.errors;
}

describe("config durations are at most Node's timer limit", () => {
  it("the limit is 2^31-1 ms in whole seconds", () => {
    expect(MAX_TIMER_SECONDS).toBe(2147483);
    expect(MAX_TIMER_SECONDS * 1000).toBeLessThanOrEqual(2 ** 31 - 1);
  });

  it.each(["interval", "cooldown", "down_after", "smoothing", "fence_timeout", "agent_timeout", "action_timeout"])(
    "%s: 3000000 is refused naming the key and the limit; 2147483 is accepted",
    (key) => {
      expect(errorsOf(`${key}: 3000000`)).toEqual([`config.yaml: ${key}: must be at most 24.8 days (2147483s) (got 3000000)`]);
      const ok = parseConfig(`${key}: 2147483`, "config.yaml", dir);
      expect(ok.ok && (ok.config as unknown as Record<string, unknown>)[key]).toBe(2147483);
    },
  );

  it("a duration with a unit is bounded too, quoting what was written", () => {
    expect(errorsOf("agent_timeout: 1000h")).toEqual(['config.yaml: agent_timeout: must be at most 24.8 days (2147483s) (got "1000h")']);
  });

  it("the --interval flag has the same bound", () => {
    expect(applyFlags(defaultConfig(dir), { interval: "3000000" })).toEqual({
      ok: false,
      errors: ["--interval: must be at most 24.8 days (2147483s) (got 3000000)"],
    });
  });

  it("a caller with its own bound passes max", () => {
    expect(parseDuration("2h", { max: 3600 })).toEqual({ ok: false, message: 'must be at most 3600s (got "2h")' });
    expect(parseDuration(3600, { max: 3600 })).toEqual({ ok: true, value: 3600 });
  });
});

describe("config params are checked against the policies and name their config key", () => {
  /** A folder with the shipped cslb policy (param band, a number) and one more with a number and a string param. */
  function setup(config: string): string {
    const root = mkdtempSync(join(dir, "params-"));
    mkdirSync(join(root, "policies"));
    copyFileSync(join("policies", "cslb.policy"), join(root, "policies", "cslb.policy"));
    writeFileSync(join(root, "policies", "extra.policy"), 'policy extra\nparam spare = 1\nparam mode = "fast"\nrule r for each host where host.state == maintenance then evacuate host\n');
    writeFileSync(join(root, "config.yaml"), config);
    return root;
  }

  it("a value of the wrong type names params.KEY of the config file, not --param", async () => {
    const root = setup("params: {cslb.band: abc}\n");
    expect(await loadEngineConfig({ file: "config.yaml", cwd: root })).toEqual({
      ok: false,
      errors: ["config.yaml: params.cslb.band: cslb.band is a number; `abc` is not a number"],
    });
  });

  it("an unknown param names its config key, with a suggestion when one is close", async () => {
    const unknown = await loadEngineConfig({ file: "config.yaml", cwd: setup("params: {nosuch.param: 3}\n") });
    expect(unknown).toEqual({ ok: false, errors: ["config.yaml: params.nosuch.param: unknown param `nosuch.param`"] });
    const typo = await loadEngineConfig({ file: "config.yaml", cwd: setup("params: {cslb.bnad: 3}\n") });
    expect(typo).toEqual({ ok: false, errors: ["config.yaml: params.cslb.bnad: unknown param `cslb.bnad` (did you mean `cslb.band`?)"] });
  });

  it("the list form names the entry; every bad param is reported at once", async () => {
    const root = setup('params: ["band=abc", "spare=2", "nope=1"]\n');
    expect(await loadEngineConfig({ file: "config.yaml", cwd: root })).toEqual({
      ok: false,
      errors: ["config.yaml: params[0]: cslb.band is a number; `abc` is not a number", "config.yaml: params[2]: unknown param `nope`"],
    });
  });

  it("good params load; the check follows --policies", async () => {
    const root = setup("params: {cslb.band: 15, spare: 2, mode: slow}\n");
    const ok = await loadEngineConfig({ file: "config.yaml", cwd: root });
    expect(ok.ok && ok.config.params).toEqual(["cslb.band=15", "spare=2", "mode=slow"]);
    // Only cslb is loaded now, so `spare` and `mode` name nothing.
    const narrowed = await loadEngineConfig({ file: "config.yaml", cwd: root, flags: { policies: [join(root, "policies", "cslb.policy")] } });
    expect(narrowed).toEqual({
      ok: false,
      errors: ["config.yaml: params.spare: unknown param `spare`", "config.yaml: params.mode: unknown param `mode`"],
    });
  });

  it("policies that cannot be read or parsed are left to the engine's start", async () => {
    const missing = await loadEngineConfig({ file: "config.yaml", cwd: setup("policies: [nowhere]\nparams: {cslb.band: abc}\n") });
    expect(missing.ok).toBe(true);
    const root = setup("params: {cslb.band: abc}\n");
    writeFileSync(join(root, "policies", "broken.policy"), "policy broken\nrule r for each\n");
    expect((await loadEngineConfig({ file: "config.yaml", cwd: root })).ok).toBe(true);
  });
});

describe("scenario duration and step", () => {
  async function load(name: string, text: string) {
    const path = join(dir, name);
    writeFileSync(path, text);
    return { path, r: await loadScenarioFile(path) };
  }

  it("a step longer than the duration is refused naming step", async () => {
    const { path, r } = await load("step.yaml", "step: 100000\n");
    expect(r).toEqual({ ok: false, errors: [`${path}: step: must be at most the duration, 3600s (got 100000s)`] });
    const short = await load("short.yaml", "duration: 10m\nstep: 11m\n");
    expect(short.r).toEqual({ ok: false, errors: [`${short.path}: step: must be at most the duration, 600s (got 660s)`] });
  });

  it("a duration over 30 days is refused naming duration, without a second error about step", async () => {
    expect(MAX_SCENARIO_SECONDS).toBe(30 * 86400);
    const { path, r } = await load("long.yaml", "duration: 1e9\nstep: 100000\n");
    expect(r).toEqual({ ok: false, errors: [`${path}: duration: must be at most 30 days (2592000s) (got 1000000000)`] });
  });

  it("30 days of simulated time, longer than the engine's timer limit, is allowed", async () => {
    const { r } = await load("month.yaml", "duration: 720h\nstep: 720h\n");
    expect(r.ok && [r.scenario.duration, r.scenario.step]).toEqual([2592000, 2592000]);
  });
});
