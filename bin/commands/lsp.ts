/**
 * `vmpolicy lsp [--stdio] [--engine URL] [--facts FILE]` (SPEC 9): the
 * language server over stdio, for editors (docs/editors.md). The server
 * module is imported only when this command runs, so other commands never
 * load vscode-languageserver.
 */
import type { Command } from "commander";

interface LspOptions {
  stdio?: boolean;
  engine?: string;
  facts?: string;
}

/** Registers `lsp` on the program. */
export function registerLsp(program: Command): void {
  program
    .command("lsp")
    .description("run the language server over stdio (diagnostics, hover, completion, definition, rename, formatting, quick fixes)")
    .option("--stdio", "talk LSP over stdin/stdout (the default and only transport; accepted because editors pass it)")
    .option("--engine <url>", "an engine's URL: hover shows params' and lets' values in its latest plan (GET /plan)")
    .option("--facts <file>", "a facts file: completion offers the label keys and values seen in it")
    .addHelpText("after", "\nStarted by an editor, not by hand: see docs/editors.md for VS Code, Neovim and Helix.")
    .action(async (options: LspOptions) => {
      const { startLanguageServer } = await import("../../lsp/server.js");
      startLanguageServer({
        ...(options.engine === undefined ? {} : { engine: options.engine }),
        ...(options.facts === undefined ? {} : { facts: options.facts }),
      });
    });
}
