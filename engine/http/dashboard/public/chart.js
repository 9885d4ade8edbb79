// Each charted host's load over the last hour (the engine keeps it, bounded),
// drawn with uPlot (served by the engine: no CDN), with the policy's band as
// horizontal lines and every migration or restart as a vertical mark.
import uPlot from "./vendor/uPlot.esm.js";
import { SERIES } from "./dom.js";

const HOUR_S = 3600;

/** The load history as the page keeps it: times (s), and per host a column aligned with them. */
export class History {
  constructor() {
    this.t = [];
    this.load = new Map();
    this.marks = [];
  }

  /** `part`: { t: [s…], hosts: { name: [load|null…] }, marks: [{t, vm, from, to, kind}] } from the engine. */
  merge(part, replace) {
    if (!part) return;
    if (replace) {
      this.t = part.t.slice();
      this.load = new Map(Object.entries(part.hosts).map(([name, col]) => [name, col.slice()]));
      this.marks = part.marks.slice();
      this.trim();
      return;
    }
    const last = this.t.length ? this.t[this.t.length - 1] : -Infinity;
    const fresh = [];
    part.t.forEach((t, i) => t > last && fresh.push(i));
    const before = this.t.length;
    for (const i of fresh) this.t.push(part.t[i]);
    for (const [name, col] of Object.entries(part.hosts)) {
      let mine = this.load.get(name);
      if (!mine) this.load.set(name, (mine = new Array(before).fill(null)));
      for (const i of fresh) mine.push(col[i] ?? null);
    }
    for (const col of this.load.values()) while (col.length < this.t.length) col.push(null);
    // Every message carries all marks of the hour (at most 500).
    this.marks = part.marks.slice();
    this.trim();
  }

  trim() {
    const cut = Date.now() / 1000 - HOUR_S;
    let drop = 0;
    while (drop < this.t.length && this.t[drop] < cut) drop++;
    if (drop > 0) {
      this.t.splice(0, drop);
      for (const col of this.load.values()) col.splice(0, drop);
    }
    this.marks = this.marks.filter((m) => m.t >= cut);
  }
}

export class LoadChart {
  constructor(root, caption) {
    this.root = root;
    this.caption = caption;
    this.plot = null;
    this.key = "";
    this.band = null;
    this.marks = [];
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(root);
  }

  size() {
    return { width: Math.max(280, this.root.clientWidth), height: 220 };
  }

  /** Draws `names` (at most SERIES.length) from `history`. */
  update(history, names, band) {
    this.band = band;
    this.marks = history.marks;
    const data = [history.t, ...names.map((n) => history.load.get(n) ?? history.t.map(() => null))];
    const key = names.join("\u0000");
    if (!this.plot || key !== this.key) {
      this.plot?.destroy();
      this.key = key;
      this.plot = new uPlot(this.options(names), data, this.root);
    } else {
      this.plot.setData(data);
    }
    const moves = history.marks.length;
    this.caption.textContent = `${names.length === 0 ? "No host charted." : `Load of ${names.join(", ")}`} · migrations and restarts in the last hour: ${moves} (vertical marks)${band ? " · band: lower and upper dashed, mean solid" : ""}.`;
  }

  options(names) {
    return {
      ...this.size(),
      cursor: { drag: { x: false, y: false } },
      legend: { live: false },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(100, Math.ceil((max ?? 0) / 50) * 50)] } },
      axes: [{}, { label: "load %", size: 56, values: (_u, vals) => vals.map((v) => `${v}%`) }],
      series: [{}, ...names.map((name, i) => ({ label: name, stroke: SERIES[i % SERIES.length].stroke, dash: SERIES[i % SERIES.length].dash, width: 2 }))],
      hooks: { draw: [(u) => this.overlay(u)] },
    };
  }

  overlay(u) {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.lineWidth = 1 * devicePixelRatio;
    if (this.band) {
      ctx.strokeStyle = "#555";
      for (const k of ["lower", "mean", "upper"]) {
        const v = this.band[k];
        if (typeof v !== "number") continue;
        const y = u.valToPos(v, "y", true);
        if (y < top || y > top + height) continue;
        ctx.setLineDash(k === "mean" ? [] : [4 * devicePixelRatio, 4 * devicePixelRatio]);
        ctx.beginPath();
        ctx.moveTo(left, y);
        ctx.lineTo(left + width, y);
        ctx.stroke();
      }
    }
    ctx.strokeStyle = "#7a3e9d";
    ctx.setLineDash([2 * devicePixelRatio, 3 * devicePixelRatio]);
    for (const m of this.marks) {
      const x = u.valToPos(m.t, "x", true);
      if (x < left || x > left + width) continue;
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
    }
    ctx.restore();
  }
}
