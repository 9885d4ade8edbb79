/**
 * `npm run build`'s last step: dist/bin/vmpolicy.js rebuilt as one esbuild
 * bundle of the CLI and the modules of the commands a policy author runs
 * (check, fmt, test, plan, lsp), each command a lazily loaded chunk in
 * dist/bin/chunks/. Node then reads a handful of files instead of ~40 modules,
 * which was a quarter of `vmpolicy check`'s own CPU time (README,
 * "Benchmarks"). Packages (commander, chevrotain, QuickJS…) stay imports from
 * node_modules, and the engine's commands (run, agent, replay, simulate) stay
 * the modules tsc built in dist/bin/commands/, because they find files next to
 * their own module (the dashboard's assets, the parse worker).
 * Without this step (plain `tsc`, or esbuild not installed) dist/bin/vmpolicy.js
 * is tsc's and works the same, only slower to start.
 */
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MAX_LOOKAHEAD } from "../grammar/lookahead.js";
import { PolicyParser } from "../grammar/parser.js";
import { RECORDED_GRAMMAR_FILE, recordedGrammarSource } from "../grammar/recorded-grammar.js";

/** Commands loaded from tsc's output rather than bundled (see above). */
const UNBUNDLED = new Set(["./commands/run.js", "./commands/agent.js", "./commands/replay.js", "./commands/simulate.js"]);

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const out = join(root, "dist", "bin");

// The parser reads its grammar from recorded-grammar-data.ts: never build with a stale one.
const recorded = recordedGrammarSource(new PolicyParser(true).grammarRules(), MAX_LOOKAHEAD);
const stored = ((): string | null => {
  try {
    return readFileSync(join(root, RECORDED_GRAMMAR_FILE), "utf8");
  } catch {
    return null; // built without the sources: nothing to compare with
  }
})();
if (stored !== null && stored !== recorded) {
  writeFileSync(join(root, RECORDED_GRAMMAR_FILE), recorded);
  process.stderr.write(`bin/bundle: the grammar changed; ${RECORDED_GRAMMAR_FILE} was rewritten: run npm run build again (and commit the file)\n`);
  process.exit(1);
}

const entry = join(out, "vmpolicy.js");
let esbuild: typeof import("esbuild") | null = null;
try {
  esbuild = await import("esbuild");
} catch {
  process.stderr.write("bin/bundle: esbuild is not installed; dist/bin/vmpolicy.js stays tsc's (unbundled)\n");
}
// Chunk names carry a content hash: last build's chunks would otherwise pile up.
if (esbuild !== null) rmSync(join(out, "chunks"), { recursive: true, force: true });
await esbuild?.build({
  absWorkingDir: root,
  entryPoints: { vmpolicy: "bin/vmpolicy.ts" },
  outdir: out,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  sourcemap: true,
  logLevel: "warning",
  plugins: [
    {
      name: "unbundled-commands",
      setup(b) {
        b.onResolve({ filter: /^\.\/commands\// }, (args) => (UNBUNDLED.has(args.path) ? { path: args.path, external: true } : undefined));
      },
    },
  ],
});
chmodSync(entry, 0o755);
