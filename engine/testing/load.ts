/**
 * Reads one `*.test.yaml` file (SPEC 8) into cases ready to run: the
 * policies it names, and per case the validated facts (a file relative to
 * the test file, or inline), params, planner settings and expectations.
 * Every key is checked; each problem is a diagnostic at its line, and a
 * file with any problem runs no case.
 */
import { dirname, relative, resolve } from "node:path";
import { suggest } from "../../grammar/suggest.js";
import { readFactsFile } from "../facts-file.js";
import { type FactsResult, validateFacts } from "../plan/facts.js";
import { describeFsError } from "../policy/files.js";
import { DEFAULT_PLAN_SETTINGS, type FactError, type Facts, type PlanSettings } from "../types.js";
import { EXPECTATIONS, type Expectation } from "./expectations.js";
import { YamlSource, type YamlPath } from "./yaml-source.js";

export interface TestCase {
  readonly name: string;
  /** The line of the case in its file. */
  readonly line: number;
  /** Path of the case in the document, for reporting problems found later (its params). */
  readonly path: YamlPath;
  readonly facts: Facts;
  /** As `--param`: `POLICY.NAME=VALUE` or `NAME=VALUE`. */
  readonly params: readonly string[];
  readonly settings: PlanSettings;
  readonly expect: readonly Expectation[];
}

export interface TestFile {
  readonly file: string;
  readonly source: YamlSource;
  /** The policy files, as paths from the working directory. */
  readonly policies: readonly string[];
  readonly cases: readonly TestCase[];
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

const TOP_KEYS = ["policies", "tests"];
const CASE_KEYS = ["name", "facts", "params", "settings", "expect"];
const SETTING_KEYS = ["cooldown", "max_per_host", "max_per_round", "require_fencing", "fenced", "explain"];

/** Checks that `obj` has only `known` keys; an unknown one is reported at its line with a near miss. */
export function checkKeys(src: YamlSource, obj: Obj, path: YamlPath, known: readonly string[], what: string): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const near = suggest(key, known, 2);
    src.fail([...path, key], `unknown key \`${key}\` in ${what}${near === null ? "" : ` (did you mean \`${near}\`?)`}; expected ${known.join(", ")}`);
  }
}

/** Reads and validates a test file; `text` is its content (already read). */
export async function loadTestFile(file: string, text: string): Promise<TestFile> {
  const src = new YamlSource(file, text);
  const base = dirname(file);
  const empty: TestFile = { file, source: src, policies: [], cases: [] };
  if (src.diagnostics.length > 0) return empty;
  const doc = src.data;
  if (!isObj(doc)) {
    src.fail([], "a test file is a mapping with `tests` (and optionally `policies`)");
    return empty;
  }
  checkKeys(src, doc, [], TOP_KEYS, "the test file");
  const policies = await policyPaths(src, doc["policies"], base);
  const tests = doc["tests"];
  if (!Array.isArray(tests) || tests.length === 0) {
    src.fail(tests === undefined ? [] : ["tests"], tests === undefined ? "missing `tests`: a list of cases" : "`tests` must be a non-empty list of cases");
    return empty;
  }
  const factsCache = new Map<string, Promise<{ facts: Facts } | { message: string }>>();
  const cases: TestCase[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tests.length; i++) {
    const name = isObj(tests[i]) ? tests[i]["name"] : undefined;
    if (typeof name === "string") {
      if (names.has(name)) src.fail(["tests", i, "name"], `two cases are named "${name}"`);
      names.add(name);
    }
    const c = await loadCase(src, tests[i], ["tests", i], base, factsCache);
    if (c !== null) cases.push(c);
  }
  return { file, source: src, policies, cases };
}

/** `policies:` (relative to the test file); default: the `.policy` files of its folder. */
async function policyPaths(src: YamlSource, value: unknown, base: string): Promise<string[]> {
  if (value === undefined) return [base === "" ? "." : base];
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((p) => typeof p === "string" && p !== "")) {
    src.fail(["policies"], "`policies` must be a list of policy files or folders, relative to the test file");
    return [];
  }
  return (list as string[]).map((p) => relative(process.cwd(), resolve(base, p)) || ".");
}

async function loadCase(
  src: YamlSource,
  value: unknown,
  path: YamlPath,
  base: string,
  factsCache: Map<string, Promise<{ facts: Facts } | { message: string }>>,
): Promise<TestCase | null> {
  if (!isObj(value)) {
    src.fail(path, "a case is a mapping with name, facts and expect");
    return null;
  }
  const before = src.diagnostics.length;
  checkKeys(src, value, path, CASE_KEYS, "a case");
  const name = value["name"];
  if (typeof name !== "string" || name.trim() === "") src.fail(name === undefined ? path : [...path, "name"], "a case needs a `name` (a non-empty string)");
  const facts = await caseFacts(src, value["facts"], [...path, "facts"], base, factsCache);
  const params = caseParams(src, value["params"], [...path, "params"]);
  const settings = caseSettings(src, value["settings"], [...path, "settings"]);
  const expect: Expectation[] = [];
  const e = value["expect"];
  if (!isObj(e)) src.fail(e === undefined ? path : [...path, "expect"], "a case needs `expect`: a mapping of expectations (" + Object.keys(EXPECTATIONS).join(", ") + ")");
  else {
    checkKeys(src, e, [...path, "expect"], Object.keys(EXPECTATIONS), "expect");
    for (const [key, v] of Object.entries(e)) {
      const kind = EXPECTATIONS[key];
      if (kind === undefined) continue;
      const at = [...path, "expect", key];
      const parsed = kind.parse(v, (sub, message) => src.fail([...at, ...sub], `expect.${key}${sub.length ? formatSub(sub) : ""}: ${message}`));
      if (parsed !== undefined) expect.push({ key, kind, value: parsed });
    }
  }
  if (src.diagnostics.length > before || facts === null) return null;
  return { name: name as string, line: src.lineOf(path), path, facts, params, settings, expect };
}

function formatSub(sub: YamlPath): string {
  return sub.map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`)).join("");
}

