/**
 * docs/thesis-comparison.md is generated (`vmpolicy simulate --thesis all
 * --markdown --repeat 18`): its constants table must be what the code holds
 * now, and every thesis cell it prints must be the data file's — so a
 * change of calibration or of the data without re-generating the page fails.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderThesisDoc } from "../../engine/simulator/thesis-doc.js";
import { PAGES_NOTE, THESIS_TABLES } from "../../engine/simulator/thesis-tables.js";

const doc = readFileSync("docs/thesis-comparison.md", "utf8");

describe("docs/thesis-comparison.md", () => {
  it("carries the current constants with their sources", () => {
    const page = renderThesisDoc({ command: "", tables: [], sensitivity: [] });
    const constants = page.slice(page.indexOf("## Constants and assumptions"), page.indexOf("## Table by table"));
    expect(constants.length).toBeGreaterThan(500);
    expect(doc).toContain(constants.trimEnd());
  });

  it("says why its pages are ranges", () => {
    expect(doc).toContain(PAGES_NOTE);
  });

  it("prints every row of every thesis table with the data file's runs", () => {
    for (const t of THESIS_TABLES) {
      const start = doc.indexOf(`### Table ${t.id}: ${t.title}`);
      expect(start).toBeGreaterThanOrEqual(0);
      const block = doc.slice(start, doc.indexOf("\n### ", start + 1) === -1 ? undefined : doc.indexOf("\n### ", start + 1));
      for (const r of t.rows) expect(block).toContain(`| ${r.label} | ${r.runs.toFixed(String(r.runs).split(".")[1]?.length ?? 1)} |`);
    }
  });
});
