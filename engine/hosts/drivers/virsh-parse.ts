/**
 * Parsers for what `virsh` prints: `nodeinfo` (label: value lines, read in
 * the C locale), `list --name` (one name a line) and `domstats` (`Domain:
 * 'NAME'` blocks of `key=value` lines). Pure functions of the text, tested
 * against recorded output; each throws a `ParseError` naming the command.
 */
import { ParseError } from "./xl-parse.js";

export interface VirshNodeInfo {
  readonly cpus: number;
  /** KiB ("Memory size: 32827460 KiB"). */
  readonly memKiB: number;
}

/** `virsh nodeinfo`: `CPU(s):` and `Memory size: N KiB`. */
export function parseNodeinfo(text: string): VirshNodeInfo {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) fields.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
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
