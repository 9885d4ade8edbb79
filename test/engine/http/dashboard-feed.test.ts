/**
 * The dashboard's routes and live feed over real HTTP (SPEC 11), without a
 * browser: the page and its assets under a strict CSP and nothing else
 * readable, `/events` as server-sent events (a snapshot, then an update
 * after a change through the API or from the engine) and as one JSON
 * snapshot, a failed reload rendered like `check`, and a close that ends
 * the open streams.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { request, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EngineMetrics } from "../../../engine/http/metrics.js";
import { startHttpApi, type RunningHttpApi } from "../../../engine/http/server.js";
import { CONTENT_SECURITY_POLICY } from "../../../engine/http/dashboard/routes.js";
import type { ClusterView, DashboardSource, LoadHistoryPart } from "../../../engine/http/dashboard/view.js";
import type { EngineStatus } from "../../../engine/http/control.js";
import { DIAGNOSTIC, FakeEngine } from "./fake-engine.js";

let api: RunningHttpApi | null = null;
afterEach(async () => {
  await api?.close();
  api = null;
});

class Source implements DashboardSource {
  listeners = new Set<() => void>();
  afterSeen: (number | undefined)[] = [];
  cluster(): ClusterView {
    return { hosts: [{ name: "h1", state: "up", cpus: 4, mem: 8192, mem_used: 1024, load: 50, vms: [{ name: "vm1", cpu: 200, mem: 1024, pinned: true }] }], flights: [], fence_waits: [] };
  }
  history(afterT?: number): LoadHistoryPart {
    this.afterSeen.push(afterT);
    const t = [100, 110].filter((x) => afterT === undefined || x > afterT);
    return { t, hosts: { h1: t.map(() => 50) }, marks: [] };
  }
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

async function start(engine = new FakeEngine(), dashboard?: DashboardSource): Promise<string> {
  api = await startHttpApi(engine, { listen: "127.0.0.1:0", metrics: new EngineMetrics(), ...(dashboard ? { dashboard } : {}) });
  return api.url;
}

/** Reads server-sent events from `/events` until `count` have come. */
function events(url: string): { next(count: number, waitMs?: number): Promise<{ event: string; data: Record<string, unknown> }[]>; res: Promise<IncomingMessage>; close(): void } {
  const got: { event: string; data: Record<string, unknown> }[] = [];
  let buffer = "";
  let wake = () => {};
  const req = request(`${url}/events`, { headers: { accept: "text/event-stream" } });
  const res = new Promise<IncomingMessage>((resolve) =>
    req.on("response", (r) => {
      r.setEncoding("utf8");
      r.on("data", (chunk: string) => {
        buffer += chunk;
        let i;
        while ((i = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) got.push({ event, data: JSON.parse(data) });
        }
        wake();
      });
      resolve(r);
    }),
  );
  req.on("error", () => undefined);
  req.end();
  return {
    res,
    close: () => req.destroy(),
    next: async (count, waitMs = 5000) => {
      const deadline = Date.now() + waitMs;
      while (got.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${got.length} of ${count} events came: ${got.map((g) => g.event).join(", ")}`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
      return got.slice(0, count);
    },
  };
}

describe("the page and its assets", () => {
  it("serves the page under a strict CSP, with no inline script and nothing from outside", async () => {
    const url = await start();
    const res = await fetch(`${url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain("unsafe");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await res.text();
    const scripts = [...html.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)];
    expect(scripts.map((m) => m[0])).toEqual(['<script type="module" src="/dashboard/main.js"></script>']);
    expect(html).not.toMatch(/style="|https?:\/\//);
  });

  it("serves its modules, stylesheet and uPlot, and nothing else under /dashboard/", async () => {
    const url = await start();
    for (const [path, type] of [
      ["/dashboard/main.js", "text/javascript; charset=utf-8"],
      ["/dashboard/style.css", "text/css; charset=utf-8"],
      ["/dashboard/vendor/uPlot.esm.js", "text/javascript; charset=utf-8"],
      ["/dashboard/vendor/uPlot.min.css", "text/css; charset=utf-8"],
      ["/dashboard/icon.svg", "image/svg+xml"],
    ]) {
      const res = await fetch(url + path);
      expect([path, res.status, res.headers.get("content-type"), res.headers.get("content-security-policy")]).toEqual([path, 200, type, CONTENT_SECURITY_POLICY]);
    }
    for (const path of ["/dashboard/routes.ts", "/dashboard/../package.json", "/dashboard/%2e%2e/package.json", "/dashboard/vendor/uPlot.cjs.js"]) {
      expect([path, (await fetch(url + path)).status]).toEqual([path, 404]);
    }
  });
});

describe("GET /events", () => {
  it("answers one snapshot as JSON for polling, a 406 for other types", async () => {
    const engine = new FakeEngine();
    const url = await start(engine, new Source());
    const snap = (await (await fetch(`${url}/events`, { headers: { accept: "application/json" } })).json()) as Record<string, unknown>;
    expect(Object.keys(snap).sort()).toEqual(["at", "cluster", "decisions", "history", "plan", "reload_text", "status"]);
    expect((snap.status as EngineStatus).hosts.map((h) => h.name)).toEqual(["h1", "h2"]);
    expect((snap.decisions as unknown[]).length).toBe(300);
    expect((snap.cluster as ClusterView).hosts[0]!.vms).toEqual([{ name: "vm1", cpu: 200, mem: 1024, pinned: true }]);
    expect(snap.history).toEqual({ t: [100, 110], hosts: { h1: [50, 50] }, marks: [] });
    const refused = await fetch(`${url}/events`, { headers: { accept: "text/html" } });
    expect(refused.status).toBe(406);
    expect(((await refused.json()) as { error: string }).error).toMatch(/text\/event-stream \(live\) or application\/json/);
  });

  it("streams a snapshot, then an update after a change through the API and after an engine event", async () => {
    const engine = new FakeEngine();
    const source = new Source();
    const url = await start(engine, source);
    const stream = events(url);
    expect((await stream.res).headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    const [snapshot] = await stream.next(1);
    expect(snapshot!.event).toBe("snapshot");
    expect((snapshot!.data.status as EngineStatus).paused).toBe(false);

    expect((await fetch(`${url}/pause`, { method: "POST" })).status).toBe(200);
    const [, update] = await stream.next(2);
    expect(update!.event).toBe("update");
    expect((update!.data.status as EngineStatus).paused).toBe(true);
    // An update carries only the history after what was sent.
    expect(update!.data.history).toEqual({ t: [], hosts: { h1: [] }, marks: [] });
    expect(source.afterSeen).toEqual([undefined, 110]);

    for (const l of source.listeners) l();
    const [, , third] = await stream.next(3);
    expect(third!.event).toBe("update");
    stream.close();
  });

  it("renders a rejected reload like check: the source line and a caret under the span", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-feed-"));
    const file = join(dir, "cslb.policy");
    writeFileSync(file, "policy cslb\n\n    when x\n");
    const engine = new FakeEngine();
    const status = engine.status.bind(engine);
    const error = { at: "2026-01-01T00:00:00.000Z", diagnostics: [{ ...DIAGNOSTIC, span: { ...DIAGNOSTIC.span, file } }] };
    engine.status = () => ({ ...status(), reload_error: error });
    const url = await start(engine);
    const snap = (await (await fetch(`${url}/events`, { headers: { accept: "application/json" } })).json()) as { reload_text: string; cluster: unknown };
    expect(snap.reload_text).toBe(`${file}:3:5: error: expected 'then'\n        when x\n        ^^^^\n1 error\n`);
    expect(snap.cluster).toBeNull();
  });

  it("survives an engine that fails to answer: the stream misses that update and goes on", async () => {
    const engine = new FakeEngine();
    const url = await start(engine);
    const stream = events(url);
    await stream.next(1);
    const decisions = engine.decisions.bind(engine);
    engine.decisions = async () => {
      throw new Error("journal unreadable");
    };
    expect((await fetch(`${url}/pause`, { method: "POST" })).status).toBe(200);
    // Past the coalescing delay: the update was attempted, failed, and nothing was sent.
    await new Promise((r) => setTimeout(r, 400));
    await expect(stream.next(2, 200)).rejects.toThrow(/only 1 of 2 events came: snapshot/);
    const failed = await fetch(`${url}/events`, { headers: { accept: "application/json" } });
    expect([failed.status, ((await failed.json()) as { error: string }).error]).toEqual([500, expect.stringMatching(/internal error|journal unreadable/)]);
    engine.decisions = decisions;
    expect((await fetch(`${url}/resume`, { method: "POST" })).status).toBe(200);
    const [, update] = await stream.next(2);
    expect((update!.data.status as EngineStatus).paused).toBe(false);
    stream.close();
  });

  it("keeps its heartbeat timer only while a page is connected: an engine nobody watches is not woken for it", async () => {
    const set = vi.spyOn(globalThis, "setInterval");
    const clear = vi.spyOn(globalThis, "clearInterval");
    try {
      // Counted, not timed: the heartbeat is the feed's only interval (15 s by default).
      const heartbeats = () => set.mock.calls.flatMap((c, i) => (c[1] === 15_000 ? [set.mock.results[i]!.value as NodeJS.Timeout] : []));
      const url = await start();
      expect(heartbeats()).toHaveLength(0);
      const stream = events(url);
      await stream.next(1);
      expect(heartbeats()).toHaveLength(1);
      stream.close();
      const deadline = Date.now() + 5000;
      while (!clear.mock.calls.some((c) => c[0] === heartbeats()[0])) {
        if (Date.now() > deadline) throw new Error("the heartbeat was not stopped after the page left");
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(heartbeats()).toHaveLength(1);
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
  });

  it("ends open streams when the API closes", async () => {
    const url = await start();
    const stream = events(url);
    await stream.next(1);
    const ended = new Promise<void>((r) => void stream.res.then((res) => res.on("end", () => r())));
    const t0 = Date.now();
    await api!.close();
    api = null;
    await ended;
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
