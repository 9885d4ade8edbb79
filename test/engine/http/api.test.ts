/**
 * The engine's HTTP API over real HTTP on loopback, against a fake engine:
 * every route, its status codes and bodies, validation messages naming the
 * field, and error answers that are JSON without a stack trace.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startHttpApi, type RunningHttpApi, buildHttpApp } from "../../../engine/http/server.js";
import { EngineMetrics } from "../../../engine/http/metrics.js";
import { DIAGNOSTIC, FakeEngine, PLAN, POLICY } from "./fake-engine.js";
import type { FastifyInstance } from "fastify";
import { buildAgentApp } from "../../../engine/hosts/agent/server.js";
import { SimDriver } from "../../../engine/hosts/drivers/sim/index.js";
import { quotePath } from "../../../engine/http/errors.js";

let engine: FakeEngine;
let api: RunningHttpApi;

async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const res = await fetch(api.url + path, { method, ...(body !== undefined ? { body } : {}), headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers } });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON: left null so the test can say so */
  }
  return { status: res.status, json: json as Record<string, unknown>, text, type: res.headers.get("content-type") ?? "" };
}

/** No answer may carry a stack trace or a source path. */
function expectNoStack(text: string) {
  expect(text).not.toMatch(/\n\s+at |\.ts:\d+|\.js:\d+|node_modules/);
}

beforeAll(async () => {
  engine = new FakeEngine();
  const metrics = new EngineMetrics({ status: () => engine.status() });
  api = await startHttpApi(engine, { listen: "127.0.0.1:0", metrics });
});
afterAll(() => api.close());
beforeEach(() => {
  engine.calls = [];
  engine.plan = null;
  engine.paused = false;
  engine.reloadResult = { ok: true, policies: [POLICY] };
});

describe("reads", () => {
  it("GET /healthz answers ok", async () => {
    const r = await call("GET", "/healthz");
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ok: true });
  });

  it("GET /status returns the engine's status as JSON", async () => {
    const r = await call("GET", "/status");
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/json/);
    expect(r.json).toEqual(JSON.parse(JSON.stringify(engine.status())));
  });

  it("GET /status refuses an unknown query parameter by name", async () => {
    const r = await call("GET", "/status?verbose=1");
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: 'GET /status: querystring has an unknown field "verbose"' });
  });

  it("GET /plan is a 404 with a message before the first round", async () => {
    const r = await call("GET", "/plan");
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ error: "no plan yet: the engine has not finished a round (POST /round runs one now)" });
  });

  it("GET /plan returns the plan without explanations, ?explain=1 with them", async () => {
    engine.plan = PLAN;
    const plain = await call("GET", "/plan");
    expect(plain.status).toBe(200);
    expect(plain.json.actions).toEqual([{ kind: "migrate", vm: "vm1", from: "h1", to: "h2", rule: "cslb.balance" }]);
    const explained = await call("GET", "/plan?explain=1");
    expect(explained.json).toEqual(PLAN);
    expect(engine.calls).toEqual(["lastPlan(false)", "lastPlan(true)"]);
  });

  it("GET /plan?explain=yes names the allowed values", async () => {
    const r = await call("GET", "/plan?explain=yes");
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('GET /plan: querystring.explain must be one of "1", "0", "true", "false"');
  });

  it("GET /decisions defaults to 50 newest first, takes ?limit=N up to 1000", async () => {
    const d = await call("GET", "/decisions");
    expect(d.status).toBe(200);
    expect((d.json as unknown as unknown[]).length).toBe(50);
    expect((d.json as unknown as { id: string }[])[0]!.id).toBe("a1199");
    const three = await call("GET", "/decisions?limit=3");
    expect((three.json as unknown as { id: string }[]).map((e) => e.id)).toEqual(["a1199", "a1198", "a1197"]);
    const max = await call("GET", "/decisions?limit=1000");
    expect((max.json as unknown as unknown[]).length).toBe(1000);
    expect(engine.calls).toEqual(["decisions(50)", "decisions(3)", "decisions(1000)"]);
  });

  it.each([
    ["0", "GET /decisions: querystring.limit must be from 1 to 1000 (got 0)"],
    ["1001", "GET /decisions: querystring.limit must be from 1 to 1000 (got 1001)"],
    ["ten", "GET /decisions: querystring.limit must be a whole number"],
    ["-5", "GET /decisions: querystring.limit must be a whole number"],
    ["2.5", "GET /decisions: querystring.limit must be a whole number"],
  ])("GET /decisions?limit=%s is a 400 naming the field", async (limit, message) => {
    const r = await call("GET", `/decisions?limit=${limit}`);
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: message });
    expect(engine.calls).toEqual([]);
  });

  it("GET /metrics serves Prometheus text with the host gauges", async () => {
    const r = await call("GET", "/metrics");
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/plain/);
    expect(r.text).toContain('vmpolicy_hosts{state="up"} 1');
    expect(r.text).toContain('vmpolicy_hosts{state="down"} 1');
    expect(r.text).toContain('vmpolicy_hosts_by_group{policy="cslb",group="heavy"} 1');
  });
});

