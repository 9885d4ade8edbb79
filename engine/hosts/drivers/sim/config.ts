/**
 * How an operator describes a sim host: the `agent` command's flags
 * (`--cpus 4 --mem 16384 --vms web1:1024,db1:4096:2:idle`) or a YAML/JSON
 * file (`--config host.yaml`), flags winning over the file. Every problem is
 * returned as a message naming the flag or key, never thrown.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { HOST_STATES } from "../../../../grammar/types.js";
import type { HostStateName } from "../../../types.js";
import type { SimVmSpec } from "./index.js";
import { VM_NAME_PATTERN } from "../sim-storage.js";

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** Everything about a sim host that a file or the flags may set. */
export interface SimHostConfig {
  name?: string;
  cpus?: number;
  mem?: number;
  labels?: Record<string, string>;
  state?: HostStateName;
  vms?: SimVmSpec[];
  seed?: number;
  period?: number;
  migration_rate?: number;
  busy_demand?: number;
  /** Modelled Dom0 CPU, percent of one CPU (reported as other_cpu). */
  dom0?: number;
  idle_demand?: number;
  storage?: string;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(message: string): Parsed<T> => ({ ok: false, message });

/**
 * `--vms`: comma-separated `NAME:MEM[:VCPUS][:busy|idle]` (MEM in MiB); an
 * item `COUNTxMEM[:…]` stands for COUNT such VMs named `HOST-1`, `HOST-2`, …
 */
export function parseVmsFlag(spec: string, host: string, defaultBusy = true): Parsed<SimVmSpec[]> {
  const vms: SimVmSpec[] = [];
  const format = "format NAME:MEM[:VCPUS][:busy|idle] or COUNTxMEM[:VCPUS][:busy|idle]";
  for (const part of spec.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const [head, ...rest] = part.split(":");
    const where = `--vms: ${JSON.stringify(part)}`;
    const count = /^(\d+)x(\d+)$/.exec(head ?? "");
    let names: string[];
    let mem: string | undefined;
    if (count) {
      if (Number(count[1]) > 10000) return bad(`${where}: at most 10000 VMs`);
      names = Array.from({ length: Number(count[1]) }, (_, i) => `${host}-${vms.length + i + 1}`);
      mem = count[2];
    } else {
      names = [head ?? ""];
      mem = rest.shift();
    }
    if (!names.every((n) => VM_NAME_PATTERN.test(n))) return bad(`${where}: the name must be letters, digits, "_", "-", "." (${format})`);
    if (mem === undefined || !/^\d+$/.test(mem)) return bad(`${where}: MEM must be a whole number of MiB (${format})`);
    let vcpus = 1;
    let busy = defaultBusy;
    for (const r of rest) {
      if (/^\d+$/.test(r) && Number(r) >= 1) vcpus = Number(r);
      else if (r === "busy" || r === "idle") busy = r === "busy";
      else return bad(`${where}: ${JSON.stringify(r)} is neither a vCPU count ≥ 1 nor busy/idle`);
    }
    for (const name of names) vms.push({ name, mem: Number(mem), vcpus, busy });
  }
  const seen = new Set<string>();
  for (const v of vms) {
    if (seen.has(v.name)) return bad(`--vms: VM ${v.name} is listed twice`);
    seen.add(v.name);
  }
  return ok(vms);
}

/** `--labels rack=r1,gpu=yes`. */
export function parseLabelsFlag(spec: string): Parsed<Record<string, string>> {
  const labels: Record<string, string> = {};
  for (const part of spec.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const i = part.indexOf("=");
    if (i <= 0) return bad(`--labels: ${JSON.stringify(part)} is not KEY=VALUE`);
    labels[part.slice(0, i)] = part.slice(i + 1);
  }
  return ok(labels);
}

/** A positive (or ≥ 0 when `zero`) finite number from a flag or key. */
export function parseNumber(where: string, v: unknown, opts: { integer?: boolean; zero?: boolean } = {}): Parsed<number> {
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n) || n < 0 || (!opts.zero && n === 0) || (opts.integer && !Number.isInteger(n))) {
    return bad(`${where}: must be ${opts.integer ? "a whole number" : "a number"} ${opts.zero ? "≥ 0" : "> 0"} (got ${JSON.stringify(v)})`);
  }
  return ok(n);
}

