/**
 * The readable form of a plan (SPEC 3) for `vmpolicy plan` without `--json`:
 * groups and values per policy, then actions, skips and errors, each line
 * naming its rule; with explanations, the binding and lets under each.
 * Colour is the caller's decision (a TTY without NO_COLOR).
 */
import pc from "picocolors";
import type { Explanation, JsonValue, Plan, PlannedAction, SkippedAction } from "../types.js";

export interface RenderOptions {
  readonly color: boolean;
}

/** Renders `plan` as lines of text ending in a newline. */
export function renderPlan(plan: Plan, options: RenderOptions): string {
  const c = pc.createColors(options.color);
  const out: string[] = [];

  out.push(c.bold("groups"));
  const policies = Object.keys(plan.groups);
  if (policies.every((p) => Object.keys(plan.groups[p]!).length === 0)) out.push("  (none)");
  for (const policy of policies) {
    const byGroup = new Map<string, string[]>();
    for (const [host, group] of Object.entries(plan.groups[policy]!)) {
      const list = byGroup.get(group) ?? [];
      list.push(host);
      byGroup.set(group, list);
    }
    if (byGroup.size === 0) continue;
    const parts = [...byGroup].map(([group, hosts]) => `${c.cyan(group)} ${hosts.join(" ")}`);
    out.push(`  ${policy}: ${parts.join("; ")}`);
  }

  out.push(c.bold("values"));
  const withValues = Object.entries(plan.values).filter(([, v]) => Object.keys(v).length > 0);
  if (withValues.length === 0) out.push("  (none)");
  for (const [policy, values] of withValues) {
    const parts = Object.entries(values).map(([k, v]) => `${k}=${formatValue(v)}`);
    out.push(`  ${policy}: ${parts.join(" ")}`);
  }

  out.push(c.bold(`actions (${plan.actions.length})`));
  if (plan.actions.length === 0) out.push("  (none)");
  for (const a of plan.actions) {
    out.push(`  ${c.green(describeAction(a))}  ${c.dim(a.rule)}`);
    if (a.explain) out.push(...explainLines(a.explain, c.dim));
  }

  if (plan.skipped.length > 0) {
    out.push(c.bold(`skipped (${plan.skipped.length})`));
    for (const s of plan.skipped) {
      out.push(`  ${c.yellow(describeSkip(s))}  ${c.dim(s.rule)}: ${s.reason}${s.constraint && !s.reason.includes(s.constraint) ? ` [${s.constraint}]` : ""}`);
      if (s.explain) out.push(...explainLines(s.explain, c.dim));
    }
  }
  if (plan.errors.length > 0) {
    out.push(c.bold(`errors (${plan.errors.length})`));
    for (const e of plan.errors) out.push(`  ${c.red(e.rule)}: ${e.message}`);
  }
  return out.join("\n") + "\n";
}

function describeAction(a: PlannedAction): string {
  if (a.kind === "alert") return `alert ${JSON.stringify(a.message)}`;
  return `${a.kind} ${a.vm} ${a.from} -> ${a.to}`;
}

function describeSkip(s: SkippedAction): string {
  const parts: string[] = [s.kind];
  if (s.vm !== undefined) parts.push(s.vm);
  if (s.host !== undefined) parts.push(s.host);
  if (s.from !== undefined || s.to !== undefined) parts.push(`${s.from ?? "?"} -> ${s.to ?? "?"}`);
  return parts.join(" ");
}

function explainLines(e: Explanation, dim: (s: string) => string): string[] {
  const binding = Object.entries(e.binding).map(([k, v]) => `${k}=${formatValue(v)}`);
  const lets = Object.entries(e.lets).map(([k, v]) => `${k}=${formatValue(v)}`);
  const lines: string[] = [];
  if (binding.length > 0) lines.push(dim(`      for ${binding.join(" ")}`));
  if (lets.length > 0) lines.push(dim(`      let ${lets.join(" ")}`));
  return lines;
}

/**
 * Numbers rounded to 3 decimals for reading; the JSON form keeps them exact.
 * Past 1e15 there are no decimals to round (and `v * 1000` could overflow to
 * Infinity), so big numbers print as they are.
 */
function formatValue(v: JsonValue): string {
  if (v === null) return "none";
  if (typeof v === "number") return String(Math.abs(v) < 1e15 ? Math.round(v * 1000) / 1000 : v);
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return String(v);
  return `[${v.map(formatValue).join(", ")}]`;
}
