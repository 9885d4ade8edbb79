/**
 * `facts_10k`: reading, parsing and validating the 10,000-host / 200,000-VM
 * snapshot of `plan_10k` from a file, as `vmpolicy plan --facts` does
 * (`factsText` of the file's bytes, then `parseFactsJson`), beside
 * `JSON.parse` of the same text in the same run.
 * Goal: ≤ 1.5× `JSON.parse`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { factsText, parseFactsJson } from "../engine/plan/facts.js";
import { median, round, type Benchmark } from "./api.js";
import { generateFacts } from "./plan.js";

const bench: Benchmark = {
  name: "facts_10k",
  description: "read + parse + validate a 10,000-host snapshot vs JSON.parse of the same bytes (goal ≤ 1.5×)",
  async run() {
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-bench-facts-"));
    try {
      const file = join(dir, "facts-10k.json");
      writeFileSync(file, JSON.stringify(generateFacts()));
      const text = readFileSync(file, "utf8");
      const full: number[] = [];
      const parse: number[] = [];
      const ratios: number[] = [];
      for (let i = 0; i < 9; i++) {
        let start = process.hrtime.bigint();
        const r = parseFactsJson(factsText(readFileSync(file)), file);
        const f = Number(process.hrtime.bigint() - start) / 1e6;
        if (!r.ok) throw new Error(`facts_10k: ${r.errors[0]!.path}: ${r.errors[0]!.message}`);
        start = process.hrtime.bigint();
        JSON.parse(text);
        const p = Number(process.hrtime.bigint() - start) / 1e6;
        // The first two rounds warm the JIT and the file cache.
        if (i < 2) continue;
        full.push(f);
        parse.push(p);
        ratios.push(f / p);
      }
      return {
        facts_10k_ms: round(median(full), 1),
        json_parse_ms: round(median(parse), 1),
        ratio: round(median(ratios), 2),
        bytes: Buffer.byteLength(text),
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
