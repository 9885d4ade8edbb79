/**
 * `engine_cpu_pct`: the engine's own CPU on the embedded demo cluster, in
 * this process (issue 14: with a shadow set planned every round the engine
 * must still cost ≤ 0.01 % of a core). Built as `vmpolicy run` builds it
 * with no config — the engine, the two in-process demo agents, the metrics
 * with the process collectors, the HTTP API listening (not scraped), JSON
 * log lines (written nowhere) — plus a shadow set (the default policies)
 * and recording on, at the default 10 s interval.
 *
 * After a warm-up (JIT and start-up garbage cost more than the steady state
 * for about half a minute) `process.cpuUsage()` is read, and again after
 * the measured time. Environment: `BENCH_ENGINE_SECONDS` (default 60),
 * `BENCH_ENGINE_WARMUP` (default 30); `BENCH_ENGINE_PLAIN=1` leaves the
 * shadow set and recording off (the engine as it was before them);
 * `BENCH_ENGINE_PROFILE=FILE.cpuprofile` writes a CPU profile of the
 * measured window only (open it in Chrome's DevTools). `bench/engine.ts` measures the same
 * as separate processes, over longer runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pino } from "pino";
import { EngineMetrics, wireEngineMetrics } from "../engine/http/metrics.js";
import { startHttpApi } from "../engine/http/server.js";
import { defaultConfig } from "../engine/run/config.js";
import { Engine } from "../engine/run/engine.js";
import { round, type Benchmark } from "./api.js";

const POLICIES = resolve(import.meta.dirname, "../../policies");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const bench: Benchmark = {
  name: "engine_cpu_pct",
  description: "% of one core the engine uses on the embedded demo cluster, shadow set and recording on, 10 s interval (in-process, after a warm-up)",
  async run() {
    const seconds = Number(process.env.BENCH_ENGINE_SECONDS ?? 60);
    const warmup = Number(process.env.BENCH_ENGINE_WARMUP ?? 30);
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-engine-cost-"));
    const plain = process.env.BENCH_ENGINE_PLAIN === "1";
    const config = {
      ...defaultConfig(dir),
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
    const api = await startHttpApi(engine, { listen: "127.0.0.1:0", metrics, logger: log });
    try {
      await engine.start();
      await sleep(warmup * 1000);
      const profile = process.env.BENCH_ENGINE_PROFILE;
      const session = profile ? new Session() : null;
      if (session) {
        session.connect();
        await session.post("Profiler.enable");
        await session.post("Profiler.start");
      }
      const [c0, r0, t0] = [process.cpuUsage(), rounds, performance.now()];
      await sleep(seconds * 1000);
      const cpu = process.cpuUsage(c0);
      if (session && profile) {
        const { profile: data } = await session.post("Profiler.stop");
        writeFileSync(profile, JSON.stringify(data));
        session.disconnect();
      }
      const wall = (performance.now() - t0) / 1000;
      const used = (cpu.user + cpu.system) / 1e6;
      const shadow = engine.status().shadow;
      return {
        engine_cpu_pct: round((used / wall) * 100, 4),
        cpu_ms_per_round: round((used * 1000) / Math.max(1, rounds - r0), 2),
        rounds: rounds - r0,
        seconds: round(wall, 1),
        shadow_rounds: shadow?.rounds_compared ?? 0,
      };
    } finally {
      await api.close();
      await engine.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
