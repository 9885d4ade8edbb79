/**
 * The engine's Prometheus metrics (SPEC 5 `GET /metrics`), on a registry of
 * its own so nothing else in the process (tests, the embedded demo agents,
 * other libraries) leaks series into the engine's scrape. Counters and the
 * round histogram are fed by the engine's events; the host and policy
 * gauges are recomputed from `EngineStatus` on every scrape, so they can
 * never drift from what `/status` shows.
 */
import type { EventEmitter } from "node:events";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { HOST_STATES } from "../../grammar/types.js";
import type { EngineStatus, JournalEntry, ReloadResult, RoundSummary } from "./control.js";
import type { Plan } from "../types.js";

/** How often the event-loop lag histogram (`vmpolicy_nodejs_eventloop_lag_*`) samples; see its use. */
export const EVENT_LOOP_SAMPLE_MS = 10_000;

export interface EngineMetricsOptions {
  /** Where the scrape-time gauges come from (set later with `setStatusSource` when the engine is built after the metrics). */
  readonly status?: () => EngineStatus;
  /** Also export the process metrics of prom-client (CPU, memory, event loop) as `vmpolicy_process_*`, `vmpolicy_nodejs_*`. */
  readonly processMetrics?: boolean;
}

/** The engine's metric set; one per engine. */
export class EngineMetrics {
  readonly registry = new Registry();
  private statusSource: (() => EngineStatus) | null;

  private readonly rounds: Counter<"executed">;
  private readonly roundDuration: Histogram;
  private readonly planned: Counter<"kind">;
  private readonly actions: Counter<"kind" | "outcome">;
  private readonly reloads: Counter<"result">;
  private readonly reloadFailures: Counter;
  private readonly hostEvents: Counter<"event">;
  private readonly pingpongs: Counter;
  private readonly shadowRounds: Counter;
  private readonly shadowDiffering: Counter;
  private readonly shadowPlanned: Counter<"kind">;
  private lastReloadAt = 0;

