/**
 * The action journal (SPEC 5): one JSON line per event, fsynced before the
 * engine goes on, so after a crash the engine knows every action it may
 * have issued. A migration writes a `start` line before its request, a
 * second `start` line with the agent's id (`agent_id`) once the agent
 * accepted it, and an `end` line when it is over; the reader merges the two
 * start lines. Alerts are one `start` line (nothing to finish).
 */
import { randomUUID } from "node:crypto";
import { mkdir, open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import type { JournalEntry } from "../http/control.js";

/** A line that could not be read, with its 1-based number. */
export interface JournalProblem {
  readonly line: number;
  readonly message: string;
  /** True for a truncated last line (a crash mid-write): cut off and ignored. */
  readonly truncatedTail: boolean;
}

/** What the journal says when the engine starts. */
export interface JournalState {
  /** Migrations and restarts with a start and no end line, merged (the one with `agent_id` wins). */
  readonly unfinished: readonly JournalEntry[];
  /** VM → time its last migration or restart completed, for the cooldown. */
  readonly lastMoved: ReadonlyMap<string, number>;
  readonly problems: readonly JournalProblem[];
  readonly lines: number;
}

/** How many recent entries `decisions()` can answer from memory. */
const TAIL = 5000;

const PHASES = new Set(["start", "end"]);
const KINDS = new Set(["migrate", "restart", "alert", "promote"]);

function parseLine(text: string): JournalEntry | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return `not JSON: ${(e as Error).message}`;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "not a JSON object";
  const o = v as Record<string, unknown>;
  if (typeof o.id !== "string" || o.id === "") return "missing id";
  if (!PHASES.has(o.phase as string)) return `bad phase ${JSON.stringify(o.phase)}`;
  if (!KINDS.has(o.kind as string)) return `bad kind ${JSON.stringify(o.kind)}`;
  if (typeof o.at !== "string") return "missing at";
  return o as unknown as JournalEntry;
}

/** A fresh action id: sortable by time, unique across restarts. */
export function newActionId(): string {
  return `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
}

/**
 * An open journal. Appends are serialized and each is on disk (fsync)
 * before its promise resolves.
 */
export class Journal {
  private chain: Promise<void> = Promise.resolve();
  private readonly tail: JournalEntry[] = [];

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    tail: JournalEntry[],
  ) {
    this.tail = tail.slice(-TAIL);
  }

  /**
   * Opens (creating) the journal and reads it. A truncated last line (no
   * newline, not JSON) is cut off the file so later appends start clean;
   * an unreadable line elsewhere is reported with its number and skipped.
   */
  static async open(path: string): Promise<{ journal: Journal; state: JournalState }> {
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(path, "a+");
    try {
      const buf = await handle.readFile();
      // A new file: sync its folder too, or a power loss could drop the file with every line in it.
      if (buf.length === 0) await syncFolder(dirname(path));
      const text = buf.toString("utf8");
      const rawLines = text.split("\n");
      const endsClean = text.endsWith("\n") || text === "";
      if (endsClean) rawLines.pop();
      const entries: JournalEntry[] = [];
      const problems: JournalProblem[] = [];
      let offset = 0;
      let cutAt: number | null = null;
      rawLines.forEach((line, i) => {
        const isLast = i === rawLines.length - 1;
        const start = offset;
        offset += Buffer.byteLength(line, "utf8") + 1;
        if (line.trim() === "") return;
        const parsed = parseLine(line);
        if (typeof parsed === "string") {
          const truncatedTail = isLast && !endsClean;
          problems.push({ line: i + 1, message: truncatedTail ? `truncated last line ignored (${parsed})` : parsed, truncatedTail });
          if (truncatedTail) cutAt = start;
        } else {
          entries.push(parsed);
        }
      });
      if (cutAt !== null) {
        await handle.truncate(cutAt);
        await handle.sync();
      } else if (!endsClean) {
        // A complete JSON line without its newline: finish it so the next append is its own line.
        await handle.appendFile("\n");
        await handle.sync();
      }
      return { journal: new Journal(path, handle, entries), state: summarize(entries, problems, rawLines.length) };
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  /** Appends one entry and fsyncs; resolves once it is on disk. */
  append(entry: JournalEntry): Promise<void> {
    const line = JSON.stringify(entry) + "\n";
    const run = async (): Promise<void> => {
      await this.handle.appendFile(line, "utf8");
      await this.handle.sync();
      this.tail.push(entry);
      if (this.tail.length > TAIL * 2) this.tail.splice(0, this.tail.length - TAIL);
    };
    const p = this.chain.then(run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /**
   * The newest `limit` entries, newest first. The two start lines of one
   * migration show as one (the later, which carries `agent_id`).
   */
  decisions(limit: number): JournalEntry[] {
    const out: JournalEntry[] = [];
    const startsSeen = new Set<string>();
    for (let i = this.tail.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.tail[i]!;
      if (e.phase === "start") {
        if (startsSeen.has(e.id)) continue;
        startsSeen.add(e.id);
      }
      out.push(e);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.handle.close();
  }
}

async function syncFolder(dir: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(dir, "r");
  } catch {
    return; // a platform that cannot open folders (Windows) cannot sync them either
  }
  try {
    await handle.sync();
  } catch {
    /* some filesystems refuse fsync on a folder; the file's own fsync still holds */
  } finally {
    await handle.close();
  }
}

function summarize(entries: readonly JournalEntry[], problems: JournalProblem[], lines: number): JournalState {
  const starts = new Map<string, JournalEntry>();
  const ended = new Set<string>();
  const lastMoved = new Map<string, number>();
  for (const e of entries) {
    // Alerts and promotions are single lines with nothing to finish.
    if (e.kind !== "migrate" && e.kind !== "restart") continue;
    if (e.phase === "start") {
      const prev = starts.get(e.id);
      starts.set(e.id, prev && prev.agent_id !== undefined && e.agent_id === undefined ? prev : { ...prev, ...e });
    } else {
      ended.add(e.id);
      if (e.outcome === "completed" && e.vm !== undefined) {
        const t = Date.parse(e.at);
        if (Number.isFinite(t)) lastMoved.set(e.vm, Math.max(t, lastMoved.get(e.vm) ?? 0));
      }
    }
  }
  const unfinished = [...starts.values()].filter((s) => !ended.has(s.id));
  return { unfinished, lastMoved, problems, lines };
}
