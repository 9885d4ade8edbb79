/**
 * Token positions and token values, the lexer-level half of CST → AST:
 * spans of tokens (chevrotain's `endOffset`/`endColumn` are inclusive, AST
 * spans end one past the last character), string and duration decoding, and
 * the checks of what the lexer lets through on purpose (unterminated strings
 * and script blocks, unknown escapes, `5min`, `1e400`), so those errors get precise
 * messages. cst-to-ast.ts builds the tree from these.
 */
import type { ILexingError, IToken } from "chevrotain";
import type { Comment, Position, Span } from "./ast.js";
import type { Diagnostic } from "./diagnostics.js";
import * as E from "./syntax-errors.js";
import { BadNumber, Dot, Duration, PlainNumber, String3, StringTok } from "./tokens.js";

// ---------------------------------------------------------------- positions

/** The position of a token's first character. */
export function startOf(t: IToken): Position {
  return { offset: t.startOffset, line: t.startLine ?? 1, column: t.startColumn ?? 1 };
}

/** The position just past a token's last character (chevrotain's end is inclusive). */
export function endOf(t: IToken): Position {
  return { offset: (t.endOffset ?? t.startOffset) + 1, line: t.endLine ?? 1, column: (t.endColumn ?? 0) + 1 };
}

/** The span of one token. */
export function tokenSpan(t: IToken, file: string): Span {
  return { file, start: startOf(t), end: endOf(t) };
}

/** An empty span just past a token: where a missing token should have been. */
export function spanAfter(t: IToken, file: string): Span {
  const end = endOf(t);
  return { file, start: end, end };
}

/** True for tokens with a real position (not EOF, not inserted by recovery). */
export function hasPosition(t: IToken | undefined): t is IToken {
  return t !== undefined && t.tokenType.name !== "EOF" && !Number.isNaN(t.startOffset);
}

/** The span of a lexer error (characters no token matches). */
export function lexErrorDiagnostic(e: ILexingError, text: string, file: string): Diagnostic {
  const start: Position = { offset: e.offset, line: e.line ?? 1, column: e.column ?? 1 };
  const end: Position = { offset: e.offset + e.length, line: start.line, column: start.column + e.length };
  return E.unexpectedCharacter(text.slice(e.offset, e.offset + e.length), { file, start, end });
}

/** The position `chars` characters into a single-line token. */
export function shifted(t: IToken, chars: number): Position {
  return { offset: t.startOffset + chars, line: t.startLine ?? 1, column: (t.startColumn ?? 1) + chars };
}

// ---------------------------------------------------------------- token values

/** Decodes a `"…"` token; `error` is set when it is unterminated or has an unknown escape. */
export function decodeString(t: IToken, file: string): { value: string; error: Diagnostic | null } {
  const image = t.image;
  let value = "";
  for (let i = 1; i < image.length; i++) {
    const c = image[i]!;
    if (c === '"') return { value, error: null };
    if (c !== "\\") {
      value += c;
      continue;
    }
    const next = image[i + 1] ?? "";
    if (next === '"' || next === "\\") value += next;
    else if (next === "n") value += "\n";
    else {
      const span = { file, start: shifted(t, i), end: shifted(t, i + 2) };
      return { value, error: E.unknownEscape(`\\${next}`, span) };
    }
    i++;
  }
  return { value, error: E.unterminatedString(tokenSpan(t, file)) };
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** The seconds of a duration token (`30s`, `1.5m`, `2h`). */
export function durationSeconds(image: string): number {
  return Number(image.slice(0, -1)) * DURATION_UNITS[image[image.length - 1]!]!;
}

/** True when a `"""` token has its closing `"""`. */
export function scriptTerminated(image: string): boolean {
  return image.length >= 6 && image.endsWith('"""');
}

/** Errors in tokens the lexer accepted on purpose, so each gets a precise message. */
export function checkTokens(tokens: readonly IToken[], file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.tokenType === Dot) {
      // Member names may be keywords (`host.group`), so `host.` then a new line would read on into the next clause.
      const next = tokens[i + 1];
      if (next !== undefined && (next.startLine ?? 0) > (t.endLine ?? 0)) out.push(E.danglingDot(tokenSpan(t, file)));
    } else if (t.tokenType === StringTok) {
      const { error } = decodeString(t, file);
      if (error !== null) out.push(error);
    } else if (t.tokenType === BadNumber) {
      out.push(E.badNumber(t.image, tokenSpan(t, file)));
    } else if (t.tokenType === PlainNumber || t.tokenType === Duration) {
      const value = t.tokenType === Duration ? durationSeconds(t.image) : Number(t.image);
      if (!Number.isFinite(value)) out.push(E.numberTooLarge(t.image, tokenSpan(t, file)));
    } else if (t.tokenType === String3 && !scriptTerminated(t.image)) {
      out.push(E.unterminatedScript(tokenSpan(t, file)));
    }
  }
  return out;
}

/** The comment tokens as AST comments, in file order. */
export function toComments(tokens: readonly IToken[], file: string): Comment[] {
  return tokens.map((t) => ({ kind: "Comment", text: t.image, span: tokenSpan(t, file) }));
}
