import type { Command } from "commander";

/** `vmpolicy run`: not built yet (its issue is open). */
export function registerRun(program: Command): void {
  program
    .command("run")
    .description("not built yet")
    .action(() => {
      process.stderr.write("vmpolicy run: not built yet\n");
      process.exit(2);
    });
}
