/**
 * `simulate --thesis`: runs the preset of each thesis table and sets the
 * model beside the thesis cell by cell — the thesis's value, the model's
 * mean and 95 % confidence interval, the change against both baselines
 * (the thesis's own, one static row pooled over all lengths, and static at
 * the same length, which only the model has) and a verdict per cell.
 */
import type { CompiledPolicySet } from "../../grammar/compile-types.js";
import { runSweep, type SweepRow } from "./sweep.js";
import { STATIC_WORKLOAD_ITERATIONS, thesisScenario } from "./scenario.js";
import { scaledTo100, THESIS_TABLES, type ThesisBenchmark, type ThesisCells, type ThesisRow, type ThesisTable } from "./thesis-tables.js";

export type Verdict = "match" | "direction" | "disagree";
export const CELLS = ["runs", "vm_pct", "dom0_pct", "idle_pct", "engine_pct"] as const;
export type Cell = (typeof CELLS)[number];

/**
 * What "match" means, per cell: runs within 2 % of the thesis's value; the
 * percent columns within 1 point (engine% within 0.03) of the thesis's row
 * scaled to sum to 100 % — the model's shares of the physical cores sum to
 * 100, the thesis's to 102.8–109.3 % "because hyperthreading was turned on".
 * "direction": outside that, but the change against the baseline (the
 * thesis's static row) has the same sign in model and thesis.
 */
export const TOLERANCE: Readonly<Record<Cell, { readonly relative?: number; readonly points?: number }>> = {
  runs: { relative: 0.02 },
  vm_pct: { points: 1 },
  dom0_pct: { points: 1 },
  idle_pct: { points: 1 },
  engine_pct: { points: 0.03 },
};

export interface ModelCells extends ThesisCells {
  readonly migrations: number;
}

export interface ComparisonRow {
  readonly label: string;
  readonly benchmark: ThesisBenchmark;
  /** null: a static workload (nine busy) or the pooled static row. */
  readonly iterations: number | null;
  readonly policy: string;
  readonly thesis: ThesisCells;
  /** The thesis's percent cells scaled so the row sums to 100 (what the verdicts compare). */
  readonly thesis_scaled: ThesisCells;
  readonly model: ModelCells;
  readonly model_ci95: Readonly<Record<keyof ModelCells, readonly [number, number]>>;
  /** Change in runs against the thesis's baseline row (pooled static; for Tables 5.1–5.4 and 6.1 the no-engine row), percent. */
  readonly vs_pooled_static: { readonly thesis: number | null; readonly model: number | null };
  /** Change in runs against the model's static placement at the same length (the thesis has none), percent. */
  readonly vs_same_length_static: { readonly model: number | null };
  readonly verdict: Readonly<Record<Cell, Verdict>>;
}

export interface ComparisonTable {
  readonly table: string;
  readonly title: string;
  readonly benchmark: ThesisBenchmark | "all";
  readonly pages: string;
  readonly repeats: number;
  readonly seed: number;
  readonly rows: readonly ComparisonRow[];
  readonly notes: readonly string[];
}

export interface CompareOptions {
  readonly cslb: CompiledPolicySet;
  readonly repeats: number;
  readonly seed: number;
  readonly onProgress?: () => void;
}

/** Runs the presets the tables need (each once) and compares. */
export function compareTables(tables: readonly ThesisTable[], options: CompareOptions): ComparisonTable[] {
  const cache = new Map<string, SweepRow[]>();
  const sweep = (benchmark: ThesisBenchmark, kind: "overhead" | "dynamic", iterations: readonly number[]) => {
    const key = `${benchmark}/${kind}`;
    let rows = cache.get(key);
    if (!rows) {
      rows = runSweep({
        scenario: thesisScenario(benchmark, kind === "overhead" ? 9 : 8),
        contestants: [
          { name: "static", set: null },
          { name: "cslb", set: options.cslb },
        ],
        iterations,
        repeats: options.repeats,
        seed: options.seed,
        onProgress: options.onProgress,
      });
      cache.set(key, rows);
    }
    return rows;
  };
  return tables.map((table) => {
    const benchmarks = [...new Set(table.rows.map((r) => r.benchmark))];
    const rows: ComparisonRow[] = [];
    for (const benchmark of benchmarks) {
      const thesisRows = table.rows.filter((r) => r.benchmark === benchmark);
      const lengths = table.kind === "overhead" ? [STATIC_WORKLOAD_ITERATIONS] : thesisRows.flatMap((r) => (r.iterations === null ? [] : [r.iterations]));
      rows.push(...compareRows(thesisRows, sweep(benchmark, table.kind, lengths), table.kind));
    }
    return {
      table: table.id,
      title: table.title,
      benchmark: benchmarks.length === 1 ? benchmarks[0]! : "all",
      pages: table.pages,
      repeats: options.repeats,
      seed: options.seed,
      rows,
      notes: table.notes,
    };
  });
}

