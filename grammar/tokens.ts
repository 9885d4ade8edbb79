/**
 * The tokens of the policy language (SPEC 2.2), in the one order the lexer
 * tries them: longer and more specific patterns first, every keyword before
 * `Identifier` with `longer_alt: Identifier` so `hosts` or `note` stay names.
 * `host` and `vm` are tokens of their own (a binding needs to tell them apart)
 * but belong to the `Identifier` category, so wherever a name is allowed they
 * are names. grammar/lexer.ts matches them by hand, exactly as chevrotain's
 * lexer built from `ALL_TOKENS` would (test/grammar/lexer.test.ts compares the two).
 */
import type { TokenType } from "chevrotain";
import { createToken, Lexer } from "./chevrotain.js";

/** Every plain name, including `host` and `vm` (which are in its category). */
export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/, label: "a name" });

/** The category of every reserved word, so a member name (`host.group`) may be any of them. */
export const Keyword = createToken({ name: "Keyword", pattern: Lexer.NA, label: "a name" });

/** The words SPEC 2.2 reserves, each its own token type. */
export const RESERVED_WORDS = [
  "policy", "param", "let", "group", "when", "otherwise", "script", "constraint", "require",
  "rule", "priority", "for", "each", "by", "asc", "desc", "then", "migrate", "to", "evacuate",
  "recover", "alert", "or", "and", "not", "in", "true", "false", "none", "count", "exists", "no",
  "pick", "as", "where",
] as const;
export type ReservedWord = (typeof RESERVED_WORDS)[number];

/**
 * Every binary operator shares this category, so an expression's CST keeps
 * its operators in one ordered list (precedence is applied by cst-to-ast.ts).
 */
export const BinOp = createToken({ name: "BinOp", pattern: Lexer.NA, label: "an operator" });
/** `not` and unary `-`, which may stand before an operand. */
export const Prefix = createToken({ name: "Prefix", pattern: Lexer.NA, label: "`not` or `-`" });

const KEYWORD_CATEGORIES: Partial<Record<ReservedWord, TokenType[]>> = {
  or: [Keyword, BinOp],
  and: [Keyword, BinOp],
  in: [Keyword, BinOp],
  not: [Keyword, Prefix],
};

function keyword(word: ReservedWord): TokenType {
  const name = word[0]!.toUpperCase() + word.slice(1);
  const categories = KEYWORD_CATEGORIES[word] ?? [Keyword];
  return createToken({ name, pattern: new RegExp(word), longer_alt: Identifier, categories, label: `\`${word}\`` });
}

/** Keyword token types by word. */
export const KW = Object.fromEntries(RESERVED_WORDS.map((w) => [w, keyword(w)])) as Record<ReservedWord, TokenType>;

/** `host` and `vm`: the element words of a binding, and names everywhere else. */
export const HostWord = createToken({ name: "HostWord", pattern: /host/, longer_alt: Identifier, categories: [Identifier], label: "`host`" });
export const VmWord = createToken({ name: "VmWord", pattern: /vm/, longer_alt: Identifier, categories: [Identifier], label: "`vm`" });

