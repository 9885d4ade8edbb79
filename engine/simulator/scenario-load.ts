/**
 * Scenario files (`vmpolicy simulate --scenario FILE`, YAML or JSON): any
 * cluster and workload, validated key by key with errors that name the key
 * (`scenario.yaml: hosts[1].cpus: must be a number > 0`). Every section is
 * optional and defaults to the thesis testbed; a CSV trace (`trace: FILE`,
 * header `time,VM,VM…`, time in seconds) drives the CPU demand of the VMs
 * it names, the others run the benchmark.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { parseDuration } from "../run/config-schema.js";
import { thesisScenario, type Scenario, type SimHost, type SimVm, type TraceSeries } from "./scenario.js";

export type ScenarioResult = { ok: true; scenario: Scenario } | { ok: false; errors: string[] };

type Obj = Record<string, unknown>;

/**
 * The longest simulated run, and so the longest scenario duration of any
 * kind: 30 days. Simulated time is no timer, so the engine's 24.8-day timer
 * bound does not apply, but a run of `1e9` seconds would step for hours
 * without a line of output (one simulated hour takes ~14 ms per run).
 */
export const MAX_SCENARIO_SECONDS = 30 * 86400;

/** Reads, parses and validates a scenario file. */
export async function loadScenarioFile(path: string): Promise<ScenarioResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    return { ok: false, errors: [`${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`] };
  }
  let doc: unknown;
  try {
    doc = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    return { ok: false, errors: [`${path}: not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${(err as Error).message.split("\n")[0]}`] };
  }
  const errors: string[] = [];
  const scenario = await buildScenario(doc, (key, message) => errors.push(`${path}: ${key}: ${message}`), dirname(resolve(path)));
  return errors.length > 0 || scenario === null ? { ok: false, errors } : { ok: true, scenario };
}

