import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startAgent } from "../../../engine/hosts/agent/server.js";
import { VirshDriver, type VirshHostOptions } from "../../../engine/hosts/drivers/virsh/index.js";
import { parseDisks, parseDomjobinfo, parseDominfo, parseDomstats, parseNameList, parseNodeCpuStats, parseNodeMemStats, parseNodeinfo } from "../../../engine/hosts/drivers/virsh/parse.js";
import { sharedStorageRefusal } from "../../../engine/hosts/drivers/shared-storage.js";
import { FIXTURES, FakeTools } from "../../fixtures/xl/fake-tools.js";
import { driverKit, refusal, settled } from "../../fixtures/xl/driver-kit.js";

const fixture = (p: string) => readFileSync(join(FIXTURES, p), "utf8");

const { fakes, drivers, agents, peer } = driverKit();

/** Prints fixture virsh/SUB-1.txt on the first call, SUB-2.txt on every later one. */
const secondSample = (sub: string) => `n=$(( $(cat "$D/${sub}.n" 2>/dev/null || echo 0) + 1 )); echo $n > "$D/${sub}.n"; cat "$FIX/virsh/${sub}-$(( n > 2 ? 2 : n )).txt"`;

/** Fake virsh answering with the recorded kvm1 outputs; domstats and nodecpustats print sample 1, then sample 2 (one second later). */
function kvm1(): FakeTools {
  const f = new FakeTools()
    .fixture("virsh", "nodeinfo", "virsh/nodeinfo.txt")
    .fixture("virsh", "nodememstats", "virsh/nodememstats.txt")
    .fixture("virsh", "list", "virsh/list-name.txt")
    .fixture("virsh", "dumpxml", "virsh/dumpxml-app1.xml")
    .behave("virsh", "domstats", secondSample("domstats"))
    .behave("virsh", "nodecpustats", secondSample("nodecpustats"));
  fakes.push(f);
  return f;
}

