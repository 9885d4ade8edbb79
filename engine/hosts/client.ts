/**
 * A client for the host agent's HTTP API (SPEC 6) over undici: used by the
 * engine to gather facts and drive migrations, and by agents themselves to
 * hand a migrated VM to their peer. Every failure is an `AgentClientError`
 * whose message names the host, the URL and the route, and says what went
 * wrong (connection refused, no answer in time, the agent's own 4xx message).
 */
import { request } from "undici";
import type { AgentFacts, MigrationTarget, OperationStatus, VmDefinition } from "./drivers/contract.js";

export type AgentClientErrorKind = "unreachable" | "timeout" | "http" | "protocol";

/** A failed agent request; `status` is the HTTP status when the agent answered. */
export class AgentClientError extends Error {
  constructor(
    readonly kind: AgentClientErrorKind,
    readonly host: string,
    readonly url: string,
    readonly route: string,
    readonly status: number | null,
    /** The reason alone, without host and route (e.g. the agent's own 4xx message). */
    readonly reason: string,
  ) {
    super(`agent ${host} (${url}) ${route}: ${reason}`);
    this.name = "AgentClientError";
  }
}

export interface AgentClientOptions {
  /** Base URL such as `http://127.0.0.1:7071` (a trailing slash is ignored). */
  readonly url: string;
  /** The host's name, for messages; defaults to the URL's host:port. */
  readonly name?: string;
  readonly token?: string;
  /** Default per-request timeout (default 3000 ms). */
  readonly timeoutMs?: number;
}

