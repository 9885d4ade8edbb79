/**
 * Runs the hypervisor's command-line tools (`xl`, `xentop`, `virsh`) for the
 * `xl` and `virsh` drivers: one child process per call, a hard timeout, the
 * C locale (so labels such as `virsh nodeinfo`'s are never translated), and
 * failures as `CommandError`s whose message names the command and says what
 * went wrong (not installed, timed out, exited non-zero with its stderr).
 * Injectable (`CommandRunner`) so a driver can be given another runner.
 */
import { spawn } from "node:child_process";

/** How a command ended: any exit code resolves; only "could not run" and timeouts reject. */
export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** The child (and everything it started) is killed after this long. */
  readonly timeoutMs: number;
  /** Extra environment; the rest is inherited, with `LC_ALL=C`. */
  readonly env?: Readonly<Record<string, string>>;
}

/** The shape a driver expects of a runner; `runCommand` is the real one. */
export type CommandRunner = (argv: readonly string[], options: RunOptions) => Promise<CommandResult>;

export type CommandErrorKind = "missing" | "timeout" | "failed" | "spawn";

/** A command that could not run, ran too long, or exited non-zero (`runChecked`). */
export class CommandError extends Error {
  constructor(
    readonly kind: CommandErrorKind,
    readonly argv: readonly string[],
    message: string,
    readonly result?: CommandResult,
  ) {
    super(message);
    this.name = "CommandError";
  }
}

/** Keeps only the last bytes of stderr: a failing migration can print a lot of progress first. */
const STDERR_KEEP = 64 * 1024;
const STDOUT_MAX = 32 * 1024 * 1024;
/** After SIGTERM, how long a child has before SIGKILL. */
const KILL_GRACE_MS = 1000;

/** `argv` as one would type it, for messages (arguments with spaces quoted). */
export function showCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

/**
 * The useful part of a tool's stderr for an error message: non-empty lines,
 * progress redraws (`\r`) reduced to their last state, joined with "; " and
 * cut to the last `max` characters (the cause is usually at the end).
 */
export function stderrSummary(stderr: string, max = 600): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.slice(l.lastIndexOf("\r") + 1).trim())
    .filter((l) => l !== "");
  const text = lines.join("; ");
  return text.length > max ? `…${text.slice(text.length - max)}` : text;
}

/**
 * Runs `argv` (no shell) and resolves with its exit status and output. It
 * rejects with a `CommandError` when the binary is missing or not
 * executable, or when the command outlives `timeoutMs`: then its whole
 * process group is killed, so a hung `ssh` below `xl migrate` goes too.
 */
export const runCommand: CommandRunner = (argv, options) =>
  new Promise<CommandResult>((resolve, reject) => {
    const [bin, ...args] = argv;
    if (!bin) {
      reject(new CommandError("spawn", argv, "empty command"));
      return;
    }
    const shown = showCommand(argv);
    let child;
    try {
      // detached: its own process group, so a timeout can kill the children it started as well.
      child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], detached: true, env: { ...process.env, LC_ALL: "C", ...(options.env ?? {}) } });
    } catch (e) {
      reject(new CommandError("spawn", argv, `cannot run ${shown}: ${(e as Error).message}`));
      return;
    }
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = "";
    let settled = false;
    let timedOut = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    };
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      clearTimeout(drainTimer);
      f();
    };
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup("SIGTERM");
      killTimer = setTimeout(() => killGroup("SIGKILL"), KILL_GRACE_MS);
      killTimer.unref();
    }, options.timeoutMs);
    child.stdout.on("data", (d: Buffer) => {
      if (outBytes < STDOUT_MAX) out.push(d);
      outBytes += d.length;
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString("utf8");
      if (err.length > STDERR_KEEP * 2) err = err.slice(err.length - STDERR_KEEP);
    });
    const done = () =>
      finish(() => {
        if (timedOut) {
          const tail = stderrSummary(err, 300);
          reject(new CommandError("timeout", argv, `${shown} did not finish within ${options.timeoutMs} ms and was killed${tail ? ` (stderr: ${tail})` : ""}`));
          return;
        }
        resolve({ code: exit?.code ?? null, signal: exit?.signal ?? null, stdout: Buffer.concat(out).toString("utf8"), stderr: err });
      });
    child.on("error", (e: NodeJS.ErrnoException) => {
      finish(() => {
        const why = e.code === "ENOENT" ? "no such command" : e.code === "EACCES" ? "permission denied (not executable?)" : e.message;
        reject(new CommandError(e.code === "ENOENT" || e.code === "EACCES" ? "missing" : "spawn", argv, `cannot run ${bin}: ${why}`));
      });
    });
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      // A grandchild that kept our pipes open must not hold the answer back.
      drainTimer = setTimeout(done, 500);
      drainTimer.unref();
    });
    child.on("close", done);
  });

/** How a command that did not exit 0 ended, with the end of its stderr: `xl migrate … exited with code 1: ssh: …`. */
export function failureMessage(argv: readonly string[], r: CommandResult): string {
  const how = r.code === null ? `was killed by ${r.signal ?? "a signal"}` : `exited with code ${r.code}`;
  const tail = stderrSummary(r.stderr);
  return `${showCommand(argv)} ${how}${tail ? `: ${tail}` : " (no message on stderr)"}`;
}

/** Runs `argv` and resolves with its stdout; a non-zero exit rejects with a `CommandError` quoting stderr. */
export async function runChecked(run: CommandRunner, argv: readonly string[], options: RunOptions): Promise<string> {
  const r = await run(argv, options);
  if (r.code !== 0) throw new CommandError("failed", argv, failureMessage(argv, r), r);
  return r.stdout;
}
