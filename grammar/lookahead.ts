/**
 * The parser's lookahead strategy: chevrotain's LL(k) choices without
 * computing them at start-up. With the paths recorded in
 * recorded-grammar-data.ts each function is built from them as chevrotain
 * builds its own (the first alternative one of whose paths the next tokens
 * follow, gates honoured); without them (under the tests) chevrotain builds
 * each function the first time its production is reached.
 */
import type { ILookaheadStrategy, TokenType } from "chevrotain";
import { LLkLookaheadStrategy } from "./chevrotain.js";
import { lookaheadKey } from "./recorded-grammar.js";

/** k of the grammar's LL(k) lookahead. */
export const MAX_LOOKAHEAD = 3;

/**
 * chevrotain's LL(k) lookahead without computing it at start-up: from the
 * recorded paths (recorded-grammar-data.ts) when given, else each function
 * built by chevrotain the first time its production is reached instead of
 * all of them in `performSelfAnalysis` (~35 ms of `vmpolicy check`'s start-up).
 */
export class LazyLookahead implements ILookaheadStrategy {
  private readonly llk = new LLkLookaheadStrategy({ maxLookahead: MAX_LOOKAHEAD });
  constructor(private readonly recorded: ReadonlyMap<string, TokenType[][][]> | null) {}
  validate(options: Parameters<ILookaheadStrategy["validate"]>[0]): ReturnType<ILookaheadStrategy["validate"]> {
    return this.llk.validate(options);
  }
  buildLookaheadForAlternation(options: Parameters<ILookaheadStrategy["buildLookaheadForAlternation"]>[0]): ReturnType<ILookaheadStrategy["buildLookaheadForAlternation"]> {
    const paths = this.recorded?.get(lookaheadKey(options.rule.name, "Alternation", options.prodOccurrence));
    if (paths !== undefined) return alternationLookahead(paths, options.hasPredicates) as ReturnType<ILookaheadStrategy["buildLookaheadForAlternation"]>;
    let built: ReturnType<ILookaheadStrategy["buildLookaheadForAlternation"]> | undefined;
    const llk = this.llk;
    return function (this: unknown, alts) {
      built ??= llk.buildLookaheadForAlternation(options);
      return built.call(this, alts);
    };
  }
  buildLookaheadForOptional(options: Parameters<ILookaheadStrategy["buildLookaheadForOptional"]>[0]): ReturnType<ILookaheadStrategy["buildLookaheadForOptional"]> {
    const paths = this.recorded?.get(lookaheadKey(options.rule.name, options.prodType, options.prodOccurrence));
    if (paths !== undefined) return optionalLookahead(paths[0]!) as ReturnType<ILookaheadStrategy["buildLookaheadForOptional"]>;
    let built: ReturnType<ILookaheadStrategy["buildLookaheadForOptional"]> | undefined;
    const llk = this.llk;
    return function (this: unknown) {
      built ??= llk.buildLookaheadForOptional(options);
      return built.call(this);
    };
  }
}

/** What a lookahead function sees of the parser: the k-th next token. */
interface Lookahead {
  LA_FAST(k: number): { tokenTypeIdx: number };
}

/** Whether `token` is of `type` or of a type in its category (chevrotain's `tokenMatcher`). */
function matches(token: { tokenTypeIdx: number }, type: TokenType): boolean {
  return token.tokenTypeIdx === type.tokenTypeIdx || (type.isParent === true && type.categoryMatchesMap![token.tokenTypeIdx] === true);
}

/** The index of the first alternative one of whose paths the next tokens follow, as chevrotain's LL(k) function chooses. */
export function alternationLookahead(paths: readonly (readonly TokenType[][])[], hasPredicates: boolean): (this: Lookahead, alts?: readonly { GATE?: () => boolean }[]) => number | undefined {
  return function (alts) {
    for (let t = 0; t < paths.length; t++) {
      const gate = hasPredicates ? alts?.[t]?.GATE : undefined;
      if (gate !== undefined && gate.call(this) === false) continue;
      if (followsOne(this, paths[t]!)) return t;
    }
    return undefined;
  };
}

/** Whether the next tokens follow one of `paths` (an optional production's way in). */
export function optionalLookahead(paths: readonly TokenType[][]): (this: Lookahead) => boolean {
  return function () {
    return followsOne(this, paths);
  };
}

function followsOne(parser: Lookahead, paths: readonly TokenType[][]): boolean {
  next: for (const path of paths) {
    for (let i = 0; i < path.length; i++) if (!matches(parser.LA_FAST(i + 1), path[i]!)) continue next;
    return true;
  }
  return false;
}
