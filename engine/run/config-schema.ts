/**
 * The value checks behind `engine/run/config.ts`: durations, sizes, addresses,
 * URLs and the "did you mean" suggestion for unknown keys. Kept apart from
 * the key table so each check can be tested and reused (the run command's
 * flags go through the same parsers as the file).
 */

import { suggest } from "../../grammar/suggest.js";
import { listenParts } from "../listen.js";

/** One problem in a config, e.g. `{ path: "hosts[1].url", message: "must be an http(s) URL" }`. */
export interface ConfigError {
  /** Dotted path of the offending key; "" for the document itself. */
  readonly path: string;
  readonly message: string;
}

/** The outcome of one value check: the parsed value, or the message to report against its key. */
export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const bad = (message: string): Checked<never> => ({ ok: false, message });

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/**
 * The longest config duration, in seconds: Node's timers hold at most
 * 2^31-1 ms (about 24.8 days). A longer `interval` overflows to a 1 ms timer
 * (a round every millisecond) and a longer `agent_timeout` fails every
 * request at once, so the bound is checked here instead of surfacing there.
 */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * Durations are written as operators expect (`30s`, `5m`, `2h`, `500ms`) or
 * as a plain number of seconds; the engine works in seconds throughout.
 * `max` defaults to the timer limit; a duration that never becomes a timer
 * (simulated time) may pass its own.
 */
export function parseDuration(value: unknown, { allowZero = false, min = 0.001, max = MAX_TIMER_SECONDS } = {}): Checked<number> {
  let seconds: number;
  if (typeof value === "number") {
    seconds = value;
  } else if (typeof value === "string") {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
    if (!m) return bad(`must be a duration such as 30s, 5m, 2h or a number of seconds (got ${JSON.stringify(value)})`);
    seconds = Number(m[1]) * DURATION_UNITS[m[2] ?? "s"]!;
  } else {
    return bad(`must be a duration such as 30s, 5m, 2h or a number of seconds (got ${describe(value)})`);
  }
  if (!Number.isFinite(seconds) || seconds < 0) return bad(`must be a duration ≥ 0 (got ${JSON.stringify(value)})`);
  if (!allowZero && seconds === 0) return bad("must be a duration > 0");
  // Below the floor is a unit slip (1e-7 for 1e7?), and would spin a loop or time out every request.
  if (seconds !== 0 && seconds < min) return bad(`must be at least ${formatSeconds(min)} (got ${JSON.stringify(value)})`);
  if (seconds > max) return bad(`must be at most ${formatLimit(max)} (got ${JSON.stringify(value)})`);
  return ok(seconds);
}

function formatSeconds(s: number): string {
  return s < 1 ? `${Math.round(s * 1000)}ms` : `${s}s`;
}

/**
 * A bound of a day or more also in days (`24.8 days (2147483s)`), so it reads
 * at a glance; rounded down, so the days never promise more than the seconds.
 */
function formatLimit(s: number): string {
  return s >= 86400 ? `${Math.floor((s / 86400) * 10) / 10} days (${formatSeconds(s)})` : formatSeconds(s);
}

const SIZE_UNITS: Record<string, number> = { b: 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3 };

/** Memory sizes: `32MiB`, `64m`, `1GiB`, or a number of bytes; at least `min` (`minText` says it as written). */
export function parseSize(value: unknown, { min = 1024 * 1024, minText = "1MiB" } = {}): Checked<number> {
  let bytes: number;
  if (typeof value === "number") {
    bytes = value;
  } else if (typeof value === "string") {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
    const unit = m ? SIZE_UNITS[(m[2] || "b").toLowerCase()] : undefined;
    if (!m || unit === undefined) return bad(`must be a size such as 32MiB, 512KiB or a number of bytes (got ${JSON.stringify(value)})`);
    bytes = Number(m[1]) * unit;
  } else {
    return bad(`must be a size such as 32MiB or a number of bytes (got ${describe(value)})`);
  }
  if (!Number.isFinite(bytes) || bytes < min) return bad(`must be at least ${minText}`);
  return ok(Math.floor(bytes));
}

/** A whole number within bounds (counts such as `max_per_host`). */
export function parseInteger(value: unknown, min: number): Checked<number> {
  if (typeof value !== "number" || !Number.isInteger(value)) return bad(`must be a whole number (got ${describe(value)})`);
  if (value < min) return bad(`must be ≥ ${min} (got ${value})`);
  return ok(value);
}

/** `true`/`false` only: YAML's `yes`/`no` strings are not accepted silently. */
export function parseBoolean(value: unknown): Checked<boolean> {
  return typeof value === "boolean" ? ok(value) : bad(`must be true or false (got ${describe(value)})`);
}

/** Paths and names: a string with something in it. */
export function parseNonEmptyString(value: unknown): Checked<string> {
  if (typeof value !== "string") return bad(`must be a string (got ${describe(value)})`);
  if (value.trim() === "") return bad("must not be empty");
  return ok(value);
}

/**
 * `HOST:PORT` (`127.0.0.1:7070`, `[::1]:7070`, `0.0.0.0:0`), by the servers'
 * own parser. The HTTP layer decides whether the address is loopback; here
 * only its shape.
 */
export function parseListen(value: unknown): Checked<{ host: string; port: number; text: string }> {
  if (typeof value !== "string") return bad(`must be HOST:PORT such as 127.0.0.1:7070 (got ${describe(value)})`);
  const r = listenParts(value);
  if ("why" in r) return bad(`must be HOST:PORT such as 127.0.0.1:7070: ${r.why} (got ${JSON.stringify(value)})`);
  return ok({ host: r.host, port: r.port, text: value.trim() });
}

/** Agent URLs: http or https only; a trailing slash is dropped so paths join cleanly. */
export function parseHttpUrl(value: unknown): Checked<string> {
  if (typeof value !== "string") return bad(`must be an http(s) URL (got ${describe(value)})`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return bad(`must be an http(s) URL (got ${JSON.stringify(value)})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return bad(`must be an http(s) URL (got ${JSON.stringify(value)})`);
  return ok(value.replace(/\/+$/, ""));
}

/** Host names as they appear in facts and plans. */
export function parseHostName(value: unknown): Checked<string> {
  if (typeof value !== "string") return bad(`must be a string (got ${describe(value)})`);
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(value)) return bad(`must be a host name of letters, digits, "_", "-" and "." (got ${JSON.stringify(value)})`);
  return ok(value);
}

/** A YAML/JSON map (not a list, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A short rendering of a wrong value's type for messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "string") return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}

/** The closest known key: config keys are short, so two edits still count as a typo. */
export function suggestKey(key: string, known: readonly string[]): string | null {
  return suggest(key, known, Math.max(2, Math.floor(key.length / 3)));
}

/** `unknown key "intervall" (did you mean "interval"?)`. */
export function unknownKey(key: string, known: readonly string[]): string {
  const near = suggestKey(key, known);
  return near ? `unknown key "${key}" (did you mean "${near}"?)` : `unknown key "${key}" (known keys: ${known.join(", ")})`;
}
