/**
 * The engine's configuration (SPEC 5): a YAML or JSON file, every key
 * checked, errors naming the key, plus the `run` command's flags on top.
 * Everything downstream (Engine, HTTP layer) receives an `EngineConfig`
 * whose values are already parsed (seconds, bytes, absolute paths), so no
 * other module re-validates or re-parses settings.
 */
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, extname, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { DEFAULT_PINGPONG_WINDOW_S } from "./pingpong.js";
import { paramType } from "../../grammar/compile.js";
import { hasErrors } from "../../grammar/diagnostics.js";
import { parsePolicy } from "../../grammar/parse.js";
import { resolveParams, type DeclaredParam } from "../policy/params.js";
import { DEFAULT_POLICY_SIZE_LIMITS, readPolicySources } from "../policy/files.js";
import type { ScriptLimits } from "../types.js";
import {
  type Checked,
  type ConfigError,
  isPlainObject,
  parseBoolean,
  parseDuration,
  parseHostName,
  parseHttpUrl,
  parseInteger,
  parseListen,
  parseNonEmptyString,
  parseSize,
  describe,
  unknownKey,
} from "./config-schema.js";

export type { ConfigError } from "./config-schema.js";

/** A host agent the engine manages. */
export interface HostConfig {
  readonly name: string;
  readonly url: string;
}

/** The validated configuration; durations in seconds, paths absolute. */
export interface EngineConfig {
  /** The file it was read from, or null for defaults only. */
  readonly file: string | null;
  /** `HOST:PORT` for the HTTP API. */
  readonly listen: string;
  readonly token_file: string | null;
  /** The token read from `token_file` (trimmed), or null when none is configured. */
  readonly token: string | null;
  readonly interval: number;
  /** Policy files and folders, absolute. */
  readonly policies: readonly string[];
  /** `POLICY.NAME=VALUE` or `NAME=VALUE`, as `loadPolicySet` takes them. */
  readonly params: readonly string[];
  readonly dry_run: boolean;
  readonly cooldown: number;
  readonly max_per_host: number;
  readonly max_per_round: number;
  readonly down_after: number;
  readonly smoothing: number;
  /** argv of the fence command with `{host}` placeholders, or null when none is configured. */
  readonly fence: readonly string[] | null;
  readonly fence_timeout: number;
  /** Absolute path of the journal (JSON lines). */
  readonly journal: string;
  /** Empty: the engine starts the embedded demo cluster. */
  readonly hosts: readonly HostConfig[];
  readonly script_limits: ScriptLimits;
  /** Seconds to wait for an agent's `/facts` (and any other agent request). */
  readonly agent_timeout: number;
  /** Seconds one migration or restart may run before the engine checks the facts to settle it. */
  readonly action_timeout: number;
  /** Seconds within which a VM migrated back to a host it left is ping-pong (SPEC 12); 0 turns the check off. */
  readonly pingpong_window: number;
  /** The round recording (SPEC 10): folder (absolute) and size cap in bytes; null when off. */
  readonly record: RecordConfig | null;
  /** Policy files and folders of the shadow set (absolute); empty: no shadow. */
  readonly shadow: readonly string[];
  /** Most bytes of one policy file; a larger one is an error (SPEC 5, "Policy size"). */
  readonly max_policy_bytes: number;
  /** Most bytes of all policy files together. */
  readonly max_policy_set_bytes: number;
}

/** Where and how much the engine records (config `record`). */
export interface RecordConfig {
  readonly dir: string;
  readonly max_bytes: number;
}

/** The recording's default size cap: 200 MiB. */
export const DEFAULT_RECORD_BYTES = 200 * 1024 * 1024;

/** Flags of `vmpolicy run` that override the file (SPEC 5). */
export interface ConfigFlags {
  readonly listen?: string;
  readonly policies?: readonly string[];
  readonly interval?: string;
  readonly dryRun?: boolean;
  readonly tokenFile?: string;
  /** `--record DIR` (a folder) or `--no-record` (false). */
  readonly record?: string | false;
  readonly shadow?: readonly string[];
}

/** A validated config, or every problem as a printable line. */
export type ConfigResult = { readonly ok: true; readonly config: EngineConfig } | { readonly ok: false; readonly errors: readonly string[] };

/** The journal file name used when `journal` is not set and hosts are configured. */
export const DEFAULT_JOURNAL_NAME = "vmpolicy-journal.jsonl";

type Draft = { -readonly [K in keyof EngineConfig]: EngineConfig[K] };

