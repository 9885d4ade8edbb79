/**
 * The routes of the engine's API (SPEC 5). Each handler validates nothing
 * itself beyond what a schema cannot say, calls one `EngineControl` method
 * and shapes the answer; the engine's state is never touched directly.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { EngineControl } from "./control.js";
import { errorBody } from "./errors.js";
import { DEFAULT_DECISIONS, MAX_DECISIONS, decisionsQuery, hostParams, hostStateBody, noQuery, planQuery } from "./schemas.js";
import type { EngineMetrics } from "./metrics.js";

/**
 * Routes that act (`POST /pause` …) take no body; `{}` is tolerated because
 * many clients send it, anything else is a 400 rather than silently ignored.
 */
async function noBody(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const b = req.body;
  if (b === undefined || b === null) return;
  if (typeof b === "object" && !Array.isArray(b) && Object.keys(b).length === 0) return;
  await reply.code(400).send(errorBody(`${req.method} ${req.routeOptions.url}: takes no body (got ${Array.isArray(b) ? "an array" : typeof b === "object" ? `fields ${Object.keys(b as object).map((k) => JSON.stringify(k)).join(", ")}` : typeof b})`));
}

const action = { schema: { querystring: noQuery }, preValidation: noBody };

/** Registers every route on `app`. */
export function registerEngineRoutes(app: FastifyInstance, engine: EngineControl, metrics: EngineMetrics): void {
  app.get("/healthz", async () => ({ ok: true }));

  app.get("/status", { schema: { querystring: noQuery } }, async () => engine.status());

  app.get<{ Querystring: { explain?: string; set?: "active" | "shadow" } }>("/plan", { schema: { querystring: planQuery } }, async (req, reply) => {
    const explain = req.query.explain === "1" || req.query.explain === "true";
    const set = req.query.set ?? "active";
    const plan = engine.lastPlan({ explain, set });
    if (plan === null && set === "shadow") {
      const why = engine.status().shadow ? "the shadow set has not planned a round yet (it plans after the active set, once it has loaded)" : "no shadow set (start with --shadow PATH or config shadow:)";
      return reply.code(404).send(errorBody(why));
    }
    if (plan === null) return reply.code(404).send(errorBody("no plan yet: the engine has not finished a round (POST /round runs one now)"));
    return plan;
  });

  app.get<{ Querystring: { limit?: string } }>("/decisions", { schema: { querystring: decisionsQuery } }, async (req, reply) => {
    const limit = req.query.limit === undefined ? DEFAULT_DECISIONS : Number(req.query.limit);
    if (limit < 1 || limit > MAX_DECISIONS) return reply.code(400).send(errorBody(`GET /decisions: querystring.limit must be from 1 to ${MAX_DECISIONS} (got ${req.query.limit})`));
    return engine.decisions(limit);
  });

  app.post("/reload", action, async (_req, reply) => {
    const r = await engine.reload();
    if (r.ok) return { policies: r.policies };
    const errors = r.diagnostics.filter((d) => d.severity === "error").length;
    return reply.code(422).send(errorBody(`the new policy set has ${errors} error${errors === 1 ? "" : "s"}; the running set stays active`, { diagnostics: r.diagnostics }));
  });

  app.post("/pause", action, async () => {
    engine.pause();
    return { paused: true };
  });

  app.post("/resume", action, async () => {
    engine.resume();
    return { paused: false };
  });

  app.post("/round", action, async () => engine.runRound());

  app.put<{ Params: { name: string }; Body: { state: "maintenance" | "up" } }>(
    "/hosts/:name/state",
    { schema: { params: hostParams, body: hostStateBody, querystring: noQuery } },
    async (req) => {
      engine.setHostState(req.params.name, req.body.state);
      return { host: req.params.name, operator_state: req.body.state === "maintenance" ? "maintenance" : null };
    },
  );

  app.post<{ Params: { name: string } }>("/hosts/:name/fenced", { schema: { params: hostParams, querystring: noQuery }, preValidation: noBody }, async (req) => {
    engine.confirmFenced(req.params.name);
    return { host: req.params.name, fenced: true };
  });

  app.post("/shadow/promote", action, async () => engine.promoteShadow());

  app.delete("/shadow", action, async () => {
    await engine.dropShadow();
    return { shadow: null };
  });

  app.get("/metrics", async (_req, reply) => {
    const text = await metrics.text();
    return reply.header("content-type", metrics.contentType).send(text);
  });
}
