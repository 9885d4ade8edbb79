/**
 * The coverage report of `vmpolicy test --coverage` (SPEC 8): per policy
 * file, the rules, `when` clauses, lets and groups that no case evaluated,
 * made true, or (rules) planned an action with, from the counts the
 * compiled probes of `grammar/coverage.ts` recorded.
 */
import { uncoveredReason, type CoverageItem, type CoverageKind } from "../../grammar/coverage.js";

export interface CoverageEntry {
  readonly kind: CoverageKind;
  readonly name: string;
  readonly line: number;
  readonly column: number;
  readonly evaluated: number;
  readonly held: number;
  readonly planned?: number;
  /** Why it is not covered; absent when it is. */
  readonly reason?: string;
}

export interface FileCoverage {
  readonly file: string;
  readonly covered: number;
  readonly total: number;
  readonly percent: number;
  readonly items: readonly CoverageEntry[];
}

export interface CoverageReport {
  readonly files: readonly FileCoverage[];
  readonly covered: number;
  readonly total: number;
  readonly percent: number;
}

const percent = (covered: number, total: number): number => (total === 0 ? 100 : Math.round((covered / total) * 1000) / 10);

/** Groups the recorded items by file (items come sorted by file and position). */
export function coverageReport(items: readonly CoverageItem[]): CoverageReport {
  const byFile = new Map<string, CoverageEntry[]>();
  for (const item of items) {
    const reason = uncoveredReason(item);
    const entry: CoverageEntry = {
      kind: item.kind,
      name: item.label,
      line: item.span.start.line,
      column: item.span.start.column,
      evaluated: item.evaluated,
      held: item.held,
      ...(item.kind === "rule" ? { planned: item.planned } : {}),
      ...(reason === null ? {} : { reason }),
    };
    let list = byFile.get(item.span.file);
    if (list === undefined) byFile.set(item.span.file, (list = []));
    list.push(entry);
  }
  const files: FileCoverage[] = [...byFile].map(([file, entries]) => {
    const covered = entries.filter((e) => e.reason === undefined).length;
    return { file, covered, total: entries.length, percent: percent(covered, entries.length), items: entries };
  });
  const covered = files.reduce((n, f) => n + f.covered, 0);
  const total = files.reduce((n, f) => n + f.total, 0);
  return { files, covered, total, percent: percent(covered, total) };
}

/** The text form: a line per file with its percentage, then a line per item not covered. */
export function renderCoverage(report: CoverageReport): string {
  const out: string[] = ["coverage:"];
  for (const f of report.files) {
    out.push(`  ${f.file}: ${f.percent.toFixed(1)}% (${f.covered}/${f.total})`);
    for (const e of f.items) if (e.reason !== undefined) out.push(`    ${f.file}:${e.line}:${e.column}: ${e.name}: ${e.reason}`);
  }
  out.push(`  total: ${report.percent.toFixed(1)}% (${report.covered}/${report.total})`);
  return out.join("\n") + "\n";
}
