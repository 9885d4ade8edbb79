import type { Command } from "commander";

/** `vmpolicy check`: not built yet (its issue is open). */
export function registerCheck(program: Command): void {
  program
    .command("check")
    .description("not built yet")
    .action(() => {
      process.stderr.write("vmpolicy check: not built yet\n");
      process.exit(2);
    });
}
