/**
 * `engine_cpu_pct`: the engine's own CPU while it manages the demo cluster
 * (issue 14: with a shadow set planned every round the engine must still
 * cost ≤ 0.01 % of a core). Built as `vmpolicy run` builds it — the engine,
 * the metrics with the process collectors, the HTTP API with the dashboard's
 * load history (listening, not scraped), JSON log lines (written nowhere) —
 * plus a shadow set (the default policies) and recording on, at the default
 * 10 s interval.
 *
 * The demo cluster's two agents run in a child process (`demo-agents.ts`,
 * the same `startEmbeddedCluster` as `npm start`), so this process holds the
 * engine alone; their own CPU over the same window is `agents_cpu_pct` (HTTP
 * servers and the simulated guests: the demo's, not the engine's).
 * `BENCH_ENGINE_EMBEDDED=1` runs them in this process instead, as `npm
 * start` does (then `engine_cpu_pct` is the whole process). `floor_cpu_pct`
 * is a third process over the same window doing only what no engine can
 * skip (`facts-floor.ts`: two `/facts` requests every 10 s): the machine's
 * floor under the engine's figure.
 *
 * The warm-up first runs `BENCH_ENGINE_WARMUP_ROUNDS` rounds (default 300)
 * back to back: an engine runs for days, so its code is hot (optimised by
 * the JIT), while 30 s at a 10 s interval leave it interpreted and still
 * being compiled on V8's background threads (0 skips this: the figure of a
 * freshly started engine). Then it waits `BENCH_ENGINE_WARMUP` seconds at
 * the normal interval (V8's memory reducer collects start-up's garbage in
 * the first minute or two, tens of ms at a time; forcing a GC instead only
 * sets it off again a minute later), `process.cpuUsage()` is read, and again
 * after the measured time. `phases_ms_per_round` splits the engine's
 * CPU: `gather` (the two `/facts` requests and checking the answers), the
 * shadow set's plan, the recording, the state file, `rest_of_round`
 * (assembling, validating and planning the snapshot, logging, executing) and
 * `between_rounds` (timers, GC, the API). Environment: `BENCH_ENGINE_SECONDS`
 * (default 60), `BENCH_ENGINE_WARMUP` (default 120); `BENCH_ENGINE_PLAIN=1`
 * leaves the shadow set and recording off; `BENCH_ENGINE_PROFILE=FILE.cpuprofile`
 * writes a CPU profile of the measured window only. `bench/engine.ts`
 * measures the same as separate `vmpolicy` processes, over longer runs.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { pino } from "pino";
import { EngineMetrics, wireEngineMetrics } from "../engine/http/metrics.js";
import { startHttpApi } from "../engine/http/server.js";
import { engineDashboard } from "../engine/run/cluster-view.js";
import { defaultConfig, type HostConfig } from "../engine/run/config.js";
import { Engine } from "../engine/run/engine.js";
import { HostTracker } from "../engine/run/gather.js";
import { Recorder } from "../engine/run/recorder.js";
import { Shadow } from "../engine/run/shadow.js";
import { StateFile } from "../engine/run/state.js";
import { round, type Benchmark } from "./api.js";

const POLICIES = resolve(import.meta.dirname, "../../policies");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cpuNow = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

/** A helper process (`demo-agents.js`, `facts-floor.js`): its first line, and its CPU (µs) on request. */
async function startHelper(script: string, args: readonly string[] = []): Promise<{ first: string; cpu: () => Promise<number>; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [join(import.meta.dirname, script), ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const lines: Interface = createInterface({ input: child.stdout! });
  const next = () =>
    new Promise<string>((res, rej) => {
      const onExit = () => rej(new Error(`${script} exited`));
      child.once("exit", onExit);
      lines.once("line", (l) => {
        child.off("exit", onExit);
        res(l);
      });
    });
  const first = await next();
  return {
    first,
    cpu: async () => {
      const answer = next();
      child.stdin!.write("\n");
      const u = JSON.parse(await answer) as { user: number; system: number };
      return u.user + u.system;
    },
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.stdin!.end();
      await exited;
    },
  };
}

/**
 * CPU (µs) spent in a few of the engine's own steps, by wrapping them on
 * their prototypes (the bench's instrument, not the engine's: nothing runs
 * in a plain engine). Async steps count everything the process did while
 * they were pending.
 */
function meterPhases(): { totals: Map<string, number>; start: () => void; restore: () => void } {
  const totals = new Map<string, number>();
  const restores: (() => void)[] = [];
  // Only steps begun after `start` count: a round running when the window opens is left out whole.
  let window = 0;
  const meter = (proto: object, method: string, phase: string) => {
    const target = proto as Record<string, (...a: unknown[]) => unknown>;
    const original = target[method]!;
    target[method] = function (this: unknown, ...args: unknown[]) {
      const [c0, begun] = [cpuNow(), window];
      const add = () => {
        if (begun === window) totals.set(phase, (totals.get(phase) ?? 0) + cpuNow() - c0);
      };
      const r = original.apply(this, args);
      if (r instanceof Promise) r.then(add, add);
      else add();
      return r;
    };
    restores.push(() => (target[method] = original));
  };
  meter(Engine.prototype, "runRound", "round");
  meter(HostTracker.prototype, "gather", "gather");
  meter(Shadow.prototype, "planRound", "shadow");
  meter(Recorder.prototype, "record", "record");
  meter(StateFile.prototype, "save", "state");
  return {
    totals,
    start: () => {
      window++;
      totals.clear();
    },
    restore: () => restores.forEach((r) => r()),
  };
}

