/**
 * Every cell of Wilcox (2009), Tables 5.1–5.8 and 6.1, transcribed from
 * /work/shared/reference/wilcox-2009-dynamic-load-balancing-xen.txt — the
 * one place the thesis's numbers live: `simulate --thesis` compares with
 * them, the calibration reads its inputs from them, and
 * docs/thesis-comparison.md is generated from them. Cells are as printed
 * (percent columns without the "%"); oddities of the source are kept and
 * named in each table's `notes`, never corrected.
 *
 * Pages: see `PAGES_NOTE` — why each table's `pages` is a range.
 */

/**
 * Why `pages` is a range and not a table's own page. The reference text was
 * searched for page evidence and has none: no form feeds, no running page
 * numbers or headers, no list of tables — only the table of contents, which
 * gives the page where each section starts. So `pages` is the range of the
 * section that holds the table (from its first page to the page before the
 * next section: 5.1 p. 29, 5.2 p. 31, 5.3 p. 35, chapter 6 p. 41, 6.3 p. 45,
 * 6.4 p. 47); the table is on one of those pages. Tables 5.6–5.8 come after
 * the heading of 5.3 in the text (floats placed after the section they are
 * cited from), hence 35–40.
 */
export const PAGES_NOTE =
  "Pages are ranges: the reference text has no page breaks, page numbers or list of tables, only the table of contents, " +
  "so each table's pages are those of the section that holds it (from the contents: 5.1 p. 29, 5.2 p. 31, 5.3 p. 35, 6.3 p. 45, 6.4 p. 47).";

export type ThesisBenchmark = "gap" | "gcc" | "mesa" | "vpr";
export const THESIS_BENCHMARKS: readonly ThesisBenchmark[] = ["gap", "gcc", "mesa", "vpr"];

/** The columns the thesis reports; percent of CPU, as printed. */
export interface ThesisCells {
  readonly runs: number;
  readonly vm_pct: number;
  readonly dom0_pct: number;
  readonly idle_pct: number;
  readonly engine_pct: number;
}

export interface ThesisRow extends ThesisCells {
  /** The row's (or column's) heading in the thesis. */
  readonly label: string;
  readonly benchmark: ThesisBenchmark;
  /** Runs per VM before another takes over; null for a static workload (nine busy) or the pooled static row. */
  readonly iterations: number | null;
  /** Policy engine on (dynamic balancing) or off (static placement). */
  readonly engine: boolean;
}

export type ThesisTableId = "5.1" | "5.2" | "5.3" | "5.4" | "5.5" | "5.6" | "5.7" | "5.8" | "6.1";

export interface ThesisTable {
  readonly id: ThesisTableId;
  readonly title: string;
  /** overhead: static workload, nine busy VMs, engine on/off; dynamic: eight of nine busy, a sweep of iterations plus the pooled static row. */
  readonly kind: "overhead" | "dynamic";
  readonly section: string;
  readonly pages: string;
  readonly rows: readonly ThesisRow[];
  readonly notes: readonly string[];
}

const cells = (runs: number, vm_pct: number, dom0_pct: number, idle_pct: number, engine_pct: number): ThesisCells => ({ runs, vm_pct, dom0_pct, idle_pct, engine_pct });

/** Tables 5.1–5.4: two columns, "X with Policy Engine" and "X without Policy Engine"; rows VM, Domain0, Idle, Policy Engine, Completed Benchmarks. */
function overhead(id: ThesisTableId, n: number, name: string, column: string, benchmark: ThesisBenchmark, on: ThesisCells, off: ThesisCells, notes: string[] = []): ThesisTable {
  return {
    id,
    title: `Benchmarks Measuring Overhead #${n}: ${name}`,
    kind: "overhead",
    section: "5.1 Determining Policy Engine Overhead",
    pages: "29–31",
    rows: [
      { label: `${column} with Policy Engine`, benchmark, iterations: null, engine: true, ...on },
      { label: `${column} without Policy Engine`, benchmark, iterations: null, engine: false, ...off },
    ],
    notes,
  };
}

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

/** Tables 5.5–5.8: one row per length ("N Iteration(s)") with the engine on, then "No Policy Engine" pooled over all lengths. */
function dynamic(id: ThesisTableId, n: number, name: string, benchmark: ThesisBenchmark, pages: string, sweep: [number, ThesisCells][], pooled: ThesisCells, notes: string[]): ThesisTable {
  return {
    id,
    title: `Benchmarks Measuring Dynamic Workloads #${n}: ${name}`,
    kind: "dynamic",
    section: id === "5.5" ? "5.2 Dynamic Load Balancing Benchmarks" : "5.2 Dynamic Load Balancing Benchmarks (printed after 5.3)",
    pages,
    rows: [
      ...sweep.map(([iterations, c]) => ({ label: `${iterations} Iteration${iterations === 1 ? "" : "s"}`, benchmark, iterations, engine: true, ...c })),
      { label: "No Policy Engine", benchmark, iterations: null, engine: false, ...pooled },
    ],
    notes,
  };
}

