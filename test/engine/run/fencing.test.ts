import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CpuSmoother } from "../engine/engine-smoothing.js";
import { Fencer, runFenceCommand } from "../engine/fencing.js";
import { pino } from "pino";

function testLogger() {
  const lines: { msg: string }[] = [];
  return { log: pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s)) }), lines };
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const dir = mkdtempSync(join(tmpdir(), "vmpolicy-fence-"));

describe("fencing", () => {
  it("runs the command with {host} substituted; exit 0 fences, anything else is a failure with its reason", async () => {
    const out = join(dir, "ran");
    expect(await runFenceCommand(["sh", "-c", `echo "$0 $VMPOLICY_HOST" >> ${out}`, "{host}-ipmi"], "xen3", 2000)).toEqual({ ok: true, detail: "" });
    expect(readFileSync(out, "utf8")).toBe("xen3-ipmi xen3\n");
    expect(await runFenceCommand(["sh", "-c", "echo no power >&2; exit 3"], "xen3", 2000)).toEqual({ ok: false, detail: "exit code 3: no power" });
    expect(await runFenceCommand(["sleep", "5"], "xen3", 100)).toEqual({ ok: false, detail: "timed out after 100 ms" });
    expect((await runFenceCommand(["/no/such/fence"], "xen3", 1000)).detail).toMatch(/ENOENT/);
  });

  it("fences a down host once, retries a failing command with backoff, and clears when the host is back", async () => {
    const { log, lines } = testLogger();
    const counter = join(dir, "count");
    const flag = join(dir, "works");
    writeFileSync(counter, "");
    // Fails until the flag file exists; every attempt appends a line.
    const fencer = new Fencer({ command: ["sh", "-c", `echo x >> ${counter}; test -e ${flag}`], timeoutMs: 2000, log, retryBaseMs: 50, retryMaxMs: 200 });
    const fenced: string[] = [];
    const f2 = new Fencer({ command: ["true"], timeoutMs: 2000, log, onFenced: (h) => fenced.push(h) });
    fencer.hostDown("h1");
    fencer.hostDown("h1"); // already trying: no second run
    await until(() => readFileSync(counter, "utf8").length >= 6, 3000, "three attempts");
    expect(fencer.isFenced("h1")).toBe(false);
    expect(lines.some((l) => /fence command for h1 failed \(exit code 1\); retrying in 100 ms/.test(l.msg))).toBe(true);
    writeFileSync(flag, "");
    await until(() => fencer.isFenced("h1"), 3000, "fenced");
    expect([...fencer.fencedSet()]).toEqual(["h1"]);
    const attempts = readFileSync(counter, "utf8").length;
    fencer.hostDown("h1"); // fenced: nothing more to do
    fencer.hostUp("h1");
    expect(fencer.isFenced("h1")).toBe(false);
    expect(readFileSync(counter, "utf8").length).toBe(attempts);

    f2.hostDown("h2");
    await until(() => f2.isFenced("h2"), 3000, "h2 fenced");
    expect(fenced).toEqual(["h2"]);
    fencer.stop();
    f2.stop();
  });

  it("without a command only an operator fences", () => {
    const { log } = testLogger();
    const fencer = new Fencer({ command: null, timeoutMs: 1000, log });
    fencer.hostDown("h1");
    expect(fencer.isFenced("h1")).toBe(false);
    fencer.confirm("h1");
    expect(fencer.isFenced("h1")).toBe(true);
    fencer.hostUp("h1");
    expect(fencer.isFenced("h1")).toBe(false);
  });
});

describe("smoothing", () => {
  it("is an exponential moving average weighted by elapsed time", () => {
    const s = new CpuSmoother(60);
    expect(s.sample("vm", 100, 0)).toBe(100);
    // 60 s later (one time constant) a new sample weighs 1 - e^-1.
    expect(s.sample("vm", 0, 60_000)).toBeCloseTo(100 * Math.exp(-1), 10);
    expect(s.get("vm", 5)).toBeCloseTo(36.7879, 3);
    expect(s.get("other", 5)).toBe(5);
    // Two 30 s steps equal one 60 s step.
    const a = new CpuSmoother(60);
    a.sample("vm", 100, 0);
    a.sample("vm", 0, 30_000);
    expect(a.sample("vm", 0, 60_000)).toBeCloseTo(100 * Math.exp(-1), 10);
    const none = new CpuSmoother(0);
    none.sample("vm", 100, 0);
    expect(none.sample("vm", 10, 1000)).toBe(10);
    a.prune(10 * 60_000, 60_000);
    expect(a.get("vm", -1)).toBe(-1);
  });
});
