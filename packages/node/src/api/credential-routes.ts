/**
 * Credential status proofs (spec/modules/credentials.md §status proof): the ledger's record of one
 * credential and of the issuer key it names, with state proofs against a certified header, so that a
 * verifier holding only the genesis file can check a presentation. A module query cannot build
 * proofs, hence this route.
 */
import {
  CREDENTIAL_ID_RE,
  CREDENTIAL_KEY_ID_RE,
  type CredentialStatusProof,
  credentialIssuerKeyKey,
  credentialKey,
  decodeCredentialRecord,
  encodeCredentialStatusProof,
  ORG_ID_RE,
  TallyError,
  toHex,
} from "@tally/core";
import type { FastifyInstance } from "fastify";
import type { Chain, StateProofView } from "../chain.js";

/**
 * The status proof of (issuer, id) at the durable head. The issuer key proven is `keyId`, or else the
 * one the credential record names; without either (no such credential) no key is proven.
 */
export function credentialStatusProof(chain: Chain, issuer: string, id: string, keyId?: string): CredentialStatusProof {
  const height = chain.head.height;
  const found = chain.blockAt(height);
  if (found === undefined) throw new TallyError("NOT_FOUND", "no block committed yet", { height });
  const credential = chain.stateProof(credentialKey(issuer, id), height);
  const kid = keyId ?? (credential.value === null ? undefined : decodeCredentialRecord(credential.value).keyId);
  const key = kid === undefined ? null : chain.stateProof(credentialIssuerKeyKey(issuer, kid), height);
  const validatorProof = chain.validatorProof(height);
  const entry = (v: StateProofView) => ({ key: v.key, value: v.value, proof: v.proof });
  return {
    header: found.header,
    commit: found.commit,
    ...(validatorProof.length === 0 ? {} : { validatorProof }),
    credential: entry(credential),
    issuerKey: key === null ? null : entry(key),
  };
}

const pattern = (re: RegExp) => re.source;

export function registerCredentialRoutes(app: FastifyInstance, chain: Chain, errors: Record<number, unknown>): void {
  app.get(
    "/v1/credentials/:issuer/:id/status",
    {
      schema: {
        summary: "A credential's status proof (hex of canonical CBOR), verifiable offline against the genesis",
        params: {
          type: "object",
          properties: {
            issuer: { type: "string", pattern: pattern(ORG_ID_RE) },
            id: { type: "string", pattern: pattern(CREDENTIAL_ID_RE) },
          },
        },
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { keyId: { type: "string", pattern: pattern(CREDENTIAL_KEY_ID_RE) } },
        },
        response: errors,
      },
    },
    async (req) => {
      const { issuer, id } = req.params as { issuer: string; id: string };
      const { keyId } = req.query as { keyId?: string };
      const proof = credentialStatusProof(chain, issuer, id, keyId);
      return { issuer, id, height: proof.header.height, proof: toHex(encodeCredentialStatusProof(proof)) };
    },
  );
}
