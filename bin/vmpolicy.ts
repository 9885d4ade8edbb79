#!/usr/bin/env node
/**
 * The `vmpolicy` command: one subcommand per module in `bin/commands/`.
 * Start-up must cost about what `node -e 0` does, so a command's module
 * (and everything it imports: the grammar, QuickJS, fastify, pino…) is
 * loaded only when that command runs: `COMMANDS` names each one with its
 * one-line summary, and only the module of the command on the command line
 * is imported. `vmpolicy --help` lists the summaries without loading any.
 * To add a command: one line in `COMMANDS`.
 */
import { Command } from "commander";

interface CommandEntry {
  readonly name: string;
  /** The line `vmpolicy --help` shows (the module's own `.description` is what `vmpolicy NAME --help` shows). */
  readonly summary: string;
  readonly load: () => Promise<(program: Command) => void>;
}

const COMMANDS: readonly CommandEntry[] = [
  { name: "check", summary: "check policy files or folders of .policy files (default policies/) and print every problem", load: async () => (await import("./commands/check.js")).registerCheck },
  { name: "fmt", summary: "rewrite policy files (or the .policy files of folders) in the canonical layout", load: async () => (await import("./commands/fmt.js")).registerFmt },
  { name: "test", summary: "run policy test files (*.test.yaml; default: every one under policies/)", load: async () => (await import("./commands/test.js")).registerTest },
  { name: "plan", summary: "plan one round over a facts snapshot and print the plan", load: async () => (await import("./commands/plan.js")).registerPlan },
  { name: "simulate", summary: "simulate static placement and policies on the thesis testbed (or a scenario)", load: async () => (await import("./commands/simulate.js")).registerSimulate },
  { name: "run", summary: "run the engine: poll hosts, plan, migrate, serve the HTTP API", load: async () => (await import("./commands/run.js")).registerRun },
  { name: "lsp", summary: "run the language server over stdio, for editors", load: async () => (await import("./commands/lsp.js")).registerLsp },
  { name: "replay", summary: "re-plan recorded rounds with another policy set and report the differences", load: async () => (await import("./commands/replay.js")).registerReplay },
  { name: "agent", summary: "run the host agent: report facts and carry out migrations", load: async () => (await import("./commands/agent.js")).registerAgent },
];

const program = new Command()
  .name("vmpolicy")
  .description("A policy engine that balances virtual machines across hypervisor hosts by live migration.")
  .showHelpAfterError()
  .exitOverride((err) => {
    // commander's own errors (unknown option, missing argument) are usage errors.
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

// The command named on the line (`vmpolicy help NAME` too); no global option takes a value, so it is the first word.
const args = process.argv.slice(2);
const first = args.findIndex((a) => !a.startsWith("-"));
const named = first < 0 ? undefined : args[first] === "help" ? args[first + 1] : args[first];
for (const entry of COMMANDS) {
  if (entry.name === named) (await entry.load())(program);
  else program.command(entry.name).description(entry.summary);
}

await program.parseAsync(process.argv);
