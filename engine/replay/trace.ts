/**
 * From a recording to the simulator (SPEC 10 `--export-trace`): the
 * recorded CPU of every VM as a `simulate --scenario` trace (CSV: `time`
 * in seconds from the first round, then one column of CPU percent per VM),
 * and a scenario file beside it with the recorded hosts and VMs, so a
 * candidate can be run on the cluster's own load *with* the consequences
 * of its decisions — what a replay cannot show.
 */
import type { RecordedRound } from "./recording.js";

/** A VM as the scenario places it: where it was first recorded. */
interface TraceVm {
  readonly name: string;
  readonly host: string;
  readonly mem: number;
  /** The highest CPU recorded, for `vcpus` (the simulator caps a VM at vcpus × 100). */
  peak: number;
}

/** The CSV text (header `time,VM…`) of `rounds` (time order); a VM absent from a round reads 0 there. */
export function traceCsv(rounds: readonly RecordedRound[]): { csv: string; vms: TraceVm[]; hosts: { name: string; cpus: number; mem: number }[]; seconds: number } {
  const vms = new Map<string, TraceVm>();
  const hosts = new Map<string, { name: string; cpus: number; mem: number }>();
  for (const r of rounds) {
    for (const h of r.facts.hosts) {
      if (!hosts.has(h.name)) hosts.set(h.name, { name: h.name, cpus: h.cpus, mem: h.mem });
      for (const v of h.vms) {
        const known = vms.get(v.name);
        if (known) known.peak = Math.max(known.peak, v.cpu);
        else vms.set(v.name, { name: v.name, host: h.name, mem: v.mem, peak: v.cpu });
      }
    }
  }
  // A comma or line break in a name cannot stand in a CSV header: such VMs are left out of the trace.
  for (const name of [...vms.keys()]) if (/[,\r\n]/.test(name)) vms.delete(name);
  const names = [...vms.keys()];
  const lines = [["time", ...names].join(",")];
  const t0 = rounds.length > 0 ? Date.parse(rounds[0]!.at) : 0;
  let last = -1;
  for (const r of rounds) {
    // Seconds to the millisecond, strictly ascending as the simulator requires (a repeated time keeps the first round).
    const t = (Date.parse(r.at) - t0) / 1000;
    if (t <= last) continue;
    last = t;
    const cpu = new Map<string, number>();
    for (const h of r.facts.hosts) for (const v of h.vms) cpu.set(v.name, v.cpu);
    lines.push([t, ...names.map((n) => round2(cpu.get(n) ?? 0))].join(","));
  }
  const interval = rounds[rounds.length - 1]?.settings.interval ?? 10;
  return { csv: lines.join("\n") + "\n", vms: [...vms.values()], hosts: [...hosts.values()], seconds: Math.max(0, last) + interval };
}

/**
 * A scenario (YAML) running the trace on the recorded hosts: each VM on the
 * host it was first recorded on, all VMs following the trace (no benchmark
 * VMs), the engine settings of the last recorded round.
 */
export function traceScenario(rounds: readonly RecordedRound[], csvName: string): { csv: string; yaml: string } {
  const t = traceCsv(rounds);
  const s = rounds[rounds.length - 1]?.settings;
  const q = (x: string) => JSON.stringify(x);
  const yaml = [
    "# Written by vmpolicy replay --export-trace: the recorded hosts and VMs, every VM following",
    `# the recorded CPU in ${csvName}. Run: vmpolicy simulate --scenario THIS_FILE [--policy PATH]`,
    // The simulator runs at most 30 days; the trace repeats after its end anyway.
    `duration: ${Math.min(30 * 86400, Math.ceil(t.seconds))}s`,
    "hosts:",
    ...t.hosts.map((h) => `  - { name: ${q(h.name)}, cpus: ${h.cpus}, mem: ${Math.max(1, h.mem)} }`),
    "vms:",
    ...t.vms.map((v) => `  - { name: ${q(v.name)}, host: ${q(v.host)}, mem: ${Math.max(1, v.mem)}, vcpus: ${Math.max(1, Math.ceil(v.peak / 100))} }`),
    `trace: ${q(csvName)}`,
    "workload: { busy: 0 }",
    s ? `engine: { interval: ${s.interval}s, cooldown: ${s.cooldown}s, max_per_host: ${s.max_per_host}, max_per_round: ${s.max_per_round} }` : "",
  ].filter((l) => l !== "");
  return { csv: t.csv, yaml: yaml.join("\n") + "\n" };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
