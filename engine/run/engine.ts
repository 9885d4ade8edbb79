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
 * - `pingpong` (p: PingPong) when a VM is migrated back to a host it left
 *   within `pingpong_window`.
 * - `host`   ({ host, state: "down" | "up" | "fenced" }) on transitions.
 * - `shadow` (ShadowRound: { plan, differing }) after the shadow set planned a round.
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
import { PingPongDetector, pingPongMessage, type PingPong } from "./pingpong.js";
import { CpuSmoother } from "./smoothing.js";
import { Fencer } from "./fencing.js";
import { Journal, newActionId } from "./journal.js";
import { describeCluster } from "./cluster-view.js";
import type { ClusterView } from "../http/dashboard/view.js";
import { Recorder } from "./recorder.js";
import { promotionEntry, Shadow } from "./shadow.js";
import { roundRecord } from "../replay/recording.js";
import { captureState, loadState, restoreState, StateFile, statePathFor } from "./state.js";
import type { Facts, Plan, PlanSettings } from "../types.js";

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
  private recorder: Recorder | null = null;
  private shadow: Shadow | null = null;
  private closeShadowWatcher: (() => Promise<void>) | null = null;
  /** The active set's files and folders: the config's, until a shadow set is promoted. */
  private activePaths: readonly string[];
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
  private readonly pingpong: PingPongDetector;

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
    this.activePaths = this.config.policies;
    this.pingpong = new PingPongDetector(this.config.pingpong_window * 1000);
    if (this.config.pingpong_window > 0) {
      this.events.on("action", (entry: JournalEntry) => {
        if (entry.phase === "end" && entry.outcome === "completed" && entry.kind === "migrate" && entry.vm && entry.from && entry.to) {
          const p = this.pingpong.migrated(entry.vm, entry.from, entry.to, entry.rule, Date.now());
          if (p !== null) void this.notePingPong(p);
        }
      });
    }
  }

  /**
   * Counts every return (event `pingpong`), and alerts and journals the
   * first of an episode: one line per episode, not one per bounce.
   */
  private async notePingPong(p: PingPong): Promise<void> {
    this.events.emit("pingpong", p);
    if (!p.new_episode) return;
    const message = pingPongMessage(p);
    this.log.warn({ vm: p.vm, host: p.host, from: p.from, rule: p.back_rule }, `alert (${p.back_rule}): ${message}`);
    await this.journalAlert({ vm: p.vm, from: p.from, to: p.host, message, rule: p.back_rule });
  }

  /**
   * Journals an alert (a `start` line with an `alert-` id) and announces it;
   * false when there is no journal or it cannot be written, which is logged
   * and never stops the round: its migrations and restarts meet the same
   * journal and are not issued unjournaled.
   */
  private async journalAlert(fields: Pick<JournalEntry, "message" | "rule" | "vm" | "from" | "to">): Promise<boolean> {
    if (!this.journal) return false;
    const entry: JournalEntry = { id: `alert-${newActionId()}`, phase: "start", at: new Date().toISOString(), kind: "alert", ...fields };
    try {
      await this.journal.append(entry);
      this.events.emit("action", entry);
      return true;
    } catch (e) {
      this.log.error({ rule: fields.rule, ...(fields.vm ? { vm: fields.vm } : {}) }, `alert (${fields.rule}): cannot write the journal: ${(e as Error).message}`);
      return false;
    }
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
    const loaded = await loadEngineSet(this.activePaths, this.config.params, this.config.script_limits, this.sizeLimits(), this.log);
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

    this.recorder = this.config.record && (await Recorder.openOrLog(this.config.record, this.log));
    if (this.config.shadow.length > 0) {
      // A shadow that does not load never stops the engine: it shows as the shadow's reload error.
      this.shadow = new Shadow(this.config.shadow, () => loadEngineSet(this.config.shadow, this.config.params, this.config.script_limits, this.sizeLimits(), this.log), this.log);
      await this.shadow.reload();
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
      this.closeWatcher = await watchPolicies(this.activePaths, this.options.watchDebounceMs ?? 200, onChange, this.log);
      await this.watchShadow();
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
    await this.closeShadowWatcher?.();
    this.runner?.stop();
    this.fencer.stop();
    await this.chain.catch(() => undefined);
    await this.reloadChain.catch(() => undefined);
    this.persist();
    await this.stateFile?.flush();
    await this.journal?.close();
    await this.recorder?.close();
    this.set?.dispose();
    this.set = null;
    this.shadow?.dispose();
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
    const settings: Omit<PlanSettings, "explain"> = {
      cooldown: this.config.cooldown,
      max_per_host: this.config.max_per_host,
      max_per_round: this.config.max_per_round,
      requireFencing: true,
      fenced: this.fencer.fencedSet(),
    };
    const outcome = planSnapshot(set, raw, settings, tracker.faults());
    if (!outcome.ok) {
      const errors = outcome.errors.map((e) => `${e.path}: ${e.message}`);
      this.log.error({ errors }, `round ${n}: the snapshot failed validation, nothing planned: ${errors.join("; ")}`);
      return this.finishRound({ at: new Date(t0).toISOString(), duration_ms: Date.now() - t0, actions: 0, skipped: 0, errors: errors.length, executed: false }, null);
    }
    const { facts, plan } = outcome;
    this.facts = facts;
    this.plan = plan;
    this.afterPlan(n, new Date(t0).toISOString(), set, facts, plan, settings);
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

  /**
   * What happens beside every planned round, before anything is executed:
   * the shadow set plans the same facts (never executed, never journaled),
   * and the round is recorded for `vmpolicy replay`.
   */
  private afterPlan(n: number, at: string, set: CompiledPolicySet, facts: Facts, plan: Plan, settings: Omit<PlanSettings, "explain">): void {
    const shadowed = this.shadow?.planRound(facts, { ...settings, explain: true }, plan, n, at);
    if (shadowed) this.events.emit("shadow", shadowed);
    this.recorder?.record(roundRecord({ round: n, at, set, policies: this.policies, settings, interval: this.config.interval, facts, plan }));
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
      if (execute && (await this.journalAlert({ message: a.message, rule: a.rule }))) journaled.add(key);
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
    const loaded = await loadEngineSet(this.activePaths, this.config.params, this.config.script_limits, this.sizeLimits(), this.log);
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
    // POST /reload and SIGHUP reload the shadow set too (its watcher covers file changes).
    await this.shadow?.reload();
    return result;
  }

  // ------------------------------------------------------------ shadow

  /** Watches the shadow's files, reloading it on a change (like the active set's watcher). */
  private async watchShadow(): Promise<void> {
    const shadow = this.shadow;
    if (shadow === null || this.options.watch === false) return;
    const onChange = () => void shadow.reload().catch((e: Error) => this.log.warn(`shadow change not reloaded: ${e.message}`));
    this.closeShadowWatcher = await watchPolicies(shadow.paths, this.options.watchDebounceMs ?? 200, onChange, this.log);
  }

  /**
   * Makes the shadow set the active one, between rounds (queued behind a
   * round in progress), and journals it. The active set's paths become the
   * shadow's (hot reload follows them); the config file still names the
   * old ones, so the log says to update it.
   */
  async promoteShadow(): Promise<{ readonly policies: readonly PolicyInfo[] }> {
    if (this.stopped) throw new EngineRequestError(409, "the engine is stopping");
    const swap = this.chain.then(async () => {
      const shadow = this.shadow;
      if (shadow === null) throw new EngineRequestError(409, "no shadow set to promote (start with --shadow PATH or config shadow:)");
      if (!this.set) throw new EngineRequestError(409, "the engine is not started");
      const taken = shadow.take();
      if (taken === null) throw new EngineRequestError(409, "the shadow set has not loaded (see reload_error under shadow in /status); nothing to promote");
      const entry = promotionEntry(this.policies, taken.policies, shadow.paths);
      try {
        await this.journal?.append(entry);
      } catch (e) {
        shadow.dispose();
        this.shadow = null;
        taken.set.dispose();
        throw new Error(`cannot journal the promotion; nothing changed but the shadow set is dropped: ${(e as Error).message}`);
      }
      this.events.emit("action", entry);
      const old = this.set;
      this.set = taken.set;
      this.policies = taken.policies;
      this.reloadError = null;
      this.activePaths = shadow.paths;
      old.dispose();
      shadow.dispose();
      this.shadow = null;
      this.log.warn({ policies: shadow.paths }, `${entry.message}; the config file still names the old policies: update it before the next restart`);
    });
    this.chain = swap.catch(() => undefined);
    await swap;
    // The active set is now read from the shadow's paths: watch those instead.
    const closeShadow = this.closeShadowWatcher;
    this.closeShadowWatcher = null;
    await closeShadow?.();
    if (this.closeWatcher !== null && !this.stopped) {
      await this.closeWatcher();
      const onChange = () => void this.reload().catch((e: Error) => this.log.warn(`policy change not reloaded: ${e.message}`));
      this.closeWatcher = await watchPolicies(this.activePaths, this.options.watchDebounceMs ?? 200, onChange, this.log);
    }
    return { policies: this.policies };
  }

  /** Drops the shadow set (its plan, counters and watcher). */
  async dropShadow(): Promise<void> {
    const shadow = this.shadow;
    if (shadow === null) throw new EngineRequestError(404, "no shadow set");
    this.shadow = null;
    shadow.dispose();
    const close = this.closeShadowWatcher;
    this.closeShadowWatcher = null;
    await close?.();
    this.log.info({ policies: shadow.paths }, `shadow set dropped (${shadow.paths.join(", ")})`);
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
      pingpong: this.pingpong.active(Date.now()),
      shadow: this.shadow?.status() ?? null,
      duplicate_vms: this.tracker?.duplicateVms() ?? [],
      vms_nowhere: this.tracker?.vmsNowhere((h) => this.fencer.isFenced(h)) ?? [],
    };
  }

  /** The cluster as the dashboard shows it (SPEC 11): hosts with their VMs, actions in flight, restarts waiting for a fence. */
  clusterView(): ClusterView {
    const tracker = this.tracker;
    return describeCluster({
      records: tracker?.all() ?? [],
      stateOf: (r) => tracker!.stateOf(r),
      flights: this.runner?.inFlight() ?? [],
      isFenced: (h) => this.fencer.isFenced(h),
      fenceCommand: this.config.fence !== null,
      plan: this.plan,
    });
  }

  lastPlan(options?: { explain?: boolean; set?: "active" | "shadow" }): Plan | null {
    const plan = options?.set === "shadow" ? (this.shadow?.plan() ?? null) : this.plan;
    if (!plan) return null;
    return options?.explain ? plan : withoutExplain(plan);
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