/** Validates a parsed document; `report(key, message)` for each problem; relative trace paths resolve against `baseDir`. */
export async function buildScenario(doc: unknown, report: (key: string, message: string) => void, baseDir: string): Promise<Scenario | null> {
  const base = thesisScenario();
  if (!isObj(doc)) {
    report("(document)", "must be a mapping of keys");
    return null;
  }
  const top = ["duration", "step", "hosts", "vms", "trace", "workload", "migration", "engine"];
  unknownKeys(doc, top, "", report);
  const num = (o: Obj, key: string, path: string, fallback: number, min: number, strict: boolean): number => {
    const v = o[key];
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || (strict && v === min)) {
      report(path + key, `must be a number ${strict ? ">" : "≥"} ${min} (got ${JSON.stringify(v)})`);
      return fallback;
    }
    return v;
  };
  /** A count: a whole number ≥ `min`. */
  const int = (o: Obj, key: string, path: string, fallback: number, min: number): number => {
    const v = o[key];
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
      report(path + key, `must be a whole number ≥ ${min} (got ${JSON.stringify(v)})`);
      return fallback;
    }
    return v;
  };
  const dur = (o: Obj, key: string, path: string, fallback: number, allowZero = false): number => {
    if (o[key] === undefined) return fallback;
    const c = parseDuration(o[key], { allowZero, max: MAX_SCENARIO_SECONDS });
    if (!c.ok) report(path + key, c.message);
    return c.ok ? c.value : fallback;
  };
  const section = (key: string, keys: string[]): Obj => {
    const v = doc[key];
    if (v === undefined) return {};
    if (!isObj(v)) {
      report(key, "must be a mapping");
      return {};
    }
    unknownKeys(v, keys, `${key}.`, report);
    return v;
  };

  let hosts: SimHost[] = [...base.hosts];
  if (doc.hosts !== undefined) {
    if (!Array.isArray(doc.hosts) || doc.hosts.length === 0) report("hosts", "must be a non-empty list");
    else
      hosts = doc.hosts.map((h, i) => {
        const p = `hosts[${i}].`;
        if (!isObj(h)) {
          report(`hosts[${i}]`, "must be a mapping");
          return base.hosts[0]!;
        }
        unknownKeys(h, ["name", "cpus", "cores", "ht_gain", "mem", "dom0"], p, report);
        const name = str(h, "name", p, report) ?? `host${i + 1}`;
        const cpus = num(h, "cpus", p, 0, 0, true);
        if (h.cpus === undefined) report(p + "cpus", "is required");
        const cores = num(h, "cores", p, cpus, 0, true);
        if (cores > cpus && cpus > 0) report(p + "cores", `must be ≤ cpus (${cpus})`);
        return { name, cpus, cores, htGain: num(h, "ht_gain", p, 0, 0, false), mem: num(h, "mem", p, base.hosts[0]!.mem, 0, true), dom0: num(h, "dom0", p, 0, 0, false) };
      });
  }
  dupes(hosts.map((h) => h.name), "hosts", report);

  const traceFile = doc.trace === undefined ? null : typeof doc.trace === "string" ? doc.trace : (report("trace", "must be a path to a CSV file"), null);
  const traces = traceFile === null ? new Map<string, TraceSeries>() : await readTrace(resolve(baseDir, traceFile), report);

  let vms: SimVm[] = doc.hosts === undefined ? [...base.vms] : [];
  if (doc.vms !== undefined) {
    if (!Array.isArray(doc.vms)) report("vms", "must be a list");
    else
      vms = doc.vms.map((v, i) => {
        const p = `vms[${i}].`;
        if (!isObj(v)) {
          report(`vms[${i}]`, "must be a mapping");
          return base.vms[0]!;
        }
        unknownKeys(v, ["name", "host", "mem", "vcpus", "pinned"], p, report);
        const name = str(v, "name", p, report) ?? `vm${i + 1}`;
        const host = v.host === undefined ? hosts[i % hosts.length]!.name : (str(v, "host", p, report) ?? "");
        if (!hosts.some((h) => h.name === host)) report(p + "host", `unknown host "${host}" (hosts: ${hosts.map((h) => h.name).join(", ")})`);
        if (v.pinned !== undefined && typeof v.pinned !== "boolean") report(p + "pinned", "must be true or false");
        const trace = traces.get(name);
        return { name, host, mem: num(v, "mem", p, 512, 0, true), vcpus: int(v, "vcpus", p, 1, 1), pinned: v.pinned === true, ...(trace ? { trace } : {}) };
      });
  } else if (doc.hosts !== undefined) report("vms", "is required when hosts are given");
  dupes(vms.map((v) => v.name), "vms", report);
  for (const name of traces.keys()) if (!vms.some((v) => v.name === name)) report("trace", `column "${name}" names no VM`);

  const w = section("workload", ["busy", "work", "iterations", "idle_cpu", "run_gap", "startup", "startup_dom0"]);
  const m = section("migration", ["bandwidth", "dirty_factor", "downtime", "dom0_source", "dom0_dest", "slowdown"]);
  const e = section("engine", ["interval", "round_cpu", "host", "dom0", "cooldown", "max_per_host", "max_per_round", "smoothing"]);
  const engineHost = e.host === undefined ? hosts[0]!.name : (str(e, "host", "engine.", report) ?? "");
  if (!hosts.some((h) => h.name === engineHost)) report("engine.host", `unknown host "${engineHost}"`);
  const benchVms = vms.filter((v) => !v.trace).length;
  const busy = int(w, "busy", "workload.", Math.min(base.workload.busy, benchVms), 0);
  if (busy > benchVms) report("workload.busy", `must be ≤ the ${benchVms} VMs without a trace`);
  const scenario: Scenario = {
    duration: dur(doc, "duration", "", base.duration),
    step: dur(doc, "step", "", base.step),
    hosts,
    vms,
    workload: {
      busy,
      work: num(w, "work", "workload.", base.workload.work, 0, true),
      iterations: int(w, "iterations", "workload.", base.workload.iterations, 1),
      idleCpu: num(w, "idle_cpu", "workload.", base.workload.idleCpu, 0, false),
      runGap: dur(w, "run_gap", "workload.", base.workload.runGap, true),
      startup: dur(w, "startup", "workload.", base.workload.startup, true),
      startupDom0: num(w, "startup_dom0", "workload.", base.workload.startupDom0, 0, false),
    },
    migration: {
      bandwidth: num(m, "bandwidth", "migration.", base.migration.bandwidth, 0, true),
      dirtyFactor: num(m, "dirty_factor", "migration.", base.migration.dirtyFactor, 1, false),
      downtime: dur(m, "downtime", "migration.", base.migration.downtime, true),
      dom0Source: num(m, "dom0_source", "migration.", base.migration.dom0Source, 0, false),
      dom0Dest: num(m, "dom0_dest", "migration.", base.migration.dom0Dest, 0, false),
      slowdown: num(m, "slowdown", "migration.", base.migration.slowdown, 0, false),
    },
    engine: {
      interval: dur(e, "interval", "engine.", base.engine.interval),
      roundCpu: num(e, "round_cpu", "engine.", base.engine.roundCpu, 0, false),
      host: engineHost,
      dom0: num(e, "dom0", "engine.", base.engine.dom0, 0, false),
      cooldown: dur(e, "cooldown", "engine.", base.engine.cooldown, true),
      maxPerHost: int(e, "max_per_host", "engine.", base.engine.maxPerHost, 1),
      maxPerRound: int(e, "max_per_round", "engine.", base.engine.maxPerRound, 1),
      smoothing: dur(e, "smoothing", "engine.", base.engine.smoothing, true),
    },
  };
  if (scenario.migration.slowdown >= 1) report("migration.slowdown", "must be < 1");
  // A step longer than the run rounds to zero steps: every figure would be a silent 0.00.
  // Not checked against a duration already reported as wrong: that one is the error to fix.
  const durationOk = doc.duration === undefined || parseDuration(doc.duration, { max: MAX_SCENARIO_SECONDS }).ok;
  if (durationOk && scenario.step > scenario.duration) report("step", `must be at most the duration, ${scenario.duration}s (got ${scenario.step}s)`);
  return scenario;
}

