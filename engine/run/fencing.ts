/**
 * Fencing (SPEC 5): before the VMs of a lost host are restarted elsewhere,
 * the host must be known to be off, or two copies of one VM would write to
 * the same disk. A host counts as fenced once the configured `fence`
 * command exited 0 for it or an operator confirmed it; the flag clears as
 * soon as the host answers again. The command runs once when a host goes
 * down and is retried with exponential backoff while it fails.
 */
import { execFile } from "node:child_process";
import type { Logger } from "pino";

export interface FencerOptions {
  /** argv with `{host}` placeholders; null: only an operator can fence. */
  readonly command: readonly string[] | null;
  readonly timeoutMs: number;
  readonly log: Logger;
  /** First retry delay; doubles per failure up to `retryMaxMs`. */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Called whenever a host becomes fenced (by command or operator). */
  readonly onFenced?: (host: string, by: "command" | "operator") => void;
}

interface HostFence {
  fenced: boolean;
  /** Bumped when the host comes back, so a late result of an old attempt is ignored. */
  epoch: number;
  running: boolean;
  attempts: number;
  timer: NodeJS.Timeout | null;
}

/** The result of one run of the fence command. */
export interface FenceRun {
  readonly ok: boolean;
  readonly detail: string;
}

/** Runs the fence command for one host: exit 0 within the timeout is success. */
export function runFenceCommand(command: readonly string[], host: string, timeoutMs: number): Promise<FenceRun> {
  const argv = command.map((a) => a.replaceAll("{host}", host));
  return new Promise((resolve) => {
    execFile(
      argv[0]!,
      argv.slice(1),
      { timeout: timeoutMs, killSignal: "SIGKILL", env: { ...process.env, VMPOLICY_HOST: host }, maxBuffer: 64 * 1024 },
      (error, stdout, stderr) => {
        const output = `${stderr}${stdout}`.trim().slice(0, 500);
        if (!error) return resolve({ ok: true, detail: output });
        const e = error as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
        const why = e.killed ? `timed out after ${timeoutMs} ms` : typeof e.code === "number" ? `exit code ${e.code}` : e.message;
        resolve({ ok: false, detail: output ? `${why}: ${output}` : why });
      },
    );
  });
}

/** Tracks which down hosts are fenced and drives the fence command. */
export class Fencer {
  private readonly hosts = new Map<string, HostFence>();
  private stopped = false;

  constructor(private readonly options: FencerOptions) {}

  private entry(host: string): HostFence {
    let e = this.hosts.get(host);
    if (!e) {
      e = { fenced: false, epoch: 0, running: false, attempts: 0, timer: null };
      this.hosts.set(host, e);
    }
    return e;
  }

  /** The host was declared down: fence it once (no-op if fenced or already trying). */
  hostDown(host: string): void {
    const e = this.entry(host);
    if (e.fenced || e.running || e.timer !== null || this.options.command === null || this.stopped) return;
    void this.attempt(host, e.epoch);
  }

  /** The host answers again: it is up, no longer fenced, and pending retries stop. */
  hostUp(host: string): void {
    const e = this.hosts.get(host);
    if (!e) return;
    if (e.timer) clearTimeout(e.timer);
    e.timer = null;
    e.fenced = false;
    e.attempts = 0;
    e.epoch++;
  }

  /** An operator confirmed the host is powered off. */
  confirm(host: string): void {
    const e = this.entry(host);
    if (e.timer) clearTimeout(e.timer);
    e.timer = null;
    if (!e.fenced) {
      e.fenced = true;
      this.options.log.warn({ host }, `host ${host} fenced by operator confirmation`);
      this.options.onFenced?.(host, "operator");
    }
  }

  /**
   * A fence remembered from before an engine restart (the state file): the
   * host is still down and was powered off, so it counts as fenced without
   * running the command again.
   */
  restore(host: string): void {
    const e = this.entry(host);
    if (e.fenced) return;
    e.fenced = true;
    this.options.log.warn({ host }, `host ${host} is still fenced (remembered from before the restart)`);
  }

  isFenced(host: string): boolean {
    return this.hosts.get(host)?.fenced ?? false;
  }

  /** The fenced hosts, for `PlanSettings.fenced`. */
  fencedSet(): Set<string> {
    return new Set([...this.hosts].filter(([, e]) => e.fenced).map(([h]) => h));
  }

  /** Cancels retries; a command already running finishes but its result is dropped. */
  stop(): void {
    this.stopped = true;
    for (const e of this.hosts.values()) {
      if (e.timer) clearTimeout(e.timer);
      e.timer = null;
      e.epoch++;
    }
  }

  private async attempt(host: string, epoch: number): Promise<void> {
    const e = this.entry(host);
    const command = this.options.command!;
    e.running = true;
    e.attempts++;
    const log = this.options.log;
    log.warn({ host, attempt: e.attempts }, `fencing host ${host}: ${command.map((a) => a.replaceAll("{host}", host)).join(" ")}`);
    const result = await runFenceCommand(command, host, this.options.timeoutMs);
    e.running = false;
    if (this.stopped || e.epoch !== epoch) {
      log.info({ host, ok: result.ok }, `fence result for ${host} ignored: the host came back or the engine stopped`);
      return;
    }
    if (e.fenced) return; // an operator confirmed meanwhile
    if (result.ok) {
      e.fenced = true;
      e.attempts = 0;
      log.warn({ host }, `host ${host} fenced by the fence command`);
      this.options.onFenced?.(host, "command");
      return;
    }
    const base = this.options.retryBaseMs ?? 5000;
    const delay = Math.min(base * 2 ** (e.attempts - 1), this.options.retryMaxMs ?? 300_000);
    log.error({ host, attempt: e.attempts, retry_in_ms: delay }, `fence command for ${host} failed (${result.detail}); retrying in ${delay} ms`);
    e.timer = setTimeout(() => {
      e.timer = null;
      if (!this.stopped && e.epoch === epoch && !e.fenced) void this.attempt(host, epoch);
    }, delay);
    e.timer.unref();
  }
}
