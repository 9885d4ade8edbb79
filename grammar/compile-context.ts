/**
 * The state of compiling one policy: slot allocation for everything that
 * holds a value during a round, and the lookups the checker already did
 * (symbols, types, calls). Kept apart from the expression compiler so that
 * declarations and expressions share one allocator.
 */
import type { Binding, GroupDecl, LetDecl } from "./ast.js";
import type { Evaluator } from "./compile-types.js";
import type { CheckedPolicy } from "./types.js";

/** One policy's compile-time bookkeeping. */
export class CompileContext {
  private readonly slotOf = new Map<object, number>();
  private nextSlot = 0;
  /** Index of each top-level let in `letState`. */
  readonly letIndex = new Map<LetDecl, number>();
  /** The compiled value of each top-level let, filled once all are compiled. */
  readonly letEvals: Evaluator[] = [];
  readonly letNames: string[] = [];
  /** Group name → index, in declaration order. */
  readonly groupIndex = new Map<string, number>();

  constructor(readonly policy: CheckedPolicy) {
    for (const decl of policy.ast.decls) {
      if (decl.kind === "LetDecl") {
        this.letIndex.set(decl, this.letNames.length);
        this.letNames.push(decl.name.name);
      } else if (decl.kind === "GroupDecl" && !this.groupIndex.has(decl.name.name)) {
        this.groupIndex.set(decl.name.name, this.groupIndex.size);
      }
    }
  }

  /** The slot of a node that holds a value (a param, a let, a binding element, a subject); allocated on first use. */
  slot(key: object): number {
    let slot = this.slotOf.get(key);
    if (slot === undefined) {
      slot = this.nextSlot++;
      this.slotOf.set(key, slot);
    }
    return slot;
  }

  private readonly hostSubjects = new Map<object, number>();

  /** The slots of a constraint's `vm` (the decl's own slot) and `host`. */
  subjectSlot(decl: object, subject: "vm" | "host"): number {
    if (subject === "vm") return this.slot(decl);
    let slot = this.hostSubjects.get(decl);
    if (slot === undefined) {
      slot = this.nextSlot++;
      this.hostSubjects.set(decl, slot);
    }
    return slot;
  }

  private nextSite = 0;

  /** A new index into `EvalEnv.caches`. */
  site(): number {
    return this.nextSite++;
  }

  get siteCount(): number {
    return this.nextSite;
  }

  get slotCount(): number {
    return this.nextSlot;
  }

  groupOfDecl(decl: GroupDecl): number {
    return this.groupIndex.get(decl.name.name) ?? -1;
  }

  /** The slot of a binding's element. */
  bindingSlot(binding: Binding): number {
    return this.slot(binding);
  }
}
