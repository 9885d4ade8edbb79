/**
 * The shadow set (SPEC 10, `run --shadow PATH…`, config `shadow`): a
 * second policy set planned every round right after the active one, on the
 * same validated facts and settings, and never executed — not journaled,
 * not sent to any agent. It shows what a new policy would decide on the
 * live cluster (`/status`, `GET /plan?set=shadow`, metrics) before an
 * operator promotes it (`POST /shadow/promote`).
 *
 * It hot-reloads like the active set (a watcher on its paths, and with
 * every `POST /reload`/SIGHUP): only a set without errors replaces the
 * shadow; a broken file leaves the previous shadow planning and shows as
 * its `reload_error`. A shadow that never loaded plans nothing.
 */
import type { Logger } from "pino";
import type { CompiledPolicySet } from "../../grammar/compile.js";
import type { JournalEntry, PolicyInfo, ReloadError, ReloadResult, ShadowStatus } from "../http/control.js";
import { planRound } from "../plan/index.js";
import { diffActions } from "../replay/compare.js";
import { bareAction } from "../replay/recording.js";
import type { Facts, Plan, PlanSettings } from "../types.js";
import { newActionId } from "./journal.js";
import { formatDiagnostic, type LoadedSet, type LoadResult } from "./reload.js";

/** One round's comparison (the engine's `shadow` event, for the metrics). */
export interface ShadowRound {
  readonly plan: Plan;
  readonly differing: boolean;
}

/** See the module comment. */
export class Shadow {
  private set: CompiledPolicySet | null = null;
  private policies: readonly PolicyInfo[] = [];
  private reloadError: ReloadError | null = null;
  private compared = 0;
  private differing = 0;
  private lastDifference: ShadowStatus["last_difference"] = null;
  private lastPlan: Plan | null = null;
  private disposed = false;

  constructor(
    readonly paths: readonly string[],
    private readonly load: () => Promise<LoadResult>,
    private readonly log: Logger,
  ) {}

  /** Loads the shadow set's files; a set with errors leaves the current one (if any) in place. */
  async reload(): Promise<ReloadResult> {
    const loaded = await this.load();
    if (this.disposed) {
      if (loaded.ok) loaded.loaded.set.dispose();
      return loaded.ok ? { ok: true, policies: loaded.loaded.policies } : { ok: false, diagnostics: loaded.diagnostics };
    }
    if (!loaded.ok) {
      this.reloadError = { at: new Date().toISOString(), diagnostics: loaded.diagnostics };
      this.log.error(
        { shadow: this.paths },
        `shadow set not loaded; ${this.set ? "the previous shadow set keeps planning" : "no shadow planning until it loads"}:\n${loaded.diagnostics.map(formatDiagnostic).join("\n")}`,
      );
      return { ok: false, diagnostics: loaded.diagnostics };
    }
    for (const d of loaded.loaded.warnings) this.log.warn(`shadow: ${formatDiagnostic(d)}`);
    // Rounds plan the shadow synchronously, so this swap never falls inside one.
    const old = this.set;
    this.set = loaded.loaded.set;
    this.policies = loaded.loaded.policies;
    this.reloadError = null;
    old?.dispose();
    this.log.info({ shadow: this.policies.map((p) => p.file) }, `shadow set loaded: ${this.policies.map((p) => `${p.name} (${p.hash.slice(0, 12)})`).join(", ")}; planned every round, never executed`);
    return { ok: true, policies: this.policies };
  }

  /**
   * Plans the round's facts with the shadow set and compares its actions
   * with the active plan's. Null when no shadow set is loaded.
   */
  planRound(facts: Facts, settings: PlanSettings, active: Plan, round: number, at: string): ShadowRound | null {
    if (this.set === null) return null;
    const plan = planRound(this.set, facts, settings);
    this.lastPlan = plan;
    this.compared++;
    const d = diffActions(active.actions, plan.actions);
    const differing = d.onlyA.length > 0 || d.onlyB.length > 0;
    if (differing) {
      this.differing++;
      this.lastDifference = { round, at, only_active: d.onlyA.map(bareAction), only_shadow: d.onlyB.map(bareAction) };
    }
    return { plan, differing };
  }

  /** The shadow's last plan, or null before its first round. */
  plan(): Plan | null {
    return this.lastPlan;
  }

  status(): ShadowStatus {
    return {
      paths: this.paths,
      policies: this.policies,
      hash: this.set?.hash ?? null,
      reload_error: this.reloadError,
      rounds_compared: this.compared,
      rounds_differing: this.differing,
      last_difference: this.lastDifference,
    };
  }

  /** Hands the loaded set over (promotion) and leaves the shadow empty; null when none is loaded. */
  take(): LoadedSet | null {
    if (this.set === null) return null;
    const taken: LoadedSet = { set: this.set, policies: this.policies, warnings: [] };
    this.set = null;
    return taken;
  }

  /** Frees the set; later reloads are dropped. */
  dispose(): void {
    this.disposed = true;
    this.set?.dispose();
    this.set = null;
  }
}

/** The journal line of a promotion (`POST /shadow/promote`): one `promote` line, nothing to finish. */
export function promotionEntry(was: readonly PolicyInfo[], now: readonly PolicyInfo[], paths: readonly string[]): JournalEntry {
  const names = (ps: readonly PolicyInfo[]) => ps.map((p) => p.name).join(", ");
  return {
    id: `promote-${newActionId()}`,
    phase: "start",
    at: new Date().toISOString(),
    kind: "promote",
    message: `shadow set promoted to active: ${names(now)} (was ${names(was)}); files: ${paths.join(", ")}`,
    rule: "shadow.promote",
  };
}
