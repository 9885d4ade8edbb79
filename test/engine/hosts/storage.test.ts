import { readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { DriverError, type VmDefinition } from "../../../engine/hosts/drivers/contract.js";
import { SimStorage } from "../../../engine/hosts/drivers/sim-storage.js";
import { tempDirs } from "./temp-dirs.js";

// The shared-storage record (SPEC 6): the authority on where a VM lives, claimed atomically with a growing generation.
const folder = tempDirs("vmpolicy-storage-");

const def = (host: string): VmDefinition => ({ name: "g1", mem: 32, vcpus: 1, labels: {}, pinned: false, host });
const onlyFrom = (from: string) => (current: { host: string } | undefined) => (current?.host === from ? null : `g1 is on ${current?.host}, not ${from}`);

describe("shared-storage record", () => {
  it("names the owner and a generation that grows by one per claim; a refused claim changes nothing", () => {
    const s = new SimStorage(folder());
    expect(s.write(def("h1"))).toEqual({ ...def("h1"), generation: 1 });
    expect(s.claim(def("h2"), onlyFrom("h1"))).toEqual({ ...def("h2"), generation: 2 });
    expect(() => s.claim(def("h3"), onlyFrom("h1"))).toThrow(new DriverError(409, "g1 is on h2, not h1"));
    expect(JSON.parse(readFileSync(join(s.dir, "g1.json"), "utf8"))).toEqual({ ...def("h2"), generation: 2 });
    expect(s.take(def("h3"), ["h1"])).toBe("shared storage names h2 as the host of g1 (generation 2)");
    expect(s.take(def("h3"), ["h2"])).toBeNull();
    expect(s.read("g1")).toEqual({ ...def("h3"), generation: 3 });
  });

  it("claims before a start and hands the record back when the start fails", async () => {
    const s = new SimStorage(folder());
    s.write(def("lost"));
    await expect(s.claimThen(def("h2"), onlyFrom("lost"), async () => {
      expect(s.read("g1")).toEqual({ ...def("h2"), generation: 2 });
      throw new Error("QEMU exited");
    })).rejects.toThrow("QEMU exited");
    expect(s.read("g1")).toEqual({ ...def("lost"), generation: 3 });
    expect(await s.claimThen(def("h3"), onlyFrom("lost"), async () => "started")).toBe("started");
    await expect(s.claimThen(def("h2"), onlyFrom("lost"), async () => "never")).rejects.toThrow("g1 is on h3, not lost");
  });

  it("reads a record written before generations as generation 0", () => {
    const s = new SimStorage(folder());
    writeFileSync(join(s.dir, "g1.json"), JSON.stringify(def("h1")));
    expect(s.read("g1")).toEqual({ ...def("h1"), generation: 0 });
    writeFileSync(join(s.dir, "g1.json"), JSON.stringify({ ...def("h1"), generation: -1 }));
    expect(() => s.read("g1")).toThrow(`${join(s.dir, "g1.json")}: generation must be an integer ≥ 0`);
  });

  it("waits for another agent's lock, and takes over one left by a crash", () => {
    const s = new SimStorage(folder());
    const lock = join(s.dir, "g1.json.lock");
    writeFileSync(lock, "h9 1\n");
    const started = Date.now();
    expect(() => s.write(def("h1"))).toThrow(`the record of g1 is locked by another agent (${lock}); try again`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(lock, old, old);
    expect(s.write(def("h1")).generation).toBe(1);
  });

  it("of agents racing to take a VM from a lost host, exactly one wins", async () => {
    const s = new SimStorage(folder());
    s.write(def("lost"));
    const go = new Int32Array(new SharedArrayBuffer(4));
    const module = new URL("../../../dist/engine/hosts/drivers/sim-storage.js", import.meta.url).href;
    const code = `
      const { workerData, parentPort } = require("node:worker_threads");
      import(workerData.module).then(({ SimStorage }) => {
        const s = new SimStorage(workerData.dir);
        parentPort.postMessage("ready");
        Atomics.wait(workerData.go, 0, 0);
        try {
          s.claim({ name: "g1", mem: 32, vcpus: 1, labels: {}, pinned: false, host: workerData.host }, (c) => (c && c.host === "lost" ? null : "taken by " + (c && c.host)));
          parentPort.postMessage("won");
        } catch (e) {
          parentPort.postMessage(e.message);
        }
      });`;
    const hosts = ["a1", "a2", "a3", "a4", "a5", "a6"];
    const workers = hosts.map((host) => new Worker(code, { eval: true, workerData: { module, dir: s.dir, host, go } }));
    const answers = workers.map((w) => {
      const messages: string[] = [];
      return { ready: new Promise<void>((r) => w.once("message", () => r())), done: new Promise<string>((r) => w.on("message", (m: string) => (messages.push(m), messages.length === 2 && r(m)))) };
    });
    await Promise.all(answers.map((a) => a.ready));
    Atomics.store(go, 0, 1);
    Atomics.notify(go, 0);
    const results = await Promise.all(answers.map((a) => a.done));
    await Promise.all(workers.map((w) => w.terminate()));
    const winner = hosts[results.indexOf("won")]!;
    expect(results.filter((r) => r === "won")).toHaveLength(1);
    expect(results.filter((r) => r !== "won")).toEqual(Array(5).fill(`taken by ${winner}`));
    expect(s.read("g1")).toEqual({ ...def(winner), generation: 2 });
  });
});
