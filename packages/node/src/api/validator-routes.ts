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

/**
 * The highest durable height whose commit certificate each validator signed, looking back from `head`
 * through at most LIMITS.apiLastSignedScanBlocksMax blocks (a validator not found there is absent).
 * Certificates name signers by index into set(h), so each height is read with its own set.
 */
function lastSignedHeights(chain: Chain, head: number): Map<string, number> {
  const found = new Map<string, number>();
  const lowest = Math.max(1, head - LIMITS.apiLastSignedScanBlocksMax + 1);
  for (let h = head; h >= lowest; h--) {
    const commit = chain.commitAt(h);
    if (commit === undefined) break;
    const set = chain.validatorSetDurable(h);
    for (const s of commit.signatures) {
      const v = set.validators[s.validator];
      if (v === undefined) continue;
      const key = toHex(v.publicKey);
      if (!found.has(key)) found.set(key, h);
    }
    // Everyone of the current set found: older blocks cannot change the answer.
    if (set.validators.every((v) => found.has(toHex(v.publicKey)))) break;
  }
  return found;
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
      const lastSigned = lastSignedHeights(chain, head);
      return {
        height,
        validatorsHash: toHex(set.hash),
        totalPower: set.totalPower,
        validators: set.validators.map((v) => {
          const publicKey = toHex(v.publicKey);
          return { publicKey, power: v.power, lastSignedHeight: lastSigned.get(publicKey) ?? null };
        }),
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
