/**
 * Formatting (SPEC 9): the layout of `vmpolicy fmt`, as one edit over the
 * whole document. A file with syntax errors is left as it is (the
 * diagnostics already say why), as `fmt` leaves it.
 */
import type { TextEdit } from "vscode-languageserver";
import { formatPolicy } from "../grammar/format.js";
import { LineIndex } from "./ranges.js";

/** `textDocument/formatting`: no edit when the text is already canonical or does not parse. */
export function formatDocument(text: string, file: string): TextEdit[] {
  const { output } = formatPolicy(text, file);
  if (output === null || output === text) return [];
  return [{ range: new LineIndex(text).whole(), newText: output }];
}
