/**
 * The dashboard's live feed (`GET /events`, SPEC 11): one snapshot when a
 * page connects, then an update whenever the engine reports a change (a
 * round, an action starting or ending, a reload, a host going down) or the
 * API took a change. Updates are coalesced (at most one per `throttleMs`)
 * and serialised once for every page; a page that cannot keep up is
 * dropped (its browser reconnects and gets a fresh snapshot), so a slow
 * client never holds the engine's memory.
 */
import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import type { Diagnostic } from "../../../grammar/diagnostics.js";
import { renderDiagnostics } from "../../../grammar/render-diagnostics.js";
import type { EngineControl, EngineStatus, JournalEntry, ReloadError } from "../control.js";
import type { Plan } from "../../types.js";
import type { ClusterView, DashboardSource, LoadHistoryPart } from "./view.js";

/** One message of the feed; `history` holds only new points in an update. */
export interface DashboardMessage {
  readonly at: string;
  readonly status: EngineStatus;
  readonly plan: Plan | null;
  readonly decisions: readonly JournalEntry[];
  readonly cluster: ClusterView | null;
  readonly history: LoadHistoryPart | null;
  /** A rejected reload's diagnostics as `vmpolicy check` prints them, with source lines. */
  readonly reload_text: string | null;
}

export interface FeedOptions {
  /** Least time between two updates (default 200 ms). */
  readonly throttleMs?: number;
  /** A comment line this often keeps proxies from closing an idle stream (default 15 s). */
  readonly heartbeatMs?: number;
  /** Journal lines sent to the page (default 300). */
  readonly decisions?: number;
  /** A page with more unsent bytes than this is dropped (default 16 MiB). */
  readonly maxBufferedBytes?: number;
  /** Told when a message could not be built (default: nothing; the API logs it). */
  readonly onError?: (e: Error) => void;
}

/** Policy files bigger than this are not read back for a reload's source lines. */
const MAX_SOURCE_BYTES = 2 * 1024 * 1024;

export class DashboardFeed {
  private readonly clients = new Set<ServerResponse>();
  private readonly throttleMs: number;
  private readonly decisionCount: number;
  private readonly maxBuffered: number;
  private readonly heartbeatMs: number;
  /** Runs only while a page is connected: an engine nobody watches is never woken for it. */
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly onError: (e: Error) => void;
  private timer: NodeJS.Timeout | null = null;
  private sending = false;
  private dirty = false;
  private lastT: number | undefined;
  private rendered: { error: ReloadError; text: string } | null = null;
  private closed = false;

  constructor(
    private readonly engine: EngineControl,
    private readonly source: DashboardSource | undefined,
    options: FeedOptions = {},
  ) {
    this.throttleMs = options.throttleMs ?? 200;
    this.decisionCount = options.decisions ?? 300;
    this.maxBuffered = options.maxBufferedBytes ?? 16 * 1024 * 1024;
    this.onError = options.onError ?? (() => undefined);
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
  }

  /** Everything the page shows, with the whole last hour of history. */
  async snapshot(): Promise<DashboardMessage> {
    return this.message(undefined);
  }

  private async message(afterT: number | undefined): Promise<DashboardMessage> {
    const status = this.engine.status();
    return {
      at: new Date().toISOString(),
      status,
      plan: this.engine.lastPlan({ explain: true }),
      decisions: await this.engine.decisions(this.decisionCount),
      cluster: this.source?.cluster() ?? null,
      history: this.source?.history(afterT) ?? null,
      reload_text: await this.reloadText(status.reload_error),
    };
  }

  /** Starts streaming to `res` (headers already sent by the route): a snapshot first. */
  async add(res: ServerResponse): Promise<void> {
    if (this.closed) {
      res.end();
      return;
    }
    this.clients.add(res);
    res.on("close", () => this.remove(res));
    if (this.heartbeat === null) {
      this.heartbeat = setInterval(() => this.write(": ping\n\n"), this.heartbeatMs);
      this.heartbeat.unref();
    }
    let snap: DashboardMessage;
    try {
      snap = await this.snapshot();
    } catch (e) {
      // Ending the stream makes the browser reconnect (after `retry`) and try again.
      this.onError(e as Error);
      this.remove(res);
      res.end();
      return;
    }
    this.lastT ??= lastTime(snap.history);
    if (!res.writableEnded && !res.destroyed) res.write(`retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(snap)}\n\n`);
  }

  private remove(res: ServerResponse): void {
    this.clients.delete(res);
    if (this.clients.size === 0 && this.heartbeat !== null) {
      clearInterval(this.heartbeat);
      this.heartbeat = null;
    }
  }

  /** Open streams. */
  get size(): number {
    return this.clients.size;
  }

  /** Something changed: send an update soon (coalesced). */
  changed(): void {
    if (this.closed || this.clients.size === 0) return;
    if (this.sending) {
      this.dirty = true;
      return;
    }
    this.timer ??= setTimeout(() => void this.broadcast(), this.throttleMs);
  }

  private async broadcast(): Promise<void> {
    this.timer = null;
    this.sending = true;
    try {
      const msg = await this.message(this.lastT);
      this.lastT = lastTime(msg.history) ?? this.lastT;
      this.write(`event: update\ndata: ${JSON.stringify(msg)}\n\n`);
    } catch (e) {
      // The page misses one update (the next change sends the state again); the engine goes on.
      this.onError(e as Error);
    } finally {
      this.sending = false;
      if (this.dirty) {
        this.dirty = false;
        this.changed();
      }
    }
  }

  private write(chunk: string): void {
    for (const res of this.clients) {
      if (res.writableLength > this.maxBuffered) {
        res.destroy();
        this.remove(res);
        continue;
      }
      res.write(chunk);
    }
  }

  /** Ends every stream (the API is closing). */
  close(): void {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    if (this.timer) clearTimeout(this.timer);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private async reloadText(error: ReloadError | null): Promise<string | null> {
    if (error === null) return null;
    if (this.rendered?.error === error) return this.rendered.text;
    const text = await renderWithSources(error.diagnostics);
    this.rendered = { error, text };
    return text;
  }
}

function lastTime(h: LoadHistoryPart | null): number | undefined {
  return h && h.t.length > 0 ? h.t[h.t.length - 1] : undefined;
}

/** Diagnostics rendered like `vmpolicy check`: each with its source line and a caret under the span. */
export async function renderWithSources(diagnostics: readonly Diagnostic[]): Promise<string> {
  const sources = new Map<string, string>();
  for (const file of new Set(diagnostics.map((d) => d.span.file))) {
    const text = await readFile(file, "utf8").catch(() => undefined);
    if (text !== undefined && text.length <= MAX_SOURCE_BYTES) sources.set(file, text);
  }
  return renderDiagnostics(diagnostics, sources);
}