/** Whitespace, including a byte order mark some editors put at the start of a file. */
export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n\f\v\uFEFF]+/, group: Lexer.SKIPPED, line_breaks: true });
/** Comments go to their own group so the parser skips them and the formatter keeps them. */
export const CommentTok = createToken({ name: "Comment", pattern: /#[^\n\r]*/, group: "comments" });

/**
 * `"""…"""`. An unterminated block swallows the rest of the file (checked in
 * token-values.ts), rather than letting the lexer trip over script code.
 */
export const String3 = createToken({
  name: "String3",
  pattern: /"""(?:(?!""")[\s\S])*(?:""")?/,
  line_breaks: true,
  start_chars_hint: ['"'],
  label: 'a `"""` script block',
});
/**
 * `"…"`. Any escape and a missing closing quote are accepted here and
 * reported with their exact position by token-values.ts, which decodes strings.
 */
export const StringTok = createToken({
  name: "String",
  pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*"?/,
  start_chars_hint: ['"'],
  label: "a string",
});

/** A number category: valid numbers and malformed ones (`5min`), so the parser goes on after the latter. */
export const NumberTok = createToken({ name: "Number", pattern: Lexer.NA, label: "a number" });
export const Duration = createToken({
  name: "Duration",
  pattern: /\d+(?:\.\d+)?[smh](?![A-Za-z0-9_])/,
  start_chars_hint: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  label: "a duration",
});
export const PlainNumber = createToken({
  name: "PlainNumber",
  pattern: /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![A-Za-z0-9_])/,
  start_chars_hint: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  categories: [NumberTok],
  label: "a number",
});
/** Digits running into letters (`5min`, `2x`): reported as an error by token-values.ts. */
export const BadNumber = createToken({
  name: "BadNumber",
  pattern: /\d[A-Za-z0-9_.]*/,
  categories: [NumberTok],
  label: "a number",
});

export const Coalesce = createToken({ name: "Coalesce", pattern: /\?\?/, categories: [BinOp], label: "`??`" });
export const EqEq = createToken({ name: "EqEq", pattern: /==/, categories: [BinOp], label: "`==`" });
export const NotEq = createToken({ name: "NotEq", pattern: /!=/, categories: [BinOp], label: "`!=`" });
export const LessEq = createToken({ name: "LessEq", pattern: /<=/, categories: [BinOp], label: "`<=`" });
export const GreaterEq = createToken({ name: "GreaterEq", pattern: />=/, categories: [BinOp], label: "`>=`" });
export const Less = createToken({ name: "Less", pattern: /</, categories: [BinOp], label: "`<`" });
export const Greater = createToken({ name: "Greater", pattern: />/, categories: [BinOp], label: "`>`" });
export const Equals = createToken({ name: "Equals", pattern: /=/, label: "`=`" });
export const Plus = createToken({ name: "Plus", pattern: /\+/, categories: [BinOp], label: "`+`" });
export const Minus = createToken({ name: "Minus", pattern: /-/, categories: [BinOp, Prefix], label: "`-`" });
export const Star = createToken({ name: "Star", pattern: /\*/, categories: [BinOp], label: "`*`" });
export const Slash = createToken({ name: "Slash", pattern: /\//, categories: [BinOp], label: "`/`" });
export const Percent = createToken({ name: "Percent", pattern: /%/, categories: [BinOp], label: "`%`" });
export const Dot = createToken({ name: "Dot", pattern: /\./, label: "`.`" });
export const Comma = createToken({ name: "Comma", pattern: /,/, label: "`,`" });
export const LParen = createToken({ name: "LParen", pattern: /\(/, label: "`(`" });
export const RParen = createToken({ name: "RParen", pattern: /\)/, label: "`)`" });
export const LBracket = createToken({ name: "LBracket", pattern: /\[/, label: "`[`" });
export const RBracket = createToken({ name: "RBracket", pattern: /\]/, label: "`]`" });

// Longer words first, so `none`/`not` are not lexed as `no` followed by a name.
const keywordsByLength = [...RESERVED_WORDS].sort((a, b) => b.length - a.length).map((w) => KW[w]);

/** The lexer's token order; also the parser's vocabulary. */
export const ALL_TOKENS: TokenType[] = [
  WhiteSpace,
  CommentTok,
  String3,
  StringTok,
  Duration,
  PlainNumber,
  BadNumber,
  NumberTok,
  Coalesce,
  EqEq,
  NotEq,
  LessEq,
  GreaterEq,
  Less,
  Greater,
  Equals,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  BinOp,
  Prefix,
  Dot,
  Comma,
  LParen,
  RParen,
  LBracket,
  RBracket,
  ...keywordsByLength,
  Keyword,
  HostWord,
  VmWord,
  Identifier,
];

/** Binding strength of each binary operator (SPEC 2.2, loosest first); `not` sits between `and` and comparisons. */
export const PREC = { coalesce: 1, or: 2, and: 3, not: 4, compare: 5, sum: 6, product: 7, unary: 8 } as const;

const precedence = new Map<TokenType, number>([
  [Coalesce, PREC.coalesce],
  [KW.or, PREC.or],
  [KW.and, PREC.and],
  [EqEq, PREC.compare],
  [NotEq, PREC.compare],
  [Less, PREC.compare],
  [LessEq, PREC.compare],
  [Greater, PREC.compare],
  [GreaterEq, PREC.compare],
  [KW.in, PREC.compare],
  [Plus, PREC.sum],
  [Minus, PREC.sum],
  [Star, PREC.product],
  [Slash, PREC.product],
  [Percent, PREC.product],
]);

/** The precedence of a binary operator token, 0 for anything else. */
export function binaryPrecedence(type: TokenType): number {
  return precedence.get(type) ?? 0;
}