const bench: Benchmark = {
  name: "engine_cpu_pct",
  description: "% of one core the engine alone uses managing the demo cluster (its agents in a child process), shadow set and recording on, 10 s interval, after a warm-up",
  async run() {
    const seconds = Number(process.env.BENCH_ENGINE_SECONDS ?? 60);
    const warmup = Number(process.env.BENCH_ENGINE_WARMUP ?? 120);
    const warmupRounds = Number(process.env.BENCH_ENGINE_WARMUP_ROUNDS ?? 300);
    const plain = process.env.BENCH_ENGINE_PLAIN === "1";
    const embedded = process.env.BENCH_ENGINE_EMBEDDED === "1";
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-engine-cost-"));
    const agents = embedded ? null : await startHelper("demo-agents.js");
    const hosts = agents ? (JSON.parse(agents.first) as HostConfig[]) : [];
    const floor = agents ? await startHelper("facts-floor.js", hosts.map((h) => h.url)) : null;
    const config = {
      ...defaultConfig(dir),
      hosts,
      policies: [POLICIES],
      journal: join(dir, "journal.jsonl"),
      shadow: plain ? [] : [POLICIES],
      record: plain ? null : { dir: join(dir, "recording"), max_bytes: 200 * 1024 * 1024 },
    };
    // JSON lines written nowhere: the cost of building every log line, not of a terminal.
    const log = pino({ level: "info", base: { name: "vmpolicy" } }, { write: () => undefined });
    const metrics = new EngineMetrics({ processMetrics: true });
    const engine = new Engine({ config, log });
    metrics.setStatusSource(() => engine.status());
    wireEngineMetrics(engine.events, metrics);
    let rounds = 0;
    engine.events.on("round", () => rounds++);
    const api = await startHttpApi(engine, { listen: "127.0.0.1:0", metrics, logger: log, dashboard: engineDashboard(engine) });
    const phases = meterPhases();
    try {
      await engine.start();
      // Rounds back to back first: the engine's code reaches the JIT tiers a long-running engine's has.
      for (let i = 0; i < warmupRounds; i++) await engine.runRound();
      await sleep(warmup * 1000);
      const profile = process.env.BENCH_ENGINE_PROFILE;
      const session = profile ? new Session() : null;
      if (session) {
        session.connect();
        await session.post("Profiler.enable");
        await session.post("Profiler.start");
      }
      phases.start();
      const [c0, a0, f0, r0, t0] = [process.cpuUsage(), (await agents?.cpu()) ?? 0, (await floor?.cpu()) ?? 0, rounds, performance.now()];
      await sleep(seconds * 1000);
      const [cpu, a1, f1, t1] = [process.cpuUsage(c0), (await agents?.cpu()) ?? 0, (await floor?.cpu()) ?? 0, performance.now()];
      const per = Object.fromEntries(phases.totals);
      if (session && profile) {
        const { profile: data } = await session.post("Profiler.stop");
        writeFileSync(profile, JSON.stringify(data));
        session.disconnect();
      }
      const wall = (t1 - t0) / 1000;
      const used = (cpu.user + cpu.system) / 1000;
      const n = Math.max(1, rounds - r0);
      const ms = (us: number | undefined) => round((us ?? 0) / 1000 / n, 2);
      const inRound = (per.round ?? 0) - (per.gather ?? 0) - (per.shadow ?? 0) - (per.record ?? 0) - (per.state ?? 0);
      return {
        engine_cpu_pct: round(used / wall / 10, 4),
        cpu_ms_per_round: round(used / n, 2),
        agents_cpu_pct: agents ? round((a1 - a0) / 1000 / wall / 10, 4) : "in-process",
        floor_cpu_pct: floor ? round((f1 - f0) / 1000 / wall / 10, 4) : "not measured",
        rounds: rounds - r0,
        warmup_rounds: warmupRounds,
        seconds: round(wall, 1),
        shadow_rounds: engine.status().shadow?.rounds_compared ?? 0,
        phases_ms_per_round: {
          gather: ms(per.gather),
          shadow: ms(per.shadow),
          record: ms(per.record),
          state: ms(per.state),
          rest_of_round: ms(inRound),
          between_rounds: round(used / n - (per.round ?? 0) / 1000 / n, 2),
        },
      };
    } finally {
      phases.restore();
      await api.close();
      await engine.stop();
      await floor?.stop();
      await agents?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
