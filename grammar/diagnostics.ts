/**
 * Diagnostics are values, never exceptions: every phase returns them, the CLI
 * prints them, the engine shows them in /status. Codes are stable:
 * P1xx syntax, T2xx names and types, W3xx warnings, E4xx evaluation.
 * The catalogue with one builder per message lives beside this type
 * (see docs/diagnostics.md).
 */
import type { Span } from "./ast.js";

export type Severity = "error" | "warning";

export interface Diagnostic {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly span: Span;
  /** A suggestion such as "did you mean `light`?", shown after the message. */
  readonly hint?: string;
}

export function makeDiagnostic(
  code: string,
  severity: Severity,
  message: string,
  span: Span,
  hint?: string,
): Diagnostic {
  return hint === undefined ? { code, severity, message, span } : { code, severity, message, span, hint };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Orders diagnostics by file, then position, so output is stable. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.span.file !== b.span.file) return a.span.file < b.span.file ? -1 : 1;
  return a.span.start.offset - b.span.start.offset || a.span.end.offset - b.span.end.offset;
}
