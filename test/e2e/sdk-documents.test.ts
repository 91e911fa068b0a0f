/**
 * The documents module through the SDK against a real node process. Two banks of different
 * organisations, a regulator and a debtor (registered by the `tally init` admin) walk through trade
 * finance — register, pledge, a second bank's over-financing refused with amounts only, release,
 * re-pledge, factoring confirmed by the debtor — and cross-border payment authenticity with the
 * regulator's queries, including the refusals.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { getSuite, toHex } from "@tally/core";
import {
  type AccountSigner,
  type DocumentFieldsInput,
  type DocumentUsesPage,
  type DocumentView,
  documentKey,
  type PayerDocumentsPage,
  type SubmitResult,
  type TallyClient,
  TallyError,
} from "@tally/sdk";
import { CliNetwork, committedFailed, committedOk } from "../helpers.js";

/** The value of a committed, successful call. */
const ok = (outcome: SubmitResult) => committedOk(outcome).result.value as Record<string, unknown>;
/** The details (value) of a call refused at execution with `code`. */
const failed = (outcome: SubmitResult, code: string) => committedFailed(outcome, code).result.value as Record<string, unknown>;

const ORGS = [
  { id: "bank-a", name: "Bank A" },
  { id: "bank-b", name: "Bank B" },
  { id: "authority", name: "Financial regulator" },
  { id: "buyer-co", name: "Buyer Co" },
];

/** Organisations besides the consortium's, added to the genesis before the node first starts. */
function addOrgs(net: string): void {
  for (const path of [join(net, "genesis.json"), join(net, "node0", "genesis.json")]) {
    const doc = JSON.parse(readFileSync(path, "utf8")) as { orgs: unknown[] };
    doc.orgs.push(...ORGS);
    writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
  }
}

const rejectsWith = (code: string, status?: number) => (err: unknown) =>
  err instanceof TallyError && err.code === code && (status === undefined || err.meta.status === status);

