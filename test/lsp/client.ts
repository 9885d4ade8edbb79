/**
 * A language client for the tests, as an editor is one: it spawns the built
 * CLI (`node dist/bin/vmpolicy.js lsp --stdio`; `npm run build` first) and
 * talks LSP over its stdin and stdout with vscode-jsonrpc.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from "vscode-jsonrpc/node.js";
import type {
  CodeAction,
  CompletionItem,
  Diagnostic,
  DocumentSymbol,
  Hover,
  InitializeResult,
  Location,
  Position,
  PublishDiagnosticsParams,
  Range,
  TextEdit,
  WorkspaceEdit,
} from "vscode-languageserver-protocol";

const CLI = resolve(import.meta.dirname, "../../dist/bin/vmpolicy.js");

export const uriOf = (path: string): string => pathToFileURL(path).href;

export class LspClient {
  private readonly child: ChildProcess;
  readonly connection: MessageConnection;
  /** Every publishDiagnostics, in order of arrival. */
  readonly published: PublishDiagnosticsParams[] = [];
  private waiters: (() => void)[] = [];
  stderr = "";
  /** The server's window/logMessage lines (its guarded handlers log failures there). */
  readonly logs: string[] = [];

  constructor(args: string[] = []) {
    this.child = spawn(process.execPath, [CLI, "lsp", "--stdio", ...args], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr!.on("data", (d) => (this.stderr += d));
    this.connection = createMessageConnection(new StreamMessageReader(this.child.stdout!), new StreamMessageWriter(this.child.stdin!));
    this.connection.onNotification("textDocument/publishDiagnostics", (p: PublishDiagnosticsParams) => {
      this.published.push(p);
      for (const w of this.waiters.splice(0)) w();
    });
    this.connection.onNotification("window/logMessage", (p: { message: string }) => this.logs.push(p.message));
    this.connection.listen();
  }

  initialize(initializationOptions?: object): Promise<InitializeResult> {
    return this.connection
      .sendRequest<InitializeResult>("initialize", { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions })
      .then((r) => {
        void this.connection.sendNotification("initialized", {});
        return r;
      });
  }

  open(uri: string, text: string, version = 1): void {
    void this.connection.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "vmpolicy", version, text } });
  }

  change(uri: string, version: number, range: Range, text: string): void {
    void this.connection.sendNotification("textDocument/didChange", { textDocument: { uri, version }, contentChanges: [{ range, text }] });
  }

  /** Replaces the whole text of a document. */
  replace(uri: string, version: number, text: string): void {
    void this.connection.sendNotification("textDocument/didChange", { textDocument: { uri, version }, contentChanges: [{ text }] });
  }

  close(uri: string): void {
    void this.connection.sendNotification("textDocument/didClose", { textDocument: { uri } });
  }

  /** The diagnostics published for `uri` (at `version`, when given), waiting for them up to 10 s. */
  async diagnostics(uri: string, version?: number): Promise<Diagnostic[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = [...this.published].reverse().find((p) => p.uri === uri && (version === undefined || p.version === version));
      if (found !== undefined) return found.diagnostics;
      if (Date.now() > deadline) throw new Error(`no diagnostics for ${uri} v${version}; stderr: ${this.stderr}`);
      await new Promise<void>((res) => {
        this.waiters.push(res);
        setTimeout(res, 200);
      });
    }
  }

  hover(uri: string, position: Position): Promise<Hover | null> {
    return this.connection.sendRequest("textDocument/hover", { textDocument: { uri }, position });
  }

  completion(uri: string, position: Position): Promise<CompletionItem[]> {
    return this.connection.sendRequest("textDocument/completion", { textDocument: { uri }, position });
  }

  definition(uri: string, position: Position): Promise<Location | null> {
    return this.connection.sendRequest("textDocument/definition", { textDocument: { uri }, position });
  }

  references(uri: string, position: Position, includeDeclaration = true): Promise<Location[]> {
    return this.connection.sendRequest("textDocument/references", { textDocument: { uri }, position, context: { includeDeclaration } });
  }

  symbols(uri: string): Promise<DocumentSymbol[]> {
    return this.connection.sendRequest("textDocument/documentSymbol", { textDocument: { uri } });
  }

  formatting(uri: string): Promise<TextEdit[]> {
    return this.connection.sendRequest("textDocument/formatting", { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
  }

  codeActions(uri: string, range: Range): Promise<CodeAction[]> {
    return this.connection.sendRequest("textDocument/codeAction", { textDocument: { uri }, range, context: { diagnostics: [] } });
  }

  prepareRename(uri: string, position: Position): Promise<{ range: Range; placeholder: string } | null> {
    return this.connection.sendRequest("textDocument/prepareRename", { textDocument: { uri }, position });
  }

  rename(uri: string, position: Position, newName: string): Promise<WorkspaceEdit | null> {
    return this.connection.sendRequest("textDocument/rename", { textDocument: { uri }, position, newName });
  }

  /** Shuts the server down as an editor does, and waits for the process to end. */
  async stop(): Promise<number | null> {
    const exited = new Promise<number | null>((res) => this.child.once("exit", (code) => res(code)));
    if (this.child.exitCode !== null) return this.child.exitCode;
    try {
      await this.connection.sendRequest("shutdown");
      void this.connection.sendNotification("exit");
    } catch {
      this.child.kill("SIGKILL");
    }
    const code = await exited;
    this.connection.dispose();
    return code;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
}

/** A position from a 1-based line and column, as the CLI prints them. */
export const at = (line: number, column: number): Position => ({ line: line - 1, character: column - 1 });

/** A range from 1-based line/column pairs (end exclusive). */
export const range = (line: number, column: number, endLine: number, endColumn: number): Range => ({
  start: at(line, column),
  end: at(endLine, endColumn),
});
