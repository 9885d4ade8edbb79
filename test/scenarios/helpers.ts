/**
 * Shared by the planning tests: load policy files (or texts) through the
 * real front door, validate facts, plan one round. Anything that goes wrong
 * before planning throws with the diagnostics or fact errors in the message.
 */
import { readFile, readdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { validateFacts } from "../../engine/plan/facts.js";
import { planRound } from "../../engine/plan/index.js";
import { loadPolicySet, type PolicySource } from "../../engine/policy/set.js";
import { DEFAULT_PLAN_SETTINGS, type Facts, type Plan, type PlanSettings } from "../../engine/types.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** `policies/*.policy`, as the CLI loads them by default. */
export async function defaultPolicySources(): Promise<PolicySource[]> {
  return policySourcesOf(["policies/cslb.policy", "policies/evacuate.policy"]);
}

/** Reads policy files named relative to the repository root (folders: their `.policy` files, sorted). */
export async function policySourcesOf(paths: readonly string[]): Promise<PolicySource[]> {
  const out: PolicySource[] = [];
  for (const path of paths) {
    const full = resolve(ROOT, path);
    if (full.endsWith(".policy")) {
      out.push({ file: path, text: await readFile(full, "utf8") });
    } else {
      const names = (await readdir(full)).filter((n) => n.endsWith(".policy")).sort();
      for (const n of names) out.push({ file: join(path, n), text: await readFile(join(full, n), "utf8") });
    }
  }
  return out;
}

export function factsOf(input: unknown): Facts {
  const r = validateFacts(input);
  if (!r.ok) throw new Error(`bad facts:\n${r.errors.map((e) => `${e.path}: ${e.message}`).join("\n")}`);
  return r.facts;
}

/** Loads `sources` with `params`, plans one round over `facts`, disposes the set. */
export async function planWith(
  sources: readonly PolicySource[],
  facts: unknown,
  settings: Partial<PlanSettings> = {},
  params: readonly string[] = [],
): Promise<Plan> {
  const loaded = await loadPolicySet(sources, { params });
  if (loaded.set === null) {
    const text = loaded.diagnostics.map((d) => `${d.span.file}:${d.span.start.line}:${d.span.start.column}: ${d.severity}: ${d.message}`);
    throw new Error(`policy set refused:\n${text.join("\n")}`);
  }
  try {
    return planRound(loaded.set, factsOf(facts), { ...DEFAULT_PLAN_SETTINGS, ...settings });
  } finally {
    loaded.set.dispose();
  }
}

/** The plan as JSON sees it (drops undefined, normalises -0). */
export function asJson(plan: Plan): unknown {
  return JSON.parse(JSON.stringify(plan));
}

type VmSpec = [name: string, cpu: number, mem?: number, extra?: Record<string, unknown>];

/** A host of a facts snapshot: `host("h1", 4, 8192, [["a", 100], ["b", 20, 2048, { pinned: true }]])`. */
export function host(name: string, cpus: number, mem: number, vms: readonly VmSpec[], extra: Record<string, unknown> = {}) {
  return {
    name,
    state: "up",
    cpus,
    mem,
    ...extra,
    vms: vms.map(([vm, cpu, vmMem, more]) => ({ name: vm, cpu, mem: vmMem ?? 1024, ...(more ?? {}) })),
  };
}

/** Applies a plan's migrations and restarts to raw facts (for multi-round tests), marking moved VMs recent. */
export function applyPlan(
  facts: { hosts: ReturnType<typeof host>[]; recent?: { vm: string; seconds_ago: number }[] },
  plan: Plan,
  secondsAgo = 600,
) {
  const hosts = facts.hosts.map((h) => ({ ...h, vms: [...h.vms] }));
  const moved = new Set(plan.actions.flatMap((a) => (a.kind === "alert" ? [] : [a.vm])));
  const recent = (facts.recent ?? []).filter((r) => !moved.has(r.vm));
  for (const a of plan.actions) {
    if (a.kind === "alert") continue;
    const from = hosts.find((h) => h.name === a.from)!;
    const to = hosts.find((h) => h.name === a.to)!;
    const i = from.vms.findIndex((v) => v.name === a.vm);
    to.vms.push(from.vms[i]!);
    from.vms.splice(i, 1);
    recent.push({ vm: a.vm, seconds_ago: secondsAgo });
  }
  return { hosts, recent };
}
