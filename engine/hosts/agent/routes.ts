/**
 * The agent's routes (SPEC 6) as thin adapters: validate (by schema), call
 * the driver, shape the answer. Refusals come back from the driver as
 * `DriverError`s and are turned into 4xx answers by the server's error handler.
 */
import type { FastifyInstance } from "fastify";
import type { Driver, VmDefinition } from "../drivers/contract.js";
import { type MigrationBody, type RestartBody, abortBody, idParams, incomingBody, migrationBody, restartBody } from "./schemas.js";

/** Registers every route on `app` for `driver`. */
export function registerAgentRoutes(app: FastifyInstance, driver: Driver): void {
  app.get("/healthz", async () => ({ ok: true, name: driver.name, driver: driver.kind }));

  app.get("/facts", async () => driver.facts());

  app.post<{ Body: MigrationBody }>("/migrations", { schema: { body: migrationBody } }, async (req, reply) => {
    const { vm, to } = req.body;
    try {
      new URL(to.url);
    } catch {
      return reply.code(400).send(errorBody(`body/to/url ${JSON.stringify(to.url)} is not a URL`));
    }
    const id = await driver.startMigration(vm, { name: to.name, url: to.url.replace(/\/+$/, "") });
    return reply.code(202).send({ id });
  });

  app.get<{ Params: { id: string } }>("/migrations/:id", { schema: { params: idParams } }, async (req, reply) => {
    // Restart ids answer here too, so a caller can poll every action it started at one route.
    const status = driver.migrationStatus(req.params.id) ?? driver.restartStatus(req.params.id);
    if (!status) return reply.code(404).send(errorBody(`no migration "${req.params.id}" on host ${driver.name}`));
    return status;
  });

  app.post<{ Body: RestartBody }>("/restarts", { schema: { body: restartBody } }, async (req, reply) => {
    const { id, status } = await driver.restart(req.body.vm, req.body.from);
    return reply.code(status.state === "running" ? 202 : 201).send({ id, ...status });
  });

  app.get<{ Params: { id: string } }>("/restarts/:id", { schema: { params: idParams } }, async (req, reply) => {
    const status = driver.restartStatus(req.params.id);
    if (!status) return reply.code(404).send(errorBody(`no restart "${req.params.id}" on host ${driver.name}`));
    return status;
  });

  app.post<{ Body: { vm: VmDefinition; from: string } }>("/incoming", { schema: { body: incomingBody } }, async (req, reply) => {
    await driver.acceptIncoming(req.body.vm, req.body.from);
    return reply.code(201).send({ ok: true, vm: req.body.vm.name, host: driver.name });
  });

  app.post<{ Body: { vm: VmDefinition; from: string } }>("/incoming/prepare", { schema: { body: incomingBody } }, async (req, reply) => {
    if (!driver.prepareIncoming) return reply.code(404).send(errorBody(`driver ${driver.kind} needs no preparation for incoming VMs`));
    return reply.code(201).send(await driver.prepareIncoming(req.body.vm, req.body.from));
  });

  app.post<{ Body: RestartBody }>("/incoming/abort", { schema: { body: abortBody } }, async (req, reply) => {
    if (!driver.abortIncoming) return reply.code(404).send(errorBody(`driver ${driver.kind} needs no preparation for incoming VMs`));
    await driver.abortIncoming(req.body.vm, req.body.from);
    return { ok: true };
  });
}

/**
 * Every error answer: `error` is the message; `message` repeats it for
 * clients that read fastify's usual field name.
 */
export function errorBody(message: string): { error: string; message: string } {
  return { error: message, message };
}
