/**
 * The engine (SPEC 5): every `interval` it gathers facts from the host
 * agents, plans one round with the active policy set and carries the plan
 * out, journaling every action; it hot-reloads policies between rounds,
 * fences lost hosts before restarting their VMs, and reconciles the
 * journal with the agents before its first round. Front ends (HTTP API,
 * `run` command, signals) drive it only through `EngineControl`.
 *
 * Events (`engine.events`, an EventEmitter) for metrics and logs:
 * - `round`  (summary: RoundSummary, plan: Plan | null) after every round;
 *   plan is null when the snapshot failed validation.
 * - `action` (entry: JournalEntry) for every journal line: `start` when a
 *   migration/restart is issued (and an alert first appears), `end` with
 *   `outcome` completed | failed | lost.
 * - `reload` (result: ReloadResult) after every reload attempt.
 * - `host`   ({ host, state: "down" | "up" | "fenced" }) on transitions.
 * Counters: `roundsTotal`, `reloadFailures`.
 *
 * Room `engine/run/`: the running engine, the only part that keeps time and
 * acts. May import every other room of `engine/` except `simulator/`.
 */
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { CompiledPolicySet } from "../../grammar/compile.js";
import type { Diagnostic } from "../../grammar/diagnostics.js";
import type { EngineConfig, HostConfig } from "./config.js";
import { startEmbeddedCluster, type EmbeddedCluster } from "./embedded-cluster.js";
import { ActionRunner } from "./actions.js";
import { type AgentPort, HttpAgents } from "./agents.js";
import { EngineRequestError } from "../http/control.js";
import type { EngineControl, EngineStatus, JournalEntry, PolicyInfo, ReloadError, ReloadResult, RoundSummary } from "../http/control.js";
import { HostTracker } from "./gather.js";
import { formatDiagnostic, loadEngineSet, watchPolicies } from "./reload.js";
import { alertKey, hostStatuses, planSnapshot, roundLine, withoutExplain } from "./round.js";
import { CpuSmoother } from "./smoothing.js";
import { Fencer } from "./fencing.js";
import { Journal, newActionId } from "./journal.js";
import { captureState, loadState, restoreState, StateFile, statePathFor } from "./state.js";
import type { Facts, Plan } from "../types.js";

/** Start-up refused: a policy set with errors, an unreadable journal, … (the run command exits 1). */
export class EngineStartError extends Error {
  constructor(
    message: string,
    readonly diagnostics: readonly Diagnostic[] = [],
  ) {
    super(message);
    this.name = "EngineStartError";
  }
}

/** What an Engine is built from: the validated config, a pino logger, and test hooks. */
export interface EngineOptions {
  readonly config: EngineConfig;
  readonly log: Logger;
  /** Replaces the HTTP agent client (tests). */
  readonly agents?: AgentPort;
  /** How often running actions are polled (default: interval / 4, at most 1 s). */
  readonly pollMs?: number;
  /** First fence retry delay (default 5 s). */
  readonly fenceRetryMs?: number;
  /** Watch the policy paths for changes (default true). */
  readonly watch?: boolean;
  /** Debounce of the policy watcher (default 200 ms). */
  readonly watchDebounceMs?: number;
  /** Run rounds on a timer (default true; tests drive rounds with `runRound`). */
  readonly timer?: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** The engine core; see the module comment. Create, `start()`, and `stop()` when done. */
export class Engine implements EngineControl {
  readonly events = new EventEmitter();
  roundsTotal = 0;
  reloadFailures = 0;

  private readonly config: EngineConfig;
  private readonly log: Logger;
  private readonly smoother: CpuSmoother;
  private readonly fencer: Fencer;
  private agents: AgentPort;
  private journal: Journal | null = null;
  /** Maintenance, fences, down hosts and their VMs, kept beside the journal (`state.ts`). */
  private stateFile: StateFile | null = null;
  private tracker: HostTracker | null = null;
  private runner: ActionRunner | null = null;
  private cluster: EmbeddedCluster | null = null;
  private set: CompiledPolicySet | null = null;
  private policies: readonly PolicyInfo[] = [];
  private reloadError: ReloadError | null = null;
  private plan: Plan | null = null;
  private facts: Facts | null = null;
  private lastRound: RoundSummary | null = null;
  private paused = false;
  private previousAlerts = new Set<string>();
  /** Alerts of the last round that are in the journal (each is journaled once while it persists). */
  private journaledAlerts = new Set<string>();
  /** Rounds and set swaps run one at a time, in order, through this chain. */
  private chain: Promise<unknown> = Promise.resolve();
  private roundRunning = false;
  private reloadChain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private closeWatcher: (() => Promise<void>) | null = null;
  private stopped = false;
  private starting: Promise<void> | null = null;
  private stopSignal!: Promise<void>;
  private signalStop!: () => void;

