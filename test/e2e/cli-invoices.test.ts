/**
 * The invoice commands from the outside: init a network, start the node as its own process, register
 * an invoice-issuer, a buyer-side clerk (the same org: `tally init` has one) and a tax authority with
 * the CLI; then issue from a document file, check the status (and the file against it), reimburse once
 * (the second refused), reverse another before reimbursement, and list as the tax authority.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { getSuite, toHex } from "@tally/core";
import { CliNetwork } from "../helpers.js";

for (const suite of ["ed25519", "sm2"] as const) {
  describe(`CLI invoice flow (${suite})`, () => {
    const network = new CliNetwork(`cli-invoices-${suite}`, { suite });
    const { dir } = network;

    const json = (args: string[]) => network.json(args);
    const refused = (args: string[], expected: string | RegExp) => network.refused(args, expected);
    const newAccount = (name: string, roles: string) => network.newAccount(name, roles);

    test("issue from a file, status, reimburse once, reverse, list", () => {
      const issuer = newAccount("issuer", "invoice-issuer");
      const clerk = newAccount("clerk", "");
      const tax = newAccount("tax", "tax-authority");
      const pdf = join(dir.path, "invoice.pdf");
      writeFileSync(pdf, "%PDF-1.7 invoice INV-1");
      const other = join(dir.path, "other.pdf");
      writeFileSync(other, "%PDF-1.7 a different document");
      const fields = (num: string) => [
        "--number",
        num,
        "--seller-tax-id",
        "91310000MA1K0000X1",
        "--buyer-tax-id",
        "91440300MA5F0000Y2",
        "--buyer-org",
        "consortium",
        "--amount",
        "100000",
        "--tax",
        "13000",
        "--date",
        "2026-03-15",
      ];

      refused(["invoice", "issue", "--key", clerk.keyPath, ...fields("INV-1"), "--file", pdf], "FORBIDDEN");
      const issued = json(["invoice", "issue", "--key", issuer.keyPath, ...fields("INV-1"), "--file", pdf]);
      const digest = toHex(getSuite(suite).hash(Buffer.from("%PDF-1.7 invoice INV-1")));
      assert.deepEqual(
        { issuerOrg: issued.issuerOrg, number: issued.number, status: issued.status, digest: issued.digest },
        { issuerOrg: "consortium", number: "INV-1", status: "issued", digest },
      );
      refused(["invoice", "issue", "--key", issuer.keyPath, ...fields("INV-1"), "--digest", digest], "INVOICE_EXISTS");
      refused(["invoice", "issue", "--key", issuer.keyPath, ...fields("INV-2"), "--date", "2026-02-30", "--digest", digest], "BAD_ARGS");

      const status = json(["invoice", "status", "--issuer-org", "consortium", "--number", "INV-1", "--file", pdf]);
      assert.deepEqual(
        { status: status.status, amount: status.amount, tax: status.tax, digest: status.digest, matches: status.documentMatches },
        { status: "issued", amount: "100000", tax: "13000", digest, matches: true },
      );
      const mismatch = refused(["invoice", "status", "--issuer-org", "consortium", "--number", "INV-1", "--file", other], "digest differs");
      assert.equal((JSON.parse(mismatch.stdout) as { documentMatches: boolean }).documentMatches, false);
      refused(["invoice", "status", "--issuer-org", "consortium", "--number", "INV-404"], "NO_SUCH_INVOICE");

      const paid = json([
        "invoice",
        "reimburse",
        "--key",
        clerk.keyPath,
        "--issuer-org",
        "consortium",
        "--number",
        "INV-1",
        "--claim-ref",
        "EXP-1",
      ]);
      assert.equal(paid.status, "reimbursed");
      refused(["invoice", "reimburse", "--key", clerk.keyPath, "--issuer-org", "consortium", "--number", "INV-1"], "ALREADY_REIMBURSED");
      refused(["invoice", "reverse", "--key", issuer.keyPath, "--number", "INV-1", "--reason", "late"], "ALREADY_REIMBURSED");

      json(["invoice", "issue", "--key", issuer.keyPath, ...fields("INV-2"), "--digest", "ab".repeat(32)]);
      assert.equal(json(["invoice", "reverse", "--key", issuer.keyPath, "--number", "INV-2", "--reason", "duplicate"]).status, "reversed");
      refused(["invoice", "reimburse", "--key", clerk.keyPath, "--issuer-org", "consortium", "--number", "INV-2"], "INVOICE_REVERSED");

      const listed = json(["invoice", "list", "--key", tax.keyPath, "--issuer-org", "consortium"]) as {
        items: Array<Record<string, unknown>>;
        next: string | null;
      };
      assert.deepEqual(
        listed.items.map((i) => [i.number, i.status, i.amount]),
        [
          ["INV-1", "reimbursed", "100000"],
          ["INV-2", "reversed", "100000"],
        ],
      );
      assert.equal(listed.items[0]?.claimRef, "EXP-1");
      const page = json(["invoice", "list", "--key", tax.keyPath, "--issuer-org", "consortium", "--limit", "1"]) as { next: string };
      const rest = json(["invoice", "list", "--key", tax.keyPath, "--issuer-org", "consortium", "--after", page.next]) as {
        items: Array<Record<string, unknown>>;
      };
      assert.deepEqual(
        rest.items.map((i) => i.number),
        ["INV-2"],
      );
      refused(["invoice", "list", "--key", clerk.keyPath, "--issuer-org", "consortium"], "FORBIDDEN");
    });
  });
}
