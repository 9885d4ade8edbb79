import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { startAgent, type RunningAgent } from "../../../engine/hosts/agent/server.js";
import { SimDriver } from "../../../engine/hosts/drivers/sim/index.js";

// The engine's browser guard on the agent (SPEC 6): a web page on the agent's machine must not move VMs.
const running: RunningAgent[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.close()));
});

async function simAgent(name: string, vms: { name: string; mem: number }[], token?: string): Promise<RunningAgent> {
  const a = await startAgent({ driver: new SimDriver({ name, cpus: 2, mem: 4096, vms, period: 0 }), listen: "127.0.0.1:0", token });
  running.push(a);
  return a;
}

/** One request with the headers a browser would send (fetch cannot set `Host`). */
function send(url: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; json: any }> {
  const u = new URL(url);
  return new Promise((res, rej) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) } }, (r) => {
      let text = "";
      r.setEncoding("utf8").on("data", (d) => (text += d)).on("end", () => res({ status: r.statusCode!, json: text ? JSON.parse(text) : null }));
    });
    req.on("error", rej);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function vmsOf(a: RunningAgent): Promise<string[]> {
  return (await send(a.url, "GET", "/facts", {})).json.vms.map((v: { name: string }) => v.name);
}

describe("agent browser guard", () => {
  it("refuses a migration asked with a foreign Host (DNS rebinding) or from another site's page: 403, no VM moved", async () => {
    const h1 = await simAgent("h1", [{ name: "web", mem: 64 }]);
    const h2 = await simAgent("h2", []);
    const port = new URL(h1.url).port;
    const body = { vm: "web", to: { name: "h2", url: h2.url } };

    const rebound = await send(h1.url, "POST", "/migrations", { host: `evil.example:${port}`, origin: `http://evil.example:${port}` }, body);
    expect(rebound.status).toBe(403);
    expect(rebound.json.error).toBe(`Host "evil.example:${port}" is not this agent's address (use 127.0.0.1 or an IP address; names are refused without a token to stop DNS rebinding)`);
    const page = await send(h1.url, "POST", "/migrations", { host: `127.0.0.1:${port}`, origin: "http://evil.example" }, body);
    expect(page).toEqual({ status: 403, json: { error: "cross-origin POST from http://evil.example refused: a web page may not change the agent (send the request without an Origin header, or set a token)", message: "cross-origin POST from http://evil.example refused: a web page may not change the agent (send the request without an Origin header, or set a token)" } });
    for (const [path, b] of [["/restarts", { vm: "web", from: "h9" }], ["/incoming", { vm: { name: "x", mem: 1, vcpus: 1, labels: {}, pinned: false, host: "h9" }, from: "h9" }]] as const) {
      expect((await send(h2.url, "POST", path, { origin: "http://evil.example" }, b)).status).toBe(403);
    }
    await new Promise((r) => setTimeout(r, 300)); // a 64 MiB sim migration would have ended by now
    expect([await vmsOf(h1), await vmsOf(h2)]).toEqual([["web"], []]);

    // Its own pages and tools still get through: no Origin (curl, the engine, peer agents) or the agent's own.
    const own = await send(h1.url, "POST", "/migrations", { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` }, body);
    expect(own.status).toBe(202);

    // With a token the token is the check, as on the engine: a name in Host is fine, a page without the token gets 401.
    const t = await simAgent("t1", [{ name: "web", mem: 64 }], "tok");
    expect((await send(t.url, "GET", "/facts", { host: "agent.lan:7071", authorization: "Bearer tok" })).status).toBe(200);
    expect((await send(t.url, "POST", "/migrations", { origin: "http://evil.example" }, body)).status).toBe(401);
  });
});