const POOLED_NOTE =
  "The \"No Policy Engine\" row is one static row averaged over all of the table's tests, every length pooled (\"averaged for all of our tests\", §5.2); the thesis compares every dynamic row with it, and gives no static row per length nor the number of tests behind each row.";

export const THESIS_TABLES: readonly ThesisTable[] = [
  overhead("5.1", 1, "Gap Benchmark", "Gap", "gap", cells(243.406, 94.514, 7.107, 1.226, 0.085), cells(247.603, 96.274, 6.352, 0.768, 0.0), [
    "Columns do not sum to 100% \"because hyperthreading was turned on\" (§5.1): 102.93% with the engine, 103.39% without.",
    "ANOVA: the chance that both groups are equal is under 0.0001%.",
  ]),
  overhead("5.2", 2, "GCC Benchmark", "GCC", "gcc", cells(437.25, 94.37, 6.543, 0.56, 0.069), cells(438.6, 94.577, 6.25, 0.564, 0.0), ["ANOVA 16.7% (\"fewer total benchmark runs with this test\")."]),
  overhead("5.3", 3, "Mesa Benchmark", "Mesa", "mesa", cells(206.0, 95.41, 6.802, 1.137, 0.058), cells(209.0, 96.937, 6.324, 0.523, 0.0), ["ANOVA 7.1%."]),
  overhead("5.4", 4, "VPR benchmark", "Vpr", "vpr", cells(217.25, 95.343, 6.652, 1.287, 0.064), cells(218.625, 96.097, 6.321, 1.56, 0.0), [
    "ANOVA 2.0%; over all four overhead tables (MANOVA) under 0.0007%; \"on average we completed 1% fewer benchmarks\" with the engine.",
    "Idle% is lower with the engine than without (1.287 vs 1.560), unlike Tables 5.1–5.3.",
  ]),
  dynamic(
    "5.5",
    1,
    "Gap Benchmark",
    "gap",
    "31–35",
    [
      [1, cells(222.7, 82.03, 12.58, 8.32, 0.18)],
      [2, cells(229.7, 86.12, 11.07, 5.76, 0.07)],
      [4, cells(236.9, 90.38, 9.98, 3.36, 0.09)],
      [8, cells(239.9, 92.43, 7.97, 2.13, 0.08)],
      [16, cells(241.8, 93.73, 7.22, 1.52, 0.08)],
      [32, cells(242.7, 94.03, 7.24, 1.42, 0.09)],
      [64, cells(242.4, 93.95, 7.16, 1.27, 0.08)],
      [128, cells(242.3, 93.97, 7.11, 1.53, 0.08)],
      [256, cells(242.2, 93.83, 7.23, 1.5, 0.08)],
      [512, cells(243.5, 94.4, 7.04, 1.29, 0.09)],
    ],
    cells(234.96, 90.49, 8.55, 3.8, 0.0),
    [POOLED_NOTE, "The pooled static row is printed with two decimals (234.96), the others with one."],
  ),
  dynamic(
    "5.6",
    2,
    "Mesa benchmark",
    "mesa",
    "35–40",
    [
      [1, cells(191.5, 85.45, 11.95, 6.94, 0.05)],
      [4, cells(199.0, 91.05, 8.11, 2.92, 0.05)],
      [8, cells(200.0, 94.05, 7.33, 1.4, 0.06)],
      [16, cells(200.0, 92.97, 7.53, 2.49, 0.06)],
      [32, cells(204.0, 94.67, 6.47, 1.48, 0.06)],
      [64, cells(204.0, 95.23, 6.64, 1.19, 0.06)],
      [128, cells(200.0, 94.54, 6.54, 1.12, 0.06)],
      [256, cells(202.0, 95.54, 6.87, 1.28, 0.06)],
      [512, cells(204.0, 95.01, 6.81, 1.31, 0.06)],
    ],
    cells(199.9, 92.65, 7.55, 3.29, 0.0),
    [POOLED_NOTE, "No 2-iteration row.", "The 512-iteration Idle cell is printed \"1.31\" without a \"%\"."],
  ),
  dynamic(
    "5.7",
    3,
    "Vpr benchmark",
    "vpr",
    "35–40",
    [
      [1, cells(205.5, 85.87, 16.81, 6.5, 0.07)],
      [2, cells(208.5, 88.54, 9.42, 4.81, 0.07)],
      [4, cells(212.4, 90.41, 8.96, 3.75, 0.1)],
      [8, cells(216.3, 93.36, 7.4, 1.92, 0.08)],
      [16, cells(216.8, 94.31, 6.77, 1.0, 0.08)],
      [32, cells(216.8, 94.76, 6.99, 1.24, 0.08)],
      [64, cells(219.0, 94.5, 7.01, 1.83, 0.08)],
      [128, cells(218.5, 94.48, 7.07, 1.67, 0.08)],
      [256, cells(218.3, 94.77, 6.73, 1.04, 0.08)],
      [512, cells(217.5, 93.97, 7.3, 1.75, 0.08)],
    ],
    cells(210.2, 91.21, 7.92, 3.9, 0.0),
    [POOLED_NOTE, "The Dom0 column is headed \"Dom0\" (no \"%\").", "At 1 iteration the row sums to 109.25% (Dom0 16.81%), far above every other row's ~103%."],
  ),
  dynamic(
    "5.8",
    4,
    "Gcc benchmark",
    "gcc",
    "35–40",
    [
      [1, cells(401.5, 85.87, 12.45, 7.83, 0.06)],
      [2, cells(407.5, 88.54, 11.25, 6.64, 0.06)],
      [4, cells(422.5, 90.41, 9.88, 4.43, 0.1)],
      [8, cells(432.5, 93.36, 8.58, 2.74, 0.06)],
      [16, cells(444.0, 94.31, 7.06, 1.02, 0.07)],
      [32, cells(444.5, 94.76, 6.83, 1.03, 0.07)],
      [64, cells(447.0, 94.5, 6.64, 0.68, 0.07)],
      [128, cells(445.5, 94.48, 6.86, 0.79, 0.07)],
      [256, cells(447.0, 94.77, 6.6, 0.62, 0.07)],
      [512, cells(439.0, 93.97, 6.94, 0.99, 0.07)],
    ],
    cells(420.2, 91.21, 7.96, 4.35, 0.0),
    [
      POOLED_NOTE,
      "The VM% column repeats Table 5.7's (vpr) cell for cell, the pooled static row included (91.21): almost certainly a copy error in the source, so this column is not evidence about gcc; verdicts on it are reported but marked.",
      "The Dom0 column is headed \"Dom0\" (no \"%\").",
    ],
  ),
  {
    id: "6.1",
    title: "Benchmarks Measuring Static Workloads",
    kind: "overhead",
    section: "6.3 Actual Results",
    pages: "45–47",
    rows: (
      [
        ["gap", cells(243.4, 94.51, 7.11, 1.23, 0.09), cells(247.6, 96.27, 6.35, 0.77, 0.0)],
        ["gcc", cells(437.3, 94.37, 6.54, 0.56, 0.07), cells(438.6, 94.58, 6.25, 0.56, 0.0)],
        ["mesa", cells(206.0, 95.41, 6.8, 1.14, 0.06), cells(209.0, 96.94, 6.32, 0.52, 0.0)],
        ["vpr", cells(217.3, 95.34, 6.65, 1.29, 0.06), cells(218.6, 96.1, 6.32, 1.56, 0.0)],
      ] as [ThesisBenchmark, ThesisCells, ThesisCells][]
    ).flatMap(([benchmark, on, off]) => [
      { label: `${cap(benchmark)} - Policy`, benchmark, iterations: null, engine: true, ...on },
      { label: `${cap(benchmark)} - No Policy`, benchmark, iterations: null, engine: false, ...off },
    ]),
    notes: [
      "Tables 5.1–5.4 again, rounded to one decimal (runs) and two (percent).",
      "§6.3: \"Even with static workloads, the policy engine will periodically detect a 'load imbalance', with multiple workloads ending at the same time on the same host\" — spurious migrations; \"spurious migrations had no statistical impact on the percentage of the CPU used by Dom0\". No migration counts are given in any table.",
    ],
  },
];

