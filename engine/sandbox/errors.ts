/**
 * Turns what QuickJS reports (an error value with a `stack` such as
 * `    at f (policy-script-0:3:7)`) into the messages of SPEC 2.8 and issue 4,
 * with the script's line mapped back to the `.policy` file. One builder per
 * message, so every wording lives here.
 */
import type { Position } from "../../grammar/ast.js";
import { BAD_RESULT_KEY } from "./prelude.js";

/** File name given to script block `index` inside QuickJS; it is how stack frames are traced back to a block. */
export function blockFileName(index: number): string {
  return `policy-script-${index}`;
}

/** A place inside one script block: block index, 1-based line and column relative to the block. */
export interface BlockPlace {
  readonly block: number;
  readonly line: number;
  readonly column: number;
}

const FRAME = /policy-script-(\d+):(\d+)(?::(\d+))?/;

/** The innermost stack frame that lies in a script block, or null (native frames, no stack). */
export function placeInStack(stack: unknown): BlockPlace | null {
  if (typeof stack !== "string") return null;
  const m = FRAME.exec(stack);
  if (m === null) return null;
  return { block: Number(m[1]), line: Number(m[2]), column: m[3] === undefined ? 1 : Number(m[3]) };
}

/** A block-relative line and column mapped to the `.policy` file, given where the block's text starts. */
export function toPolicyPosition(start: Position, line: number, column: number): { line: number; column: number } {
  return { line: start.line + line - 1, column: line === 1 ? start.column + column - 1 : column };
}

/** Bytes as an operator wrote them: `32 MiB`, `512 KiB`, `1000 bytes`. */
export function formatBytes(bytes: number): string {
  const mib = 1024 * 1024;
  if (bytes >= mib && bytes % mib === 0) return `${bytes / mib} MiB`;
  if (bytes >= mib) return `${(bytes / mib).toFixed(1)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/** What a QuickJS error value means for the host. */
export type ErrorKind =
  | { readonly kind: "interrupted"; readonly place: BlockPlace | null }
  | { readonly kind: "memory"; readonly place: BlockPlace | null }
  | { readonly kind: "stack"; readonly place: BlockPlace | null }
  | { readonly kind: "badResult"; readonly what: string }
  | { readonly kind: "thrown"; readonly text: string; readonly place: BlockPlace | null };

/** Classifies the dumped error value of a failed call or evaluation. */
export function classifyError(dumped: unknown): ErrorKind {
  if (dumped !== null && typeof dumped === "object") {
    const e = dumped as Record<string, unknown>;
    if (typeof e[BAD_RESULT_KEY] === "string") return { kind: "badResult", what: e[BAD_RESULT_KEY] as string };
    const name = typeof e.name === "string" ? e.name : "";
    const message = typeof e.message === "string" ? e.message : "";
    if (name === "InternalError" && message === "interrupted") return { kind: "interrupted", place: placeInStack(e.stack) };
    if (/out of memory/.test(message) && (name === "InternalError" || name === "RangeError")) return { kind: "memory", place: placeInStack(e.stack) };
    if (name === "InternalError" && message === "stack overflow") return { kind: "stack", place: placeInStack(e.stack) };
    if (name !== "" || message !== "") {
      const text = name !== "" && message !== "" ? `${name}: ${message}` : name !== "" ? name : message;
      return { kind: "thrown", text, place: placeInStack(e.stack) };
    }
    return { kind: "thrown", text: `threw ${safeJson(dumped)}`, place: null };
  }
  if (dumped === null) return { kind: "thrown", text: "threw null", place: null };
  return { kind: "thrown", text: typeof dumped === "string" ? dumped : `threw ${safeJson(dumped)}`, place: null };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** ` (line N of the policy file)` for a place in a block, or "" when unknown. */
export function policyLineSuffix(place: BlockPlace | null, starts: readonly Position[]): string {
  if (place === null) return "";
  const start = starts[place.block];
  if (start === undefined) return "";
  return ` (line ${toPolicyPosition(start, place.line, place.column).line} of the policy file)`;
}

/** The message of a call that failed with `kind`, prefixed `script NAME:` as the plan shows it. */
export function callFailureMessage(
  name: string,
  kind: ErrorKind,
  limits: { callMs: number; roundMs: number; memoryBytes: number },
  roundLimited: boolean,
  starts: readonly Position[],
): string {
  switch (kind.kind) {
    case "interrupted":
      return roundLimited ? roundLimitMessage(name, limits.roundMs) : `script ${name}: time limit of ${limits.callMs} ms exceeded`;
    case "memory":
      return `script ${name}: memory limit of ${formatBytes(limits.memoryBytes)} exceeded`;
    case "stack":
      return `script ${name}: stack overflow: recursion too deep for the sandbox${policyLineSuffix(kind.place, starts)}`;
    case "badResult":
      return `script ${name}: returned ${kind.what}; expected a number, string, bool, null or a list of those`;
    case "thrown":
      return `script ${name}: ${kind.text}${policyLineSuffix(kind.place, starts)}`;
  }
}

/** The message when the policy's scripts have used up their time for this round. */
export function roundLimitMessage(name: string, roundMs: number): string {
  return `script ${name}: round time limit of ${roundMs} ms exceeded`;
}
