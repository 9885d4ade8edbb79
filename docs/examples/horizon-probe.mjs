// How long does an imbalance last, and what does cslb-cost's horizon say?
// At every migration CSLB plans, this records the horizon cslb-cost reads
// from the same facts — its previous version (each VM's age at its level
// read from cpu_avg, Gott's rule; a VM older than the average can date adds
// no rate) and the current one (each VM's counted level changes per hour,
// vm.cpu_changes, plus Jeffreys' half change per hour) — and the time until a benchmark VM on either host
// next starts or ends its stint (a hand-over; per round, so to 10 s; the
// seconds between two runs of one VM are no change). The figures of
// docs/simulation.md's "Horizons against how long the imbalance lasts". After `npm run build`:
//   node docs/examples/horizon-probe.mjs [testbed|two-gib|slow-link|three-hosts-thesis] [iterations] [repeats]
import { readFile } from "node:fs/promises";
import { loadPolicySet } from "../../dist/engine/policy/set.js";
import { loadScenarioFile } from "../../dist/engine/simulator/scenario-load.js";
import { thesisScenario, withIterations } from "../../dist/engine/simulator/scenario.js";
import { simulateOnce } from "../../dist/engine/simulator/runner.js";
import { mixSeed } from "../../dist/engine/rng.js";

const [name = "testbed", iterations = 64, repeats = 9] = process.argv.slice(2).map((a, i) => (i === 0 ? a : Number(a)));
const file = new URL(`./${name}.yaml`, import.meta.url).pathname;
const scenario = withIterations(name === "testbed" ? thesisScenario() : (await loadScenarioFile(file)).scenario, iterations);
const cslb = (await loadPolicySet([{ file: "policies/cslb.policy", text: await readFile(new URL("../../policies/cslb.policy", import.meta.url), "utf8") }])).set;
const { interval, smoothing: tau } = scenario.engine;

// The previous cslb-cost's horizon over the pair's VMs: 1 / the sum of their change rates read from cpu_avg.
function fromAverage(vms) {
  let rate = 0;
  for (const v of vms) {
    const f = Math.abs(v.cpu - v.cpu_avg) / Math.max(100, v.cpu, v.cpu_avg);
    if (f <= 1 - Math.exp(-interval / tau)) continue;
    rate += 1 / Math.max(1, -tau * Math.log(Math.min(1, Math.max(0.001, f))));
  }
  return 1 / rate;
}
// cslb-cost's horizon now: 1 / Σ (cpu_changes + 1/2) per hour.
const fromChanges = (vms) => 3600 / vms.reduce((sum, v) => sum + v.cpu_changes + 0.5, 0);

const rows = [];
for (let r = 0; r < repeats; r++) {
  const states = [];
  const decisions = [];
  simulateOnce(scenario, cslb, mixSeed(1, r, iterations), r, undefined, ({ model, facts, plan }) => {
    states.push({ t: model.time, computing: model.bench.map((b, i) => (scenario.vms[i].trace === undefined && b.busy ? 1 : 0)) });
    for (const a of plan.actions) {
      if (a.kind !== "migrate") continue;
      const pair = facts.hosts.filter((h) => h.name === a.from || h.name === a.to).flatMap((h) => h.vms);
      decisions.push({ at: states.length - 1, vms: pair.map((v) => scenario.vms.findIndex((x) => x.name === v.name)), previous: fromAverage(pair), now: fromChanges(pair) });
    }
  });
  for (const d of decisions) {
    const then = states[d.at].computing;
    const next = states.slice(d.at + 1).find((s) => d.vms.some((v) => s.computing[v] !== then[v]));
    rows.push({ ...d, lasted: next === undefined ? Infinity : next.t - states[d.at].t });
  }
}
cslb.dispose();
const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))];
const show = (xs) => `median ${q(xs, 0.5).toFixed(0)} s (p10 ${q(xs, 0.1).toFixed(0)}, p90 ${q(xs, 0.9).toFixed(0)})`;
const ended = rows.map((x) => x.lasted).filter(Number.isFinite);
console.log(`${name}, ${iterations} iterations, ${repeats} repeats: ${rows.length} migrations planned by CSLB`);
console.log(`  horizon from cpu_avg (previous):    ${show(rows.map((x) => x.previous))}`);
console.log(`  horizon from cpu_changes (now):     ${show(rows.map((x) => x.now))}`);
console.log(`  next hand-over on either host:      ${show(rows.map((x) => x.lasted))}; mean ${(ended.reduce((a, b) => a + b, 0) / ended.length).toFixed(0)} s over the ${ended.length} that came within the run`);
