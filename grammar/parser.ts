/**
 * The chevrotain parser of SPEC 2.2, producing a CST that cst-to-ast.ts turns
 * into the AST. Built once per process and reused by every parse; outside
 * the tests building it reads the recorded grammar and lookahead paths
 * (recorded-grammar.ts, lookahead.ts) and leaves the follow sets to their first use, so
 * start-up pays ~12 ms of CPU, not ~50 (docs/cli-speed.md). Error recovery is on, so one run
 * reports every syntax error of a file; the messages come from
 * syntax-errors.ts through the error message provider.
 *
 * Where the grammar is not LL(k) as written, or where being exact would cost
 * speed, the parser is more permissive and cst-to-ast.ts decides:
 * - `NAME(e for b)` vs `NAME(a, b)` is one rule (`call`) whose first argument
 *   may be followed by `for BINDING` (P109 if NAME is not an aggregate);
 * - an expression is a flat list of operands and operators; cst-to-ast.ts
 *   applies precedence and rejects `a < b < c` (P111) and `a + not b` (P112);
 * - a name being declared may be a reserved word, reported as P106 while
 *   parsing, so that one misnamed `let` does not derail the rest of the file.
 */
import type { IOrAlt, IToken, Rule, TokenType } from "chevrotain";
import { CstParser } from "./chevrotain.js";
import {
  ALL_TOKENS,
  BinOp,
  binaryPrecedence,
  Comma,
  Dot,
  Duration,
  Equals,
  HostWord,
  Identifier,
  KW,
  Keyword,
  LBracket,
  LParen,
  Minus,
  NumberTok,
  PREC,
  Prefix,
  RBracket,
  RParen,
  String3,
  StringTok,
  VmWord,
} from "./tokens.js";
import { syntaxMessageProvider } from "./syntax-errors.js";
import { LazyLookahead, MAX_LOOKAHEAD } from "./lookahead.js";
import { decodeGrammar, decodeLookahead } from "./recorded-grammar.js";
import { RECORDED_GRAMMAR, RECORDED_LOOKAHEAD } from "./recorded-grammar-data.js";

function isElementWord(token: IToken): boolean {
  return token.tokenType === HostWord || token.tokenType === VmWord;
}

/** chevrotain's internal name of the phase that computes the follow sets error recovery resynchronises on. */
const FOLLOWS_PHASE = "computeAllProdsFollows";
/** chevrotain's internal name of the phase that runs every rule once to record the grammar. */
const RECORDING_PHASE = "Grammar Recording";

/** The grammar; one instance, see `policyParser`. */
export class PolicyParser extends CstParser {
  constructor(private readonly validating: boolean) {
    super(ALL_TOKENS, {
      recoveryEnabled: true,
      maxLookahead: MAX_LOOKAHEAD,
      lookaheadStrategy: new LazyLookahead(validating || RECORDED_GRAMMAR.length === 0 ? null : decodeLookahead(RECORDED_LOOKAHEAD, new Map(ALL_TOKENS.map((t) => [t.name, t])))),
      skipValidations: !validating,
      errorMessageProvider: syntaxMessageProvider,
    });
    this.performSelfAnalysis();
  }

  /** The grammar as chevrotain holds it (recorded, or read from recorded-grammar-data.ts). */
  grammarRules(): Rule[] {
    return Object.values((this as unknown as { gastProductionsCache: Record<string, Rule> }).gastProductionsCache);
  }

  /**
   * The follow sets are needed only to recover from a syntax error, so
   * `performSelfAnalysis` does not compute them (~15 ms of start-up): the
   * first recovery does. Both overrides hook chevrotain internals (version
   * pinned); test/grammar/parser-errors.test.ts covers recovery.
   */
  private computeFollows: (() => unknown) | null = null;