describe("changes", () => {
  it("POST /pause and /resume call the engine and report the state", async () => {
    const p = await call("POST", "/pause");
    expect([p.status, p.json]).toEqual([200, { paused: true }]);
    const r = await call("POST", "/resume", "{}");
    expect([r.status, r.json]).toEqual([200, { paused: false }]);
    expect(engine.calls).toEqual(["pause", "resume"]);
  });

  it("POST /round returns the round summary", async () => {
    const r = await call("POST", "/round");
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ at: "2026-01-01T00:00:00.000Z", duration_ms: 12, actions: 1, skipped: 0, errors: 0, executed: true });
  });

  it("POST /reload answers 200 with the policies", async () => {
    const r = await call("POST", "/reload");
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ policies: [POLICY] });
  });

  it("a rejected POST /reload answers 422 with the diagnostics", async () => {
    engine.reloadResult = { ok: false, diagnostics: [DIAGNOSTIC] };
    const r = await call("POST", "/reload");
    expect(r.status).toBe(422);
    expect(r.json).toEqual({ error: "the new policy set has 1 error; the running set stays active", diagnostics: [DIAGNOSTIC] });
  });

  it("PUT /hosts/NAME/state sets maintenance and back", async () => {
    const m = await call("PUT", "/hosts/h1/state", JSON.stringify({ state: "maintenance" }));
    expect([m.status, m.json]).toEqual([200, { host: "h1", operator_state: "maintenance" }]);
    expect((await call("GET", "/status")).json.hosts).toContainEqual(expect.objectContaining({ name: "h1", state: "maintenance", operator_state: "maintenance" }));
    const u = await call("PUT", "/hosts/h1/state", JSON.stringify({ state: "up" }));
    expect([u.status, u.json]).toEqual([200, { host: "h1", operator_state: null }]);
    expect(engine.calls).toEqual(["setHostState(h1,maintenance)", "setHostState(h1,up)"]);
  });

  it.each([
    [JSON.stringify({ state: "down" }), 'PUT /hosts/:name/state: body.state must be one of "maintenance", "up"'],
    [JSON.stringify({}), "PUT /hosts/:name/state: body.state is required"],
    [JSON.stringify({ state: "up", force: true }), 'PUT /hosts/:name/state: body has an unknown field "force"'],
    [JSON.stringify({ state: 1 }), "PUT /hosts/:name/state: body.state must be string"],
    [JSON.stringify(["up"]), "PUT /hosts/:name/state: body must be object"],
    ['{"state": "up"', "body is not valid JSON: line 1, column 15: unexpected end of input: expected ',' or '}' after a property value"],
    ['{"state": up}', "body is not valid JSON: line 1, column 11: unexpected character \"u\": expected a value"],
  ])("PUT /hosts/h1/state with %s is a 400 naming the problem", async (body, message) => {
    const r = await call("PUT", "/hosts/h1/state", body);
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: message });
    expectNoStack(r.text);
    expect(engine.calls).toEqual([]);
  });

  it("PUT /hosts/h1/state without a body says the body is required", async () => {
    const r = await call("PUT", "/hosts/h1/state");
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: "PUT /hosts/:name/state: body must be object" });
  });

  it("a wrong content type is a 415 naming it", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
      const r = await call("PUT", "/hosts/h1/state", "state=up", { "content-type": type });
      expect(r.status).toBe(415);
      expect(r.json).toEqual({ error: `unsupported content type "${type}": send application/json (or no body)` });
      expectNoStack(r.text);
    }
  });

  it("an unknown host is a 404 naming it", async () => {
    const r = await call("PUT", "/hosts/nope/state", JSON.stringify({ state: "up" }));
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ error: 'unknown host "nope" (hosts: h1, h2)' });
    const f = await call("POST", "/hosts/nope/fenced");
    expect([f.status, f.json]).toEqual([404, { error: 'unknown host "nope" (hosts: h1, h2)' }]);
  });

  it("a bad host name in the path is a 400", async () => {
    const r = await call("POST", "/hosts/a%20b/fenced");
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: 'POST /hosts/:name/fenced: params.name must be a name of letters, digits, "_", "-" and "."' });
  });

  it("POST /hosts/NAME/fenced confirms a down host; an up host is a 409", async () => {
    const ok = await call("POST", "/hosts/h2/fenced");
    expect([ok.status, ok.json]).toEqual([200, { host: "h2", fenced: true }]);
    const up = await call("POST", "/hosts/h1/fenced");
    expect([up.status, up.json]).toEqual([409, { error: 'host "h1" is not down' }]);
  });

  it("action routes refuse a body with fields", async () => {
    const r = await call("POST", "/pause", JSON.stringify({ now: true }));
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: 'POST /pause: takes no body (got fields "now")' });
    const bad = await call("POST", "/round", "{oops");
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe("body is not valid JSON: line 1, column 2: unexpected character \"o\": expected a double-quoted property name");
    expect(engine.calls).toEqual([]);
  });
});

