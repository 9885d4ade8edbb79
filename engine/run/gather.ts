/**
 * Facts gathering (SPEC 5): asks every agent for `/facts` at once, keeps
 * each host's last good answer, decides when a silent host is `down`, and
 * assembles the round's snapshot: operator overrides, smoothed CPU, the
 * actions in flight (`migrating`) and the recent moves (`recent`). One
 * agent's bad or missing answer never spoils the others'.
 */
import type { Logger } from "pino";
import { AgentClientError } from "../hosts/client.js";
import type { HostConfig } from "./config.js";
import type { AgentPort } from "./agents.js";
import { compareNames } from "../names.js";
import type { CpuSmoother } from "./smoothing.js";
import { validateFacts } from "../plan/facts.js";
import { duplicateFault, type DuplicateVm, type FactFault, vmOnlyErrors } from "./isolation.js";
import type { HostFact, HostStateName, MigrationFact, RecentFact, VmFact } from "../types.js";

/** What the engine knows about one host. */
export interface HostRecord {
  readonly cfg: HostConfig;
  /** The last facts that passed validation, as the agent reported them. */
  last: HostFact | null;
  /** ms of the last answer (good or bad facts both prove the host alive). */
  lastSeen: number | null;
  down: boolean;
  operatorState: "maintenance" | null;
  /** Whether the last attempt failed, so a silent host is logged once, not every round. */
  silent: boolean;
  /** Why its last answer was rejected (logged when it changes), or null. */
  rejected: string | null;
  /**
   * VMs of its last answer whose own facts were wrong: left out, the rest
   * of the host's answer used. `kept`: its last good facts hold its place
   * (pinned), so its memory still counts.
   */
  badVms: readonly { readonly vm: string; readonly why: string; readonly kept: boolean }[];
  /** VMs restarted elsewhere while this host was down: not counted here any more. */
  readonly restartedAway: Set<string>;
}

/** An action in flight as the snapshot needs it. */
export interface InFlight {
  readonly kind: "migrate" | "restart";
  readonly vm: string;
  readonly from: string;
  readonly to: string;
}

/** Called on a host's down/up transitions (fencing and events hang off these). */
export interface HostTrackerHooks {
  onDown(host: string): void;
  onUp(host: string): void;
}

/** Whether a failed facts request still heard from the agent (any HTTP answer but a gateway's). */
function answered(e: unknown): boolean {
  if (!(e instanceof AgentClientError)) return false;
  if (e.kind === "protocol") return true;
  return e.kind === "http" && e.status !== 502 && e.status !== 504;
}

/** Keeps the per-host view across rounds; see the module comment. */
export class HostTracker {
  private readonly records = new Map<string, HostRecord>();
  /** VMs the last snapshot found on two or more hosts (left out of it). */
  private duplicates: DuplicateVm[] = [];

  constructor(
    hosts: readonly HostConfig[],
    private readonly agents: AgentPort,
    private readonly smoother: CpuSmoother,
    private readonly log: Logger,
    private readonly downAfterMs: number,
    private readonly startedAt: number,
    private readonly hooks: HostTrackerHooks,
  ) {
    for (const cfg of hosts) {
      this.records.set(cfg.name, { cfg, last: null, lastSeen: null, down: false, operatorState: null, silent: false, rejected: null, badVms: [], restartedAway: new Set() });
    }
  }

  get(name: string): HostRecord | undefined {
    return this.records.get(name);
  }

  all(): HostRecord[] {
    return [...this.records.values()];
  }

  /** Fetches every agent's facts concurrently, then updates up/down states. */
  async gather(): Promise<void> {
    await Promise.all(this.all().map((r) => this.gatherOne(r)));
    const now = Date.now();
    for (const r of this.all()) this.updateDown(r, now);
  }

