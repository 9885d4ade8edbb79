/**
 * The executor's own guards (engine/run/actions.ts), independent of the
 * planner: a restart is issued only for a down, fenced host and only once
 * per VM; one flight per VM; and a journal that cannot be written stops an
 * action before it is issued instead of leaving it half-tracked, and never
 * crashes the process with an unhandled rejection.
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import type { HostConfig } from "../../../engine/run/config.js";
import type { JournalEntry } from "../../../engine/http/control.js";
import { ActionRunner } from "../../../engine/run/actions.js";
import type { ActionStatus, AgentPort } from "../../../engine/run/agents.js";
import { HostTracker } from "../../../engine/run/gather.js";
import { CpuSmoother } from "../../../engine/run/smoothing.js";
import { Fencer } from "../../../engine/run/fencing.js";
import type { Journal } from "../../../engine/run/journal.js";
import type { PlannedAction } from "../../../engine/types.js";
import { sleep, testLogger, until } from "./harness.js";

const HOSTS: HostConfig[] = ["h1", "h2", "h3"].map((name, i) => ({ name, url: `http://127.0.0.1:${9001 + i}` }));

/** Agents answering from a table; `dead` hosts do not answer; every request is recorded. */
class FakeAgents implements AgentPort {
  calls: string[] = [];
  dead = new Set<string>();
  vms: Record<string, string[]> = { h1: ["a1"], h2: ["b1"], h3: ["c1", "c2"] };
  status: ActionStatus = { state: "completed" };

  async facts(host: HostConfig): Promise<unknown> {
    if (this.dead.has(host.name)) throw new Error(`${host.name}: connection timed out`);
    return { name: host.name, state: "up", cpus: 4, mem: 65536, labels: {}, vms: (this.vms[host.name] ?? []).map((name) => ({ name, cpu: 10, mem: 256 })) };
  }
  async startMigration(from: HostConfig, vm: string, to: HostConfig): Promise<string> {
    this.calls.push(`migrate ${vm} ${from.name}->${to.name}`);
    return `m-${vm}`;
  }
  async startRestart(to: HostConfig, vm: string, from: string): Promise<string | null> {
    this.calls.push(`restart ${vm} ${from}->${to.name}`);
    return `r-${vm}`;
  }
  async actionStatus(): Promise<ActionStatus | null> {
    return this.status;
  }
}

/** A journal in memory; `failOn` makes appends of that phase (or all) fail like a full disk. */
function fakeJournal(failOn: "start" | "end" | "none" = "none"): { journal: Journal; lines: JournalEntry[] } {
  const lines: JournalEntry[] = [];
  const journal = {
    append: async (e: JournalEntry) => {
      if (failOn !== "none" && e.phase === failOn) throw new Error("ENOSPC: no space left on device, write");
      lines.push(e);
    },
  } as unknown as Journal;
  return { journal, lines };
}

async function setup(failOn: "start" | "end" | "none" = "none") {
  const { log, lines: logLines } = testLogger();
  const agents = new FakeAgents();
  const fencer = new Fencer({ command: null, timeoutMs: 1000, log });
  const tracker = new HostTracker(HOSTS, agents, new CpuSmoother(0), log, 0, Date.now(), { onDown: () => {}, onUp: (h) => fencer.hostUp(h) });
  await tracker.gather();
  const { journal, lines } = fakeJournal(failOn);
  const runner = new ActionRunner({ journal, agents, hosts: tracker, fencer, log, events: new EventEmitter(), pollMs: 10, actionTimeoutMs: 60_000, lastMoved: new Map() });
  return { agents, fencer, tracker, runner, lines, logLines };
}

const restart = (vm: string, to = "h1"): PlannedAction => ({ kind: "restart", vm, from: "h3", to, rule: "evacuate.recover" });
const migrate = (vm: string, from: string, to: string): PlannedAction => ({ kind: "migrate", vm, from, to, rule: "cslb.balance" });

describe("executor guards", () => {
  it("restarts a VM only from a down host that is fenced, and only once", async () => {
    const { agents, fencer, tracker, runner, logLines } = await setup();
    await runner.execute([restart("c1")]); // h3 is up
    expect(agents.calls).toEqual([]);
    expect(logLines.some((l) => l.msg === "not executing restart of c1: host h3 is not down")).toBe(true);

    agents.dead.add("h3");
    await tracker.gather();
    expect(tracker.get("h3")!.down).toBe(true);
    await runner.execute([restart("c1")]); // down, not fenced
    expect(agents.calls).toEqual([]);
    expect(logLines.some((l) => l.msg === "not executing restart of c1: host h3 is not fenced")).toBe(true);

    fencer.confirm("h3");
    await runner.execute([restart("c1"), restart("c1", "h2")]); // the second: already in flight
    expect(agents.calls).toEqual(["restart c1 h3->h1"]);
    await until(() => runner.inFlight().length === 0, 2000, "the restart to end");
    await runner.execute([restart("c1", "h2")]); // restarted away already
    expect(agents.calls).toEqual(["restart c1 h3->h1"]);
    expect(logLines.some((l) => l.msg === "not executing restart of c1: c1 was already restarted away from h3")).toBe(true);
    runner.stop();
  });

  it("one flight per VM: a second migration of a VM in flight is refused", async () => {
    const { agents, runner } = await setup();
    agents.status = { state: "running" };
    void runner.execute([migrate("a1", "h1", "h2")]);
    await until(() => agents.calls.length === 1, 2000, "the first migration");
    await runner.execute([migrate("a1", "h1", "h3")]);
    expect(agents.calls).toEqual(["migrate a1 h1->h2"]);
    runner.stop();
  });
});

describe("executor and an unwritable journal", () => {
  it("an action whose start line cannot be written is not issued and not left in flight", async () => {
    const { agents, runner, logLines } = await setup("start");
    await expect(runner.execute([migrate("a1", "h1", "h2")])).resolves.toBeUndefined();
    expect(agents.calls).toEqual([]);
    expect(runner.inFlight()).toEqual([]);
    expect(logLines.some((l) => /^not executing migrate of a1: cannot write the journal: ENOSPC/.test(l.msg))).toBe(true);
    runner.stop();
  });

  it("an end line that cannot be written is logged, in a round and in background tracking, never an unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    try {
      const { agents, runner, logLines } = await setup("end");
      await expect(runner.execute([migrate("a1", "h1", "h2")])).resolves.toBeUndefined();
      // An action picked up from the journal and finished by background polling.
      agents.status = { state: "running" };
      await runner.resume({ id: "x1", phase: "start", at: new Date().toISOString(), kind: "migrate", vm: "b1", from: "h2", to: "h3", rule: "cslb.balance", agent_id: "m-b1" });
      agents.status = { state: "completed" };
      await until(() => runner.inFlight().length === 0, 2000, "the resumed migration to end");
      await sleep(50);
      expect(unhandled).toEqual([]);
      expect(logLines.filter((l) => /cannot write the journal: ENOSPC/.test(l.msg)).length).toBe(2);
      runner.stop();
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