function defaults(baseDir: string): Draft {
  return {
    file: null,
    listen: "127.0.0.1:7070",
    token_file: null,
    token: null,
    interval: 10,
    policies: [resolve(baseDir, "policies")],
    params: [],
    dry_run: false,
    cooldown: 60,
    max_per_host: 2,
    max_per_round: 16,
    down_after: 30,
    smoothing: 300,
    fence: null,
    fence_timeout: 30,
    journal: "",
    hosts: [],
    script_limits: { memoryBytes: 32 * 1024 * 1024, callMs: 50, roundMs: 500 },
    agent_timeout: 3,
    action_timeout: 600,
    pingpong_window: DEFAULT_PINGPONG_WINDOW_S,
    // The folder is resolved beside the journal in `finish` (dir "" until then).
    record: { dir: "", max_bytes: DEFAULT_RECORD_BYTES },
    shadow: [],
    max_policy_bytes: DEFAULT_POLICY_SIZE_LIMITS.fileBytes,
    max_policy_set_bytes: DEFAULT_POLICY_SIZE_LIMITS.setBytes,
  };
}

type KeyHandler = (value: unknown, draft: Draft, baseDir: string, errors: ConfigError[], path: string) => void;

/**
 * The config key each entry of a parsed `params` came from (`params.cslb.band`,
 * `params[2]`), keyed by the `params` array itself: flags never replace it,
 * so the key is still known when the params are checked against the
 * policies (`checkParams`), without a field on `EngineConfig` that nothing
 * else would read.
 */
const PARAM_KEYS = new WeakMap<readonly string[], readonly string[]>();

/** Adapts a value parser to a key: on success assign, on failure report against the key. */
function field<T>(parse: (v: unknown) => Checked<T>, assign: (d: Draft, v: T) => void): KeyHandler {
  return (value, draft, _baseDir, errors, path) => {
    const r = parse(value);
    if (r.ok) assign(draft, r.value);
    else errors.push({ path, message: r.message });
  };
}

/** A non-empty list (or one string) of policy files or folders, resolved against the config's folder. */
function policyPaths(value: unknown, baseDir: string, errors: ConfigError[], path: string): string[] {
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    errors.push({ path, message: `must be a non-empty list of policy files or folders (got ${describe(value)})` });
    return [];
  }
  const out: string[] = [];
  list.forEach((p, i) => {
    const r = parseNonEmptyString(p);
    if (r.ok) out.push(resolve(baseDir, r.value));
    else errors.push({ path: `${path}[${i}]`, message: r.message });
  });
  return out;
}