  private async gatherOne(r: HostRecord): Promise<void> {
    let raw: unknown;
    let refusal: string | null = null;
    try {
      raw = await this.agents.facts(r.cfg);
    } catch (e) {
      // An answer of any kind (401, a 500, a body that is not JSON) proves the host alive: only
      // silence may make it down and get it fenced. A gateway's 502/504 is the agent's silence.
      if (!answered(e)) {
        if (!r.silent) this.log.warn({ host: r.cfg.name }, `host ${r.cfg.name} did not answer: ${(e as Error).message}`);
        r.silent = true;
        return;
      }
      refusal = (e as AgentClientError).reason;
    }
    const now = Date.now();
    if (r.silent) this.log.info({ host: r.cfg.name }, `host ${r.cfg.name} answers again`);
    r.silent = false;
    r.lastSeen = now;
    if (refusal !== null) {
      this.reject(r, [`(facts): its agent answered but gave no facts: ${refusal}`]);
      return;
    }
    const fact = this.validateHost(r, raw);
    if (!fact) return;
    let vms = fact.vms;
    if (r.restartedAway.size > 0) {
      const reported = new Set(vms.map((v) => v.name));
      const twice = vms.filter((v) => r.restartedAway.has(v.name)).map((v) => v.name);
      if (twice.length > 0) {
        this.log.error({ host: r.cfg.name, vms: twice }, `host ${r.cfg.name} reports VMs that were restarted elsewhere while it was fenced: ${twice.join(", ")}; ignoring them here`);
        vms = vms.filter((v) => !r.restartedAway.has(v.name));
      }
      for (const vm of [...r.restartedAway]) if (!reported.has(vm)) r.restartedAway.delete(vm);
    }
    for (const vm of vms) this.smoother.sample(vm.name, vm.cpu, now);
    r.last = { ...fact, vms };
  }

  /**
   * Validates one agent's answer on its own, so its errors name the host.
   * Errors inside single VMs cost those VMs only (see `badVms`); any other
   * error refuses the answer and the host keeps its last good facts.
   */
  private validateHost(r: HostRecord, raw: unknown): HostFact | null {
    const name = r.cfg.name;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return this.reject(r, ["(facts): not a JSON object"]);
    const reported = (raw as { name?: unknown }).name;
    // Another host's agent at this URL: its VMs are not this host's, and migrations to it would be refused.
    if (reported !== undefined && reported !== name) return this.reject(r, [`name: its agent is host ${JSON.stringify(reported)}, not ${name} (check the url of ${name} in the config)`]);
    let result = validateFacts({ hosts: [{ ...(raw as object), name }] });
    let bad: { vm: string; why: string; kept: boolean }[] = [];
    const byVm = result.ok ? null : vmOnlyErrors(result.errors);
    if (!result.ok && byVm !== null) {
      const vms = (raw as { vms: unknown[] }).vms;
      const nameAt = (i: number): string | null => {
        const n = (vms[i] as { name?: unknown } | null)?.name;
        return typeof n === "string" && n !== "" ? n : null;
      };
      // A name that is itself the problem (twice on this host) takes every VM of that name out.
      const badNames = new Set([...byVm.keys()].map(nameAt).filter((n): n is string => n !== null));
      const good = vms.filter((v, i) => !byVm.has(i) && !badNames.has(nameAt(i) ?? "\u0000"));
      const retried = validateFacts({ hosts: [{ ...(raw as object), name, vms: good }] });
      if (retried.ok) {
        result = retried;
        bad = [...byVm].map(([i, why]) => ({ vm: nameAt(i) ?? `vms[${i}]`, why: why.join("; "), kept: false }));
      }
    }
    if (!result.ok) return this.reject(r, result.errors.map((e) => `${e.path.replace(/^hosts\[0\]\.?/, "") || "(facts)"}: ${e.message}`));
    if (r.rejected !== null) this.log.info({ host: name }, `host ${name}: facts accepted again`);
    r.rejected = null;
    let fact = result.facts.hosts[0]!;
    if (bad.length > 0) {
      // A VM whose facts went wrong keeps its last good facts, pinned: it still takes room, and nothing moves a VM whose facts cannot be trusted.
      const held: VmFact[] = [];
      for (const b of bad) {
        const before = r.last?.vms.find((v) => v.name === b.vm);
        if (before && !fact.vms.some((v) => v.name === b.vm)) {
          held.push({ ...before, pinned: true });
          b.kept = true;
        }
      }
      if (held.length > 0) fact = { ...fact, vms: [...fact.vms, ...held].sort((a, b) => compareNames(a.name, b.name)) };
    }
    const was = r.badVms.map((b) => `${b.vm}: ${b.why}`).join("; ");
    const now = bad.map((b) => `${b.vm}: ${b.why}`).join("; ");
    if (now !== was && now !== "") this.log.error({ host: name, vms: bad.map((b) => b.vm) }, `host ${name}: VMs with wrong facts left out of planning (${now})`);
    else if (now !== was) this.log.info({ host: name }, `host ${name}: every VM's facts are accepted again`);
    r.badVms = bad;
    return fact;
  }

