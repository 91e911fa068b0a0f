/**
 * The invoices module through the SDK against a real node process. `tally init` has one org, so the
 * buyer side is the issuer's own org here (a second org is covered by the node tests): an admin
 * registers two invoice-issuers, a buyer-side clerk, a tax authority and a plain account; then issue,
 * status for anyone, reimburse once (the second refused), reverse before reimbursement (after it
 * refused), the tax authority's paged listing, and a record proven against a verified receipt.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { getSuite, utf8 } from "@tally/core";
import { type AccountSigner, type Genesis, type InvoiceInput, type TallyClient, TallyError, verifyTxReceipt } from "@tally/sdk";
import { CliNetwork, committedFailed as failed, committedOk as ok } from "../helpers.js";

const ORG = "consortium";

const isCode = (code: string) => (err: unknown) => err instanceof TallyError && err.code === code;

for (const suite of ["ed25519", "sm2"] as const) {
  describe(`SDK invoices (${suite})`, () => {
    const network = new CliNetwork(`sdk-invoices-${suite}`, { suite, requireCleanExit: false });
    let client: TallyClient;
    let genesis: Genesis;
    let issuer: AccountSigner;
    let issuer2: AccountSigner;
    let clerk: AccountSigner;
    let taxAuthority: AccountSigner;
    let plain: AccountSigner;
    const document = utf8("%PDF-1.7 invoice 2026/INV-0001: 100000 + 13000 tax");

    before(async () => {
      const sdk = await network.sdk();
      client = sdk.client;
      genesis = sdk.genesis;
      const register = (roles: string[]) => sdk.register(roles, ORG);
      issuer = await register(["invoice-issuer"]);
      issuer2 = await register(["invoice-issuer"]);
      clerk = await register([]);
      taxAuthority = await register(["tax-authority"]);
      plain = await register([]);
    });

    const input = async (number: string, extra: Partial<InvoiceInput> = {}): Promise<InvoiceInput> => ({
      number,
      sellerTaxId: "91310000MA1K0000X1",
      buyerTaxId: "91440300MA5F0000Y2",
      buyerOrg: ORG,
      amount: 100_000n,
      tax: "13000",
      date: "2026-03-15",
      digest: await client.invoices.digestOf(document),
      ...extra,
    });

    test("issue → status → reimburse once (second refused) → reverse refused; reverse before reimbursement", async () => {
      const digest = await client.invoices.digestOf(document);
      assert.deepEqual(digest, getSuite(suite).hash(document));
      const issued = ok(await issuer.invoices.issue(await input("2026/INV-0001")));
      assert.deepEqual(issued.result.value, { issuerOrg: ORG, number: "2026/INV-0001", status: "issued", height: issued.height });
      assert.deepEqual(await client.invoices.status(ORG, "2026/INV-0001"), {
        issuerOrg: ORG,
        number: "2026/INV-0001",
        status: "issued",
        buyerOrg: ORG,
        amount: 100_000n,
        tax: 13_000n,
        date: "2026-03-15",
        digest,
        issuedAt: issued.height,
        reimbursedAt: null,
        reversedAt: null,
      });
      assert.equal(await client.invoices.status(ORG, "2026/INV-9999"), null);

      // Refusals at execution are committed with their code: no role, duplicate number, unknown buyer org.
      failed(await plain.invoices.issue(await input("2026/INV-0002")), "FORBIDDEN");
      const dup = failed(await issuer2.invoices.issue(await input("2026/INV-0001", { amount: 1n })), "INVOICE_EXISTS");
      assert.deepEqual(dup.result.value, { issuerOrg: ORG, number: "2026/INV-0001", height: issued.height });
      failed(await issuer.invoices.issue(await input("2026/INV-0003", { buyerOrg: "nobody" })), "NO_SUCH_ORG");

      const paid = ok(await clerk.invoices.reimburse(ORG, "2026/INV-0001", { claimRef: "EXP-42" }));
      assert.deepEqual(paid.result.events, [
        {
          module: "invoices",
          name: "reimbursed",
          data: { issuerOrg: ORG, number: "2026/INV-0001", buyerOrg: ORG, by: clerk.address, claimRef: "EXP-42" },
        },
      ]);
      const second = failed(await plain.invoices.reimburse(ORG, "2026/INV-0001"), "ALREADY_REIMBURSED");
      assert.deepEqual(second.result.value, { issuerOrg: ORG, number: "2026/INV-0001", reimbursedAt: paid.height });
      failed(await issuer.invoices.reverse("2026/INV-0001", "too late"), "ALREADY_REIMBURSED");
      assert.equal((await client.invoices.status(ORG, "2026/INV-0001"))?.status, "reimbursed");
      assert.equal((await client.invoices.status(ORG, "2026/INV-0001"))?.reimbursedAt, paid.height);

      ok(await issuer.invoices.issue(await input("2026/INV-0004", { tax: 0n })));
      failed(await plain.invoices.reverse("2026/INV-0004", "no role"), "FORBIDDEN");
      const reversed = ok(await issuer2.invoices.reverse("2026/INV-0004", "wrong buyer tax id"));
      failed(await issuer.invoices.reverse("2026/INV-0004", "again"), "INVOICE_REVERSED");
      failed(await clerk.invoices.reimburse(ORG, "2026/INV-0004"), "INVOICE_REVERSED");
      failed(await clerk.invoices.reimburse(ORG, "2026/INV-0005"), "NO_SUCH_INVOICE");

      // The full record, proven against the state root of a header verified offline from the genesis.
      const { header } = verifyTxReceipt(genesis, (await client.txReceipt(reversed.hash)).receipt);
      const record = await client.invoices.record(ORG, "2026/INV-0004", { height: reversed.height, trustedStateRoot: header.stateRoot });
      assert.ok(record);
      assert.deepEqual(
        { status: record.status, reversedBy: record.reversedBy, reason: record.reason, tax: record.tax, issuedBy: record.issuedBy },
        { status: "reversed", reversedBy: issuer2.address, reason: "wrong buyer tax id", tax: 0n, issuedBy: issuer.address },
      );
      await assert.rejects(
        client.invoices.record(ORG, "2026/INV-0004", { height: reversed.height, trustedStateRoot: new Uint8Array(32).fill(7) }),
        isCode("BAD_PROOF"),
      );
      assert.equal(await client.invoices.record(ORG, "2026/INV-0005"), null);
    });

    test("the tax authority lists by issuer in issue order, paged; others are refused", async () => {
      for (const n of ["Z-10", "A-11", "M-12"]) ok(await issuer.invoices.issue(await input(n)));
      const all = await taxAuthority.invoices.listByIssuer(ORG);
      assert.deepEqual(
        all.items.map((i) => [i.number, i.status]),
        [
          ["2026/INV-0001", "reimbursed"],
          ["2026/INV-0004", "reversed"],
          ["Z-10", "issued"],
          ["A-11", "issued"],
          ["M-12", "issued"],
        ],
      );
      assert.equal(all.next, null);
      const first = all.items[0];
      assert.ok(first);
      assert.deepEqual(
        { claimRef: first.claimRef, reimbursedBy: first.reimbursedBy, sellerTaxId: first.sellerTaxId, amount: first.amount },
        { claimRef: "EXP-42", reimbursedBy: clerk.address, sellerTaxId: "91310000MA1K0000X1", amount: 100_000n },
      );
      const names: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await taxAuthority.invoices.listByIssuer(ORG, { limit: 2, ...(after === undefined ? {} : { after }) });
        names.push(...page.items.map((i) => i.number));
        if (page.next === null) break;
        after = page.next;
      }
      assert.deepEqual(names, ["2026/INV-0001", "2026/INV-0004", "Z-10", "A-11", "M-12"]);
      assert.equal((await taxAuthority.invoices.listByBuyer(ORG)).items.length, 5);

      await assert.rejects(
        plain.invoices.listByIssuer(ORG),
        (err: unknown) => isCode("FORBIDDEN")(err) && (err as TallyError).meta.status === 403,
      );
      await assert.rejects(issuer.invoices.listByIssuer(ORG), isCode("FORBIDDEN"));
      await assert.rejects(
        client.query("invoices", "byIssuer", { issuerOrg: ORG }),
        (err: unknown) => isCode("UNAUTHENTICATED")(err) && (err as TallyError).meta.status === 401,
      );
      await assert.rejects(client.query("invoices", "status", { issuerOrg: ORG, number: "NOPE" }), isCode("NO_SUCH_INVOICE"));
    });

    test("the SDK refuses malformed fields before signing", async () => {
      const nonce = issuer.nonce;
      const bad: Array<Partial<InvoiceInput>> = [
        { date: "2026-02-29" },
        { date: "2026-3-15" },
        { amount: 0n },
        { amount: "1.5" },
        { tax: "-1" },
        { number: "/INV" },
        { sellerTaxId: "lower" },
        { buyerOrg: "Not An Org" },
        { digest: "00" },
      ];
      for (const extra of bad) {
        const args = await input("X-1", extra);
        assert.throws(
          () => issuer.invoices.issue(args),
          isCode("BAD_ARGS"),
          JSON.stringify(extra, (_k, v) => (typeof v === "bigint" ? `${v}` : v)),
        );
      }
      assert.throws(() => issuer.invoices.reverse("X-1", " "), isCode("BAD_ARGS"));
      assert.throws(() => clerk.invoices.reimburse(ORG, "X-1", { claimRef: "c".repeat(65) }), isCode("BAD_ARGS"));
      await assert.rejects(taxAuthority.invoices.listByIssuer(ORG, { after: "not-a-cursor" }), isCode("BAD_ARGS"));
      assert.equal(issuer.nonce, nonce);
    });
  });
}
