/**
 * Rename of a let (top-level or of a rule), a param or a group within its
 * policy (SPEC 9): the declaration and every use the checker resolved to
 * it, including `heavy host` bindings and `host.group == heavy`. A new name
 * that is not a name, is reserved, or is already declared in the policy is
 * refused with a message rather than producing a policy that no longer checks.
 */
import { ResponseError, ErrorCodes, type Range, type WorkspaceEdit } from "vscode-languageserver";
import { RESERVED_WORDS } from "../grammar/tokens.js";
import { HOST_STATES } from "../grammar/types.js";
import type { FileAnalysis } from "./analysis.js";
import type { Occurrence } from "./occurrences.js";
import { spanToRange } from "./ranges.js";

const RENAMEABLE = new Set(["param", "let", "ruleLet", "group"]);

/** The occurrence under the cursor when it can be renamed; a ResponseError saying why not otherwise. */
function renameable(analysis: FileAnalysis, offset: number): Occurrence {
  const at = analysis.index?.at(offset);
  if (analysis.ast === null || analysis.index === null) throw new ResponseError(ErrorCodes.InvalidRequest, "the file has syntax errors; fix them to rename");
  if (at === undefined || !RENAMEABLE.has(at.target.kind)) {
    throw new ResponseError(ErrorCodes.InvalidRequest, "only a let, a param or a group can be renamed");
  }
  return at;
}

/** `textDocument/prepareRename`: the range of the name and the name itself. */
export function prepareRename(analysis: FileAnalysis, offset: number): { range: Range; placeholder: string } {
  const at = renameable(analysis, offset);
  return { range: spanToRange(at.span), placeholder: analysis.text.slice(at.span.start.offset, at.span.end.offset) };
}

/** Why `name` cannot be the new name, or null when it can. */
function refusal(analysis: FileAnalysis, name: string): string | null {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return "it is not a name (letters, digits and _, not starting with a digit)";
  if ((RESERVED_WORDS as readonly string[]).includes(name)) return "it is a reserved word";
  if (name === "host" || name === "vm") return "it names the element of a binding";
  if ((HOST_STATES as readonly string[]).includes(name)) return "it is a host state";
  const clash = analysis.index!.all.find(
    (o) => o.declaration && RENAMEABLE.has(o.target.kind) && analysis.text.slice(o.span.start.offset, o.span.end.offset) === name,
  );
  if (clash !== undefined) return `it is already declared at line ${clash.span.start.line}`;
  const element = analysis.index!.all.find((o) => o.target.kind === "element" && o.declaration && o.target.binding.alias?.name === name);
  if (element !== undefined) return `it already names a binding element at line ${element.span.start.line}`;
  return null;
}

/** `textDocument/rename`: the edits of the declaration and every use. */
export function rename(analysis: FileAnalysis, uri: string, offset: number, newName: string): WorkspaceEdit {
  const at = renameable(analysis, offset);
  const why = refusal(analysis, newName);
  if (why !== null) throw new ResponseError(ErrorCodes.InvalidParams, `cannot rename to \`${newName}\`: ${why}`);
  const edits = analysis.index!.referencesOf(at.target).map((o) => ({ range: spanToRange(o.span), newText: newName }));
  edits.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
  return { changes: { [uri]: edits } };
}