  /** Logs a rejected answer (once while the reason stays the same); the host keeps its last good facts. */
  private reject(r: HostRecord, errors: string[]): null {
    const why = errors.join("; ");
    if (why !== r.rejected) {
      this.log.error({ host: r.cfg.name, errors }, `host ${r.cfg.name}: facts rejected (${why}); keeping its last good facts`);
    }
    r.rejected = why;
    return null;
  }

  private updateDown(r: HostRecord, now: number): void {
    const since = r.lastSeen ?? this.startedAt;
    const silentFor = now - since;
    // A host remembered as down (the state file) stays down until it answers: it may not be fenced again.
    const down = r.silent || r.lastSeen === null ? (r.down && r.lastSeen === null) || silentFor >= this.downAfterMs : false;
    if (down && !r.down) {
      r.down = true;
      this.log.error({ host: r.cfg.name, silent_s: Math.round(silentFor / 1000) }, `host ${r.cfg.name} is down: no answer for ${Math.round(silentFor / 1000)}s`);
      this.hooks.onDown(r.cfg.name);
    } else if (!down && r.down) {
      r.down = false;
      this.log.warn({ host: r.cfg.name }, `host ${r.cfg.name} is up again`);
      this.hooks.onUp(r.cfg.name);
    }
  }

  /**
   * A migration or restart of `vm` from `from` to `to` completed. Until the
   * hosts report again, `to`'s last facts gain the VM and `from`'s lose it:
   * a host that dies right after taking a VM (before it reported it) still
   * has it to recover, and the source's old facts no longer claim it.
   */
  moved(vm: string, from: string, to: string): void {
    const src = this.records.get(from);
    const dst = this.records.get(to);
    const fact = src?.last?.vms.find((v) => v.name === vm);
    if (src?.last && fact) src.last = { ...src.last, vms: src.last.vms.filter((v) => v.name !== vm) };
    if (!dst?.last || !fact || dst.last.vms.some((v) => v.name === vm)) return;
    dst.last = { ...dst.last, vms: [...dst.last.vms, fact].sort((a, b) => compareNames(a.name, b.name)) };
  }

  /**
   * VMs the engine knows of that run on no host that answers: those of a
   * fenced down host (powered off, waiting for a restart elsewhere) and
   * those restarted away from a down host that no host reports (the
   * restart was lost). Listed in `/status` so nothing runs nowhere unseen.
   */
  vmsNowhere(isFenced: (host: string) => boolean): { vm: string; host: string; reason: string }[] {
    const reported = new Set(this.all().filter((r) => !r.down && r.last !== null).flatMap((r) => r.last!.vms.map((v) => v.name)));
    const out: { vm: string; host: string; reason: string }[] = [];
    for (const r of this.all()) {
      if (!r.down) continue;
      const host = r.cfg.name;
      if (isFenced(host)) {
        for (const v of r.last?.vms ?? []) {
          if (!r.restartedAway.has(v.name) && !reported.has(v.name)) out.push({ vm: v.name, host, reason: `host ${host} is down and fenced: waiting to be restarted elsewhere` });
        }
      }
      for (const vm of r.restartedAway) {
        if (!reported.has(vm)) out.push({ vm, host, reason: `restarted away from ${host}, but no host reports it` });
      }
    }
    return out.sort((a, b) => compareNames(a.vm, b.vm));
  }

  /** The state a host has in the snapshot and in /status. */
  stateOf(r: HostRecord): HostStateName {
    if (r.down) return "down";
    if (r.operatorState) return r.operatorState;
    return r.last?.state ?? "down";
  }

