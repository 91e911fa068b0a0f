/**
 * Module queries and the audit trail (spec/api.md §queries, §audit). Both can be signed by an account
 * (header `x-tally-auth`, core/src/query-auth.ts); the node checks the signature, then answers from its
 * own replica — a regulator's observer node serves them without asking anyone else.
 */
import {
  assert,
  decodeTx,
  LIMITS,
  QUERY_AUTH_HEADER,
  type QueryRequest,
  ROLES,
  TallyError,
  toHex,
  type Value,
  valueToJson,
  verifyQueryAuth,
} from "@tally/core";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Chain } from "../chain.js";
import { runQuery } from "../execution/query.js";

const NAME = "^[a-z][a-zA-Z0-9-]{0,63}$";

/** JSON arguments as a Value: integers must be safe (the canonical encoding has no floats). */
function jsonToValue(json: unknown, path: string): Value {
  if (json === null || typeof json === "string" || typeof json === "boolean") return json;
  if (typeof json === "number") {
    if (!Number.isSafeInteger(json)) throw new TallyError("BAD_REQUEST", `${path} must be an integer`, { field: path });
    return json;
  }
  if (Array.isArray(json)) return json.map((x, i) => jsonToValue(x, `${path}[${i}]`));
  const out: Record<string, Value> = {};
  for (const [k, v] of Object.entries(json as Record<string, unknown>)) out[k] = jsonToValue(v, `${path}.${k}`);
  return out;
}

/** The authenticated caller of `req` for `query`, or null without a header. */
function callerOf(req: FastifyRequest, chain: Chain, query: Omit<QueryRequest, "chainId">, nowMs: () => number): string | null {
  const header = req.headers[QUERY_AUTH_HEADER];
  if (header === undefined) return null;
  if (typeof header !== "string") throw new TallyError("UNAUTHENTICATED", `one ${QUERY_AUTH_HEADER} header`);
  return verifyQueryAuth(chain.genesis.suite, { chainId: chain.genesis.doc.chainId, ...query }, header, nowMs());
}

interface Documented {
  readonly description: string;
  readonly args: { readonly description: string };
  readonly roles?: readonly string[];
}

function catalogue(entries: Readonly<Record<string, Documented>> | undefined) {
  return Object.entries(entries ?? {}).map(([name, def]) => ({
    name,
    description: def.description,
    args: def.args.description,
    roles: def.roles ?? null,
  }));
}

export function registerQueryRoutes(app: FastifyInstance, chain: Chain, errors: Record<number, unknown>, nowMs: () => number): void {
  app.get(
    "/v1/modules",
    { schema: { summary: "Every module with its methods and queries: arguments, and the roles that may call them (null: any account)" } },
    async () => ({
      modules: chain.engine.modulesList().map((m) => ({ name: m.name, methods: catalogue(m.methods), queries: catalogue(m.queries) })),
    }),
  );

  app.post(
    "/v1/query/:module/:name",
    {
      bodyLimit: LIMITS.queryBodyBytesMax,
      schema: {
        summary: "Ask a module a question, answered from this node's replica; sign it (x-tally-auth) when the query needs a role",
        params: { type: "object", properties: { module: { type: "string", pattern: NAME }, name: { type: "string", pattern: NAME } } },
        body: { type: "object", additionalProperties: false, properties: { args: { type: "object", default: {} } } },
        response: errors,
      },
    },
    async (req) => {
      const { module, name } = req.params as { module: string; name: string };
      const args = jsonToValue((req.body as { args: unknown } | undefined)?.args ?? {}, "args");
      const caller = callerOf(req, chain, { module, name, args }, nowMs);
      const height = chain.head.height;
      const state = {
        suite: chain.genesis.suite,
        chainId: chain.genesis.doc.chainId,
        height,
        get: (key: Uint8Array) => chain.stateValue(key),
        scan: (prefix: Uint8Array, limit: number, after?: Uint8Array) => chain.scanState(prefix, limit, after),
      };
      return { height, value: valueToJson(runQuery(chain.engine, state, module, name, args, caller)) };
    },
  );

  app.post(
    "/v1/audit/accounts/:address/txs",
    {
      bodyLimit: LIMITS.queryBodyBytesMax,
      schema: {
        summary: "Every transaction an account signed, in commit order (signed by a regulator or by the account itself)",
        params: { type: "object", properties: { address: { type: "string", pattern: "^[0-9a-f]{40}$" } } },
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            limit: { type: "integer", minimum: 1, maximum: LIMITS.apiListLimitMax, default: 100 },
            after: { type: "string", pattern: "^[0-9]{1,15}:[0-9]{1,10}$" },
          },
        },
        response: errors,
      },
    },
    async (req) => {
      const { address } = req.params as { address: string };
      const body = (req.body ?? {}) as { limit?: number; after?: string };
      const limit = body.limit ?? 100;
      const args: Record<string, Value> = { address, limit, ...(body.after === undefined ? {} : { after: body.after }) };
      const caller = callerOf(req, chain, { module: "audit", name: "accountTxs", args }, nowMs);
      if (caller === null) throw new TallyError("UNAUTHENTICATED", undefined, { route: "audit" });
      const roles = chain.account(caller)?.roles;
      if (roles === undefined) throw new TallyError("UNKNOWN_SIGNER", undefined, { address: caller });
      if (caller !== address && !roles.includes(ROLES.regulator)) {
        throw new TallyError("FORBIDDEN", "the audit trail of another account needs the regulator role", { address });
      }
      const [h, i] = body.after === undefined ? [] : body.after.split(":").map(Number);
      const after = h === undefined || i === undefined ? undefined : { height: h, index: i };
      const rows = chain.txsBySender(address, limit, after);
      const items = rows.map((row) => {
        const found = chain.tx(row.hash);
        assert(found !== undefined, "sender index entry without its transaction");
        const tx = decodeTx(found.txBytes);
        return {
          hash: toHex(row.hash),
          height: row.height,
          index: row.index,
          timeMs: found.timeMs,
          module: tx.module,
          method: tx.method,
          args: valueToJson(tx.args),
          status: found.result.status,
          code: found.result.code,
        };
      });
      const last = rows.at(-1);
      return { address, items, next: rows.length === limit && last !== undefined ? `${last.height}:${last.index}` : null };
    },
  );
}
