// The VS Code client of `vmpolicy lsp` (docs/editors.md): starts the server over stdio
// for .policy files and tells it about .policy files changing on disk, so a document
// is always checked with the current files of its folder.
"use strict";
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

/** @type {LanguageClient | undefined} */
let client;

/** Starts the server with the current settings (`vmpolicy lsp --stdio [--engine URL] [--facts FILE]`). */
async function start() {
  const config = vscode.workspace.getConfiguration("vmpolicy");
  const command = config.get("server.path") || "vmpolicy";
  const args = ["lsp"];
  const engine = config.get("engine");
  const facts = config.get("facts");
  if (engine) args.push("--engine", engine);
  if (facts) args.push("--facts", facts);
  // TransportKind.stdio adds `--stdio` to the arguments.
  const serverOptions = { command, args, transport: TransportKind.stdio };
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "vmpolicy" },
      { scheme: "untitled", language: "vmpolicy" },
    ],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.policy") },
  };
  client = new LanguageClient("vmpolicy", "vmpolicy", serverOptions, clientOptions);
  await client.start();
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration("vmpolicy")) return;
      if (client) await client.stop();
      await start();
    }),
  );
  await start();
}

async function deactivate() {
  if (client) await client.stop();
}

module.exports = { activate, deactivate };
