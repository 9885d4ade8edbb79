/**
 * A YAML test file read with positions: values as plain data, and for any
 * path into the document (`["tests", 2, "expect", "actions"]`) the span of
 * its text, so every problem with a test file is reported at its line like
 * `vmpolicy check` reports a policy's.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import type { Position, Span } from "../../grammar/ast.js";
import { makeDiagnostic, type Diagnostic } from "../../grammar/diagnostics.js";

export type YamlPath = readonly (string | number)[];

export class YamlSource {
  readonly diagnostics: Diagnostic[] = [];
  /** The document as plain data; undefined when it does not parse. */
  readonly data: unknown;
  private readonly doc: Document;
  private readonly lines = new LineCounter();

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    for (const err of this.doc.errors) {
      const [start, end] = err.pos;
      const message = err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
      this.diagnostics.push(makeDiagnostic("F501", "error", `not valid YAML: ${message}`, this.span(start, Math.max(end, start + 1))));
    }
    this.data = this.doc.errors.length > 0 ? undefined : this.doc.toJS({ maxAliasCount: 100 });
  }

  /** Reports `message` at the text of `path` (the key, for a mapping entry; the whole document for []). */
  fail(path: YamlPath, message: string, code = "F502"): void {
    this.diagnostics.push(makeDiagnostic(code, "error", message, this.spanOf(path)));
  }

  /** The key's text for a mapping entry (what a reader looks for), else the value's. */
  spanOf(path: YamlPath): Span {
    if (path.length === 0) return this.span(0, Math.min(1, this.text.length));
    const parent = path.length === 1 ? this.doc.contents : this.doc.getIn(path.slice(0, -1), true);
    const last = path[path.length - 1]!;
    if (isMap(parent)) {
      const pair = parent.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === last);
      const node = (pair?.key ?? pair?.value) as { range?: [number, number, number] } | undefined;
      if (node?.range) return this.span(node.range[0], node.range[1]);
    }
    if (isSeq(parent) && typeof last === "number") {
      const node = parent.items[last] as { range?: [number, number, number] } | undefined;
      if (node?.range) return this.span(node.range[0], isMap(node) || isSeq(node) ? node.range[0] + 1 : node.range[1]);
    }
    // A path into data that has no node of its own (a key that is missing): the parent's place.
    return path.length > 1 ? this.spanOf(path.slice(0, -1)) : this.span(0, Math.min(1, this.text.length));
  }

  /** The line (1-based) of `path`. */
  lineOf(path: YamlPath): number {
    return this.spanOf(path).start.line;
  }

  private span(start: number, end: number): Span {
    return { file: this.file, start: this.position(start), end: this.position(Math.max(start, end)) };
  }

  private position(offset: number): Position {
    const at = this.lines.linePos(offset);
    return { offset, line: at.line, column: at.col };
  }
}
