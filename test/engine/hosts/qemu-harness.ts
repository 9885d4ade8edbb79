import { spawnSync } from "node:child_process";

/** Real QEMU guests (KVM when present, else TCG); the tests that need them are skipped where qemu-system-x86_64 is not installed. */
export const HAVE_QEMU = spawnSync("qemu-system-x86_64", ["--version"]).status === 0;

/** Polls `f` every 100 ms until `ok` holds or `ms` pass; returns the last value, for the test to assert on. */
export async function until<T>(f: () => Promise<T>, ok: (t: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}
