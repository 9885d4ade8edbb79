/**
 * Params set from outside a policy (`--param`, the engine config's
 * `params`): `POLICY.NAME=VALUE`, or `NAME=VALUE` when exactly one policy of
 * the set declares NAME. The value is parsed to the param's declared type.
 * Problems come back as diagnostics (file `--param`, or the source named) so every front end
 * shows them like any other policy error.
 */
import type { Span } from "../../grammar/ast.js";
import type { ParamType } from "../../grammar/compile-types.js";
import { makeDiagnostic, type Diagnostic } from "../../grammar/diagnostics.js";
import { suggest } from "../../grammar/suggest.js";

/** A param as a policy declares it. */
export interface DeclaredParam {
  readonly policy: string;
  readonly name: string;
  readonly type: ParamType;
}

export type ParamValue = number | string | boolean;

/**
 * Resolves `args` against the declared params. Returns the values keyed
 * `policy.name` (what `compilePolicySet` takes) and one diagnostic per bad
 * argument; a later argument for the same param wins.
 */
export function resolveParams(
  args: readonly string[],
  declared: readonly DeclaredParam[],
  /** Where the args came from, named in every diagnostic: `--param` or the engine's `config params`. */
  source = "--param",
): { values: Map<string, ParamValue>; diagnostics: Diagnostic[] } {
  const values = new Map<string, ParamValue>();
  const diagnostics: Diagnostic[] = [];
  for (const arg of args) {
    const fail = (code: string, message: string, hint?: string) =>
      diagnostics.push(makeDiagnostic(code, "error", message, paramSpan(arg, source), hint));
    const eq = arg.indexOf("=");
    if (eq <= 0) {
      fail("E402", `${source} ${arg}: expected POLICY.NAME=VALUE or NAME=VALUE`);
      continue;
    }
    const key = arg.slice(0, eq).trim();
    const text = arg.slice(eq + 1).trim();
    const dot = key.indexOf(".");
    let target: DeclaredParam | undefined;
    if (dot >= 0) {
      const policy = key.slice(0, dot);
      const name = key.slice(dot + 1);
      target = declared.find((p) => p.policy === policy && p.name === name);
      if (target === undefined) {
        const near = suggest(key, declared.map((p) => `${p.policy}.${p.name}`));
        fail("E403", `${source} ${arg}: unknown param \`${key}\``, near === null ? undefined : `did you mean \`${near}\`?`);
        continue;
      }
    } else {
      const matches = declared.filter((p) => p.name === key);
      if (matches.length > 1) {
        const names = matches.map((p) => `${p.policy}.${p.name}`).join(", ");
        fail("E404", `${source} ${arg}: \`${key}\` is declared by several policies (${names}); name one as POLICY.${key}`);
        continue;
      }
      target = matches[0];
      if (target === undefined) {
        const near = suggest(key, declared.map((p) => p.name));
        fail("E403", `${source} ${arg}: unknown param \`${key}\``, near === null ? undefined : `did you mean \`${near}\`?`);
        continue;
      }
    }
    const parsed = parseParamValue(text, target.type);
    if (typeof parsed === "object") {
      fail("E405", `${source} ${arg}: ${target.policy}.${target.name} is a ${target.type}; ${parsed.error}`);
      continue;
    }
    values.set(`${target.policy}.${target.name}`, parsed);
  }
  return { values, diagnostics };
}

const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
const DURATION = /^(\d+(\.\d*)?|\.\d+)(s|m|h)?$/;
const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** Parses a param value written on the command line as the declared type. */
export function parseParamValue(text: string, type: ParamType): ParamValue | { error: string } {
  switch (type) {
    case "number": {
      if (!NUMBER.test(text)) return { error: `\`${text}\` is not a number` };
      const n = Number(text);
      return Number.isFinite(n) ? n : { error: `\`${text}\` is too large for a number: the largest is about 1.8e308` };
    }
    case "duration": {
      const m = DURATION.exec(text);
      if (m === null) return { error: `\`${text}\` is not a duration (like 30s, 5m, 2h, or seconds)` };
      const seconds = Number(m[1]) * (UNIT[m[3] ?? "s"] ?? 1);
      return Number.isFinite(seconds) ? seconds : { error: `\`${text}\` is too large for a duration: the largest is about 1.8e308 seconds` };
    }
    case "bool":
      if (text === "true") return true;
      if (text === "false") return false;
      return { error: `\`${text}\` is not true or false` };
    case "string":
      return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
  }
}

function paramSpan(arg: string, source: string): Span {
  return {
    file: source,
    start: { offset: 0, line: 1, column: 1 },
    end: { offset: arg.length, line: 1, column: arg.length + 1 },
  };
}