async function caseFacts(
  src: YamlSource,
  value: unknown,
  path: YamlPath,
  base: string,
  cache: Map<string, Promise<{ facts: Facts } | { message: string }>>,
): Promise<Facts | null> {
  if (value === undefined) {
    src.fail(path.slice(0, -1), "a case needs `facts`: a facts file (relative to the test file) or an inline snapshot");
    return null;
  }
  if (typeof value === "string") {
    const file = relative(process.cwd(), resolve(base, value)) || value;
    let loaded = cache.get(file);
    if (loaded === undefined) {
      loaded = readFacts(file);
      cache.set(file, loaded);
    }
    const r = await loaded;
    if ("message" in r) {
      src.fail(path, `facts: ${r.message}`, "F503");
      return null;
    }
    return r.facts;
  }
  const r = validateFacts(value);
  if (r.ok) return r.facts;
  for (const err of r.errors) src.fail([...path, ...factPath(err)], `facts: ${err.path}: ${err.message}`, "F503");
  return null;
}

async function readFacts(file: string): Promise<{ facts: Facts } | { message: string }> {
  let r: FactsResult;
  try {
    r = readFactsFile(file);
  } catch (err) {
    return { message: `cannot read ${file}: ${describeFsError(err)}` };
  }
  if (r.ok) return { facts: r.facts };
  const shown = r.errors.slice(0, 5).map((e) => `${e.path}: ${e.message}`);
  if (r.errors.length > 5) shown.push(`… and ${r.errors.length - 5} more`);
  return { message: `${file} is not a valid facts snapshot: ${shown.join("; ")}` };
}

/** `hosts[2].vms[0].cpu` → ["hosts", 2, "vms", 0, "cpu"], to point at an inline fact's line. */
function factPath(err: FactError): YamlPath {
  const out: (string | number)[] = [];
  for (const m of err.path.matchAll(/([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

function caseParams(src: YamlSource, value: unknown, path: YamlPath): string[] {
  if (value === undefined) return [];
  if (!isObj(value)) {
    src.fail(path, "`params` must be a mapping of POLICY.NAME (or NAME) to a value, as --param");
    return [];
  }
  const out: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === "number" || typeof v === "boolean") out.push(`${key}=${v}`);
    else if (typeof v === "string") out.push(`${key}=${v}`);
    else src.fail([...path, key], `param ${key}: must be a number, a duration, a string or true/false`);
  }
  return out;
}

function caseSettings(src: YamlSource, value: unknown, path: YamlPath): PlanSettings {
  if (value === undefined) return DEFAULT_PLAN_SETTINGS;
  if (!isObj(value)) {
    src.fail(path, "`settings` must be a mapping (" + SETTING_KEYS.join(", ") + ")");
    return DEFAULT_PLAN_SETTINGS;
  }
  checkKeys(src, value, path, SETTING_KEYS, "settings");
  const count = (key: string, fallback: number, whole: boolean): number => {
    const v = value[key];
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (whole && !Number.isInteger(v))) {
      src.fail([...path, key], `settings.${key}: must be ${whole ? "a whole number" : "a number of seconds"} ≥ 0`);
      return fallback;
    }
    return v;
  };
  const flag = (key: string): boolean => {
    const v = value[key];
    if (v === undefined) return false;
    if (typeof v !== "boolean") src.fail([...path, key], `settings.${key}: must be true or false`);
    return v === true;
  };
  const fenced = value["fenced"];
  if (fenced !== undefined && !(Array.isArray(fenced) && fenced.every((h) => typeof h === "string"))) {
    src.fail([...path, "fenced"], "settings.fenced: must be a list of host names");
  }
  return {
    cooldown: count("cooldown", DEFAULT_PLAN_SETTINGS.cooldown, false),
    max_per_host: count("max_per_host", DEFAULT_PLAN_SETTINGS.max_per_host, true),
    max_per_round: count("max_per_round", DEFAULT_PLAN_SETTINGS.max_per_round, true),
    requireFencing: flag("require_fencing"),
    fenced: new Set(Array.isArray(fenced) ? (fenced as string[]) : []),
    explain: flag("explain"),
  };
}
