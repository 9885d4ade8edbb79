/**
 * The lexer of the policy language: the token types of tokens.ts, matched
 * exactly as chevrotain's `Lexer` would match them (first pattern in
 * `ALL_TOKENS` order, a keyword giving way to a longer name, an unknown
 * character skipped up to the next place any token starts), written out by
 * hand because building chevrotain's lexer was the largest part of
 * `vmpolicy check`'s start-up. test/grammar/lexer.test.ts compares it with
 * chevrotain's lexer on every shipped policy and on generated text.
 */
import type { ILexingError, IToken, TokenType } from "chevrotain";
import {
  BadNumber,
  Comma,
  CommentTok,
  Dot,
  Duration,
  Equals,
  EqEq,
  Greater,
  GreaterEq,
  HostWord,
  Identifier,
  KW,
  LBracket,
  Less,
  LessEq,
  LParen,
  Minus,
  NotEq,
  Percent,
  PlainNumber,
  Plus,
  RBracket,
  RESERVED_WORDS,
  RParen,
  Slash,
  Star,
  String3,
  StringTok,
  VmWord,
  Coalesce,
} from "./tokens.js";

/** What lexing one text gives: the parser's tokens, the comments, and unknown characters. */
export interface LexResult {
  readonly tokens: IToken[];
  readonly comments: IToken[];
  readonly errors: ILexingError[];
}

/** The token type of each word that is not a plain name. */
const WORDS = new Map<string, TokenType>([...RESERVED_WORDS.map((w): [string, TokenType] => [w, KW[w]]), ["host", HostWord], ["vm", VmWord]]);

/** One-character tokens (whose two-character forms are tried first, see `operator`). */
const SINGLE = new Map<number, TokenType>(
  (
    [
      ["<", Less],
      [">", Greater],
      ["=", Equals],
      ["+", Plus],
      ["-", Minus],
      ["*", Star],
      ["/", Slash],
      ["%", Percent],
      [".", Dot],
      [",", Comma],
      ["(", LParen],
      [")", RParen],
      ["[", LBracket],
      ["]", RBracket],
    ] as const
  ).map(([c, t]) => [c.charCodeAt(0), t]),
);

/** The same patterns as tokens.ts (sticky), for the tokens that are not a fixed string. */
function sticky(t: TokenType): RegExp {
  return new RegExp((t.PATTERN as RegExp).source, "y");
}
const STRING3 = sticky(String3);
const STRING = sticky(StringTok);
const DURATION = sticky(Duration);
const PLAIN_NUMBER = sticky(PlainNumber);
const BAD_NUMBER = sticky(BadNumber);

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}
function isNamePart(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
/** `WhiteSpace`'s characters: space, \t, \n, \v, \f, \r and the byte order mark. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xfeff;
}

/** The match at `offset`: its type (null for skipped whitespace) and length, or undefined when no token starts there. */
interface Match {
  type: TokenType | null;
  length: number;
}
const match: Match = { type: null, length: 0 };

function regex(re: RegExp, text: string, offset: number, type: TokenType): boolean {
  re.lastIndex = offset;
  if (!re.test(text)) return false;
  match.type = type;
  match.length = re.lastIndex - offset;
  return true;
}

function operator(text: string, offset: number, c: number): boolean {
  const next = text.charCodeAt(offset + 1);
  let two: TokenType | null = null;
  if (c === 63 && next === 63) two = Coalesce; // ??
  else if (next === 61) two = c === 61 ? EqEq : c === 33 ? NotEq : c === 60 ? LessEq : c === 62 ? GreaterEq : null; // == != <= >=
  if (two !== null) {
    match.type = two;
    match.length = 2;
    return true;
  }
  const one = SINGLE.get(c);
  if (one === undefined) return false;
  match.type = one;
  match.length = 1;
  return true;
}

/** Sets `match` to the token at `offset`; false when none starts there. */
function matchAt(text: string, offset: number): boolean {
  const c = text.charCodeAt(offset);
  if (isNameStart(c)) {
    let end = offset + 1;
    while (end < text.length && isNamePart(text.charCodeAt(end))) end++;
    match.type = WORDS.get(text.slice(offset, end)) ?? Identifier;
    match.length = end - offset;
    return true;
  }
  if (isSpace(c)) {
    let end = offset + 1;
    while (end < text.length && isSpace(text.charCodeAt(end))) end++;
    match.type = null;
    match.length = end - offset;
    return true;
  }
  if (isDigit(c)) return regex(DURATION, text, offset, Duration) || regex(PLAIN_NUMBER, text, offset, PlainNumber) || regex(BAD_NUMBER, text, offset, BadNumber);
  if (c === 34) return regex(STRING3, text, offset, String3) || regex(STRING, text, offset, StringTok);
  if (c === 35) {
    let end = offset + 1;
    while (end < text.length && text.charCodeAt(end) !== 10 && text.charCodeAt(end) !== 13) end++;
    match.type = CommentTok;
    match.length = end - offset;
    return true;
  }
  return operator(text, offset, c);
}

/** Tokenizes `text`; positions are 1-based lines and columns, as chevrotain's "full" position tracking gives them. */
export function lexPolicy(text: string): LexResult {
  const tokens: IToken[] = [];
  const comments: IToken[] = [];
  const errors: ILexingError[] = [];
  let offset = 0;
  let line = 1;
  let column = 1;
  while (offset < text.length) {
    if (!matchAt(text, offset)) {
      const start = offset;
      do offset++;
      while (offset < text.length && !matchAt(text, offset));
      const length = offset - start;
      errors.push({ offset: start, line, column, length, message: `unexpected character: ->${text.charAt(start)}<- at offset: ${start}, skipped ${length} characters.` });
      column += length;
      continue;
    }
    const { type, length } = match;
    if (type === null) {
      // Whitespace: only the position moves.
      for (let i = offset; i < offset + length; i++) {
        const c = text.charCodeAt(i);
        if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
          line++;
          column = 1;
        } else column++;
      }
      offset += length;
      continue;
    }
    const token: IToken = {
      image: text.slice(offset, offset + length),
      startOffset: offset,
      endOffset: offset + length - 1,
      startLine: line,
      endLine: line,
      startColumn: column,
      endColumn: column + length - 1,
      tokenTypeIdx: type.tokenTypeIdx!,
      tokenType: type,
    };
    if (type === String3) advanceOverLines(token, length);
    else column += length;
    if (type === CommentTok) comments.push(token);
    else tokens.push(token);
    offset += length;
  }

  /** A `"""` block may span lines: its end and the position after it, as chevrotain computes them. */
  function advanceOverLines(token: IToken, length: number): void {
    const image = token.image;
    let breaks = 0;
    let lastBreakEnd = -1; // index of the last character of the last line break in the image
    for (let i = 0; i < length; i++) {
      const c = image.charCodeAt(i);
      if (c === 10 || c === 13) {
        if (c === 13 && image.charCodeAt(i + 1) === 10) i++;
        breaks++;
        lastBreakEnd = i;
      }
    }
    if (breaks === 0) {
      column += length;
      return;
    }
    line += breaks;
    column = length - lastBreakEnd;
    const endsInBreak = lastBreakEnd === length - 1;
    if (!(breaks === 1 && endsInBreak)) {
      token.endLine = line - (endsInBreak ? 1 : 0);
      token.endColumn = column - 1 + (endsInBreak ? 1 : 0);
    }
  }

  return { tokens, comments, errors };
}
