/**
 * Handing a checked policy set from the worker thread to the event loop
 * (`off-loop.ts`). A checked set is its ASTs plus the checker's side tables
 * (Maps keyed by AST node), so it must arrive as one object graph: node
 * identity matters. Posted as one message, the structured clone of a 1 MiB
 * set (~28 MB serialized) is rebuilt on the loop in one go, 1.3–2 s with
 * nothing else running. Here it is written with one `v8.Serializer` as many
 * values (the declarations a few at a time, then each file, then the side
 * tables' entries in slices; the serializer's back-references keep node
 * identity across values) and read back value by value, awaiting `pause`
 * between them, so the loop keeps turning while the graph is rebuilt.
 */
import { Deserializer, Serializer } from "node:v8";
import type { Decl, PolicyFile } from "../../grammar/ast.js";
import type { CheckedPolicy, CheckResult } from "../../grammar/types.js";

/** Declarations per serialized value: a few milliseconds of rebuilding each. */
const DECLS_PER_VALUE = 32;
/** Side-table entries per serialized value (their keys are back-references, cheap to read). */
const ENTRIES_PER_VALUE = 2048;

type Tables = Pick<CheckedPolicy, "symbols" | "types" | "calls">;
const TABLES = ["symbols", "types", "calls"] as const satisfies readonly (keyof Tables)[];

function slices<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Writes `checked` as a sequence of values `decodeChecked` reads back in order. */
export function encodeChecked(checked: CheckResult): Buffer {
  const s = new Serializer();
  s.writeHeader();
  s.writeValue({ policies: checked.policies.length, diagnostics: checked.diagnostics, ok: checked.ok });
  for (const p of checked.policies) {
    const declSlices = slices(p.ast.decls, DECLS_PER_VALUE);
    s.writeValue(declSlices.length);
    for (const slice of declSlices) s.writeValue(slice);
    // The file after its declarations: its `decls` are back-references by now.
    s.writeValue(p.ast);
    for (const table of TABLES) {
      const entrySlices = slices([...p[table]], ENTRIES_PER_VALUE);
      s.writeValue(entrySlices.length);
      for (const slice of entrySlices) s.writeValue(slice);
    }
    s.writeValue({ file: p.file, name: p.name, scriptFunctions: p.scriptFunctions });
  }
  return s.releaseBuffer();
}

/** Rebuilds what `encodeChecked` wrote, awaiting `pause` between values. */
export async function decodeChecked(bytes: Uint8Array, pause: () => Promise<void>): Promise<CheckResult> {
  const d = new Deserializer(bytes);
  d.readHeader();
  const read = async <T>(): Promise<T> => {
    await pause();
    return d.readValue() as T;
  };
  const head = await read<{ policies: number; diagnostics: CheckResult["diagnostics"]; ok: boolean }>();
  const policies: CheckedPolicy[] = [];
  for (let i = 0; i < head.policies; i++) {
    const declSlices = await read<number>();
    for (let j = 0; j < declSlices; j++) await read<Decl[]>();
    const ast = await read<PolicyFile>();
    const tables: Partial<Record<keyof Tables, Map<unknown, unknown>>> = {};
    for (const table of TABLES) {
      const map = new Map<unknown, unknown>();
      const entrySlices = await read<number>();
      for (let j = 0; j < entrySlices; j++) for (const [k, v] of await read<[unknown, unknown][]>()) map.set(k, v);
      tables[table] = map;
    }
    const rest = await read<Pick<CheckedPolicy, "file" | "name" | "scriptFunctions">>();
    policies.push({ ...rest, ast, ...(tables as unknown as Tables) });
  }
  return { policies, diagnostics: head.diagnostics, ok: head.ok };
}

/**
 * A `pause` for the event loop: resolves at once until `sliceMs` have passed
 * since the last turn, then gives the loop a turn (`setImmediate`: timers,
 * I/O and HTTP requests run) and starts a new slice.
 */
export function loopTurns(sliceMs = 10): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    since = performance.now();
  };
}
