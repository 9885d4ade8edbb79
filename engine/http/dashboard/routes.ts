/**
 * The dashboard's routes (SPEC 11): `GET /` (the page), `GET /dashboard/…`
 * (its scripts, stylesheet and icon, and uPlot from node_modules: every
 * asset comes from the engine, so the page works offline), and `GET
 * /events` (the live feed as server-sent events, or with `Accept:
 * application/json` one snapshot, for pages that must poll). Every
 * response of the page carries a strict Content-Security-Policy: scripts
 * and styles from the engine only, no inline script, nothing from outside.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { EngineControl } from "../control.js";
import { READ_METHODS } from "../auth.js";
import { errorBody } from "../errors.js";
import { noQuery } from "../schemas.js";
import { DashboardFeed, type FeedOptions } from "./feed.js";
import type { DashboardSource } from "./view.js";

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/**
 * The page's own files: beside this module when run from source, in the
 * source tree when run from `dist/` (tsc copies no assets, so the build
 * needs no copy step).
 */
function publicDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "public"), join(here, "../../../../engine/http/dashboard/public")];
  const found = candidates.find((d) => existsSync(join(d, "index.html")));
  if (!found) throw new Error(`the dashboard's files are missing (looked in ${candidates.join(", ")})`);
  return found;
}

function uplotDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve("uplot/package.json")), "dist");
}

/** Served files by URL path; nothing else under /dashboard/ is readable. */
function assetTable(): Map<string, string> {
  const pub = publicDir();
  const vendor = uplotDir();
  const files = new Map<string, string>([["/", join(pub, "index.html")]]);
  for (const f of ["main.js", "api.js", "dom.js", "hosts.js", "chart.js", "panels.js", "style.css", "icon.svg"]) files.set(`/dashboard/${f}`, join(pub, f));
  files.set("/dashboard/vendor/uPlot.esm.js", join(vendor, "uPlot.esm.js"));
  files.set("/dashboard/vendor/uPlot.min.css", join(vendor, "uPlot.min.css"));
  return files;
}

function pageHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header("content-security-policy", CONTENT_SECURITY_POLICY)
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer")
    .header("cross-origin-resource-policy", "same-origin")
    .header("cache-control", "no-cache");
}

/** Pages one engine streams to at once; more get a 503 (each stream costs a socket and a copy of every update). */
export const MAX_STREAMS = 64;

/** Registers the page, its assets and the feed; the feed ends its streams when the app closes. */
export function registerDashboard(app: FastifyInstance, engine: EngineControl, source: DashboardSource | undefined, options: FeedOptions = {}): DashboardFeed {
  const feed = new DashboardFeed(engine, source, { onError: (e) => app.log.error({ err: e.message }, `dashboard feed: ${e.message}`), ...options });
  const unsubscribe = source?.onChange(() => feed.changed());
  // Any change through the API (accepted or not: a rejected reload changes what the page shows) is pushed at once.
  app.addHook("onResponse", async (req) => {
    if (!READ_METHODS.has(req.method)) feed.changed();
  });
  app.addHook("preClose", async () => {
    unsubscribe?.();
    feed.close();
  });

  const files = assetTable();
  const cache = new Map<string, Buffer>();
  const serve = async (path: string, reply: FastifyReply) => {
    const file = files.get(path)!;
    let body = cache.get(path);
    if (body === undefined) cache.set(path, (body = await readFile(file)));
    return pageHeaders(reply).type(TYPES[file.slice(file.lastIndexOf("."))] ?? "application/octet-stream").send(body);
  };
  for (const path of files.keys()) app.get(path, { schema: { querystring: noQuery } }, (_req, reply) => serve(path, reply));

  app.get("/events", { schema: { querystring: noQuery } }, async (req, reply) => {
    const accept = String(req.headers.accept ?? "");
    if (!accept.includes("text/event-stream") && accept.includes("application/json")) {
      return reply.header("cache-control", "no-store").send(await feed.snapshot());
    }
    if (!accept.includes("text/event-stream") && accept !== "" && !accept.includes("*/*")) {
      return reply.code(406).send(errorBody(`GET /events answers text/event-stream (live) or application/json (one snapshot); got Accept: ${accept}`));
    }
    if (feed.size >= MAX_STREAMS) return reply.code(503).send(errorBody(`the dashboard already streams to ${MAX_STREAMS} pages; close one, or poll with Accept: application/json`));
    reply.hijack();
    reply.raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
      connection: "keep-alive",
    });
    await feed.add(reply.raw);
  });
  return feed;
}