  /**
   * Outside the tests the grammar is not recorded but read from
   * recorded-grammar-data.ts (test/grammar/recorded-grammar.test.ts keeps it
   * equal to what recording gives); under the tests it is recorded and validated.
   */
  protected TRACE_INIT<T>(phase: string, impl: () => T): T {
    if (phase === RECORDING_PHASE && !this.validating && RECORDED_GRAMMAR.length > 0) {
      const byName = new Map(ALL_TOKENS.map((t) => [t.name, t]));
      const cache = (this as unknown as { gastProductionsCache: Record<string, unknown> }).gastProductionsCache;
      for (const rule of decodeGrammar(RECORDED_GRAMMAR, byName)) cache[rule.name] = rule;
      return undefined as T;
    }
    if (phase === FOLLOWS_PHASE) {
      this.computeFollows = impl;
      return undefined as T;
    }
    return (CstParser.prototype as unknown as { TRACE_INIT(p: string, i: () => T): T }).TRACE_INIT.call(this, phase, impl);
  }

  protected getFollowSetFromFollowKey(key: unknown): TokenType[] {
    if (this.computeFollows !== null) {
      const compute = this.computeFollows;
      this.computeFollows = null;
      compute();
    }
    return (CstParser.prototype as unknown as { getFollowSetFromFollowKey(k: unknown): TokenType[] }).getFollowSetFromFollowKey.call(this, key);
  }

  /** Reserved words used as names in the last parse (P106), found while parsing so recovery cannot hide them. */
  reservedNames: IToken[] = [];

  /**
   * A name that expressions can refer to (param, let, group, alias). A
   * reserved word is accepted here and reported, so the parse goes on as if
   * it were a name instead of cascading into more errors.
   */
  readonly name = this.RULE("name", () => {
    this.OR([
      { ALT: () => this.CONSUME(Identifier) },
      {
        ALT: () => {
          const word = this.CONSUME(Keyword);
          this.ACTION(() => this.reservedNames.push(word));
        },
      },
    ]);
  });

  /**
   * The name of a policy, rule or constraint: a label no expression refers
   * to, so any word will do (SPEC 2.1 itself has `policy evacuate` and `rule recover`).
   */
  readonly label = this.RULE("label", () => {
    this.OR([{ ALT: () => this.CONSUME(Identifier) }, { ALT: () => this.CONSUME(Keyword) }]);
  });

  readonly file = this.RULE("file", () => {
    this.CONSUME(KW.policy);
    this.SUBRULE(this.label);
    this.MANY(() => this.SUBRULE(this.decl));
  });

