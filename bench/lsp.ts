/**
 * `lsp_check_2k`: what the language server does after a keystroke in a
 * ~2,000-line policy set (bench/check.ts's generated set, written to a
 * temporary folder): the edited document's set is read (the folder listed,
 * the other files reused unless they changed on disk), the edited file
 * re-parsed, the set re-checked and the edited file's occurrence index
 * built, through the same `Workspace` the server uses. Goal: under 50 ms.
 * `roundtrip_ms` is the same keystroke measured from outside, through a
 * real server over stdio (`didChange` sent → `publishDiagnostics` for that
 * version received, its 10 ms debounce included).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { TextDocument } from "vscode-languageserver-textdocument";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node.js";
import { Workspace } from "../lsp/workspace.js";
import { median, medianMs, round, type Benchmark } from "./api.js";
import { generateSet } from "./check.js";

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), "../bin/vmpolicy.js");

/** The edited file's text with one character typed (alternating, so every run is a real change). */
function keystroke(text: string, n: number): string {
  return text.replace("param band0 = 5", `param band0 = ${n % 2 === 0 ? 5 : 6}`);
}

async function inProcess(dir: string, first: { file: string; text: string }): Promise<number> {
  const uri = pathToFileURL(join(dir, first.file)).href;
  let doc = TextDocument.create(uri, "vmpolicy", 1, first.text);
  const workspace = new Workspace({ get: (u) => (u === uri ? doc : undefined), all: () => [doc] }, async () => undefined);
  let n = 0;
  return medianMs(async () => {
    n++;
    doc = TextDocument.create(uri, "vmpolicy", n + 1, keystroke(first.text, n));
    const set = await workspace.analyze(uri);
    const analysis = set.files.get(join(dir, first.file))!;
    if (analysis.diagnostics.length !== 0 || analysis.index === null) throw new Error("lsp_check_2k: the generated set must be clean");
  }, 21, 5);
}

async function overStdio(dir: string, first: { file: string; text: string }): Promise<number> {
  const child = spawn(process.execPath, [CLI, "lsp", "--stdio"], { stdio: ["pipe", "pipe", "inherit"] });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const waiting = new Map<number, () => void>();
  connection.onNotification("textDocument/publishDiagnostics", (p: { version?: number }) => {
    if (p.version !== undefined) waiting.get(p.version)?.();
  });
  connection.listen();
  await connection.sendRequest("initialize", { processId: process.pid, rootUri: null, capabilities: {} });
  void connection.sendNotification("initialized", {});
  const uri = pathToFileURL(join(dir, first.file)).href;
  const published = (version: number): Promise<void> => new Promise((res) => waiting.set(version, res));
  let ready = published(1);
  void connection.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "vmpolicy", version: 1, text: first.text } });
  await ready;
  const times: number[] = [];
  for (let version = 2; version < 2 + 25; version++) {
    ready = published(version);
    const start = process.hrtime.bigint();
    void connection.sendNotification("textDocument/didChange", {
      textDocument: { uri, version },
      contentChanges: [{ text: keystroke(first.text, version) }],
    });
    await ready;
    if (version >= 2 + 5) times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  await connection.sendRequest("shutdown");
  void connection.sendNotification("exit");
  await new Promise((res) => child.once("exit", res));
  connection.dispose();
  return median(times);
}

const bench: Benchmark = {
  name: "lsp_check_2k",
  description: "language server: re-check a ~2,000-line set after a keystroke (goal < 50 ms)",
  async run() {
    const files = generateSet(2000);
    const lines = files.reduce((n, f) => n + f.text.split("\n").length - 1, 0);
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-lsp-bench-"));
    try {
      for (const f of files) writeFileSync(join(dir, f.file), f.text);
      const median_ms = await inProcess(dir, files[0]!);
      const roundtrip_ms = await overStdio(dir, files[0]!);
      return { lines, files: files.length, median_ms: round(median_ms, 2), roundtrip_ms: round(roundtrip_ms, 2) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
