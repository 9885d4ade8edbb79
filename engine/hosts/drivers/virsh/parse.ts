/**
 * Parsers for what `virsh` prints: `nodeinfo`, `nodecpustats`,
 * `nodememstats`, `dominfo`, `domjobinfo` (label: value lines, read in the C
 * locale), `list --name` (one name a line), `domstats` (`Domain: 'NAME'`
 * blocks of `key=value` lines) and the `<disk>`s of `dumpxml`. Pure functions of the text, tested
 * against recorded output; each throws a `ParseError` naming the command.
 */
import { ParseError } from "../xl/parse.js";

export interface VirshNodeInfo {
  readonly cpus: number;
  /** KiB ("Memory size: 32827460 KiB"). */
  readonly memKiB: number;
}

/** `virsh nodeinfo`: `CPU(s):` and `Memory size: N KiB`. */
export function parseNodeinfo(text: string): VirshNodeInfo {
  const fields = labelled(text);
  const cpus = fields.get("CPU(s)");
  if (cpus === undefined || !/^\d+$/.test(cpus)) throw new ParseError(`virsh nodeinfo: no "CPU(s):" line with a number (got ${JSON.stringify(cpus ?? null)})`);
  const mem = /^(\d+)\s*KiB$/.exec(fields.get("Memory size") ?? "");
  if (!mem) throw new ParseError(`virsh nodeinfo: no "Memory size: N KiB" line (got ${JSON.stringify(fields.get("Memory size") ?? null)})`);
  return { cpus: Number(cpus), memKiB: Number(mem[1]) };
}

