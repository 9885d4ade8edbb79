/**
 * JSON schemas of the engine's HTTP API (SPEC 5): every body, query string
 * and path parameter a route accepts, so fastify's validator refuses
 * anything else with a 400 that names the field before a handler runs.
 * Query values arrive as strings (type coercion is off so bodies keep their
 * exact types); numeric ones are checked by pattern here and converted in
 * the route.
 */

/** The most journal lines one `/decisions` request returns. */
export const MAX_DECISIONS = 1000;
/** `/decisions` without `limit`. */
export const DEFAULT_DECISIONS = 50;

/** Host names as the config accepts them (letters, digits, `_ - .`). */
const hostName = { type: "string", minLength: 1, maxLength: 253, pattern: "^[A-Za-z0-9_.-]+$" } as const;

export const hostParams = {
  type: "object",
  required: ["name"],
  additionalProperties: false,
  properties: { name: hostName },
} as const;

export const hostStateBody = {
  type: "object",
  required: ["state"],
  additionalProperties: false,
  properties: { state: { type: "string", enum: ["maintenance", "up"] } },
} as const;

export const planQuery = {
  type: "object",
  additionalProperties: false,
  properties: { explain: { type: "string", enum: ["1", "0", "true", "false"] }, set: { type: "string", enum: ["active", "shadow"] } },
} as const;

export const decisionsQuery = {
  type: "object",
  additionalProperties: false,
  // 1..MAX_DECISIONS written as digits; the upper bound is checked in the route, where the message can say it.
  properties: { limit: { type: "string", pattern: "^[0-9]{1,9}$" } },
} as const;

/** Routes that take no parameters at all. */
export const noQuery = { type: "object", additionalProperties: false, properties: {} } as const;