const KEYS = ["name", "cpus", "mem", "labels", "state", "vms", "seed", "period", "migration_rate", "busy_demand", "idle_demand", "dom0", "storage"];

/** Reads and checks a sim host file (YAML or JSON); errors name the file and key. */
export function loadSimConfig(file: string): Parsed<SimHostConfig> {
  let o: unknown;
  try {
    o = parseYaml(readFileSync(file, "utf8"));
  } catch (e) {
    return bad(`${file}: ${(e as Error).message.split("\n")[0]}`);
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) return bad(`${file}: must be a mapping of sim host settings`);
  const raw = o as Record<string, unknown>;
  const cfg: SimHostConfig = {};
  for (const [key, v] of Object.entries(raw)) {
    const where = `${file}: ${key}`;
    if (!KEYS.includes(key)) return bad(`${file}: unknown key ${JSON.stringify(key)} (known: ${KEYS.join(", ")})`);
    let r: Parsed<unknown>;
    switch (key) {
      case "name":
      case "storage":
        r = typeof v === "string" && v !== "" ? ok(v) : bad(`${where}: must be a non-empty string`);
        break;
      case "cpus":
      case "seed":
        r = parseNumber(where, v, { integer: true, zero: key === "seed" });
        break;
      case "period":
        r = parseNumber(where, v, { zero: true });
        break;
      case "mem":
      case "migration_rate":
      case "dom0":
        r = parseNumber(where, v, { zero: true });
        break;
      case "busy_demand":
      case "idle_demand":
        r = parseNumber(where, v, { zero: key === "idle_demand" });
        break;
      case "state":
        r = (HOST_STATES as readonly unknown[]).includes(v) ? ok(v) : bad(`${where}: must be one of ${HOST_STATES.join(", ")}`);
        break;
      case "labels":
        r = checkLabels(where, v);
        break;
      default:
        r = checkVms(where, v);
    }
    if (!r.ok) return r as Parsed<SimHostConfig>;
    (cfg as Record<string, unknown>)[key] = r.value;
  }
  return ok(cfg);
}

function checkLabels(where: string, v: unknown): Parsed<Record<string, string>> {
  if (typeof v !== "object" || v === null || Array.isArray(v) || Object.values(v).some((x) => typeof x !== "string")) return bad(`${where}: must map names to strings`);
  return ok(v as Record<string, string>);
}

function checkVms(where: string, v: unknown): Parsed<SimVmSpec[]> {
  if (!Array.isArray(v)) return bad(`${where}: must be a list of {name, mem, vcpus?, labels?, pinned?, busy?}`);
  const out: SimVmSpec[] = [];
  for (const [i, item] of v.entries()) {
    const at = `${where}[${i}]`;
    if (typeof item !== "object" || item === null) return bad(`${at}: must be a mapping`);
    const vm = item as Record<string, unknown>;
    for (const k of Object.keys(vm)) if (!["name", "mem", "vcpus", "labels", "pinned", "busy"].includes(k)) return bad(`${at}: unknown key ${JSON.stringify(k)}`);
    if (typeof vm.name !== "string" || !VM_NAME_PATTERN.test(vm.name)) return bad(`${at}.name: must be letters, digits, "_", "-", "."`);
    const mem = parseNumber(`${at}.mem`, vm.mem, { zero: true });
    if (!mem.ok) return mem as Parsed<SimVmSpec[]>;
    const vcpus = vm.vcpus === undefined ? ok(1) : parseNumber(`${at}.vcpus`, vm.vcpus, { integer: true });
    if (!vcpus.ok) return vcpus as Parsed<SimVmSpec[]>;
    const labels = vm.labels === undefined ? ok({}) : checkLabels(`${at}.labels`, vm.labels);
    if (!labels.ok) return labels as Parsed<SimVmSpec[]>;
    for (const k of ["pinned", "busy"] as const) if (vm[k] !== undefined && typeof vm[k] !== "boolean") return bad(`${at}.${k}: must be true or false`);
    out.push({ name: vm.name, mem: mem.value, vcpus: vcpus.value, labels: labels.value, pinned: vm.pinned === true, busy: vm.busy !== false });
  }
  return ok(out);
}
