/**
 * The recording folder (SPEC 10): gzip files of round lines, named by the
 * time they were started so names sort oldest first. The engine's recorder
 * writes them (engine/run/recorder.ts) and `vmpolicy replay` reads them
 * here. A file that is not gzip, or whose compressed stream was cut off by
 * a crash, gives what can be read and a warning; it never stops a replay.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { constants, gunzipSync } from "node:zlib";
import { decodeRounds, type RecordedRound, type RecordingProblem } from "./recording.js";

/** `rounds-2026-12-06T23-11-00-123Z.jsonl.gz`: fixed width, so the names sort by start time. */
const FILE_PATTERN = /^rounds-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\.jsonl\.gz$/;

/** The file name for a recording file started at `ms`. */
export function recordingFileName(ms: number): string {
  return `rounds-${new Date(ms).toISOString().replace(/[:.]/g, "-")}.jsonl.gz`;
}

/** The start time (epoch ms) a recording file's name says. */
export function recordingFileTime(name: string): number {
  const m = /^rounds-(\d{4}-\d\d-\d\d)T(\d\d)-(\d\d)-(\d\d)-(\d{3})Z/.exec(name);
  return m ? Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`) : 0;
}

/** Whether a name is one of ours (the recorder never deletes anything else in the folder). */
export function isRecordingFile(name: string): boolean {
  return FILE_PATTERN.test(name);
}

/** The recording files in `dir`, oldest first. */
export async function recordingFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter(isRecordingFile).sort();
}

/**
 * The text of a gzip file, as far as it can be read: a stream cut off by a
 * crash yields everything before the cut (the recorder flushes after every
 * round). Returns null with the reason when nothing is readable.
 */
export function gunzipLenient(buf: Buffer): { text: string; cut: boolean } | { error: string } {
  try {
    return { text: gunzipSync(buf).toString("utf8"), cut: false };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== "Z_BUF_ERROR") return { error: err.message };
    try {
      return { text: gunzipSync(buf, { finishFlush: constants.Z_SYNC_FLUSH }).toString("utf8"), cut: true };
    } catch (e2) {
      return { error: (e2 as Error).message };
    }
  }
}

/** What `readRecording` found. */
export interface Recording {
  /** Rounds in time order, within `from`..`to`. */
  readonly rounds: RecordedRound[];
  readonly files: number;
  /** Files or lines skipped, each with why. */
  readonly problems: RecordingProblem[];
}

/**
 * Reads every recording file of `dir`; rounds outside `from`..`to` (epoch
 * ms, inclusive) are left out. Throws only when the folder cannot be read.
 */
export async function readRecording(dir: string, range: { from?: number; to?: number } = {}): Promise<Recording> {
  const names = await recordingFiles(dir);
  const rounds: RecordedRound[] = [];
  const problems: RecordingProblem[] = [];
  for (const name of names) {
    const file = join(dir, name);
    let buf: Buffer;
    try {
      buf = await readFile(file);
    } catch (e) {
      problems.push({ file, line: 0, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      continue;
    }
    const text = gunzipLenient(buf);
    if ("error" in text) {
      problems.push({ file, line: 0, message: `not a readable gzip file, skipped: ${text.error}` });
      continue;
    }
    if (text.cut) problems.push({ file, line: 0, message: "the compressed stream ends early (the engine stopped while writing it); read up to the cut" });
    const decoded = decodeRounds(text.text, file);
    problems.push(...decoded.problems);
    for (const r of decoded.rounds) {
      const t = Date.parse(r.at);
      if ((range.from === undefined || t >= range.from) && (range.to === undefined || t <= range.to)) rounds.push(r);
    }
  }
  rounds.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return { rounds, files: names.length, problems };
}
