/**
 * One simulation: the model stepped for `duration`, and — unless static —
 * the engine's loop on top of it, as `vmpolicy run` does it: every
 * `interval` the facts are measured (CPU averaged over the interval, as
 * xentop shows it; `cpu_avg` smoothed by the engine's own `CpuSmoother`),
 * the real `planRound` plans a round, and its migrations start in the model.
 *
 * Room `engine/simulator/`: the discrete-time model of `vmpolicy simulate`.
 * Imports `engine/plan/`, `engine/hosts/` (the CPU share model) and
 * `engine/run/` (smoothing, config values), never the reverse.
 */
import type { CompiledPolicySet } from "../../grammar/compile-types.js";
import { CpuSmoother } from "../run/smoothing.js";
import { planRound } from "../plan/index.js";
import { DEFAULT_PLAN_SETTINGS, type Facts, type HostFact, type Plan, type PlanError, type PlanSettings } from "../types.js";
import { ClusterModel } from "./model.js";
import type { Scenario } from "./scenario.js";

/** What one simulation reports (the columns of Tables 5.5–5.8). */
export interface RunResult {
  readonly runs: number;
  readonly vm_pct: number;
  readonly dom0_pct: number;
  readonly idle_pct: number;
  readonly engine_pct: number;
  readonly migrations: number;
  /** Migrations back to a host the VM left within 30 minutes (SPEC 12's ping-pong, as the engine counts it). */
  readonly pingpong: number;
  /** Percent of trace VMs' CPU demand that was served (100 without trace VMs). */
  readonly served_pct: number;
  /** Entries under `errors` in the run's plans (a failing script, say): those bindings planned nothing. */
  readonly plan_errors: number;
}

/** What a round saw and planned, for probes that study a policy's decisions (docs/examples/horizon-probe.mjs). */
export interface RoundRecord {
  readonly model: ClusterModel;
  readonly facts: Facts;
  readonly plan: Plan;
}

/**
 * Runs one simulation; `set` null is static placement (no engine at all).
 * `stratum`: see `initialBusy`. `onPlanError` hears each error a round's plan lists;
 * `onRound` sees every round's facts and plan before its migrations start.
 */
export function simulateOnce(
  scenario: Scenario,
  set: CompiledPolicySet | null,
  seed: number,
  stratum?: number,
  onPlanError?: (error: PlanError) => void,
  onRound?: (round: RoundRecord) => void,
): RunResult {
  const model = new ClusterModel(scenario, seed, set !== null, stratum);
  const engine = set === null ? null : new EngineDriver(model, set, onPlanError, onRound);
  const steps = Math.round(scenario.duration / scenario.step);
  const interval = scenario.engine.interval;
  let nextRound = interval;
  for (let i = 0; i < steps; i++) {
    model.step();
    if (engine && model.time >= nextRound - 1e-9) {
      engine.round();
      nextRound += interval;
    }
  }
  return summarize(model, engine?.planErrors ?? 0);
}

function summarize(model: ClusterModel, planErrors: number): RunResult {
  const t = model.totals;
  const pct = (x: number) => (t.capacity > 0 ? (100 * x) / t.capacity : 0);
  return {
    runs: t.runs,
    vm_pct: pct(t.vm),
    dom0_pct: pct(t.dom0),
    idle_pct: pct(t.idle),
    engine_pct: pct(t.engine),
    migrations: t.migrations,
    pingpong: t.pingpong,
    served_pct: t.traceDemand > 0 ? (100 * t.traceGranted) / t.traceDemand : 100,
    plan_errors: planErrors,
  };
}

/** The engine's loop over the model: measure, plan with the real planner, start migrations. */
class EngineDriver {
  private readonly smoother: CpuSmoother;
  private readonly settings: PlanSettings;
  private lastMeasure = 0;
  private readonly hostIndex: Map<string, number>;
  private readonly vmIndex: Map<string, number>;
  planErrors = 0;

  constructor(
    private readonly model: ClusterModel,
    private readonly set: CompiledPolicySet,
    private readonly onPlanError?: (error: PlanError) => void,
    private readonly onRound?: (round: RoundRecord) => void,
  ) {
    const e = model.scenario.engine;
    this.smoother = new CpuSmoother(e.smoothing);
    this.settings = { ...DEFAULT_PLAN_SETTINGS, cooldown: e.cooldown, max_per_host: e.maxPerHost, max_per_round: e.maxPerRound, requireFencing: false };
    this.hostIndex = new Map(model.scenario.hosts.map((h, i) => [h.name, i]));
    this.vmIndex = new Map(model.scenario.vms.map((v, i) => [v.name, i]));
  }

  round(): void {
    const facts = this.facts();
    const plan = planRound(this.set, facts, this.settings);
    this.onRound?.({ model: this.model, facts, plan });
    this.planErrors += plan.errors.length;
    for (const e of plan.errors) this.onPlanError?.(e);
    for (const action of plan.actions) {
      if (action.kind !== "migrate") continue;
      const vm = this.vmIndex.get(action.vm);
      const to = this.hostIndex.get(action.to);
      if (vm !== undefined && to !== undefined) this.model.startMigration(vm, to);
    }
    this.model.enginePending += this.model.scenario.engine.roundCpu;
  }

  /** The snapshot a round sees: per-VM CPU averaged since the last round. */
  facts(): Facts {
    const m = this.model;
    const s = m.scenario;
    const span = Math.max(1e-9, m.time - this.lastMeasure);
    const nowMs = m.time * 1000;
    // Dom0's modelled CPU is what an agent would measure outside the VMs.
    const hosts: HostFact[] = s.hosts.map((h, i) => {
      const otherCpu = m.measuredDom0[i]! / span;
      m.measuredDom0[i] = 0;
      return { name: h.name, state: "up", cpus: h.cpus, mem: h.mem, labels: {}, vms: [], other_cpu: otherCpu, measured: ["cpu", "other_cpu"] };
    });
    s.vms.forEach((v, i) => {
      const cpu = m.measured[i]! / span;
      m.measured[i] = 0;
      const vm = { name: v.name, cpu, mem: v.mem, labels: {}, pinned: v.pinned ?? false, cpu_avg: this.smoother.sample(v.name, cpu, nowMs), cpu_changes: this.smoother.changes(v.name) };
      (hosts[m.hostOf[i]!]!.vms as (typeof vm)[]).push(vm);
    });
    this.lastMeasure = m.time;
    const cooldown = s.engine.cooldown;
    return {
      hosts,
      migrating: m.active.map((a) => ({ vm: s.vms[a.vm]!.name, from: s.hosts[a.from]!.name, to: s.hosts[a.to]!.name })),
      recent: s.vms.flatMap((v, i) => {
        const ago = m.time - m.lastMoved[i]!;
        return ago < cooldown ? [{ vm: v.name, seconds_ago: ago }] : [];
      }),
    };
  }
}
