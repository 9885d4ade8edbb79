/**
 * Reads the policy files a command names: files as given, folders as their
 * `*.policy` files (not recursive, sorted by name, so a set always loads in
 * the same order); a file named twice is read once. `check`, `plan`, `fmt`,
 * `simulate` and the engine's load and hot reload all read through here, so
 * they agree on what a folder means.
 */
import { isUtf8 } from "node:buffer";
import { existsSync } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Diagnostic } from "../../grammar/diagnostics.js";
import { formatBytes } from "../sandbox/errors.js";

export interface PolicySourceText {
  readonly file: string;
  readonly text: string;
}

export interface UnreadablePath {
  readonly path: string;
  readonly message: string;
  /** Where in the file the problem is (the first byte that is not UTF-8), when it has a place. */
  readonly line?: number;
  readonly column?: number;
  /** Over `max_policy_bytes` or past `max_policy_set_bytes`: an error in the set (check exits 1), not an unreadable path. */
  readonly tooLarge?: boolean;
}

/**
 * How much policy text may be read (SPEC 5, "Policy size"). Parsing costs
 * about 160 bytes of memory and 4 µs of CPU per source byte (measured:
 * docs/engine.md), so a 50 MB file dropped into a watched folder would take
 * the engine's memory and minutes; a real policy is a few KiB.
 */
export interface PolicySizeLimits {
  /** Most bytes of one file (config `max_policy_bytes`). */
  readonly fileBytes: number;
  /** Most bytes of all the files of a set together (config `max_policy_set_bytes`). */
  readonly setBytes: number;
}

export const DEFAULT_POLICY_SIZE_LIMITS: PolicySizeLimits = { fileBytes: 1024 * 1024, setBytes: 8 * 1024 * 1024 };

export interface PolicySources {
  readonly sources: PolicySourceText[];
  /** Paths that could not be read, with why. */
  readonly unreadable: UnreadablePath[];
  /** True when every path could be read. */
  readonly ok: boolean;
  /** The unreadable paths in one line (`cannot read x: no such file or directory`), when not `ok`. */
  readonly message?: string;
}

/** "no such file or directory" rather than a stack-flavoured `ENOENT: …, stat 'x'`. */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    case "ENOTDIR":
      return "not a directory";
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

/** The package's own `policies/` folder (from `engine/policy/` in the sources, `dist/engine/policy/` when built). */
export function shippedPoliciesDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ["../..", "../../.."]) {
    const dir = resolve(here, up, "policies");
    if (existsSync(join(dir, "cslb.policy"))) return dir;
  }
  return null;
}

/**
 * SPEC 2: a `.policy` file is UTF-8 text. Read any other way, a Latin-1 `é`
 * would silently become U+FFFD in an alert or a label; say where instead.
 */
function notUtf8(path: string, lossy: string): UnreadablePath {
  const at = lossy.indexOf("\uFFFD");
  const before = lossy.slice(0, Math.max(0, at));
  const line = before.split("\n").length;
  const column = at - (before.lastIndexOf("\n") + 1) + 1;
  return { path, message: `not UTF-8 text (save it as UTF-8): the first bad byte is at line ${line}, column ${column}`, line, column };
}

/**
 * A path that could not be used, as a diagnostic at its place (line 1,
 * column 1 when it has none): E001 unreadable, E002 too large. The engine's
 * reload and `check --json` report these beside the parser's.
 */
export function unusableDiagnostic(u: UnreadablePath): Diagnostic {
  const at = { offset: 0, line: u.line ?? 1, column: u.column ?? 1 };
  const end = u.line === undefined ? at : { ...at, column: at.column + 1 };
  return {
    code: u.tooLarge ? "E002" : "E001",
    severity: "error",
    message: u.tooLarge ? u.message : `cannot read ${u.path}: ${u.message}`,
    span: { file: u.path, start: at, end },
  };
}

/** Reads at most `limit + 1` bytes: a file that grows after its size was taken is still cut off. */
async function readCapped(file: string, limit: number): Promise<Buffer> {
  const handle = await open(file, "r");
  try {
    const buf = Buffer.alloc(Math.min(limit + 1, (await handle.stat()).size + 1));
    let filled = 0;
    while (filled < buf.length) {
      const { bytesRead } = await handle.read(buf, filled, buf.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buf.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/**
 * Reads every path (file or folder of `*.policy`); never throws. `defaulted`:
 * the paths are a command's default (`policies`), not the user's, so a
 * missing one says where that default is looked for and where the shipped
 * policies are.
 */
export async function readPolicySources(
  paths: readonly string[],
  { defaulted = false, limits = DEFAULT_POLICY_SIZE_LIMITS }: { defaulted?: boolean; limits?: PolicySizeLimits } = {},
): Promise<PolicySources> {
  let total = 0;
  const sources: PolicySourceText[] = [];
  const unreadable: UnreadablePath[] = [];
  const seen = new Set<string>();
  for (const path of paths) {
    let files: string[];
    try {
      const info = await stat(path);
      files = info.isDirectory()
        ? (await readdir(path, { withFileTypes: true }))
            .filter((e) => e.name.endsWith(".policy") && !e.isDirectory())
            .map((e) => e.name)
            .sort()
            .map((name) => join(path, name))
        : [path];
    } catch (err) {
      let message = describeFsError(err);
      if (defaulted && (err as NodeJS.ErrnoException).code === "ENOENT") {
        const shipped = shippedPoliciesDir();
        message += ` (the default is read from the working directory, ${process.cwd()}; name a file or folder${shipped === null ? "" : `, e.g. the shipped ${shipped}`})`;
      }
      unreadable.push({ path, message });
      continue;
    }
    for (const file of files) {
      // A file named twice (`--policy policies --policy policies/cslb.policy`) is read once,
      // not reported as a policy that duplicates itself.
      const key = resolve(file);
      if (seen.has(key)) continue;
      seen.add(key);
      try {
        const bytes = await readCapped(file, limits.fileBytes);
        if (bytes.length > limits.fileBytes) {
          const size = (await stat(file)).size;
          unreadable.push({ path: file, tooLarge: true, message: `the file is ${size} bytes, over the limit of ${formatBytes(limits.fileBytes)} per policy file (max_policy_bytes)` });
          continue;
        }
        if (total + bytes.length > limits.setBytes) {
          unreadable.push({ path: file, tooLarge: true, message: `with this file the policy set is over ${formatBytes(limits.setBytes)} (max_policy_set_bytes)` });
          continue;
        }
        total += bytes.length;
        const text = bytes.toString("utf8");
        if (!isUtf8(bytes)) unreadable.push(notUtf8(file, text));
        else sources.push({ file, text });
      } catch (err) {
        unreadable.push({ path: file, message: describeFsError(err) });
      }
    }
  }
  if (unreadable.length === 0) return { sources, unreadable, ok: true };
  const message = unreadable.map((u) => (u.tooLarge ? `${u.path}: ${u.message}` : `cannot read ${u.path}: ${u.message}`)).join("; ");
  return { sources, unreadable, ok: false, message };
}