describe("unknown routes and failures", () => {
  it("an unknown route or method is a JSON 404", async () => {
    for (const [method, path] of [["GET", "/nope"], ["DELETE", "/status"], ["POST", "/status"]] as const) {
      const r = await call(method, path);
      expect(r.status).toBe(404);
      expect(r.json.error).toMatch(new RegExp(`^no route ${method} ${path} \\(routes: `));
    }
  });

  it("an engine that throws gives a 500 with a message and no stack trace", async () => {
    const saved = engine.runRound;
    engine.runRound = async () => {
      throw new Error("agent table corrupted");
    };
    try {
      const r = await call("POST", "/round");
      expect(r.status).toBe(500);
      expect(r.json).toEqual({ error: "internal error while answering POST /round: agent table corrupted; see the engine's log" });
      expectNoStack(r.text);
    } finally {
      engine.runRound = saved;
    }
  });

  it("a huge body is refused with 413", async () => {
    const r = await call("PUT", "/hosts/h1/state", JSON.stringify({ state: "x".repeat(100_000) }));
    expect(r.status).toBe(413);
    expect(r.json).toEqual({ error: "body too large (the API takes small JSON bodies)" });
  });
});

const LONG = "a".repeat(5000);
const CUT = `${"a".repeat(32)}…`;

let engineApp: FastifyInstance;
let agentApp: FastifyInstance;

beforeAll(async () => {
  const engine = new FakeEngine();
  engineApp = buildHttpApp(engine, { metrics: new EngineMetrics({ status: () => engine.status() }) });
  agentApp = buildAgentApp(new SimDriver({ name: "h1", cpus: 1, mem: 1024, vms: [{ name: "a", mem: 1 }] }), undefined);
  await Promise.all([engineApp.ready(), agentApp.ready()]);
});
afterAll(async () => {
  await Promise.all([engineApp.close(), agentApp.close()]);
});

async function inject(app: FastifyInstance, method: "GET" | "POST" | "PUT", url: string, payload?: string, type = "application/json") {
  const r = await app.inject({ method, url, ...(payload !== undefined ? { payload, headers: { "content-type": type } } : {}) });
  return { status: r.statusCode, json: r.json() as Record<string, unknown>, length: r.body.length };
}

describe("quotePath", () => {
  it("drops the query, cuts long segments and bounds the whole", () => {
    expect(quotePath(`/hosts/${LONG}/fenced?x=${LONG}`)).toBe(`/hosts/${CUT}/fenced`);
    expect(quotePath("/status?verbose=1")).toBe("/status");
    expect(quotePath("/a".repeat(300))).toBe(`${"/a".repeat(100)}…`);
  });
});

