/**
 * Ping-pong as it happens (SPEC 12): a VM migrated back to a host it left
 * less than `pingpong_window` ago. `plan --rounds` finds it before a policy
 * runs on a static workload; this catches it live, where the workload moves
 * too. One episode per VM lasts while its returns keep coming within the
 * window: the engine alerts and journals once per episode, and counts every
 * return.
 */
import type { PingPongStatus } from "../http/control.js";
import { compareNames } from "../names.js";

/** `pingpong_window` when the config leaves it out: 30 minutes. */
export const DEFAULT_PINGPONG_WINDOW_S = 1800;

/** One return of a VM to a host it had left. */
export interface PingPong {
  readonly vm: string;
  /** The host it came back to, which it had left. */
  readonly host: string;
  /** The host it came back from. */
  readonly from: string;
  /** The rule that moved it away, and the rule that moved it back. */
  readonly away_rule: string;
  readonly back_rule: string;
  /** Seconds between leaving `host` and coming back. */
  readonly after_s: number;
  /** True for the first return of an episode: alert and journal this one. */
  readonly new_episode: boolean;
}


interface Departure {
  readonly host: string;
  readonly at: number;
  readonly rule: string;
}

interface Episode {
  readonly hosts: Set<string>;
  rule: string;
  returns: number;
  last: number;
}

/** Keeps recent departures per VM and the episodes going on; memory bounded by the window. */
export class PingPongDetector {
  private readonly departures = new Map<string, Departure[]>();
  private readonly episodes = new Map<string, Episode>();

  constructor(private readonly windowMs: number) {}

  /** A completed migration of `vm` from `from` to `to` by `rule` at `now` (ms); the return it makes, if any. */
  migrated(vm: string, from: string, to: string, rule: string, now: number): PingPong | null {
    this.forgetBefore(now - this.windowMs);
    const list = this.departures.get(vm) ?? [];
    let left: Departure | undefined;
    for (const d of list) if (d.host === to) left = d;
    list.push({ host: from, at: now, rule });
    this.departures.set(vm, list);
    if (left === undefined) return null;

    const ongoing = this.episodes.get(vm);
    if (ongoing !== undefined) {
      ongoing.hosts.add(from).add(to);
      ongoing.returns++;
      ongoing.last = now;
      ongoing.rule = rule;
    } else {
      this.episodes.set(vm, { hosts: new Set([to, from]), rule, returns: 1, last: now });
    }
    return { vm, host: to, from, away_rule: left.rule, back_rule: rule, after_s: (now - left.at) / 1000, new_episode: ongoing === undefined };
  }

  /** The episodes going on at `now`, by VM name. */
  active(now: number): PingPongStatus[] {
    this.forgetBefore(now - this.windowMs);
    return [...this.episodes]
      .map(([vm, e]) => ({ vm, hosts: [...e.hosts].sort(compareNames), rule: e.rule, returns: e.returns, last_at: new Date(e.last).toISOString() }))
      .sort((a, b) => compareNames(a.vm, b.vm));
  }

  private forgetBefore(cutoff: number): void {
    for (const [vm, list] of this.departures) {
      const kept = list.filter((d) => d.at >= cutoff);
      if (kept.length === 0) this.departures.delete(vm);
      else if (kept.length < list.length) this.departures.set(vm, kept);
    }
    for (const [vm, e] of this.episodes) if (e.last < cutoff) this.episodes.delete(vm);
  }
}

/** The alert text of a return: names the VM, both hosts and the rules. */
export function pingPongMessage(p: PingPong): string {
  const rules = p.away_rule === p.back_rule ? `by ${p.back_rule}` : `away by ${p.away_rule}, back by ${p.back_rule}`;
  return `ping-pong: ${p.vm} migrated back to ${p.host} from ${p.from} ${formatAfter(p.after_s)} after leaving it (${rules})`;
}

function formatAfter(s: number): string {
  return s < 120 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`;
}
