import { mkdtempSync, writeFileSync, copyFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { applyFlags, defaultConfig, loadEngineConfig, parseConfig } from "../../../engine/run/config.js";
import { parseDuration, parseSize, MAX_TIMER_SECONDS } from "../../../engine/run/config-schema.js";
import { loadScenarioFile, MAX_SCENARIO_SECONDS } from "../../../engine/simulator/scenario-load.js";

const dir = mkdtempSync(join(tmpdir(), "vmpolicy-config-"));

function errorsOf(text: string, file = "config.yaml"): readonly string[] {
  const r = parseConfig(text, file, dir);
  if (r.ok) throw new Error(`expected errors, got a config`);
  return r.errors;
}

describe("config validation", () => {
  it("fills every default when the file is empty", () => {
    const r = parseConfig("", "config.yaml", dir);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const c = r.config;
    expect(c.listen).toBe("127.0.0.1:7070");
    expect(c.interval).toBe(10);
    expect(c.policies).toEqual([join(dir, "policies")]);
    expect(c.params).toEqual([]);
    expect(c.dry_run).toBe(false);
    expect(c.cooldown).toBe(60);
    expect(c.max_per_host).toBe(2);
    expect(c.max_per_round).toBe(16);
    expect(c.down_after).toBe(30);
    expect(c.smoothing).toBe(300);
    expect(c.pingpong_window).toBe(1800);
    expect(c.fence).toBeNull();
    expect(c.hosts).toEqual([]);
    expect(c.token_file).toBeNull();
    expect(c.script_limits).toEqual({ memoryBytes: 32 * 1024 * 1024, callMs: 50, roundMs: 500 });
    // No hosts: the embedded demo gets a fresh journal in the temp folder.
    expect(c.journal.startsWith(tmpdir())).toBe(true);
  });

  it("reads a full YAML config, durations, sizes and paths relative to the file", () => {
    const text = [
      "listen: 0.0.0.0:8080",
      "token_file: secrets/token",
      "interval: 5s",
      "policies: [policies, extra/mine.policy]",
      "params: { cslb.band: 15, mode: fast }",
      "dry_run: true",
      "cooldown: 2m",
      "max_per_host: 3",
      "max_per_round: 4",
      "down_after: 45",
      "smoothing: 1h",
      'fence: ["ipmitool", "-H", "{host}-ipmi", "power", "off"]',
      "journal: state/journal.jsonl",
      "hosts:",
      "  - { name: xen1, url: http://10.0.0.1:7071/ }",
      "  - { name: xen2, url: https://10.0.0.2:7071 }",
      "script_memory: 64MiB",
      "script_call_ms: 20",
      "script_round_ms: 200",
    ].join("\n");
    const r = parseConfig(text, "sub/config.yaml", dir);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const c = r.config;
    expect(c.listen).toBe("0.0.0.0:8080");
    expect(c.token_file).toBe(join(dir, "sub/secrets/token"));
    expect(c.interval).toBe(5);
    expect(c.policies).toEqual([join(dir, "sub/policies"), join(dir, "sub/extra/mine.policy")]);
    expect(c.params).toEqual(["cslb.band=15", "mode=fast"]);
    expect(c.dry_run).toBe(true);
    expect(c.cooldown).toBe(120);
    expect(c.max_per_host).toBe(3);
    expect(c.max_per_round).toBe(4);
    expect(c.down_after).toBe(45);
    expect(c.smoothing).toBe(3600);
    expect(c.fence).toEqual(["ipmitool", "-H", "{host}-ipmi", "power", "off"]);
    expect(c.journal).toBe(join(dir, "sub/state/journal.jsonl"));
    expect(c.hosts).toEqual([
      { name: "xen1", url: "http://10.0.0.1:7071" },
      { name: "xen2", url: "https://10.0.0.2:7071" },
    ]);
    expect(c.script_limits).toEqual({ memoryBytes: 64 * 1024 * 1024, callMs: 20, roundMs: 200 });
  });

  it("reads JSON by extension and by content; the journal defaults beside the config when hosts are set", () => {
    const json = '{"interval": 30, "params": ["band=12"], "fence": "fence-host --name {host}", "hosts": [{"name": "a", "url": "http://127.0.0.1:1"}]}';
    for (const file of ["engine.json", "engine.conf"]) {
      const r = parseConfig(json, file, dir);
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect(r.config.interval).toBe(30);
      expect(r.config.params).toEqual(["band=12"]);
      expect(r.config.fence).toEqual(["fence-host", "--name", "{host}"]);
      expect(r.config.journal).toBe(join(dir, "vmpolicy-journal.jsonl"));
    }
  });

  it.each([
    ["intervall: 5s", 'config.yaml: unknown key "intervall" (did you mean "interval"?)'],
    ["dryrun: true", 'config.yaml: unknown key "dryrun" (did you mean "dry_run"?)'],
    ["hosts: [{name: a, url: http://x:1, urll: y}]", 'config.yaml: hosts[0]: unknown key "urll" (did you mean "url"?)'],
    ["hosts: [{name: a, url: http://x:1}, {name: b, url: ftp://y}]", 'config.yaml: hosts[1].url: must be an http(s) URL (got "ftp://y")'],
    ["hosts: [{name: a, url: http://x:1}, {url: http://y:1}]", "config.yaml: hosts[1].name: is missing"],
    ["hosts: [{name: a, url: http://x:1}, {name: a, url: http://y:1}]", 'config.yaml: hosts[1].name: duplicate host name "a"'],
    ["hosts: {a: 1}", "config.yaml: hosts: must be a list of {name, url} (got a map)"],
    ["interval: fast", 'config.yaml: interval: must be a duration such as 30s, 5m, 2h or a number of seconds (got "fast")'],
    ["interval: 0", "config.yaml: interval: must be a duration > 0"],
    ["interval: 1e-7", "config.yaml: interval: must be at least 100ms (got 1e-7)"],
    ["interval: 50ms", 'config.yaml: interval: must be at least 100ms (got "50ms")'],
    ["agent_timeout: 0.0001", "config.yaml: agent_timeout: must be at least 1ms (got 0.0001)"],
    ["down_after: -5", "config.yaml: down_after: must be a duration ≥ 0 (got -5)"],
    ["max_per_host: 1.5", "config.yaml: max_per_host: must be a whole number (got number 1.5)"],
    ["max_per_round: 0", "config.yaml: max_per_round: must be ≥ 1 (got 0)"],
    ['dry_run: "yes"', 'config.yaml: dry_run: must be true or false (got "yes")'],
    ["listen: 7070", "config.yaml: listen: must be HOST:PORT such as 127.0.0.1:7070 (got number 7070)"],
    ["listen: localhost:99999", 'config.yaml: listen: must be HOST:PORT such as 127.0.0.1:7070: port "99999" is not 0-65535 (got "localhost:99999")'],
    ["listen: '::1:7070'", 'config.yaml: listen: must be HOST:PORT such as 127.0.0.1:7070: write an IPv6 address in brackets, e.g. [::1]:7071 (got "::1:7070")'],
    ["policies: []", "config.yaml: policies: must be a non-empty list of policy files or folders (got a list)"],
    ["params: [band]", 'config.yaml: params[0]: must be "NAME=VALUE" or "POLICY.NAME=VALUE" (got "band")'],
    ["params: {cslb.band: [1]}", "config.yaml: params.cslb.band: must be a number, a string or true/false (got a list)"],
    ["fence: []", "config.yaml: fence: must be a command: a list of arguments or a string, with {host} for the host name (got a list)"],
    ["script_memory: lots", 'config.yaml: script_memory: must be a size such as 32MiB, 512KiB or a number of bytes (got "lots")'],
    ["token_file: ''", "config.yaml: token_file: must not be empty"],
    ["- 1\n- 2", "config.yaml: must be a map of settings (got a list)"],
  ])("%s → %s", (text, message) => {
    expect(errorsOf(text)).toEqual([message]);
  });

  it("reports every problem at once, not just the first", () => {
    expect(errorsOf("intervall: 5\ncooldown: x\nhosts: [{name: a, url: nope}]")).toEqual([
      'config.yaml: unknown key "intervall" (did you mean "interval"?)',
      'config.yaml: cooldown: must be a duration such as 30s, 5m, 2h or a number of seconds (got "x")',
      'config.yaml: hosts[0].url: must be an http(s) URL (got "nope")',
    ]);
  });

  it("names the syntax error of a broken file", () => {
    expect(errorsOf('{"interval": 5,', "c.json")[0]).toMatch(/^c\.json: not valid JSON: /);
    expect(errorsOf("interval: [5", "c.yaml")[0]).toMatch(/^c\.yaml: not valid YAML: /);
  });

  it("pingpong_window is a duration, 0 allowed (off)", () => {
    const on = parseConfig("pingpong_window: 5m", "c.yaml", dir);
    expect(on.ok && on.config.pingpong_window).toBe(300);
    const off = parseConfig("pingpong_window: 0", "c.yaml", dir);
    expect(off.ok && off.config.pingpong_window).toBe(0);
    expect(errorsOf("pingpong_window: soon")).toEqual(['config.yaml: pingpong_window: must be a duration such as 30s, 5m, 2h or a number of seconds (got "soon")']);
  });

  it("parses durations and sizes", () => {
    expect(parseDuration("30s")).toEqual({ ok: true, value: 30 });
    expect(parseDuration("5m")).toEqual({ ok: true, value: 300 });
    expect(parseDuration("2h")).toEqual({ ok: true, value: 7200 });
    expect(parseDuration("250ms")).toEqual({ ok: true, value: 0.25 });
    expect(parseDuration(12)).toEqual({ ok: true, value: 12 });
    expect(parseDuration("0", { allowZero: true })).toEqual({ ok: true, value: 0 });
    expect(parseSize("1GiB")).toEqual({ ok: true, value: 1024 ** 3 });
    expect(parseSize(2 * 1024 * 1024)).toEqual({ ok: true, value: 2 * 1024 * 1024 });
    expect(parseSize("10")).toEqual({ ok: false, message: "must be at least 1MiB" });
  });
});

describe("flags and token", () => {
  it("flags override the file; flag paths resolve against the working directory", () => {
    const base = parseConfig("interval: 30\nlisten: 127.0.0.1:1", "c.yaml", dir);
    if (!base.ok) throw new Error("config");
    const r = applyFlags(base.config, { listen: "127.0.0.1:9000", interval: "2s", policies: ["p1"], dryRun: true, tokenFile: "t" }, "/elsewhere");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.listen).toBe("127.0.0.1:9000");
    expect(r.config.interval).toBe(2);
    expect(r.config.policies).toEqual(["/elsewhere/p1"]);
    expect(r.config.dry_run).toBe(true);
    expect(r.config.token_file).toBe("/elsewhere/t");
    expect(applyFlags(defaultConfig(dir), { interval: "soon", listen: "nowhere" })).toEqual({
      ok: false,
      errors: ['--listen: must be HOST:PORT such as 127.0.0.1:7070: no port (got "nowhere")', '--interval: must be a duration such as 30s, 5m, 2h or a number of seconds (got "soon")'],
    });
    expect(applyFlags(defaultConfig(dir), { interval: "15" }).ok && applyFlags(defaultConfig(dir), { interval: "15" })).toMatchObject({ config: { interval: 15 } });
  });

  it("reads and trims the token file; an empty or missing one is an error naming it", async () => {
    writeFileSync(join(dir, "token"), "  s3cret\n");
    writeFileSync(join(dir, "empty"), " \n");
    writeFileSync(join(dir, "c.yaml"), "token_file: token\n");
    const ok = await loadEngineConfig({ file: "c.yaml", cwd: dir });
    expect(ok.ok && ok.config.token).toBe("s3cret");
    const empty = await loadEngineConfig({ file: "c.yaml", cwd: dir, flags: { tokenFile: "empty" } });
    expect(empty).toEqual({ ok: false, errors: [`token_file: ${join(dir, "empty")} is empty`] });
    const missing = await loadEngineConfig({ cwd: dir, flags: { tokenFile: "nope" } });
    expect(missing).toEqual({ ok: false, errors: [`token_file: cannot read ${join(dir, "nope")}: ENOENT`] });
    expect(await loadEngineConfig({ file: "absent.yaml", cwd: dir })).toEqual({ ok: false, errors: ["absent.yaml: cannot read: ENOENT"] });
  });
});


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