/** `virsh list --name`: running domains, one a line (a blank line ends the list). */
export function parseNameList(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

/** One domain's record of `virsh domstats`, values as printed. */
export type DomStats = ReadonlyMap<string, string>;

/** `virsh domstats`: domain name → its `key=value` fields. */
export function parseDomstats(text: string): Map<string, DomStats> {
  const out = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    const head = /^Domain: '(.*)'$/.exec(line);
    if (head) {
      current = new Map();
      out.set(head[1]!, current);
      continue;
    }
    const eq = line.indexOf("=");
    if (!current || eq <= 0) throw new ParseError(`virsh domstats: cannot read line ${JSON.stringify(line.slice(0, 80))}`);
    current.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

/** A whole-number field of a domstats record, or undefined when absent. */
export function statNumber(stats: DomStats, key: string, domain: string): number | undefined {
  const v = stats.get(key);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new ParseError(`virsh domstats: ${key} of ${domain} is ${JSON.stringify(v)}, not a whole number`);
  return Number(v);
}

/** `label: value` lines (nodeinfo, nodecpustats, nodememstats, dominfo, domjobinfo). */
function labelled(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) fields.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return fields;
}

/** `virsh nodecpustats` (all CPUs, cumulative ns): the busy time, user + system (+ iowait is idle). */
export function parseNodeCpuStats(text: string): { busyNs: bigint } {
  const f = labelled(text);
  const ns = (key: string): bigint => {
    const v = f.get(key);
    if (v === undefined || !/^\d+$/.test(v)) throw new ParseError(`virsh nodecpustats: no "${key}:" line with a whole number (got ${JSON.stringify(v ?? null)})`);
    return BigInt(v);
  };
  return { busyNs: ns("user") + ns("system") };
}

/** `virsh nodememstats` (KiB): what a new guest could get now, free + buffers + cached (as MemAvailable, roughly). */
export function parseNodeMemStats(text: string): { availKiB: number } {
  const f = labelled(text);
  const kib = (key: string): number => {
    const m = /^(\d+)\s*KiB$/.exec(f.get(key) ?? "");
    if (!m) throw new ParseError(`virsh nodememstats: no "${key}: N KiB" line (got ${JSON.stringify(f.get(key) ?? null)})`);
    return Number(m[1]);
  };
  return { availKiB: kib("free") + (f.has("buffers") ? kib("buffers") : 0) + (f.has("cached") ? kib("cached") : 0) };
}

/** `virsh dominfo DOM`: what `domstats` may lack (libvirt's test driver prints no cpu.time or balloon there). */
export interface VirshDomInfo {
  readonly vcpus: number;
  /** "CPU time: 12.3s", as ns. */
  readonly cpuNs: bigint;
  /** "Used memory: N KiB". */
  readonly memKiB: number;
}

export function parseDominfo(text: string, domain: string): VirshDomInfo {
  const f = labelled(text);
  const vcpus = f.get("CPU(s)");
  if (vcpus === undefined || !/^\d+$/.test(vcpus)) throw new ParseError(`virsh dominfo ${domain}: no "CPU(s):" line with a number`);
  const time = /^(\d+)(?:\.(\d+))?s$/.exec(f.get("CPU time") ?? "");
  // A shut-off domain has no CPU time line; it uses none.
  const cpuNs = time ? BigInt(time[1]!) * 1_000_000_000n + BigInt((time[2] ?? "").padEnd(9, "0").slice(0, 9) || "0") : 0n;
  const mem = /^(\d+)\s*KiB$/.exec(f.get("Used memory") ?? "") ?? /^(\d+)\s*KiB$/.exec(f.get("Max memory") ?? "");
  if (!mem) throw new ParseError(`virsh dominfo ${domain}: no "Used memory: N KiB" line`);
  return { vcpus: Number(vcpus), cpuNs, memKiB: Number(mem[1]) };
}

const UNIT_MIB: Record<string, number> = { B: 1 / 1048576, KiB: 1 / 1024, MiB: 1, GiB: 1024, TiB: 1048576 };

/**
 * `virsh domjobinfo`: a job's progress as `elapsed_ms`, `processed_mib`,
 * `remaining_mib`, `total_mib` (those printed); undefined when no job runs
 * ("Job type: None").
 */
export function parseDomjobinfo(text: string): Record<string, number> | undefined {
  const f = labelled(text);
  const type = f.get("Job type");
  if (type === undefined || type === "None") return undefined;
  const mib = (key: string): number | undefined => {
    const m = /^([\d.]+)\s*(B|KiB|MiB|GiB|TiB)$/.exec(f.get(key) ?? "");
    return m ? Math.round(Number(m[1]) * UNIT_MIB[m[2]!]! * 10) / 10 : undefined;
  };
  const elapsed = /^(\d+)\s*ms$/.exec(f.get("Time elapsed") ?? "");
  const out: Record<string, number> = {};
  if (elapsed) out.elapsed_ms = Number(elapsed[1]);
  for (const [key, field] of [["Data processed", "processed_mib"], ["Data remaining", "remaining_mib"], ["Data total", "total_mib"]] as const) {
    const v = mib(key);
    if (v !== undefined) out[field] = v;
  }
  return out;
}

/** One `<disk>` of `virsh dumpxml`: what decides whether a migration must copy it. */
export interface DomainDisk {
  readonly type: string;
  readonly device: string;
  readonly target: string;
  readonly source?: string;
  readonly readonly: boolean;
  readonly shareable: boolean;
}

/** The `<disk>` elements of a domain's XML (a small reader for libvirt's own output, not a general XML parser). */
export function parseDisks(xml: string): DomainDisk[] {
  const out: DomainDisk[] = [];
  for (const m of xml.matchAll(/<disk\b([^>]*)>([\s\S]*?)<\/disk>/g)) {
    const attr = (s: string, name: string) => new RegExp(`\\b${name}=['"]([^'"]*)['"]`).exec(s)?.[1];
    const body = m[2]!;
    const source = /<source\b([^>]*)\/?>/.exec(body)?.[1] ?? "";
    out.push({
      type: attr(m[1]!, "type") ?? "file",
      device: attr(m[1]!, "device") ?? "disk",
      target: attr(/<target\b([^>]*)\/?>/.exec(body)?.[1] ?? "", "dev") ?? "?",
      source: unescapeXml(attr(source, "file") ?? attr(source, "dev") ?? attr(source, "name") ?? "") || undefined,
      readonly: /<readonly\s*\/>/.test(body),
      shareable: /<shareable\s*\/>/.test(body),
    });
  }
  return out;
}

function unescapeXml(s: string): string {
  return s.replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}
