/**
 * The catalogue of syntax errors (codes P1xx, documented in docs/language.md):
 * one builder per message, so the wording lives in one place and a code
 * never changes meaning. The chevrotain error message provider at the end
 * routes the parser's own errors through the same builders.
 */
import type { IParserErrorMessageProvider, IToken, TokenType } from "chevrotain";
import type { Span } from "./ast.js";
import { makeDiagnostic, type Diagnostic } from "./diagnostics.js";

function err(code: string, message: string, span: Span): Diagnostic {
  return makeDiagnostic(code, "error", message, span);
}

/** P101: a character no token starts with. */
export function unexpectedCharacter(text: string, span: Span): Diagnostic {
  return err("P101", `unexpected character \`${text}\``, span);
}

/** P102: a `"` string with no closing quote on its line. */
export function unterminatedString(span: Span): Diagnostic {
  return err("P102", "unterminated string: a closing `\"` is missing on this line", span);
}

/** P103: a backslash escape other than `\"`, `\\`, `\n`. */
export function unknownEscape(escape: string, span: Span): Diagnostic {
  return err("P103", `unknown escape \`${escape}\` in a string: only \\", \\\\ and \\n are allowed`, span);
}

/** P104: a `"""` script block with no closing `"""`. */
export function unterminatedScript(span: Span): Diagnostic {
  return err("P104", 'unterminated script block: a closing `"""` is missing', span);
}

/** P105: digits running into letters, such as `5min` or `2x`. */
export function badNumber(text: string, span: Span): Diagnostic {
  return err(
    "P105",
    `\`${text}\` is not a number or a duration: write numbers as 12, 0.5 or 1e3 and durations as 30s, 5m or 2h`,
    span,
  );
}

/** The message of P106, shared with the parser's message provider. */
export function reservedWordMessage(word: string): string {
  return `\`${word}\` is a reserved word and cannot be used as a name`;
}

/** P106: a reserved word where a declaration or alias name is expected (`let rule = 1`). */
export function reservedWordAsName(word: string, span: Span): Diagnostic {
  return err("P106", reservedWordMessage(word), span);
}

/** The message of P107. */
export function expectedTokenMessage(expected: string, found: string): string {
  return `expected ${expected}, found ${found}`;
}

/** P107: one particular token was expected (`expected \`then\`, found \`migrate\``). */
export function expectedToken(expected: string, found: string, span: Span): Diagnostic {
  return err("P107", expectedTokenMessage(expected, found), span);
}

/** P108: none of several constructs can start here (an expression, a declaration, an action, …). */
export function expectedConstruct(expected: string, found: string, span: Span): Diagnostic {
  return err("P108", expectedTokenMessage(expected, found), span);
}

/** P109: `NAME(value for binding)` with a NAME that is not an aggregate. */
export function notAnAggregate(name: string, span: Span): Diagnostic {
  return err(
    "P109",
    `\`${name}(… for …)\` is not an aggregate: only sum, avg, min, max, median and stddev take \`VALUE for BINDING\``,
    span,
  );
}

/** P110: `priority` takes a whole number. */
export function priorityNotInteger(text: string, span: Span): Diagnostic {
  return err("P110", `priority must be a whole number, found \`${text}\``, span);
}

/** P111: `a < b < c`; comparisons take two operands (SPEC 2.2 `compare`). */
export function chainedComparison(op: string, span: Span): Diagnostic {
  return err("P111", `comparisons do not chain: \`${op}\` cannot compare the result of another comparison; join them with \`and\` or add parentheses`, span);
}

/** P112: `not` as the operand of an operator that binds tighter (`a + not b`, `a == not b`, `-not a`). */
export function misplacedNot(span: Span): Diagnostic {
  return err("P112", "`not` cannot stand here: it applies to a whole comparison; put it in parentheses, as in `a == (not b)`", span);
}

/** P113: a number or duration literal too large for a double (`1e400` would be Infinity). */
export function numberTooLarge(text: string, span: Span): Diagnostic {
  return err("P113", `\`${text}\` is too large for a number: the largest is about 1.8e308`, span);
}

