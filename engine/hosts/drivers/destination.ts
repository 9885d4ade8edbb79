/**
 * The check every driver makes before it accepts a migration (SPEC 6: a
 * request for an unknown host is a 4xx with a message, not a 202 that fails
 * later): the destination agent answers and is the host the request names.
 */
import { AgentClient } from "../client.js";
import { DriverError, type MigrationTarget } from "./contract.js";

/** How long a migration request waits for the destination agent to say who it is. */
export const DESTINATION_CHECK_MS = 3000;

/** Resolves when the agent at `to.url` is host `to.name`; else throws a 422 `DriverError` saying why. */
export async function checkDestination(to: MigrationTarget, timeoutMs = DESTINATION_CHECK_MS): Promise<void> {
  // `/healthz` is open without the token and names the host.
  const peer = new AgentClient({ url: to.url, name: to.name, timeoutMs });
  let name: string;
  try {
    name = await peer.identify();
  } catch (e) {
    throw new DriverError(422, `destination host ${to.name} cannot be reached: ${(e as Error).message}`);
  }
  if (name !== to.name) throw new DriverError(422, `unknown destination host ${to.name}: the agent at ${to.url} is host ${name}`);
}
