/**
 * What `vmpolicy run` refuses, as real processes: bad configs and flags
 * (exit 2, the key named), an open API beyond loopback (exit 2), a busy
 * port and a policy set with errors (exit 1), and changes without the
 * bearer token (401 while reads stay open).
 */
import { createServer } from "node:net";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { http, killAll, spawnCli, startEngine } from "./run-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "vmpolicy-run-refusals-"));
afterEach(killAll);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `vmpolicy run ARGS…` to its exit; returns the code and everything printed. */
async function runToExit(args: string[]): Promise<{ code: number | null; output: string }> {
  const p = spawnCli(["run", ...args]);
  const code = await p.exited();
  await new Promise((r) => setTimeout(r, 20)); // let the last lines arrive
  return { code, output: p.output() };
}

function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe("vmpolicy run refuses", () => {
  it("an unknown config key, naming it with a suggestion (exit 2)", async () => {
    const cfg = file("typo.yaml", "intervall: 5s\n");
    const r = await runToExit(["--config", cfg]);
    expect(r.code).toBe(2);
    expect(r.output).toContain(`vmpolicy run: ${cfg}: unknown key "intervall" (did you mean "interval"?)`);
  });

  it("a bad value, naming its path (exit 2)", async () => {
    const cfg = file("bad-url.yaml", "hosts:\n  - name: h1\n    url: ftp://h1:7071\n");
    const r = await runToExit(["--config", cfg]);
    expect(r.code).toBe(2);
    expect(r.output).toMatch(new RegExp(`vmpolicy run: ${cfg.replace(/[.]/g, "\\.")}: hosts\\[0\\]\\.url: `));
  });

  it("a missing config file and a bad flag (exit 2)", async () => {
    const missing = await runToExit(["--config", join(dir, "nope.yaml")]);
    expect(missing.code).toBe(2);
    expect(missing.output).toContain(`nope.yaml: cannot read: ENOENT`);
    const interval = await runToExit(["--interval", "soon"]);
    expect(interval.code).toBe(2);
    expect(interval.output).toMatch(/^vmpolicy run: --interval: /m);
    const token = await runToExit(["--token-file", join(dir, "no-token")]);
    expect(token.code).toBe(2);
    expect(token.output).toMatch(/^vmpolicy run: token_file: cannot read .*no-token: ENOENT$/m);
  });

  it("listening beyond loopback without a token (exit 2), before starting anything", async () => {
    const r = await runToExit(["--listen", "0.0.0.0:0"]);
    expect(r.code).toBe(2);
    expect(r.output).toContain("vmpolicy run: refusing to listen on 0.0.0.0 without a token");
    expect(r.output).not.toContain("embedded demo cluster");
  });

  it("a busy port, clearly (exit 1)", async () => {
    const server = createServer();
    await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await runToExit(["--listen", `127.0.0.1:${port}`]);
      expect(r.code).toBe(1);
      expect(r.output).toContain(`vmpolicy run: cannot listen on 127.0.0.1:${port}: the port is already in use (another vmpolicy run? choose another with --listen)`);
    } finally {
      server.close();
    }
  });

  it("a policy set with errors at start (exit 1), showing the diagnostic", async () => {
    const pol = join(dir, "broken");
    mkdirSync(pol);
    file("broken/bad.policy", "policy bad\n\nrule r\n  then migrate nothing to\n");
    const r = await runToExit(["--listen", "127.0.0.1:0", "--policies", pol]);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/bad\.policy:4:\d+: error: /);
    expect(r.output).toContain("vmpolicy run: the policy set has errors; not starting");
  });
});

describe("vmpolicy run with a token", () => {
  it("needs the bearer token for changes; reads stay open", async () => {
    const tokenFile = file("token", "e2e-token\n");
    const engine = await startEngine(["--interval", "1h", "--token-file", tokenFile]);
    expect(engine.output()).toContain("changes need the bearer token");
    const none = await http("POST", `${engine.url}/pause`);
    expect(none.status).toBe(401);
    expect(none.json).toEqual({ error: "POST needs an Authorization: Bearer TOKEN header (this engine has a token)" });
    const wrong = await http("POST", `${engine.url}/pause`, { token: "e2e-tokem" });
    expect([wrong.status, wrong.json]).toEqual([401, { error: "wrong bearer token" }]);
    expect((await http("GET", `${engine.url}/status`)).json.paused).toBe(false);
    const ok = await http("POST", `${engine.url}/pause`, { token: "e2e-token" });
    expect([ok.status, ok.json]).toEqual([200, { paused: true }]);
    expect((await http("GET", `${engine.url}/status`)).json.paused).toBe(true);
    await engine.waitFor(/API POST \/pause refused with 401/);
    // The demo agents share the token: the engine still gathers their facts.
    const round = await http("POST", `${engine.url}/round`, { token: "e2e-token" });
    expect(round.json).toMatchObject({ executed: false });
    const hosts = (await http("GET", `${engine.url}/status`)).json.hosts as { state: string; last_seen: string | null }[];
    expect(hosts.every((h) => h.state === "up" && h.last_seen !== null)).toBe(true);
  });

  it("listens beyond loopback with a token", async () => {
    const tokenFile = file("token2", "t2\n");
    const engine = await startEngine(["--interval", "1h", "--token-file", tokenFile, "--listen", "0.0.0.0:0"]).catch((e: Error) => e);
    // startEngine passes --listen 127.0.0.1:0 first; the later flag wins (commander keeps the last).
    expect(engine).not.toBeInstanceOf(Error);
    if (engine instanceof Error) return;
    expect((await http("GET", `${engine.url}/healthz`)).status).toBe(200);
  });
});
