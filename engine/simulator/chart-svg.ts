/**
 * `--chart FILE.svg`: completed runs against log2(iterations), one line per
 * policy (static included), with axes, ticks, axis titles, a legend and
 * 95 % confidence intervals of the mean as whiskers, so the chart reads
 * without the table. The title names the scenario, the repeats and the
 * seed; the thesis's own points can be marked beside the model's. Lines
 * that coincide stay visible: each policy is drawn narrower than the one
 * before it, with its own dash, and its markers are nudged sideways.
 * Plain SVG text, no dependencies.
 */
import type { SweepRow } from "./sweep.js";

const COLORS = ["#555555", "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
const DASHES = ["6 4", "", "2 3", "8 3 2 3", "1 2", "10 4", "4 4"];
const W = 760;
const H = 460;
const M = { left: 70, right: 210, top: 52, bottom: 60 };

/** A point the thesis reports, drawn as an open marker (the pooled static row as a horizontal line). */
export interface ThesisMark {
  readonly label: string;
  /** null: a row pooled over every length, drawn across the chart. */
  readonly iterations: number | null;
  readonly runs: number;
}

export interface ChartOptions {
  /** What was simulated: "thesis testbed (gap)", a scenario file's name. */
  readonly scenario: string;
  readonly repeats: number;
  readonly seed: number;
  readonly thesis?: readonly ThesisMark[];
}

/** The chart as an SVG document. */
export function renderChart(rows: readonly SweepRow[], options: ChartOptions): string {
  const policies = [...new Set(rows.map((r) => r.policy))];
  const xs = [...new Set(rows.map((r) => r.iterations))].sort((a, b) => a - b);
  const lx = xs.map((x) => Math.log2(Math.max(1, x)));
  const xMin = Math.min(...lx);
  const xMax = Math.max(...lx, xMin + 1);
  const marks = options.thesis ?? [];
  const lo = Math.min(...rows.map((r) => r.runs - r.ci95.runs), ...marks.map((m) => m.runs));
  const hi = Math.max(...rows.map((r) => r.runs + r.ci95.runs), ...marks.map((m) => m.runs));
  const [yMin, yMax, yStep] = niceRange(lo, hi);
  const px = (x: number) => M.left + ((Math.log2(Math.max(1, x)) - xMin) / (xMax - xMin)) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - ((y - yMin) / (yMax - yMin)) * (H - M.top - M.bottom);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="20" text-anchor="middle" font-size="15">Completed benchmark runs by workload length</text>`);
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="38" text-anchor="middle">${esc(`${options.scenario} — ${options.repeats} repeats, seed ${options.seed}; whiskers: 95% CI of the mean`)}</text>`);
  for (const x of xs) {
    const X = px(x).toFixed(1);
    out.push(`<line x1="${X}" y1="${H - M.bottom}" x2="${X}" y2="${H - M.bottom + 5}" stroke="black"/>`);
    out.push(`<text x="${X}" y="${H - M.bottom + 18}" text-anchor="middle">${x}</text>`);
  }
  for (let y = yMin; y <= yMax + 1e-9; y += yStep) {
    const Y = py(y).toFixed(1);
    out.push(`<line x1="${M.left}" y1="${Y}" x2="${W - M.right}" y2="${Y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 8}" y="${Y}" text-anchor="end" dominant-baseline="middle">${fmtNum(y)}</text>`);
  }
  out.push(`<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="black"/>`);
  out.push(`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="black"/>`);
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 18}" text-anchor="middle">iterations per VM before handover (log2 scale)</text>`);
  out.push(`<text transform="translate(18 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">completed runs (mean, 95% CI)</text>`);
  let legendRow = 0;
  const legend = (color: string, text: string, line: string) => {
    const ly = M.top + 4 + legendRow++ * 20;
    out.push(line.replace(/\$X1/g, String(W - M.right + 15)).replace(/\$X2/g, String(W - M.right + 40)).replace(/\$XM/g, String(W - M.right + 27.5)).replace(/\$Y/g, String(ly)));
    out.push(`<text x="${W - M.right + 46}" y="${ly}" dominant-baseline="middle">${esc(text)}</text>`);
  };
  const n = policies.length;
  policies.forEach((p, i) => {
    const color = COLORS[i % COLORS.length]!;
    const dash = DASHES[i % DASHES.length] ? ` stroke-dasharray="${DASHES[i % DASHES.length]}"` : "";
    // Earlier lines wider, later ones narrower on top: where two coincide both show.
    const width = Math.max(1.2, 1.2 + 1.1 * (n - 1 - i));
    const nudge = (i - (n - 1) / 2) * 5;
    const pts = rows.filter((r) => r.policy === p).sort((a, b) => a.iterations - b.iterations);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="${width.toFixed(1)}"${dash} points="${pts.map((r) => `${px(r.iterations).toFixed(1)},${py(r.runs).toFixed(1)}`).join(" ")}"/>`);
    for (const r of pts) {
      const X = (px(r.iterations) + nudge).toFixed(1);
      out.push(`<line x1="${X}" y1="${py(r.runs - r.ci95.runs).toFixed(1)}" x2="${X}" y2="${py(r.runs + r.ci95.runs).toFixed(1)}" stroke="${color}" stroke-width="1.5"/>`);
      out.push(`<circle cx="${X}" cy="${py(r.runs).toFixed(1)}" r="3" fill="${color}"><title>${esc(p)} @ ${r.iterations}: ${r.runs.toFixed(1)} ± ${r.ci95.runs.toFixed(1)} runs</title></circle>`);
    }
    legend(color, p, `<line x1="$X1" y1="$Y" x2="$X2" y2="$Y" stroke="${color}" stroke-width="${width.toFixed(1)}"${dash}/>`);
  });
  const pooled = marks.filter((m) => m.iterations === null);
  const points = marks.filter((m) => m.iterations !== null && xs.includes(m.iterations));
  for (const m of pooled) {
    const Y = py(m.runs).toFixed(1);
    out.push(`<line x1="${M.left}" y1="${Y}" x2="${W - M.right}" y2="${Y}" stroke="black" stroke-width="1" stroke-dasharray="1 3"><title>${esc(m.label)}: ${m.runs}</title></line>`);
    legend("black", m.label, `<line x1="$X1" y1="$Y" x2="$X2" y2="$Y" stroke="black" stroke-dasharray="1 3"/>`);
  }
  if (points.length > 0) {
    for (const m of points) {
      const X = px(m.iterations!);
      const Y = py(m.runs);
      out.push(`<path d="M${(X - 5).toFixed(1)},${Y.toFixed(1)} L${X.toFixed(1)},${(Y - 5).toFixed(1)} L${(X + 5).toFixed(1)},${Y.toFixed(1)} L${X.toFixed(1)},${(Y + 5).toFixed(1)} Z" fill="none" stroke="black" stroke-width="1.5"><title>${esc(m.label)} @ ${m.iterations}: ${m.runs}</title></path>`);
    }
    const label = points[0]!.label;
    legend("black", label, `<path d="M${"$XM"},$Y m-5,0 l5,-5 l5,5 l-5,5 z" fill="none" stroke="black" stroke-width="1.5"/>`);
  }
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

/** Round bounds and a step of 1, 2 or 5 × 10^k giving about five ticks. */
function niceRange(lo: number, hi: number): [number, number, number] {
  if (!(hi > lo)) [lo, hi] = [lo - 1, hi + 1];
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  return [Math.floor(lo / step) * step, Math.ceil(hi / step) * step, step];
}

function fmtNum(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
