/**
 * `record_round_us`: what recording one round costs the engine (issue 14:
 * recording must not slow a round). Rounds of the embedded demo cluster's
 * shape (two 4-CPU hosts, nine VMs with moving CPU) go through the real
 * `Recorder` (JSON line, a gzip member, one append, the size cap) into a
 * temp folder. Reported: CPU µs per round (`process.cpuUsage`), the median
 * wall µs of `record()` (all of it runs inside the round), compressed bytes
 * per round, and for scale the median µs of planning the same snapshot.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pino } from "pino";
import { validateFacts } from "../engine/plan/facts.js";
import { planRound } from "../engine/plan/index.js";
import { readPolicySources } from "../engine/policy/files.js";
import { loadPolicySet } from "../engine/policy/set.js";
import { RECORDING_VERSION, type RecordedRound } from "../engine/replay/recording.js";
import { Recorder } from "../engine/run/recorder.js";
import { DEFAULT_PLAN_SETTINGS, type Facts } from "../engine/types.js";
import { median, round, type Benchmark } from "./api.js";

const ROUNDS = 2000;

function demoFacts(n: number): Facts {
  const cpu = (i: number) => Math.round((40 + ((n * 31 + i * 17) % 60) + (i % 3) / 7) * 100) / 100;
  const vm = (i: number) => ({ name: `vm${i}`, cpu: cpu(i), mem: 1024, cpu_avg: cpu(i) * 0.97 });
  const r = validateFacts({
    hosts: [
      { name: "xen1", state: "up", cpus: 4, mem: 16384, vms: [1, 2, 3, 4, 5, 6].map(vm) },
      { name: "xen2", state: "up", cpus: 4, mem: 16384, vms: [7, 8, 9].map(vm) },
    ],
  });
  if (!r.ok) throw new Error("record bench: bad facts");
  return r.facts;
}

const bench: Benchmark = {
  name: "record_round_us",
  description: "CPU µs to record one demo-cluster round (JSON line, gzip member, append, cap); median wall µs of record(); bytes per round",
  async run() {
    const read = await readPolicySources([resolve(import.meta.dirname, "../../policies")]);
    const loaded = await loadPolicySet(read.sources);
    if (loaded.set === null) throw new Error("record bench: the default policies do not load");
    const set = loaded.set;
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-record-bench-"));
    const recorder = await Recorder.open({ dir, maxBytes: 200 * 1024 * 1024, roundsPerFile: 100_000, log: pino({ level: "silent" }) });
    const t0 = Date.parse("2026-12-06T10:00:00Z");
    const rounds: RecordedRound[] = [];
    for (let n = 0; n < ROUNDS; n++) {
      const facts = demoFacts(n);
      const plan = planRound(set, facts, DEFAULT_PLAN_SETTINGS);
      rounds.push({
        v: RECORDING_VERSION,
        round: n + 1,
        // A millisecond apart: all in one hour, so no file rotation is measured.
        at: new Date(t0 + n).toISOString(),
        set_hash: set.hash,
        policies: loaded.policies,
        settings: { cooldown: 60, max_per_host: 2, max_per_round: 16, require_fencing: true, fenced: [], interval: 10 },
        facts,
        actions: plan.actions,
        groups: plan.groups,
      });
    }
    // Warm-up: the first rounds compile the encoder and open the file.
    for (let n = 0; n < 50; n++) recorder.record(rounds[n]!);
    const inRound: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let n = 50; n < ROUNDS; n++) {
      const s = process.hrtime.bigint();
      recorder.record(rounds[n]!);
      inRound.push(Number(process.hrtime.bigint() - s) / 1e3);
    }
    const cpu = process.cpuUsage(cpu0);
    const bytes = recorder.bytes;
    await recorder.close();
    const planUs: number[] = [];
    for (let n = 0; n < 500; n++) {
      const s = process.hrtime.bigint();
      planRound(set, rounds[n]!.facts, { ...DEFAULT_PLAN_SETTINGS, explain: true });
      planUs.push(Number(process.hrtime.bigint() - s) / 1e3);
    }
    set.dispose();
    rmSync(dir, { recursive: true, force: true });
    const measured = ROUNDS - 50;
    return {
      cpu_us: round((cpu.user + cpu.system) / measured, 1),
      record_us: round(median(inRound), 1),
      bytes_per_round: round(bytes / ROUNDS, 0),
      plan_us: round(median(planUs.slice(100)), 1),
    };
  },
};

export default bench;
