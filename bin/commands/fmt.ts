import type { Command } from "commander";

/** `vmpolicy fmt`: not built yet (its issue is open). */
export function registerFmt(program: Command): void {
  program
    .command("fmt")
    .description("not built yet")
    .action(() => {
      process.stderr.write("vmpolicy fmt: not built yet\n");
      process.exit(2);
    });
}
