/**
 * The engine API's security rules (SPEC 5): with a token, every change
 * needs `Authorization: Bearer TOKEN` (401 otherwise, nothing done) while
 * reads stay open; without a token, the API refuses to listen beyond
 * loopback; the comparison does not depend on the token's length.
 */
import { request } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { browserRefusal } from "../../../engine/http/browser-guard.js";
import { authRefusal, tokenMatches } from "../../../engine/http/auth.js";
import { HttpApiStartError, startHttpApi, type RunningHttpApi } from "../../../engine/http/server.js";
import { EngineMetrics } from "../../../engine/http/metrics.js";
import { FakeEngine } from "./fake-engine.js";

const TOKEN = "s3cret-token-42";
let engine: FakeEngine;
let api: RunningHttpApi;

beforeAll(async () => {
  engine = new FakeEngine();
  api = await startHttpApi(engine, { listen: "127.0.0.1:0", token: TOKEN, metrics: new EngineMetrics() });
});
afterAll(() => api.close());
beforeEach(() => {
  engine.calls = [];
});

async function send(method: string, path: string, auth?: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (auth !== undefined) headers.authorization = auth;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(api.url + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, challenge: res.headers.get("www-authenticate") };
}

describe("with a token", () => {
  const changes: [string, string, unknown?][] = [
    ["POST", "/pause"],
    ["POST", "/resume"],
    ["POST", "/round"],
    ["POST", "/reload"],
    ["PUT", "/hosts/h1/state", { state: "maintenance" }],
    ["POST", "/hosts/h2/fenced"],
  ];

  it.each(changes)("%s %s without a token is 401 and does nothing", async (method, path, body) => {
    const r = await send(method, path, undefined, body);
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: `${method} needs an Authorization: Bearer TOKEN header (this engine has a token)` });
    expect(r.challenge).toBe('Bearer realm="vmpolicy"');
    expect(engine.calls).toEqual([]);
  });

  it.each(changes)("%s %s with a wrong token is 401 and does nothing", async (method, path, body) => {
    for (const auth of [`Bearer ${TOKEN}x`, "Bearer s", `Bearer ${TOKEN.slice(0, -1)}`]) {
      const r = await send(method, path, auth, body);
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ error: "wrong bearer token" });
    }
    const basic = await send(method, path, `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}`, body);
    expect([basic.status, basic.json]).toEqual([401, { error: 'the Authorization header must be "Bearer TOKEN"' }]);
    expect(engine.calls).toEqual([]);
  });

  it("the right token is accepted", async () => {
    expect((await send("POST", "/pause", `Bearer ${TOKEN}`)).status).toBe(200);
    expect((await send("PUT", "/hosts/h1/state", `bearer ${TOKEN}`, { state: "up" })).status).toBe(200);
    expect(engine.calls).toEqual(["pause", "setHostState(h1,up)"]);
  });

  it("a refused request is refused before its body is read", async () => {
    const r = await send("PUT", "/hosts/h1/state", undefined, { state: "bogus" });
    expect(r.status).toBe(401);
  });

  it("reads need no token", async () => {
    for (const path of ["/healthz", "/status", "/decisions?limit=1", "/metrics"]) {
      const res = await fetch(api.url + path);
      expect(res.status, path).toBe(200);
    }
  });
});

describe("listening", () => {
  it.each(["0.0.0.0:0", "[::]:0", "10.1.2.3:7070", "example.org:7070"])("refuses %s without a token", async (listen) => {
    const err = await startHttpApi(new FakeEngine(), { listen, metrics: new EngineMetrics() }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HttpApiStartError);
    expect((err as HttpApiStartError).reason).toBe("usage");
    expect((err as Error).message).toMatch(/^refusing to listen on .+ without a token: .*give a token \(--token-file\) or listen on 127\.0\.0\.1$/);
  });

  it("listens beyond loopback with a token", async () => {
    const a = await startHttpApi(new FakeEngine(), { listen: "0.0.0.0:0", token: TOKEN, metrics: new EngineMetrics() });
    try {
      expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    } finally {
      await a.close();
    }
  });

  it("a bad address is refused naming it", async () => {
    await expect(startHttpApi(new FakeEngine(), { listen: "localhost", metrics: new EngineMetrics() })).rejects.toThrow(
      'bad listen address "localhost": no port (expected HOST:PORT such as 127.0.0.1:7071)',
    );
  });

  it("a busy port is a clear error", async () => {
    const port = new URL(api.url).port;
    const err = await startHttpApi(new FakeEngine(), { listen: `127.0.0.1:${port}`, metrics: new EngineMetrics() }).catch((e: HttpApiStartError) => e);
    expect(err).toBeInstanceOf(HttpApiStartError);
    expect((err as HttpApiStartError).reason).toBe("listen");
    expect((err as Error).message).toBe(`cannot listen on 127.0.0.1:${port}: the port is already in use (another vmpolicy run? choose another with --listen)`);
  });
});

