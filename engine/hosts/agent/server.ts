/**
 * `startAgent`: the host agent's web service (SPEC 6) on fastify. It checks
 * the listen address (loopback only without a token), guards every route but
 * `/healthz` with the bearer token (without one, with the engine's browser
 * guard: foreign `Host` or `Origin` is 403), validates bodies by schema, and answers
 * every error as `{ error }` JSON with a 4xx/5xx status, never a stack trace.
 * The `agent` command, the engine's embedded demo cluster and the tests all
 * start agents through this one function.
 */
import { timingSafeEqual } from "node:crypto";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import type { AddressInfo } from "node:net";
import { checkListen, parseListen } from "../../listen.js";
import { type Driver, DriverError } from "../drivers/contract.js";
import { registerBrowserGuard } from "../../http/browser-guard.js";
import { bodyProblem, quotePath, registerJsonBodyParser, routerErrors } from "../../http/errors.js";
import { errorBody, registerAgentRoutes } from "./routes.js";
import { idParams } from "./schemas.js";

export interface AgentOptions {
  /** The host's name; defaults to the driver's and must match it. */
  readonly name?: string;
  readonly driver: Driver;
  /** `HOST:PORT` (default `127.0.0.1:7071`); port 0 picks a free port. */
  readonly listen?: string;
  /** When set, every route but `/healthz` needs `Authorization: Bearer TOKEN`. */
  readonly token?: string;
  /** A pino/fastify logger, `true` for fastify's default (JSON lines on stdout), or nothing for silence. */
  readonly logger?: FastifyBaseLogger | boolean;
}

export interface RunningAgent {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly name: string;
  readonly driver: Driver;
  /** Stops the driver's work in flight, then the server. */
  close(): Promise<void>;
}

/** Default agent address (SPEC 6 names no port; the engine's is 7070). */
export const DEFAULT_AGENT_LISTEN = "127.0.0.1:7071";

/** Starts an agent; rejects with a clear message on a bad or refused listen address. */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { driver } = options;
  const name = options.name ?? driver.name;
  if (name !== driver.name) throw new Error(`agent name ${name} differs from its driver's host name ${driver.name}`);
  const listen = parseListen(options.listen ?? DEFAULT_AGENT_LISTEN);
  if (!listen.ok) throw new Error(listen.message);
  const token = options.token === "" ? undefined : options.token;
  const refusal = checkListen(listen.host, token !== undefined);
  if (refusal) throw new Error(refusal);

  const app = buildAgentApp(driver, token, options.logger, listen.host);
  try {
    await app.listen({ host: listen.host, port: listen.port });
  } catch (e) {
    await app.close();
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "EADDRINUSE" ? "the address is in use" : err.code === "EADDRNOTAVAIL" ? "no such local address" : err.message;
    throw new Error(`agent ${name} cannot listen on ${listen.host}:${listen.port}: ${why}`);
  }
  const addr = app.server.address() as AddressInfo;
  const host = listen.host === "0.0.0.0" ? "127.0.0.1" : listen.host === "::" ? "::1" : listen.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${addr.port}`;
  driver.bind({
    url,
    token,
    log: (level, message, fields) => app.log[level](fields ?? {}, message),
  });
  let closing: Promise<void> | undefined;
  return {
    url,
    name,
    driver,
    // The server closes even when the driver's close fails (which is still reported).
    close: () => (closing ??= driver.close().finally(() => app.close())),
  };
}

/**
 * The router's limit on a path parameter: the longest id the schema accepts
 * (fastify's default, 100, would refuse longer valid ids before the schema
 * could); anything longer is answered by `routerErrors`.
 */
const MAX_PARAM_LENGTH = idParams.properties.id.maxLength;

/**
 * The fastify app without listening (the routes, auth, the browser guard
 * and error handling); exported for `inject` tests. `listenHost` is the
 * address a request's `Host` may name besides IP addresses and `localhost`.
 */
export function buildAgentApp(driver: Driver, token: string | undefined, logger?: FastifyBaseLogger | boolean, listenHost = "127.0.0.1"): FastifyInstance {
  const app = Fastify({
    ...(typeof logger === "object" ? { loggerInstance: logger } : { logger: logger ?? false }),
    bodyLimit: 1024 * 1024,
    // The engine polls every few seconds: log actions and errors, not every request.
    logController: new LogController({ disableRequestLogging: true }),
    // Refuse unknown fields and wrong types instead of dropping or coercing them.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    schemaErrorFormatter: (errors, dataVar) => {
      const e = errors[0]!;
      const path = `${dataVar}${e.instancePath}`;
      if (e.keyword === "additionalProperties") return new Error(`${path} has an unknown field "${String((e.params as { additionalProperty?: unknown }).additionalProperty)}"`);
      if (e.keyword === "pattern") return new Error(`${path} must be a name of letters, digits, "_", "-", "." (or an http:// URL for a url field)`);
      return new Error(`${path} ${e.message ?? "is invalid"}`);
    },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: routerErrors(MAX_PARAM_LENGTH, errorBody),
  }) as unknown as FastifyInstance;
  // The engine's parser and wording for bodies: bad JSON says where, an empty body is no body.
  registerJsonBodyParser(app);

  if (token !== undefined) {
    const expected = Buffer.from(`Bearer ${token}`);
    app.addHook("onRequest", async (req, reply) => {
      if (req.url === "/healthz" || req.url.startsWith("/healthz?")) return;
      const got = Buffer.from(req.headers.authorization ?? "");
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
        reply.header("www-authenticate", 'Bearer realm="vmpolicy-agent"');
        return reply.code(401).send(errorBody(req.headers.authorization ? "wrong bearer token" : "missing Authorization: Bearer TOKEN header"));
      }
    });
  }

  // Without a token, a web page on this machine could otherwise move VMs (a simple POST, or DNS rebinding): the engine's guard.
  registerBrowserGuard(app, listenHost, token !== undefined, { service: "agent", errorBody });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof DriverError) return reply.code(err.status).send(errorBody(err.message));
    if (err.validation) return reply.code(400).send(errorBody(`bad request to ${req.method} ${req.routeOptions.url ?? req.url}: ${err.message}`));
    // Every agent route that takes a body needs one, so the 415 does not offer "no body".
    const problem = bodyProblem(err, req, { bodyOptional: false });
    if (problem) return reply.code(problem.status).send(errorBody(problem.message));
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return reply.code(status).send(errorBody(err.message));
    req.log.error({ err }, "agent request failed");
    return reply.code(500).send(errorBody(`internal error in agent ${driver.name} (${err.message}); see the agent's log`));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody(`no route ${req.method} ${quotePath(req.url)} on this agent`)));

  registerAgentRoutes(app, driver);
  return app;
}
