/**
 * docs/stdlib.md, rendered from the declaration tables, so the reference
 * cannot drift from what the checker accepts and the compiler runs
 * (test/stdlib/functions.test.ts compares the file with this output). Regenerate with
 * `node dist/grammar/stdlib-docs.js > docs/stdlib.md` after `npm run build`.
 */
import { fileURLToPath } from "node:url";
import { AGGREGATES } from "../stdlib/aggregates.js";
import { signatureOf, STDLIB_FUNCTIONS } from "../stdlib/functions.js";
import { HOST_FIELDS, VM_FIELDS, typeName } from "./check-types.js";
import type { Type } from "./types.js";

function fieldRows(fields: ReadonlyMap<string, Type>): string[] {
  return [...fields].map(([name, t]) => `| \`${name}\` | ${typeName(t).replace(/^an? /, "")} |`);
}

/** The markdown of docs/stdlib.md. */
export function renderStdlibDocs(): string {
  const out: string[] = [
    "# Functions, aggregates and fields",
    "",
    "<!-- Rendered from stdlib/functions.ts and stdlib/aggregates.ts by grammar/stdlib-docs.ts; edit those, not this file. -->",
    "",
    "Every function gives `none` when any argument is `none` (SPEC 2.5). The checker",
    "checks the number and the types of arguments (`T205`, `T206`).",
    "",
    "## Functions",
    "",
    "| signature | does | example |",
    "| --- | --- | --- |",
  ];
  for (const f of STDLIB_FUNCTIONS) out.push(`| \`${signatureOf(f)}\` | ${f.doc} | \`${f.example}\`: ${f.exampleResult} |`);
  out.push(
    "| `can_move(vm, host) → bool` | True exactly when the planner would accept `migrate vm to host` now (SPEC 2.6); not allowed inside a constraint (`T229`). | `pick host where can_move(vm, host) by host.load` |",
    "",
    "Functions of a `script` block are called the same way; the checker knows their",
    "names and arities from the QuickJS sandbox (SPEC 2.8).",
    "",
    "## Aggregates",
    "",
    "`AGG(VALUE for BINDING)`: VALUE (a number) for each element of BINDING; `none`",
    "values are left out.",
    "",
    "| aggregate | gives | example |",
    "| --- | --- | --- |",
  );
  for (const a of AGGREGATES) out.push(`| \`${a.name}\` | ${a.doc} | \`${a.example}\` |`);
  out.push("", "`count(BINDING)` is the number of elements (0 over none).", "", "## Fields", "", "| host field | type |", "| --- | --- |");
  out.push(...fieldRows(HOST_FIELDS), "", "| vm field | type |", "| --- | --- |", ...fieldRows(VM_FIELDS));
  out.push(
    "",
    "`x.labels.KEY` is the label's string, or `none`.",
    "",
    "`host.used` is `(sum(vm.cpu) + other_cpu) / cpus`: `load` plus what runs on the host outside its VMs.",
    "`host.other_cpu` and `host.mem_avail` are measured by the host's agent (SPEC 1); where it does not",
    "measure them they are 0 and `mem - mem_used`. `host.mem_free` is `min(mem - mem_used, mem_avail)`.",
    "",
  );
  return out.join("\n");
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) process.stdout.write(renderStdlibDocs());
