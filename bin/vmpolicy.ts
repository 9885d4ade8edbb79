#!/usr/bin/env node
/**
 * The `vmpolicy` command: one subcommand per module in `bin/commands/`.
 */
import { Command } from "commander";
import { registerCheck } from "./commands/check.js";
import { registerFmt } from "./commands/fmt.js";
import { registerPlan } from "./commands/plan.js";
import { registerSimulate } from "./commands/simulate.js";
import { registerRun } from "./commands/run.js";
import { registerAgent } from "./commands/agent.js";
import { registerLsp } from "./commands/lsp.js";
import { registerReplay } from "./commands/replay.js";

const program = new Command()
  .name("vmpolicy")
  .description("A policy engine that balances virtual machines across hypervisor hosts by live migration.")
  .showHelpAfterError()
  .exitOverride((err) => {
    // commander's own errors (unknown option, missing argument) are usage errors.
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

registerCheck(program);
registerFmt(program);
registerPlan(program);
registerSimulate(program);
registerRun(program);
registerAgent(program);
registerLsp(program);
registerReplay(program);

await program.parseAsync(process.argv);