  readonly decl = this.RULE("decl", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.paramDecl) },
      { ALT: () => this.SUBRULE(this.letDecl) },
      { ALT: () => this.SUBRULE(this.groupDecl) },
      { ALT: () => this.SUBRULE(this.scriptDecl) },
      { ALT: () => this.SUBRULE(this.constraintDecl) },
      { ALT: () => this.SUBRULE(this.ruleDecl) },
    ]);
  });

  readonly paramDecl = this.RULE("paramDecl", () => {
    this.CONSUME(KW.param);
    this.SUBRULE(this.name);
    this.CONSUME(Equals);
    this.SUBRULE(this.literal);
  });

  readonly literal = this.RULE("literal", () => {
    this.OR([
      {
        ALT: () => {
          this.OPTION(() => this.CONSUME(Minus));
          this.CONSUME(NumberTok);
        },
      },
      { ALT: () => this.CONSUME(Duration) },
      { ALT: () => this.CONSUME(StringTok) },
      { ALT: () => this.CONSUME(KW.true) },
      { ALT: () => this.CONSUME(KW.false) },
    ]);
  });

  readonly letDecl = this.RULE("letDecl", () => {
    this.CONSUME(KW.let);
    this.SUBRULE(this.name);
    this.CONSUME(Equals);
    this.SUBRULE(this.expr);
  });

  readonly groupDecl = this.RULE("groupDecl", () => {
    this.CONSUME(KW.group);
    this.SUBRULE(this.name);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(KW.when);
          this.SUBRULE(this.expr);
        },
      },
      { ALT: () => this.CONSUME(KW.otherwise) },
    ]);
  });

  readonly scriptDecl = this.RULE("scriptDecl", () => {
    this.CONSUME(KW.script);
    this.CONSUME(String3);
  });

  readonly constraintDecl = this.RULE("constraintDecl", () => {
    this.CONSUME(KW.constraint);
    this.SUBRULE(this.label);
    this.OPTION(() => {
      this.CONSUME(KW.when);
      this.SUBRULE(this.expr, { LABEL: "when" });
    });
    this.CONSUME(KW.require);
    this.SUBRULE2(this.expr, { LABEL: "require" });
  });

  readonly ruleDecl = this.RULE("ruleDecl", () => {
    this.CONSUME(KW.rule);
    this.SUBRULE(this.label);
    this.OPTION(() => {
      this.CONSUME(KW.priority);
      this.CONSUME(NumberTok);
    });
    this.OPTION2(() => this.SUBRULE(this.forEach));
    this.MANY(() => this.SUBRULE(this.clause));
    this.CONSUME(KW.then);
    this.SUBRULE(this.action);
    this.MANY2(() => {
      this.CONSUME(Comma);
      this.SUBRULE2(this.action);
    });
  });

  readonly forEach = this.RULE("forEach", () => {
    this.CONSUME(KW.for);
    this.CONSUME(KW.each);
    this.SUBRULE(this.binding);
    this.OPTION(() => this.SUBRULE(this.order));
  });

  /** `by KEY (asc|desc)?`, shared by `for each` and `pick`. */
  readonly order = this.RULE("order", () => {
    this.CONSUME(KW.by);
    this.SUBRULE(this.expr, { LABEL: "key", ARGS: [PREC.sum] });
    this.OPTION(() => {
      this.OR([{ ALT: () => this.CONSUME(KW.asc) }, { ALT: () => this.CONSUME(KW.desc) }]);
    });
  });

  readonly clause = this.RULE("clause", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(KW.when);
          this.SUBRULE(this.expr);
        },
      },
      {
        ALT: () => {
          this.CONSUME(KW.let);
          this.SUBRULE(this.name);
          this.CONSUME(Equals);
          this.SUBRULE2(this.expr);
        },
      },
    ]);
  });

  readonly action = this.RULE("action", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(KW.migrate);
          this.SUBRULE(this.expr, { LABEL: "vm" });
          this.CONSUME(KW.to);
          this.SUBRULE2(this.expr, { LABEL: "to" });
        },
      },
      {
        ALT: () => {
          this.CONSUME(KW.evacuate);
          this.SUBRULE3(this.expr);
        },
      },
      {
        ALT: () => {
          this.CONSUME(KW.recover);
          this.SUBRULE4(this.expr);
        },
      },
      {
        ALT: () => {
          this.CONSUME(KW.alert);
          this.SUBRULE5(this.expr);
        },
      },
    ]);
  });

  /** `GROUP? (host|vm) (in SUM)? (as NAME)? (where OR)?` */
  readonly binding = this.RULE("binding", () => {
    this.OPTION({
      // A group name is only there when the element word follows it.
      GATE: () => isElementWord(this.LA(2)),
      DEF: () => this.CONSUME(Identifier, { LABEL: "group" }),
    });
    this.OR([{ ALT: () => this.CONSUME(HostWord) }, { ALT: () => this.CONSUME(VmWord) }]);
    this.OPTION2(() => {
      this.CONSUME(KW.in);
      this.SUBRULE(this.expr, { LABEL: "source", ARGS: [PREC.sum] });
    });
    this.OPTION3(() => {
      this.CONSUME(KW.as);
      this.SUBRULE2(this.name, { LABEL: "alias" });
    });
    this.OPTION4(() => {
      this.CONSUME(KW.where);
      this.SUBRULE2(this.expr, { LABEL: "where", ARGS: [PREC.or] });
    });
  });

  /**
   * An expression, flat: `operand (operator operand)*`. cst-to-ast.ts applies
   * the precedence of SPEC 2.2; one CST node per operand instead of one per
   * precedence level keeps parsing fast. `minPrec` limits which operators
   * belong to this expression: all of them by default, down to `or` for a
   * binding's `where`, arithmetic only for a sort key or a binding's source.
   */
  readonly expr = this.RULE("expr", (minPrec?: number) => {
    const outer = this.exprMin;
    this.exprMin = minPrec ?? PREC.coalesce;
    try {
      this.SUBRULE(this.operand);
      this.MANY(
        (this.moreOperands ??= {
          GATE: () => binaryPrecedence(this.LA(1).tokenType) >= this.exprMin,
          DEF: () => {
            this.CONSUME(BinOp);
            this.SUBRULE2(this.operand);
          },
        }),
      );
    } finally {
      // An operand holds expressions of its own (in brackets, a call's arguments); the gate reads this one's bound again after them.
      this.exprMin = outer;
    }
  });

  /** The `expr` being read's `minPrec`, for its `MANY`'s gate, which is made once (see `primaries`). */
  private exprMin: number = PREC.coalesce;
  private moreOperands?: { GATE: () => boolean; DEF: () => void };

  /**
   * The operand's alternatives, made once (chevrotain's advice for hot `OR`s):
   * a new array of thirteen closures for every operand was a quarter of all a
   * parse allocated.
   */
  private primaries?: IOrAlt<unknown>[];
  private members?: IOrAlt<unknown>[];

  /** `(not | -)* primary (. NAME)*` */
  readonly operand = this.RULE("operand", () => {
    this.MANY(() => this.CONSUME(Prefix));
    this.OR(
      (this.primaries ??= [
        { ALT: () => this.CONSUME(NumberTok) },
        { ALT: () => this.CONSUME(Duration) },
        { ALT: () => this.CONSUME(StringTok) },
        { ALT: () => this.CONSUME(KW.true) },
        { ALT: () => this.CONSUME(KW.false) },
        { ALT: () => this.CONSUME(KW.none) },
        { ALT: () => this.SUBRULE(this.call) },
        { ALT: () => this.CONSUME(Identifier) },
        { ALT: () => this.SUBRULE(this.paren) },
        { ALT: () => this.SUBRULE(this.list) },
        { ALT: () => this.SUBRULE(this.count) },
        { ALT: () => this.SUBRULE(this.quantifier) },
        { ALT: () => this.SUBRULE(this.pick) },
      ]),
    );
    this.MANY2(() => {
      this.CONSUME(Dot);
      // A field may be named like a keyword: `host.group`.
      this.OR2(
        (this.members ??= [
          { ALT: () => this.CONSUME2(Identifier, { LABEL: "member" }) },
          { ALT: () => this.CONSUME(Keyword, { LABEL: "member" }) },
        ]),
      );
    });
  });

  /** `NAME(args)` or, with `for`, an aggregate `AGG(value for binding)`. */
  readonly call = this.RULE("call", () => {
    this.CONSUME(Identifier);
    this.CONSUME(LParen);
    this.OPTION(() => {
      this.SUBRULE(this.expr);
      this.OR([
        {
          ALT: () => {
            this.CONSUME(KW.for);
            this.SUBRULE(this.binding);
          },
        },
        {
          ALT: () =>
            this.MANY(() => {
              this.CONSUME(Comma);
              this.SUBRULE2(this.expr);
            }),
        },
      ]);
    });
    this.CONSUME(RParen);
  });

  readonly paren = this.RULE("paren", () => {
    this.CONSUME(LParen);
    this.SUBRULE(this.expr);
    this.CONSUME(RParen);
  });

  readonly list = this.RULE("list", () => {
    this.CONSUME(LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.expr);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.expr);
      });
    });
    this.CONSUME(RBracket);
  });

  readonly count = this.RULE("count", () => {
    this.CONSUME(KW.count);
    this.CONSUME(LParen);
    this.SUBRULE(this.binding);
    this.CONSUME(RParen);
  });

  readonly quantifier = this.RULE("quantifier", () => {
    this.OR([{ ALT: () => this.CONSUME(KW.exists) }, { ALT: () => this.CONSUME(KW.no) }]);
    this.SUBRULE(this.binding);
  });

  readonly pick = this.RULE("pick", () => {
    this.CONSUME(KW.pick);
    this.SUBRULE(this.binding);
    this.SUBRULE(this.order);
  });
}

let instance: PolicyParser | null = null;

/**
 * The process-wide parser. Grammar validation runs only under vitest, where
 * a grammar mistake should fail loudly; elsewhere it is skipped for start-up time.
 */
export function policyParser(): PolicyParser {
  if (instance === null) instance = new PolicyParser(process.env["VITEST"] !== undefined);
  return instance;
}
