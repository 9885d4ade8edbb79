/**
 * Between the language's spans (1-based lines and columns, end exclusive)
 * and LSP ranges (0-based lines and UTF-16 characters). Both count columns
 * in JavaScript string units, so the conversion is arithmetic; offsets in
 * a text go through its line starts.
 */
import type { Position as LspPosition, Range } from "vscode-languageserver";
import type { Span } from "../grammar/ast.js";

/** The LSP range of a span. */
export function spanToRange(span: Span): Range {
  return {
    start: { line: span.start.line - 1, character: span.start.column - 1 },
    end: { line: span.end.line - 1, character: span.end.column - 1 },
  };
}

/** Offsets of the first character of each line of a text. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }

  /** The offset of an LSP position, clamped into the text. */
  offset(p: LspPosition): number {
    const line = Math.max(0, Math.min(p.line, this.starts.length - 1));
    const start = this.starts[line]!;
    const end = line + 1 < this.starts.length ? this.starts[line + 1]! - 1 : this.text.length;
    return Math.min(start + Math.max(0, p.character), end);
  }

  /** The LSP position of an offset. */
  position(offset: number): LspPosition {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - this.starts[lo]! };
  }

  /** The LSP range between two offsets. */
  range(start: number, end: number): Range {
    return { start: this.position(start), end: this.position(end) };
  }

  /** The whole text's range. */
  whole(): Range {
    return this.range(0, this.text.length);
  }
}