function compareRows(thesisRows: readonly ThesisRow[], sweep: readonly SweepRow[], kind: "overhead" | "dynamic"): ComparisonRow[] {
  const thesisBase = thesisRows.find((r) => !r.engine)!;
  const statics = sweep.filter((r) => r.policy === "static");
  const modelBase = pool(statics);
  return thesisRows.map((t) => {
    const length = kind === "overhead" ? STATIC_WORKLOAD_ITERATIONS : t.iterations;
    const policy = t.engine ? "cslb" : "static";
    const m = length === null ? modelBase : modelCells(sweep.find((r) => r.policy === policy && r.iterations === length)!);
    const sameLength = length === null ? null : sweep.find((r) => r.policy === "static" && r.iterations === length)!;
    const scaled = scale(t);
    const baseScaled = scale(thesisBase);
    const verdict = Object.fromEntries(
      CELLS.map((c) => [c, judge(c, scaled[c], m.model[c], t.engine ? { thesis: baseScaled[c], model: modelBase.model[c] } : null)]),
    ) as Record<Cell, Verdict>;
    return {
      label: t.label,
      benchmark: t.benchmark,
      iterations: kind === "overhead" ? null : t.iterations,
      policy,
      thesis: pick(t),
      thesis_scaled: scaled,
      model: m.model,
      model_ci95: m.ci,
      vs_pooled_static: t.engine ? { thesis: change(t.runs, thesisBase.runs), model: change(m.model.runs, modelBase.model.runs) } : { thesis: null, model: null },
      vs_same_length_static: { model: t.engine && sameLength ? change(m.model.runs, sameLength.runs) : null },
      verdict,
    };
  });
}

interface ModelSummary {
  readonly model: ModelCells;
  readonly ci: Record<keyof ModelCells, readonly [number, number]>;
}

const KEYS = ["runs", "vm_pct", "dom0_pct", "idle_pct", "engine_pct", "migrations"] as const;

function modelCells(r: SweepRow): ModelSummary {
  const model = Object.fromEntries(KEYS.map((k) => [k, r[k]])) as unknown as ModelCells;
  const ci = Object.fromEntries(KEYS.map((k) => [k, [round(r[k] - r.ci95[k], 1000), round(r[k] + r.ci95[k], 1000)] as const])) as ModelSummary["ci"];
  return { model, ci };
}

/** The model's static rows pooled over lengths, as the thesis pools its static tests: the mean of the rows; CI half-widths combine as independent means. */
function pool(rows: readonly SweepRow[]): ModelSummary {
  const n = rows.length;
  const model = Object.fromEntries(KEYS.map((k) => [k, round(rows.reduce((a, r) => a + r[k], 0) / n, 1000)])) as unknown as ModelCells;
  const ci = Object.fromEntries(
    KEYS.map((k) => {
      const hw = Math.sqrt(rows.reduce((a, r) => a + r.ci95[k] ** 2, 0)) / n;
      return [k, [round(model[k] - hw, 1000), round(model[k] + hw, 1000)] as const];
    }),
  ) as ModelSummary["ci"];
  return { model, ci };
}

/** A thesis row's cells scaled to sum to 100 (what the verdicts compare), rounded for the output. */
function scale(t: ThesisCells): ThesisCells {
  const x = scaledTo100(t);
  return { runs: x.runs, vm_pct: round(x.vm_pct), dom0_pct: round(x.dom0_pct), idle_pct: round(x.idle_pct), engine_pct: round(x.engine_pct, 1000) };
}

/** The verdict on one cell (see TOLERANCE); `base` is the baseline row's value in thesis and model, null for the baseline row itself. */
export function judge(cell: Cell, thesis: number, model: number, base: { thesis: number; model: number } | null): Verdict {
  const tol = TOLERANCE[cell];
  const limit = tol.relative !== undefined ? tol.relative * Math.abs(thesis) : tol.points!;
  if (Math.abs(model - thesis) <= limit + 1e-9) return "match";
  if (base !== null && Math.sign(round(thesis - base.thesis)) === Math.sign(round(model - base.model))) return "direction";
  return "disagree";
}

const pick = (t: ThesisCells): ThesisCells => ({ runs: t.runs, vm_pct: t.vm_pct, dom0_pct: t.dom0_pct, idle_pct: t.idle_pct, engine_pct: t.engine_pct });
const change = (x: number, base: number) => (base === 0 ? null : round((100 * (x - base)) / base));
const round = (x: number, k = 100) => Math.round(x * k) / k;

/** The tables named by `--thesis`: one id, or every table for "all". */
export function selectTables(which: string): ThesisTable[] | null {
  if (which === "all") return [...THESIS_TABLES];
  const t = THESIS_TABLES.find((x) => x.id === which);
  return t ? [t] : null;
}