  constructor(private readonly options: EngineOptions) {
    this.config = options.config;
    this.log = options.log;
    this.smoother = new CpuSmoother(this.config.smoothing);
    this.agents = options.agents ?? new HttpAgents(this.config.token, this.config.agent_timeout * 1000);
    this.fencer = new Fencer({
      command: this.config.fence,
      timeoutMs: this.config.fence_timeout * 1000,
      log: this.log,
      ...(options.fenceRetryMs !== undefined ? { retryBaseMs: options.fenceRetryMs } : {}),
      onFenced: (host) => {
        this.events.emit("host", { host, state: "fenced" });
        this.persist();
      },
    });
    this.stopSignal = new Promise((r) => (this.signalStop = r));
  }

  /** The hosts the engine manages (the embedded cluster's once started). */
  get hosts(): readonly HostConfig[] {
    return this.tracker?.all().map((r) => r.cfg) ?? this.config.hosts;
  }

  /**
   * Loads the policy set (refusing to start with errors), opens and reads
   * the journal, starts the embedded cluster when no hosts are configured,
   * reconciles unfinished actions with the agents, then starts the timer
   * and the policy watcher.
   */
  start(): Promise<void> {
    this.starting ??= this.startOnce();
    return this.starting;
  }

  private async startOnce(): Promise<void> {
    const loaded = await loadEngineSet(this.config.policies, this.config.params, this.config.script_limits, this.sizeLimits(), this.log);
    if (!loaded.ok) {
      for (const d of loaded.diagnostics) this.log.error(formatDiagnostic(d));
      throw new EngineStartError(`the policy set has errors; not starting`, loaded.diagnostics);
    }
    for (const d of loaded.loaded.warnings) this.log.warn(formatDiagnostic(d));
    this.set = loaded.loaded.set;
    this.policies = loaded.loaded.policies;
    this.log.info({ policies: this.policies.map((p) => p.file) }, `policies loaded: ${this.policies.map((p) => p.name).join(", ")}`);

    let opened;
    try {
      opened = await Journal.open(this.config.journal);
    } catch (e) {
      this.set.dispose();
      this.set = null;
      throw new EngineStartError(`cannot open the journal ${this.config.journal}: ${(e as Error).message}`);
    }
    this.journal = opened.journal;
    for (const p of opened.state.problems) {
      if (p.truncatedTail) this.log.warn({ line: p.line }, `journal ${this.config.journal}:${p.line}: ${p.message}`);
      else this.log.error({ line: p.line }, `journal ${this.config.journal}:${p.line}: unreadable line skipped: ${p.message}`);
    }

    let hosts = this.config.hosts;
    if (hosts.length === 0) {
      try {
        this.cluster = await startEmbeddedCluster({ log: this.log, ...(this.config.token ? { token: this.config.token } : {}) });
      } catch (e) {
        await this.journal.close();
        this.journal = null;
        this.set.dispose();
        this.set = null;
        throw new EngineStartError(`cannot start the embedded demo cluster: ${(e as Error).message}`);
      }
      hosts = this.cluster.hosts;
      this.log.info({ hosts }, `no hosts configured: started the embedded demo cluster (${hosts.map((h) => `${h.name} ${h.url}`).join(", ")})`);
    }
    const startedAt = Date.now();
    this.tracker = new HostTracker(hosts, this.agents, this.smoother, this.log, this.config.down_after * 1000, startedAt, {
      onDown: (host) => {
        // Fencing exists to allow restarts: a host with no known VMs (never seen) is left alone.
        if ((this.tracker?.get(host)?.last?.vms.length ?? 0) > 0) this.fencer.hostDown(host);
        this.events.emit("host", { host, state: "down" });
        this.persist();
      },
      onUp: (host) => {
        this.fencer.hostUp(host);
        this.events.emit("host", { host, state: "up" });
        this.persist();
      },
    });
    this.stateFile = new StateFile(statePathFor(this.config.journal), (message) => this.log.error(message));
    const kept = await loadState(this.stateFile.path);
    if (kept.problem !== null) this.log.error(`state file: ${kept.problem}; starting without what it held`);
    if (kept.state !== null) restoreState(kept.state, this.tracker, this.fencer, this.log);
    // Whatever ends (a restart completing moves a VM in the tracker) is kept at once.
    this.events.on("action", (e: JournalEntry) => {
      if (e.phase === "end") this.persist();
    });
    this.runner = new ActionRunner({
      journal: this.journal,
      agents: this.agents,
      hosts: this.tracker,
      fencer: this.fencer,
      log: this.log,
      events: this.events,
      pollMs: this.options.pollMs ?? Math.min(1000, Math.max(50, (this.config.interval * 1000) / 4)),
      actionTimeoutMs: this.config.action_timeout * 1000,
      lastMoved: opened.state.lastMoved,
    });

    await this.tracker.gather();
    this.persist();
    if (opened.state.unfinished.length > 0) {
      this.log.warn(`journal: ${opened.state.unfinished.length} unfinished action(s); reconciling with the agents before the first round`);
      for (const e of opened.state.unfinished) await this.runner.resume(e);
    }
    // stop() during start-up (Ctrl-C while reconciling) waits for this point: start nothing more.
    if (this.stopped) return;

    if (this.options.watch !== false) {
      const onChange = () => void this.reload().catch((e: Error) => this.log.warn(`policy change not reloaded: ${e.message}`));
      this.closeWatcher = await watchPolicies(this.config.policies, this.options.watchDebounceMs ?? 200, onChange, this.log);
    }
    if (this.options.timer !== false) {
      this.scheduleTimer();
      // The first round right away, so a fresh start shows its plan without waiting an interval.
      this.runRound().catch((e: Error) => this.log.error({ err: e.message }, `round failed: ${e.message}`));
    }
    this.log.info(
      { interval_s: this.config.interval, dry_run: this.config.dry_run, journal: this.config.journal },
      `engine started: ${hosts.length} hosts, a round every ${this.config.interval}s${this.config.dry_run ? " (dry run)" : ""}`,
    );
  }

