/**
 * The human forms of `simulate --thesis`: a fixed-width text table per
 * thesis table for the terminal, and the same as Markdown for
 * docs/thesis-comparison.md. Each cell shows the thesis's value as printed,
 * the model's mean ± the half-width of its 95 % confidence interval, and a
 * verdict mark: `=` within tolerance, `~` direction only, `✗` disagrees.
 */
import { CELLS, TOLERANCE, type ComparisonRow, type ComparisonTable, type Verdict } from "./thesis-compare.js";

const MARK: Record<Verdict, string> = { match: "=", direction: "~", disagree: "✗" };
const HEAD = ["row", "runs thesis", "model ±95%", "", "vs pooled static thesis", "model", "vs same-length static", "VM% thesis", "model", "", "Dom0% thesis", "model", "", "Idle% thesis", "model", "", "engine% thesis", "model", "", "migrations"];

function cellsOf(r: ComparisonRow): string[] {
  const pm = (k: keyof ComparisonRow["model"], digits: number) => {
    const [lo, hi] = r.model_ci95[k];
    return `${r.model[k].toFixed(digits)} ±${((hi - lo) / 2).toFixed(digits)}`;
  };
  const pct = (x: number | null) => (x === null ? "" : `${x >= 0 ? "+" : ""}${x.toFixed(1)}%`);
  const out = [r.label, r.thesis.runs.toFixed(r.thesis.runs % 1 === 0 ? 1 : String(r.thesis.runs).split(".")[1]!.length), pm("runs", 1), MARK[r.verdict.runs]];
  out.push(pct(r.vs_pooled_static.thesis), pct(r.vs_pooled_static.model), pct(r.vs_same_length_static.model));
  for (const c of ["vm_pct", "dom0_pct", "idle_pct", "engine_pct"] as const) {
    const digits = c === "engine_pct" ? 3 : 2;
    out.push(String(r.thesis[c]), pm(c, digits), MARK[r.verdict[c]]);
  }
  out.push(pm("migrations", 1));
  return out;
}

function heading(t: ComparisonTable): string {
  return `Table ${t.table}: ${t.title} (${t.benchmark}; thesis pp. ${t.pages}) — model: ${t.repeats} repeats, seed ${t.seed}`;
}

/** Fixed-width text, one block per table. */
export function renderThesisText(tables: readonly ComparisonTable[]): string {
  const blocks = tables.map((t) => {
    const lines = t.rows.map(cellsOf);
    const head = HEAD;
    const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
    const fmt = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
    return [heading(t), fmt(head), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(fmt)].join("\n");
  });
  return blocks.join("\n\n") + "\n\n" + legend() + "\n";
}

/** Markdown tables, one per thesis table, with its notes. */
export function renderThesisMarkdown(tables: readonly ComparisonTable[]): string {
  const out: string[] = [];
  for (const t of tables) {
    out.push(`### ${heading(t)}`, "");
    out.push(`| ${HEAD.map((h) => h || "v").join(" | ")} |`, `| ${HEAD.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`);
    for (const r of t.rows) out.push(`| ${cellsOf(r).join(" | ")} |`);
    out.push("");
    for (const n of t.notes) out.push(`- ${n}`);
    out.push("");
  }
  out.push(legend());
  return out.join("\n") + "\n";
}

/** What the marks and tolerances mean (from TOLERANCE, so the text cannot drift from the code). */
export function legend(): string {
  const tol = CELLS.map((c) => `${c} ${TOLERANCE[c].relative !== undefined ? `±${TOLERANCE[c].relative! * 100}%` : `±${TOLERANCE[c].points} point${TOLERANCE[c].points === 1 ? "" : "s"}`}`).join(", ");
  return (
    `Verdicts: "=" within tolerance (${tol}; percent cells against the thesis's row scaled to sum to 100%), ` +
    `"~" direction only (outside tolerance, but the change against the thesis's static row has the same sign in model and thesis), "✗" disagrees. ` +
    `"vs pooled static": runs against the thesis's baseline — one static row pooled over every length (Tables 5.5–5.8), or the no-engine column (5.1–5.4, 6.1); ` +
    `the model's pooled static is the mean of its static rows over the same lengths. "vs same-length static": against the model's static placement at that length (the thesis has no such row). ` +
    `Model cells: mean ± half-width of the 95% confidence interval of the mean (Student's t). The thesis reports no migration counts.`
  );
}
