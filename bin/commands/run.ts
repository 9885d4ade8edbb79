/**
 * `vmpolicy run`: the engine (SPEC 5). Loads the config (the file, then the
 * flags over it, then the token), starts the HTTP API (refusing a
 * non-loopback address without a token, and a busy port, before anything
 * else starts), then the engine — which starts the embedded demo cluster
 * when no hosts are configured. SIGHUP reloads the policies; SIGINT and
 * SIGTERM stop gracefully (API, engine, journal, demo agents). Exit codes:
 * 2 for a bad config, flag or listen address (the operator must change
 * something), 1 when the engine cannot start (policy errors, busy port,
 * unreadable journal).
 */
import type { Command } from "commander";
import pc from "picocolors";
import { pino, type Logger } from "pino";
import { loadEngineConfig, type EngineConfig } from "../../engine/run/config.js";
import { Engine, EngineStartError } from "../../engine/run/engine.js";
import { HttpApiStartError, startHttpApi, type RunningHttpApi } from "../../engine/http/server.js";
import { checkListen, parseListen } from "../../engine/listen.js";
import { engineDashboard } from "../../engine/run/cluster-view.js";
import { EngineMetrics, wireEngineMetrics } from "../../engine/http/metrics.js";

interface RunFlags {
  config?: string;
  listen?: string;
  policies?: string[];
  interval?: string;
  dryRun?: boolean;
  tokenFile?: string;
  record?: string | false;
  shadow?: string[];
  logJson?: boolean;
  quiet?: boolean;
}

const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO ", 40: "WARN ", 50: "ERROR", 60: "FATAL" };

/**
 * pino-pretty is not a dependency, so terminal output goes through this
 * small formatter: one short line per record (`12:00:01.234 INFO  round 3:
 * …`), coloured only on a terminal and never with NO_COLOR. `--log-json`
 * keeps pino's JSON lines for log shippers.
 */
function lineStream(out: NodeJS.WriteStream): { write(line: string): void } {
  const c = pc.createColors(Boolean(out.isTTY) && !("NO_COLOR" in process.env));
  const paint: Record<number, (s: string) => string> = { 40: c.yellow, 50: c.red, 60: c.red };
  return {
    write(line: string) {
      let rec: { level?: number; time?: number; msg?: string; component?: string; host?: string; err?: { message?: string } };
      try {
        rec = JSON.parse(line);
      } catch {
        out.write(line);
        return;
      }
      const t = new Date(rec.time ?? Date.now()).toISOString().slice(11, 23);
      const level = LEVELS[rec.level ?? 30] ?? "INFO ";
      // The demo agents log through the engine's logger; name the host so their lines are told apart.
      const who = rec.component === "demo-agent" && rec.host ? `[${rec.host}] ` : "";
      const msg = rec.msg ?? rec.err?.message ?? "";
      out.write(`${c.dim(t)} ${(paint[rec.level ?? 30] ?? ((s: string) => s))(level)} ${who}${msg}\n`);
    },
  };
}

function makeLogger(flags: RunFlags): Logger {
  const level = flags.quiet ? "warn" : "info";
  return flags.logJson ? pino({ level, base: { name: "vmpolicy" } }) : pino({ level, base: null }, lineStream(process.stdout));
}

function fail(code: 1 | 2, lines: readonly string[]): never {
  for (const l of lines) process.stderr.write(`vmpolicy run: ${l}\n`);
  process.exit(code);
}

async function loadConfig(flags: RunFlags): Promise<EngineConfig> {
  const r = await loadEngineConfig({
    ...(flags.config !== undefined ? { file: flags.config } : {}),
    flags: {
      ...(flags.listen !== undefined ? { listen: flags.listen } : {}),
      ...(flags.policies !== undefined ? { policies: flags.policies } : {}),
      ...(flags.interval !== undefined ? { interval: flags.interval } : {}),
      ...(flags.dryRun ? { dryRun: true } : {}),
      ...(flags.tokenFile !== undefined ? { tokenFile: flags.tokenFile } : {}),
      ...(flags.record !== undefined ? { record: flags.record } : {}),
      ...(flags.shadow !== undefined ? { shadow: flags.shadow } : {}),
    },
  });
  if (!r.ok) fail(2, r.errors);
  // Refuse an open non-loopback API before anything starts (the demo cluster, the journal).
  const listen = parseListen(r.config.listen);
  if (!listen.ok) fail(2, [`listen: ${listen.message}`]);
  const refusal = checkListen(listen.host, r.config.token !== null);
  if (refusal) fail(2, [refusal]);
  return r.config;
}

