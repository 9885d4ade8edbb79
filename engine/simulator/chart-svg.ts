/**
 * `--chart FILE.svg`: completed runs against log2(iterations), one line per
 * policy (static included), with axes, ticks, axis titles, a legend and
 * ±sd whiskers, so the chart reads without the table. Plain SVG text, no
 * dependencies.
 */
import type { SweepRow } from "./sweep.js";

const COLORS = ["#555555", "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
const W = 720;
const H = 440;
const M = { left: 70, right: 180, top: 40, bottom: 60 };

/** The chart as an SVG document. */
export function renderChart(rows: readonly SweepRow[], title = "Completed benchmark runs by workload length"): string {
  const policies = [...new Set(rows.map((r) => r.policy))];
  const xs = [...new Set(rows.map((r) => r.iterations))].sort((a, b) => a - b);
  const lx = xs.map((x) => Math.log2(Math.max(1, x)));
  const xMin = Math.min(...lx);
  const xMax = Math.max(...lx, xMin + 1);
  const lo = Math.min(...rows.map((r) => r.runs - r.runs_sd));
  const hi = Math.max(...rows.map((r) => r.runs + r.runs_sd));
  const [yMin, yMax, yStep] = niceRange(lo, hi);
  const px = (x: number) => M.left + ((Math.log2(Math.max(1, x)) - xMin) / (xMax - xMin)) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - ((y - yMin) / (yMax - yMin)) * (H - M.top - M.bottom);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`);
  // Grid first, so the axes draw over it.
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
  out.push(`<text transform="translate(18 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">completed runs (mean ± sd)</text>`);
  // One polyline per policy, with whiskers.
  policies.forEach((p, i) => {
    const color = COLORS[i % COLORS.length]!;
    const pts = rows.filter((r) => r.policy === p).sort((a, b) => a.iterations - b.iterations);
    const dash = p === "static" ? ` stroke-dasharray="6 4"` : "";
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.map((r) => `${px(r.iterations).toFixed(1)},${py(r.runs).toFixed(1)}`).join(" ")}"/>`);
    for (const r of pts) {
      const X = px(r.iterations).toFixed(1);
      out.push(`<line x1="${X}" y1="${py(r.runs - r.runs_sd).toFixed(1)}" x2="${X}" y2="${py(r.runs + r.runs_sd).toFixed(1)}" stroke="${color}" stroke-opacity="0.5"/>`);
      out.push(`<circle cx="${X}" cy="${py(r.runs).toFixed(1)}" r="3" fill="${color}"><title>${esc(p)} @ ${r.iterations}: ${r.runs.toFixed(1)} runs</title></circle>`);
    }
    const ly = M.top + 10 + i * 20;
    out.push(`<line x1="${W - M.right + 15}" y1="${ly}" x2="${W - M.right + 40}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${W - M.right + 46}" y="${ly}" dominant-baseline="middle">${esc(p)}</text>`);
  });
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
