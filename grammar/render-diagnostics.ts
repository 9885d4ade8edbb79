/**
 * Diagnostics as people and tools read them (SPEC 4): the human form
 * `FILE:LINE:COL: error|warning: MESSAGE`, the source line, a caret line
 * under the whole span (its first line, when the span runs over several)
 * and the hint, then a summary line; and the JSON form for editors and CI.
 * Colour is the caller's decision (a terminal without NO_COLOR), passed in,
 * so this stays a pure function that tests compare byte for byte.
 */
import { createColors } from "picocolors";
import type { Diagnostic } from "./diagnostics.js";

export interface RenderOptions {
  /** ANSI colours; default false. */
  readonly color?: boolean;
  /** Append `2 errors, 1 warning`; default true. Nothing is printed for no diagnostics. */
  readonly summary?: boolean;
}

/** The JSON form of one diagnostic (SPEC 4), with `hint` when there is one. */
export interface DiagnosticJson {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: "error" | "warning";
  code: string;
  message: string;
  hint?: string;
}

const INDENT = "    ";

/** Line `line` of a file split into lines, keeping `\r` out of the printed line. */
function lineOf(lines: readonly string[], line: number): string | undefined {
  const l = lines[line - 1];
  return l === undefined ? undefined : l.replace(/\r$/, "");
}

/** The caret line: blanks (tabs kept, so it lines up) up to the span, then `^` under it. */
function caretLine(source: string, d: Diagnostic): string {
  const start = Math.max(1, d.span.start.column);
  const endColumn = d.span.end.line === d.span.start.line ? d.span.end.column : source.length + 1;
  const width = Math.max(1, Math.min(endColumn, source.length + 1) - start);
  let pad = "";
  for (let i = 0; i < start - 1; i++) pad += source[i] === "\t" ? "\t" : " ";
  return pad + "^".repeat(width);
}

/** "2 errors, 1 warning", "1 error", "3 warnings"; "" for none. */
export function summaryLine(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  const parts: string[] = [];
  if (errors > 0) parts.push(`${errors} error${errors === 1 ? "" : "s"}`);
  if (warnings > 0) parts.push(`${warnings} warning${warnings === 1 ? "" : "s"}`);
  return parts.join(", ");
}

/**
 * The human form of `diagnostics`. `sources` maps each file (as spans name
 * it) to its text, for the source and caret lines; a file missing from it
 * gets the header line only. Ends with a newline; "" when there is nothing.
 */
export function renderDiagnostics(
  diagnostics: readonly Diagnostic[],
  sources: ReadonlyMap<string, string>,
  options: RenderOptions = {},
): string {
  if (diagnostics.length === 0) return "";
  const c = createColors(options.color === true);
  const out: string[] = [];
  const split = new Map<string, string[]>();
  const linesOf = (file: string): string[] | undefined => {
    const text = sources.get(file);
    if (text === undefined) return undefined;
    let lines = split.get(file);
    if (lines === undefined) split.set(file, (lines = text.split("\n")));
    return lines;
  };
  for (const d of diagnostics) {
    const paint = d.severity === "error" ? (s: string) => c.bold(c.red(s)) : (s: string) => c.bold(c.yellow(s));
    const at = `${d.span.file}:${d.span.start.line}:${d.span.start.column}`;
    out.push(`${c.bold(at)}: ${paint(d.severity)}: ${d.message}`);
    const lines = linesOf(d.span.file);
    const source = lines === undefined ? undefined : lineOf(lines, d.span.start.line);
    if (source !== undefined) {
      out.push(INDENT + source);
      out.push(INDENT + paint(caretLine(source, d)));
    }
    if (d.hint !== undefined) out.push(`${INDENT}${c.cyan("hint")}: ${d.hint}`);
  }
  if (options.summary !== false) out.push(summaryLine(diagnostics));
  return out.join("\n") + "\n";
}

/** The JSON form of one diagnostic. */
export function diagnosticToJson(d: Diagnostic): DiagnosticJson {
  const json: DiagnosticJson = {
    file: d.span.file,
    line: d.span.start.line,
    column: d.span.start.column,
    endLine: d.span.end.line,
    endColumn: d.span.end.column,
    severity: d.severity,
    code: d.code,
    message: d.message,
  };
  if (d.hint !== undefined) json.hint = d.hint;
  return json;
}

/** The JSON form of `diagnostics` (SPEC 4): an array, pretty-printed, with a final newline. */
export function renderDiagnosticsJson(diagnostics: readonly Diagnostic[]): string {
  return JSON.stringify(diagnostics.map(diagnosticToJson), null, 2) + "\n";
}