/** A table by id, or undefined. */
export function thesisTable(id: string): ThesisTable | undefined {
  return THESIS_TABLES.find((t) => t.id === id);
}

/** The no-engine row of a benchmark's static workload (Tables 5.1–5.4, the inputs of the calibration). */
export function staticNoEngineRow(benchmark: ThesisBenchmark): ThesisRow {
  const table = THESIS_TABLES.find((t) => t.kind === "overhead" && t.id !== "6.1" && t.rows[0]!.benchmark === benchmark)!;
  return table.rows.find((r) => !r.engine)!;
}

/** The pooled static row ("No Policy Engine") of a benchmark's dynamic table. */
export function pooledStaticRow(benchmark: ThesisBenchmark): ThesisRow {
  const table = THESIS_TABLES.find((t) => t.kind === "dynamic" && t.rows[0]!.benchmark === benchmark)!;
  return table.rows.find((r) => !r.engine)!;
}

/**
 * A row's cells with the percent columns scaled to sum to 100: the thesis's
 * rows sum to 102.8–109.3 % ("because hyperthreading was turned on"), the
 * model's shares of the physical cores to 100.
 */
export function scaledTo100(t: ThesisCells): ThesisCells {
  const f = 100 / (t.vm_pct + t.dom0_pct + t.idle_pct + t.engine_pct);
  return { runs: t.runs, vm_pct: t.vm_pct * f, dom0_pct: t.dom0_pct * f, idle_pct: t.idle_pct * f, engine_pct: t.engine_pct * f };
}