const KEYS: Record<string, KeyHandler> = {
  listen: field(parseListen, (d, v) => (d.listen = v.text)),
  token_file: (value, draft, baseDir, errors, path) => {
    const r = parseNonEmptyString(value);
    if (r.ok) draft.token_file = resolve(baseDir, r.value);
    else errors.push({ path, message: r.message });
  },
  interval: field((v) => parseDuration(v, { min: 0.1 }), (d, v) => (d.interval = v)),
  policies: (value, draft, baseDir, errors, path) => {
    draft.policies = policyPaths(value, baseDir, errors, path);
  },
  shadow: (value, draft, baseDir, errors, path) => {
    draft.shadow = policyPaths(value, baseDir, errors, path);
  },
  record: (value, draft, baseDir, errors, path) => {
    if (value === false || value === null) {
      draft.record = null;
      return;
    }
    if (value === true) return;
    if (!isPlainObject(value)) {
      errors.push({ path, message: `must be false or a map with dir and max_bytes (got ${describe(value)})` });
      return;
    }
    const out = { dir: "", max_bytes: DEFAULT_RECORD_BYTES };
    for (const [k, v] of Object.entries(value)) {
      if (k === "dir") {
        const r = parseNonEmptyString(v);
        if (r.ok) out.dir = resolve(baseDir, r.value);
        else errors.push({ path: `${path}.dir`, message: r.message });
      } else if (k === "max_bytes") {
        const r = parseSize(v);
        if (r.ok) out.max_bytes = r.value;
        else errors.push({ path: `${path}.max_bytes`, message: r.message });
      } else errors.push({ path, message: unknownKey(k, ["dir", "max_bytes"]) });
    }
    draft.record = out;
  },
  params: (value, draft, _baseDir, errors, path) => {
    const out: string[] = [];
    const keys: string[] = [];
    if (Array.isArray(value)) {
      value.forEach((p, i) => {
        if (typeof p === "string" && /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?=.+$/s.test(p)) {
          out.push(p);
          keys.push(`${path}[${i}]`);
        } else errors.push({ path: `${path}[${i}]`, message: `must be "NAME=VALUE" or "POLICY.NAME=VALUE" (got ${describe(p)})` });
      });
    } else if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) {
        const before = out.length;
        if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(k)) {
          errors.push({ path: `${path}.${k}`, message: `a param is named NAME or POLICY.NAME` });
        } else if (typeof v === "number" && Number.isFinite(v)) out.push(`${k}=${v}`);
        else if (typeof v === "boolean") out.push(`${k}=${v}`);
        else if (typeof v === "string" && v !== "") out.push(`${k}=${v}`);
        else errors.push({ path: `${path}.${k}`, message: `must be a number, a string or true/false (got ${describe(v)})` });
        if (out.length > before) keys.push(`${path}.${k}`);
      }
    } else {
      errors.push({ path, message: `must be a map of POLICY.NAME: VALUE or a list of "P=V" (got ${describe(value)})` });
    }
    draft.params = out;
    PARAM_KEYS.set(out, keys);
  },
  dry_run: field(parseBoolean, (d, v) => (d.dry_run = v)),
  pingpong_window: field((v) => parseDuration(v, { allowZero: true }), (d, v) => (d.pingpong_window = v)),
  cooldown: field((v) => parseDuration(v, { allowZero: true }), (d, v) => (d.cooldown = v)),
  max_per_host: field((v) => parseInteger(v, 1), (d, v) => (d.max_per_host = v)),
  max_per_round: field((v) => parseInteger(v, 1), (d, v) => (d.max_per_round = v)),
  down_after: field((v) => parseDuration(v), (d, v) => (d.down_after = v)),
  smoothing: field((v) => parseDuration(v, { allowZero: true }), (d, v) => (d.smoothing = v)),
  fence: (value, draft, _baseDir, errors, path) => {
    // A list is the argv (no shell); a string is split on whitespace, also without a shell.
    const argv = typeof value === "string" ? value.trim().split(/\s+/) : value;
    if (value === null) {
      draft.fence = null;
    } else if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== "string" || a === "")) {
      errors.push({ path, message: `must be a command: a list of arguments or a string, with {host} for the host name (got ${describe(value)})` });
    } else {
      draft.fence = argv as string[];
    }
  },
  fence_timeout: field((v) => parseDuration(v), (d, v) => (d.fence_timeout = v)),
  journal: (value, draft, baseDir, errors, path) => {
    const r = parseNonEmptyString(value);
    if (r.ok) draft.journal = resolve(baseDir, r.value);
    else errors.push({ path, message: r.message });
  },
  hosts: (value, draft, _baseDir, errors, path) => {
    if (!Array.isArray(value)) {
      errors.push({ path, message: `must be a list of {name, url} (got ${describe(value)})` });
      return;
    }
    const out: HostConfig[] = [];
    const seen = new Set<string>();
    value.forEach((h, i) => {
      const at = `${path}[${i}]`;
      if (!isPlainObject(h)) {
        errors.push({ path: at, message: `must be a map with name and url (got ${describe(h)})` });
        return;
      }
      for (const k of Object.keys(h)) if (k !== "name" && k !== "url") errors.push({ path: at, message: unknownKey(k, ["name", "url"]) });
      const name = "name" in h ? parseHostName(h.name) : ({ ok: false, message: "is missing" } as const);
      const url = "url" in h ? parseHttpUrl(h.url) : ({ ok: false, message: "is missing" } as const);
      if (!name.ok) errors.push({ path: `${at}.name`, message: name.message });
      if (!url.ok) errors.push({ path: `${at}.url`, message: url.message });
      if (name.ok && seen.has(name.value)) errors.push({ path: `${at}.name`, message: `duplicate host name "${name.value}"` });
      if (name.ok && url.ok) {
        seen.add(name.value);
        out.push({ name: name.value, url: url.value });
      }
    });
    draft.hosts = out;
  },
  script_memory: field(parseSize, (d, v) => (d.script_limits = { ...d.script_limits, memoryBytes: v })),
  script_call_ms: field((v) => parseInteger(v, 1), (d, v) => (d.script_limits = { ...d.script_limits, callMs: v })),
  script_round_ms: field((v) => parseInteger(v, 1), (d, v) => (d.script_limits = { ...d.script_limits, roundMs: v })),
  agent_timeout: field((v) => parseDuration(v), (d, v) => (d.agent_timeout = v)),
  action_timeout: field((v) => parseDuration(v), (d, v) => (d.action_timeout = v)),
  max_policy_bytes: field((v) => parseSize(v, { min: 1024, minText: "1KiB" }), (d, v) => (d.max_policy_bytes = v)),
  max_policy_set_bytes: field((v) => parseSize(v, { min: 1024, minText: "1KiB" }), (d, v) => (d.max_policy_set_bytes = v)),
};

