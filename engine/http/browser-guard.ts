/**
 * Keeps web pages away from a token-less engine (and host agent, which
 * installs the same guard: there a page could move VMs). Without a token the API
 * listens on loopback only, but a browser on the same machine is on
 * loopback too: any page could `fetch("http://127.0.0.1:7070/hosts/h1/fenced",
 * { method: "POST" })` (a "simple" request, sent without a CORS preflight)
 * and confirm a fence that never happened, or use DNS rebinding to read
 * `/status` under its own name. So, when there is no token:
 * - the `Host` header must be an IP address, `localhost`, or the listen host
 *   (a rebound name is refused), and
 * - a request that changes anything must not come from another origin
 *   (`Origin` absent, as from curl and the CLI, or equal to the API's own).
 * With a token neither is needed: a page cannot attach the bearer header
 * cross-origin without a preflight the API never grants.
 */
import { isIP } from "node:net";
import type { FastifyInstance } from "fastify";
import { READ_METHODS } from "./auth.js";
import { errorBody } from "./errors.js";

/** The host part of a `Host` header (`[::1]:7070` → `::1`, `a:80` → `a`). */
function hostOf(header: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(header);
  if (v6) return v6[1]!;
  return header.replace(/:\d+$/, "");
}

/** Why a request is refused as coming from a browser page, or null; `service` names the server in the message. */
export function browserRefusal(method: string, host: string | undefined, origin: string | undefined, listenHost: string, service = "engine"): string | null {
  if (host !== undefined) {
    const h = hostOf(host.trim()).toLowerCase();
    if (isIP(h) === 0 && h !== "localhost" && h !== listenHost.toLowerCase()) {
      return `Host "${host}" is not this ${service}'s address (use ${listenHost} or an IP address; names are refused without a token to stop DNS rebinding)`;
    }
  }
  if (READ_METHODS.has(method.toUpperCase()) || origin === undefined) return null;
  if (host !== undefined && (origin === `http://${host}` || origin === `https://${host}`)) return null;
  return `cross-origin ${method} from ${origin} refused: a web page may not change the ${service} (send the request without an Origin header, or set a token)`;
}

/** Who installs the guard: the server's name in messages and its error answer. */
export interface GuardedServer {
  readonly service: string;
  readonly errorBody: (message: string) => object;
}

/** Installs the guard (only for a server without a token): the engine's API, and the host agent's with its own name and error shape. */
export function registerBrowserGuard(app: FastifyInstance, listenHost: string, hasToken: boolean, server: GuardedServer = { service: "engine", errorBody }): void {
  if (hasToken) return;
  app.addHook("onRequest", async (req, reply) => {
    const origin = typeof req.headers.origin === "string" ? req.headers.origin : undefined;
    const refusal = browserRefusal(req.method, req.headers.host, origin, listenHost, server.service);
    if (refusal !== null) return reply.code(403).send(server.errorBody(refusal));
  });
}
