/**
 * Label keys and values seen in a facts file (SPEC 1 snapshot), for the
 * completion of `host.labels.|` and `vm.labels.tier == "|`. The file is the
 * one given with `--facts` (or the client's `facts` initialization option);
 * it is re-read when it changes, and a file that cannot be read or parsed
 * simply offers no labels.
 */
import { readFile, stat } from "node:fs/promises";

export interface FactsLabels {
  readonly host: ReadonlyMap<string, ReadonlySet<string>>;
  readonly vm: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The labels of a parsed snapshot (anything that is not one gives none). */
export function labelsOf(facts: unknown): FactsLabels {
  const host = new Map<string, Set<string>>();
  const vm = new Map<string, Set<string>>();
  const collect = (into: Map<string, Set<string>>, labels: unknown): void => {
    if (labels === null || typeof labels !== "object" || Array.isArray(labels)) return;
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== "string") continue;
      let set = into.get(k);
      if (set === undefined) into.set(k, (set = new Set()));
      set.add(v);
    }
  };
  const hosts = (facts as { hosts?: unknown } | null)?.hosts;
  if (Array.isArray(hosts)) {
    for (const h of hosts) {
      collect(host, (h as { labels?: unknown } | null)?.labels);
      const vms = (h as { vms?: unknown } | null)?.vms;
      if (Array.isArray(vms)) for (const v of vms) collect(vm, (v as { labels?: unknown } | null)?.labels);
    }
  }
  return { host, vm };
}

/** Reads a facts file's labels, again only when the file changed. */
export class FactsLabelSource {
  private cached: { mtimeMs: number; labels: FactsLabels } | null = null;

  constructor(private readonly path: string) {}

  async labels(): Promise<FactsLabels | undefined> {
    try {
      const info = await stat(this.path);
      if (this.cached?.mtimeMs !== info.mtimeMs) {
        this.cached = { mtimeMs: info.mtimeMs, labels: labelsOf(JSON.parse(await readFile(this.path, "utf8"))) };
      }
      return this.cached.labels;
    } catch {
      return undefined;
    }
  }
}