  private scheduleTimer(): void {
    this.timer = setInterval(() => {
      if (this.roundRunning || this.stopped) return; // rounds never overlap: skip this tick
      this.runRound().catch((e: Error) => this.log.error({ err: e.message }, `round failed: ${e.message}`));
    }, this.config.interval * 1000);
  }

  /** Stops the timer, watcher and polling; unfinished actions stay open in the journal. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.signalStop();
    // Let a start in progress reach a point where it checks `stopped`, so what it built is closed below.
    await this.starting?.catch(() => undefined);
    if (this.timer) clearInterval(this.timer);
    await this.closeWatcher?.();
    this.runner?.stop();
    this.fencer.stop();
    await this.chain.catch(() => undefined);
    await this.reloadChain.catch(() => undefined);
    this.persist();
    await this.stateFile?.flush();
    await this.journal?.close();
    this.set?.dispose();
    this.set = null;
    await this.cluster?.close();
    this.log.info("engine stopped");
  }

  // ------------------------------------------------------------ rounds

  runRound(): Promise<RoundSummary> {
    const p = this.chain.then(() => this.round());
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async round(): Promise<RoundSummary> {
    if (this.stopped) throw new EngineRequestError(409, "the engine is stopping");
    if (!this.tracker || !this.runner || !this.set) throw new EngineRequestError(409, "the engine is not started");
    this.roundRunning = true;
    try {
      return await this.roundBody(this.tracker, this.runner, this.set);
    } finally {
      this.roundRunning = false;
    }
  }

  private async roundBody(tracker: HostTracker, runner: ActionRunner, set: CompiledPolicySet): Promise<RoundSummary> {
    const t0 = Date.now();
    const n = ++this.roundsTotal;
    await tracker.gather();
    // Forget averages of VMs gone for long (deleted guests), so memory stays bounded.
    this.smoother.prune(Date.now(), Math.max(3600, this.config.smoothing * 10) * 1000);
    this.persist();
    const raw = tracker.snapshot(runner.inFlight(), runner.recent(Date.now(), this.config.cooldown));
    const outcome = planSnapshot(set, raw, {
      cooldown: this.config.cooldown,
      max_per_host: this.config.max_per_host,
      max_per_round: this.config.max_per_round,
      requireFencing: true,
      fenced: this.fencer.fencedSet(),
    }, tracker.faults());
    if (!outcome.ok) {
      const errors = outcome.errors.map((e) => `${e.path}: ${e.message}`);
      this.log.error({ errors }, `round ${n}: the snapshot failed validation, nothing planned: ${errors.join("; ")}`);
      return this.finishRound({ at: new Date(t0).toISOString(), duration_ms: Date.now() - t0, actions: 0, skipped: 0, errors: errors.length, executed: false }, null);
    }
    const { facts, plan } = outcome;
    this.facts = facts;
    this.plan = plan;
    const execute = !this.paused && !this.config.dry_run;
    const planMs = Date.now() - t0;
    this.log.info({ round: n, actions: plan.actions.length, skipped: plan.skipped.length, errors: plan.errors.length, ms: planMs }, roundLine(n, facts, plan, planMs, execute ? "executed" : this.paused ? "paused" : "dry run"));
    for (const e of plan.errors) this.log.error({ rule: e.rule }, `round ${n}: ${e.rule}: ${e.message}`);
    await this.noteAlerts(plan, execute);
    if (execute && plan.actions.some((a) => a.kind !== "alert")) {
      // The fence and the down host's VMs are on disk before a restart is issued because of them.
      if (plan.actions.some((a) => a.kind === "restart")) await this.stateFile?.flush();
      // Wait for the actions until just before the next tick; longer ones go on being tracked.
      const deadline = Math.max(0, this.config.interval * 1000 * 0.9 - (Date.now() - t0));
      await Promise.race([runner.execute(plan.actions), sleep(deadline), this.stopSignal]);
    }
    const summary: RoundSummary = {
      at: new Date(t0).toISOString(),
      duration_ms: Date.now() - t0,
      actions: plan.actions.length,
      skipped: plan.skipped.length,
      errors: plan.errors.length,
      executed: execute,
    };
    return this.finishRound(summary, plan);
  }

  private finishRound(summary: RoundSummary, plan: Plan | null): RoundSummary {
    this.lastRound = summary;
    this.events.emit("round", summary, plan);
    return summary;
  }

  /**
   * Logs each alert once while it persists, and journals it once while it
   * persists in rounds that execute: one that first shows while paused (or
   * whose journal write failed) is journaled when execution resumes.
   */
  private async noteAlerts(plan: Plan, execute: boolean): Promise<void> {
    const now = new Set<string>();
    const journaled = new Set<string>();
    for (const a of plan.actions) {
      if (a.kind !== "alert") continue;
      const key = alertKey(a);
      now.add(key);
      if (!this.previousAlerts.has(key)) this.log.warn({ rule: a.rule }, `alert (${a.rule}): ${a.message}`);
      if (this.journaledAlerts.has(key)) {
        journaled.add(key);
        continue;
      }
      if (!execute || !this.journal) continue;
      const entry: JournalEntry = { id: `alert-${newActionId()}`, phase: "start", at: new Date().toISOString(), kind: "alert", message: a.message, rule: a.rule };
      try {
        await this.journal.append(entry);
        journaled.add(key);
        this.events.emit("action", entry);
      } catch (e) {
        // The round goes on: its migrations and restarts meet the same journal and are not issued unjournaled.
        this.log.error({ rule: a.rule }, `alert (${a.rule}): cannot write the journal: ${(e as Error).message}`);
      }
    }
    this.previousAlerts = now;
    this.journaledAlerts = journaled;
  }

