import { describe, expect, it } from "vitest";
import { makeDiagnostic } from "../../grammar/diagnostics.js";
import { diagnosticToJson, renderDiagnostics, renderDiagnosticsJson, summaryLine } from "../../grammar/render-diagnostics.js";
import { editDistance, suggest } from "../../grammar/suggest.js";
import type { Span } from "../../grammar/ast.js";

const TEXT = "policy p\nrule r\n\tfor each host where host.lod > 1\n  then evacuate host\n";
const at = (line: number, column: number, offset = 0) => ({ line, column, offset });
const span = (l1: number, c1: number, l2: number, c2: number): Span => ({ file: "p.policy", start: at(l1, c1), end: at(l2, c2) });

describe("rendering diagnostics", () => {
  it("human form: header, source line, caret under the span (tabs kept), hint, summary", () => {
    const d = makeDiagnostic("T202", "error", "unknown field `lod` of host; did you mean `load`?", span(3, 26, 3, 29), "a hint");
    const w = makeDiagnostic("W301", "warning", "unused param `x`", span(1, 8, 1, 9));
    expect(renderDiagnostics([w, d], new Map([["p.policy", TEXT]]))).toBe(
      [
        "p.policy:1:8: warning: unused param `x`",
        "    policy p",
        "           ^",
        "p.policy:3:26: error: unknown field `lod` of host; did you mean `load`?",
        "    \tfor each host where host.lod > 1",
        "    \t                        ^^^",
        "    hint: a hint",
        "1 error, 1 warning",
        "",
      ].join("\n"),
    );
  });

  it("a multi-line span is underlined to the end of its first line; an empty span gets one caret", () => {
    const multi = makeDiagnostic("T213", "error", "m", span(3, 21, 4, 7));
    const empty = makeDiagnostic("P107", "error", "e", span(4, 21, 4, 21));
    const out = renderDiagnostics([multi, empty], new Map([["p.policy", TEXT]]), { summary: false });
    expect(out.split("\n")).toEqual([
      "p.policy:3:21: error: m",
      "    \tfor each host where host.lod > 1",
      "    \t                   ^^^^^^^^^^^^^",
      "p.policy:4:21: error: e",
      "      then evacuate host",
      "                        ^",
      "",
    ]);
  });

  it("colour only when asked; nothing at all for no diagnostics", () => {
    const d = makeDiagnostic("T201", "error", "unknown name `x`", span(1, 8, 1, 9));
    const sources = new Map([["p.policy", TEXT]]);
    expect(renderDiagnostics([d], sources)).not.toContain("\u001b[");
    const coloured = renderDiagnostics([d], sources, { color: true });
    expect(coloured).toContain("\u001b[31m");
    expect(coloured.replace(/\u001b\[\d+m/g, "")).toBe(renderDiagnostics([d], sources));
    expect(renderDiagnostics([], sources)).toBe("");
  });

  it("a file without its text gets the header only", () => {
    const d = makeDiagnostic("T201", "error", "m", { ...span(1, 1, 1, 2), file: "gone.policy" });
    expect(renderDiagnostics([d], new Map())).toBe("gone.policy:1:1: error: m\n1 error\n");
  });

  it("JSON form: SPEC 4's fields, hint when present", () => {
    const d = makeDiagnostic("T202", "error", "msg", span(3, 26, 3, 29), "h");
    expect(diagnosticToJson(d)).toEqual({ file: "p.policy", line: 3, column: 26, endLine: 3, endColumn: 29, severity: "error", code: "T202", message: "msg", hint: "h" });
    expect(JSON.parse(renderDiagnosticsJson([makeDiagnostic("W301", "warning", "w", span(1, 1, 1, 2))]))).toEqual([
      { file: "p.policy", line: 1, column: 1, endLine: 1, endColumn: 2, severity: "warning", code: "W301", message: "w" },
    ]);
  });

  it("summary line", () => {
    const e = makeDiagnostic("T201", "error", "m", span(1, 1, 1, 2));
    const w = makeDiagnostic("W301", "warning", "m", span(1, 1, 1, 2));
    expect([summaryLine([e, e]), summaryLine([w]), summaryLine([e, w, w]), summaryLine([])]).toEqual(["2 errors", "1 warning", "1 error, 2 warnings", ""]);
  });
});

describe("did you mean", () => {
  it("edit distance counts a transposition as one edit", () => {
    expect(editDistance("load", "laod")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
  });

  it("suggests near misses only", () => {
    expect(suggest("lod", ["name", "load", "load_avg"])).toBe("load");
    expect(suggest("Load", ["load"])).toBe("load");
    expect(suggest("memfree", ["mem_free", "mem"])).toBe("mem_free");
    expect(suggest("x", ["load", "mem"])).toBeNull();
    expect(suggest("threshold", ["band", "mean"])).toBeNull();
    expect(suggest("heavy", ["heavy"])).toBeNull();
  });
});
