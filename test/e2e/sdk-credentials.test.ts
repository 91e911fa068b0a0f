/**
 * The credentials module through the SDK against a real node process (`tally init` genesis): the admin
 * registers an issuer signing key and an issuer account; a credential is issued, presented with some
 * attributes hidden, and verified against the genesis file (embedded and fresh status proofs); then
 * the refusals: tampering, expiry, an unregistered key, a duplicate id, a missing role, revocation.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import {
  type AccountSigner,
  type Credential,
  type Genesis,
  getSuite,
  issueCredential,
  type KeyPair,
  present,
  type TallyClient,
  TallyError,
  verifyPresentation,
} from "@tally/sdk";
import { CliNetwork, committedFailed as failed, committedOk as ok } from "../helpers.js";

const DAY = 86_400_000;

const code = (expected: string) => (err: unknown) => err instanceof TallyError && err.code === expected;

for (const suite of ["ed25519", "sm2"] as const) {
  describe(`SDK credentials (${suite})`, () => {
    const network = new CliNetwork(`sdk-credentials-${suite}`, { suite, requireCleanExit: false });
    let client: TallyClient;
    let genesis: Genesis;
    let admin: AccountSigner;
    let issuer: AccountSigner;
    let clerk: AccountSigner;
    const signingKey: KeyPair = getSuite(suite).generateKeyPair();
    let credential: Credential;
    const now = Date.now();

    const make = (over: Partial<Parameters<typeof issueCredential>[1]> = {}) =>
      issueCredential(signingKey, {
        chainId: genesis.doc.chainId,
        id: "emp-1",
        issuer: "consortium",
        keyId: "k1",
        schema: "employment/v1",
        subject: "alice",
        expiresAtMs: now + 30 * DAY,
        attributes: { name: "Alice Example", employer: "Acme", role: "engineer", salary: "123456" },
        ...over,
      });

    before(async () => {
      const sdk = await network.sdk();
      client = sdk.client;
      genesis = sdk.genesis;
      admin = sdk.admin;
      const register = (roles: string[]) => sdk.register(roles);
      issuer = await register(["credential-issuer"]);
      clerk = await register([]);
    });

    test("register a key, issue, present selectively, verify against the genesis", async () => {
      ok(await admin.credentials.registerIssuerKey("k1", signingKey.publicKey));
      const keys = await client.credentials.issuerKeys("consortium");
      assert.equal(keys.length, 1);
      assert.equal(keys[0]?.status, "active");
      credential = make();
      const issued = ok(await issuer.credentials.issue(credential));
      assert.deepEqual(issued.result.value, { issuer: "consortium", id: "emp-1", credentialHash: `0x${credential.credentialHash}` });
      const record = await client.credentials.record("consortium", "emp-1");
      assert.equal(record.status, "valid");
      assert.equal(record.credentialHash, `0x${credential.credentialHash}`);
      assert.ok(!JSON.stringify(record).includes("Acme"));

      const presentation = await client.credentials.present(credential, ["employer", "role"]);
      assert.ok(!JSON.stringify(presentation).includes("123456"));
      // Offline: the presentation (with its embedded status proof) and the genesis file are all it takes.
      const offline = verifyPresentation(genesis, JSON.parse(JSON.stringify(presentation)), { nowMs: Date.now() });
      assert.deepEqual(offline.disclosed, { employer: "Acme", role: "engineer" });
      assert.deepEqual(offline.undisclosed, ["name", "salary"]);
      assert.equal(offline.ledger.issuerKeyStatus, "active");
      const fresh = await client.credentials.verify(presentation, { genesis });
      assert.deepEqual(fresh.disclosed, offline.disclosed);
      // A presentation without an embedded proof is verified with a fresh one from the node.
      assert.deepEqual((await client.credentials.verify(present(credential, ["name"]), { genesis })).disclosed, { name: "Alice Example" });
    });

    test("refusals: tampering, expiry, unregistered key, duplicate id, missing role, not on the ledger", async () => {
      const presentation = await client.credentials.present(credential, ["employer", "role"]);
      const tampered = {
        ...presentation,
        disclosed: { ...presentation.disclosed, role: { ...(presentation.disclosed.role as object), value: "director" } },
      };
      await assert.rejects(client.credentials.verify(tampered, { genesis }), code("CREDENTIAL_INVALID"));
      assert.throws(() => verifyPresentation(genesis, tampered, { nowMs: Date.now() }), code("CREDENTIAL_INVALID"));
      assert.throws(() => verifyPresentation(genesis, presentation, { nowMs: now + 30 * DAY }), code("CREDENTIAL_EXPIRED"));

      // Doomed issuances are refused at admission (state unchanged, nonce not consumed).
      await assert.rejects(issuer.credentials.issue(make({ id: "emp-2", keyId: "k9" })), code("NO_SUCH_ISSUER_KEY"));
      await assert.rejects(
        issuer.credentials.issue(credential),
        (e: unknown) => code("CREDENTIAL_EXISTS")(e) && (e as TallyError).meta.status === 409,
      );
      failed(await clerk.credentials.issue(make({ id: "emp-3" })), "FORBIDDEN");
      await assert.rejects(client.credentials.record("consortium", "emp-3"), code("NO_SUCH_CREDENTIAL"));
      // Signed with the right key but never recorded: no ledger record, not valid.
      await assert.rejects(client.credentials.verify(present(make({ id: "emp-4" }), []), { genesis }), code("NO_SUCH_CREDENTIAL"));
      // A forger's key is not the one on the ledger.
      const forged = issueCredential(getSuite(suite).generateKeyPair(), { ...credentialInput(credential), id: "emp-5" });
      ok(await issuer.credentials.issue(forged));
      await assert.rejects(client.credentials.verify(present(forged, []), { genesis }), code("CREDENTIAL_INVALID"));
    });

    test("revocation: a fresh status proof shows it; the old embedded proof is only as current as its block", async () => {
      const before = await client.credentials.present(credential, ["employer"]);
      failed(await clerk.credentials.revoke("emp-1", "no role"), "FORBIDDEN");
      ok(await issuer.credentials.revoke("emp-1", "left the company"));
      failed(await issuer.credentials.revoke("emp-1", "again"), "CREDENTIAL_REVOKED");
      await assert.rejects(client.credentials.verify(before, { genesis }), code("CREDENTIAL_REVOKED"));
      const after = await client.credentials.present(credential, ["employer"]);
      assert.throws(() => verifyPresentation(genesis, after, { nowMs: Date.now() }), code("CREDENTIAL_REVOKED"));
      // The embedded proof predates the revocation: a verifier bounds its age to notice.
      assert.ok(verifyPresentation(genesis, before, { nowMs: Date.now() }));
      await assert.rejects(
        client.credentials.verify(before, { genesis, proof: "embedded", nowMs: Date.now() + 120_000, maxProofAgeMs: 60_000 }),
        code("BAD_PROOF"),
      );
      // Retiring the key stops new issuance.
      ok(await admin.credentials.retireIssuerKey("k1"));
      await assert.rejects(issuer.credentials.issue(make({ id: "emp-6" })), code("NO_SUCH_ISSUER_KEY"));
    });
  });
}

function credentialInput(c: Credential) {
  return {
    chainId: c.chainId,
    id: c.id,
    issuer: c.issuer,
    keyId: c.keyId,
    schema: c.schema,
    subject: c.subject,
    expiresAtMs: c.expiresAtMs,
    attributes: Object.fromEntries(Object.entries(c.attributes).map(([k, v]) => [k, v.value])),
  };
}
