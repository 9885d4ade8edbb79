/**
 * The JavaScript that runs first in every sandbox context, before any
 * policy script: it removes what would make plans non-deterministic or
 * reach for code generation, wires `console`, and returns the entry
 * points the host uses. It is a fixed text (not generated), evaluated once
 * per context, and keeps its helpers in a closure so a script that
 * redefines `JSON` or `Array` cannot change how values cross the boundary.
 */

/** Key of the object the call entry throws when a result has the wrong kind (never shown to users). */
export const BAD_RESULT_KEY = "__vmpolicy_bad_result__";

/** Length (items, characters) from which a wrapped builtin asks the host whether the call is out of time on every call. */
const BIG_LENGTH = 4096;

/** Most characters of one `console.log` line that reach the host log. */
export const LOG_LINE_MAX = 1000;

/**
 * Evaluates to `function (hostLog, hostOverdue) { … return { check, parseArg, entity, collect } }`:
 * - `check(result)` returns a script's result if it has an allowed kind
 *   (undefined becomes null, a list is copied), else throws
 *   `{ [BAD_RESULT_KEY]: "an object" }`; the host calls the script's
 *   function directly and asks `check` only about results that are not a
 *   number, string or bool (a wrapper around every call cost ~0.5 µs);
 * - `parseArg(json)` parses one JSON argument and freezes it deeply, so the
 *   host can hand the same parsed snapshot to several calls of a round
 *   without one call's changes reaching the next;
 * - `entity(json, isHost)` parses a host or VM (`toScriptArg`'s shape) and
 *   freezes it with its nested values (labels, and a host's VM names): the
 *   same result as `parseArg` for that known shape, in a third of the time;
 * - `collect()` returns a JSON array `[name, arity]` of the functions that
 *   the scripts added to the global object since the prelude ran.
 */