for (const suite of ["ed25519", "sm2"] as const) {
  describe(`SDK documents (${suite})`, () => {
    const network = new CliNetwork(`sdk-documents-${suite}`, { suite, beforeStart: addOrgs, requireCleanExit: false });
    const salt = randomBytes(32);
    const receivable: DocumentFieldsInput = {
      kind: "receivable",
      issuerId: "EXPORTER-LEI-5493001KJTIIGC8Y1R12",
      number: "RCV-2026-0042",
      currency: "USD",
      faceValue: "1000000",
      issueDate: "2026-06-30",
    };
    let client: TallyClient;
    let bankA: AccountSigner;
    let bankB: AccountSigner;
    let regulator: AccountSigner;
    let debtor: AccountSigner;

    before(async () => {
      const sdk = await network.sdk();
      client = sdk.client;
      const register = (org: string, roles: string[]) => sdk.register(roles, org);
      bankA = await register("bank-a", ["bank"]);
      bankB = await register("bank-b", ["bank"]);
      regulator = await register("authority", ["regulator"]);
      debtor = await register("buyer-co", []);
    });

    test("trade finance: both banks derive the same key; double financing refused with amounts only; release; factoring", async () => {
      const key = bankA.documents.keyOf(salt, receivable);
      assert.equal(toHex(bankB.documents.keyOf(salt, { ...receivable, number: " RCV-2026-0042 ", currency: "usd" })), toHex(key));
      assert.equal(toHex(documentKey(getSuite(suite), salt, receivable)), toHex(key));
      const keyHex = toHex(key);

      const registered = ok(await bankA.documents.register({ salt, fields: receivable, debtor: debtor.address }));
      assert.deepEqual(registered, { key: keyHex, kind: "receivable", faceValue: "1000000", currency: "USD", holder: "bank-a" });
      // The second bank cannot register it again: refused at admission, without saying who holds it.
      await assert.rejects(bankB.documents.register({ salt, fields: receivable }), (err: unknown) => {
        assert.ok(rejectsWith("DOCUMENT_EXISTS", 409)(err));
        assert.ok(!JSON.stringify((err as TallyError).meta).includes("bank-a"));
        return true;
      });

      assert.deepEqual(ok(await bankA.documents.pledge(key, 700_000n, "LOAN-A-1")), {
        key: keyHex,
        used: "700000",
        available: "300000",
        useId: 1,
      });
      const over = failed(await bankB.documents.pledge(key, "400000", "LOAN-B-1"), "DOCUMENT_OVERUSED");
      assert.deepEqual(over, { key: keyHex, faceValue: "1000000", used: "700000", available: "300000", requested: "400000" });

      // Anyone sees the amounts; bank B sees no holder and none of bank A's uses.
      const anon = await client.query<DocumentView>("documents", "document", { key: keyHex });
      assert.deepEqual(anon.value, {
        key: keyHex,
        used: "700000",
        available: "300000",
        kind: "receivable",
        faceValue: "1000000",
        currency: "USD",
        openUses: 1,
      });
      const seenByB = (await bankB.query<DocumentView>("documents", "document", { key: keyHex })).value;
      assert.equal(seenByB.holder, undefined);
      assert.deepEqual(seenByB.ownUses, []);

      ok(await bankB.documents.pledge(key, 300_000n, "LOAN-B-1"));
      assert.deepEqual(ok(await bankA.documents.release(key, 1)), { key: keyHex, used: "300000", available: "700000", useId: 1 });
      failed(await bankA.documents.release(key, 1), "USE_CLOSED");
      failed(await bankA.documents.release(key, 2), "FORBIDDEN");
      assert.equal(ok(await bankB.documents.pledge(key, 700_000n, "LOAN-B-2")).useId, 3);
      failed(await bankA.documents.pledge(key, 1n, "LOAN-A-2"), "DOCUMENT_OVERUSED");

      // Factoring: bank A hands the receivable to bank B; only the debtor confirms.
      failed(await debtor.documents.confirmTransfer(key), "NO_PENDING_TRANSFER");
      assert.deepEqual(ok(await bankA.documents.transfer(key, "bank-b")), { key: keyHex, toOrg: "bank-b" });
      failed(await bankB.documents.confirmTransfer(key), "FORBIDDEN");
      failed(await debtor.documents.confirmTransfer(key, { toOrg: "authority" }), "NO_PENDING_TRANSFER");
      assert.deepEqual(ok(await debtor.documents.confirmTransfer(key, { toOrg: "bank-b" })), { key: keyHex, from: "bank-a", to: "bank-b" });

      const full = (await regulator.query<DocumentView>("documents", "document", { key: keyHex })).value;
      assert.equal(full.holder, "bank-b");
      assert.equal(full.pending, null);
      assert.deepEqual(
        full.uses?.map((u) => [u.id, u.org, u.amount, u.status]),
        [
          [1, "bank-a", "700000", "released"],
          [2, "bank-b", "300000", "open"],
          [3, "bank-b", "700000", "open"],
        ],
      );
      const trail = (await client.query<DocumentUsesPage>("documents", "uses", { key: keyHex }, { signer: regulator })).value;
      assert.deepEqual(
        trail.items.map((u) => u.ref),
        ["LOAN-A-1", "LOAN-B-1", "LOAN-B-2"],
      );
    });

    test("cross-border authenticity: payments capped by the face value; the regulator lists uses and a payer's documents", async () => {
      const invoice: DocumentFieldsInput = {
        kind: "invoice",
        issuerId: "SELLER-TAX-91310000",
        number: "INV-77",
        currency: "EUR",
        faceValue: "50000",
        issueDate: "2026-07-01",
      };
      const key = bankA.documents.keyOf(salt, invoice);
      const keyHex = toHex(key);
      ok(await bankA.documents.register({ salt, fields: invoice }));
      failed(await bankA.documents.transfer(key, "bank-b"), "NO_DEBTOR");

      ok(await bankA.documents.recordPayment(key, { paymentId: "MT103-0001", payer: "CN-IMPORTER-7", amount: 30_000n }));
      failed(await bankB.documents.recordPayment(key, { paymentId: "MT103-0001", payer: "CN-IMPORTER-7", amount: 1n }), "PAYMENT_EXISTS");
      const over = failed(
        await bankB.documents.recordPayment(key, { paymentId: "MT103-0002", payer: "CN-IMPORTER-7", amount: 20_001n }),
        "DOCUMENT_OVERUSED",
      );
      assert.deepEqual(over, { key: keyHex, faceValue: "50000", used: "30000", available: "20000", requested: "20001" });
      ok(await bankB.documents.recordPayment(key, { paymentId: "MT103-0002", payer: "CN-IMPORTER-7", amount: 20_000n }));
      failed(await bankA.documents.release(key, 1), "USE_PERMANENT");

      const uses = (await regulator.query<DocumentUsesPage>("documents", "uses", { key: keyHex })).value;
      assert.deepEqual(
        uses.items.map((u) => [u.kind, u.org, u.ref, u.payer, u.amount]),
        [
          ["payment", "bank-a", "MT103-0001", "CN-IMPORTER-7", "30000"],
          ["payment", "bank-b", "MT103-0002", "CN-IMPORTER-7", "20000"],
        ],
      );
      const byPayer = (await regulator.query<PayerDocumentsPage>("documents", "byPayer", { payer: "CN-IMPORTER-7" })).value;
      assert.deepEqual(
        byPayer.items.map((i) => [i.key, i.paymentId, i.amount, i.currency]),
        [
          [keyHex, "MT103-0001", "30000", "EUR"],
          [keyHex, "MT103-0002", "20000", "EUR"],
        ],
      );
      assert.equal(byPayer.next, null);

      // The regulator's queries: anonymous → 401, a bank → 403.
      await assert.rejects(client.query("documents", "byPayer", { payer: "CN-IMPORTER-7" }), rejectsWith("UNAUTHENTICATED", 401));
      await assert.rejects(bankA.query("documents", "byPayer", { payer: "CN-IMPORTER-7" }), rejectsWith("FORBIDDEN", 403));
      await assert.rejects(client.query("documents", "uses", { key: keyHex }), rejectsWith("UNAUTHENTICATED", 401));
      await assert.rejects(debtor.query("documents", "uses", { key: keyHex }), rejectsWith("FORBIDDEN", 403));
      await assert.rejects(client.query("documents", "document", { key: "00".repeat(32) }), rejectsWith("NO_SUCH_DOCUMENT", 404));
    });

    test("the SDK refuses malformed keys and amounts before signing", () => {
      const nonce = bankA.nonce;
      assert.throws(() => bankA.documents.pledge("abcd", 1n, "L"), rejectsWith("BAD_ARGS"));
      assert.throws(() => bankA.documents.pledge(new Uint8Array(31), 1n, "L"), rejectsWith("BAD_ARGS"));
      for (const amount of ["0", "01", "-1", "1.5", 0n]) {
        assert.throws(() => bankA.documents.pledge(new Uint8Array(32), amount, "L"), rejectsWith("BAD_ARGS"));
      }
      assert.throws(() => bankA.documents.register({ salt, fields: { ...receivable, issueDate: "2026-02-30" } }), rejectsWith("BAD_ARGS"));
      assert.equal(bankA.nonce, nonce);
    });
  });
}
