/**
 * The bearer-token rule of the engine's API (SPEC 5): requests that change
 * anything (every method but GET, HEAD and OPTIONS) need
 * `Authorization: Bearer TOKEN` when a token is set; reads stay open so a
 * dashboard or Prometheus can watch without the key that moves VMs.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { errorBody } from "./errors.js";

/** Methods that only read; everything else changes something. */
export const READ_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Compares in constant time. Both sides are hashed first so neither the
 * token's length nor its prefix shows in the timing.
 */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer[ ]+(.+?)\s*$/i.exec(header ?? "");
  const given = createHash("sha256").update(m ? m[1]! : "\u0000no token").digest();
  const expected = createHash("sha256").update(token).digest();
  return timingSafeEqual(given, expected) && m !== null;
}

/** Why a request is refused, or null when it may go on. */
export function authRefusal(method: string, header: string | undefined, token: string | undefined): string | null {
  if (token === undefined || READ_METHODS.has(method.toUpperCase())) return null;
  if (tokenMatches(header, token)) return null;
  if (header === undefined || header === "") return `${method} needs an Authorization: Bearer TOKEN header (this engine has a token)`;
  if (!/^Bearer /i.test(header)) return "the Authorization header must be \"Bearer TOKEN\"";
  return "wrong bearer token";
}

/** Installs the check as the first hook, before body parsing, so a refused request costs nothing. */
export function registerAuth(app: FastifyInstance, token: string | undefined): void {
  if (token === undefined) return;
  app.addHook("onRequest", async (req, reply) => {
    const refusal = authRefusal(req.method, req.headers.authorization, token);
    if (refusal === null) return;
    reply.header("www-authenticate", 'Bearer realm="vmpolicy"');
    return reply.code(401).send(errorBody(refusal));
  });
}