/** Parses `time,VM,VM…` CSV: times ascending from 0, CPU values ≥ 0; the trace repeats after its last time plus one step. */
async function readTrace(path: string, report: (key: string, message: string) => void): Promise<Map<string, TraceSeries>> {
  const out = new Map<string, TraceSeries>();
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    report("trace", `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return out;
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  const header = (lines[0] ?? "").split(",").map((c) => c.trim());
  if (header[0] !== "time" || header.length < 2) {
    report("trace", `${path}:1: the header must be time,VM[,VM…] (got "${lines[0] ?? ""}")`);
    return out;
  }
  const times: number[] = [];
  const columns: number[][] = header.slice(1).map(() => []);
  for (let i = 1; i < lines.length; i++) {
    const cells = lines[i]!.split(",").map((c) => Number(c.trim()));
    if (cells.length !== header.length || cells.some((c) => !Number.isFinite(c) || c < 0)) {
      report("trace", `${path}:${i + 1}: expected ${header.length} numbers ≥ 0`);
      return out;
    }
    if (times.length > 0 && cells[0]! <= times[times.length - 1]!) {
      report("trace", `${path}:${i + 1}: time ${cells[0]} is not after ${times[times.length - 1]}`);
      return out;
    }
    times.push(cells[0]!);
    cells.slice(1).forEach((c, k) => columns[k]!.push(c));
  }
  if (times.length === 0) {
    report("trace", `${path}: no samples`);
    return out;
  }
  const step = times.length > 1 ? times[times.length - 1]! - times[times.length - 2]! : 1;
  const period = times[times.length - 1]! + step;
  header.slice(1).forEach((name, k) => out.set(name, { times, values: columns[k]!, period }));
  return out;
}

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(o: Obj, key: string, path: string, report: (key: string, message: string) => void): string | null {
  const v = o[key];
  if (typeof v === "string" && v !== "") return v;
  report(path + key, v === undefined ? "is required" : "must be a non-empty string");
  return null;
}

function unknownKeys(o: Obj, known: readonly string[], path: string, report: (key: string, message: string) => void): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) report(path + k, `unknown key (known: ${known.join(", ")})`);
}

function dupes(names: readonly string[], what: string, report: (key: string, message: string) => void): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) report(what, `duplicate name "${n}"`);
    seen.add(n);
  }
}