function isStaleConnection(e: unknown): boolean {
  const err = e as { code?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code;
  return code === "UND_ERR_SOCKET" || code === "ECONNRESET";
}

const STATES = new Set(["running", "completed", "failed"]);

/** One agent, by URL. Cheap to create; connections are pooled by undici's global dispatcher. */
export class AgentClient {
  readonly url: string;
  readonly name: string;
  private readonly token?: string;
  private readonly timeoutMs: number;

  constructor(options: AgentClientOptions) {
    this.url = options.url.replace(/\/+$/, "");
    let fallback = this.url;
    try {
      fallback = new URL(this.url).host;
    } catch {
      // An unparsable URL fails on first use with a clear message; keep it as the name.
    }
    this.name = options.name ?? fallback;
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 3000;
  }

  /** `GET /facts`: the host's facts; the shape is checked lightly here, fully by the engine's validator. */
  async facts(timeoutMs?: number): Promise<AgentFacts> {
    const route = "GET /facts";
    const body = await this.call("GET", "/facts", undefined, timeoutMs, [200]);
    const o = body.json as Partial<AgentFacts> | null;
    if (typeof o !== "object" || o === null || typeof o.name !== "string" || !Array.isArray(o.vms)) {
      throw this.error("protocol", route, body.status, "answer is not a host's facts (needs at least name and vms)");
    }
    return o as AgentFacts;
  }

  /** `POST /migrations` on the source agent; resolves to the migration's id. */
  async startMigration(vm: string, to: MigrationTarget, timeoutMs?: number): Promise<string> {
    const r = await this.call("POST", "/migrations", { vm, to: { name: to.name, url: to.url } }, timeoutMs, [202, 201, 200]);
    return this.idOf(r, "POST /migrations");
  }

  /** `GET /migrations/ID`; an unknown id is an `http` error with status 404. */
  async migrationStatus(id: string, timeoutMs?: number): Promise<OperationStatus> {
    const path = `/migrations/${encodeURIComponent(id)}`;
    const r = await this.call("GET", path, undefined, timeoutMs, [200]);
    return this.statusOf(r, `GET ${path}`);
  }

  /** `POST /restarts` on the destination: starts `vm`, lost with `from`, from shared storage. */
  async restart(vm: string, from: string, timeoutMs?: number): Promise<{ id: string; status: OperationStatus }> {
    const r = await this.call("POST", "/restarts", { vm, from }, timeoutMs, [201, 202, 200]);
    const id = this.idOf(r, "POST /restarts");
    const state = (r.json as { state?: unknown }).state;
    const status: OperationStatus = typeof state === "string" && STATES.has(state) ? this.statusOf(r, "POST /restarts") : { state: "running" };
    return { id, status };
  }

  /** `GET /restarts/ID`. */
  async restartStatus(id: string, timeoutMs?: number): Promise<OperationStatus> {
    const path = `/restarts/${encodeURIComponent(id)}`;
    const r = await this.call("GET", path, undefined, timeoutMs, [200]);
    return this.statusOf(r, `GET ${path}`);
  }

  /** `POST /incoming`: agent-to-agent hand-over of a migrated VM. */
  async incoming(definition: VmDefinition, from: string, timeoutMs?: number): Promise<void> {
    await this.call("POST", "/incoming", { vm: definition, from }, timeoutMs, [201, 200]);
  }

  /** `POST /incoming/prepare`: asks the destination to get ready for `definition`; returns what the source needs (e.g. `{ uri }`). */
  async prepareIncoming(definition: VmDefinition, from: string, timeoutMs?: number): Promise<Record<string, unknown>> {
    const r = await this.call("POST", "/incoming/prepare", { vm: definition, from }, timeoutMs, [201, 200]);
    if (typeof r.json !== "object" || r.json === null) throw this.error("protocol", "POST /incoming/prepare", r.status, "answer is not an object");
    return r.json as Record<string, unknown>;
  }

  /** `POST /incoming/abort`: undoes a preparation after a failed migration. */
  async abortIncoming(vm: string, from: string, timeoutMs?: number): Promise<void> {
    await this.call("POST", "/incoming/abort", { vm, from }, timeoutMs, [200]);
  }

  /** `GET /healthz` (open without the token): the name of the host the agent at this URL serves. */
  async identify(timeoutMs?: number): Promise<string> {
    const route = "GET /healthz";
    const r = await this.call("GET", "/healthz", undefined, timeoutMs, [200]);
    const name = (r.json as { name?: unknown } | null)?.name;
    if (typeof name !== "string" || name === "") throw this.error("protocol", route, r.status, "answer names no host (is this a vmpolicy agent?)");
    return name;
  }

  private async call(method: "GET" | "POST", path: string, body: unknown, timeoutMs: number | undefined, ok: readonly number[]): Promise<{ status: number; json: unknown }> {
    const route = `${method} ${path}`;
    const ms = timeoutMs ?? this.timeoutMs;
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    // One deadline for the whole call (a retry and the body included), cleared when it ends:
    // `AbortSignal.timeout` cannot be cleared, and its timer woke the idle engine after every request.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DOMException(`no answer within ${ms} ms`, "TimeoutError")), ms);
    timer.unref();
    const send = () =>
      request(`${this.url}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: ms,
        bodyTimeout: ms,
        signal: deadline.signal,
      });
    let res;
    let text: string;
    try {
      try {
        res = await send();
      } catch (e) {
        // A pooled keep-alive connection the agent closed (it restarted) fails at once; a GET is safe to try again on a fresh one.
        if (method !== "GET" || !isStaleConnection(e)) throw this.transportError(e, route, ms);
        try {
          res = await send();
        } catch (e2) {
          throw this.transportError(e2, route, ms);
        }
      }
      try {
        text = await res.body.text();
      } catch (e) {
        throw this.transportError(e, route, ms);
      }
    } finally {
      clearTimeout(timer);
    }
    let json: unknown = null;
    if (text !== "") {
      try {
        json = JSON.parse(text);
      } catch {
        throw this.error("protocol", route, res.statusCode, `answered ${res.statusCode} with a body that is not JSON: ${text.slice(0, 120)}`);
      }
    }
    if (!ok.includes(res.statusCode)) {
      const o = json as { error?: unknown; message?: unknown } | null;
      const msg = typeof o?.error === "string" ? o.error : typeof o?.message === "string" ? o.message : text.slice(0, 200) || "(empty body)";
      throw this.error("http", route, res.statusCode, `answered ${res.statusCode}: ${msg}`);
    }
    return { status: res.statusCode, json };
  }

  private transportError(e: unknown, route: string, ms: number): AgentClientError {
    const err = e as Error & { code?: string; cause?: { code?: string } };
    const code = err.code ?? err.cause?.code ?? "";
    if (err.name === "TimeoutError" || err.name === "AbortError" || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "UND_ERR_ABORTED") {
      return this.error("timeout", route, null, `no answer within ${ms} ms`);
    }
    if (code === "ECONNREFUSED") return this.error("unreachable", route, null, "connection refused (is the agent running?)");
    if (code === "ENOTFOUND" || code === "EAI_AGAIN") return this.error("unreachable", route, null, `cannot resolve the host name (${code})`);
    if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") return this.error("unreachable", route, null, "connection closed before an answer");
    if (err instanceof TypeError || code === "UND_ERR_INVALID_ARG") return this.error("unreachable", route, null, `bad agent URL: ${err.message}`);
    return this.error("unreachable", route, null, code ? `${code}: ${err.message}` : err.message);
  }

  private idOf(r: { status: number; json: unknown }, route: string): string {
    const id = (r.json as { id?: unknown } | null)?.id;
    if (typeof id !== "string" || id === "") throw this.error("protocol", route, r.status, "answer carries no id");
    return id;
  }

  private statusOf(r: { status: number; json: unknown }, route: string): OperationStatus {
    const o = r.json as { state?: unknown; error?: unknown; progress?: unknown } | null;
    if (typeof o?.state !== "string" || !STATES.has(o.state)) throw this.error("protocol", route, r.status, `unknown state ${JSON.stringify(o?.state)}`);
    const state = o.state as OperationStatus["state"];
    const progress = progressOf(o.progress);
    return { state, ...(typeof o.error === "string" ? { error: o.error } : {}), ...(progress ? { progress } : {}) };
  }

  private error(kind: AgentClientErrorKind, route: string, status: number | null, reason: string): AgentClientError {
    return new AgentClientError(kind, this.name, this.url, route, status, reason);
  }
}

/** An agent's `progress`: only its finite numeric fields (anything else an agent sends is dropped, never trusted). */
function progressOf(value: unknown): Record<string, number> | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}
