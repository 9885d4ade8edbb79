/**
 * The engine's side of the dashboard (SPEC 11): the cluster as the engine
 * knows it (each host's last good facts, the actions in flight, the down
 * hosts whose VMs wait for a fence) and `engineDashboard`, which keeps the
 * load history from the engine's events and tells the page when to update.
 */
import type { EventEmitter } from "node:events";
import type { ClusterHost, ClusterView, DashboardSource, FenceWait } from "../http/dashboard/view.js";
import type { EngineStatus, JournalEntry } from "../http/control.js";
import type { Flight } from "./actions.js";
import type { HostRecord } from "./gather.js";
import { LoadHistory, type LoadHistoryOptions } from "./load-history.js";
import { hostLoad } from "./round.js";
import type { HostStateName, Plan } from "../types.js";

export interface ClusterInputs {
  readonly records: readonly HostRecord[];
  readonly stateOf: (r: HostRecord) => HostStateName;
  readonly flights: readonly Flight[];
  readonly isFenced: (host: string) => boolean;
  /** Whether a fence command is configured (else only an operator can fence). */
  readonly fenceCommand: boolean;
  readonly plan: Plan | null;
}

/** The cluster for the page: every host with the VMs its agent last reported (minus those restarted away). */
export function describeCluster(c: ClusterInputs): ClusterView {
  const hosts: ClusterHost[] = [];
  const waits: FenceWait[] = [];
  for (const r of c.records) {
    const vms = (r.last?.vms ?? []).filter((v) => !r.restartedAway.has(v.name));
    const state = c.stateOf(r);
    const cpus = r.last?.cpus ?? 0;
    // `used`: a host's measured CPU, where its agent reports one.
    const used = (r.last as { used?: unknown } | null)?.used;
    hosts.push({
      name: r.cfg.name,
      state,
      cpus,
      mem: r.last?.mem ?? 0,
      mem_used: vms.reduce((s, v) => s + v.mem, 0),
      load: hostLoad(cpus, vms),
      ...(typeof used === "number" && Number.isFinite(used) ? { used } : {}),
      vms: vms.map((v) => ({ name: v.name, cpu: v.cpu, mem: v.mem, pinned: v.pinned })),
    });
    if (state === "down" && !c.isFenced(r.cfg.name) && vms.length > 0) {
      const alert = c.plan?.actions.find((a) => a.kind === "alert" && a.message.startsWith(`host ${r.cfg.name} is down and not fenced`));
      const how = c.fenceCommand ? "the fence command has not succeeded yet" : "no fence command is configured: an operator must confirm the host is powered off";
      waits.push({ host: r.cfg.name, vms: vms.map((v) => v.name), reason: `${alert && alert.kind === "alert" ? `${alert.message}; ` : ""}${how}` });
    }
  }
  const flights = c.flights.map((f) => ({
    kind: f.kind,
    vm: f.vm,
    from: f.from,
    to: f.to,
    rule: f.rule,
    started_at: new Date(f.startedAt).toISOString(),
    ...(f.progress !== undefined ? { progress: f.progress } : {}),
  }));
  return { hosts, flights, fence_waits: waits };
}

/** What `engineDashboard` needs of the engine. */
export interface DashboardEngine {
  readonly events: EventEmitter;
  status(): EngineStatus;
  clusterView(): ClusterView;
}

/**
 * The engine as a `DashboardSource`: records each round's host loads and
 * each issued migration or restart in a bounded `LoadHistory`, and reports
 * every engine event as a change.
 */
export function engineDashboard(engine: DashboardEngine, options: LoadHistoryOptions = {}): DashboardSource {
  const history = new LoadHistory(options);
  engine.events.on("round", () => history.record(Date.now(), engine.status().hosts.map((h) => [h.name, h.load] as const)));
  engine.events.on("action", (e: JournalEntry) => {
    if (e.phase === "start" && (e.kind === "migrate" || e.kind === "restart") && e.vm && e.from && e.to) {
      history.mark(Date.parse(e.at) || Date.now(), { kind: e.kind, vm: e.vm, from: e.from, to: e.to });
    }
  });
  const EVENTS = ["round", "action", "reload", "host"] as const;
  return {
    cluster: () => engine.clusterView(),
    history: (afterT) => history.part(afterT),
    onChange(listener) {
      for (const e of EVENTS) engine.events.on(e, listener);
      return () => {
        for (const e of EVENTS) engine.events.off(e, listener);
      };
    },
  };
}
