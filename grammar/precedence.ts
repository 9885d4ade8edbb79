/**
 * Operator precedence for cst-to-ast.ts: the parser gives each expression as
 * a flat list of operands (with their prefix `not`/`-` tokens) and binary
 * operators, and precedence climbing over SPEC 2.2's levels makes the tree.
 * Chained comparisons (P111) and a `not` where an operand is needed (P112)
 * are reported here, where the levels are known.
 */
import type { CstNode, IToken } from "chevrotain";
import type { Diagnostic } from "./diagnostics.js";
import type { Expr, Span } from "./ast.js";
import * as E from "./syntax-errors.js";
import { binaryPrecedence, Minus, PREC } from "./tokens.js";

/** What the climber needs from the converter: the operands' cores and the nodes it builds. */
export interface ClimbTarget {
  /** An operand without its prefixes: the primary and its `.member`s. */
  core(node: CstNode): Expr;
  unaryNode(op: "-" | "not", t: IToken, operand: Expr): Expr;
  binaryNode(op: IToken, left: Expr, right: Expr): Expr;
  report(d: Diagnostic): void;
  tokenSpanOf(t: IToken): Span;
}

/**
 * Precedence climbing over one flat `expr`: operands (each with its prefix
 * `not`/`-` tokens) and the binary operators between them. Operator `i`
 * sits between operand `i` and operand `i + 1`.
 */
export class Climber {
  private readonly prefixes: IToken[][];
  private i = 0;
  private k = 0;

  constructor(
    private readonly operands: readonly CstNode[],
    private readonly ops: readonly IToken[],
    private readonly conv: ClimbTarget,
  ) {
    this.prefixes = operands.map((o) => (o.children["Prefix"] ?? []) as IToken[]);
  }

  /** Everything from here whose operators bind at least as tightly as `min`. */
  level(min: number): Expr {
    let left = this.prefixed(min);
    let compared = false;
    while (this.i < this.ops.length) {
      const op = this.ops[this.i]!;
      const prec = binaryPrecedence(op.tokenType);
      if (prec < min) break;
      if (prec === PREC.compare && compared) this.conv.report(E.chainedComparison(op.image, this.conv.tokenSpanOf(op)));
      this.i++;
      this.k = 0;
      const right = this.level(prec + 1);
      left = this.conv.binaryNode(op, left, right);
      compared = prec === PREC.compare;
    }
    return left;
  }

  /** The current operand with its remaining prefixes applied. */
  private prefixed(min: number): Expr {
    const prefixes = this.prefixes[this.i]!;
    if (this.k < prefixes.length) {
      const t = prefixes[this.k++]!;
      if (t.tokenType === Minus) return this.conv.unaryNode("-", t, this.prefixed(PREC.unary));
      if (min > PREC.not) this.conv.report(E.misplacedNot(this.conv.tokenSpanOf(t)));
      return this.conv.unaryNode("not", t, this.level(PREC.not));
    }
    return this.conv.core(this.operands[this.i]!);
  }
}
