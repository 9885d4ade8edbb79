import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { startAgent } from "../../../engine/hosts/agent/server.js";
import { SimDriver } from "../../../engine/hosts/drivers/sim/index.js";
import { XlDriver, type XlHostOptions } from "../../../engine/hosts/drivers/xl/index.js";
import { parseXentop, parseXlInfo, parseXlList, xentopRowFor } from "../../../engine/hosts/drivers/xl/parse.js";
import { showCommand, stderrSummary } from "../../../engine/hosts/drivers/command-runner.js";
import { FIXTURES, FakeTools } from "../../fixtures/xl/fake-tools.js";
import { driverKit, refusal, settled } from "../../fixtures/xl/driver-kit.js";

const fixture = (p: string) => readFileSync(join(FIXTURES, p), "utf8");

const { fakes, drivers, agents, peer } = driverKit();

/** Fakes answering `xl info`, `xl list -l` and `xentop` with the recorded xen1 outputs. */
function xen1(): FakeTools {
  const f = new FakeTools().fixture("xl", "info", "xl/xl-info.txt").fixture("xl", "list", "xl/xl-list-l.json").fixture("xentop", "run", "xl/xentop-b-i2-d1.txt");
  fakes.push(f);
  return f;
}

function driver(f: FakeTools, extra: Partial<XlHostOptions> = {}): XlDriver {
  const d = new XlDriver({ name: "xen1", xlBinary: f.path("xl"), xentopBinary: f.path("xentop"), ...extra });
  drivers.push(d);
  return d;
}

describe("xl output parsers (recorded output)", () => {
  it("reads nr_cpus, total_memory and free_memory from xl info", () => {
    expect(parseXlInfo(fixture("xl/xl-info.txt"))).toEqual({ cpus: 8, totalMemory: 32661, freeMemory: 17001 });
  });

  it("reads every domain of xl list -l, Domain-0 and transit names included", () => {
    expect(parseXlList(fixture("xl/xl-list-l.json"))).toEqual([
      { domid: 0, name: "Domain-0", memKiB: 2097152, vcpus: 1 },
      { domid: 3, name: "web1", memKiB: 2097152, vcpus: 2 },
      { domid: 5, name: "db1", memKiB: 8388608, vcpus: 4 },
      { domid: 7, name: "monitoring01", memKiB: 1048576, vcpus: 1 },
      { domid: 9, name: "web7--incoming", memKiB: 2097152, vcpus: 2 },
    ]);
  });

  it("says what to do when xl prints its sxp format instead of JSON", () => {
    expect(() => parseXlList(fixture("xl/xl-list-l.sxp"))).toThrow('xl list -l did not print JSON (its first line is "(domain"; set output_format="json" in /etc/xen/xl.conf)');
  });

  it("takes CPU(%) from xentop's second sample and copes with 'no limit'", () => {
    const rows = parseXentop(fixture("xl/xentop-b-i2-d1.txt"));
    expect(rows).toEqual([
      { name: "Domain-0", state: "-----r", cpu: 12.3 },
      { name: "db1", state: "--b---", cpu: 40 },
      { name: "monitoring", state: "--b---", cpu: 3.2 },
      { name: "web1", state: "-----r", cpu: 95.5 },
      { name: "web7--inco", state: "---p--", cpu: 0 },
    ]);
    // xentop cuts names to 10 characters: matched by prefix when no other domain shares it.
    expect(xentopRowFor("monitoring01", rows, ["monitoring01", "web1"])?.cpu).toBe(3.2);
    expect(xentopRowFor("monitoring01", rows, ["monitoring01", "monitoring02"])).toBeUndefined();
    expect(() => parseXentop("xentop: nothing\n")).toThrow("xentop printed no table (no NAME STATE … header line)");
  });
});

describe("command messages", () => {
  it("keeps the last state of progress lines, joins lines, and cuts from the front", () => {
    expect(stderrSummary("Saving 10%\rSaving 55%\rSaving 100%\n\n  Migration failed, resuming at sender.  \n")).toBe("Saving 100%; Migration failed, resuming at sender.");
    expect(stderrSummary("x".repeat(50) + "\nthe cause", 20)).toBe("…xxxxxxxxx; the cause");
    expect(showCommand(["xl", "migrate", "-s", "ssh -p 2222", "it's"])).toBe("xl migrate -s 'ssh -p 2222' 'it'\\''s'");
  });
});

