import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startAgent } from "../../../engine/hosts/agent/server.js";
import { VirshDriver, type VirshHostOptions } from "../../../engine/hosts/drivers/virsh.js";
import { parseDomstats, parseNameList, parseNodeinfo } from "../../../engine/hosts/drivers/virsh-parse.js";
import { FIXTURES, FakeTools } from "../../fixtures/xl/fake-tools.js";
import { driverKit, refusal, settled } from "../../fixtures/xl/driver-kit.js";

const fixture = (p: string) => readFileSync(join(FIXTURES, p), "utf8");

const { fakes, drivers, agents, peer } = driverKit();

/** Fake virsh answering with the recorded kvm1 outputs; domstats prints sample 1, then sample 2 (one second later). */
function kvm1(): FakeTools {
  const f = new FakeTools()
    .fixture("virsh", "nodeinfo", "virsh/nodeinfo.txt")
    .fixture("virsh", "list", "virsh/list-name.txt")
    .behave("virsh", "domstats", `n=$(( $(cat "$D/domstats.n" 2>/dev/null || echo 0) + 1 )); echo $n > "$D/domstats.n"; cat "$FIX/virsh/domstats-$(( n > 2 ? 2 : n )).txt"`);
  fakes.push(f);
  return f;
}

/** A clock that advances exactly one second per reading, so CPU percentages come out exact. */
function seconds(): () => number {
  let t = 0;
  return () => (t += 1000);
}

function driver(f: FakeTools, extra: Partial<VirshHostOptions> = {}): VirshDriver {
  const d = new VirshDriver({ name: "kvm1", virshBinary: f.path("virsh"), sampleMs: 20, now: seconds(), ...extra });
  drivers.push(d);
  return d;
}

describe("virsh output parsers (recorded output)", () => {
  it("reads CPU(s) and Memory size from virsh nodeinfo", () => {
    expect(parseNodeinfo(fixture("virsh/nodeinfo.txt"))).toEqual({ cpus: 16, memKiB: 65755112 });
    expect(() => parseNodeinfo("CPU(s):              16\n")).toThrow('virsh nodeinfo: no "Memory size: N KiB" line (got null)');
  });

  it("reads virsh list --name and the domstats blocks", () => {
    expect(parseNameList(fixture("virsh/list-name.txt"))).toEqual(["app1", "app2", "cache1"]);
    const s = parseDomstats(fixture("virsh/domstats-1.txt"));
    expect([...s.keys()]).toEqual(["app1", "app2", "cache1"]);
    expect(s.get("cache1")?.get("balloon.current")).toBe("3145728");
    expect(s.get("app1")?.get("cpu.time")).toBe("7722034110582");
    expect(() => parseDomstats("  cpu.time=1\n")).toThrow('virsh domstats: cannot read line "cpu.time=1"');
  });
});

describe("virsh driver facts (fake virsh printing recorded output)", () => {
  it("reports CPU from cpu.time growth between two samples and memory from the balloon", async () => {
    const f = kvm1();
    const d = driver(f, { labels: { rack: "r2" }, vmLabels: { app1: { tier: "web" } } });
    expect(await d.facts()).toEqual({
      name: "kvm1",
      state: "up",
      cpus: 16,
      // 65755112 KiB = 64213 MiB (rounded down), less 1024 kept for the host.
      mem: 63189,
      labels: { rack: "r2" },
      vms: [
        // +1.805 s of CPU in 1 s: a 2-vCPU guest at 180.5 % of one CPU.
        { name: "app1", cpu: 180.5, mem: 4096, labels: { tier: "web" }, pinned: false },
        { name: "app2", cpu: 3.3, mem: 1024, labels: {}, pinned: false },
        // balloon.current (3 GiB), not balloon.maximum (4 GiB).
        { name: "cache1", cpu: 50, mem: 3072, labels: {}, pinned: false },
        // Arrived between the samples: no interval yet.
        { name: "new1", cpu: 0, mem: 2048, labels: {}, pinned: false },
      ],
    });
    expect(f.calls().map((c) => c.join(" ")).sort()).toEqual(["virsh domstats --list-active --cpu-total --balloon --vcpu", "virsh domstats --list-active --cpu-total --balloon --vcpu", "virsh nodeinfo"]);
  });

  it("passes -c URI to every virsh call", async () => {
    const f = kvm1();
    await driver(f, { connect: "qemu:///system", mem: 60000, cpus: 12 }).facts().then((r) => expect([r.cpus, r.mem]).toEqual([12, 60000]));
    expect(f.calls().every((c) => c[1] === "-c" && c[2] === "qemu:///system")).toBe(true);
  });

  it("a hanging virsh times out, a missing one is named", async () => {
    const f = kvm1().behave("virsh", "nodeinfo", "sleep 30");
    expect(await refusal(driver(f, { commandTimeoutMs: 300 }).facts())).toEqual({ status: 503, message: `host kvm1: ${f.path("virsh")} nodeinfo did not finish within 300 ms and was killed` });
    expect(await refusal(driver(f, { virshBinary: "/nonexistent/virsh" }).facts())).toEqual({
      status: 503,
      message: "host kvm1: cannot run /nonexistent/virsh: no such command (is virsh installed and on the agent's PATH?)",
    });
  });

  it("a libvirt error is the message", async () => {
    const f = kvm1().behave("virsh", "nodeinfo", `echo "error: failed to connect to the hypervisor" >&2; echo "error: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory" >&2; exit 1`);
    expect(await refusal(driver(f).facts())).toEqual({
      status: 503,
      message: `host kvm1: ${f.path("virsh")} nodeinfo exited with code 1: error: failed to connect to the hypervisor; error: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory`,
    });
  });
});

