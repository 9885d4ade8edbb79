/**
 * A virsh host's agent file (`vmpolicy agent --driver virsh --config
 * host.yaml`): where its libvirt is (`connect`), how other hosts reach it
 * (`advertise_uri`, `migration_address`), whether migrations may pass
 * `--unsafe`, and the declared fields the flags also set (flags win). Every
 * problem is returned as a message naming the file and key, never thrown.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { type Parsed, parseNumber } from "../sim/config.js";

export interface VirshHostConfig {
  name?: string;
  connect?: string;
  advertise_uri?: string;
  migration_address?: string;
  unsafe?: boolean;
  cpus?: number;
  mem?: number;
  labels?: Record<string, string>;
  storage?: string;
}

const KEYS = ["name", "connect", "advertise_uri", "migration_address", "unsafe", "cpus", "mem", "labels", "storage"];

/** Reads and checks a virsh host file (YAML or JSON). */
export function loadVirshConfig(file: string): Parsed<VirshHostConfig> {
  let o: unknown;
  try {
    o = parseYaml(readFileSync(file, "utf8"));
  } catch (e) {
    return { ok: false, message: `${file}: ${(e as Error).message.split("\n")[0]}` };
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) return { ok: false, message: `${file}: must be a mapping of virsh host settings` };
  const cfg: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(o as Record<string, unknown>)) {
    const where = `${file}: ${key}`;
    if (!KEYS.includes(key)) return { ok: false, message: `${file}: unknown key ${JSON.stringify(key)} (known: ${KEYS.join(", ")})` };
    if (key === "cpus" || key === "mem") {
      const n = parseNumber(where, v, { integer: key === "cpus" });
      if (!n.ok) return n;
      cfg[key] = n.value;
    } else if (key === "unsafe") {
      if (typeof v !== "boolean") return { ok: false, message: `${where}: must be true or false` };
      cfg[key] = v;
    } else if (key === "labels") {
      if (typeof v !== "object" || v === null || Array.isArray(v) || Object.values(v).some((x) => typeof x !== "string")) return { ok: false, message: `${where}: must map names to strings` };
      cfg[key] = v;
    } else {
      if (typeof v !== "string" || v === "") return { ok: false, message: `${where}: must be a non-empty string` };
      cfg[key] = v;
    }
  }
  return { ok: true, value: cfg as VirshHostConfig };
}
