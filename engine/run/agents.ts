/**
 * The engine's view of the agent protocol (SPEC 6): the four requests the
 * loop makes, over the shared `AgentClient` (one per host, with the cluster
 * token and the configured timeout). The engine code talks to this small
 * port rather than to HTTP, so the loop reads as "ask the host", and
 * errors keep the client's messages (host, URL, route, reason).
 */
import { AgentClient, AgentClientError } from "../hosts/client.js";
import type { HostConfig } from "./config.js";

/** How an action on an agent stands (`GET /migrations/ID`, `GET /restarts/ID`). */
export interface ActionStatus {
  readonly state: "running" | "completed" | "failed";
  readonly error?: string;
  /** While running, where the agent reports it: `processed_mib` and `total_mib` give a fraction. */
  readonly progress?: Readonly<Record<string, number>>;
}

/** What the engine needs from the host agents. */
export interface AgentPort {
  facts(host: HostConfig): Promise<unknown>;
  /** `POST /migrations` on the source; resolves to the agent's id. */
  startMigration(from: HostConfig, vm: string, to: HostConfig): Promise<string>;
  /** `GET /migrations/ID` or `GET /restarts/ID`; null when the agent does not know the id (404). */
  actionStatus(host: HostConfig, kind: "migrate" | "restart", id: string): Promise<ActionStatus | null>;
  /** `POST /restarts` on the destination; resolves to the agent's id, or null when it finished at once. */
  startRestart(to: HostConfig, vm: string, from: string): Promise<string | null>;
}

/**
 * True when the agent answered and refused (a 4xx/5xx): the action was
 * certainly not started. Any other failure (timeout, connection reset)
 * leaves it open whether the request arrived.
 */
export function definitelyRefused(e: unknown): boolean {
  return e instanceof AgentClientError && (e.kind === "http" || (e.kind === "unreachable" && /connection refused/.test(e.reason)));
}

/** The agent protocol over HTTP, one `AgentClient` per host. */
export class HttpAgents implements AgentPort {
  private readonly clients = new Map<string, AgentClient>();

  constructor(
    private readonly token: string | null,
    private readonly timeoutMs: number,
  ) {}

  private client(host: HostConfig): AgentClient {
    let c = this.clients.get(host.name);
    if (!c || c.url !== host.url.replace(/\/+$/, "")) {
      c = new AgentClient({ url: host.url, name: host.name, timeoutMs: this.timeoutMs, ...(this.token ? { token: this.token } : {}) });
      this.clients.set(host.name, c);
    }
    return c;
  }

  facts(host: HostConfig): Promise<unknown> {
    return this.client(host).facts();
  }

  startMigration(from: HostConfig, vm: string, to: HostConfig): Promise<string> {
    return this.client(from).startMigration(vm, { name: to.name, url: to.url });
  }

  async actionStatus(host: HostConfig, kind: "migrate" | "restart", id: string): Promise<ActionStatus | null> {
    const c = this.client(host);
    try {
      return kind === "migrate" ? await c.migrationStatus(id) : await c.restartStatus(id);
    } catch (e) {
      if (e instanceof AgentClientError && e.kind === "http" && e.status === 404) return null;
      throw e;
    }
  }

  async startRestart(to: HostConfig, vm: string, from: string): Promise<string | null> {
    const r = await this.client(to).restart(vm, from);
    return r.status.state === "completed" ? null : r.id;
  }
}
