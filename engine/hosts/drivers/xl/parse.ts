/**
 * Parsers for what the Xen toolstack prints: `xl info` (key : value lines),
 * `xl list -l` (a JSON array of domain configurations) and `xentop -b`
 * (fixed-width columns, one table per sample). Pure functions of the text, so
 * they are tested against recorded output; each throws a `ParseError` naming
 * the command and what it could not read.
 */

/** Output a parser could not read; the driver turns it into a 503 for `GET /facts`. */
export class ParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ParseError";
  }
}

export interface XlInfo {
  readonly cpus: number;
  /** MiB, as `xl info` reports them. */
  readonly totalMemory: number;
  readonly freeMemory: number;
}

/** `xl info`: `nr_cpus`, `total_memory` and `free_memory` (MiB). */
export function parseXlInfo(text: string): XlInfo {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([a-z_0-9]+)\s*:\s?(.*)$/.exec(line);
    if (m) fields.set(m[1]!, m[2]!.trim());
  }
  const num = (key: string): number => {
    const v = fields.get(key);
    if (v === undefined) throw new ParseError(`xl info printed no ${key} line`);
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isFinite(n)) throw new ParseError(`xl info: ${key} is ${JSON.stringify(v)}, not a whole number`);
    return n;
  };
  return { cpus: num("nr_cpus"), totalMemory: num("total_memory"), freeMemory: num("free_memory") };
}

export interface XlDomain {
  readonly domid: number;
  readonly name: string;
  /** KiB the domain is set to use (`target_memkb`, else `max_memkb`). */
  readonly memKiB: number;
  readonly vcpus: number;
}

/** Domain names `xl migrate` uses while a domain is in transit (receiver, then sender side). */
export const XL_TRANSIT_SUFFIXES = ["--incoming", "--migratedaway"] as const;

/**
 * `xl list -l` (JSON output format, the default since Xen 4.5): every domain
 * with `domid` and `config.c_info.name`, memory from `config.b_info` and
 * `max_vcpus`. Domain-0 is included; callers skip it.
 */
export function parseXlList(text: string): XlDomain[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    const first = (text.trimStart().split("\n")[0] ?? "").slice(0, 40);
    throw new ParseError(`xl list -l did not print JSON (its first line is ${JSON.stringify(first)}; set output_format="json" in /etc/xen/xl.conf)`);
  }
  if (!Array.isArray(data)) throw new ParseError("xl list -l printed JSON that is not an array of domains");
  return data.map((d, i) => {
    const o = d as { domid?: unknown; config?: { c_info?: { name?: unknown }; b_info?: { max_memkb?: unknown; target_memkb?: unknown; max_vcpus?: unknown } } };
    const where = `xl list -l: domain [${i}]`;
    if (typeof o?.domid !== "number") throw new ParseError(`${where} has no numeric domid`);
    const name = o.config?.c_info?.name;
    if (typeof name !== "string" || name === "") throw new ParseError(`${where} (domid ${o.domid}) has no config.c_info.name`);
    const b = o.config?.b_info ?? {};
    const mem = typeof b.target_memkb === "number" && b.target_memkb > 0 ? b.target_memkb : b.max_memkb;
    if (typeof mem !== "number" || !(mem >= 0)) throw new ParseError(`${where} (${name}) has neither config.b_info.target_memkb nor max_memkb`);
    const vcpus = typeof b.max_vcpus === "number" && b.max_vcpus >= 1 ? b.max_vcpus : 1;
    return { domid: o.domid, name, memKiB: mem, vcpus };
  });
}

/** One row of `xentop -b`. */
export interface XentopRow {
  /** As printed: cut to 10 characters unless xentop ran with `-f`. */
  readonly name: string;
  readonly state: string;
  /** CPU(%): percent of one CPU over the sample's interval. */
  readonly cpu: number;
}

/** xentop cuts names to this width without `-f` (`%10.10s`). */
export const XENTOP_NAME_WIDTH = 10;

/**
 * `xentop -b -i N`: N tables, each starting with the `NAME STATE CPU(sec)
 * CPU(%) …` header. Returns the rows of the last table: the first sample's
 * CPU(%) is always 0 (xentop has nothing to compare it with). Only the first
 * four columns are read; later ones may hold words (`no limit`, `n/a`).
 */
export function parseXentop(text: string): XentopRow[] {
  const tables: XentopRow[][] = [];
  for (const line of text.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols[0] === "NAME" && cols[1] === "STATE") {
      if (cols[3] !== "CPU(%)") throw new ParseError(`xentop: unexpected header ${JSON.stringify(line.trim().slice(0, 60))} (CPU(%) should be the 4th column)`);
      tables.push([]);
      continue;
    }
    if (cols.length < 4 || cols[0] === "") continue;
    const table = tables[tables.length - 1];
    if (!table) continue; // Lines before the first header (none in batch mode, but harmless).
    const cpu = Number(cols[3]);
    if (!Number.isFinite(cpu) || cpu < 0) throw new ParseError(`xentop: CPU(%) of ${cols[0]} is ${JSON.stringify(cols[3])}, not a number`);
    table.push({ name: cols[0]!, state: cols[1]!, cpu });
  }
  const last = tables[tables.length - 1];
  if (!last) throw new ParseError("xentop printed no table (no NAME STATE … header line)");
  return last;
}

/**
 * Finds the xentop row of domain `name` among all domains' names: an exact
 * match, or (names longer than xentop's column) the one row whose text is
 * the name's first 10 characters when no other domain shares them.
 */
export function xentopRowFor(name: string, rows: readonly XentopRow[], allNames: readonly string[]): XentopRow | undefined {
  const exact = rows.find((r) => r.name === name);
  if (exact || name.length <= XENTOP_NAME_WIDTH) return exact;
  const cut = name.slice(0, XENTOP_NAME_WIDTH);
  if (allNames.filter((n) => n.slice(0, XENTOP_NAME_WIDTH) === cut).length !== 1) return undefined;
  return rows.find((r) => r.name === cut);
}