describe("engine API: path parameters", () => {
  it("a 5000-character host name is a short 400 in the usual { error } shape", async () => {
    const r = await inject(engineApp, "POST", `/hosts/${LONG}/fenced`);
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: `POST /hosts/${CUT}/fenced: a path parameter is longer than 253 characters` });
    expect(r.length).toBeLessThan(200);
  });

  it("names up to the schema's 253 characters reach the route; 254 are refused by the router", async () => {
    const name = "b".repeat(253);
    const ok = await inject(engineApp, "PUT", `/hosts/${name}/state`, JSON.stringify({ state: "up" }));
    expect([ok.status, ok.json]).toEqual([404, { error: `unknown host "${name}" (hosts: h1, h2)` }]);
    const over = await inject(engineApp, "PUT", `/hosts/${name}b/state`, JSON.stringify({ state: "up" }));
    expect([over.status, over.json]).toEqual([400, { error: `PUT /hosts/${"b".repeat(32)}…/state: a path parameter is longer than 253 characters` }]);
  });

  it("a badly percent-encoded parameter is a 400 in the usual shape", async () => {
    const r = await inject(engineApp, "POST", "/hosts/%E0%A4%A/fenced");
    expect([r.status, r.json]).toEqual([400, { error: "POST /hosts/%E0%A4%A/fenced: a path parameter is not valid percent-encoding" }]);
  });

  it("an unknown long route is a 404 that does not echo the whole path", async () => {
    const r = await inject(engineApp, "GET", `/${LONG}`);
    expect(r.status).toBe(404);
    expect(r.json.error).toBe(`no route GET /${CUT} (routes: GET /healthz /status /plan /decisions /metrics; POST /reload /pause /resume /round /hosts/NAME/fenced; PUT /hosts/NAME/state)`);
  });

  it("a body with a __proto__ key says so instead of calling valid JSON invalid", async () => {
    const r = await inject(engineApp, "PUT", "/hosts/h1/state", '{"state": "up", "__proto__": {"x": 1}}');
    expect([r.status, r.json]).toEqual([400, { error: 'body has a "__proto__" or "constructor.prototype" key, which is refused' }]);
  });
});

describe("agent: path parameters and bodies in the engine's words, in the agent's { error, message } shape", () => {
  const both = (message: string) => ({ error: message, message });

  it("a 5000-character id is a short 400", async () => {
    const r = await inject(agentApp, "GET", `/migrations/${LONG}`);
    expect([r.status, r.json]).toEqual([400, both(`GET /migrations/${CUT}: a path parameter is longer than 128 characters`)]);
    expect(r.length).toBeLessThan(250);
  });

  it("ids up to the schema's 128 characters reach the route", async () => {
    const id = "c".repeat(128);
    const r = await inject(agentApp, "GET", `/restarts/${id}`);
    expect([r.status, r.json]).toEqual([404, both(`no restart "${id}" on host h1`)]);
    const over = await inject(agentApp, "GET", `/restarts/${id}c`);
    expect([over.status, over.json]).toEqual([400, both(`GET /restarts/${"c".repeat(32)}…: a path parameter is longer than 128 characters`)]);
  });

  it("bad JSON names the place, as the engine does", async () => {
    const r = await inject(agentApp, "POST", "/migrations", "{oops");
    expect([r.status, r.json]).toEqual([400, both('body is not valid JSON: line 1, column 2: unexpected character "o": expected a double-quoted property name')]);
  });

  it("a form-encoded body is a 415 naming the type", async () => {
    const r = await inject(agentApp, "POST", "/migrations", "vm=a", "application/x-www-form-urlencoded");
    expect([r.status, r.json]).toEqual([415, both('unsupported content type "application/x-www-form-urlencoded": send application/json')]);
  });

  it("an empty JSON body counts as no body: the schema says what is needed", async () => {
    const empty = await inject(agentApp, "POST", "/migrations", "");
    expect([empty.status, empty.json]).toEqual([400, both("bad request to POST /migrations: body must be object")]);
    const none = await inject(agentApp, "POST", "/migrations");
    expect([none.status, none.json]).toEqual([400, both("bad request to POST /migrations: body must be object")]);
  });

  it("a body over the limit is a 413 in the engine's words", async () => {
    const r = await inject(agentApp, "POST", "/migrations", JSON.stringify({ vm: "x".repeat(2_000_000) }));
    expect([r.status, r.json]).toEqual([413, both("body too large (the API takes small JSON bodies)")]);
  });

  it("an unknown long route is a 404 that does not echo the whole path", async () => {
    const r = await inject(agentApp, "GET", `/${LONG}/x`);
    expect([r.status, r.json]).toEqual([404, both(`no route GET /${CUT}/x on this agent`)]);
  });
});