describe("xl driver facts (fake xl and xentop printing recorded output)", () => {
  it("reports the host and its guests exactly, without Domain-0 or domains in transit", async () => {
    const f = xen1();
    const d = driver(f, { labels: { rack: "r1" }, vmLabels: { db1: { tier: "db" } }, pinned: ["db1"] });
    expect(await d.facts()).toEqual({
      name: "xen1",
      state: "up",
      cpus: 8,
      // free_memory 17001 + the guests' 2048 + 8192 + 1024.
      mem: 28265,
      labels: { rack: "r1" },
      vms: [
        { name: "db1", cpu: 40, mem: 8192, labels: { tier: "db" }, pinned: true },
        { name: "monitoring01", cpu: 3.2, mem: 1024, labels: {}, pinned: false },
        { name: "web1", cpu: 95.5, mem: 2048, labels: {}, pinned: false },
      ],
      // Domain-0's row of xentop; free_memory of xl info.
      other_cpu: 12.3,
      mem_avail: 17001,
      measured: ["cpu", "other_cpu", "mem_avail"],
    });
    expect(f.calls().map((c) => c.join(" ")).sort()).toEqual(["xentop -b -i 2 -d 1", "xl info", "xl list -l"]);
  });

  it("a domain xentop shows but xl list -l skips (no configuration retrievable) is warned about once and counted as other_cpu, not dropped", async () => {
    // xentop batch rows as xentop.c prints them: name %10.10s, state %6s, CPU(sec) %10llu, CPU(%) %6.1f, …
    const extra = "  orphan01 --b---       1200   25.0    1048576    3.1    1049600       3.1     1    0        0        0    0        0        0        0          0          0    0\n";
    const f = xen1().behave("xentop", "run", `cat "$FIX/xl/xentop-b-i2-d1.txt"; printf '%s' '${extra}'`);
    const warnings: string[] = [];
    const d = driver(f);
    d.bind({ url: "", log: (level, message) => void (level === "warn" && warnings.push(message)) });
    const facts = await d.facts();
    expect(facts.vms.map((v) => v.name)).toEqual(["db1", "monitoring01", "web1"]);
    expect(facts.other_cpu).toBe(37.3);
    await d.facts();
    expect(warnings).toEqual(["domain orphan01 runs on xen1 (xentop) but xl list -l skips it (no configuration retrievable): not reported as a VM, its CPU counts as other_cpu"]);
  });

  it("records where each guest runs in shared storage", async () => {
    const f = xen1();
    const storage = join(f.dir, "storage");
    await driver(f, { storage }).facts();
    expect(JSON.parse(readFileSync(join(storage, "web1.json"), "utf8"))).toEqual({ name: "web1", mem: 2048, vcpus: 2, labels: {}, pinned: false, host: "xen1", generation: 1 });
    expect(existsSync(join(storage, "web7--incoming.json"))).toBe(false);
  });

  it("a command that hangs times out with a clear 503", async () => {
    // The hung command has a child of its own (as xl has ssh): both must go.
    const f = xen1().behave("xl", "info", `sleep 30 & echo $! > "$D/sleep.pid"; wait`);
    const t0 = Date.now();
    const r = await refusal(driver(f, { commandTimeoutMs: 300 }).facts());
    expect(r).toEqual({ status: 503, message: `host xen1: ${f.path("xl")} info did not finish within 300 ms and was killed` });
    expect(Date.now() - t0).toBeLessThan(3000);
    const pid = Number(readFileSync(join(f.dir, "sleep.pid"), "utf8"));
    // Gone, or a zombie waiting for init to reap it (state Z in /proc/PID/stat).
    const alive = () => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(alive()).toBe(false);
  });

  it("a missing binary gives a clear 503", async () => {
    const f = xen1();
    const r = await refusal(driver(f, { xlBinary: "/nonexistent/xl" }).facts());
    expect(r).toEqual({ status: 503, message: "host xen1: cannot run /nonexistent/xl: no such command (is xl installed and on the agent's PATH?)" });
  });

  it("a failing command's stderr is the message", async () => {
    const f = xen1().behave("xl", "list", `echo "libxl: error: libxl.c:730:libxl__domain_info: getting domain info list: Permission denied" >&2; exit 1`);
    const r = await refusal(driver(f).facts());
    expect(r).toEqual({ status: 503, message: `host xen1: ${f.path("xl")} list -l exited with code 1: libxl: error: libxl.c:730:libxl__domain_info: getting domain info list: Permission denied` });
  });
});

