/**
 * The policy sets the editor is working on. A document is checked with the
 * other `.policy` files of its folder, as `vmpolicy check FOLDER` would
 * check them (SPEC 9): open documents with their unsaved text, the others
 * as they are on disk. A buffer that is no file (`untitled:`) is a set of
 * its own. Checks of one set run one at a time and are reused until a
 * document or a file of the folder changes.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, extname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { TextDocument } from "vscode-languageserver-textdocument";
import type { ScriptAnalyzer } from "../grammar/types.js";
import { analyzeSet, needsScripts, ParseCache, type FileAnalysis, type SetSource } from "./analysis.js";

/** Where the open documents come from (the server's `TextDocuments`). */
export interface OpenDocuments {
  get(uri: string): TextDocument | undefined;
  all(): TextDocument[];
}

/** One check of a set: every file's analysis, keyed by file. */
export interface SetAnalysis {
  readonly key: string;
  readonly files: ReadonlyMap<string, FileAnalysis>;
}

/** The file name spans use for a document: its path, or its URI when it is no file. */
export function fileOfUri(uri: string): string {
  return uri.startsWith("file:") ? fileURLToPath(uri) : uri;
}

/** The URI of a file as spans name it. */
export function uriOfFile(file: string): string {
  return file.includes(":") && !file.startsWith("/") ? file : pathToFileURL(file).href;
}

interface DiskFile {
  readonly mtimeMs: number;
  readonly size: number;
  readonly text: string;
}

export class Workspace {
  private readonly parses = new ParseCache();
  private readonly disk = new Map<string, DiskFile>();
  private readonly last = new Map<string, { sources: SetSource[]; result: SetAnalysis }>();
  private readonly running = new Map<string, Promise<SetAnalysis>>();
  private scripts: ScriptAnalyzer | undefined;
  /** Each file's latest analysis that parsed, for completion while the current text does not. */
  private readonly parsed = new Map<string, FileAnalysis>();

  constructor(
    private readonly documents: OpenDocuments,
    /** Loads the script analyzer (QuickJS) the first time a set has a `script` block. */
    private readonly loadScripts: () => Promise<ScriptAnalyzer | undefined>,
  ) {}

  /** The key of the set a document belongs to: its folder, or its URI. */
  setKey(uri: string): string {
    return uri.startsWith("file:") ? dirname(fileOfUri(uri)) : uri;
  }

  /** The current analysis of `uri`'s set, checking it first if anything changed. */
  async analyze(uri: string): Promise<SetAnalysis> {
    const key = this.setKey(uri);
    // One check of a set at a time; a request during a check waits for it and then re-checks if needed.
    const previous = this.running.get(key);
    const next = (previous ?? Promise.resolve()).catch(() => undefined).then(() => this.check(key, uri));
    this.running.set(key, next);
    try {
      return await next;
    } finally {
      if (this.running.get(key) === next) this.running.delete(key);
    }
  }

  /** The analysis of one document, from a current check of its set. */
  async file(uri: string): Promise<FileAnalysis | undefined> {
    return (await this.analyze(uri)).files.get(fileOfUri(uri));
  }

  /**
   * The analysis to answer hover, definition and references from: the
   * current one, or, when the text does not parse, its last check that did,
   * with the names outside the edited stretch moved to where they are now.
   */
  async navigable(uri: string): Promise<FileAnalysis | undefined> {
    const current = await this.file(uri);
    const last = current === undefined || current.ast !== null ? undefined : this.parsed.get(current.file);
    if (current === undefined || last === undefined || last.index === null) return current;
    const index = last.index.moved(last.text, current.text);
    return { ...current, policy: last.policy, index };
  }

  /** The latest analysis of `file` whose text parsed (maybe of an older text). */
  lastParsed(file: string): FileAnalysis | undefined {
    return this.parsed.get(file);
  }

  private async check(key: string, uri: string): Promise<SetAnalysis> {
    const sources = await this.sources(key, uri);
    const hit = this.last.get(key);
    if (hit !== undefined && sameSources(hit.sources, sources)) return hit.result;
    if (this.scripts === undefined && needsScripts(sources)) this.scripts = await this.loadScripts();
    const files = analyzeSet(sources, this.parses, this.scripts);
    for (const analysis of files.values()) if (analysis.ast !== null) this.parsed.set(analysis.file, analysis);
    const result = { key, files };
    this.last.set(key, { sources, result });
    return result;
  }

  /** The texts of a set: open documents as edited, the rest of the folder's `.policy` files from disk. */
  private async sources(key: string, uri: string): Promise<SetSource[]> {
    if (!uri.startsWith("file:")) {
      const doc = this.documents.get(uri);
      return doc === undefined ? [] : [{ file: uri, text: doc.getText(), version: doc.version }];
    }
    // Texts and versions are taken together, before any await: the diagnostics of a check carry the version they are of.
    const open = new Map<string, SetSource>();
    for (const doc of this.documents.all()) {
      if (!doc.uri.startsWith("file:")) continue;
      const file = fileOfUri(doc.uri);
      if (dirname(file) === key && extname(file) === ".policy") open.set(file, { file, text: doc.getText(), version: doc.version });
    }
    const self = fileOfUri(uri);
    const selfDoc = this.documents.get(uri);
    if (selfDoc !== undefined) open.set(self, { file: self, text: selfDoc.getText(), version: selfDoc.version });
    const names = new Set<string>(open.keys());
    try {
      for (const e of await readdir(key, { withFileTypes: true })) if (e.name.endsWith(".policy") && !e.isDirectory()) names.add(join(key, e.name));
    } catch {
      /* a folder that is gone: the open documents are the set */
    }
    const sources: SetSource[] = [];
    for (const file of [...names].sort()) {
      const edited = open.get(file);
      if (edited !== undefined) {
        sources.push(edited);
        continue;
      }
      const text = await this.readDisk(file);
      if (text !== null) sources.push({ file, text });
    }
    return sources;
  }

  /** A file's text from disk, re-read only when its size or time changed; null when unreadable. */
  private async readDisk(file: string): Promise<string | null> {
    try {
      const info = await stat(file);
      const hit = this.disk.get(file);
      if (hit !== undefined && hit.mtimeMs === info.mtimeMs && hit.size === info.size) return hit.text;
      const text = (await readFile(file)).toString("utf8");
      this.disk.set(file, { mtimeMs: info.mtimeMs, size: info.size, text });
      return text;
    } catch {
      this.disk.delete(file);
      return null;
    }
  }
}

/** Whether two reads of a set give the same files with the same texts. */
function sameSources(a: readonly SetSource[], b: readonly SetSource[]): boolean {
  return a.length === b.length && a.every((s, i) => s.file === b[i]!.file && s.version === b[i]!.version && s.text === b[i]!.text);
}
