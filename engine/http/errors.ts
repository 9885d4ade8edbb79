/**
 * How the engine's API answers what goes wrong: always JSON `{ error }`
 * with a message that names the field or the thing, never a stack trace
 * (SPEC 5). One error handler maps engine refusals, schema failures,
 * body-parsing problems and anything unexpected; one not-found handler
 * answers unknown routes. The wording of problems fastify raises before a
 * route runs (bodies, content types, over-long or badly encoded paths) is
 * exported too, so the host agent answers them in the same words, each
 * server in its own error shape.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { EngineRequestError } from "./control.js";
import { locateJsonError } from "../json-errors.js";

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

/** A 4xx answer: the status and the message, for the server to put in its own error shape. */
export interface RequestProblem {
  readonly status: number;
  readonly message: string;
}

/**
 * Replaces fastify's JSON parser by the same parser (prototype-poisoning
 * checks included), except that an empty body counts as no body (the
 * schema then says what the route needs) and a syntax error says where it is.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const jsonParser = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") return done(null, undefined);
    jsonParser(req, text, (err, value) => {
      if (!err) return done(null, value);
      let message: string;
      try {
        JSON.parse(text);
        // Valid JSON the safe parser still refused: a key that would reach Object.prototype.
        message = 'body has a "__proto__" or "constructor.prototype" key, which is refused';
      } catch {
        const at = locateJsonError(text);
        message = `body is not valid JSON: line ${at.line}, column ${at.column}: ${at.message}`;
      }
      done(Object.assign(new Error(message), { statusCode: 400 }), undefined);
    });
  });
}

/**
 * The answer to a body fastify refused before the route ran: a content type
 * other than JSON (415) or a body over the limit (413); null for any other
 * error. `bodyOptional`: the server has routes that take no body, so the
 * 415 message offers that too.
 */
export function bodyProblem(err: FastifyError, req: FastifyRequest, { bodyOptional }: { bodyOptional: boolean }): RequestProblem | null {
  if (err.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
    const type = String(req.headers["content-type"] ?? "").split(";")[0];
    return { status: 415, message: `unsupported content type "${type}": send application/json${bodyOptional ? " (or no body)" : ""}` };
  }
  if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") return { status: 413, message: "body too large (the API takes small JSON bodies)" };
  return null;
}

/** Path segments longer than this are cut in messages. */
const QUOTED_SEGMENT = 32;
/** Paths longer than this are cut in messages. */
const QUOTED_PATH = 200;

/**
 * A request's path as a message may quote it: without the query, each long
 * segment cut to its first characters and the whole bounded, so an answer
 * never echoes kilobytes of URL back.
 */
export function quotePath(url: string): string {
  const path = url
    .split("?")[0]!
    .split("/")
    .map((seg) => (seg.length > QUOTED_SEGMENT ? `${seg.slice(0, QUOTED_SEGMENT)}…` : seg))
    .join("/");
  return path.length > QUOTED_PATH ? `${path.slice(0, QUOTED_PATH)}…` : path;
}

/**
 * fastify's `frameworkErrors` option: the router's own refusals, which come
 * before any route, hook or error handler and would otherwise be answered in
 * fastify's shape with the whole URL echoed. `maxParamLength` is the router
 * limit the server set (the longest name its schemas accept, so anything
 * longer is a bad request like any other bad name); `body` builds the
 * server's error shape.
 */
export function routerErrors(
  maxParamLength: number,
  body: (message: string) => object,
): (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => void {
  return (err, req, reply) => {
    const at = `${req.method} ${quotePath(req.url)}`;
    if (err.code === "FST_ERR_MAX_PARAM_LENGTH") {
      void reply.code(400).send(body(`${at}: a path parameter is longer than ${maxParamLength} characters`));
    } else if (err.code === "FST_ERR_BAD_URL") {
      void reply.code(400).send(body(`${at}: a path parameter is not valid percent-encoding`));
    } else {
      const status = err.statusCode ?? 500;
      void reply.code(status).send(body(`${at}: ${status >= 500 ? "internal error routing the request" : "bad request"}`));
    }
  };
}

/** Installs the JSON parser, error handler and not-found handler. */
export function registerErrorHandling(app: FastifyInstance): void {
  registerJsonBodyParser(app);
  // Plain text is no way to send a body here: it is a 415 like any other type that is not JSON.
  app.removeContentTypeParser("text/plain");

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof EngineRequestError) return reply.code(err.status).send(errorBody(err.message));
    if (err.validation) return reply.code(400).send(errorBody(`${req.method} ${routeOf(req)}: ${err.message}`));
    const problem = bodyProblem(err, req, { bodyOptional: true });
    if (problem) return reply.code(problem.status).send(errorBody(problem.message));
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return reply.code(status).send(errorBody(err.message));
    req.log.error({ err: { message: err.message, name: err.name } }, `${req.method} ${req.url} failed: ${err.message}`);
    return reply.code(500).send(errorBody(`internal error while answering ${req.method} ${routeOf(req)}: ${err.message}; see the engine's log`));
  });

  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send(errorBody(`no route ${req.method} ${quotePath(req.url)} (routes: GET /healthz /status /plan /decisions /metrics; POST /reload /pause /resume /round /hosts/NAME/fenced; PUT /hosts/NAME/state)`)),
  );
}

function routeOf(req: { routeOptions: { url?: string }; url: string }): string {
  return req.routeOptions.url ?? req.url.split("?")[0]!;
}
