/**
 * Document symbols, the editor's outline (SPEC 9): the policy, and inside
 * it its params, lets, groups, script functions, constraints and rules
 * (a rule's lets inside the rule). From the AST when the file parses; from
 * a scan of its declaration lines when it does not, so the outline stays
 * while a line is half typed.
 */
import { SymbolKind, type DocumentSymbol, type Range } from "vscode-languageserver";
import type { Decl, PolicyFile } from "../grammar/ast.js";
import type { FileAnalysis } from "./analysis.js";
import { LineIndex, spanToRange } from "./ranges.js";

const KIND: Record<string, SymbolKind> = {
  param: SymbolKind.Constant,
  let: SymbolKind.Variable,
  group: SymbolKind.EnumMember,
  script: SymbolKind.Function,
  constraint: SymbolKind.Interface,
  rule: SymbolKind.Method,
};

function symbol(name: string, detail: string, kind: SymbolKind, range: Range, selectionRange: Range, children?: DocumentSymbol[]): DocumentSymbol {
  return children === undefined ? { name, detail, kind, range, selectionRange } : { name, detail, kind, range, selectionRange, children };
}

function declSymbols(decl: Decl, analysis: FileAnalysis): DocumentSymbol[] {
  const range = spanToRange(decl.span);
  switch (decl.kind) {
    case "ParamDecl":
      return [symbol(decl.name.name, "param", KIND["param"]!, range, spanToRange(decl.name.span))];
    case "LetDecl":
      return [symbol(decl.name.name, "let", KIND["let"]!, range, spanToRange(decl.name.span))];
    case "GroupDecl":
      return [symbol(decl.name.name, "group", KIND["group"]!, range, spanToRange(decl.name.span))];
    case "ConstraintDecl":
      return [symbol(decl.name.name, "constraint", KIND["constraint"]!, range, spanToRange(decl.name.span))];
    case "RuleDecl": {
      const lets = decl.clauses.flatMap((c) =>
        c.kind === "LetClause" ? [symbol(c.name.name, "let", KIND["let"]!, spanToRange(c.span), spanToRange(c.name.span))] : [],
      );
      return [symbol(decl.name.name, "rule", KIND["rule"]!, range, spanToRange(decl.name.span), lets)];
    }
    case "ScriptDecl": {
      const fns = analysis.index?.all.filter((o) => o.declaration && o.target.kind === "script" && o.target.decl === decl) ?? [];
      return fns.map((o) => symbol(o.target.kind === "script" ? o.target.name : "", "script function", KIND["script"]!, range, spanToRange(o.span)));
    }
  }
}

function fromAst(ast: PolicyFile, analysis: FileAnalysis): DocumentSymbol[] {
  const children = ast.decls.flatMap((d) => declSymbols(d, analysis));
  return [symbol(ast.name.name, "policy", SymbolKind.Module, spanToRange(ast.span), spanToRange(ast.name.span), children)];
}

const DECLARATION_LINE = /^([ \t]*)(policy|param|let|group|constraint|rule)[ \t]+([A-Za-z_][A-Za-z0-9_]*)/gm;

/** The outline of a text that does not parse: each line that starts a declaration. */
export function scanSymbols(text: string): DocumentSymbol[] {
  const lines = new LineIndex(text);
  const top: DocumentSymbol[] = [];
  let policy: DocumentSymbol | null = null;
  let rule: DocumentSymbol | null = null;
  for (const m of text.matchAll(DECLARATION_LINE)) {
    const [whole, indent, keyword, name] = m as unknown as [string, string, string, string];
    const start = m.index!;
    const lineEnd = text.indexOf("\n", start);
    const range = lines.range(start + indent.length, lineEnd < 0 ? text.length : lineEnd);
    const nameStart = start + whole.length - name.length;
    const s = symbol(name, keyword, keyword === "policy" ? SymbolKind.Module : KIND[keyword]!, range, lines.range(nameStart, nameStart + name.length), keyword === "rule" ? [] : undefined);
    if (keyword === "policy") {
      policy = { ...s, children: [] };
      top.push(policy);
      continue;
    }
    if (keyword === "let" && indent.length > 0 && rule !== null) {
      rule.children!.push(s);
      continue;
    }
    if (indent.length === 0) rule = keyword === "rule" ? s : null;
    (policy?.children ?? top).push(s);
  }
  return top;
}

/** `textDocument/documentSymbol`. */
export function documentSymbols(analysis: FileAnalysis): DocumentSymbol[] {
  return analysis.ast === null ? scanSymbols(analysis.text) : fromAst(analysis.ast, analysis);
}