async function runEngine(flags: RunFlags): Promise<void> {
  const config = await loadConfig(flags);
  const log = makeLogger(flags);
  const metrics = new EngineMetrics({ processMetrics: true });
  const engine = new Engine({ config, log });
  metrics.setStatusSource(() => engine.status());
  wireEngineMetrics(engine.events, metrics);

  let api: RunningHttpApi;
  try {
    api = await startHttpApi(engine, {
      listen: config.listen,
      metrics,
      logger: log.child({ component: "api" }),
      dashboard: engineDashboard(engine),
      ...(config.token !== null ? { token: config.token } : {}),
    });
  } catch (e) {
    if (e instanceof HttpApiStartError) fail(e.reason === "usage" ? 2 : 1, [e.message]);
    throw e;
  }
  log.info(
    { url: api.url },
    `API listening on ${api.url} (dashboard: ${api.url}/; GET /status /plan /decisions /metrics; ${config.token !== null ? "changes need the bearer token" : "no token: loopback only"})`,
  );

  // Signals are handled before the engine starts, so Ctrl-C during a slow start (reconciling
  // with agents that do not answer) still stops cleanly.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn(`${signal} again: exiting without waiting`);
      process.exit(130);
    }
    stopping = true;
    log.info(`${signal}: stopping (a second ${signal} exits at once)`);
    // Unfinished actions stay open in the journal; the next start reconciles them.
    const forced = setTimeout(() => {
      log.error("did not stop within 15 s; exiting");
      process.exit(1);
    }, 15_000);
    forced.unref();
    void Promise.allSettled([api.close(), engine.stop()]).then((results) => {
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      for (const r of failed) log.error(`while stopping: ${(r.reason as Error).message}`);
      process.exit(failed.length > 0 ? 1 : 0);
    });
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGHUP", () => {
    log.info("SIGHUP: reloading the policies");
    // The engine logs the outcome (loaded, or the diagnostics and that the old set stays).
    engine.reload().catch((e: Error) => log.warn(`SIGHUP: not reloaded: ${e.message}`));
  });

  try {
    await engine.start();
  } catch (e) {
    await api.close();
    // Anything else that stops the start (a demo agent that cannot listen, …) is a message too, not a stack trace.
    fail(1, [e instanceof EngineStartError ? e.message : `the engine could not start: ${(e as Error).message}`]);
  }
}

/** Registers `vmpolicy run`. */
export function registerRun(program: Command): void {
  program
    .command("run")
    .description("the engine: polls the host agents, plans, migrates, hot-reloads policies and serves its HTTP API; with no hosts configured it runs an embedded simulated cluster")
    .option("--config <file>", "YAML or JSON config (keys: see docs/engine.md); flags override it")
    .option("--listen <addr>", "HOST:PORT of the HTTP API (default 127.0.0.1:7070; port 0 picks a free one)")
    .option("--policies <path...>", "policy files or folders (replace the configured set; default policies/)")
    .option("--interval <duration>", "time between rounds, e.g. 10s, 1m (default 10s)")
    .option("--dry-run", "plan and report, execute nothing")
    .option("--token-file <file>", "file holding the bearer token; required to listen beyond loopback")
    .option("--record <dir>", "record every round to this folder for vmpolicy replay (default: on, beside the journal, 200 MiB)")
    .option("--no-record", "do not record rounds")
    .option("--shadow <path...>", "a shadow policy set: planned every round beside the active one, never executed (GET /plan?set=shadow)")
    .option("--log-json", "log pino JSON lines instead of one readable line per event")
    .option("--quiet", "log warnings and errors only")
    .addHelpText(
      "after",
      `
Signals: SIGHUP reloads the policies; SIGINT/SIGTERM stop gracefully.
Exit codes: 2 bad config, flag or listen address; 1 the engine cannot start.

Examples:
  vmpolicy run                                  # the embedded demo cluster, API on 127.0.0.1:7070
  vmpolicy run --config engine.yaml --dry-run
  curl -s localhost:7070/status
  curl -s -X POST -H "Authorization: Bearer $(cat token)" localhost:7070/round
`,
    )
    .action(async (flags: RunFlags) => runEngine(flags));
}
