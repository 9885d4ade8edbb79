/**
 * docs/thesis-comparison.md, generated: `vmpolicy simulate --thesis all
 * --markdown`. The page is made of the data the code uses — the thesis's
 * cells (thesis-tables.ts), the constants and their sources
 * (calibration.ts), the comparison and the sensitivity runs — so a reader
 * can set it beside the thesis and check every number, and re-run it.
 */
import { BENCHMARK_CONSTANTS, BENCHMARK_SOURCES, CALIBRATION, CALIBRATION_SOURCES } from "./calibration.js";
import type { ComparisonTable } from "./thesis-compare.js";
import { renderThesisMarkdown } from "./thesis-report.js";
import { renderSensitivity, type SensitivityRow } from "./sensitivity.js";
import { PAGES_NOTE, THESIS_BENCHMARKS } from "./thesis-tables.js";

export interface ThesisDocInput {
  readonly command: string;
  readonly tables: readonly ComparisonTable[];
  readonly sensitivity: readonly SensitivityRow[];
}

/** The whole page. */
export function renderThesisDoc(input: ThesisDocInput): string {
  const out: string[] = [];
  out.push("# The simulator beside the thesis, table by table", "");
  out.push(
    "Generated — do not edit by hand. Re-run:",
    "",
    "```",
    input.command,
    "```",
    "",
    "Every thesis cell below is read from `engine/simulator/thesis-tables.ts` (Wilcox 2009, Tables 5.1–5.8 and 6.1, with",
    "table and page); every model cell is a mean over seeded repeats with the half-width of its 95 % confidence interval.",
    "Dynamic rows run `policies/cslb.policy` (band 10); static rows run no engine at all.",
    PAGES_NOTE,
    "",
  );
  out.push("## Constants and assumptions", "", "| constant | value | source |", "| --- | ---: | --- |");
  for (const k of Object.keys(CALIBRATION) as (keyof typeof CALIBRATION)[]) out.push(`| \`${k}\` | ${CALIBRATION[k]} | ${CALIBRATION_SOURCES[k]} |`);
  out.push("", "Per benchmark (fitted by `engine/simulator/calibrate.ts` from rows without the engine; never from a row with the engine on):", "");
  const keys = Object.keys(BENCHMARK_SOURCES) as (keyof typeof BENCHMARK_SOURCES)[];
  out.push(`| constant | ${THESIS_BENCHMARKS.join(" | ")} | source |`, `| --- | ${THESIS_BENCHMARKS.map(() => "---:").join(" | ")} | --- |`);
  for (const k of keys) out.push(`| \`${k}\` | ${THESIS_BENCHMARKS.map((b) => BENCHMARK_CONSTANTS[b][k]).join(" | ")} | ${BENCHMARK_SOURCES[k]} |`);
  out.push("");
  out.push("## Table by table", "", renderThesisMarkdown(input.tables));
  const overhead = input.tables.filter((t) => ["5.1", "5.2", "5.3", "5.4"].includes(t.table));
  if (overhead.length > 0) {
    out.push("## Spurious migrations on static workloads (thesis 6.3)", "");
    out.push(
      "The thesis: \"Even with static workloads, the policy engine will periodically detect a 'load imbalance', with multiple",
      "workloads ending at the same time on the same host\". In the model the facts are what `xentop` computes — each VM's CPU",
      "time over the interval divided by the interval — so a VM between two runs (`runGap`) shows a dip, and two dips on one host",
      "in one interval can make CSLB see an imbalance. Migrations per simulated hour with the engine on, nine busy VMs:",
      "",
      "| benchmark | migrations per hour (mean ± 95% CI) | run gap (s) |",
      "| --- | ---: | ---: |",
    );
    for (const t of overhead) {
      const r = t.rows.find((x) => x.policy === "cslb")!;
      const [lo, hi] = r.model_ci95.migrations;
      out.push(`| ${r.benchmark} | ${r.model.migrations.toFixed(2)} ± ${((hi - lo) / 2).toFixed(2)} | ${BENCHMARK_CONSTANTS[r.benchmark].runGap} |`);
    }
    out.push("");
  }
  if (input.sensitivity.length > 0) {
    out.push("## Sensitivity: which assumptions move the result", "");
    out.push(
      "The gap preset with one assumption changed at a time; CSLB against static placement at the same length, on the same",
      "seeds (paired), mean ± 95% CI of the difference in runs:",
      "",
      renderSensitivity(input.sensitivity),
    );
  }
  return out.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}
