/**
 * `vmpolicy simulate --thesis [TABLE]` (SPEC 7): the preset of each thesis
 * table, run with CSLB and static placement, set beside the thesis's cells;
 * `--json` gives the rows, `--markdown` the whole of
 * docs/thesis-comparison.md (with the sensitivity runs).
 */
import { readFile } from "node:fs/promises";
import { loadPolicySet } from "../../engine/policy/set.js";
import type { CompiledPolicySet } from "../../grammar/compile-types.js";
import { runSensitivity, sensitivityVariants } from "../../engine/simulator/sensitivity.js";
import { compareTables, selectTables } from "../../engine/simulator/thesis-compare.js";
import { renderThesisDoc } from "../../engine/simulator/thesis-doc.js";
import { renderThesisText } from "../../engine/simulator/thesis-report.js";

export interface ThesisOptions {
  readonly which: string;
  readonly repeats: number;
  readonly seed: number;
  readonly json: boolean;
  readonly markdown: boolean;
  /** The policy the dynamic rows run (default policies/cslb.policy, the thesis's algorithm). */
  readonly policy: string;
}

const CSLB_BANDS_FOR_SENSITIVITY = [5, 20];

/** Runs the comparison; returns the exit status. */
export async function runThesis(options: ThesisOptions): Promise<number> {
  const tables = selectTables(options.which);
  if (tables === null) {
    process.stderr.write(`vmpolicy simulate: --thesis: no table "${options.which}" (known: 5.1 5.2 5.3 5.4 5.5 5.6 5.7 5.8 6.1 all)\n`);
    return 2;
  }
  let text: string;
  try {
    text = await readFile(options.policy, "utf8");
  } catch (err) {
    process.stderr.write(`vmpolicy simulate: cannot read ${options.policy}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    return 2;
  }
  const sets: CompiledPolicySet[] = [];
  const load = async (params: string[]) => {
    const loaded = await loadPolicySet([{ file: options.policy, text }], { params });
    if (loaded.set === null) throw new Error(loaded.diagnostics.map((d) => d.message).join("; "));
    sets.push(loaded.set);
    return loaded.set;
  };
  try {
    const cslb = await load([]);
    const compared = compareTables(tables, { cslb, repeats: options.repeats, seed: options.seed });
    if (options.markdown) {
      const bands = new Map<number, CompiledPolicySet>();
      for (const band of CSLB_BANDS_FOR_SENSITIVITY) bands.set(band, await load([`band=${band}`]));
      const sensitivity = runSensitivity(sensitivityVariants(cslb, bands), options.repeats, options.seed);
      const command = `vmpolicy simulate --thesis ${options.which} --markdown --repeat ${options.repeats} --seed ${options.seed} > docs/thesis-comparison.md`;
      process.stdout.write(renderThesisDoc({ command, tables: compared, sensitivity }));
    } else if (options.json) {
      process.stdout.write(JSON.stringify({ tables: compared }, null, 2) + "\n");
    } else {
      process.stdout.write(renderThesisText(compared));
    }
    return 0;
  } catch (err) {
    process.stderr.write(`vmpolicy simulate: ${options.policy}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    for (const s of sets) s.dispose();
  }
}
