/**
 * `parse_memory`: the heap a parse leaves behind (its AST and diagnostics,
 * with everything else collected), per source byte, for a policy file just
 * under the 1 MiB `max_policy_bytes` cap: what a reload of a set of such
 * files holds. Goal (issue 11): tens of bytes per source byte.
 */
import { parsePolicy } from "../grammar/parse.js";
import { elapsedMs, fullGc, round, type Benchmark } from "./api.js";
import { generatePolicy } from "./check.js";

const CAP = 1024 * 1024;

/** The generated policies of `check_2k` run together under one `policy` line, up to `bytes`. */
export function largePolicy(bytes: number): string {
  let text = generatePolicy(0);
  for (let n = 1; ; n++) {
    const more = generatePolicy(n).replace(`policy gen${n}\n`, "");
    if (text.length + more.length > bytes) return text;
    text += more;
  }
}

const bench: Benchmark = {
  name: "parse_memory",
  description: "heap kept by parsing a ~1 MiB policy file, per source byte (goal: tens of bytes)",
  async run() {
    // A full collection before and after.
    const gc = fullGc();
    const text = largePolicy(CAP);
    parsePolicy("policy warm\nlet x = 1\n", "warm.policy");
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    let result!: ReturnType<typeof parsePolicy>;
    const ms = elapsedMs(() => (result = parsePolicy(text, "large.policy")));
    gc();
    gc();
    const kept = process.memoryUsage().heapUsed - before;
    if (result.ast === null) throw new Error(`parse_memory: the generated policy has errors: ${result.diagnostics[0]!.message}`);
    return {
      parse_bytes_per_source_byte: round(kept / text.length, 1),
      source_bytes: text.length,
      parse_ms: round(ms, 0),
    };
  },
};

export default bench;
