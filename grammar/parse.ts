/**
 * `parsePolicy`: text → AST plus syntax diagnostics, the first phase behind
 * grammar/index.ts. Lexing, parsing (with recovery, so every syntax error of a
 * file is reported at once) and CST→AST conversion; never throws.
 */
import type { ILexingError, IRecognitionException, IToken } from "chevrotain";
import type { PolicyFile, Span } from "./ast.js";
import { compareDiagnostics, makeDiagnostic, type Diagnostic } from "./diagnostics.js";
import { cstToAst } from "./cst-to-ast.js";
import { policyParser } from "./parser.js";
import { deepestToken, MAX_EXPRESSION_DEPTH, tooDeepExpression } from "./depth.js";
import { decodeParserMessage, internalParserError, nestedTooDeeply, reservedWordAsName } from "./syntax-errors.js";
import { checkTokens, hasPosition, lexErrorDiagnostic, spanAfter, toComments, tokenSpan } from "./token-values.js";
import { lexPolicy } from "./lexer.js";
import { RESERVED_WORDS } from "./tokens.js";
import { suggest } from "./suggest.js";

/** What parsing one file gives: the AST (null when there is any syntax error) and the diagnostics. */
export interface ParseResult {
  readonly ast: PolicyFile | null;
  readonly diagnostics: Diagnostic[];
}

/**
 * Where to point at a parser error. A real token is pointed at; the end of
 * the file or a token inserted by recovery (which has no position) is mapped
 * to the end of the last real token before it.
 */
function errorSpan(e: IRecognitionException, tokens: readonly IToken[], file: string): Span {
  if (hasPosition(e.token)) return tokenSpan(e.token, file);
  const previous = (e as { previousToken?: IToken }).previousToken;
  if (hasPosition(previous)) return spanAfter(previous, file);
  const last = tokens[tokens.length - 1];
  if (last !== undefined) return spanAfter(last, file);
  return { file, start: { offset: 0, line: 1, column: 1 }, end: { offset: 0, line: 1, column: 1 } };
}

/** Keywords a typo is worth pointing at (not `in`, `to`, `by`, …: too many names are one edit away). */
const LONG_KEYWORDS = RESERVED_WORDS.filter((w) => w.length >= 3);
const DECLARATION_KEYWORDS = ["param", "let", "group", "script", "constraint", "rule"];

/**
 * The name the parser stopped at, or the one just before it, when it is a near
 * miss of a keyword: `when exist light host` otherwise only says that `then`
 * was expected at `light`.
 */
function misspeltKeyword(e: IRecognitionException, tokens: readonly IToken[], wantsDeclaration: boolean): { token: IToken; keyword: string } | null {
  if (!hasPosition(e.token)) return null;
  // Where a declaration must start, only a declaration's keyword is a likely typo (`foo` is not `for`).
  const candidates = wantsDeclaration ? DECLARATION_KEYWORDS : LONG_KEYWORDS;
  const at = tokens.indexOf(e.token);
  for (const t of [e.token, at > 0 ? tokens[at - 1] : undefined]) {
    if (!hasPosition(t) || t.tokenType.name !== "Identifier") continue;
    const keyword = suggest(t.image, candidates);
    if (keyword !== null) return { token: t, keyword };
  }
  return null;
}

/** The first token after each lexer error: parser errors there are echoes of the lexer error. */
function tokensAfterLexErrors(errors: readonly ILexingError[], tokens: readonly IToken[]): Set<IToken> {
  const out = new Set<IToken>();
  for (const e of errors) {
    let lo = 0;
    let hi = tokens.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tokens[mid]!.startOffset < e.offset) lo = mid + 1;
      else hi = mid;
    }
    const next = tokens[lo];
    if (next !== undefined) out.add(next);
  }
  return out;
}

/** Parses one `.policy` file. `file` is used in every span (usually the path as given). */
export function parsePolicy(text: string, file: string): ParseResult {
  let tokens: readonly IToken[] = [];
  try {
    const lexed = lexPolicy(text);
    tokens = lexed.tokens;
    const diagnostics: Diagnostic[] = lexed.errors.map((e) => lexErrorDiagnostic(e, text, file));
    diagnostics.push(...checkTokens(lexed.tokens, file));

    const parser = policyParser();
    parser.reservedNames = [];
    parser.input = lexed.tokens;
    const cst = parser.file();
    for (const word of parser.reservedNames) diagnostics.push(reservedWordAsName(word.image, tokenSpan(word, file)));
    const seen = new Set<string>();
    const hinted = new Set<IToken>();
    const afterBadChar = tokensAfterLexErrors(lexed.errors, lexed.tokens);
    for (const e of parser.errors) {
      // The token right after an unknown character is usually out of place only because of it.
      if (afterBadChar.has(e.token)) continue;
      const { code, message: base } = decodeParserMessage(e.message);
      const typo = misspeltKeyword(e, lexed.tokens, base.startsWith("expected a declaration"));
      // Recovery after a misspelt keyword stumbles again just past it: one error says it all.
      if (typo !== null && hinted.has(typo.token)) continue;
      if (typo !== null) hinted.add(typo.token);
      const message = typo === null ? base : `${base}; is \`${typo.token.image}\` a misspelt \`${typo.keyword}\`?`;
      const span = errorSpan(e, lexed.tokens, file);
      const key = `${span.start.offset}:${message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      diagnostics.push(makeDiagnostic(code, "error", message, span));
    }

    const comments = toComments(lexed.comments, file);
    let ast: PolicyFile | null = null;
    if (diagnostics.length === 0) {
      ast = cstToAst(cst, comments, file, diagnostics);
      const deep = diagnostics.length === 0 ? tooDeepExpression(ast) : null;
      if (deep !== null) diagnostics.push(nestedTooDeeply(MAX_EXPRESSION_DEPTH, deep));
      if (diagnostics.length > 0) ast = null;
    } else {
      // A recovered CST may lack parts; converting it anyway finds the errors
      // only conversion can see (P109, P110), and a crash there means nothing.
      try {
        cstToAst(cst, comments, file, diagnostics);
      } catch {
        /* the syntax errors already found stand */
      }
    }
    diagnostics.sort(compareDiagnostics);
    return { ast, diagnostics };
  } catch (e) {
    // The parser recurses once per level of nesting: running out of stack is the input's depth, not a bug.
    const deepest = e instanceof RangeError ? deepestToken(tokens) : undefined;
    if (deepest !== undefined) return { ast: null, diagnostics: [nestedTooDeeply(MAX_EXPRESSION_DEPTH, tokenSpan(deepest, file))] };
    const at = { offset: 0, line: 1, column: 1 };
    const detail = e instanceof Error ? e.message : String(e);
    return { ast: null, diagnostics: [internalParserError(detail, { file, start: at, end: at })] };
  } finally {
    // The one parser would otherwise hold this file's tokens (and its errors' tokens) until the next
    // parse: about as much heap as the AST itself (docs/engine.md, "Sizes and the event loop").
    const parser = policyParser();
    parser.input = [];
    parser.reservedNames = [];
  }
}
