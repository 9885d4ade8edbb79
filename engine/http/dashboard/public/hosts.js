// The hosts: one row per host with its load as a bar made of its VMs (each
// as wide as its CPU), the policy's band lines over it, group by colour and
// by label, state, CPUs and memory. The list is virtualised: only the rows
// in view (and a few around) exist in the DOM, so 1,000 hosts with 20,000
// VMs scroll and update without freezing the page.
import { groupColor, h, mib, pct } from "./dom.js";

/** Row height in px: a narrow screen wraps a row's head onto more lines. */
function rowHeight() {
  return window.innerWidth < 600 ? 132 : 88;
}
const OVERSCAN = 4;

export class HostList {
  /** `actions`: { maintenance(host, on), fence(host), chart(host) }. */
  constructor(root, actions) {
    this.root = root;
    this.actions = actions;
    this.spacer = h("div", { class: "spacer" });
    this.rows = h("div", { class: "rows", role: "list" });
    this.spacer.append(this.rows);
    root.append(this.spacer);
    this.model = null;
    this.pending = false;
    // The scroll position is read only when it changes: reading it in `render` would make the browser
    // lay out the whole page (just rebuilt by an update) before the rows are even built.
    this.top = 0;
    root.addEventListener(
      "scroll",
      () => {
        this.top = root.scrollTop;
        this.schedule();
      },
      { passive: true },
    );
    window.addEventListener("resize", () => this.schedule());
    root.addEventListener("keydown", (e) => this.key(e));
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  /** model: { hosts, scale, band, groups, charted: Set } */
  update(model) {
    this.model = model;
    this.render();
  }

  key(e) {
    if (e.target !== this.root) return;
    const step = { ArrowDown: rowHeight(), ArrowUp: -rowHeight(), PageDown: this.root.clientHeight, PageUp: -this.root.clientHeight }[e.key];
    if (step !== undefined) this.root.scrollTop += step;
    else if (e.key === "Home") this.root.scrollTop = 0;
    else if (e.key === "End") this.root.scrollTop = this.spacer.offsetHeight;
    else return;
    e.preventDefault();
  }

  render() {
    const m = this.model;
    if (!m) return;
    const n = m.hosts.length;
    const ROW = rowHeight();
    const height = Math.min(n * ROW + 2, Math.max(ROW * 2, window.innerHeight * 0.7));
    const top = Math.min(this.top, Math.max(0, n * ROW - height));
    const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const last = Math.min(n, Math.ceil((top + height) / ROW) + OVERSCAN);
    this.spacer.style.height = `${n * ROW}px`;
    this.root.style.height = `${height}px`;
    // Keep keyboard focus on the same control across the rebuild.
    const focused = document.activeElement?.closest?.(".host") ? document.activeElement.dataset.focus : undefined;
    this.rows.style.transform = `translateY(${first * ROW}px)`;
    const rows = [];
    for (let i = first; i < last; i++) {
      const row = this.row(m.hosts[i], m);
      row.style.height = `${ROW}px`;
      rows.push(row);
    }
    this.rows.replaceChildren(...rows);
    if (focused) this.rows.querySelector(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
  }

  row(host, m) {
    const color = groupColor(host.group, m.groups);
    const unit = host.cpus > 0 ? 1 / host.cpus : 0;
    const bar = h("div", { class: "bar", role: "img", "aria-label": `${host.name}: load ${pct(host.load)}${m.band ? `, band ${m.band.lower ?? "–"} to ${m.band.upper ?? "–"}` : ""}` });
    const vms = h("div", { class: "vms" });
    for (const vm of host.vms) {
      const w = (vm.cpu * unit * 100) / m.scale;
      const flight = m.flights.get(vm.name);
      const cls = ["vm", vm.pinned ? "pinned" : "", flight ? "migrating" : ""].filter(Boolean).join(" ");
      const title = `${vm.name}: CPU ${pct(vm.cpu)}, ${mib(vm.mem)}${vm.pinned ? ", pinned" : ""}${flight ? `, ${flight.kind === "restart" ? "restarting" : "migrating"} to ${flight.to}` : ""}`;
      const el = h("span", { class: cls, dataset: { vm: vm.name }, title }, vm.name);
      el.style.width = `${w}%`;
      el.style.background = color.bg;
      el.style.color = color.fg;
      vms.append(el);
    }
    bar.append(vms);
    if (m.band) {
      for (const k of ["lower", "mean", "upper"]) {
        if (typeof m.band[k] !== "number") continue;
        const line = h("span", { class: `band band-${k}`, title: `${k} ${m.band[k]}` });
        line.style.left = `${Math.min(100, (m.band[k] * 100) / m.scale)}%`;
        bar.append(line);
      }
    }
    if (typeof host.used === "number") {
      const used = h("span", { class: "used", title: `measured use ${pct(host.used)}` });
      used.style.left = `${Math.min(100, (host.used * 100) / m.scale)}%`;
      bar.append(used);
    }
    const buttons = [];
    // Both states of the toggle share a focus key, so the keyboard stays on it after it flips.
    if (host.operator_state === "maintenance") buttons.push(this.button(host, "maintenance", "End maintenance", () => this.actions.maintenance(host.name, false)));
    else if (host.state !== "down") buttons.push(this.button(host, "maintenance", "Maintenance", () => this.actions.maintenance(host.name, true)));
    if (host.state === "down" && !host.fenced) buttons.push(this.button(host, "fence", "Confirm fenced…", () => this.actions.fence(host.name)));
    const chart = this.button(host, "chart", "Chart", () => this.actions.chart(host.name));
    chart.setAttribute("aria-pressed", String(m.charted.has(host.name)));
    buttons.push(chart);
    const row = h(
      "div",
      { class: `host state-${host.state}`, role: "listitem", dataset: { host: host.name } },
      h(
        "div",
        { class: "host-head" },
        h("span", { class: "host-name" }, host.name),
        h("span", { class: "chip", title: host.group ? `group ${host.group}` : "no group" }, host.group ?? "no group"),
        h("span", { class: `state state-${host.state}` }, host.fenced ? `${host.state}, fenced` : host.state),
        h("span", { class: "meta" }, `${host.cpus ?? "?"} CPUs · ${mib(host.mem)}${typeof host.mem_used === "number" ? ` (${mib(host.mem_used)} in VMs)` : ""} · ${host.vms.length} VMs`),
        h("span", { class: "load" }, pct(host.load)),
        h("span", { class: "buttons" }, buttons),
      ),
      bar,
    );
    const chip = row.querySelector(".chip");
    chip.style.background = color.bg;
    chip.style.color = color.fg;
    row.style.borderLeftColor = color.bg;
    return row;
  }

  button(host, what, label, onclick) {
    return h("button", { type: "button", dataset: { focus: `${host.name}:${what}` }, "aria-label": `${label} ${host.name}`, onclick }, label);
  }
}
