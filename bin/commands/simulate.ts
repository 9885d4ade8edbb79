import type { Command } from "commander";

/** `vmpolicy simulate`: not built yet (its issue is open). */
export function registerSimulate(program: Command): void {
  program
    .command("simulate")
    .description("not built yet")
    .action(() => {
      process.stderr.write("vmpolicy simulate: not built yet\n");
      process.exit(2);
    });
}