/** A virsh agent for the destination host kvm2, advertising its libvirt and data path. */
async function virshPeer(extra: Partial<VirshHostOptions> = {}): Promise<string> {
  const f = new FakeTools().behave("virsh", "list", "true");
  fakes.push(f);
  const d = new VirshDriver({ name: "kvm2", virshBinary: f.path("virsh"), advertiseUri: "qemu+tcp://kvm2.example.net/system", migrationAddress: "10.0.0.2", ...extra });
  drivers.push(d);
  const a = await startAgent({ driver: d, listen: "127.0.0.1:0" });
  agents.push(a);
  return a.url;
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

  it("reads nodecpustats, nodememstats, dominfo (libvirt's test driver), domjobinfo and the disks of dumpxml", () => {
    expect(parseNodeCpuStats(fixture("virsh/nodecpustats-1.txt"))).toEqual({ busyNs: 120000000000n });
    // free + buffers + cached.
    expect(parseNodeMemStats(fixture("virsh/nodememstats.txt"))).toEqual({ availKiB: 49000000 });
    const testDriver = "Id:             1\nName:           test\nUUID:           6695eb01-f6a4-8304-79aa-97f2502e193f\nOS Type:        linux\nState:          running\nCPU(s):         2\nCPU time:       1796599121.1s\nMax memory:     8388608 KiB\nUsed memory:    2097152 KiB\nPersistent:     yes\n";
    expect(parseDominfo(testDriver, "test")).toEqual({ vcpus: 2, cpuNs: 1796599121100000000n, memKiB: 2097152 });
    expect(parseDomjobinfo(fixture("virsh/domjobinfo-running.txt"))).toEqual({ elapsed_ms: 3007, processed_mib: 0.7, remaining_mib: 96.3, total_mib: 128.4 });
    expect(parseDomjobinfo("Job type:         None        \n\n")).toBeUndefined();
    expect(parseDisks(fixture("virsh/dumpxml-app1.xml"))).toEqual([
      { type: "network", device: "disk", target: "vda", source: "vms/app1-root", readonly: false, shareable: false },
      { type: "file", device: "disk", target: "vdb", source: "/srv/images/app1-seed.img", readonly: true, shareable: false },
      { type: "file", device: "cdrom", target: "sda", source: undefined, readonly: true, shareable: false },
    ]);
  });

  it("a writable disk must be on a shared file system; read-only, shareable, network and empty ones need nothing", () => {
    const disk = (d: Partial<Parameters<typeof sharedStorageRefusal>[0][number]>) => ({ type: "file", device: "disk", target: "vda", source: "/var/lib/libvirt/images/a.img", readonly: false, shareable: false, ...d });
    const ext4 = () => 0xef53;
    expect(sharedStorageRefusal([disk({})], ext4)).toBe("its disk vda (/var/lib/libvirt/images/a.img) is writable and on a local file system (ext2/3/4)");
    expect(sharedStorageRefusal([disk({ readonly: true }), disk({ shareable: true }), disk({ type: "network" }), disk({ source: undefined })], ext4)).toBeUndefined();
    expect(sharedStorageRefusal([disk({})], () => 0x6969)).toBeUndefined(); // NFS
    const missing = () => {
      throw Object.assign(new Error("no such file"), { code: "ENOENT" });
    };
    expect(sharedStorageRefusal([disk({})], missing)).toBe("its disk vda (/var/lib/libvirt/images/a.img) is writable and the agent cannot tell whether it is on shared storage (ENOENT)");
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
  it("reports CPU from cpu.time growth between two samples, memory from the balloon, and what runs outside the guests", async () => {
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
        // Arrived between the samples: its first seconds are not its load.
        { name: "new1", cpu: 0, mem: 2048, labels: {}, pinned: false },
      ],
      // nodecpustats: 3.2 s busy in 1 s, of which the guests 1.805 + 0.033 + 0.5 + 0.412 (new1, since it started).
      other_cpu: 45,
      // nodememstats: free + buffers + cached = 49000000 KiB = 47851 MiB, less 1024 kept for the host.
      mem_avail: 46827,
      measured: ["cpu", "other_cpu", "mem_avail"],
    });
    // The agent goes on sampling on its own clock (every sampleMs), so count kinds of call, not calls.
    expect([...new Set(f.calls().map((c) => c.join(" ")))].sort()).toEqual(["virsh domstats --list-active --cpu-total --balloon --vcpu", "virsh nodecpustats", "virsh nodeinfo", "virsh nodememstats"]);
  });

  it("a hypervisor without nodecpustats or nodememstats reports no other_cpu or mem_avail, and says so", async () => {
    const f = kvm1().behave("virsh", "nodecpustats", `echo "error: this function is not supported by the connection driver: virNodeGetCPUStats" >&2; exit 1`).behave("virsh", "nodememstats", "exit 1");
    const facts = await driver(f).facts();
    expect([facts.other_cpu, facts.mem_avail, facts.measured]).toEqual([undefined, undefined, ["cpu"]]);
  });

  it("passes -c URI to every virsh call", async () => {
    const f = kvm1();
    await driver(f, { connect: "qemu:///system", mem: 60000, cpus: 12 }).facts().then((r) => expect([r.cpus, r.mem]).toEqual([12, 60000]));
    expect(f.calls().every((c) => c[1] === "-c" && c[2] === "qemu:///system")).toBe(true);
  });

  it("a hanging virsh times out, a missing one is named", async () => {
    const f = kvm1().behave("virsh", "domstats", "sleep 30");
    expect(await refusal(driver(f, { commandTimeoutMs: 300 }).facts())).toEqual({ status: 503, message: `host kvm1: ${f.path("virsh")} domstats --list-active --cpu-total --balloon --vcpu did not finish within 300 ms and was killed` });
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
  it("asks the destination agent where its libvirt is, then runs virsh migrate --live --persistent --undefinesource with its data path, reporting domjobinfo", async () => {
    const dest = await virshPeer();
    const f = kvm1().behave("virsh", "migrate", "sleep 1.5").fixture("virsh", "domjobinfo", "virsh/domjobinfo-running.txt");
    const d = driver(f, { connect: "qemu:///system" });
    const id = await d.startMigration("app1", { name: "kvm2", url: dest });
    expect(d.migrationStatus(id)).toEqual({ state: "running" });
    const progress = async () => {
      for (let i = 0; i < 100 && !d.migrationStatus(id)?.progress; i++) await new Promise((r) => setTimeout(r, 20));
      return d.migrationStatus(id);
    };
    expect(await progress()).toEqual({ state: "running", progress: { elapsed_ms: 3007, processed_mib: 0.7, remaining_mib: 96.3, total_mib: 128.4 } });
    expect(await settled(() => d.migrationStatus(id), 8000)).toEqual({ state: "completed" });
    // The disks were checked first (a network disk, a read-only one and an empty CD-ROM: nothing to copy).
    expect(f.calls().filter((c) => c[3] === "migrate" || c[3] === "dumpxml")).toEqual([
      ["virsh", "-c", "qemu:///system", "dumpxml", "app1"],
      ["virsh", "-c", "qemu:///system", "migrate", "--live", "--persistent", "--undefinesource", "app1", "qemu+tcp://kvm2.example.net/system", "--migrateuri", "tcp://10.0.0.2", "--listen-address", "10.0.0.2"],
    ]);
  });

  it("refuses a writable local disk before starting, unless the config says unsafe; a failure carries libvirt's message", async () => {
    const dest = await virshPeer({ migrationAddress: undefined });
    const local = join(kvm1().dir, "local.img");
    writeFileSync(local, "");
    const f = kvm1()
      .behave("virsh", "dumpxml", `echo "<domain><devices><disk type='file' device='disk'><source file='${local}'/><target dev='vda' bus='virtio'/></disk></devices></domain>"`)
      .behave("virsh", "migrate", `echo "error: Unsafe migration: Migration without shared storage is unsafe" >&2; exit 1`);
    const r = await refusal(driver(f).startMigration("app2", { name: "kvm2", url: dest }));
    expect(r.status).toBe(409);
    expect(r.message).toMatch(new RegExp(`^VM app2 on kvm1 cannot migrate live without copying storage: its disk vda \\(${local}\\) is writable and on a local file system \\(.+\\); vmpolicy never copies storage`));
    expect(f.calls().some((c) => c[1] === "migrate")).toBe(false);

    const d = driver(f, { unsafe: true });
    const id = await d.startMigration("app2", { name: "kvm2", url: dest });
    expect(await settled(() => d.migrationStatus(id))).toEqual({
      state: "failed",
      error: `${f.path("virsh")} migrate --live --persistent --undefinesource --unsafe app2 qemu+tcp://kvm2.example.net/system exited with code 1: error: Unsafe migration: Migration without shared storage is unsafe`,
    });
  });

  it("refuses a destination that does not say where its libvirt is, or says something that is not a libvirt URI", async () => {
    const sim = await peer("kvm2");
    const f = kvm1();
    const r = await refusal(driver(f).startMigration("app1", { name: "kvm2", url: sim.url }));
    expect(r.status).toBe(422);
    expect(r.message).toMatch(/^destination host kvm2 did not say where its libvirt is \(POST \/incoming\/prepare\): .*driver sim needs no preparation for incoming VMs/);
    expect(await refusal(driver(f).startMigration("ghost", { name: "kvm2", url: sim.url }))).toEqual({ status: 404, message: 'no VM "ghost" on host kvm1' });
    expect(() => new VirshDriver({ name: "kvm3", advertiseUri: "-oProxyCommand=x" })).toThrow('advertiseUri "-oProxyCommand=x" is not a libvirt URI (driver[+transport]://…)');
    expect(f.calls().some((c) => c[1] === "migrate")).toBe(false);
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
    expect(Object.keys(facts).sort()).toEqual(["cpus", "labels", "measured", "mem", "mem_avail", "name", "other_cpu", "state", "vms"]);
    expect(facts.vms.map((v) => [v.name, v.cpu])).toEqual([["app1", 180.5], ["app2", 3.3], ["cache1", 50], ["new1", 0]]);
  });
});
