/**
 * Where the cursor is, for completion. Completion is asked for while a line
 * is half typed, when the file does not parse, so the place is read from
 * the text before the cursor (the current line, and the declaration line
 * above it), not from the AST.
 */

export type CompletionPlace =
  /** `host.lo|`, `src.labels.|`: `chain` is the names before the last dot (`["src", "labels"]`). */
  | { readonly kind: "member"; readonly chain: readonly string[] }
  /** `vm.labels.tier == "d|`: the values seen for a label. */
  | { readonly kind: "labelValue"; readonly chain: readonly string[]; readonly key: string }
  /** The start of a top-level line: `param`, `let`, `group`, … */
  | { readonly kind: "declaration"; readonly hasPolicy: boolean }
  /** The start of an indented line of a rule or constraint. */
  | { readonly kind: "clause"; readonly block: "rule" | "constraint" | "other" }
  /** After `then` or a `,` of the actions. */
  | { readonly kind: "action" }
  /** A few keywords only: after `group NAME`, after `for`, after the element of a binding. */
  | { readonly kind: "keywords"; readonly words: readonly string[] }
  /** Where a binding starts (`exists |`, `for each |`, `count(|`): groups, `host`, `vm`. */
  | { readonly kind: "binding" }
  /** After a group in a binding (`exists light |`). */
  | { readonly kind: "element" }
  /** A new name is being written (`let |`): nothing to offer. */
  | { readonly kind: "none" }
  /** Anywhere an expression may go. */
  | { readonly kind: "expression" };

const NAME = "[A-Za-z_][A-Za-z0-9_]*";

/** The line `offset` is on, up to the cursor, and the partial word being typed. */
function linePrefix(text: string, offset: number): { before: string; partial: string } {
  const start = text.lastIndexOf("\n", offset - 1) + 1;
  const line = text.slice(start, offset);
  const partial = /[A-Za-z0-9_]*$/.exec(line)![0];
  return { before: line.slice(0, line.length - partial.length), partial };
}

/** Whether the cursor is inside a comment or a string of its line (or a script block). */
function insideLiteral(text: string, offset: number, line: string): boolean {
  const opened = text.slice(0, offset).split('"""').length - 1;
  if (opened % 2 === 1) return true;
  let quote = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote && c === "\\") i++;
    else if (c === '"') quote = !quote;
    else if (c === "#" && !quote) return true;
  }
  return quote;
}

/** The top-level declaration keyword of the nearest unindented line above the cursor's line. */
function enclosingBlock(text: string, offset: number): "rule" | "constraint" | "other" {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  const above = text.slice(0, lineStart).split("\n").reverse();
  for (const line of above) {
    const m = /^(rule|constraint|param|let|group|script|policy)\b/.exec(line);
    if (m !== null) return m[1] === "rule" ? "rule" : m[1] === "constraint" ? "constraint" : "other";
  }
  return "other";
}

/** Classifies the cursor at `offset` of `text`. */
export function completionPlace(text: string, offset: number): CompletionPlace {
  const { before, partial } = linePrefix(text, offset);
  const labelValue = new RegExp(`((?:${NAME}\\.)*)labels\\.(${NAME})\\s*(?:==|!=)\\s*"([^"]*)$`).exec(before + partial);
  if (labelValue !== null) return { kind: "labelValue", chain: labelValue[1]!.split(".").filter((s) => s !== ""), key: labelValue[2]! };
  if (insideLiteral(text, offset, before + partial)) return { kind: "none" };
  const member = new RegExp(`(${NAME}(?:\\.${NAME})*)\\.$`).exec(before);
  if (member !== null) return { kind: "member", chain: member[1]!.split(".") };
  if (/\.$/.test(before)) return { kind: "none" };
  if (before.trim() === "") {
    if (before.length === 0) return { kind: "declaration", hasPolicy: /^policy\b/m.test(text) };
    return { kind: "clause", block: enclosingBlock(text, offset) };
  }
  const words = before.trimEnd();
  if (new RegExp(`^(?:param|let|group|rule|constraint|policy)\\s+$`).test(before.trimStart()) || /\bas\s+$/.test(before) || /^\s+let\s+$/.test(before)) {
    return { kind: "none" };
  }
  if (new RegExp(`^group\\s+${NAME}\\s+$`).test(before)) return { kind: "keywords", words: ["when", "otherwise"] };
  if (/^\s+for\s+$/.test(before)) return { kind: "keywords", words: ["each"] };
  if (new RegExp(`^rule\\s+${NAME}\\s+$`).test(before)) return { kind: "keywords", words: ["priority"] };
  if (/(?:\bthen|,)$/.test(words) && /^\s*then\b|\bthen\b/.test(before)) {
    // A `,` is an action separator only on the `then` line, not inside a call.
    const afterThen = before.slice(before.lastIndexOf("then") + 4);
    if (!/[([]/.test(afterThen.replace(/\([^()]*\)|\[[^\]]*\]/g, ""))) return { kind: "action" };
  }
  if (/(?:\beach|\bexists|\bno|\bpick|\bcount\s*\(|\bfor)$/.test(words)) return { kind: "binding" };
  const afterBinding = new RegExp(`(?:\\beach|\\bexists|\\bno|\\bpick|\\bcount\\s*\\(|\\bfor)\\s+(${NAME})$`).exec(words);
  if (afterBinding !== null) {
    return afterBinding[1] === "host" || afterBinding[1] === "vm" ? { kind: "keywords", words: ["in", "as", "where", "by"] } : { kind: "element" };
  }
  return { kind: "expression" };
}
