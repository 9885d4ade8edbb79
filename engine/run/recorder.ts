/**
 * The engine's recording of its rounds (SPEC 10, config `record`): every
 * round's validated snapshot, settings, set hash and actions as one JSON
 * line, gzip-compressed, in a folder of rotating files bounded by a size
 * cap, so `vmpolicy replay` can re-plan the cluster's own history with
 * another policy set.
 *
 * - A file holds one UTC hour or `roundsPerFile` rounds, whichever ends
 *   first; every engine start begins a new file (an old one may end in a
 *   crash's cut, and is never appended to).
 * - The stream is flushed (Z_SYNC_FLUSH) after every round, so a crash
 *   loses at most the round being written; readers read up to the cut.
 * - After every round the folder is brought under `maxBytes` by deleting
 *   the oldest finished files (only files named like ours).
 * - Recording never holds a round up: `record` queues the line and
 *   returns; a failing disk is logged once (and again when it recovers),
 *   and the engine goes on.
 */
import { mkdir, open, stat, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { constants, createGzip, type Gzip } from "node:zlib";
import type { Logger } from "pino";
import { encodeRound, type RecordedRound } from "../replay/recording.js";
import { recordingFileName, recordingFileTime, recordingFiles } from "../replay/store.js";

export interface RecorderOptions {
  readonly dir: string;
  /** The folder's size cap in bytes (compressed files, the one being written included). */
  readonly maxBytes: number;
  /** Rounds per file at most (default 360: an hour at the default 10 s interval). */
  readonly roundsPerFile?: number;
  readonly log: Logger;
}

interface OpenFile {
  readonly name: string;
  readonly gzip: Gzip;
  readonly handle: FileHandle;
  readonly hour: number;
  /** Compressed bytes the gzip stream has produced and not yet written. */
  readonly pending: Buffer[];
  rounds: number;
  bytes: number;
}

const HOUR_MS = 3600_000;

/** See the module comment. `open`, then `record` each round, `close` at stop. */
export class Recorder {
  /** Finished files, oldest first, with their sizes. */
  private readonly finished: { name: string; bytes: number }[] = [];
  private current: OpenFile | null = null;
  private chain: Promise<void> = Promise.resolve();
  private failing = false;
  private closed = false;
  /** Rounds written and files deleted since start (for tests and the log). */
  written = 0;
  deleted = 0;

  private constructor(private readonly options: RecorderOptions) {}

  /** Creates the folder if needed and takes stock of the files already there (applying the cap to them). */
  static async open(options: RecorderOptions): Promise<Recorder> {
    await mkdir(options.dir, { recursive: true });
    const r = new Recorder(options);
    for (const name of await recordingFiles(options.dir)) {
      const s = await stat(join(options.dir, name)).catch(() => null);
      if (s) r.finished.push({ name, bytes: s.size });
    }
    await r.enforceCap();
    return r;
  }

  /** Queues one round; never throws, never waits. */
  record(round: RecordedRound): void {
    if (this.closed) return;
    const line = encodeRound(round);
    const at = Date.parse(round.at);
    this.chain = this.chain.then(() => this.write(line, at)).then(
      () => {
        if (this.failing) this.options.log.info(`recording: writing to ${this.options.dir} again`);
        this.failing = false;
      },
      (e: Error) => {
        if (!this.failing) this.options.log.error({ dir: this.options.dir }, `recording: cannot write to ${this.options.dir}: ${e.message}; the engine goes on without recording until it can`);
        this.failing = true;
      },
    );
  }

  /** Resolves once every queued round is written and flushed. */
  flush(): Promise<void> {
    return this.chain;
  }

  /** Writes what is queued and ends the current file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
    try {
      await this.finishCurrent();
      // Ending the stream adds its last bytes: check the cap once more.
      await this.enforceCap();
    } catch (e) {
      this.options.log.error({ dir: this.options.dir }, `recording: cannot finish the last file in ${this.options.dir}: ${(e as Error).message}`);
    }
  }

  /** Bytes of the folder's recording files as the recorder counts them. */
  get bytes(): number {
    return this.finished.reduce((s, f) => s + f.bytes, 0) + (this.current?.bytes ?? 0);
  }

  private async write(line: string, at: number): Promise<void> {
    const hour = Math.floor(at / HOUR_MS);
    const c = this.current;
    if (c !== null && (c.hour !== hour || c.rounds >= (this.options.roundsPerFile ?? 360))) await this.finishCurrent();
    const file = this.current ?? (await this.startFile(at, hour));
    try {
      file.gzip.write(line);
      await new Promise<void>((resolve) => file.gzip.flush(constants.Z_SYNC_FLUSH, () => resolve()));
      await this.drain(file);
    } catch (e) {
      // The file's stream has a hole now: end it here; the next round starts a new one.
      this.current = null;
      file.gzip.destroy();
      await file.handle.close().catch(() => undefined);
      this.finished.push({ name: file.name, bytes: file.bytes });
      throw e;
    }
    file.rounds++;
    this.written++;
    await this.enforceCap();
  }

  /** Writes what the gzip stream produced so far. */
  private async drain(file: OpenFile): Promise<void> {
    if (file.pending.length === 0) return;
    const chunk = Buffer.concat(file.pending.splice(0));
    await file.handle.write(chunk);
    file.bytes += chunk.length;
  }

  private async startFile(at: number, hour: number): Promise<OpenFile> {
    // Named by the round's time; after a file with a later name (a clock set back, two starts
    // within one millisecond), by the millisecond after it, so names keep sorting oldest first.
    const newest = this.finished[this.finished.length - 1]?.name;
    const name = newest !== undefined && newest >= recordingFileName(at) ? recordingFileName(recordingFileTime(newest) + 1) : recordingFileName(at);
    const handle = await open(join(this.options.dir, name), "wx");
    const gzip = createGzip({ level: 6 });
    const file: OpenFile = { name, gzip, handle, hour, pending: [], rounds: 0, bytes: 0 };
    gzip.on("data", (chunk: Buffer) => file.pending.push(chunk));
    this.current = file;
    return file;
  }

  private async finishCurrent(): Promise<void> {
    const c = this.current;
    if (c === null) return;
    this.current = null;
    try {
      await new Promise<void>((resolve, reject) => {
        c.gzip.once("end", resolve).once("error", reject);
        c.gzip.end();
      });
      await this.drain(c);
    } finally {
      await c.handle.close();
      this.finished.push({ name: c.name, bytes: c.bytes });
    }
  }

  /** Deletes the oldest finished files while the folder is over the cap; a file that is over it alone is ended first. */
  private async enforceCap(): Promise<void> {
    const max = this.options.maxBytes;
    if (this.bytes > max && this.finished.length === 0 && this.current !== null && this.current.rounds > 0) await this.finishCurrent();
    while (this.bytes > max && this.finished.length > 0) {
      const oldest = this.finished.shift()!;
      await unlink(join(this.options.dir, oldest.name)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "ENOENT") throw e;
      });
      this.deleted++;
    }
  }
}