/** P115: a `.` with nothing after it on its line (`let v = host.` would take the next line's keyword as the field). */
export function danglingDot(span: Span): Diagnostic {
  return err("P115", "a `.` ends the line: the field name must follow it on the same line, as in `host.load`", span);
}

/** P114: an expression nested deeper than the checker and compiler can walk (grammar/depth.ts). */
export function nestedTooDeeply(limit: number, span: Span): Diagnostic {
  return err("P114", `expression nested too deeply: more than ${limit} levels of operators, parentheses or calls; split it with \`let\``, span);
}

/** P199: a bug in the parser itself, reported rather than thrown. */
export function internalParserError(detail: string, span: Span): Diagnostic {
  return err("P199", `internal parser error: ${detail}`, span);
}

// ---------------------------------------------------------------- the parser's own errors

const SEP = "\u0001";

/** Packs a code with a message, because chevrotain's provider can only return a string. */
function encode(code: string, message: string): string {
  return code + SEP + message;
}

/** Splits what `syntaxMessageProvider` produced back into code and message. */
export function decodeParserMessage(text: string): { code: string; message: string } {
  const at = text.indexOf(SEP);
  return at < 0 ? { code: "P108", message: text } : { code: text.slice(0, at), message: text.slice(at + 1) };
}

/** How a token is named in a message: its text in backticks, or "the end of the file". */
export function describeToken(token: IToken): string {
  if (token.tokenType.name === "EOF" || Number.isNaN(token.startOffset)) return "the end of the file";
  const image = token.image.length > 24 ? `${token.image.slice(0, 20)}…` : token.image;
  return `\`${image.replace(/\n[\s\S]*/, "…")}\``;
}

function labelOf(type: TokenType): string {
  return type.LABEL ?? `\`${type.name}\``;
}

function isKeyword(type: TokenType): boolean {
  return (type.CATEGORIES ?? []).some((c) => c.name === "Keyword");
}

const EXPRESSION_RULES = new Set(["expr", "operand"]);
const DECLARATION = "a declaration (`param`, `let`, `group`, `script`, `constraint` or `rule`)";

/** Names what may come next in a rule where several things could. */
function expectedInRule(ruleName: string, firsts: readonly TokenType[]): string {
  if (firsts.length > 0 && firsts.every((t) => t.name === "Identifier" || t.name === "Keyword")) return "a name";
  if (EXPRESSION_RULES.has(ruleName)) return "an expression";
  if (ruleName === "decl" || ruleName === "file") return DECLARATION;
  if (ruleName === "name" || ruleName === "label") return "a name";
  if (ruleName === "action") return "an action (`migrate`, `evacuate`, `recover` or `alert`)";
  if (ruleName === "literal") return "a literal (a number, a duration, a string, `true` or `false`)";
  const labels = [...new Set(firsts.map(labelOf))];
  if (labels.length === 1) return labels[0]!;
  return `${labels.slice(0, -1).join(", ")} or ${labels[labels.length - 1]}`;
}

/** Routes chevrotain's recognition errors through the catalogue (codes P106–P108). */
export const syntaxMessageProvider: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual }) {
    if (expected.name === "Identifier" && isKeyword(actual.tokenType)) {
      return encode("P106", reservedWordMessage(actual.image));
    }
    // The file rule ends by expecting the end of input: what could come instead is another declaration.
    if (expected.name === "EOF") return encode("P108", expectedTokenMessage(DECLARATION, describeToken(actual)));
    return encode("P107", expectedTokenMessage(labelOf(expected), describeToken(actual)));
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return encode("P108", expectedTokenMessage(DECLARATION, describeToken(firstRedundant)));
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, actual, ruleName }) {
    const firsts = expectedPathsPerAlt.flatMap((paths) => paths.map((path) => path[0]!)).filter((t) => t !== undefined);
    return encode("P108", expectedTokenMessage(expectedInRule(ruleName, firsts), describeToken(actual[0]!)));
  },
  buildEarlyExitMessage({ expectedIterationPaths, actual, ruleName }) {
    const firsts = expectedIterationPaths.map((path) => path[0]!).filter((t) => t !== undefined);
    return encode("P108", expectedTokenMessage(expectedInRule(ruleName, firsts), describeToken(actual[0]!)));
  },
};
