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
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as Chevrotain from "chevrotain";

async function load(): Promise<typeof Chevrotain> {
  try {
    const entry = createRequire(import.meta.url).resolve("chevrotain");
    return (await import(pathToFileURL(join(dirname(entry), "..", "chevrotain.mjs")).href)) as typeof Chevrotain;
  } catch {
    return await import("chevrotain");
  }
}

const chevrotain = await load();

export const createToken: typeof Chevrotain.createToken = chevrotain.createToken;
export const Lexer: typeof Chevrotain.Lexer = chevrotain.Lexer;
export const CstParser: typeof Chevrotain.CstParser = chevrotain.CstParser;
export const LLkLookaheadStrategy: typeof Chevrotain.LLkLookaheadStrategy = chevrotain.LLkLookaheadStrategy;
