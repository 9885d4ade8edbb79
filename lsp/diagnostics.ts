/**
 * The checker's diagnostics as LSP diagnostics: the same code, severity,
 * message and exact span `vmpolicy check` prints, with the hint on a
 * second line as the CLI shows it.
 */
import { DiagnosticSeverity, type Diagnostic as LspDiagnostic } from "vscode-languageserver";
import type { Diagnostic } from "../grammar/diagnostics.js";
import { spanToRange } from "./ranges.js";

/** The LSP form of one diagnostic. */
export function toLspDiagnostic(d: Diagnostic): LspDiagnostic {
  return {
    range: spanToRange(d.span),
    severity: d.severity === "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: d.code,
    source: "vmpolicy",
    message: d.hint === undefined ? d.message : `${d.message}\nhint: ${d.hint}`,
  };
}
