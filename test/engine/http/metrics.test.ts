/**
 * The engine's metrics: the series the engine's events feed, and the
 * gauges recomputed from the status on each scrape.
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import type { EngineStatus, JournalEntry } from "../../../engine/http/control.js";
import { EngineMetrics, wireEngineMetrics } from "../../../engine/http/metrics.js";
import { DIAGNOSTIC, FakeEngine, PLAN, POLICY } from "./fake-engine.js";

const summary = (executed: boolean, ms: number) => ({ at: "2026-01-01T00:00:00.000Z", duration_ms: ms, actions: 1, skipped: 0, errors: 0, executed });
const migrate = (phase: "start" | "end", extra: Partial<JournalEntry> = {}): JournalEntry => ({ id: "m1", phase, at: "2026-01-01T00:00:00.000Z", kind: "migrate", vm: "vm1", from: "h1", to: "h2", rule: "cslb.balance", ...extra });

/** The value of one series line, e.g. `vmpolicy_hosts{state="up"}`. */
function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("EngineMetrics", () => {
  it("starts with zeroed counters so the series exist before any event", async () => {
    const text = await new EngineMetrics().text();
    expect(value(text, "vmpolicy_reload_failures_total")).toBe(0);
    expect(value(text, 'vmpolicy_rounds_total{executed="true"}')).toBe(0);
    expect(value(text, 'vmpolicy_reloads_total{result="rejected"}')).toBe(0);
    expect(value(text, "vmpolicy_round_duration_seconds_count")).toBe(0);
  });

  it("counts rounds, planned actions, journaled actions and reloads from the engine's events", async () => {
    const events = new EventEmitter();
    const m = new EngineMetrics();
    const unwire = wireEngineMetrics(events, m);
    events.emit("round", summary(true, 40), PLAN);
    events.emit("round", summary(false, 2000), null);
    events.emit("action", migrate("start"));
    events.emit("action", migrate("start", { agent_id: "a-1" })); // the second start line of the same action
    events.emit("action", migrate("end", { outcome: "completed" }));
    events.emit("action", migrate("end", { id: "m2", outcome: "lost" }));
    events.emit("action", { id: "al", phase: "start", at: "x", kind: "alert", message: "m", rule: "r" } satisfies JournalEntry);
    events.emit("reload", { ok: false, diagnostics: [DIAGNOSTIC] });
    events.emit("reload", { ok: false, diagnostics: [DIAGNOSTIC] });
    events.emit("reload", { ok: true, policies: [POLICY] });
    events.emit("host", { host: "h1", state: "down" });
    events.emit("host", { host: "h1", state: "fenced" });
    const t = await m.text();
    expect(value(t, 'vmpolicy_rounds_total{executed="true"}')).toBe(1);
    expect(value(t, 'vmpolicy_rounds_total{executed="false"}')).toBe(1);
    expect(value(t, "vmpolicy_round_duration_seconds_count")).toBe(2);
    expect(value(t, "vmpolicy_round_duration_seconds_sum")).toBe(2.04);
    expect(value(t, 'vmpolicy_round_duration_seconds_bucket{le="0.05"}')).toBe(1);
    expect(value(t, 'vmpolicy_round_duration_seconds_bucket{le="2.5"}')).toBe(2);
    expect(value(t, 'vmpolicy_planned_actions_total{kind="migrate"}')).toBe(1);
    expect(value(t, 'vmpolicy_actions_total{kind="migrate",outcome="started"}')).toBe(1);
    expect(value(t, 'vmpolicy_actions_total{kind="migrate",outcome="completed"}')).toBe(1);
    expect(value(t, 'vmpolicy_actions_total{kind="migrate",outcome="lost"}')).toBe(1);
    expect(value(t, 'vmpolicy_actions_total{kind="alert",outcome="raised"}')).toBe(1);
    expect(value(t, "vmpolicy_reload_failures_total")).toBe(2);
    expect(value(t, 'vmpolicy_reloads_total{result="ok"}')).toBe(1);
    expect(value(t, 'vmpolicy_host_events_total{event="down"}')).toBe(1);
    expect(value(t, 'vmpolicy_host_events_total{event="fenced"}')).toBe(1);
    expect(value(t, 'vmpolicy_host_events_total{event="up"}')).toBe(0);
    expect(value(t, "vmpolicy_last_reload_success_timestamp_seconds")).toBeGreaterThan(Date.now() / 1000 - 60);

    unwire();
    events.emit("round", summary(true, 1), null);
    expect(value(await m.text(), 'vmpolicy_rounds_total{executed="true"}')).toBe(1);
  });

  it("recomputes host, group, load, pause and reload-error gauges from the status on every scrape", async () => {
    const engine = new FakeEngine();
    let status: EngineStatus = engine.status();
    const m = new EngineMetrics({ status: () => status });
    let t = await m.text();
    expect(value(t, 'vmpolicy_hosts{state="up"}')).toBe(1);
    expect(value(t, 'vmpolicy_hosts{state="down"}')).toBe(1);
    expect(value(t, 'vmpolicy_hosts{state="maintenance"}')).toBe(0);
    expect(value(t, 'vmpolicy_hosts_by_group{policy="cslb",group="heavy"}')).toBe(1);
    expect(value(t, 'vmpolicy_host_load_percent{host="h1"}')).toBe(75);
    expect(value(t, "vmpolicy_reload_error")).toBe(0);
    expect(value(t, "vmpolicy_paused")).toBe(0);
    expect(value(t, "vmpolicy_policies")).toBe(1);
    expect(value(t, "vmpolicy_last_reload_success_timestamp_seconds")).toBe(Date.parse(POLICY.loaded_at) / 1000);

    engine.setHostState("h1", "maintenance");
    engine.pause();
    status = { ...engine.status(), reload_error: { at: "2026-01-01T00:00:00.000Z", diagnostics: [DIAGNOSTIC, DIAGNOSTIC] } };
    t = await m.text();
    expect(value(t, 'vmpolicy_hosts{state="up"}')).toBe(0);
    expect(value(t, 'vmpolicy_hosts{state="maintenance"}')).toBe(1);
    expect(value(t, "vmpolicy_reload_error")).toBe(2);
    expect(value(t, "vmpolicy_paused")).toBe(1);
  });

  it("a status source that throws leaves the gauges empty instead of failing the scrape", async () => {
    const m = new EngineMetrics({
      status: () => {
        throw new Error("not started");
      },
    });
    const t = await m.text();
    expect(value(t, 'vmpolicy_hosts{state="up"}')).toBe(0);
  });

  it("process metrics are prefixed vmpolicy_ when asked for", async () => {
    const t = await new EngineMetrics({ processMetrics: true }).text();
    expect(t).toMatch(/^vmpolicy_process_cpu_seconds_total \d/m);
    expect(await new EngineMetrics().text()).not.toContain("process_cpu");
  });
});
