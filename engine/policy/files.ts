/**
 * Reads the policy files a command names: files as given, folders as their
 * `*.policy` files (not recursive, sorted by name, so a set always loads in
 * the same order); a file named twice is read once. `check`, `plan`, `fmt`,
 * `simulate` and the engine's load and hot reload all read through here, so
 * they agree on what a folder means.
 */
import { isUtf8 } from "node:buffer";
import { existsSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface PolicySourceText {
  readonly file: string;
  readonly text: string;
}

export interface UnreadablePath {
  readonly path: string;
  readonly message: string;
}

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
function notUtf8(lossy: string): string {
  const at = lossy.indexOf("\uFFFD");
  const before = lossy.slice(0, Math.max(0, at));
  const line = before.split("\n").length;
  const column = at - (before.lastIndexOf("\n") + 1) + 1;
  return `not UTF-8 text (save it as UTF-8): the first bad byte is at line ${line}, column ${column}`;
}

/**
 * Reads every path (file or folder of `*.policy`); never throws. `defaulted`:
 * the paths are a command's default (`policies`), not the user's, so a
 * missing one says where that default is looked for and where the shipped
 * policies are.
 */
export async function readPolicySources(paths: readonly string[], { defaulted = false } = {}): Promise<PolicySources> {
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
        const bytes = await readFile(file);
        const text = bytes.toString("utf8");
        if (!isUtf8(bytes)) unreadable.push({ path: file, message: notUtf8(text) });
        else sources.push({ file, text });
      } catch (err) {
        unreadable.push({ path: file, message: describeFsError(err) });
      }
    }
  }
  if (unreadable.length === 0) return { sources, unreadable, ok: true };
  const message = unreadable.map((u) => `cannot read ${u.path}: ${u.message}`).join("; ");
  return { sources, unreadable, ok: false, message };
}
