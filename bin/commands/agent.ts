import type { Command } from "commander";

/** `vmpolicy agent`: not built yet (its issue is open). */
export function registerAgent(program: Command): void {
  program
    .command("agent")
    .description("not built yet")
    .action(() => {
      process.stderr.write("vmpolicy agent: not built yet\n");
      process.exit(2);
    });
}
