/**
 * The language server (SPEC 9), a thin dispatcher: it keeps the open
 * documents, checks a document's set when it changes and publishes the
 * diagnostics, and hands each request to the module of its feature. Every
 * handler is guarded, so a bug in one feature answers that request with
 * nothing and the server goes on serving (a broken or huge file gives
 * diagnostics, never a dead server).
 */
import {
  CodeActionKind,
  createConnection,
  ProposedFeatures,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type InitializeResult,
} from "vscode-languageserver/node.js";
import { TextDocument } from "vscode-languageserver-textdocument";
import type { ScriptAnalyzer } from "../grammar/types.js";
import { makeDiagnostic } from "../grammar/diagnostics.js";
import { memoizedAnalyzer, type FileAnalysis } from "./analysis.js";
import { codeActions } from "./code-actions.js";
import { completionItems } from "./completion/items.js";
import { FactsLabelSource } from "./completion/labels.js";
import { definition, references } from "./definition.js";
import { toLspDiagnostic } from "./diagnostics.js";
import { engineValues } from "./engine-values.js";
import { formatDocument } from "./formatting.js";
import { hover, type PlanValueLookup } from "./hover.js";
import { LineIndex } from "./ranges.js";
import { prepareRename, rename } from "./rename.js";
import { documentSymbols } from "./symbols.js";
import { fileOfUri, uriOfFile, Workspace, type SetAnalysis } from "./workspace.js";

export interface ServerOptions {
  /** An engine's base URL: hover shows params' and lets' values in its latest plan. */
  readonly engine?: string;
  /** A facts file (SPEC 1): completion offers the labels seen in it. */
  readonly facts?: string;
  /** Milliseconds to wait after a change before checking (keystrokes in a burst are checked once). */
  readonly debounceMs?: number;
  readonly input?: NodeJS.ReadableStream;
  readonly output?: NodeJS.WritableStream;
}

/** The sandbox's analyzer, loaded on first need; a policy set without `script` blocks never loads QuickJS. */
async function loadScripts(): Promise<ScriptAnalyzer | undefined> {
  try {
    const sandbox = await import("../engine/sandbox/index.js");
    await sandbox.loadSandbox();
    return memoizedAnalyzer(sandbox.scriptAnalyzer());
  } catch {
    return undefined;
  }
}