describe("config record and shadow (SPEC 10)", () => {
  it("records by default beside the journal, 200 MiB; record: false or --no-record turns it off", () => {
    const r = parseConfig("journal: state/journal.jsonl\nhosts: [{ name: xen1, url: 'http://10.0.0.1:7071' }]", "config.yaml", dir);
    expect(r.ok && r.config.record).toEqual({ dir: join(dir, "state", "journal-recording"), max_bytes: 200 * 1024 * 1024 });
    expect(r.ok && r.config.shadow).toEqual([]);
    const off = parseConfig("record: false", "config.yaml", dir);
    expect(off.ok && off.config.record).toBeNull();
    if (!r.ok) return;
    expect(applyFlags(r.config, { record: false }).ok && (applyFlags(r.config, { record: false }) as { config: { record: unknown } }).config.record).toBeNull();
  });

  it("reads record.dir and record.max_bytes relative to the file, and shadow paths; --record and --shadow override them", () => {
    const r = parseConfig("record: { dir: rec, max_bytes: 50MiB }\nshadow: [next, extra/try.policy]", "config.yaml", dir);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.record).toEqual({ dir: join(dir, "rec"), max_bytes: 50 * 1024 * 1024 });
    expect(r.config.shadow).toEqual([join(dir, "next"), join(dir, "extra/try.policy")]);
    const flagged = applyFlags(r.config, { record: "elsewhere", shadow: ["s1"] }, "/cwd");
    expect(flagged.ok && flagged.config.record).toEqual({ dir: "/cwd/elsewhere", max_bytes: 50 * 1024 * 1024 });
    expect(flagged.ok && flagged.config.shadow).toEqual(["/cwd/s1"]);
  });

  it("names every bad record or shadow key", () => {
    expect(errorsOf("record: { dir: '', max_bytes: 10, keep: 3 }\nshadow: []")).toEqual([
      "config.yaml: record.dir: must not be empty",
      "config.yaml: record.max_bytes: must be at least 1MiB",
      'config.yaml: record: unknown key "keep" (known keys: dir, max_bytes)',
      "config.yaml: shadow: must be a non-empty list of policy files or folders (got a list)",
    ]);
    expect(errorsOf("record: yes")).toEqual(['config.yaml: record: must be false or a map with dir and max_bytes (got "yes")']);
  });
});
