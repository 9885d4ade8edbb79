import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, afterEach, describe, expect, it } from "vitest";

// Runs the built CLI (`npm run build` first).
const CLI = resolve(import.meta.dirname, "../../dist/bin/vmpolicy.js");
const dir = mkdtempSync(join(tmpdir(), "vmpolicy-agent-cli-"));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts an agent process and resolves with its URL once it logs that it listens. */
function start(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, "agent", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`agent did not start: ${err}`)), 10_000);
    child.on("exit", (code) => rej(new Error(`agent exited ${code}: ${err}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /"msg":"agent \S+ \(\w+\) listening on (http:\/\/[^"]+)"/.exec(line);
      if (m) {
        clearTimeout(timer);
        res({ child, url: m[1]! });
      }
    });
  });
}

async function get(url: string, token?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, json: await res.json() };
}

function run(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, "agent", ...args], { encoding: "utf8", timeout: 10_000 });
  return { status: r.status, stderr: r.stderr };
}

describe("vmpolicy agent (process)", () => {
  it("serves facts, migrates to a peer process and stops on SIGTERM", async () => {
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, "cli-token\n");
    const storage = join(dir, "storage");
    const common = ["--driver", "sim", "--listen", "127.0.0.1:0", "--token-file", tokenFile, "--storage", storage, "--migration-rate", "8192"];
    const [h1, h2] = await Promise.all([
      start([...common, "--name", "h1", "--cpus", "2", "--mem", "8192", "--labels", "rack=r1", "--vms", "web1:1024,db1:2048:2:idle"]),
      start([...common, "--name", "h2"]),
    ]);
    expect((await get(`${h1.url}/facts`)).status).toBe(401);
    expect((await get(`${h1.url}/facts`, "cli-token")).json).toEqual({
      name: "h1",
      state: "up",
      cpus: 2,
      mem: 8192,
      labels: { rack: "r1" },
      vms: [
        { name: "db1", cpu: 3, mem: 2048, labels: {}, pinned: false },
        { name: "web1", cpu: 100, mem: 1024, labels: {}, pinned: false },
      ],
    });
    const post = await fetch(`${h1.url}/migrations`, {
      method: "POST",
      headers: { authorization: "Bearer cli-token", "content-type": "application/json" },
      body: JSON.stringify({ vm: "web1", to: { name: "h2", url: h2.url } }),
    });
    expect(post.status).toBe(202);
    const { id } = (await post.json()) as { id: string };
    let state = "running";
    for (let i = 0; i < 100 && state === "running"; i++) {
      await new Promise((r) => setTimeout(r, 20));
      state = (await get(`${h1.url}/migrations/${id}`, "cli-token")).json.state;
    }
    expect(state).toBe("completed");
    expect((await get(`${h2.url}/facts`, "cli-token")).json.vms.map((v: any) => v.name)).toEqual(["web1"]);

    const exited = new Promise<number | null>((r) => h1.child.on("exit", (code) => r(code)));
    h1.child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it.skipIf(spawnSync("sh", ["-c", "command -v virsh"]).status !== 0 && process.env.CI !== "true")("--driver virsh takes its libvirt URI from --connect or connect: in its --config (libvirt's test:///default here)", async () => {
    const cfg = join(dir, "virsh-host.yaml");
    writeFileSync(cfg, "name: t1\nconnect: test:///default\nlabels: { rack: r9 }\n");
    const { child, url } = await start(["--driver", "virsh", "--config", cfg, "--listen", "127.0.0.1:0"]);
    const facts = await get(`${url}/facts`);
    expect([facts.status, facts.json.name, facts.json.cpus, facts.json.labels, facts.json.vms.map((v: { name: string }) => v.name)]).toEqual([200, "t1", 16, { rack: "r9" }, ["test"]]);
    child.kill("SIGTERM");
    expect(run(["--driver", "virsh", "--name", "t2", "--connect", "-oProxyCommand=x"])).toEqual({ status: 2, stderr: 'vmpolicy agent: --driver virsh: connect "-oProxyCommand=x" is not a libvirt URI (driver[+transport]://…)\n' });
    expect(run(["--driver", "sim", "--name", "h1", "--connect", "test:///default"])).toEqual({ status: 2, stderr: "vmpolicy agent: --connect applies to --driver virsh only\n" });
    writeFileSync(cfg, "name: t1\nconect: test:///default\n");
    expect(run(["--driver", "virsh", "--config", cfg])).toEqual({ status: 2, stderr: `vmpolicy agent: ${cfg}: unknown key "conect" (known: name, connect, advertise_uri, migration_address, unsafe, cpus, mem, labels, storage)\n` });
  }, 90_000);

  it("exits 2 with a clear message on bad flags", () => {
    expect(run(["--driver", "xl", "--name", "h1"])).toEqual({ status: 2, stderr: "vmpolicy agent: --driver xl: host h1: cannot run xl: no such command (is xl installed and on the agent's PATH?)\n" });
    expect(run(["--driver", "hyperv"])).toEqual({ status: 2, stderr: 'vmpolicy agent: unknown driver "hyperv" (available: sim, qemu, xl, virsh)\n' });
    expect(run(["--driver", "sim"])).toEqual({ status: 2, stderr: "vmpolicy agent: --name is required with --driver sim (or set name: in --config)\n" });
    expect(run(["--driver", "sim", "--name", "h1", "--cpus", "two"])).toEqual({ status: 2, stderr: 'vmpolicy agent: --cpus: must be a whole number > 0 (got "two")\n' });
    expect(run(["--driver", "sim", "--name", "h1", "--listen", "0.0.0.0:0"])).toEqual({
      status: 2,
      stderr: "vmpolicy agent: refusing to listen on 0.0.0.0 without a token: anyone who can reach it could move or start VMs; give a token (--token-file) or listen on 127.0.0.1\n",
    });
    const unknown = run(["--driver", "sim", "--name", "h1", "--bogus"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("error: unknown option '--bogus'");
    const help = spawnSync(process.execPath, [CLI, "agent", "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--driver <name>");
  });
});
