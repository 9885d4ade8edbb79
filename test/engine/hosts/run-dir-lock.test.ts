/**
 * The run-dir lock of the qemu agent (engine/hosts/drivers/qemu/run-dir-lock.ts):
 * a live holder refuses, a dead one (or a pid reused by another process, or
 * a damaged lock) is taken over, and release removes only one's own lock.
 * Two real agent processes: qemu-restart.test.ts.
 */
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lockRunDir, RunDirInUseError } from "../../../engine/hosts/drivers/qemu/run-dir-lock.js";
import { tempDirs } from "./temp-dirs.js";

const runDir = tempDirs("vmpolicy-run-dir-lock-");

describe("run-dir lock", () => {
  it("refuses while a live agent holds it, naming the dir and the pid; release lets the next one in", () => {
    const dir = runDir();
    const held = lockRunDir(dir, "r1");
    const lock = join(dir, "agent.lock");
    expect(JSON.parse(readFileSync(lock, "utf8"))).toMatchObject({ pid: process.pid, host: "r1" });
    expect(() => lockRunDir(dir, "r1")).toThrow(
      new RunDirInUseError(
        `the run dir ${dir} is in use by another agent (pid ${process.pid}, host r1; ${lock}): two agents on one run dir would both adopt its guests; stop that agent or give this one another --run-dir`,
      ),
    );
    held.release();
    expect(existsSync(lock)).toBe(false);
    const next = lockRunDir(dir, "r1");
    expect(next.tookOverFrom).toBeUndefined();
    next.release();
  });

  it("takes over a lock whose process is gone, whose pid now belongs to another process, or that is damaged", () => {
    const dir = runDir();
    const lock = join(dir, "agent.lock");
    // A pid no process has (pid_max is at most 2^22).
    writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 1, host: "old", started: null }));
    expect(lockRunDir(dir, "r1").tookOverFrom).toEqual({ pid: 2 ** 22 + 1, host: "old" });
    // This very pid, but a process that started at another time: a reused pid, not the agent that locked.
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: "old", started: "another-boot:1" }));
    expect(lockRunDir(dir, "r1").tookOverFrom).toEqual({ pid: process.pid, host: "old" });
    writeFileSync(lock, "");
    const taken = lockRunDir(dir, "r1");
    expect(JSON.parse(readFileSync(lock, "utf8"))).toMatchObject({ pid: process.pid, host: "r1" });
    // Release removes only its own lock: one another agent took over is left alone.
    writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 2, host: "other", started: null }));
    taken.release();
    expect(existsSync(lock)).toBe(true);
  });
});
