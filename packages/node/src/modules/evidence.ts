/**
 * Evidence notarisation (spec/modules/evidence.md): record that a digest existed at a block's height
 * and time. A digest is notarised once; a second attempt is refused with the first record's height
 * and submitter. Records are listed per submitter through an index kept in state.
 */
import {
  decodeEvidenceRecord,
  type EvidenceRecord,
  encodeEvidenceRecord,
  evidenceBySubmitterKey,
  evidenceRecordKey,
  LIMITS,
  TallyError,
  toHex,
} from "@tally/core";
import { defineMethod, type Module, type ReadContext } from "../execution/module.js";
import { s } from "../execution/schema.js";

const notarizeArgs = s.object({
  digest: s.bytes(32),
  label: s.optional(s.string({ maxLength: LIMITS.evidenceLabelLengthMax })),
  metadata: s.optional(s.stringMap(32, 256)),
});

function refuseIfNotarised(ctx: ReadContext, digest: Uint8Array): Uint8Array {
  const key = evidenceRecordKey(digest);
  const existing = ctx.get(key);
  if (existing !== null) {
    const first = decodeEvidenceRecord(existing);
    throw new TallyError("EVIDENCE_EXISTS", "digest already notarised", {
      digest: toHex(digest),
      height: first.height,
      submitter: first.submitter,
    });
  }
  return key;
}

export const evidenceModule: Module = {
  name: "evidence",
  methods: {
    notarize: defineMethod({
      description: "Notarise a 32-byte digest (SHA-256 or SM3, the chain's hash) with an optional label and metadata.",
      args: notarizeArgs,
      precheck(ctx, args) {
        refuseIfNotarised(ctx, args.digest);
      },
      run(ctx, args) {
        const key = refuseIfNotarised(ctx, args.digest);
        const record: EvidenceRecord = {
          digest: args.digest,
          submitter: ctx.caller,
          height: ctx.height,
          timeMs: ctx.timeMs,
          txHash: ctx.txHash,
          label: args.label,
          metadata: args.metadata,
        };
        ctx.set(key, encodeEvidenceRecord(record));
        ctx.set(evidenceBySubmitterKey(ctx.caller, ctx.height, ctx.txIndex), args.digest);
        ctx.emit("notarized", { digest: args.digest, submitter: ctx.caller });
        return { digest: args.digest, height: ctx.height, timeMs: ctx.timeMs };
      },
    }),
  },
};
