/**
 * Data-driven planning scenarios: every folder of test/scenarios/ holds
 * `facts.json` and the exact expected `plan.json`, optionally `*.policy`
 * files and a `settings.json` ({ policies, params, cooldown, max_per_host,
 * max_per_round, explain, requireFencing, fenced }). Policies are the
 * folder's `.policy` files plus `settings.policies` (paths from the
 * repository root); with neither, the default set. A key left out of
 * plan.json is not compared. Add a folder to add a test; no TypeScript.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import type { PolicySource } from "../../../engine/policy/set.js";
import type { PlanSettings } from "../../../engine/types.js";
import { ROOT, asJson, defaultPolicySources, planWith, policySourcesOf } from "../../scenarios/helpers.js";

const dir = join(ROOT, "test", "scenarios");
const names = readdirSync(dir)
  .filter((n) => statSync(join(dir, n)).isDirectory())
  .sort();

interface ScenarioSettings extends Partial<Omit<PlanSettings, "fenced">> {
  policies?: string[];
  params?: string[];
  fenced?: string[];
}

describe("scenarios", () => {
  it("has scenarios", () => expect(names.length).toBeGreaterThan(3));
  for (const name of names) {
    it(name, async () => {
      const folder = join(dir, name);
      const read = (file: string) => JSON.parse(readFileSync(join(folder, file), "utf8"));
      const settings: ScenarioSettings = existsSync(join(folder, "settings.json")) ? read("settings.json") : {};
      const local = readdirSync(folder).filter((f) => f.endsWith(".policy")).sort().map((f) => relative(ROOT, join(folder, f)));
      let sources: PolicySource[] = await policySourcesOf([...local, ...(settings.policies ?? [])]);
      if (sources.length === 0) sources = await defaultPolicySources();
      const { policies: _p, params, fenced, ...rest } = settings;
      const plan = asJson(
        await planWith(sources, read("facts.json"), { ...rest, ...(fenced ? { fenced: new Set(fenced) } : {}) }, params ?? []),
      ) as Record<string, unknown>;
      const expected = read("plan.json") as Record<string, unknown>;
      for (const key of Object.keys(plan)) if (!(key in expected)) delete plan[key];
      expect(plan).toEqual(expected);
    });
  }
});
