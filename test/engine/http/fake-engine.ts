/**
 * A fake EngineControl for the HTTP API tests: it records every call and
 * answers from fields the test sets, so the API's behaviour (status codes,
 * validation, auth, error bodies) is tested apart from the engine core.
 */
import type { Diagnostic } from "../../../grammar/diagnostics.js";
import { EngineRequestError } from "../../../engine/http/control.js";
import type { EngineControl, EngineStatus, JournalEntry, PolicyInfo, ReloadResult, RoundSummary } from "../../../engine/http/control.js";
import type { Plan } from "../../../engine/types.js";

export const POLICY: PolicyInfo = { name: "cslb", file: "/p/cslb.policy", hash: "ab".repeat(32), loaded_at: "2026-01-01T00:00:00.000Z" };

export const PLAN: Plan = {
  actions: [{ kind: "migrate", vm: "vm1", from: "h1", to: "h2", rule: "cslb.balance", explain: { binding: { src: "h1" }, lets: { want: 120 } } }],
  skipped: [],
  errors: [],
  groups: { cslb: { h1: "heavy", h2: "light" } },
  values: { cslb: { mean: 50 } },
};

export const DIAGNOSTIC: Diagnostic = {
  code: "P101",
  severity: "error",
  message: "expected 'then'",
  span: { file: "/p/cslb.policy", start: { offset: 10, line: 3, column: 5 }, end: { offset: 14, line: 3, column: 9 } },
};

export class FakeEngine implements EngineControl {
  calls: string[] = [];
  paused = false;
  plan: Plan | null = null;
  reloadResult: ReloadResult = { ok: true, policies: [POLICY] };
  journal: JournalEntry[] = Array.from({ length: 1200 }, (_, i) => ({
    id: `a${i}`,
    phase: "start" as const,
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    kind: "migrate" as const,
    vm: `vm${i}`,
    from: "h1",
    to: "h2",
    rule: "cslb.balance",
  }));
  hosts = new Map<string, { state: "up" | "down"; operator: "maintenance" | null; fenced: boolean }>([
    ["h1", { state: "up", operator: null, fenced: false }],
    ["h2", { state: "down", operator: null, fenced: false }],
  ]);

  status(): EngineStatus {
    return {
      hosts: [...this.hosts].map(([name, h]) => ({
        name,
        url: `http://127.0.0.1:1/${name}`,
        state: h.operator ?? h.state,
        groups: (name === "h1" ? { cslb: "heavy" } : {}) as Record<string, string>,
        load: name === "h1" ? 75 : 0,
        used: name === "h1" ? 80 : 0,
        measured: name === "h1" ? ["cpu", "other_cpu"] : [],
        vm_count: name === "h1" ? 3 : 0,
        last_seen: null,
        fenced: h.fenced,
        operator_state: h.operator,
      })),
      policies: [POLICY],
      last_round: null,
      paused: this.paused,
      dry_run: false,
      reload_error: null,
      pingpong: [],
    };
  }
  lastPlan(options?: { explain?: boolean }): Plan | null {
    this.calls.push(`lastPlan(${options?.explain ?? false})`);
    if (!this.plan || options?.explain) return this.plan;
    return { ...this.plan, actions: this.plan.actions.map(({ explain: _e, ...a }) => a) };
  }
  async decisions(limit: number): Promise<readonly JournalEntry[]> {
    this.calls.push(`decisions(${limit})`);
    return this.journal.slice(-limit).reverse();
  }
  async reload(): Promise<ReloadResult> {
    this.calls.push("reload");
    return this.reloadResult;
  }
  pause(): void {
    this.calls.push("pause");
    this.paused = true;
  }
  resume(): void {
    this.calls.push("resume");
    this.paused = false;
  }
  async runRound(): Promise<RoundSummary> {
    this.calls.push("runRound");
    return { at: "2026-01-01T00:00:00.000Z", duration_ms: 12, actions: 1, skipped: 0, errors: 0, executed: !this.paused };
  }
  private host(name: string) {
    const h = this.hosts.get(name);
    if (!h) throw new EngineRequestError(404, `unknown host "${name}" (hosts: ${[...this.hosts.keys()].join(", ")})`);
    return h;
  }
  setHostState(host: string, state: "maintenance" | "up"): void {
    this.calls.push(`setHostState(${host},${state})`);
    this.host(host).operator = state === "maintenance" ? "maintenance" : null;
  }
  confirmFenced(host: string): void {
    this.calls.push(`confirmFenced(${host})`);
    const h = this.host(host);
    if (h.state !== "down") throw new EngineRequestError(409, `host "${host}" is not down`);
    h.fenced = true;
  }
  async promoteShadow(): Promise<{ policies: PolicyInfo[] }> {
    this.calls.push("promoteShadow");
    throw new EngineRequestError(409, "no shadow set to promote");
  }
  async dropShadow(): Promise<void> {
    this.calls.push("dropShadow");
    throw new EngineRequestError(404, "no shadow set");
  }
}