/** Every key the file may carry, for docs and suggestions. */
export const CONFIG_KEYS: readonly string[] = Object.keys(KEYS);

/** Parses the text as YAML or JSON: by extension, else JSON when it starts with `{`. */
function parseDocument(text: string, file: string): { ok: true; value: unknown } | { ok: false; message: string } {
  const ext = extname(file).toLowerCase();
  const asJson = ext === ".json" || (ext !== ".yaml" && ext !== ".yml" && text.trimStart().startsWith("{"));
  try {
    return { ok: true, value: asJson ? JSON.parse(text) : parseYaml(text) };
  } catch (e) {
    return { ok: false, message: `not valid ${asJson ? "JSON" : "YAML"}: ${(e as Error).message.split("\n")[0]}` };
  }
}

function formatErrors(file: string, errors: readonly ConfigError[]): string[] {
  return errors.map((e) => (e.path ? `${file}: ${e.path}: ${e.message}` : `${file}: ${e.message}`));
}

/**
 * Validates the text of a config file. Relative paths (policies, journal,
 * token_file) resolve against the file's folder, so a config works from any
 * working directory. Does not read the token file (see `loadEngineConfig`).
 */
export function parseConfig(text: string, file: string, cwd: string = process.cwd()): ConfigResult {
  const baseDir = dirname(resolve(cwd, file));
  const doc = parseDocument(text, file);
  if (!doc.ok) return { ok: false, errors: [`${file}: ${doc.message}`] };
  const value = doc.value ?? {};
  if (!isPlainObject(value)) return { ok: false, errors: [`${file}: must be a map of settings (got ${describe(value)})`] };
  const draft = defaults(baseDir);
  draft.file = resolve(cwd, file);
  const errors: ConfigError[] = [];
  for (const [key, v] of Object.entries(value)) {
    const handler = KEYS[key];
    if (handler) handler(v, draft, baseDir, errors, key);
    else errors.push({ path: "", message: unknownKey(key, CONFIG_KEYS) });
  }
  if (errors.length > 0) return { ok: false, errors: formatErrors(file, errors) };
  return { ok: true, config: finish(draft, baseDir) };
}

/** Defaults only (no file): policies and journal relative to `cwd`. */
export function defaultConfig(cwd: string = process.cwd()): EngineConfig {
  return finish(defaults(cwd), cwd);
}

/**
 * The journal default: beside the config (or in cwd) when hosts are
 * configured; a fresh file in the temp folder for the embedded demo
 * cluster, whose hosts vanish with the process, so a stale demo journal is
 * never reconciled against a new demo.
 */
function finish(draft: Draft, baseDir: string): EngineConfig {
  if (draft.journal === "") {
    draft.journal =
      draft.hosts.length > 0 ? resolve(baseDir, DEFAULT_JOURNAL_NAME) : join(tmpdir(), `vmpolicy-demo-${process.pid}-${Date.now()}.jsonl`);
  }
  if (draft.record !== null && draft.record.dir === "") draft.record = { ...draft.record, dir: defaultRecordDir(draft.journal) };
  return draft;
}

/** The recording's default folder, beside the journal: `vmpolicy-journal.jsonl` → `vmpolicy-journal-recording/`. */
export function defaultRecordDir(journal: string): string {
  return join(dirname(journal), `${basename(journal, extname(journal))}-recording`);
}

