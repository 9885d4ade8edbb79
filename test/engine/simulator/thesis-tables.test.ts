/**
 * The thesis's numbers as data (engine/simulator/thesis-tables.ts): every
 * table is there with its shape, spot cells are exact, the oddities of the
 * source are kept, and Table 6.1 is Tables 5.1–5.4 rounded.
 */
import { describe, expect, it } from "vitest";
import { pooledStaticRow, staticNoEngineRow, thesisTable, THESIS_TABLES } from "../../../engine/simulator/thesis-tables.js";

describe("thesis tables", () => {
  it("holds Tables 5.1–5.8 and 6.1 with every row (295 cells)", () => {
    expect(THESIS_TABLES.map((t) => [t.id, t.rows.length])).toEqual([
      ["5.1", 2], ["5.2", 2], ["5.3", 2], ["5.4", 2], ["5.5", 11], ["5.6", 10], ["5.7", 11], ["5.8", 11], ["6.1", 8],
    ]);
    expect(THESIS_TABLES.reduce((a, t) => a + t.rows.length * 5, 0)).toBe(295);
    // Section ranges from the table of contents (the text has no page breaks: PAGES_NOTE).
    expect(Object.fromEntries(THESIS_TABLES.map((t) => [t.id, t.pages]))).toEqual({
      "5.1": "29–31", "5.2": "29–31", "5.3": "29–31", "5.4": "29–31", "5.5": "31–35", "5.6": "35–40", "5.7": "35–40", "5.8": "35–40", "6.1": "45–47",
    });
    // Mesa has no 2-iteration row.
    expect(thesisTable("5.6")!.rows.map((r) => r.iterations)).toEqual([1, 4, 8, 16, 32, 64, 128, 256, 512, null]);
  });

  it("has the cells exactly as printed", () => {
    expect(staticNoEngineRow("gap")).toMatchObject({ runs: 247.603, vm_pct: 96.274, dom0_pct: 6.352, idle_pct: 0.768, engine_pct: 0 });
    expect(thesisTable("5.1")!.rows[0]).toMatchObject({ label: "Gap with Policy Engine", engine: true, runs: 243.406, vm_pct: 94.514, dom0_pct: 7.107, idle_pct: 1.226, engine_pct: 0.085 });
    expect(staticNoEngineRow("vpr")).toMatchObject({ label: "Vpr without Policy Engine", runs: 218.625, idle_pct: 1.56 });
    expect(pooledStaticRow("gap")).toMatchObject({ label: "No Policy Engine", runs: 234.96, vm_pct: 90.49, dom0_pct: 8.55, idle_pct: 3.8 });
    const t55 = thesisTable("5.5")!.rows;
    expect(t55[0]).toMatchObject({ label: "1 Iteration", iterations: 1, runs: 222.7, vm_pct: 82.03, dom0_pct: 12.58, idle_pct: 8.32, engine_pct: 0.18 });
    expect(t55[9]).toMatchObject({ label: "512 Iterations", runs: 243.5, vm_pct: 94.4, dom0_pct: 7.04, idle_pct: 1.29, engine_pct: 0.09 });
    expect(thesisTable("5.7")!.rows[0]).toMatchObject({ runs: 205.5, dom0_pct: 16.81 });
    expect(pooledStaticRow("gcc")).toMatchObject({ runs: 420.2, idle_pct: 4.35 });
    expect(thesisTable("5.6")!.rows[8]).toMatchObject({ label: "512 Iterations", idle_pct: 1.31 });
  });

  it("keeps the source's copy error: Table 5.8's VM% column is Table 5.7's, and says so", () => {
    const vpr = thesisTable("5.7")!.rows.map((r) => r.vm_pct);
    const gcc = thesisTable("5.8")!.rows.map((r) => r.vm_pct);
    expect(gcc).toEqual(vpr);
    expect(thesisTable("5.8")!.notes.join(" ")).toMatch(/VM% column repeats Table 5.7/);
    // The other columns differ.
    expect(thesisTable("5.8")!.rows.map((r) => r.runs)).not.toEqual(thesisTable("5.7")!.rows.map((r) => r.runs));
  });

  it("Table 6.1 is Tables 5.1–5.4 rounded to the digits it prints", () => {
    const t61 = thesisTable("6.1")!.rows;
    for (const id of ["5.1", "5.2", "5.3", "5.4"]) {
      for (const r of thesisTable(id)!.rows) {
        const twin = t61.find((x) => x.benchmark === r.benchmark && x.engine === r.engine)!;
        expect(twin.runs).toBeCloseTo(r.runs, 0);
        expect(Math.abs(twin.runs - r.runs)).toBeLessThanOrEqual(0.05 + 1e-9);
        for (const k of ["vm_pct", "dom0_pct", "idle_pct", "engine_pct"] as const) expect(Math.abs(twin[k] - r[k])).toBeLessThanOrEqual(0.005 + 1e-9);
      }
    }
  });
});