describe("xl driver migrations", () => {
  it("runs xl migrate DOMAIN DESTHOST (the agent URL's host); running until it exits 0, then completed", async () => {
    const dest = await peer("xen2");
    const f = xen1().behave("xl", "migrate", `sleep 0.4; cat "$FIX/xl/xl-migrate-ok.stderr" >&2; exit 0`);
    const storage = join(f.dir, "storage");
    const d = driver(f, { storage });
    await d.facts();
    const id = await d.startMigration("web1", { name: "xen2", url: dest.url });
    expect(d.migrationStatus(id)).toEqual({ state: "running" });
    expect(await settled(() => d.migrationStatus(id))).toEqual({ state: "completed" });
    expect(f.calls().filter((c) => c[1] === "migrate")).toEqual([["xl", "migrate", "web1", "127.0.0.1"]]);
    // The source records the move at once, so a restart elsewhere checks the right host.
    expect(JSON.parse(readFileSync(join(storage, "web1.json"), "utf8")).host).toBe("xen2");
  });

  it("a facts reading taken before a migration completed does not record the VM back here", async () => {
    const dest = await peer("xen2");
    const f = xen1().behave("xentop", "run", `sleep 0.6; cat "$FIX/xl/xentop-b-i2-d1.txt"`).behave("xl", "migrate", "sleep 0.1");
    const storage = join(f.dir, "storage");
    const d = driver(f, { storage });
    await d.facts();
    const reading = d.facts();
    const id = await d.startMigration("web1", { name: "xen2", url: dest.url });
    expect(await settled(() => d.migrationStatus(id))).toEqual({ state: "completed" });
    // The reading still lists web1 (xl list ran before the move), yet the record keeps the destination.
    expect((await reading).vms.map((v) => v.name)).toContain("web1");
    expect(JSON.parse(readFileSync(join(storage, "web1.json"), "utf8")).host).toBe("xen2");
  });

  it("uses the configured address and extra options; a non-zero exit fails with xl's stderr", async () => {
    const dest = await peer("xen2");
    const f = xen1().behave("xl", "migrate", `cat "$FIX/xl/xl-migrate-ssh-refused.stderr" >&2; exit 1`);
    const d = driver(f, { migrateHosts: { xen2: "xen2.example.net" }, migrateOptions: ["-s", "ssh -p 2222"] });
    const id = await d.startMigration("web1", { name: "xen2", url: dest.url });
    expect(await settled(() => d.migrationStatus(id))).toEqual({
      state: "failed",
      error:
        `${f.path("xl")} migrate -s 'ssh -p 2222' web1 xen2.example.net exited with code 1: ssh: connect to host xen2.example.net port 22: Connection refused; ` +
        "libxl: error: libxl_utils.c:542:libxl_read_exactly: file/stream truncated reading banner from migration receiver stream",
    });
    expect(f.calls().filter((c) => c[1] === "migrate")).toEqual([["xl", "migrate", "-s", "ssh -p 2222", "web1", "xen2.example.net"]]);
  });

  it("refuses (422) without running xl migrate when the destination agent is unreachable or someone else", async () => {
    const other = await peer("xen3");
    const gone = await startAgent({ driver: new SimDriver({ name: "gone", cpus: 1, mem: 1 }), listen: "127.0.0.1:0" });
    await gone.close();
    const f = xen1();
    const d = driver(f);
    expect(await refusal(d.startMigration("web1", { name: "xen2", url: other.url }))).toEqual({
      status: 422,
      message: `unknown destination host xen2: the agent at ${other.url} is host xen3`,
    });
    const b = await refusal(d.startMigration("web1", { name: "xen2", url: gone.url }));
    expect(b.status).toBe(422);
    expect(b.message).toMatch(/^destination host xen2 cannot be reached: agent xen2 \(http:\/\/127\.0\.0\.1:\d+\) GET \/healthz: connection refused/);
    expect(f.calls().filter((c) => c[1] === "migrate")).toEqual([]);
  });

  it("refuses an unknown VM (404), its own host (400) and a VM already migrating (409)", async () => {
    const dest = await peer("xen2");
    const f = xen1().behave("xl", "migrate", "sleep 0.5");
    const d = driver(f);
    expect(await refusal(d.startMigration("ghost", { name: "xen2", url: dest.url }))).toEqual({ status: 404, message: 'no VM "ghost" on host xen1' });
    expect(await refusal(d.startMigration("web7", { name: "xen2", url: dest.url }))).toEqual({ status: 404, message: 'no VM "web7" on host xen1' });
    expect(await refusal(d.startMigration("web1", { name: "xen1", url: dest.url }))).toEqual({ status: 400, message: "cannot migrate web1 to its own host xen1" });
    const id = await d.startMigration("db1", { name: "xen2", url: dest.url });
    expect(await refusal(d.startMigration("db1", { name: "xen2", url: dest.url }))).toEqual({ status: 409, message: `VM db1 is already migrating (migration ${id})` });
    expect(await settled(() => d.migrationStatus(id))).toEqual({ state: "completed" });
  });
});

