/**
 * The credit module through the SDK against a real node process: the admin registers a regulator, a
 * bank and an entity's account; the regulator records events and links the entity; the entity and
 * the bank apply for repairs; a bank's attempt to decide is refused; the regulator rejects and
 * approves; standing and history come from module queries and the standing from a state proof
 * checked against a verified receipt's root.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { creditStanding, utf8 } from "@tally/core";
import { type AccountSigner, type Genesis, type TallyClient, TallyError, verifyTxReceipt } from "@tally/sdk";
import { CliNetwork, committedFailed as failed, committedOk as ok } from "../helpers.js";

const ENTITY = "91110000600037341L";

for (const suite of ["ed25519", "sm2"] as const) {
  describe(`SDK credit (${suite})`, () => {
    const network = new CliNetwork(`sdk-credit-${suite}`, { suite, requireCleanExit: false });
    let client: TallyClient;
    let genesis: Genesis;
    let regulator: AccountSigner;
    let bank: AccountSigner;
    let firm: AccountSigner;

    before(async () => {
      const sdk = await network.sdk();
      client = sdk.client;
      genesis = sdk.genesis;
      const register = (roles: string[]) => sdk.register(roles);
      regulator = await register(["regulator"]);
      bank = await register(["bank"]);
      firm = await register([]);
    });

    test("record → link → apply → refused decisions → reject → re-apply → approve; standing proven, history in order", async () => {
      const evidence = await client.credit.digestOf(utf8("penalty decision 2026-017"));
      const recorded = ok(
        await regulator.credit.recordEvent({
          entityId: ENTITY,
          kind: "tax-arrears",
          severity: 4,
          evidenceDigest: evidence,
          date: "2026-03-01",
        }),
      );
      assert.deepEqual(recorded.result.value, { entityId: ENTITY, eventId: 1, kind: "tax-arrears", severity: 4, score: 60, grade: "C" });
      ok(
        await regulator.credit.recordEvent({
          entityId: ENTITY,
          kind: "late-filing",
          severity: 1,
          evidenceDigest: evidence,
          date: "2026-03-02",
        }),
      );
      // Only regulators record.
      failed(
        await bank.credit.recordEvent({ entityId: ENTITY, kind: "fraud", severity: 5, evidenceDigest: evidence, date: "2026-03-03" }),
        "FORBIDDEN",
      );

      // Before the link, the entity's own account may not apply; a bank may not either for an unknown entity.
      const receipt = await client.credit.digestOf(utf8("tax paid, receipt 88"));
      failed(await firm.credit.applyRepair({ entityId: ENTITY, eventId: 1, reason: "paid", evidenceDigest: receipt }), "FORBIDDEN");
      failed(await bank.credit.applyRepair({ entityId: "UNKNOWN", eventId: 1, reason: "paid", evidenceDigest: receipt }), "NO_SUCH_ENTITY");
      ok(await regulator.credit.linkEntity(ENTITY, firm.address));

      const applied = ok(
        await firm.credit.applyRepair({ entityId: ENTITY, eventId: 1, reason: "arrears paid in full", evidenceDigest: receipt }),
      );
      assert.deepEqual(applied.result.value, { entityId: ENTITY, applicationId: 1, eventId: 1, applicant: firm.address });
      failed(await bank.credit.applyRepair({ entityId: ENTITY, eventId: 1, reason: "again", evidenceDigest: receipt }), "REPAIR_PENDING");

      // Repair decisions by non-regulators are refused.
      for (const who of [firm, bank])
        failed(await who.credit.decideRepair({ entityId: ENTITY, applicationId: 1, approve: true }), "FORBIDDEN");

      const open = await regulator.credit.openApplications();
      assert.deepEqual(
        open.items.map((a) => [a.entityId, a.id, a.status]),
        [[ENTITY, 1, "open"]],
      );
      await assert.rejects(bank.credit.openApplications(), (e: unknown) => e instanceof TallyError && e.code === "FORBIDDEN");

      ok(await regulator.credit.decideRepair({ entityId: ENTITY, applicationId: 1, approve: false, note: "receipt unreadable" }));
      ok(await bank.credit.applyRepair({ entityId: ENTITY, eventId: 1, reason: "bank confirms payment", evidenceDigest: receipt }));
      const approved = ok(await regulator.credit.decideRepair({ entityId: ENTITY, applicationId: 2, approve: true, note: "confirmed" }));
      assert.deepEqual(approved.result.value, {
        entityId: ENTITY,
        applicationId: 2,
        eventId: 1,
        status: "approved",
        by: regulator.address,
        score: 95,
        grade: "A",
      });
      // Final states are refused at admission (409), before a nonce is used.
      const nonce = firm.nonce;
      await assert.rejects(
        firm.credit.applyRepair({ entityId: ENTITY, eventId: 1, reason: "again", evidenceDigest: receipt }),
        (e: unknown) => e instanceof TallyError && e.code === "EVENT_REPAIRED" && e.meta.status === 409,
      );
      await assert.rejects(
        regulator.credit.decideRepair({ entityId: ENTITY, applicationId: 2, approve: false }),
        (e: unknown) => e instanceof TallyError && e.code === "APPLICATION_DECIDED" && e.meta.status === 409,
      );
      assert.equal(firm.nonce, nonce);

      const standing = await client.credit.standing(ENTITY);
      assert.deepEqual(standing, {
        entityId: ENTITY,
        account: firm.address,
        score: 95,
        grade: "A",
        penalty: 5,
        active: 1,
        repaired: 1,
        events: 2,
        applications: 2,
        updatedAt: approved.height,
      });
      assert.equal(await client.credit.standing("NOBODY"), null);

      const history = await client.credit.history(ENTITY);
      assert.ok(history);
      assert.deepEqual(
        history.items.map((i) => [i.seq, i.type, i.id, i.status]),
        [
          [1, "event", 1, "repaired"],
          [2, "event", 2, "active"],
          [3, "application", 1, "rejected"],
          [4, "application", 2, "approved"],
        ],
      );
      const rejected = history.items[2];
      assert.ok(rejected?.type === "application");
      assert.equal(rejected.note, "receipt unreadable");
      assert.deepEqual(rejected.evidenceDigest, receipt);
      // The stored standing is the rule applied to the history.
      const events = history.items.flatMap((i) => (i.type === "event" ? [i] : []));
      const { score, grade, penalty, active, repaired } = standing ?? assert.fail();
      assert.deepEqual(creditStanding(events), { score, grade, penalty, active, repaired });
      const page = await client.credit.history(ENTITY, { after: 2, limit: 1 });
      assert.deepEqual([page?.items.map((i) => i.seq), page?.next], [[3], 3]);

      // The standing proven against the state root of a header whose commit verifies from genesis.
      const { header } = verifyTxReceipt(genesis, (await client.txReceipt(approved.hash)).receipt);
      const proven = await client.credit.provenStanding(ENTITY, { height: approved.height, trustedStateRoot: header.stateRoot });
      assert.deepEqual(proven.value, {
        entityId: ENTITY,
        score: 95,
        grade: "A",
        penalty: 5,
        active: 1,
        repaired: 1,
        height: approved.height,
      });
      await assert.rejects(
        client.credit.provenStanding(ENTITY, { height: approved.height, trustedStateRoot: new Uint8Array(32).fill(1) }),
        (e: unknown) => e instanceof TallyError && e.code === "BAD_PROOF",
      );
      assert.equal((await client.credit.provenStanding("NOBODY")).value, null);
    });

    test("the SDK refuses malformed arguments before signing", async () => {
      const nonce = regulator.nonce;
      const good = { entityId: ENTITY, kind: "fraud", severity: 3, evidenceDigest: "ab".repeat(32), date: "2026-01-01" };
      for (const patch of [{ entityId: "a/b" }, { kind: "Fraud" }, { severity: 6 }, { evidenceDigest: "ab" }, { date: "2026-02-30" }]) {
        assert.throws(
          () => regulator.credit.recordEvent({ ...good, ...patch }),
          (e: unknown) => e instanceof TallyError && e.code === "BAD_ARGS",
        );
      }
      assert.throws(
        () => regulator.credit.decideRepair({ entityId: ENTITY, applicationId: 0, approve: true }),
        (e: unknown) => e instanceof TallyError && e.code === "BAD_ARGS",
      );
      assert.equal(regulator.nonce, nonce);
    });
  });
}
