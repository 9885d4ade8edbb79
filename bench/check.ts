/**
 * `check_2k`: the median time to parse and check a realistic ~2,000-line
 * policy set (several files of params, lets, groups, constraints and rules
 * in the style of policies/), the cost the engine pays on every hot reload
 * and `vmpolicy check` on every run. Goal: under 50 ms on this machine.
 */
import { parsePolicy } from "../grammar/parse.js";
import { checkPolicySet } from "../grammar/checker.js";
import type { PolicyFile } from "../grammar/ast.js";
import { medianMs, round, type Benchmark } from "./api.js";

/** One policy file of about 250 lines; `n` varies names and numbers. */
export function generatePolicy(n: number): string {
  const out: string[] = [`# Generated policy ${n} for the check benchmark.`, `policy gen${n}`, ""];
  for (let i = 0; i < 6; i++) out.push(`param band${i} = ${5 + i}        # thresholds around the mean`);
  out.push("param cool = 5m", "");
  out.push("let mean = avg(host.load for host where host.state == up)");
  out.push("let spread = stddev(host.load for host where host.state == up)");
  for (let i = 0; i < 6; i++) {
    out.push(`let lower${i} = mean - band${i}`, `let upper${i} = mean + band${i} + spread / ${i + 2}`);
  }
  out.push("");
  out.push("group offline when host.state != up");
  for (let i = 0; i < 6; i++) out.push(`group hot${i} when host.load > upper${i} and host.labels.rack == "r${i}"`);
  for (let i = 0; i < 6; i++) out.push(`group cold${i} when host.load < lower${i} and host.labels.rack == "r${i}"`);
  out.push("group rest otherwise", "");
  for (let i = 0; i < 3; i++) {
    out.push(
      `constraint apart${i}`,
      `  when vm.labels.tier == "t${i}"`,
      `  require no vm in host.vms as other where other.labels.tier == "t${i}"`,
      "",
    );
  }
  for (let i = 0; i < 12; i++) {
    const g = i % 6;
    out.push(
      `rule balance${i} priority ${i}`,
      `  for each hot${g} host as src by src.load desc`,
      `  # pair with the lightest free cold host of the same rack`,
      `  when exists cold${g} host where not host.busy`,
      `  let dst  = pick cold${g} host where not host.busy and host.mem_free > 1024 by host.load asc`,
      `  let mid  = (lower${g} + upper${g}) / 2`,
      `  let want = clamp((mid - dst.load) * dst.cpus, 0, 800)`,
      `  when count(vm in src.vms where vm.cpu > 10) > 1`,
      `  let vm   = pick vm in src.vms where can_move(vm, dst) and vm.cpu <= want and vm.labels.tier != none by vm.cpu desc`,
      `          ?? pick vm in src.vms where can_move(vm, dst) by vm.cpu asc`,
      `  when vm != none and max(vm.cpu, 1) / dst.cpus + dst.load < upper${g}`,
      `  then migrate vm to dst`,
      "",
    );
  }
  out.push(
    "rule drain priority 100",
    "  for each host where host.state in [degraded, maintenance] and host.vm_count > 0",
    "  then evacuate host",
    "",
    "rule recover priority 110",
    "  for each host where host.state == down and host.vm_count > 0",
    '  then recover host, alert "restarting the guests of " + host.name',
    "",
    "rule report",
    `  when sum(host.load for offline host) > cool and median(host.load for rest host) >= 0`,
    `  then alert "offline hosts carry load"`,
  );
  return out.join("\n") + "\n";
}

/** The set: enough files to pass `lines`. */
export function generateSet(lines: number): { file: string; text: string }[] {
  const files: { file: string; text: string }[] = [];
  let total = 0;
  for (let n = 0; total < lines; n++) {
    const text = generatePolicy(n);
    files.push({ file: `gen${n}.policy`, text });
    total += text.split("\n").length - 1;
  }
  return files;
}

function parseAndCheck(files: readonly { file: string; text: string }[]): number {
  const asts: PolicyFile[] = [];
  let problems = 0;
  for (const f of files) {
    const parsed = parsePolicy(f.text, f.file);
    problems += parsed.diagnostics.length;
    if (parsed.ast !== null) asts.push(parsed.ast);
  }
  return problems + checkPolicySet(asts).diagnostics.length;
}

const bench: Benchmark = {
  name: "check_2k",
  description: "parse + check a ~2,000-line policy set (goal < 50 ms)",
  async run() {
    const files = generateSet(2000);
    const lines = files.reduce((n, f) => n + f.text.split("\n").length - 1, 0);
    const problems = parseAndCheck(files);
    if (problems !== 0) throw new Error(`check_2k: the generated set has ${problems} diagnostics; it must be clean`);
    const median_ms = await medianMs(() => parseAndCheck(files), 15, 5);
    // The two phases apart, to show where the time goes.
    let asts: PolicyFile[] = [];
    const parse_ms = await medianMs(() => {
      asts = files.map((f) => parsePolicy(f.text, f.file).ast!);
    }, 15, 2);
    const check_ms = await medianMs(() => checkPolicySet(asts), 15, 2);
    return { lines, files: files.length, median_ms: round(median_ms, 2), parse_ms: round(parse_ms, 2), check_ms: round(check_ms, 2) };
  },
};

export default bench;
