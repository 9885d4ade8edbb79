/**
 * Go to definition and find references (SPEC 9) for groups, lets, params,
 * rule lets, binding elements, script functions, constraints and rules.
 * Names are resolved by the checker (each file is its own namespace), so a
 * `mean` in one policy never leads to another policy's `mean`.
 */
import type { Location } from "vscode-languageserver";
import type { FileAnalysis } from "./analysis.js";
import type { Occurrence } from "./occurrences.js";
import { spanToRange } from "./ranges.js";

/** Where the name at `offset` is declared. */
export function definition(analysis: FileAnalysis, uri: string, offset: number): Location | null {
  const index = analysis.index;
  const at = index?.at(offset);
  if (index == null || at === undefined) return null;
  const t = at.target;
  // The subject of a constraint or group condition is declared by the constraint or group itself.
  const declaring = t.kind !== "subject" ? t : t.of.kind === "GroupDecl" ? { kind: "group" as const, decl: t.of } : { kind: "constraint" as const, decl: t.of };
  const decl = index.declarationOf(declaring);
  return decl === undefined ? null : { uri, range: spanToRange(decl.span) };
}

/** Every use of the name at `offset` (and its declaration, when asked). */
export function references(analysis: FileAnalysis, uri: string, offset: number, includeDeclaration: boolean): Location[] {
  const found = occurrencesAt(analysis, offset);
  return found.filter((o) => includeDeclaration || !o.declaration).map((o) => ({ uri, range: spanToRange(o.span) }));
}

/** The occurrences of the symbol at `offset`, declaration first. */
export function occurrencesAt(analysis: FileAnalysis, offset: number): Occurrence[] {
  const index = analysis.index;
  const at = index?.at(offset);
  if (index == null || at === undefined) return [];
  return index.referencesOf(at.target);
}
