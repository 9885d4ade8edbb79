import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSandbox, scriptAnalyzer } from "../../engine/sandbox/index.js";
import { check, checkTexts, rows, type Row } from "./checker-helpers.js";

const WARNINGS: { name: string; source: string; expected: Row[] }[] = [
  {
    name: "an unused param",
    source: "policy p\nparam band = 10\nparam spare = 5s\nrule r for each host where host.load > band then evacuate host",
    expected: [["W301", 3, 7, "unused param `spare`"]],
  },
  {
    name: "an unused top-level let (a let used only by an unused let counts as used)",
    source: "policy p\nlet a = 1\nlet b = a + 1\nrule r then alert \"x\"",
    expected: [["W302", 3, 5, "unused let `b`"]],
  },
  {
    name: "an unused rule let",
    source: "policy p\nrule r for each host let spare = host.load then evacuate host",
    expected: [["W302", 2, 26, "unused let `spare` in rule `r`"]],
  },
  {
    name: "a group nothing observes (the last `when` group, not followed by a used one)",
    source: "policy p\ngroup hot when host.load > 90\ngroup cold when host.load < 10\nrule r for each hot host then evacuate host",
    expected: [["W303", 3, 7, "unused group `cold`: no rule or expression uses it"]],
  },
  {
    name: "a rule whose `when` is literally false",
    source: "policy p\nrule r for each host when false then evacuate host",
    expected: [["W304", 2, 27, "rule `r` can never plan anything: a `when` is always false"]],
  },
  {
    name: "a rule whose `when` folds to false",
    source: "policy p\nrule r when not (1 < 2) or false then alert \"x\"",
    expected: [["W304", 2, 13, "rule `r` can never plan anything: a `when` is always false"]],
  },
  {
    name: "a `for each` over a group that never matches",
    source: "policy p\ngroup never when false\nrule r for each never host then evacuate host",
    expected: [["W304", 3, 6, "rule `r` can never plan anything: group `never` never matches a host"]],
  },
  {
    name: "a `for each … where` that is always false",
    source: "policy p\nrule r for each host where false and host.busy then evacuate host",
    expected: [["W304", 2, 28, "rule `r` can never plan anything: its `for each … where` is always false"]],
  },
  {
    name: "a `for each … where none` (none is not true, so no binding passes)",
    source: "policy p\nrule r for each host where none then evacuate host",
    expected: [["W304", 2, 28, "rule `r` can never plan anything: its `for each … where` is always none"]],
  },
  {
    name: "a `when` that folds to none (`true and none`, a literal compared with none)",
    source: "policy p\nrule r for each host when true and none then evacuate host\nrule s for each host when 1 > none then evacuate host",
    expected: [
      ["W304", 2, 27, "rule `r` can never plan anything: a `when` is always none"],
      ["W304", 3, 27, "rule `s` can never plan anything: a `when` is always false"],
    ],
  },
  {
    name: "a `when` that reads the cluster beside none is not judged (`false or none` is none, `x or none` may be true)",
    source: "policy p\nrule r for each host when host.busy or none then evacuate host\nrule s for each host when none == none then evacuate host",
    expected: [],
  },
  {
    name: "a `for each` over an empty list",
    source: "policy p\nrule r for each host in [] then evacuate host",
    expected: [["W304", 2, 25, "rule `r` can never plan anything: its `for each` ranges over an empty list"]],
  },
  {
    name: "every action names none",
    source: "policy p\nrule r for each vm then migrate vm to none",
    expected: [["W304", 2, 6, "rule `r` can never plan anything: every action names `none`"]],
  },
  {
    name: "a constraint that never applies",
    source: "policy p\nconstraint c when 1 > 2 require false\nrule r then alert \"x\"",
    expected: [["W305", 2, 19, "constraint `c` never applies: its `when` is always false"]],
  },
];

describe("checker: warnings (W3xx)", () => {
  for (const c of WARNINGS) {
    it(c.name, () => {
      const result = check(c.source);
      expect(rows(result.diagnostics)).toEqual(c.expected);
      expect(result.ok).toBe(true);
    });
  }

  it("a group before a used group is used (first match wins), `otherwise` never warns", () => {
    const result = check(
      "policy p\ngroup offline when host.state != up\ngroup hot when host.load > 90\ngroup rest otherwise\nrule r for each hot host then evacuate host",
    );
    expect(rows(result.diagnostics)).toEqual([]);
  });

  it("reading host.group makes every group used", () => {
    const result = check("policy p\ngroup a when host.load > 90\ngroup b when host.load < 10\nrule r for each host when host.group != none then evacuate host");
    expect(rows(result.diagnostics)).toEqual([]);
  });
});

describe("the shipped policies", () => {
  const read = (dir: string) =>
    readdirSync(dir)
      .filter((f) => f.endsWith(".policy"))
      .sort()
      .map((f) => [join(dir, f), readFileSync(join(dir, f), "utf8")] as const);

  it("policies/ checks with no diagnostics at all", () => {
    const result = checkTexts(read("policies"));
    expect(result.policies.map((p) => p.name)).toEqual(["cslb", "evacuate"]);
    expect(rows(result.diagnostics)).toEqual([]);
  });

  it("each example checks clean beside evacuate.policy", async () => {
    // Examples may define script functions, which only the sandbox can see.
    await loadSandbox();
    const scripts = scriptAnalyzer();
    for (const example of read("policies/examples")) {
      const result = checkTexts([example, ...read("policies").filter(([f]) => f.endsWith("evacuate.policy"))], { scripts });
      expect([example[0], rows(result.diagnostics)]).toEqual([example[0], []]);
    }
  });
});
