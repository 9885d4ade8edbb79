/**
 * Process helpers for the engine's end-to-end tests: spawn the built CLI
 * (`npm run build` first) as `vmpolicy run` and `vmpolicy agent`
 * processes, wait for the lines that say they listen, collect their output,
 * and kill every process a test started when it ends.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";

export const CLI = resolve(import.meta.dirname, "../../dist/bin/vmpolicy.js");

const children: ChildProcess[] = [];

/** Kills (SIGKILL) every process still running; call from afterEach. */
export function killAll(): void {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}

export interface Proc {
  readonly child: ChildProcess;
  /** Everything printed so far (stdout then stderr interleaved by line). */
  output(): string;
  /** Resolves with the first match of `re` in the output (already printed or to come). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves with the exit code once the process has exited. */
  exited(): Promise<number | null>;
}

/** Spawns `node dist/bin/vmpolicy.js ARGS…` with its output collected. */
export function spawnCli(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    cwd: options.cwd ?? resolve(import.meta.dirname, "../.."),
    env: { ...process.env, NO_COLOR: "1", ...options.env },
  });
  children.push(child);
  let text = "";
  const waiters = new Set<() => void>();
  const onLine = (line: string) => {
    text += `${line}\n`;
    for (const w of waiters) w();
  };
  createInterface({ input: child.stdout! }).on("line", onLine);
  createInterface({ input: child.stderr! }).on("line", onLine);
  const exit = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  return {
    child,
    output: () => text,
    exited: () => exit,
    waitFor(re, timeoutMs = 15_000) {
      return new Promise((res, rej) => {
        const check = () => {
          const m = re.exec(text);
          if (!m) return false;
          cleanup();
          res(m);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          rej(new Error(`timed out waiting for ${re} in the output of vmpolicy ${args.join(" ")}:\n${text}`));
        }, timeoutMs);
        const waiter = () => void check();
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        waiters.add(waiter);
        void exit.then(() => setTimeout(() => check() || (cleanup(), rej(new Error(`vmpolicy ${args.join(" ")} exited before printing ${re}:\n${text}`))), 50));
        check();
      });
    },
  };
}

/** `vmpolicy run ARGS…`, resolved once its API listens. */
export async function startEngine(args: readonly string[], options: { cwd?: string } = {}): Promise<Proc & { url: string }> {
  const p = spawnCli(["run", "--listen", "127.0.0.1:0", ...args], options);
  const m = await p.waitFor(/API listening on (http:\/\/127\.0\.0\.1:\d+)/);
  await p.waitFor(/engine started: /);
  return Object.assign(p, { url: m[1]! });
}

/** `vmpolicy agent --driver sim ARGS…`, resolved with its URL once it listens. */
export async function startAgentProcess(name: string, args: readonly string[]): Promise<Proc & { url: string; name: string }> {
  const p = spawnCli(["agent", "--driver", "sim", "--name", name, "--listen", "127.0.0.1:0", ...args]);
  const m = await p.waitFor(new RegExp(`"msg":"agent ${name} \\(sim\\) listening on (http://[^"]+)"`));
  return Object.assign(p, { url: m[1]!, name });
}

export interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** One HTTP request with an optional bearer token and JSON body. */
export async function http(method: string, url: string, options: { token?: string; body?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* Prometheus text stays a string */
  }
  return { status: res.status, json };
}

/** Polls `probe` until it returns a value other than undefined. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
