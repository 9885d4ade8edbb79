/**
 * Review fixes to error answers that fastify gave in its own shape or
 * wording: an over-long or badly encoded path parameter (answered before any
 * route, echoing the whole URL) on the engine and the agent, and the agent's
 * answers to bad JSON, other content types and empty bodies, now in the
 * engine's words (`engine/http-errors.ts`), each server in its own shape.
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAgentApp } from "../engine/agent/server.js";
import { SimDriver } from "../engine/drivers/sim.js";
import { buildHttpApp } from "../engine/http-api.js";
import { quotePath } from "../engine/http-errors.js";
import { EngineMetrics } from "../engine/metrics.js";
import { FakeEngine } from "./http-api-fake.js";

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
