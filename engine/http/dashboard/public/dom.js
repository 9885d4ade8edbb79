// DOM building and formatting for the dashboard. Every name from the engine
// (hosts, VMs, rules, messages) enters the page through `h` or `text` as a
// text node, never as HTML, so a VM called `<img onerror=…>` shows as text.

/**
 * h("li", { class: "x", dataset: { vm: "a" }, onclick: f }, child, "text", …)
 * Strings and numbers become text nodes; null/undefined/false are skipped.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "text") el.textContent = v;
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

export const $ = (sel) => document.querySelector(sel);

export function pct(n) {
  return typeof n === "number" && Number.isFinite(n) ? `${Math.round(n)}%` : "–";
}

export function mib(n) {
  if (typeof n !== "number" || !Number.isFinite(n)) return "–";
  return n >= 1024 ? `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} GiB` : `${Math.round(n)} MiB`;
}

// One formatter for every time shown: toLocaleTimeString builds a new one per call (~1 ms each).
const TIME = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });

export function clock(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "–" : TIME.format(d);
}

/** "4.2 s", "3 min 5 s", "1 h 2 min". */
export function elapsed(ms) {
  const s = Math.max(0, ms / 1000);
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A JSON value as short text (explanations: bindings and `let` values). */
export function show(v) {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

// Okabe & Ito's palette: told apart with every common colour blindness.
// Groups get a colour and always their name as a label too.
const PALETTE = [
  { bg: "#0072B2", fg: "#fff" },
  { bg: "#E69F00", fg: "#000" },
  { bg: "#009E73", fg: "#fff" },
  { bg: "#CC79A7", fg: "#000" },
  { bg: "#56B4E9", fg: "#000" },
  { bg: "#D55E00", fg: "#fff" },
  { bg: "#F0E442", fg: "#000" },
];
const NO_GROUP = { bg: "#8a8f98", fg: "#fff" };
const KNOWN = { light: 0, heavy: 5, normal: 2, medium: 2 };

/** A group's colour: fixed for the usual CSLB names, by order of the sorted names otherwise. */
export function groupColor(group, allGroups) {
  if (!group) return NO_GROUP;
  if (group in KNOWN) return PALETTE[KNOWN[group]];
  const others = allGroups.filter((g) => !(g in KNOWN)).sort();
  const free = PALETTE.filter((_, i) => !Object.values(KNOWN).includes(i));
  return free[others.indexOf(group) % free.length] ?? NO_GROUP;
}

/** Distinct series colours with dash patterns (the chart tells lines apart by both). */
export const SERIES = [
  { stroke: "#0072B2", dash: [] },
  { stroke: "#D55E00", dash: [6, 3] },
  { stroke: "#009E73", dash: [2, 2] },
  { stroke: "#CC79A7", dash: [8, 3, 2, 3] },
  { stroke: "#E69F00", dash: [] },
  { stroke: "#56B4E9", dash: [6, 3] },
  { stroke: "#000000", dash: [2, 2] },
  { stroke: "#999999", dash: [8, 3, 2, 3] },
];