  /**
   * The raw snapshot of this round (validated by the caller). A down host
   * keeps its last known VMs so `recover` can restart them. A VM seen on
   * two hosts while it is in flight counts on its destination; one seen in
   * a silent host's old facts and in a fresh answer counts where it was
   * freshly reported. A VM that is still on two hosts after that (two
   * agents both run it) is left out of the snapshot altogether, so neither
   * copy is moved or restarted; `duplicateVms()` and `faults()` name it.
   */
  snapshot(inFlight: readonly InFlight[], recent: readonly RecentFact[]): unknown {
    const hosts = this.all().filter((r) => r.last !== null);
    const seenOn = new Map<string, string[]>();
    for (const r of hosts) for (const vm of r.last!.vms) if (!r.restartedAway.has(vm.name)) seenOn.set(vm.name, [...(seenOn.get(vm.name) ?? []), r.cfg.name]);
    const flightByVm = new Map(inFlight.map((f) => [f.vm, f]));
    // Facts a host did not renew this round (silent or rejected) may predate a move that has completed.
    const stale = (host: string): boolean => {
      const r = this.records.get(host)!;
      return r.silent || r.rejected !== null;
    };
    const keepOn = (vm: string, host: string): boolean => {
      const on = seenOn.get(vm) ?? [];
      if (on.length < 2) return true;
      const f = flightByVm.get(vm);
      if (f && on.includes(f.to)) return host === f.to;
      // A fresh report elsewhere wins over stale facts: the VM runs there now (never restart a second copy).
      return !(stale(host) && on.some((h) => !stale(h)));
    };
    const hostFacts = hosts.map((r) => {
      const last = r.last!;
      return {
        name: r.cfg.name,
        state: this.stateOf(r),
        cpus: last.cpus,
        mem: last.mem,
        labels: last.labels,
        ...(last.other_cpu !== undefined ? { other_cpu: last.other_cpu } : {}),
        ...(last.mem_avail !== undefined ? { mem_avail: last.mem_avail } : {}),
        ...(last.measured !== undefined ? { measured: last.measured } : {}),
        vms: last.vms
          .filter((vm) => !r.restartedAway.has(vm.name) && keepOn(vm.name, r.cfg.name))
          .map((vm) => ({ name: vm.name, cpu: vm.cpu, mem: vm.mem, labels: vm.labels, pinned: vm.pinned, cpu_avg: this.smoother.get(vm.name, vm.cpu), cpu_changes: this.smoother.changes(vm.name) })),
      };
    });
    const on = new Map<string, string[]>();
    for (const h of hostFacts) for (const v of h.vms) on.set(v.name, [...(on.get(v.name) ?? []), h.name]);
    this.duplicates = [...on]
      .filter(([, hosts]) => hosts.length > 1)
      .map(([vm, hosts]) => ({ vm, hosts: [...hosts].sort(compareNames) }))
      .sort((a, b) => compareNames(a.vm, b.vm));
    if (this.duplicates.length > 0) {
      const twice = new Set(this.duplicates.map((d) => d.vm));
      for (const h of hostFacts) h.vms = h.vms.filter((v) => !twice.has(v.name));
    }
    const listedOn = new Map(hostFacts.flatMap((h) => h.vms.map((v) => [v.name, h.name] as const)));
    const present = new Set(listedOn.keys());
    const hostNames = new Set(hostFacts.map((h) => h.name));
    // A flight whose VM the facts show on a third host is left out: the facts would be refused whole.
    const migrating: MigrationFact[] = inFlight
      .filter((f) => hostNames.has(f.from) && hostNames.has(f.to) && (listedOn.get(f.vm) === f.from || listedOn.get(f.vm) === f.to))
      .map((f) => ({ vm: f.vm, from: f.from, to: f.to }));
    return { hosts: hostFacts, migrating, recent: recent.filter((r) => present.has(r.vm)) };
  }

  /** The VMs the last snapshot left out because two or more hosts report them. */
  duplicateVms(): readonly DuplicateVm[] {
    return this.duplicates;
  }

  /** True while `vm` is reported by two hosts: nothing may act on it. */
  isDuplicate(vm: string): boolean {
    return this.duplicates.some((d) => d.vm === vm);
  }

  /**
   * Every fault the last gather and snapshot isolated, one alert each: VMs
   * on two hosts, VMs with wrong facts, hosts whose answer was refused
   * (they keep their last good facts).
   */
  faults(): FactFault[] {
    const out: FactFault[] = this.duplicates.map(duplicateFault);
    for (const r of this.all()) {
      const host = r.cfg.name;
      if (r.rejected !== null && !r.silent) out.push({ rule: "engine.facts", message: `host ${host}: its facts are refused (${r.rejected}); its last good facts are used` });
      for (const b of r.badVms) {
        out.push({ rule: "engine.facts", message: `VM ${b.vm} on host ${host} has wrong facts (${b.why}); ${b.kept ? "it stays where it is, pinned, with its last good facts" : "it is left out of planning"}` });
      }
    }
    return out;
  }
}
