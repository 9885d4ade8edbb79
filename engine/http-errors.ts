/**
 * How the engine's API answers what goes wrong: always JSON `{ error }`
 * with a message that names the field or the thing, never a stack trace
 * (SPEC 5). One error handler maps engine refusals, schema failures,
 * body-parsing problems and anything unexpected; one not-found handler
 * answers unknown routes.
 */
import type { FastifyError, FastifyInstance } from "fastify";
import { EngineRequestError } from "./engine-api.js";
import { locateJsonError } from "./json-errors.js";

/** The body of every error answer. */
export function errorBody(message: string, extra: Record<string, unknown> = {}): { error: string } & Record<string, unknown> {
  return { error: message, ...extra };
}

interface AjvErrorLike {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** One readable sentence for the first schema failure, naming the field (`body.state`, `querystring.limit`). */
export function schemaMessage(errors: readonly AjvErrorLike[], dataVar: string): string {
  const e = errors[0];
  if (!e) return `${dataVar} is invalid`;
  const path = `${dataVar}${e.instancePath.replace(/\//g, ".")}`;
  switch (e.keyword) {
    case "additionalProperties":
      return `${path} has an unknown field "${String(e.params.additionalProperty)}"`;
    case "required":
      return `${path}.${String(e.params.missingProperty)} is required`;
    case "enum":
      return `${path} must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "pattern":
      return dataVar === "querystring" ? `${path} must be a whole number` : `${path} must be a name of letters, digits, "_", "-" and "."`;
    default:
      return `${path} ${e.message ?? "is invalid"}`;
  }
}

/** Installs the JSON parser, error handler and not-found handler. */
export function registerErrorHandling(app: FastifyInstance): void {
  // fastify's own JSON parser (prototype-poisoning checks included), but an empty body
  // counts as no body, and a syntax error says where it is.
  const jsonParser = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser(["application/json", "text/plain"]);
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") return done(null, undefined);
    jsonParser(req, text, (err, value) => {
      if (!err) return done(null, value);
      let message = `body is not valid JSON: ${err.message}`;
      try {
        JSON.parse(text);
      } catch {
        const at = locateJsonError(text);
        message = `body is not valid JSON: line ${at.line}, column ${at.column}: ${at.message}`;
      }
      done(Object.assign(new Error(message), { statusCode: 400 }), undefined);
    });
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof EngineRequestError) return reply.code(err.status).send(errorBody(err.message));
    if (err.validation) return reply.code(400).send(errorBody(`${req.method} ${routeOf(req)}: ${err.message}`));
    if (err.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      const type = String(req.headers["content-type"] ?? "").split(";")[0];
      return reply.code(415).send(errorBody(`unsupported content type "${type}": send application/json (or no body)`));
    }
    if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") return reply.code(413).send(errorBody("body too large (the API takes small JSON bodies)"));
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return reply.code(status).send(errorBody(err.message));
    req.log.error({ err: { message: err.message, name: err.name } }, `${req.method} ${req.url} failed: ${err.message}`);
    return reply.code(500).send(errorBody(`internal error while answering ${req.method} ${routeOf(req)}: ${err.message}; see the engine's log`));
  });

  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send(errorBody(`no route ${req.method} ${req.url.split("?")[0]} (routes: GET /healthz /status /plan /decisions /metrics; POST /reload /pause /resume /round /hosts/NAME/fenced; PUT /hosts/NAME/state)`)),
  );
}

function routeOf(req: { routeOptions: { url?: string }; url: string }): string {
  return req.routeOptions.url ?? req.url.split("?")[0]!;
}