export const PRELUDE_SOURCE = `(function (hostLog, hostOverdue) {
  "use strict";
  const g = globalThis;
  const parse = JSON.parse, stringify = JSON.stringify, apply = Reflect.apply;
  const isArray = Array.isArray, keys = Object.getOwnPropertyNames, defineProperty = Object.defineProperty;
  const getPrototypeOf = Object.getPrototypeOf, freeze = Object.freeze, numberIsFinite = Number.isFinite, StringOf = String;
  const PromiseCtor = g.Promise;

  function unavailable(what, why) {
    return function () { throw new TypeError(what + " is not available in policy scripts: " + why); };
  }
  // Plans must be a pure function of the facts: no clock, no randomness.
  defineProperty(Math, "random", { value: unavailable("Math.random", "plans must be deterministic"), writable: false, configurable: false });
  for (const name of ["WeakRef", "FinalizationRegistry"]) delete g[name];
  // No code generation from strings at run time.
  delete g.eval;
  const noCodegen = unavailable("code generation from strings", "write the function in the script block");
  for (const sample of [function () {}, function* () {}, async function () {}, async function* () {}]) {
    defineProperty(getPrototypeOf(sample), "constructor", { value: noCodegen, writable: false, configurable: false });
  }
  noCodegen.prototype = getPrototypeOf(function () {});
  defineProperty(g, "Function", { value: noCodegen, writable: false, configurable: false, enumerable: false });

  function show(v) {
    if (typeof v === "string") return v;
    if (v === undefined || typeof v === "function" || typeof v === "symbol" || typeof v === "bigint") return StringOf(v);
    try { const s = stringify(v); return s === undefined ? StringOf(v) : s; } catch (e) { return StringOf(v); }
  }
  const consoleObject = {};
  const log = function log(...parts) {
    let line = "";
    for (let i = 0; i < parts.length; i++) {
      line += (i === 0 ? "" : " ") + show(parts[i]);
      if (line.length > ${LOG_LINE_MAX}) break;
    }
    hostLog(line.length > ${LOG_LINE_MAX} ? line.slice(0, ${LOG_LINE_MAX}) + "…" : line);
  };
  for (const level of ["log", "info", "warn", "error", "debug"]) consoleObject[level] = log;
  defineProperty(g, "console", { value: consoleObject, writable: false, configurable: false, enumerable: false });

  // QuickJS asks the host's interrupt handler once per period of "polls" (jumps,
  // calls), and the host paces that period by time (pacing.ts). A period grown
  // on cheap polls still spans many slow ones when a loop turns to big native calls
  // (\`Object.assign\` of 30 000 keys after a loop that built them ran 13 s past a
  // 50 ms limit), so the builtins that allocate much in one call ask the host too:
  // every call whose subject or first arguments are big, else every 16th call.
  // Operators (spread, +) cannot be wrapped: for them the pacing alone answers.
  const InternalErrorCtor = g.InternalError;
  let unasked = 0;
  function big(v) {
    return (typeof v === "string" || (typeof v === "object" && v !== null)) && v.length > ${BIG_LENGTH};
  }
  const heavy = [
    [Array.prototype, ["fill", "join", "concat", "slice", "splice", "flat", "sort", "toSorted", "toSpliced"]],
    [Array, ["from"]],
    [String.prototype, ["repeat", "padStart", "padEnd", "split", "replace", "replaceAll", "concat"]],
    [Object, ["assign", "keys", "values", "entries", "fromEntries"]],
    [JSON, ["stringify", "parse"]],
  ];
  for (const [owner, names] of heavy) {
    for (const name of names) {
      const original = owner[name];
      if (typeof original !== "function") continue;
      const timed = { [name](...args) {
        if ((++unasked >= 16 || big(this) || big(args[0]) || big(args[1])) && ((unasked = 0), hostOverdue())) throw new InternalErrorCtor("interrupted");
        return apply(original, this, args);
      } }[name];
      defineProperty(owner, name, { value: timed, writable: true, configurable: true, enumerable: false });
    }
  }

  const baseline = new Set(keys(g));

  function describe(v) {
    if (v === null) return "null";
    if (typeof v === "number") return v !== v ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
    if (typeof v === "function") return "a function";
    if (typeof v === "symbol") return "a symbol";
    if (typeof v === "bigint") return "a bigint";
    if (v instanceof PromiseCtor) return "a promise (async functions are not supported)";
    if (isArray(v)) return "a list";
    return "an object";
  }
  function bad(what) {
    const e = {};
    e[${JSON.stringify(BAD_RESULT_KEY)}] = what;
    return e;
  }
  function plain(v) {
    const t = typeof v;
    return v === null || t === "string" || t === "boolean" || (t === "number" && numberIsFinite(v));
  }
  function deepFreeze(v) {
    if (v !== null && typeof v === "object") {
      if (isArray(v)) {
        for (let i = 0; i < v.length; i++) if (typeof v[i] === "object") deepFreeze(v[i]);
      } else {
        for (const k in v) if (typeof v[k] === "object") deepFreeze(v[k]);
      }
      freeze(v);
    }
    return v;
  }
  function parseArg(json) {
    return deepFreeze(parse(json));
  }
  function check(r) {
    if (r === undefined) return null;
    if (plain(r)) return r;
    if (isArray(r)) {
      const out = [];
      for (let i = 0; i < r.length; i++) {
        const v = r[i];
        if (v === undefined) out.push(null);
        else if (plain(v)) out.push(v);
        else throw bad("a list containing " + describe(v));
      }
      return out;
    }
    throw bad(describe(r));
  }
  function entity(json, isHost) {
    const o = parse(json);
    freeze(o.labels);
    if (isHost) freeze(o.vms);
    return freeze(o);
  }
  function collect() {
    const found = [];
    for (const name of keys(g)) {
      if (baseline.has(name)) continue;
      const v = g[name];
      if (typeof v === "function") found.push([name, v.length]);
    }
    return stringify(found);
  }
  return { check, parseArg, entity, collect };
})`;
