import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { AgentClient, AgentClientError } from "../../../engine/hosts/client.js";
import { startAgent, type RunningAgent } from "../../../engine/hosts/agent/server.js";
import { ManualClock } from "../../../engine/hosts/drivers/sim/clock.js";
import { SimDriver } from "../../../engine/hosts/drivers/sim/index.js";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function agent(name: string, vms: { name: string; mem: number }[], clock: ManualClock, token?: string): Promise<RunningAgent & { driver: SimDriver }> {
  const a = await startAgent({ driver: new SimDriver({ name, cpus: 2, mem: 4096, vms, clock }), listen: "127.0.0.1:0", token });
  cleanup.push(() => a.close());
  return a as RunningAgent & { driver: SimDriver };
}

async function caught(p: Promise<unknown>): Promise<AgentClientError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AgentClientError);
    return e as AgentClientError;
  }
  throw new Error("expected a rejection");
}

describe("AgentClient", () => {
  it("drives a migration and a status poll end to end", async () => {
    const clock = new ManualClock();
    const h1 = await agent("h1", [{ name: "a", mem: 256 }], clock, "tk");
    const h2 = await agent("h2", [], clock, "tk");
    const c1 = new AgentClient({ url: h1.url + "/", name: "h1", token: "tk" });
    const facts = await c1.facts();
    expect(facts.name).toBe("h1");
    expect(facts.vms.map((v) => v.name)).toEqual(["a"]);
    const id = await c1.startMigration("a", { name: "h2", url: h2.url });
    expect(await c1.migrationStatus(id)).toEqual({ state: "running", progress: { elapsed_ms: 0, processed_mib: 0, total_mib: 256 } });
    clock.advance(500);
    let s = await c1.migrationStatus(id);
    for (let i = 0; i < 200 && s.state === "running"; i++) s = await c1.migrationStatus(id);
    expect(s).toEqual({ state: "completed" });
    expect((await new AgentClient({ url: h2.url, token: "tk" }).facts()).vms.map((v) => v.name)).toEqual(["a"]);
  });

  it("names host, URL and route in errors: 4xx, 401, refused, timeout", async () => {
    const clock = new ManualClock();
    const h1 = await agent("h1", [], clock, "tk");
    const c = new AgentClient({ url: h1.url, name: "h1", token: "tk" });
    const e404 = await caught(c.startMigration("ghost", { name: "h2", url: "http://127.0.0.1:9" }));
    expect([e404.kind, e404.status, e404.message]).toEqual(["http", 404, `agent h1 (${h1.url}) POST /migrations: answered 404: no VM "ghost" on host h1`]);
    const e401 = await caught(new AgentClient({ url: h1.url, name: "h1" }).facts());
    expect([e401.kind, e401.status, e401.reason]).toEqual(["http", 401, "answered 401: missing Authorization: Bearer TOKEN header"]);
    const eId = await caught(c.migrationStatus("nope"));
    expect(eId.status).toBe(404);

    await h1.close();
    const refused = await caught(c.facts());
    expect([refused.kind, refused.status, refused.message]).toEqual(["unreachable", null, `agent h1 (${h1.url}) GET /facts: connection refused (is the agent running?)`]);

    // A server that accepts the connection and never answers.
    const silent: Server = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    cleanup.push(() => new Promise<void>((r) => { silent.closeAllConnections(); silent.close(() => r()); }));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const started = Date.now();
    const slow = await caught(new AgentClient({ url, name: "h3", timeoutMs: 150 }).facts());
    expect([slow.kind, slow.message]).toEqual(["timeout", `agent h3 (${url}) GET /facts: no answer within 150 ms`]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("rejects an answer that is not an agent's", async () => {
    const other: Server = createServer((_req, res) => {
      res.setHeader("content-type", "text/html");
      res.end("<html>hello</html>");
    });
    await new Promise<void>((r) => other.listen(0, "127.0.0.1", r));
    cleanup.push(() => new Promise<void>((r) => other.close(() => r())));
    const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    const e = await caught(new AgentClient({ url, name: "web" }).facts());
    expect([e.kind, e.message]).toEqual(["protocol", `agent web (${url}) GET /facts: answered 200 with a body that is not JSON: <html>hello</html>`]);
  });
});
