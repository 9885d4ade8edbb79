/**
 * `facts_10k`: reading, parsing and validating the 10,000-host / 200,000-VM
 * snapshot of `plan_10k` from a file, as `vmpolicy plan --facts` does
 * (`readFactsFile`), beside `JSON.parse` of the same text in the same run.
 * Goal: ≤ 1.5× `JSON.parse`. Each side starts from a collected heap,
 * as a `vmpolicy plan` process does, rather than paying for the other's
 * garbage (which made the ratio swing between runs).
 *
 * Two more figures put it beside loading the file whole: `read_ms`, only
 * reading the file and making one string of it (`factsText(readFileSync(file))`,
 * what the general path pays, and the fast path's 64 KiB window does not),
 * and `read_json_parse_ms`, the plain way to load a JSON file
 * (`JSON.parse(readFileSync(file, "utf8"))`) with `ratio_vs_read_json_parse`
 * beside it: the same work but validation.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFactsFile } from "../engine/facts-file.js";
import { factsText } from "../engine/plan/facts.js";
import { elapsedMs, fullGc, median, round, type Benchmark } from "./api.js";
import { generateFacts } from "./plan.js";

const bench: Benchmark = {
  name: "facts_10k",
  description: "read + parse + validate a 10,000-host snapshot vs JSON.parse of the same bytes (goal ≤ 1.5×)",
  async run() {
    const gc = fullGc();
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-bench-facts-"));
    try {
      const file = join(dir, "facts-10k.json");
      writeFileSync(file, JSON.stringify(generateFacts()));
      const text = readFileSync(file, "utf8");
      // Each result is dropped inside its function, before the next collection.
      const timeFacts = (): number => {
        let result: ReturnType<typeof readFactsFile> | undefined;
        const ms = elapsedMs(() => (result = readFactsFile(file)));
        if (!result!.ok) throw new Error(`facts_10k: ${result!.errors[0]!.path}: ${result!.errors[0]!.message}`);
        return ms;
      };
      const timeParse = (): number => elapsedMs(() => JSON.parse(text));
      const timeRead = (): number => elapsedMs(() => factsText(readFileSync(file)));
      const timeReadParse = (): number => elapsedMs(() => JSON.parse(readFileSync(file, "utf8")));
      const full: number[] = [];
      const parse: number[] = [];
      const ratios: number[] = [];
      const read: number[] = [];
      const readParse: number[] = [];
      const readRatios: number[] = [];
      for (let i = 0; i < 9; i++) {
        gc();
        const f = timeFacts();
        gc();
        const p = timeParse();
        gc();
        const r = timeRead();
        gc();
        const rp = timeReadParse();
        // The first two rounds warm the JIT and the file cache.
        if (i < 2) continue;
        full.push(f);
        parse.push(p);
        ratios.push(f / p);
        read.push(r);
        readParse.push(rp);
        readRatios.push(f / rp);
      }
      return {
        facts_10k_ms: round(median(full), 1),
        json_parse_ms: round(median(parse), 1),
        ratio: round(median(ratios), 2),
        read_ms: round(median(read), 1),
        read_json_parse_ms: round(median(readParse), 1),
        ratio_vs_read_json_parse: round(median(readRatios), 2),
        bytes: Buffer.byteLength(text),
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