describe("token comparison", () => {
  it("matches exactly, any case of the scheme, no prefix or suffix", () => {
    expect(tokenMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(tokenMatches(`BEARER ${TOKEN}`, TOKEN)).toBe(true);
    expect(tokenMatches(`Bearer ${TOKEN} extra`, TOKEN)).toBe(false);
    expect(tokenMatches(TOKEN, TOKEN)).toBe(false);
    expect(tokenMatches(undefined, TOKEN)).toBe(false);
    expect(tokenMatches("Bearer ", TOKEN)).toBe(false);
  });

  it("reads are never refused, changes only with a token set", () => {
    expect(authRefusal("GET", undefined, TOKEN)).toBeNull();
    expect(authRefusal("HEAD", undefined, TOKEN)).toBeNull();
    expect(authRefusal("POST", undefined, undefined)).toBeNull();
    expect(authRefusal("DELETE", undefined, TOKEN)).toBe("DELETE needs an Authorization: Bearer TOKEN header (this engine has a token)");
  });
});

/** A raw request, so the Host and Origin headers are exactly what a browser would send. */
function raw(url: string, method: string, headers: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((res, rej) => {
    const req = request(url, { method, headers }, (r) => {
      let text = "";
      r.on("data", (d) => (text += d));
      r.on("end", () => res({ status: r.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on("error", rej);
    req.end();
  });
}

describe("without a token, web pages are kept out", () => {
  it("refuses a cross-origin change, a rebound Host name, and lets curl-style and same-origin requests through", async () => {
    const e = new FakeEngine();
    const open = await startHttpApi(e, { listen: "127.0.0.1:0", metrics: new EngineMetrics() });
    try {
      const port = new URL(open.url).port;
      const evil = await raw(`${open.url}/hosts/h2/fenced`, "POST", { origin: "http://evil.example" });
      expect(evil.status).toBe(403);
      expect(evil.json).toEqual({ error: "cross-origin POST from http://evil.example refused: a web page may not change the engine (send the request without an Origin header, or set a token)" });
      const rebound = await raw(`${open.url}/status`, "GET", { host: `evil.example:${port}` });
      expect(rebound.status).toBe(403);
      expect(rebound.json.error).toBe(`Host "evil.example:${port}" is not this engine's address (use 127.0.0.1 or an IP address; names are refused without a token to stop DNS rebinding)`);
      expect(e.calls).toEqual([]);
      expect((await raw(`${open.url}/pause`, "POST", {})).status).toBe(200);
      expect((await raw(`${open.url}/resume`, "POST", { origin: `http://127.0.0.1:${port}` })).status).toBe(200);
      expect((await raw(`${open.url}/status`, "GET", { host: `localhost:${port}` })).status).toBe(200);
      expect(e.calls).toEqual(["pause", "resume"]);
    } finally {
      await open.close();
    }
  });

  it("reads with an Origin stay allowed; IPv6 hosts parse", () => {
    expect(browserRefusal("GET", "127.0.0.1:7070", "http://evil.example", "127.0.0.1")).toBeNull();
    expect(browserRefusal("GET", "[::1]:7070", undefined, "::1")).toBeNull();
    expect(browserRefusal("POST", "[::1]:7070", "http://[::1]:7070", "::1")).toBeNull();
    expect(browserRefusal("POST", "engine.lan:7070", undefined, "engine.lan")).toBeNull();
  });
});
