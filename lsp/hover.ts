/**
 * Hover (SPEC 9): what the name under the cursor is. Fields, functions and
 * aggregates show their documentation from the stdlib tables; params,
 * lets, groups, constraints, rules and rule lets show their declaration
 * and type; a param or let also shows its value in the latest plan of a
 * running engine when the server was given `--engine URL`.
 */
import type { Hover } from "vscode-languageserver";
import type { ConstraintDecl, RuleDecl } from "../grammar/ast.js";
import { HOST_FIELDS, typeName, VM_FIELDS } from "../grammar/check-types.js";
import { printBinding, printExpr, printOrder } from "../grammar/print-expr.js";
import type { CheckedPolicy } from "../grammar/types.js";
import { aggregateInfo } from "../stdlib/aggregates.js";
import { HOST_FIELD_DOCS, VM_FIELD_DOCS } from "../stdlib/fields.js";
import { signatureOf, stdlibFunction } from "../stdlib/functions.js";
import type { FileAnalysis } from "./analysis.js";
import type { Target } from "./occurrences.js";
import { spanToRange } from "./ranges.js";

/** A value of the latest plan (`values.POLICY.NAME`), when an engine is configured. */
export type PlanValueLookup = (policy: string, name: string) => Promise<{ value: unknown; engine: string } | undefined>;

export const CAN_MOVE_DOC =
  "True exactly when the planner would accept `migrate vm to host` at that point (SPEC 2.6): honours pins, cooldown, memory, busy hosts and every constraint. Not allowed inside a constraint (`T229`).";

const code = (text: string): string => "```vmpolicy\n" + text + "\n```";

/** The hover at `offset` of a checked file, or null. */
export async function hover(analysis: FileAnalysis, offset: number, values?: PlanValueLookup): Promise<Hover | null> {
  const index = analysis.index;
  if (index === null) return null;
  const occurrence = index.at(offset);
  if (occurrence === undefined) return null;
  let text = describe(occurrence.target, index.policy);
  if (text === null) return null;
  const t = occurrence.target;
  if (values !== undefined && (t.kind === "param" || t.kind === "let")) {
    const v = await values(index.policy.name, t.decl.name.name).catch(() => undefined);
    if (v !== undefined) text += `\n\nIn the latest plan of ${v.engine}: \`${JSON.stringify(v.value)}\``;
  }
  return { contents: { kind: "markdown", value: text }, range: spanToRange(occurrence.span) };
}

/** The markdown describing a target. */
export function describe(t: Target, policy: CheckedPolicy): string | null {
  switch (t.kind) {
    case "param":
      return `${code(`param ${t.decl.name.name} = ${printExpr(t.decl.value)}`)}\n\nA param of policy \`${policy.name}\`; set it with \`${policy.name}.${t.decl.name.name}=VALUE\`.`;
    case "let": {
      const type = policy.types.get(t.decl.value);
      return `${code(`let ${t.decl.name.name} = ${printExpr(t.decl.value)}`)}\n\nA let of policy \`${policy.name}\`${type === undefined ? "" : `: ${typeName(type)}`}.`;
    }
    case "group":
      return `${code(`group ${t.decl.name.name} ${t.decl.when === null ? "otherwise" : `when ${printExpr(t.decl.when)}`}`)}\n\nA group of policy \`${policy.name}\`.`;
    case "ruleLet": {
      const type = policy.types.get(t.decl.value);
      return `${code(`let ${t.decl.name.name} = ${printExpr(t.decl.value)}`)}\n\nA let of rule \`${t.rule.name.name}\`${type === undefined ? "" : `: ${typeName(type)}`}.`;
    }
    case "element":
      return `\`${t.binding.alias?.name ?? t.binding.element}\`: a ${t.binding.element}, the element of \`${printBinding(t.binding)}\`.`;
    case "subject":
      if (t.of.kind === "GroupDecl") return `\`host\`: the host that group \`${t.of.name.name}\` classifies.`;
      return t.subject === "vm"
        ? `\`vm\`: the VM being placed, in constraint \`${t.of.name.name}\`.`
        : `\`host\`: the destination of the placement, in constraint \`${t.of.name.name}\`.`;
    case "constraint":
      return `${code(constraintText(t.decl))}\n\nChecked for every placement any rule of the set plans (SPEC 2.7).`;
    case "rule":
      return code(ruleHead(t.decl));
    case "script":
      return `${code(`function ${t.name}(…)  # ${t.arity} argument${t.arity === 1 ? "" : "s"}`)}\n\nA function of a \`script\` block, run in the QuickJS sandbox (SPEC 2.8).`;
    case "state":
      return `\`${t.state}\`: a host state (\`up\`, \`degraded\`, \`maintenance\`, \`down\`).`;
    case "field": {
      if (t.of === "labels") return `\`labels.${t.name}\`: the label \`${t.name}\`, a string, or none when it is not set.`;
      const fields = t.of === "host" ? HOST_FIELDS : VM_FIELDS;
      const docs = t.of === "host" ? HOST_FIELD_DOCS : VM_FIELD_DOCS;
      const type = fields.get(t.name);
      if (type === undefined) return null;
      return `\`${t.of}.${t.name}\`: ${typeName(type)}\n\n${docs[t.name] ?? ""}`.trimEnd();
    }
    case "stdlib": {
      const fn = stdlibFunction(t.name);
      if (fn === undefined) return null;
      return `${code(signatureOf(fn))}\n\n${fn.doc}\n\nExample: \`${fn.example}\`: ${fn.exampleResult}.`;
    }
    case "canMove":
      return `${code("can_move(vm, host) → bool")}\n\n${CAN_MOVE_DOC}`;
    case "aggregate": {
      const a = aggregateInfo(t.fn);
      return `${code(`${a.name}(VALUE for BINDING) → number`)}\n\n${a.doc}\n\nExample: \`${a.example}\``;
    }
  }
}

function constraintText(d: ConstraintDecl): string {
  const lines = [`constraint ${d.name.name}`];
  if (d.when !== null) lines.push(`  when ${printExpr(d.when)}`);
  lines.push(`  require ${printExpr(d.require)}`);
  return lines.join("\n");
}

function ruleHead(d: RuleDecl): string {
  const lines = [`rule ${d.name.name}${d.priority === null ? "" : ` priority ${d.priority.text}`}`];
  if (d.forEach !== null) {
    const order = d.forEach.order === null ? "" : ` ${printOrder(d.forEach.order)}`;
    lines.push(`  for each ${printBinding(d.forEach.binding)}${order}`);
  }
  return lines.join("\n");
}
