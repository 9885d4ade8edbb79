import { readFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

// editors/vscode/extension.js runs inside VS Code, which provides `vscode`; `vscode-languageclient`
// is the extension's own dependency (installed when it is packaged). Both are stood in for here,
// so the test sees what the client would start and for which documents.
const dir = resolve(import.meta.dirname, "../../editors/vscode");
const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));

interface Started {
  id: string;
  serverOptions: { command: string; args: string[]; transport: number };
  clientOptions: { documentSelector: unknown[]; synchronize: { fileEvents: string } };
}

const load = (Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown })._load;
afterEach(() => {
  (Module as unknown as { _load: typeof load })._load = load;
});

/** Activates the extension with `settings`, returning the language clients it started. */
async function activate(settings: Record<string, string>): Promise<Started[]> {
  const started: Started[] = [];
  const vscode = {
    workspace: {
      getConfiguration: () => ({ get: (key: string) => settings[key] }),
      createFileSystemWatcher: (glob: string) => glob,
      onDidChangeConfiguration: () => ({ dispose() {} }),
    },
  };
  class LanguageClient {
    constructor(id: string, _name: string, serverOptions: Started["serverOptions"], clientOptions: Started["clientOptions"]) {
      started.push({ id, serverOptions, clientOptions });
    }
    async start(): Promise<void> {}
    async stop(): Promise<void> {}
  }
  (Module as unknown as { _load: typeof load })._load = (request, parent, isMain) => {
    if (request === "vscode") return vscode;
    if (request === "vscode-languageclient/node") return { LanguageClient, TransportKind: { stdio: 0 } };
    return load(request, parent, isMain);
  };
  const require = createRequire(import.meta.url);
  const path = join(dir, manifest.main);
  delete require.cache[require.resolve(path)];
  const extension = require(path) as { activate: (context: { subscriptions: unknown[] }) => Promise<void> };
  await extension.activate({ subscriptions: [] });
  return started;
}

describe("the VS Code extension", () => {
  it("starts `vmpolicy lsp` over stdio for vmpolicy documents, watching .policy files", async () => {
    expect(await activate({})).toEqual([
      {
        id: "vmpolicy",
        serverOptions: { command: "vmpolicy", args: ["lsp"], transport: 0 },
        clientOptions: {
          documentSelector: [
            { scheme: "file", language: "vmpolicy" },
            { scheme: "untitled", language: "vmpolicy" },
          ],
          synchronize: { fileEvents: "**/*.policy" },
        },
      },
    ]);
  });

  it("passes the server path, --engine and --facts from the settings", async () => {
    const [client] = await activate({ "server.path": "/opt/vmpolicy/bin/vmpolicy", engine: "http://127.0.0.1:7070", facts: "facts.json" });
    expect(client!.serverOptions).toEqual({
      command: "/opt/vmpolicy/bin/vmpolicy",
      args: ["lsp", "--engine", "http://127.0.0.1:7070", "--facts", "facts.json"],
      transport: 0,
    });
  });

  it("declares the language, its configuration and the grammar the tests tokenize with", () => {
    const [language] = manifest.contributes.languages;
    expect(language).toMatchObject({ id: "vmpolicy", extensions: [".policy"] });
    JSON.parse(readFileSync(join(dir, language.configuration), "utf8"));
    const [grammar] = manifest.contributes.grammars;
    const tm = JSON.parse(readFileSync(join(dir, grammar.path), "utf8"));
    expect(grammar).toMatchObject({ language: "vmpolicy", scopeName: tm.scopeName, embeddedLanguages: { "meta.embedded.block.javascript": "javascript" } });
    expect(Object.keys(manifest.contributes.configuration.properties).sort()).toEqual(["vmpolicy.engine", "vmpolicy.facts", "vmpolicy.server.path", "vmpolicy.trace.server"]);
  });
});
