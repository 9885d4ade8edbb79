/**
 * Quick fixes (SPEC 9): every diagnostic that suggests a fix in words gets
 * it as an edit. "did you mean `x`?" on an unknown name, field, group or
 * function replaces the name; a misspelt keyword (`is \`exist\` a misspelt
 * \`exists\`?`) replaces the word; `migrate` with its arguments the wrong
 * way round swaps them; a state or group written as a string loses its
 * quotes. The fix is read from the very diagnostic the checker made, so
 * the editor offers exactly what the CLI suggests.
 */
import { CodeActionKind, type CodeAction, type Range } from "vscode-languageserver";
import type { Diagnostic } from "../grammar/diagnostics.js";
import { toLspDiagnostic } from "./diagnostics.js";
import { LineIndex, spanToRange } from "./ranges.js";

/** One edit that fixes a diagnostic. */
export interface QuickFix {
  readonly title: string;
  readonly range: Range;
  readonly newText: string;
}

const DID_YOU_MEAN = /did you mean `([^`]+)`\?$/;
const MISSPELT = /is `([A-Za-z_][A-Za-z0-9_]*)` a misspelt `([a-z]+)`\?$/;
const UNQUOTE = /write `([^`]+)` without quotes$/;

/** The fix a diagnostic suggests, or null. `text` is the file's text. */
export function quickFix(d: Diagnostic, text: string): QuickFix | null {
  const lines = new LineIndex(text);
  const spanText = text.slice(d.span.start.offset, d.span.end.offset);
  const misspelt = MISSPELT.exec(d.message);
  if (misspelt !== null) {
    const [, word, keyword] = misspelt as unknown as [string, string, string];
    const at = wordNear(text, word, d.span.end.offset);
    if (at === null) return null;
    return { title: `Change \`${word}\` to \`${keyword}\``, range: lines.range(at, at + word.length), newText: keyword };
  }
  const mean = DID_YOU_MEAN.exec(d.message);
  if (mean !== null) {
    const suggestion = mean[1]!;
    const swapped = /^migrate (.+) to (.+)$/s.exec(suggestion);
    if (d.code === "T218" && swapped !== null) {
      return { title: "Swap the arguments of `migrate`", range: spanToRange(d.span), newText: `${swapped[1]} to ${swapped[2]}` };
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(spanText)) return null;
    return { title: `Change \`${spanText}\` to \`${suggestion}\``, range: spanToRange(d.span), newText: suggestion };
  }
  const unquote = d.hint === undefined ? null : UNQUOTE.exec(d.hint);
  if (unquote !== null) {
    const name = unquote[1]!;
    const at = spanText.indexOf(`"${name}"`);
    if (at < 0) return null;
    const start = d.span.start.offset + at;
    return { title: `Write \`${name}\` without quotes`, range: lines.range(start, start + name.length + 2), newText: name };
  }
  return null;
}

/**
 * The last whole-word occurrence of `word` that starts before `before` and
 * within a few lines of it: the parser reports a misspelt keyword at the
 * token it stopped on, which is the word or the one after it.
 */
function wordNear(text: string, word: string, before: number): number | null {
  const from = Math.max(0, before - 400);
  const re = new RegExp(`(?<![A-Za-z0-9_])${word}(?![A-Za-z0-9_])`, "g");
  let found: number | null = null;
  for (const m of text.slice(from, before + word.length).matchAll(re)) {
    if (from + m.index! < before) found = from + m.index!;
  }
  return found;
}

/** The quick fixes for the diagnostics of a file that touch `range`. */
export function codeActions(uri: string, diagnostics: readonly Diagnostic[], text: string, range: Range): CodeAction[] {
  const out: CodeAction[] = [];
  for (const d of diagnostics) {
    const fix = quickFix(d, text);
    // Offered on the diagnostic and on the text it would change (a misspelt keyword is reported at the token after it).
    if (fix === null || (!touches(spanToRange(d.span), range) && !touches(fix.range, range))) continue;
    out.push({
      title: fix.title,
      kind: CodeActionKind.QuickFix,
      diagnostics: [toLspDiagnostic(d)],
      isPreferred: true,
      edit: { changes: { [uri]: [{ range: fix.range, newText: fix.newText }] } },
    });
  }
  return out;
}

function touches(a: Range, b: Range): boolean {
  return !before(a.end, b.start) && !before(b.end, a.start);
}

function before(a: Range["start"], b: Range["start"]): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}
