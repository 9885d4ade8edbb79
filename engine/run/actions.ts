/**
 * Carrying out a plan (SPEC 5): migrations through the source agent,
 * restarts through the destination agent, each journaled before it is
 * issued and when it ends, each tracked until it ends even across rounds
 * (and, via the journal, across engine restarts). This is the only module
 * that issues actions, so "never twice" is enforced in one place: one
 * flight per VM at a time, and a restart only from a down, fenced host and
 * only once per VM while that host stays away.
 */
import type { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { HostConfig } from "./config.js";
import type { JournalEntry } from "../http/control.js";
import { type AgentPort, definitelyRefused } from "./agents.js";
import type { HostTracker, InFlight } from "./gather.js";
import type { Fencer } from "./fencing.js";
import { type Journal, newActionId } from "./journal.js";
import type { PlannedAction, RecentFact } from "../types.js";

type Outcome = "completed" | "failed" | "lost";

/** One migration or restart the engine issued and has not seen end. */
export interface Flight extends InFlight {
  readonly id: string;
  readonly rule: string;
  agentId: string | null;
  readonly startedAt: number;
  /** 0…1, where the agent reports how far it is (`processed_mib` of `total_mib`). */
  progress?: number;
}

/** What the runner needs from the engine: the journal, the agents, the host view, the fencer. */
export interface ActionRunnerDeps {
  readonly journal: Journal;
  readonly agents: AgentPort;
  readonly hosts: HostTracker;
  readonly fencer: Fencer;
  readonly log: Logger;
  readonly events: EventEmitter;
  /** How often a running action is polled. */
  readonly pollMs: number;
  /** After this long an action is settled from the facts instead of its agent's word. */
  readonly actionTimeoutMs: number;
  /** VM → ms of its last completed move, from the journal. */
  readonly lastMoved: ReadonlyMap<string, number>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** The first wait before a failed restart of a VM is tried again; it doubles up to the max. */
const RESTART_RETRY_FIRST_MS = 30_000;
const RESTART_RETRY_MAX_MS = 600_000;

/** Issues and tracks actions; see the module comment. */
export class ActionRunner {
  private readonly flights = new Map<string, Flight>();
  /** Restarts that failed, by VM: how often, and when the next may be issued. */
  private readonly restartFailures = new Map<string, { failures: number; retryAt: number }>();
  private readonly lastMoved: Map<string, number>;
  private stopped = false;

  constructor(private readonly d: ActionRunnerDeps) {
    this.lastMoved = new Map(d.lastMoved);
  }

  /** Actions in flight, for the snapshot's `migrating` and for status. */
  inFlight(): Flight[] {
    return [...this.flights.values()];
  }

  /** VMs moved less than `horizonS` ago, for the snapshot's `recent`. */
  recent(now: number, horizonS: number): RecentFact[] {
    const out: RecentFact[] = [];
    for (const [vm, t] of this.lastMoved) {
      const ago = Math.max(0, (now - t) / 1000);
      if (ago < horizonS) out.push({ vm, seconds_ago: Math.round(ago * 1000) / 1000 });
      else if (ago > horizonS * 10 + 3600) this.lastMoved.delete(vm);
    }
    return out;
  }

  /** Stops polling; unfinished actions stay open in the journal for the next start to reconcile. */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Issues every migration and restart of the plan; the promise resolves
   * when all of them have ended (the caller bounds how long it waits).
   */
  execute(actions: readonly PlannedAction[]): Promise<void> {
    const runs: Promise<void>[] = [];
    for (const a of actions) {
      if (a.kind === "alert") continue;
      const backoff = a.kind === "restart" ? this.restartFailures.get(a.vm) : undefined;
      if (backoff !== undefined && Date.now() < backoff.retryAt) {
        this.d.log.debug({ vm: a.vm, from: a.from }, `restart of ${a.vm} failed ${backoff.failures} time(s); next try in ${Math.ceil((backoff.retryAt - Date.now()) / 1000)}s`);
        continue;
      }
      const refusal = this.refusal(a);
      if (refusal) {
        this.d.log.error({ vm: a.vm, from: a.from, to: a.to, rule: a.rule }, `not executing ${a.kind} of ${a.vm}: ${refusal}`);
        continue;
      }
      const flight: Flight = { kind: a.kind, vm: a.vm, from: a.from, to: a.to, rule: a.rule, id: newActionId(), agentId: null, startedAt: Date.now() };
      this.flights.set(flight.id, flight);
      runs.push(this.run(flight));
    }
    return Promise.all(runs).then(() => undefined);
  }

  /**
   * A restart that failed (no definition in storage, no room on the agent)
   * would fail again next round, with two journal lines each time: retry it
   * after 30 s, doubling up to 10 min, until it succeeds.
   */
  private noteRestartOutcome(vm: string, outcome: Outcome): void {
    if (outcome !== "failed") {
      this.restartFailures.delete(vm);
      return;
    }
    const failures = (this.restartFailures.get(vm)?.failures ?? 0) + 1;
    const delayMs = Math.min(RESTART_RETRY_FIRST_MS * 2 ** (failures - 1), RESTART_RETRY_MAX_MS);
    this.restartFailures.set(vm, { failures, retryAt: Date.now() + delayMs });
    this.d.log.warn({ vm }, `restart of ${vm} failed ${failures} time(s); not retried for ${delayMs / 1000}s`);
  }

  /** The executor's own guard, independent of the planner. */
  private refusal(a: Extract<PlannedAction, { kind: "migrate" | "restart" }>): string | null {
    if ([...this.flights.values()].some((f) => f.vm === a.vm)) return "an action on this VM is already in flight";
    if (this.d.hosts.isDuplicate(a.vm)) return "two hosts report it: no copy is moved or restarted until one stops";
    const from = this.d.hosts.get(a.from);
    const to = this.d.hosts.get(a.to);
    if (!from) return `unknown host ${a.from}`;
    if (!to) return `unknown host ${a.to}`;
    if (a.kind === "restart") {
      if (!from.down) return `host ${a.from} is not down`;
      if (!this.d.fencer.isFenced(a.from)) return `host ${a.from} is not fenced`;
      if (from.restartedAway.has(a.vm)) return `${a.vm} was already restarted away from ${a.from}`;
    }
    return null;
  }

  private entry(f: Flight, extra: Partial<JournalEntry> & Pick<JournalEntry, "phase">): JournalEntry {
    const { phase, ...rest } = extra;
    return { id: f.id, phase, at: new Date().toISOString(), kind: f.kind, vm: f.vm, from: f.from, to: f.to, rule: f.rule, ...rest };
  }

  /**
   * Appends a journal line; false (logged) when it cannot be written, e.g. a
   * full disk. Never rejects, so background tracking cannot end in an
   * unhandled rejection.
   */
  private async write(entry: JournalEntry, what: string): Promise<boolean> {
    try {
      await this.d.journal.append(entry);
      return true;
    } catch (e) {
      this.d.log.error({ id: entry.id, vm: entry.vm }, `${what}: cannot write the journal: ${(e as Error).message}`);
      return false;
    }
  }

  private async run(f: Flight): Promise<void> {
    const from = this.d.hosts.get(f.from)!.cfg;
    const to = this.d.hosts.get(f.to)!.cfg;
    const start = this.entry(f, { phase: "start" });
    if (!(await this.write(start, `not executing ${f.kind} of ${f.vm}`))) {
      // Not journaled, so not issued: an action the journal does not know of could be lost track of.
      this.flights.delete(f.id);
      return;
    }
    this.d.events.emit("action", start);
    this.d.log.info({ vm: f.vm, from: f.from, to: f.to, rule: f.rule, id: f.id }, `${f.kind} ${f.vm} ${f.from} → ${f.to} started (${f.rule})`);
    try {
      f.agentId = f.kind === "migrate" ? await this.d.agents.startMigration(from, f.vm, to) : await this.d.agents.startRestart(to, f.vm, f.from);
    } catch (e) {
      const err = e as Error;
      if (definitelyRefused(e)) return this.finish(f, "failed", err.message);
      // No answer: the request may or may not have arrived; only the facts can tell.
      this.d.log.warn({ vm: f.vm, id: f.id }, `${f.kind} ${f.vm}: ${err.message}; settling from the facts`);
      return this.settleLoop(f, err.message);
    }
    if (f.agentId === null) return this.finish(f, "completed");
    // Issued either way; without this line the next engine start settles it from the facts instead of its id.
    await this.write(this.entry(f, { phase: "start", agent_id: f.agentId }), `${f.kind} ${f.vm}`);
    return this.poll(f);
  }

  /**
   * Picks up an action the journal left open: polls its agent id if it has
   * one, else settles it from the facts. Resolves after the first check;
   * an action still running is then tracked like any other.
   */
  async resume(e: JournalEntry): Promise<void> {
    if ((e.kind !== "migrate" && e.kind !== "restart") || !e.vm || !e.from || !e.to) {
      await this.write({ ...e, phase: "end", at: new Date().toISOString(), outcome: "lost", error: "journal entry lacks vm/from/to", agent_id: undefined }, `journal entry ${e.id}`);
      return;
    }
    const f: Flight = { kind: e.kind, vm: e.vm, from: e.from, to: e.to, rule: e.rule, id: e.id, agentId: e.agent_id ?? null, startedAt: Date.parse(e.at) || Date.now() };
    for (const h of [f.from, f.to]) {
      if (!this.d.hosts.get(h)) {
        this.d.log.error({ id: f.id, vm: f.vm }, `unfinished ${f.kind} of ${f.vm}: host ${h} is no longer configured`);
        return this.finish(f, "lost", `host ${h} is no longer configured`);
      }
    }
    this.flights.set(f.id, f);
    this.d.log.warn({ id: f.id, vm: f.vm, agent_id: f.agentId }, `reconciling unfinished ${f.kind} ${f.vm} ${f.from} → ${f.to} from the journal`);
    const settled = f.agentId !== null ? await this.checkAgent(f) : await this.checkFacts(f, "the engine stopped before the agent confirmed it");
    if (settled) return;
    // Still running (or undecidable for now): keep tracking in the background.
    void (f.agentId !== null ? this.poll(f) : this.settleLoop(f, "the engine stopped before the agent confirmed it"));
  }

  /** One look at the agent; true when the flight ended. */
  private async checkAgent(f: Flight): Promise<boolean> {
    const host = this.d.hosts.get(f.kind === "migrate" ? f.from : f.to)!.cfg;
    let status;
    try {
      status = await this.d.agents.actionStatus(host, f.kind, f.agentId!);
    } catch {
      // A fenced host is powered off: its action will never report, and waiting for
      // action_timeout would hold up the restart of this VM (and the slots it takes).
      if (this.d.fencer.isFenced(host.name)) return this.checkFacts(f, `${host.name} was fenced`);
      return Date.now() - f.startedAt > this.d.actionTimeoutMs ? this.checkFacts(f, "its agent stopped answering") : false;
    }
    if (status === null) return this.checkFacts(f, `${host.name} no longer knows action ${f.agentId}`);
    if (status.state === "running") {
      const p = status.progress;
      if (p?.["total_mib"] !== undefined && p["total_mib"] > 0 && p["processed_mib"] !== undefined) f.progress = Math.min(1, Math.max(0, p["processed_mib"] / p["total_mib"]));
      return Date.now() - f.startedAt > this.d.actionTimeoutMs ? this.checkFacts(f, "timed out", true) : false;
    }
    await this.finish(f, status.state, status.error);
    return true;
  }

  private async poll(f: Flight): Promise<void> {
    while (!this.stopped && this.flights.has(f.id)) {
      await sleep(this.d.pollMs);
      if (this.stopped) return;
      if (await this.checkAgent(f)) return;
    }
  }

  private async settleLoop(f: Flight, why: string): Promise<void> {
    let delay = this.d.pollMs;
    while (!this.stopped && this.flights.has(f.id)) {
      if (await this.checkFacts(f, why)) return;
      await sleep(delay);
      delay = Math.min(delay * 2, 30_000);
    }
  }

  /**
   * Settles a flight from both hosts' facts; true when it could. The VM
   * on the destination: completed. On the source (both answered): failed,
   * unless `stillRunningOk` (a slow migration keeps running). On neither:
   * lost, but only once both hosts answered (or the source is fenced).
   */
  private async checkFacts(f: Flight, why: string, stillRunningOk = false): Promise<boolean> {
    const look = async (name: string): Promise<string[] | null> => {
      const cfg: HostConfig = this.d.hosts.get(name)!.cfg;
      try {
        const raw = (await this.d.agents.facts(cfg)) as { vms?: { name?: unknown }[] };
        return Array.isArray(raw?.vms) ? raw.vms.map((v) => String(v?.name)) : null;
      } catch {
        return null;
      }
    };
    const [onFrom, onTo] = await Promise.all([look(f.from), look(f.to)]);
    if (onTo?.includes(f.vm)) {
      await this.finish(f, "completed", undefined, `${why}; found on ${f.to}`);
      return true;
    }
    // A fenced destination runs nothing any more; any other silent one may still report the VM.
    if (onTo === null && !this.d.fencer.isFenced(f.to)) return false;
    if (onFrom?.includes(f.vm)) {
      if (stillRunningOk) return false;
      // It may still be starting on an agent that got the request: hold it in cooldown.
      this.lastMoved.set(f.vm, Date.now());
      await this.finish(f, "failed", `${why}; still on ${f.from}`);
      return true;
    }
    const fromGone = onFrom !== null || this.d.fencer.isFenced(f.from);
    if (!fromGone) return false;
    await this.finish(f, "lost", `${why}; on neither ${f.from} nor ${f.to}`);
    return true;
  }

  private async finish(f: Flight, outcome: Outcome, error?: string, note?: string): Promise<void> {
    this.flights.delete(f.id);
    const end = this.entry(f, { phase: "end", outcome, ...(error !== undefined ? { error } : {}), ...(note !== undefined ? { message: note } : {}) });
    // If this fails the start line stays open, and the next start reconciles it with the agents.
    await this.write(end, `${f.kind} ${f.vm} ${outcome}`);
    if (outcome === "completed") {
      this.lastMoved.set(f.vm, Date.now());
      this.d.hosts.moved(f.vm, f.from, f.to);
    }
    if (f.kind === "restart") this.noteRestartOutcome(f.vm, outcome);
    if (f.kind === "restart" && outcome !== "failed") {
      // Completed or lost: either way it may be running elsewhere now, so never restart it from there again.
      this.d.hosts.get(f.from)?.restartedAway.add(f.vm);
    }
    const secs = ((Date.now() - f.startedAt) / 1000).toFixed(1);
    const msg = `${f.kind} ${f.vm} ${f.from} → ${f.to} ${outcome} after ${secs}s${end.error ? `: ${end.error}` : end.message ? ` (${end.message})` : ""}`;
    if (outcome === "completed") this.d.log.info({ vm: f.vm, id: f.id, outcome }, msg);
    else this.d.log.error({ vm: f.vm, id: f.id, outcome }, msg);
    this.d.events.emit("action", end);
  }
}
