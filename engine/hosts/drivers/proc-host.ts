/**
 * What Linux's /proc says about the whole host, for the qemu driver's
 * measured facts: the CPU time all CPUs spent busy (`/proc/stat`), a
 * process's CPU time (`/proc/PID/stat`), and the memory a new guest could
 * get now (`MemAvailable` of `/proc/meminfo`). All in the units the CPU
 * window and facts use (ns, MiB); undefined where /proc cannot be read.
 */
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const NS_PER_TICK = 10_000_000n;

/**
 * Busy time of all CPUs: user + nice + system + irq + softirq + steal of
 * the `cpu` line (guest time is already inside user and nice; idle and
 * iowait are not busy).
 */
export function hostBusyNs(stat: string = readProc("/proc/stat") ?? ""): bigint | undefined {
  const line = stat.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map((x) => (/^\d+$/.test(x) ? BigInt(x) : 0n));
  const [user = 0n, nice = 0n, system = 0n, , , irq = 0n, softirq = 0n, steal = 0n] = f;
  return (user + nice + system + irq + softirq + steal) * NS_PER_TICK;
}

/** utime + stime of process `pid` (its threads included), or undefined when it is gone. */
export function processCpuNs(pid: number): bigint | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name may hold spaces and parentheses: fields start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = fields[11];
  const stime = fields[12];
  if (utime === undefined || stime === undefined || !/^\d+$/.test(utime) || !/^\d+$/.test(stime)) return undefined;
  return (BigInt(utime) + BigInt(stime)) * NS_PER_TICK;
}

/** MemAvailable in MiB (the kernel's estimate of memory available without swapping). */
export function memAvailableMiB(meminfo: string = readProc("/proc/meminfo") ?? ""): number | undefined {
  const m = /^MemAvailable:\s+(\d+) kB$/m.exec(meminfo);
  return m ? Math.floor(Number(m[1]) / 1024) : undefined;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
