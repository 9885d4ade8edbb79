/**
 * Where the compiler gets a stdlib function's implementation: the
 * declaration table of `stdlib/functions.ts` (the same entries the checker
 * types calls from), looked up once per call site at compile time.
 */
import { stdlibFunction } from "../stdlib/functions.js";
import type { Value } from "./compile-types.js";

type Impl = (args: readonly Value[]) => Value | undefined;

/** The implementation of stdlib function `name`; throws for a name the checker should not have accepted. */
export function resolveStdlib(name: string): Impl {
  const fn = stdlibFunction(name);
  if (fn === undefined) throw new Error(`internal: stdlib function \`${name}\` has no implementation`);
  return fn.impl;
}
