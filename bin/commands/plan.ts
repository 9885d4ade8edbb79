import type { Command } from "commander";

/** `vmpolicy plan`: not built yet (its issue is open). */
export function registerPlan(program: Command): void {
  program
    .command("plan")
    .description("not built yet")
    .action(() => {
      process.stderr.write("vmpolicy plan: not built yet\n");
      process.exit(2);
    });
}
