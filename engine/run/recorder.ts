/**
 * The engine's recording of its rounds (SPEC 10, config `record`): every
 * round's validated snapshot, settings, set hash and actions as one JSON
 * line, gzip-compressed, in a folder of rotating files bounded by a size
 * cap, so `vmpolicy replay` can re-plan the cluster's own history with
 * another policy set.
 *
 * - A file holds one UTC hour or `roundsPerFile` rounds, whichever ends
 *   first; every engine start begins a new file.
 * - Each round is its own gzip member (a file is their concatenation, which
 *   gunzip reads as one stream), written with one append: a crash loses at
 *   most the round being written, and readers read up to the cut.
 * - Cheap enough to leave on (measured by `npm run bench -- record_round_us`):
 *   a member of a ~1.3 KiB line is ~370 bytes and ~30 µs of CPU, and the
 *   append is synchronous (~10 µs into the page cache, no fsync: a
 *   recording is not the journal). A streaming gzip flushed every round
 *   compresses 3× better but costs ~260 µs of CPU per round, and an
 *   asynchronous append ~100 µs, both in libuv's thread pool. 200 MiB hold
 *   about 60 days of demo-cluster rounds at the default interval.
 * - After every round the folder is brought under `maxBytes` by deleting
 *   the oldest finished files (only files named like ours).
 * - Recording never fails a round: a failing disk is logged once (and
 *   again when it recovers), and the engine goes on.
 */
import { closeSync, openSync, statSync, unlinkSync, writeSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync, type ZlibOptions } from "node:zlib";
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
  readonly fd: number;
  readonly hour: number;
  rounds: number;
  bytes: number;
}

const HOUR_MS = 3600_000;

/** A round's line is ~1–2 KiB: a 4 KiB window and small state make a member ~2× cheaper to build than zlib's defaults, at the same size. */
const MEMBER: ZlibOptions = { level: 6, windowBits: 12, memLevel: 4 };

/** Writes all of `buf` at the end of the file. */
function append(fd: number, buf: Buffer): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done);
}

/** See the module comment. `open`, then `record` each round, `close` at stop. */
export class Recorder {
  /** Finished files, oldest first, with their sizes. */
  private readonly finished: { name: string; bytes: number }[] = [];
  private finishedBytes = 0;
  private current: OpenFile | null = null;
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
      try {
        const bytes = statSync(join(options.dir, name)).size;
        r.finished.push({ name, bytes });
        r.finishedBytes += bytes;
      } catch {
        // Gone between the listing and now: nothing to count.
      }
    }
    r.enforceCap();
    return r;
  }

  /** Opens the recording of config `record`; a folder that cannot be used is logged, and null means: run unrecorded. */
  static async openOrLog(record: { readonly dir: string; readonly max_bytes: number }, log: Logger): Promise<Recorder | null> {
    try {
      const r = await Recorder.open({ dir: record.dir, maxBytes: record.max_bytes, log });
      log.info({ dir: record.dir }, `recording every round to ${record.dir} (at most ${Math.round(record.max_bytes / 1024 / 1024)} MiB)`);
      return r;
    } catch (e) {
      log.error({ dir: record.dir }, `recording: cannot use ${record.dir}: ${(e as Error).message}; running without recording`);
      return null;
    }
  }

  /** Records one round; never throws. */
  record(round: RecordedRound): void {
    if (this.closed) return;
    try {
      this.write(gzipSync(encodeRound(round), MEMBER), Date.parse(round.at));
      if (this.failing) this.options.log.info(`recording: writing to ${this.options.dir} again`);
      this.failing = false;
    } catch (e) {
      if (!this.failing) this.options.log.error({ dir: this.options.dir }, `recording: cannot write to ${this.options.dir}: ${(e as Error).message}; the engine goes on without recording until it can`);
      this.failing = true;
    }
  }

  /** Resolves once every recorded round is written (they are written as they are recorded). */
  async flush(): Promise<void> {}

  /** Ends the current file. */
  async close(): Promise<void> {
    this.closed = true;
    this.finishCurrent();
  }

  /** Bytes of the folder's recording files as the recorder counts them. */
  get bytes(): number {
    return this.finishedBytes + (this.current?.bytes ?? 0);
  }

  private write(member: Buffer, at: number): void {
    const hour = Math.floor(at / HOUR_MS);
    const c = this.current;
    if (c !== null && (c.hour !== hour || c.rounds >= (this.options.roundsPerFile ?? 360))) this.finishCurrent();
    const file = this.current ?? this.startFile(at, hour);
    try {
      append(file.fd, member);
    } catch (e) {
      // The file may end in part of a member now: end it here; the next round starts a new one.
      this.finishCurrent();
      throw e;
    }
    file.bytes += member.length;
    file.rounds++;
    this.written++;
    this.enforceCap();
  }

  private startFile(at: number, hour: number): OpenFile {
    // Named by the round's time; after a file with a later name (a clock set back, two starts
    // within one millisecond), by the millisecond after it, so names keep sorting oldest first.
    const newest = this.finished[this.finished.length - 1]?.name;
    const name = newest !== undefined && newest >= recordingFileName(at) ? recordingFileName(recordingFileTime(newest) + 1) : recordingFileName(at);
    const fd = openSync(join(this.options.dir, name), "wx");
    const file: OpenFile = { name, fd, hour, rounds: 0, bytes: 0 };
    this.current = file;
    return file;
  }

  private finishCurrent(): void {
    const c = this.current;
    if (c === null) return;
    this.current = null;
    try {
      closeSync(c.fd);
    } finally {
      this.finished.push({ name: c.name, bytes: c.bytes });
      this.finishedBytes += c.bytes;
    }
  }

  /** Deletes the oldest finished files while the folder is over the cap; a file that is over it alone is ended first. */
  private enforceCap(): void {
    const max = this.options.maxBytes;
    let total = this.bytes;
    if (total <= max) return;
    if (this.finished.length === 0 && this.current !== null && this.current.rounds > 0) this.finishCurrent();
    while (total > max && this.finished.length > 0) {
      const oldest = this.finished.shift()!;
      try {
        unlinkSync(join(this.options.dir, oldest.name));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
      total -= oldest.bytes;
      this.finishedBytes -= oldest.bytes;
      this.deleted++;
    }
  }
}