  // ------------------------------------------------------------ reload

  reload(): Promise<ReloadResult> {
    const p = this.reloadChain.then(() => this.reloadOnce());
    this.reloadChain = p.catch(() => undefined);
    return p;
  }

  private async reloadOnce(): Promise<ReloadResult> {
    // Before start() has loaded the first set there is nothing to replace (start loads the files itself).
    if (this.stopped) throw new EngineRequestError(409, "the engine is stopping; nothing to reload");
    if (!this.set) throw new EngineRequestError(409, "the engine is not started yet; it loads the policies as it starts");
    const loaded = await loadEngineSet(this.config.policies, this.config.params, this.config.script_limits, this.sizeLimits(), this.log);
    let result: ReloadResult;
    if (!loaded.ok) {
      this.reloadFailures++;
      this.reloadError = { at: new Date().toISOString(), diagnostics: loaded.diagnostics };
      this.log.error({ errors: loaded.diagnostics.length }, `reload rejected; the running policies stay active:\n${loaded.diagnostics.map(formatDiagnostic).join("\n")}`);
      result = { ok: false, diagnostics: loaded.diagnostics };
    } else {
      for (const d of loaded.loaded.warnings) this.log.warn(formatDiagnostic(d));
      // Swap between rounds: queue behind any round in progress.
      const swap = this.chain.then(() => {
        if (this.stopped) {
          loaded.loaded.set.dispose();
          return;
        }
        const old = this.set;
        this.set = loaded.loaded.set;
        this.policies = loaded.loaded.policies;
        this.reloadError = null;
        old?.dispose();
      });
      this.chain = swap.catch(() => undefined);
      await swap;
      this.log.info({ policies: this.policies.map((p) => p.file) }, `policies reloaded: ${this.policies.map((p) => `${p.name} (${p.hash.slice(0, 12)})`).join(", ")}`);
      result = { ok: true, policies: this.policies };
    }
    this.events.emit("reload", result);
    return result;
  }

