/**
 * `startHttpApi`: the engine's HTTP API (SPEC 5) on fastify. It refuses to
 * listen beyond loopback without a token, guards every change with the
 * bearer token, validates every body and query by schema, and answers every
 * error as `{ error }` JSON. The `run` command and the tests start the API
 * through this one function; `buildHttpApp` is the same app unbound, for
 * `inject` tests.
 *
 * Room `engine/http/`: the engine's HTTP API. It serves an `EngineControl`
 * (`control.ts`) and never imports `engine/run/`, which implements it.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { AddressInfo } from "node:net";
import type { EngineControl } from "./control.js";
import { READ_METHODS, registerAuth } from "./auth.js";
import { registerBrowserGuard } from "./browser-guard.js";
import { errorBody, registerErrorHandling, routerErrors, schemaMessage } from "./errors.js";
import { registerEngineRoutes } from "./routes.js";
import { hostParams } from "./schemas.js";
import { checkListen, parseListen } from "../listen.js";
import type { EngineMetrics } from "./metrics.js";
import { registerDashboard } from "./dashboard/routes.js";
import type { DashboardSource } from "./dashboard/view.js";

export interface HttpApiOptions {
  /** `HOST:PORT`; port 0 picks a free port. */
  readonly listen: string;
  /** When set, POST/PUT need `Authorization: Bearer TOKEN`. */
  readonly token?: string;
  readonly metrics: EngineMetrics;
  /** A pino logger; changes (POST/PUT) and server errors are logged, reads are not. */
  readonly logger?: FastifyBaseLogger;
  /** The cluster and load history for the dashboard (SPEC 11); without it the page shows what `/status` knows. */
  readonly dashboard?: DashboardSource;
}

/** The running API. */
export interface RunningHttpApi {
  /** Base URL, e.g. `http://127.0.0.1:7070`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Start-up refused: a bad or non-loopback address without a token, a busy port. */
export class HttpApiStartError extends Error {
  constructor(
    message: string,
    /** `usage` for an address the operator must change; `listen` when the OS refused it. */
    readonly reason: "usage" | "listen",
  ) {
    super(message);
    this.name = "HttpApiStartError";
  }
}

/** Starts the API; rejects with `HttpApiStartError` naming the address and the reason. */
export async function startHttpApi(engine: EngineControl, options: HttpApiOptions): Promise<RunningHttpApi> {
  const listen = parseListen(options.listen);
  if (!listen.ok) throw new HttpApiStartError(listen.message, "usage");
  const token = options.token === "" ? undefined : options.token;
  const refusal = checkListen(listen.host, token !== undefined);
  if (refusal) throw new HttpApiStartError(refusal, "usage");

  const app = buildHttpApp(engine, { ...options, listenHost: listen.host, ...(token !== undefined ? { token } : {}) });
  try {
    await app.listen({ host: listen.host, port: listen.port });
  } catch (e) {
    await app.close();
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === "EADDRINUSE"
        ? "the port is already in use (another vmpolicy run? choose another with --listen)"
        : err.code === "EADDRNOTAVAIL"
          ? "no such local address"
          : err.code === "EACCES"
            ? "permission denied (ports below 1024 need privileges)"
            : err.message;
    throw new HttpApiStartError(`cannot listen on ${listen.host}:${listen.port}: ${why}`, "listen");
  }
  const port = (app.server.address() as AddressInfo).port;
  const host = listen.host === "0.0.0.0" ? "127.0.0.1" : listen.host === "::" ? "::1" : listen.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    close: () => (closing ??= app.close()),
  };
}

/**
 * The router's limit on a path parameter: the longest host name the schema
 * accepts (fastify's default, 100, would refuse longer valid names before
 * the schema could); anything longer is answered by `routerErrors`.
 */
const MAX_PARAM_LENGTH = hostParams.properties.name.maxLength;

/** The fastify app with routes, auth and error handling, not listening. */
export function buildHttpApp(engine: EngineControl, options: Omit<HttpApiOptions, "listen"> & { readonly listenHost?: string }): FastifyInstance {
  const app = Fastify({
    // fastify's own messages ("Server listening at …") at warn and above only; changes are logged below.
    ...(options.logger ? { loggerInstance: options.logger.child({}, { level: "warn" }) } : { logger: false }),
    // A status poll every few seconds must not flood the log; changes are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    // Refuse unknown fields and wrong types instead of dropping or coercing them.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    schemaErrorFormatter: (errors, dataVar) => new Error(schemaMessage(errors, dataVar)),
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: routerErrors(MAX_PARAM_LENGTH, errorBody),
  }) as unknown as FastifyInstance;

  registerAuth(app, options.token);
  registerBrowserGuard(app, options.listenHost ?? "127.0.0.1", options.token !== undefined);
  registerErrorHandling(app);
  registerEngineRoutes(app, engine, options.metrics);
  registerDashboard(app, engine, options.dashboard);
  app.addHook("onResponse", async (req, reply) => {
    if (READ_METHODS.has(req.method)) return;
    const route = req.routeOptions.url ?? req.url.split("?")[0];
    const fields = { method: req.method, url: req.url, status: reply.statusCode, from: req.ip };
    const log = options.logger ?? req.log;
    if (reply.statusCode < 400) log.info(fields, `API ${req.method} ${req.url} → ${reply.statusCode}`);
    else log.warn(fields, `API ${req.method} ${route} refused with ${reply.statusCode}`);
  });
  return app;
}