describe("xl driver restarts", () => {
  function storageWith(f: FakeTools, lastHost: string): string {
    const storage = join(f.dir, "storage");
    mkdirSync(storage, { recursive: true });
    writeFileSync(join(storage, "web9.cfg"), 'name = "web9"\ntype = "hvm"\nmemory = 2048\nvcpus = 2\ndisk = [ "/srv/vmpolicy/disks/web9.img,raw,xvda,rw" ]\n');
    writeFileSync(join(storage, "web9.json"), JSON.stringify({ name: "web9", mem: 2048, vcpus: 2, labels: {}, pinned: false, host: lastHost }));
    return storage;
  }

  it("runs xl create STORAGE/<vm>.cfg and records the VM here", async () => {
    const f = xen1().behave("xl", "create", `sleep 0.2; cat "$FIX/xl/xl-create-web9.stderr" >&2`);
    const storage = storageWith(f, "xen3");
    const d = driver(f, { storage });
    const { id, status } = await d.restart("web9", "xen3");
    expect(status).toEqual({ state: "running" });
    expect(await settled(() => d.restartStatus(id))).toEqual({ state: "completed" });
    expect(f.calls().filter((c) => c[1] === "create")).toEqual([["xl", "create", join(storage, "web9.cfg")]]);
    expect(JSON.parse(readFileSync(join(storage, "web9.json"), "utf8")).host).toBe("xen1");
  });

  it("refuses a wrong from, a missing config, a VM already running here, and no storage", async () => {
    const f = xen1();
    const storage = storageWith(f, "xen3");
    const d = driver(f, { storage });
    expect(await refusal(d.restart("web9", "xen4"))).toEqual({ status: 409, message: "VM web9 last ran on xen3, not xen4: refusing to start a second copy" });
    expect(await refusal(d.restart("web8", "xen3"))).toEqual({ status: 404, message: `no VM "web8" in shared storage: ${join(storage, "web8.cfg")} does not exist` });
    writeFileSync(join(storage, "web1.cfg"), 'name = "web1"\n');
    writeFileSync(join(storage, "web1.json"), JSON.stringify({ name: "web1", mem: 2048, vcpus: 2, labels: {}, pinned: false, host: "xen3" }));
    expect(await refusal(d.restart("web1", "xen3"))).toEqual({ status: 409, message: "VM web1 already runs on xen1" });
    expect(await refusal(driver(f).restart("web9", "xen3"))).toEqual({ status: 409, message: "host xen1 has no shared storage (start its agent with --storage DIR)" });
    expect(f.calls().filter((c) => c[1] === "create")).toEqual([]);
  });

  it("a failing xl create makes the restart failed with its stderr", async () => {
    const f = xen1().behave("xl", "create", `echo "Parsing config from $2" >&2; echo "libxl: error: libxl_create.c:689:libxl__domain_make: domain creation fail: Cannot allocate memory" >&2; exit 3`);
    const storage = storageWith(f, "xen3");
    const d = driver(f, { storage });
    const { id } = await d.restart("web9", "xen3");
    expect(await settled(() => d.restartStatus(id))).toEqual({
      state: "failed",
      error: `${f.path("xl")} create ${join(storage, "web9.cfg")} exited with code 3: Parsing config from ${join(storage, "web9.cfg")}; libxl: error: libxl_create.c:689:libxl__domain_make: domain creation fail: Cannot allocate memory`,
    });
  });
});