  private sizeLimits() {
    return { fileBytes: this.config.max_policy_bytes, setBytes: this.config.max_policy_set_bytes };
  }

  // ------------------------------------------------------------ control

  status(): EngineStatus {
    const hosts = this.tracker ? hostStatuses(this.tracker, this.facts, this.plan, (h) => this.fencer.isFenced(h)) : [];
    return {
      hosts,
      policies: this.policies,
      last_round: this.lastRound,
      paused: this.paused,
      dry_run: this.config.dry_run,
      reload_error: this.reloadError,
      duplicate_vms: this.tracker?.duplicateVms() ?? [],
      vms_nowhere: this.tracker?.vmsNowhere((h) => this.fencer.isFenced(h)) ?? [],
    };
  }

  lastPlan(options?: { explain?: boolean }): Plan | null {
    if (!this.plan) return null;
    return options?.explain ? this.plan : withoutExplain(this.plan);
  }

  async decisions(limit: number): Promise<readonly JournalEntry[]> {
    return this.journal?.decisions(limit) ?? [];
  }

  pause(): void {
    if (!this.paused) this.log.warn("paused: rounds plan but execute nothing");
    this.paused = true;
  }

  resume(): void {
    if (this.paused) this.log.info("resumed: rounds execute their plans again");
    this.paused = false;
  }

  private record(host: string) {
    const r = this.tracker?.get(host);
    if (!r) throw new EngineRequestError(404, `unknown host "${host}" (hosts: ${this.hosts.map((h) => h.name).join(", ")})`);
    return r;
  }

  setHostState(host: string, state: "maintenance" | "up"): void {
    const r = this.record(host);
    r.operatorState = state === "maintenance" ? "maintenance" : null;
    this.persist();
    this.log.warn({ host, state }, `operator set host ${host} to ${state}`);
  }

  confirmFenced(host: string): void {
    const r = this.record(host);
    if (!r.down) throw new EngineRequestError(409, `host "${host}" is not down (it answered ${r.lastSeen === null ? "never" : new Date(r.lastSeen).toISOString()}); only a down host can be confirmed fenced`);
    this.fencer.confirm(host);
    this.persist();
  }

  /** Keeps what a restart must not forget (`state.ts`); writes only when it changed. */
  private persist(): void {
    if (this.tracker && this.stateFile) void this.stateFile.save(captureState(this.tracker, this.fencer));
  }
}
