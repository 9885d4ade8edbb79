/**
 * The engine's own CPU use while it manages the thesis testbed (the thesis
 * measured 0.06–0.09% of a host for its engine). Run after `npm run build`:
 *
 *   node dist/bench/engine.js [SECONDS=120] [WARMUP=60]
 *
 * Two set-ups, each at the default 10 s interval:
 * - `embedded`: `vmpolicy run` with no config, as `npm start` runs it: the
 *   engine and the two simulated demo agents in one process;
 * - `engine only`: the same testbed as two `vmpolicy agent` processes, so
 *   the engine process holds nothing but the engine.
 * The engine process's CPU time is read from its own `/metrics`
 * (`vmpolicy_process_cpu_seconds_total`, i.e. `process.cpuUsage()`, µs
 * resolution) after the warm-up and again SECONDS later; the two scrapes
 * are included in the cost. Reported as % of one core and % of a 4-CPU
 * host (the thesis testbed's capacity). The warm-up matters: for about
 * half a minute after start any Node server (a bare fastify app included)
 * spends ~2 ms/s on JIT compilation and GC of start-up garbage, far more
 * than the engine's steady state.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

const CLI = resolve(import.meta.dirname, "../bin/vmpolicy.js");
const POLICIES = resolve(import.meta.dirname, "../../policies");
const seconds = Number(process.argv[2] ?? 120);
const warmup = Number(process.argv[3] ?? 60);
const HOST_CPUS = 4;
const children: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function start(args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, NO_COLOR: "1" } });
  // The output is read to the end (and dropped) so a full pipe never blocks the child.
  children.push(child);
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`vmpolicy ${args.join(" ")} did not become ready`)), 20_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = ready.exec(line);
      if (m) {
        clearTimeout(timer);
        res({ child, match: m });
      }
    });
  });
}

async function cpuSeconds(api: string): Promise<number> {
  const text = await (await fetch(`${api}/metrics`)).text();
  const m = /^vmpolicy_process_cpu_seconds_total ([0-9.e+-]+)$/m.exec(text);
  if (!m) throw new Error("no vmpolicy_process_cpu_seconds_total in /metrics");
  return Number(m[1]);
}

async function rounds(api: string): Promise<number> {
  const text = await (await fetch(`${api}/metrics`)).text();
  return [...text.matchAll(/^vmpolicy_rounds_total\{executed="(?:true|false)"\} (\d+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
}

async function measure(label: string, args: string[]): Promise<void> {
  // Logging stays on (a line per round and per migration), as an operator runs it.
  const { child, match } = await start(["run", "--listen", "127.0.0.1:0", ...args], /API listening on (http:\/\/127\.0\.0\.1:\d+)/);
  const api = match[1]!;
  await sleep(warmup * 1000);
  const [c0, r0, t0] = [await cpuSeconds(api), await rounds(api), performance.now()];
  await sleep(seconds * 1000);
  const [c1, r1, t1] = [await cpuSeconds(api), await rounds(api), performance.now()];
  const wall = (t1 - t0) / 1000;
  const used = c1 - c0;
  const core = (used / wall) * 100;
  console.log(
    `${label}: ${(used * 1000).toFixed(0)} ms CPU in ${wall.toFixed(1)} s (${r1 - r0} rounds) = ${core.toFixed(3)}% of one core = ${(core / HOST_CPUS).toFixed(3)}% of a ${HOST_CPUS}-CPU host`,
  );
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
}

const dir = mkdtempSync(join(tmpdir(), "vmpolicy-engine-cpu-"));
try {
  console.log(`engine CPU over ${seconds} s after a ${warmup} s warm-up, default interval (10 s)`);
  await measure("embedded (engine + demo agents in one process)", []);
  const agent = (name: string, vms: string) =>
    start(["agent", "--driver", "sim", "--name", name, "--listen", "127.0.0.1:0", "--cpus", "4", "--mem", "16384", "--vms", vms, "--storage", join(dir, "storage")], /listening on (http:\/\/[0-9.:]+)/).then(
      (a) => ({ name, url: a.match[1]! }),
    );
  const hosts = [await agent("xen1", "vm1:1024,vm2:1024,vm3:1024,vm4:1024,vm5:1024,vm6:1024"), await agent("xen2", "vm7:1024,vm8:1024,vm9:1024:1:idle")];
  const config = join(dir, "engine.json");
  writeFileSync(config, JSON.stringify({ hosts, journal: join(dir, "journal.jsonl"), policies: [POLICIES] }));
  await measure("engine only (agents in their own processes)", ["--config", config]);
} finally {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
}
