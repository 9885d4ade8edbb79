/**
 * Data-driven planning scenarios: every folder of test/scenarios/ holds a
 * `scenario.test.yaml` in the format of `vmpolicy test` (SPEC 8) beside its
 * `facts.json`, optional `*.policy` files and a `notes.md` with the
 * arithmetic. This runs each through the same loader and runner as the
 * command. Add a folder to add a test; no TypeScript.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { loadTestFile } from "../../../engine/testing/load.js";
import { runTestFile } from "../../../engine/testing/run.js";
import { ROOT } from "../../scenarios/helpers.js";

const dir = join(ROOT, "test", "scenarios");
const names = readdirSync(dir)
  .filter((n) => statSync(join(dir, n)).isDirectory())
  .sort();

describe("scenarios", () => {
  it("has scenarios", () => expect(names.length).toBeGreaterThan(3));
  for (const name of names) {
    it(name, async () => {
      const file = relative(ROOT, join(dir, name, "scenario.test.yaml"));
      const run = await runTestFile(await loadTestFile(file, readFileSync(file, "utf8")));
      expect(run.diagnostics.map((d) => `${d.span.file}:${d.span.start.line}: ${d.message}`)).toEqual([]);
      expect(run.cases.map((c) => ({ name: c.name, failures: c.failures.flatMap((f) => f.lines) }))).toEqual(run.cases.map((c) => ({ name: c.name, failures: [] })));
      expect(run.cases.length).toBeGreaterThan(0);
    });
  }
});