  constructor(options: EngineMetricsOptions = {}) {
    this.statusSource = options.status ?? null;
    const registers = [this.registry];
    this.rounds = new Counter({ name: "vmpolicy_rounds_total", help: "Rounds planned, by whether their plan was executed (false: paused, dry run or bad snapshot).", labelNames: ["executed"], registers });
    this.roundDuration = new Histogram({
      name: "vmpolicy_round_duration_seconds",
      help: "Wall time of a round: gathering facts, planning and waiting for its actions.",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.planned = new Counter({ name: "vmpolicy_planned_actions_total", help: "Actions planned, by kind (migrate, restart, alert), whether or not executed.", labelNames: ["kind"], registers });
    this.actions = new Counter({
      name: "vmpolicy_actions_total",
      help: "Journaled actions by kind and outcome: started, completed, failed, lost (alerts: raised).",
      labelNames: ["kind", "outcome"],
      registers,
    });
    this.reloads = new Counter({ name: "vmpolicy_reloads_total", help: "Policy reload attempts by result (ok, rejected).", labelNames: ["result"], registers });
    this.hostEvents = new Counter({ name: "vmpolicy_host_events_total", help: "Host transitions: down (no answer for down_after), up (answers again), fenced.", labelNames: ["event"], registers });
    this.pingpongs = new Counter({ name: "vmpolicy_pingpong_total", help: "Migrations that took a VM back to a host it had left within pingpong_window (SPEC 12).", registers });
    this.shadowRounds = new Counter({ name: "vmpolicy_shadow_rounds_total", help: "Rounds the shadow set was planned and compared with the active set (never executed).", registers });
    this.shadowDiffering = new Counter({ name: "vmpolicy_shadow_differing_rounds_total", help: "Rounds whose shadow actions differ from the active set's.", registers });
    this.shadowPlanned = new Counter({ name: "vmpolicy_shadow_planned_actions_total", help: "Actions the shadow set planned, by kind (migrate, restart, alert); none executed.", labelNames: ["kind"], registers });
    this.reloadFailures = new Counter({ name: "vmpolicy_reload_failures_total", help: "Reloads rejected because the new policy set has errors (the old set kept running).", registers });
    const self = this;
    new Gauge({
      name: "vmpolicy_last_reload_success_timestamp_seconds",
      help: "Unix time the running policy set was loaded (at start or by the last successful reload).",
      registers,
      collect() {
        // The status knows the start-up load; the reload event knows reloads: take the later.
        const loaded = Math.max(0, ...(self.status()?.policies ?? []).map((p) => Date.parse(p.loaded_at) / 1000).filter(Number.isFinite));
        self.lastReloadAt = Math.max(self.lastReloadAt, loaded);
        if (self.lastReloadAt > 0) this.set(self.lastReloadAt);
      },
    });
    // Start every counter at zero, so a dashboard sees the series before the first event.
    this.reloadFailures.inc(0);
    this.shadowRounds.inc(0);
    this.shadowDiffering.inc(0);
    for (const r of ["ok", "rejected"]) this.reloads.inc({ result: r }, 0);
    for (const e of ["true", "false"]) this.rounds.inc({ executed: e }, 0);
    for (const e of ["down", "up", "fenced"]) this.hostEvents.inc({ event: e }, 0);

    new Gauge({
      name: "vmpolicy_hosts",
      help: "Managed hosts by state (up, degraded, maintenance, down).",
      labelNames: ["state"],
      registers,
      collect() {
        this.reset();
        const s = self.status();
        for (const st of HOST_STATES) this.set({ state: st }, 0);
        for (const h of s?.hosts ?? []) this.inc({ state: h.state });
      },
    });
    new Gauge({
      name: "vmpolicy_hosts_by_group",
      help: "Hosts per group of each policy, as classified by the last round.",
      labelNames: ["policy", "group"],
      registers,
      collect() {
        this.reset();
        for (const h of self.status()?.hosts ?? []) for (const [policy, group] of Object.entries(h.groups)) this.inc({ policy, group });
      },
    });
    new Gauge({
      name: "vmpolicy_host_load_percent",
      help: "Each host's load (sum of its VMs' CPU / its CPUs) in the last gathered facts.",
      labelNames: ["host"],
      registers,
      collect() {
        this.reset();
        for (const h of self.status()?.hosts ?? []) this.set({ host: h.name }, h.load);
      },
    });
    new Gauge({
      name: "vmpolicy_reload_error",
      help: "Diagnostics of the last rejected reload while it stands (0: the running set is the newest on disk).",
      registers,
      collect() {
        this.set(self.status()?.reload_error?.diagnostics.length ?? 0);
      },
    });
    new Gauge({
      name: "vmpolicy_paused",
      help: "1 while rounds plan but execute nothing (POST /pause or dry_run).",
      registers,
      collect() {
        const s = self.status();
        this.set(s && (s.paused || s.dry_run) ? 1 : 0);
      },
    });
    new Gauge({
      name: "vmpolicy_duplicate_vms",
      help: "VMs reported by two or more hosts at once in the last round: left out of planning while it lasts.",
      registers,
      collect() {
        this.set(self.status()?.duplicate_vms?.length ?? 0);
      },
    });
    new Gauge({
      name: "vmpolicy_policies",
      help: "Policy files in the running set.",
      registers,
      collect() {
        const s = self.status();
        this.set(s?.policies.length ?? 0);
      },
    });
    // The event-loop lag monitor wakes the process every `precision` ms: prom-client's 10 ms
    // default alone cost ~0.3 % of a core, and 500 ms still ~8 ms of CPU per 10 s round on a
    // busy 2-core host (docs/replay.md), eight times the engine's whole budget. Once per 10 s
    // (the default round interval) samples the lag as often as the engine has work to lag.
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: "vmpolicy_", eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }

  /** Connects the scrape-time gauges to an engine. */
  setStatusSource(source: () => EngineStatus): void {
    this.statusSource = source;
  }

  private status(): EngineStatus | null {
    try {
      return this.statusSource?.() ?? null;
    } catch {
      // A scrape must not fail because the engine is half-started; the gauges just read empty.
      return null;
    }
  }

  /** After every round (the engine's `round` event). */
  roundFinished(summary: RoundSummary, plan: Plan | null): void {
    this.rounds.inc({ executed: String(summary.executed) });
    this.roundDuration.observe(summary.duration_ms / 1000);
    for (const a of plan?.actions ?? []) this.planned.inc({ kind: a.kind });
  }

  /** After every round that planned the shadow set (the engine's `shadow` event). */
  shadowCompared(plan: Plan, differing: boolean): void {
    this.shadowRounds.inc();
    if (differing) this.shadowDiffering.inc();
    for (const a of plan.actions) this.shadowPlanned.inc({ kind: a.kind });
  }

  /** For every journal line (the engine's `action` event). */
  actionRecorded(entry: JournalEntry): void {
    if (entry.kind === "promote") return; // an operator's change of set, not an action on a VM
    if (entry.kind === "alert") this.actions.inc({ kind: "alert", outcome: "raised" });
    else if (entry.phase === "end") this.actions.inc({ kind: entry.kind, outcome: entry.outcome ?? "completed" });
    // A migration writes two start lines (before the request, then with the agent's id): count the first.
    else if (entry.agent_id === undefined) this.actions.inc({ kind: entry.kind, outcome: "started" });
  }

  /** After every reload attempt (the engine's `reload` event). */
  reloadFinished(result: ReloadResult, at: Date = new Date()): void {
    if (result.ok) {
      this.reloads.inc({ result: "ok" });
      this.lastReloadAt = Math.max(this.lastReloadAt, at.getTime() / 1000);
    } else {
      this.reloads.inc({ result: "rejected" });
      this.reloadFailures.inc();
    }
  }

  /** On a host's transition (the engine's `host` event). */
  /** A VM went back to a host it had left within the ping-pong window. */
  pingPongSeen(): void {
    this.pingpongs.inc();
  }

  hostChanged(event: { host: string; state: string }): void {
    this.hostEvents.inc({ event: event.state });
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * Subscribes the metrics to the engine's events (`round`, `action`,
 * `reload`, `host`, `pingpong`, `shadow`; see engine/run/engine.ts). Returns the unsubscribe function.
 */
export function wireEngineMetrics(events: EventEmitter, metrics: EngineMetrics): () => void {
  const onRound = (s: RoundSummary, p: Plan | null) => metrics.roundFinished(s, p);
  const onAction = (e: JournalEntry) => metrics.actionRecorded(e);
  const onReload = (r: ReloadResult) => metrics.reloadFinished(r);
  const onHost = (h: { host: string; state: string }) => metrics.hostChanged(h);
  const onPingPong = () => metrics.pingPongSeen();
  const onShadow = (r: { plan: Plan; differing: boolean }) => metrics.shadowCompared(r.plan, r.differing);
  events.on("shadow", onShadow);
  events.on("round", onRound);
  events.on("pingpong", onPingPong);
  events.on("host", onHost);
  events.on("action", onAction);
  events.on("reload", onReload);
  return () => {
    events.off("round", onRound);
    events.off("action", onAction);
    events.off("reload", onReload);
    events.off("host", onHost);
    events.off("pingpong", onPingPong);
    events.off("shadow", onShadow);
  };
}