/** Starts the server on stdio (or the given streams) and returns its connection. */
export function startLanguageServer(options: ServerOptions = {}): Connection {
  const connection =
    options.input !== undefined && options.output !== undefined
      ? createConnection(ProposedFeatures.all, options.input, options.output)
      : createConnection(ProposedFeatures.all, process.stdin, process.stdout);
  const documents = new TextDocuments(TextDocument);
  const workspace = new Workspace(documents, loadScripts);
  let values: PlanValueLookup | undefined = options.engine === undefined ? undefined : engineValues(options.engine);
  let facts = options.facts === undefined ? undefined : new FactsLabelSource(options.facts);
  const published = new Map<string, Set<string>>();
  const timers = new Map<string, NodeJS.Timeout>();
  /** How long the last check of each set took (see `waitAfterKey`). */
  const checkMs = new Map<string, number>();

  const log = (what: string, e: unknown): void => connection.console.error(`vmpolicy lsp: ${what}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);

  /** Runs a request's handler; an unexpected failure is logged and answered with `empty`. */
  async function guarded<T>(what: string, empty: T, run: () => Promise<T> | T): Promise<T> {
    try {
      return await run();
    } catch (e) {
      if (e instanceof ResponseError) throw e;
      log(what, e);
      return empty;
    }
  }

  async function publish(uri: string): Promise<void> {
    let set: SetAnalysis;
    const started = performance.now();
    try {
      set = await workspace.analyze(uri);
      checkMs.set(set.key, performance.now() - started);
    } catch (e) {
      log("check", e);
      const at = { offset: 0, line: 1, column: 1 };
      const d = makeDiagnostic("L002", "error", `the language server could not check this file: ${e instanceof Error ? e.message : String(e)}`, { file: fileOfUri(uri), start: at, end: at });
      void connection.sendDiagnostics({ uri, diagnostics: [toLspDiagnostic(d)] });
      return;
    }
    const sent = new Set<string>();
    // An open document keeps the URI its editor gave it (encodings of a path differ between clients).
    const open = new Map(documents.all().map((d) => [fileOfUri(d.uri), d]));
    for (const analysis of set.files.values()) {
      const doc = open.get(analysis.file);
      const fileUri = doc?.uri ?? uriOfFile(analysis.file);
      sent.add(fileUri);
      void connection.sendDiagnostics({ uri: fileUri, version: analysis.version, diagnostics: analysis.diagnostics.map(toLspDiagnostic) });
    }
    // Files that left the set (deleted, renamed, closed unsaved buffers) lose their diagnostics.
    for (const gone of published.get(set.key) ?? []) if (!sent.has(gone)) void connection.sendDiagnostics({ uri: gone, diagnostics: [] });
    published.set(set.key, sent);
  }

  /** 10 ms after a key; for a set whose check takes over 100 ms, as long as it takes (up to 1 s). */
  function waitAfterKey(key: string): number {
    const last = checkMs.get(key) ?? 0;
    return last > 100 ? Math.min(last, 1000) : (options.debounceMs ?? 10);
  }

  function schedule(uri: string): void {
    const key = workspace.setKey(uri);
    clearTimeout(timers.get(key));
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        publish(uri).catch((e) => log("publish", e));
      }, waitAfterKey(key)),
    );
  }

  connection.onInitialize((params): InitializeResult => {
    const init = (params.initializationOptions ?? {}) as { engine?: unknown; facts?: unknown };
    if (values === undefined && typeof init.engine === "string") values = engineValues(init.engine);
    if (facts === undefined && typeof init.facts === "string") facts = new FactsLabelSource(init.facts);
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        completionProvider: { triggerCharacters: [".", '"'] },
        definitionProvider: true,
        referencesProvider: true,
        documentSymbolProvider: true,
        documentFormattingProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        renameProvider: { prepareProvider: true },
      },
      serverInfo: { name: "vmpolicy", version: "0.1.0" },
    };
  });

  documents.onDidChangeContent((e) => schedule(e.document.uri));
  documents.onDidClose((e) => {
    if (e.document.uri.startsWith("file:")) schedule(e.document.uri);
    else void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });
  connection.onDidChangeWatchedFiles((e) => {
    for (const change of e.changes) if (change.uri.endsWith(".policy")) schedule(change.uri);
  });

  /** The analysis of a request's document and the offset of its position. */
  async function at(uri: string, position: { line: number; character: number }): Promise<{ analysis: FileAnalysis; offset: number } | null> {
    const analysis = await workspace.navigable(uri);
    if (analysis === undefined) return null;
    return { analysis, offset: new LineIndex(analysis.text).offset(position) };
  }

  connection.onHover((p) =>
    guarded("hover", null, async () => {
      const a = await at(p.textDocument.uri, p.position);
      return a === null ? null : hover(a.analysis, a.offset, values);
    }),
  );
  connection.onCompletion((p) =>
    guarded("completion", [], async () => {
      const a = await at(p.textDocument.uri, p.position);
      if (a === null) return [];
      const policy = a.analysis.policy ?? workspace.lastParsed(a.analysis.file)?.policy ?? null;
      const labels = await facts?.labels();
      return completionItems(a.analysis.text, a.offset, labels === undefined ? { policy } : { policy, labels });
    }),
  );
  connection.onDefinition((p) =>
    guarded("definition", null, async () => {
      const a = await at(p.textDocument.uri, p.position);
      return a === null ? null : definition(a.analysis, p.textDocument.uri, a.offset);
    }),
  );
  connection.onReferences((p) =>
    guarded("references", [], async () => {
      const a = await at(p.textDocument.uri, p.position);
      return a === null ? [] : references(a.analysis, p.textDocument.uri, a.offset, p.context.includeDeclaration);
    }),
  );
  connection.onDocumentSymbol((p) =>
    guarded("documentSymbol", [], async () => {
      const analysis = await workspace.file(p.textDocument.uri);
      return analysis === undefined ? [] : documentSymbols(analysis);
    }),
  );
  connection.onDocumentFormatting((p) =>
    guarded("formatting", [], async () => {
      const analysis = await workspace.file(p.textDocument.uri);
      return analysis === undefined ? [] : formatDocument(analysis.text, analysis.file);
    }),
  );
  connection.onCodeAction((p) =>
    guarded("codeAction", [], async () => {
      const analysis = await workspace.file(p.textDocument.uri);
      return analysis === undefined ? [] : codeActions(p.textDocument.uri, analysis.diagnostics, analysis.text, p.range);
    }),
  );
  connection.onPrepareRename((p) =>
    guarded("prepareRename", null, async () => {
      const a = await at(p.textDocument.uri, p.position);
      return a === null ? null : prepareRename(a.analysis, a.offset);
    }),
  );
  connection.onRenameRequest((p) =>
    guarded("rename", null, async () => {
      const a = await at(p.textDocument.uri, p.position);
      return a === null ? null : rename(a.analysis, p.textDocument.uri, a.offset, p.newName);
    }),
  );

  // A bug in a timer or a promise nobody awaited must not take the editor's server down with it.
  process.on("uncaughtException", (e) => log("uncaught exception", e));
  process.on("unhandledRejection", (e) => log("unhandled rejection", e));

  documents.listen(connection);
  connection.listen();
  return connection;
}