describe("an agent with the xl driver", () => {
  it("answers GET /facts in the SPEC 6 shape and migrates through POST /migrations to another xl agent", async () => {
    // The destination is an xl agent too (its own fakes): the source asks it who it is before running xl migrate.
    const g = xen1();
    const dest = await startAgent({ driver: new XlDriver({ name: "xen2", xlBinary: g.path("xl"), xentopBinary: g.path("xentop") }), listen: "127.0.0.1:0" });
    agents.push(dest);
    const f = xen1().behave("xl", "migrate", "sleep 0.2");
    const a = await startAgent({ driver: new XlDriver({ name: "xen1", xlBinary: f.path("xl"), xentopBinary: f.path("xentop"), labels: { rack: "r1" } }), listen: "127.0.0.1:0" });
    agents.push(a);
    const facts = await (await fetch(`${a.url}/facts`)).json();
    expect(facts).toEqual({
      name: "xen1",
      state: "up",
      cpus: 8,
      mem: 28265,
      labels: { rack: "r1" },
      vms: [
        { name: "db1", cpu: 40, mem: 8192, labels: {}, pinned: false },
        { name: "monitoring01", cpu: 3.2, mem: 1024, labels: {}, pinned: false },
        { name: "web1", cpu: 95.5, mem: 2048, labels: {}, pinned: false },
      ],
      other_cpu: 12.3,
      mem_avail: 17001,
      measured: ["cpu", "other_cpu", "mem_avail"],
    });
    expect(await (await fetch(`${a.url}/healthz`)).json()).toEqual({ ok: true, name: "xen1", driver: "xl" });
    const post = await fetch(`${a.url}/migrations`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ vm: "web1", to: { name: "xen2", url: dest.url } }) });
    expect(post.status).toBe(202);
    const { id } = (await post.json()) as { id: string };
    let state = "running";
    for (let i = 0; i < 200 && state === "running"; i++) {
      await new Promise((r) => setTimeout(r, 10));
      state = ((await (await fetch(`${a.url}/migrations/${id}`)).json()) as { state: string }).state;
    }
    expect(state).toBe("completed");
    expect(f.calls().filter((c) => c[1] === "migrate")).toEqual([["xl", "migrate", "web1", "127.0.0.1"]]);
    // The source asked the destination agent who it is (GET /healthz), which runs no xl command there.
    expect(g.calls()).toEqual([]);
    const bad = await fetch(`${a.url}/migrations`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ vm: "ghost", to: { name: "xen2", url: dest.url } }) });
    expect(bad.status).toBe(404);
    expect(await bad.json()).toEqual({ error: 'no VM "ghost" on host xen1', message: 'no VM "ghost" on host xen1' });
  });
});

describe("vmpolicy agent --driver xl (built CLI, fake xl and xentop first on PATH)", () => {
  const CLI = resolve(import.meta.dirname, "../../../dist/bin/vmpolicy.js");

  it("starts, serves the host's facts, and stops on SIGTERM", async () => {
    const f = xen1();
    const env = { ...process.env, PATH: `${join(f.dir, "bin")}:${process.env.PATH ?? ""}` };
    const child = spawn(process.execPath, [CLI, "agent", "--driver", "xl", "--name", "xen1", "--labels", "rack=r1", "--listen", "127.0.0.1:0"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr!.on("data", (d) => (err += d));
    try {
      const url = await new Promise<string>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`agent did not start: ${err}`)), 10_000);
        child.on("exit", (code) => rej(new Error(`agent exited ${code}: ${err}`)));
        createInterface({ input: child.stdout! }).on("line", (line) => {
          const m = /"msg":"agent xen1 \(xl\) listening on (http:\/\/[^"]+)"/.exec(line);
          if (m) {
            clearTimeout(timer);
            res(m[1]!);
          }
        });
      });
      const facts = (await (await fetch(`${url}/facts`)).json()) as { name: string; labels: unknown; vms: { name: string; cpu: number }[] };
      expect([facts.name, facts.labels, facts.vms.map((v) => [v.name, v.cpu])]).toEqual(["xen1", { rack: "r1" }, [["db1", 40], ["monitoring01", 3.2], ["web1", 95.5]]]);
      const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("exits 2 naming the tool when xl is not installed", () => {
    const r = spawnSync(process.execPath, [CLI, "agent", "--driver", "xl", "--name", "xen1"], { env: { ...process.env, PATH: "/nonexistent" }, encoding: "utf8" });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 2, stderr: "vmpolicy agent: --driver xl: host xen1: cannot run xl: no such command (is xl installed and on the agent's PATH?)\n" });
  });
});
