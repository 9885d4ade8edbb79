/**
 * JSON schemas of the agent's request bodies (SPEC 6), compiled by fastify's
 * ajv. Unknown fields are refused rather than silently dropped, and names
 * are restricted to the characters a host or VM name may have (VM names
 * become storage file names).
 */

const NAME = { type: "string", pattern: "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$" } as const;
const URL_ = { type: "string", pattern: "^https?://[^\\s/]+", maxLength: 2048 } as const;

/** `POST /migrations`. */
export const migrationBody = {
  type: "object",
  required: ["vm", "to"],
  additionalProperties: false,
  properties: {
    vm: NAME,
    to: {
      type: "object",
      required: ["name", "url"],
      additionalProperties: false,
      properties: { name: NAME, url: URL_ },
    },
  },
} as const;

/** `POST /restarts`. */
export const restartBody = {
  type: "object",
  required: ["vm", "from"],
  additionalProperties: false,
  properties: { vm: NAME, from: NAME },
} as const;

/** `POST /incoming`: a VM definition handed over by a peer agent at the end of a migration. */
export const incomingBody = {
  type: "object",
  required: ["vm", "from"],
  additionalProperties: false,
  properties: {
    from: NAME,
    vm: {
      type: "object",
      required: ["name", "mem", "vcpus", "labels", "pinned", "host"],
      additionalProperties: false,
      properties: {
        name: NAME,
        mem: { type: "number", minimum: 0 },
        vcpus: { type: "integer", minimum: 1 },
        labels: { type: "object", additionalProperties: { type: "string" } },
        pinned: { type: "boolean" },
        host: NAME,
        extra: { type: "object" },
      },
    },
  },
} as const;

/** `POST /incoming/abort`: the same `{ vm, from }` as a restart. */
export const abortBody = restartBody;

/** `:id` of `GET /migrations/:id` and `GET /restarts/:id`. */
export const idParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", minLength: 1, maxLength: 128 } },
} as const;

export interface MigrationBody {
  vm: string;
  to: { name: string; url: string };
}
export interface RestartBody {
  vm: string;
  from: string;
}