/** Applies the `run` flags over a config; flag paths resolve against `cwd`. */
export function applyFlags(config: EngineConfig, flags: ConfigFlags, cwd: string = process.cwd()): ConfigResult {
  const draft: Draft = { ...config };
  const errors: string[] = [];
  if (flags.listen !== undefined) {
    const r = parseListen(flags.listen);
    if (r.ok) draft.listen = r.value.text;
    else errors.push(`--listen: ${r.message}`);
  }
  if (flags.interval !== undefined) {
    const r = parseDuration(/^\d+(\.\d+)?$/.test(flags.interval) ? Number(flags.interval) : flags.interval, { min: 0.1 });
    if (r.ok) draft.interval = r.value;
    else errors.push(`--interval: ${r.message}`);
  }
  if (flags.policies !== undefined && flags.policies.length > 0) draft.policies = flags.policies.map((p) => resolve(cwd, p));
  if (flags.dryRun) draft.dry_run = true;
  if (flags.record === false) draft.record = null;
  else if (flags.record !== undefined) {
    if (flags.record.trim() === "") errors.push("--record: must not be empty");
    else draft.record = { dir: resolve(cwd, flags.record), max_bytes: config.record?.max_bytes ?? DEFAULT_RECORD_BYTES };
  }
  if (flags.shadow !== undefined && flags.shadow.length > 0) draft.shadow = flags.shadow.map((p) => resolve(cwd, p));
  if (flags.tokenFile !== undefined) {
    if (flags.tokenFile.trim() === "") errors.push("--token-file: must not be empty");
    else draft.token_file = resolve(cwd, flags.tokenFile);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config: draft };
}

/** Reads and trims the token file; an empty or unreadable file is an error naming it. */
export async function readToken(config: EngineConfig): Promise<ConfigResult> {
  if (config.token_file === null) return { ok: true, config: { ...config, token: null } };
  let text: string;
  try {
    text = await readFile(config.token_file, "utf8");
  } catch (e) {
    return { ok: false, errors: [`token_file: cannot read ${config.token_file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`] };
  }
  const token = text.trim();
  if (token === "") return { ok: false, errors: [`token_file: ${config.token_file} is empty`] };
  return { ok: true, config: { ...config, token } };
}

/**
 * Checks the file's `params` against the params the policies declare, so a
 * wrong one is reported against its config key (`config.yaml:
 * params.cslb.band: cslb.band is a number; \`abc\` is not a number`) and the
 * run command exits 2 like for any bad setting, rather than the policy
 * loader reporting it at start as if it came from a `--param` flag. Only the
 * declarations are needed, so the policies are parsed, not checked or
 * compiled; policies that cannot be read or parsed are left to the engine's
 * start, which reports them with their positions. The loader still checks
 * the params at every load (a hot-reloaded set may drop a param).
 */
async function checkParams(config: EngineConfig, file: string): Promise<string[]> {
  const keys = PARAM_KEYS.get(config.params);
  if (config.params.length === 0 || keys === undefined) return [];
  const read = await readPolicySources(config.policies);
  if (!read.ok || read.sources.length === 0) return [];
  const declared: DeclaredParam[] = [];
  for (const source of read.sources) {
    const parsed = parsePolicy(source.text, source.file);
    if (parsed.ast === null || hasErrors(parsed.diagnostics)) return [];
    for (const decl of parsed.ast.decls) {
      if (decl.kind === "ParamDecl") declared.push({ policy: parsed.ast.name.name, name: decl.name.name, type: paramType(decl) });
    }
  }
  const errors: string[] = [];
  config.params.forEach((arg, i) => {
    // The loader words its messages for the command line (`--param P=V: …`); the key replaces that here.
    const flag = `--param ${arg}: `;
    for (const d of resolveParams([arg], declared).diagnostics) {
      const message = d.message.startsWith(flag) ? d.message.slice(flag.length) : d.message;
      errors.push(`${file}: ${keys[i] ?? "params"}: ${message}${d.hint ? ` (${d.hint})` : ""}`);
    }
  });
  return errors;
}

/**
 * The whole path the run command takes: read the file (if any), validate,
 * apply the flags, check the params against the policies, read the token.
 * Errors are lines ready to print.
 */
export async function loadEngineConfig(options: { file?: string; flags?: ConfigFlags; cwd?: string } = {}): Promise<ConfigResult> {
  const cwd = options.cwd ?? process.cwd();
  let base: EngineConfig;
  if (options.file !== undefined) {
    let text: string;
    try {
      text = await readFile(resolve(cwd, options.file), "utf8");
    } catch (e) {
      return { ok: false, errors: [`${options.file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`] };
    }
    const parsed = parseConfig(text, options.file, cwd);
    if (!parsed.ok) return parsed;
    base = parsed.config;
  } else {
    base = defaultConfig(cwd);
  }
  const merged = applyFlags(base, options.flags ?? {}, cwd);
  if (!merged.ok) return merged;
  // After the flags: `--policies` changes which policies the params must name.
  const paramErrors = options.file === undefined ? [] : await checkParams(merged.config, options.file);
  if (paramErrors.length > 0) return { ok: false, errors: paramErrors };
  return readToken(merged.config);
}
