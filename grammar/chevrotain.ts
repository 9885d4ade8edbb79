/**
 * chevrotain's runtime, from the single-file build the package ships
 * (`lib/chevrotain.mjs`, the same version's code) rather than its package
 * entry, which imports lodash-es, hundreds of small ES modules: measured
 * on this (heavily loaded) machine, importing the package entry took
 * 1.1–1.5 s and the single file 0.18 s (README, "Benchmarks", start-up).
 * chevrotain is pinned (11.2.0), so the file is where this expects it;
 * should it ever be missing, the package
 * entry is used. Types still come from "chevrotain".
 */
import type * as Chevrotain from "chevrotain";

async function load(): Promise<typeof Chevrotain> {
  try {
    // The package entry is lib/src/api.js; the single file is lib/chevrotain.mjs. (`import.meta.resolve`
    // uses the loader's warm caches: a few ms less than `createRequire(…).resolve` at start-up.)
    return (await import(new URL("../chevrotain.mjs", import.meta.resolve("chevrotain")).href)) as typeof Chevrotain;
  } catch {
    return await import("chevrotain");
  }
}

const chevrotain = await load();

export const createToken: typeof Chevrotain.createToken = chevrotain.createToken;
export const Lexer: typeof Chevrotain.Lexer = chevrotain.Lexer;
export const CstParser: typeof Chevrotain.CstParser = chevrotain.CstParser;
export const LLkLookaheadStrategy: typeof Chevrotain.LLkLookaheadStrategy = chevrotain.LLkLookaheadStrategy;
export const getLookaheadPaths: typeof Chevrotain.getLookaheadPaths = chevrotain.getLookaheadPaths;
/** The grammar's production classes by name, for recorded-grammar.ts. */
export const GAST_CLASSES: Readonly<Record<string, { prototype: object }>> = {
  Alternation: chevrotain.Alternation,
  Alternative: chevrotain.Alternative,
  NonTerminal: chevrotain.NonTerminal,
  Option: chevrotain.Option,
  Repetition: chevrotain.Repetition,
  RepetitionMandatory: chevrotain.RepetitionMandatory,
  RepetitionMandatoryWithSeparator: chevrotain.RepetitionMandatoryWithSeparator,
  RepetitionWithSeparator: chevrotain.RepetitionWithSeparator,
  Rule: chevrotain.Rule,
  Terminal: chevrotain.Terminal,
};
