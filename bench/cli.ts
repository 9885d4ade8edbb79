/**
 * `cli_check_ms` and `cli_plan_1k_ms`: what a policy author waits for, as
 * processes (the built CLI, `node dist/bin/vmpolicy.js`), medians of 9 runs
 * with `node -e 0` interleaved so both see the same machine load.
 * Goals: `check policies/cslb.policy` ≤ 2× `node -e 0`; `plan --facts` of
 * 1,000 hosts / 20,000 VMs ≤ 400 ms.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, round, type Benchmark } from "./api.js";
import { generateFacts, repoRoot } from "./plan.js";

const RUNS = 9;

/** Wall time of one process, in ms; throws when it fails (a benchmark of an error is no benchmark). */
function timeProcess(args: readonly string[], cwd: string): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const bench: Benchmark = {
  name: "cli",
  description: "vmpolicy check / plan --facts (1,000 hosts) as processes vs node -e 0 (goals: check ≤ 2× node, plan ≤ 400 ms)",
  async run() {
    const root = repoRoot();
    const cli = join(root, "dist", "bin", "vmpolicy.js");
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-bench-cli-"));
    try {
      const facts = join(dir, "facts-1k.json");
      writeFileSync(facts, JSON.stringify(generateFacts(1000, 20, 7)));
      const node: number[] = [];
      const check: number[] = [];
      const plan: number[] = [];
      timeProcess(["-e", "0"], root); // warm the file cache
      timeProcess([cli, "check", "policies/cslb.policy"], root);
      for (let i = 0; i < RUNS; i++) {
        node.push(timeProcess(["-e", "0"], root));
        check.push(timeProcess([cli, "check", "policies/cslb.policy"], root));
        plan.push(timeProcess([cli, "plan", "--facts", facts, "--json"], root));
      }
      const nodeMs = median(node);
      const checkMs = median(check);
      return {
        cli_check_ms: round(checkMs, 1),
        node_e0_ms: round(nodeMs, 1),
        check_ratio: round(checkMs / nodeMs, 2),
        cli_plan_1k_ms: round(median(plan), 1),
        runs: RUNS,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
