/** `/v1/validators` and `/v1/misbehaviour`: validator sets by height and recorded equivocations (spec/api.md). */
import { fromHex, LIMITS, TallyError, toHex } from "@tally/core";
import type { FastifyInstance } from "fastify";
import type { Chain } from "../chain.js";
import { listMisbehaviour, type MisbehaviourRecord } from "../modules/validators.js";

function misbehaviourJson(r: MisbehaviourRecord): Record<string, unknown> {
  return {
    validator: toHex(r.validator),
    height: r.height,
    round: r.round,
    kind: r.kind,
    blockHashes: r.blockHashes.map((h) => (h === null ? null : toHex(h))),
    evidence: toHex(r.evidence),
    reporter: r.reporter,
    reportedHeight: r.reportedHeight,
    txHash: toHex(r.txHash),
  };
}

export function registerValidatorRoutes(app: FastifyInstance, chain: Chain, errors: Record<number, unknown>): void {
  app.get(
    "/v1/validators",
    {
      schema: {
        summary: "The validator set that commits block `height` (default: the next block); known up to head + 2",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { height: { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
        },
        response: errors,
      },
    },
    async (req) => {
      const head = chain.head.height;
      const height = (req.query as { height?: number }).height ?? head + 1;
      if (height > head + 2) throw new TallyError("NOT_FOUND", "validator set not known yet", { height, knownUpTo: head + 2 });
      const set = chain.validatorSetDurable(height);
      return {
        height,
        validatorsHash: toHex(set.hash),
        totalPower: set.totalPower,
        validators: set.validators.map((v) => ({ publicKey: toHex(v.publicKey), power: v.power })),
      };
    },
  );

  app.get(
    "/v1/misbehaviour",
    {
      schema: {
        summary: "Equivocations committed on chain (all, or one validator's), in commit order",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            validator: { type: "string", pattern: "^([0-9a-f]{2}){32,65}$" },
            limit: { type: "integer", minimum: 1, maximum: LIMITS.apiListLimitMax, default: 100 },
            after: { type: "string", pattern: `^([0-9a-f]{2}){1,${LIMITS.stateKeyBytesMax}}$` },
          },
        },
        response: errors,
      },
    },
    async (req) => {
      const { validator, limit, after } = req.query as { validator?: string; limit: number; after?: string };
      const page = listMisbehaviour(
        (key) => chain.stateValue(key),
        (prefix, max, from) => chain.scanState(prefix, max, from),
        {
          ...(validator === undefined ? {} : { validator: fromHex(validator) }),
          limit,
          ...(after === undefined ? {} : { after: fromHex(after) }),
          durableHeight: chain.head.height,
        },
      );
      return { records: page.records.map(misbehaviourJson), next: page.next === null ? null : toHex(page.next) };
    },
  );
}