describe("virsh driver migrations and restarts", () => {
  it("runs virsh migrate --live --persistent DOMAIN qemu+ssh://DESTHOST/system until it exits 0", async () => {
    const dest = await peer("kvm2");
    const f = kvm1().behave("virsh", "migrate", "sleep 0.3");
    const d = driver(f);
    const id = await d.startMigration("app1", { name: "kvm2", url: dest.url });
    expect(d.migrationStatus(id)).toEqual({ state: "running" });
    expect(await settled(() => d.migrationStatus(id))).toEqual({ state: "completed" });
    expect(f.calls().filter((c) => c[1] === "migrate")).toEqual([["virsh", "migrate", "--live", "--persistent", "app1", "qemu+ssh://127.0.0.1/system"]]);
  });

  it("takes a URI template, a host mapping and extra options; a failure carries virsh's error", async () => {
    const dest = await peer("kvm2");
    const f = kvm1().behave("virsh", "migrate", `cat "$FIX/virsh/migrate-ssh-failed.stderr" >&2; exit 1`);
    const d = driver(f, { migrateUri: "qemu+tls://{host}/system", migrateHosts: { kvm2: "kvm9.example.net" }, migrateOptions: ["--undefinesource"] });
    const id = await d.startMigration("app2", { name: "kvm2", url: dest.url });
    expect(await settled(() => d.migrationStatus(id))).toEqual({
      state: "failed",
      error: `${f.path("virsh")} migrate --live --persistent --undefinesource app2 qemu+tls://kvm9.example.net/system exited with code 1: error: Cannot recv data: ssh: Could not resolve hostname kvm9.example.net: Name or service not known: Connection reset by peer`,
    });
    expect(await refusal(d.startMigration("ghost", { name: "kvm2", url: dest.url }))).toEqual({ status: 404, message: 'no VM "ghost" on host kvm1' });
  });

  it("restarts with virsh create STORAGE/<vm>.xml after checking from", async () => {
    const f = kvm1().fixture("virsh", "create", "virsh/create-app9.stdout");
    const storage = join(f.dir, "storage");
    mkdirSync(storage);
    writeFileSync(join(storage, "app9.xml"), "<domain type='kvm'><name>app9</name><memory unit='MiB'>2048</memory><vcpu>2</vcpu></domain>\n");
    writeFileSync(join(storage, "app9.json"), JSON.stringify({ name: "app9", mem: 2048, vcpus: 2, labels: {}, pinned: false, host: "kvm3" }));
    const d = driver(f, { storage });
    expect(await refusal(d.restart("app9", "kvm2"))).toEqual({ status: 409, message: "VM app9 last ran on kvm3, not kvm2: refusing to start a second copy" });
    const { id } = await d.restart("app9", "kvm3");
    expect(await settled(() => d.restartStatus(id))).toEqual({ state: "completed" });
    expect(f.calls().filter((c) => c[1] === "create")).toEqual([["virsh", "create", join(storage, "app9.xml")]]);
    expect(JSON.parse(readFileSync(join(storage, "app9.json"), "utf8")).host).toBe("kvm1");
  });

  it("an agent with the virsh driver answers GET /facts in the SPEC 6 shape", async () => {
    const f = kvm1();
    const a = await startAgent({ driver: driver(f), listen: "127.0.0.1:0" });
    agents.push(a);
    const facts = (await (await fetch(`${a.url}/facts`)).json()) as { name: string; cpus: number; mem: number; vms: { name: string; cpu: number }[] };
    expect(Object.keys(facts).sort()).toEqual(["cpus", "labels", "mem", "name", "state", "vms"]);
    expect(facts.vms.map((v) => [v.name, v.cpu])).toEqual([["app1", 180.5], ["app2", 3.3], ["cache1", 50], ["new1", 0]]);
  });
});
