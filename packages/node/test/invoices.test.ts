import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  decodeInvoiceRecord,
  encodeInvoiceRecord,
  type InvoiceRecord,
  invoiceByIssuerKey,
  invoiceKey,
  isCalendarDate,
  TallyError,
  type TxResult,
  toHex,
  utf8,
  type Value,
} from "@tally/core";
import { MemoryChain, makeNet, SUITES, type TestAccount } from "./helpers.js";

test("isCalendarDate: real calendar dates only", () => {
  for (const d of ["2026-01-31", "2024-02-29", "2000-02-29", "0001-01-01", "9999-12-31", "2026-04-30"]) assert.ok(isCalendarDate(d), d);
  for (const d of [
    "2026-02-29",
    "1900-02-29",
    "2026-04-31",
    "2026-13-01",
    "2026-00-10",
    "2026-01-00",
    "0000-01-01",
    "2026-1-01",
    "20260101",
    "2026-01-01T00:00",
    " 2026-01-01",
  ]) {
    assert.ok(!isCalendarDate(d), d);
  }
});

test("invoice record: canonical encoding round-trips; keys put the number last", () => {
  const r: InvoiceRecord = {
    issuerOrg: "acme",
    number: "2026/INV-1",
    sellerTaxId: "91310000MA1K0000X1",
    buyerTaxId: "DE123456789",
    buyerOrg: "buyco",
    amount: 10n ** 30n + 1n,
    tax: 0n,
    date: "2026-02-28",
    digest: new Uint8Array(32).fill(9),
    issuedBy: "ab".repeat(20),
    height: 7,
    status: "reimbursed",
    reimbursedAt: 9,
    reimbursedBy: "cd".repeat(20),
    claimRef: null,
    reversedAt: null,
    reversedBy: null,
    reason: null,
  };
  assert.deepEqual(decodeInvoiceRecord(encodeInvoiceRecord(r)), r);
  assert.deepEqual(invoiceKey("acme", "2026/INV-1"), utf8("invoices/i/acme/2026/INV-1"));
  assert.equal(toHex(invoiceByIssuerKey("acme", 258, 3)), `${toHex(utf8("invoices/s/acme/"))}000000000000010200000003`);
});

const DIGEST = (n: number) => new Uint8Array(32).fill(n);

for (const suiteId of SUITES) {
  describe(`invoices module (${suiteId})`, () => {
    const net = makeNet(suiteId, {
      orgs: [
        { id: "acme", name: "Acme (seller)" },
        { id: "buyco", name: "Buyer Co" },
        { id: "other", name: "Other seller" },
      ],
      accounts: [
        { name: "issuer", org: "acme", roles: ["invoice-issuer"] },
        { name: "issuer2", org: "acme", roles: ["invoice-issuer"] },
        { name: "clerk", org: "acme" },
        { name: "otherIssuer", org: "other", roles: ["invoice-issuer"] },
        { name: "buyer", org: "buyco" },
        { name: "buyer2", org: "buyco", roles: ["invoice-issuer"] },
        { name: "tax", roles: ["tax-authority"] },
        { name: "regulator", roles: ["regulator"] },
      ],
    });
    const acct = (name: string): TestAccount => {
      const a = net.accounts[name];
      assert.ok(a, name);
      return a;
    };
    const [issuer, issuer2, clerk, otherIssuer, buyer, buyer2, tax, regulator] = [
      "issuer",
      "issuer2",
      "clerk",
      "otherIssuer",
      "buyer",
      "buyer2",
      "tax",
      "regulator",
    ].map(acct) as [TestAccount, TestAccount, TestAccount, TestAccount, TestAccount, TestAccount, TestAccount, TestAccount];

    const invoice = (num: string, extra: Record<string, Value> = {}): Record<string, Value> => ({
      number: num,
      sellerTaxId: "91310000MA1K0000X1",
      buyerTaxId: "91440300MA5F0000Y2",
      buyerOrg: "buyco",
      amount: "100000",
      tax: "13000",
      date: "2026-03-15",
      digest: DIGEST(1),
      ...extra,
    });

    function chain() {
      const c = new MemoryChain(net);
      const ok = (who: TestAccount, method: string, args: Value): TxResult => {
        const r = c.call(who, "invoices", method, args);
        assert.equal(r.status, "ok", `${method}: ${r.code} ${r.message}`);
        return r;
      };
      /** A refusal with `code`: no events and nothing under invoices/ changed. */
      const refused = (who: TestAccount, method: string, args: Value, code: string): TxResult => {
        const before = c.state.entriesUnder("invoices/");
        const r = c.call(who, "invoices", method, args);
        assert.equal(r.status, "failed", `${method} should be refused with ${code}`);
        assert.equal(r.code, code, `${r.code}: ${r.message}`);
        assert.deepEqual(r.events, []);
        assert.deepEqual(c.state.entriesUnder("invoices/"), before);
        return r;
      };
      const queryFails = (name: string, args: Value, caller: TestAccount | null, code: string) =>
        assert.throws(
          () => c.query("invoices", name, args, caller),
          (err: unknown) => err instanceof TallyError && err.code === code,
          `${name} should fail with ${code}`,
        );
      const record = (issuerOrg: string, num: string) => {
        const bytes = c.state.read(invoiceKey(issuerOrg, num));
        assert.ok(bytes !== null, `${issuerOrg}/${num} exists`);
        return decodeInvoiceRecord(bytes);
      };
      return { c, ok, refused, queryFails, record };
    }

    test("genesis writes nothing under invoices/", () => {
      assert.equal(chain().c.state.entriesUnder("invoices/").size, 0);
    });

    test("issue: record, event, result; status for anyone", () => {
      const { c, ok, record } = chain();
      const r = ok(issuer, "issue", invoice("2026/INV-0001"));
      const height = c.height;
      assert.deepEqual(r.value, { issuerOrg: "acme", number: "2026/INV-0001", status: "issued", height });
      assert.deepEqual(r.events, [
        {
          module: "invoices",
          name: "issued",
          data: {
            issuerOrg: "acme",
            number: "2026/INV-0001",
            buyerOrg: "buyco",
            amount: "100000",
            tax: "13000",
            date: "2026-03-15",
            digest: DIGEST(1),
            by: issuer.address,
          },
        },
      ]);
      assert.deepEqual(record("acme", "2026/INV-0001"), {
        issuerOrg: "acme",
        number: "2026/INV-0001",
        sellerTaxId: "91310000MA1K0000X1",
        buyerTaxId: "91440300MA5F0000Y2",
        buyerOrg: "buyco",
        amount: 100000n,
        tax: 13000n,
        date: "2026-03-15",
        digest: DIGEST(1),
        issuedBy: issuer.address,
        height,
        status: "issued",
        reimbursedAt: null,
        reimbursedBy: null,
        claimRef: null,
        reversedAt: null,
        reversedBy: null,
        reason: null,
      });
      const expected = {
        issuerOrg: "acme",
        number: "2026/INV-0001",
        status: "issued",
        buyerOrg: "buyco",
        amount: "100000",
        tax: "13000",
        date: "2026-03-15",
        digest: DIGEST(1),
        issuedAt: height,
        reimbursedAt: null,
        reversedAt: null,
      };
      // Anonymous and signed askers alike, with no tax ids or accounts in the answer.
      assert.deepEqual(c.query("invoices", "status", { issuerOrg: "acme", number: "2026/INV-0001" }), expected);
      assert.deepEqual(c.query("invoices", "status", { issuerOrg: "acme", number: "2026/INV-0001" }, clerk), expected);
      // Tax 0 and the largest amount are accepted.
      ok(issuer, "issue", invoice("ZERO-TAX", { tax: "0", amount: "9".repeat(39) }));
      assert.equal(record("acme", "ZERO-TAX").amount, 10n ** 39n - 1n);
    });

    test("status: unknown invoice is NO_SUCH_INVOICE; bad arguments are BAD_ARGS", () => {
      const { ok, queryFails } = chain();
      ok(issuer, "issue", invoice("A1"));
      queryFails("status", { issuerOrg: "acme", number: "A2" }, null, "NO_SUCH_INVOICE");
      queryFails("status", { issuerOrg: "other", number: "A1" }, null, "NO_SUCH_INVOICE");
      queryFails("status", { issuerOrg: "ACME", number: "A1" }, null, "BAD_ARGS");
      queryFails("status", { issuerOrg: "acme" }, null, "BAD_ARGS");
      queryFails("status", { issuerOrg: "acme", number: "A1", extra: 1 }, null, "BAD_ARGS");
    });

    test("reimburse once by the buyer org; a second is ALREADY_REIMBURSED; reversing it afterwards too", () => {
      const { c, ok, refused, record } = chain();
      ok(issuer, "issue", invoice("INV-1"));
      const r = ok(buyer, "reimburse", { issuerOrg: "acme", number: "INV-1", claimRef: "CLAIM-77" });
      const at = c.height;
      assert.deepEqual(r.value, { issuerOrg: "acme", number: "INV-1", status: "reimbursed", height: at });
      assert.deepEqual(r.events, [
        {
          module: "invoices",
          name: "reimbursed",
          data: { issuerOrg: "acme", number: "INV-1", buyerOrg: "buyco", by: buyer.address, claimRef: "CLAIM-77" },
        },
      ]);
      const rec = record("acme", "INV-1");
      assert.deepEqual(
        { status: rec.status, reimbursedAt: rec.reimbursedAt, reimbursedBy: rec.reimbursedBy, claimRef: rec.claimRef },
        { status: "reimbursed", reimbursedAt: at, reimbursedBy: buyer.address, claimRef: "CLAIM-77" },
      );
      // Any account of the buyer org counts as the buyer's side: the second one is refused all the same.
      const again = refused(buyer2, "reimburse", { issuerOrg: "acme", number: "INV-1" }, "ALREADY_REIMBURSED");
      assert.deepEqual(again.value, { issuerOrg: "acme", number: "INV-1", reimbursedAt: at });
      refused(buyer, "reimburse", { issuerOrg: "acme", number: "INV-1", claimRef: "CLAIM-78" }, "ALREADY_REIMBURSED");
      refused(issuer, "reverse", { number: "INV-1", reason: "too late" }, "ALREADY_REIMBURSED");
      assert.equal((c.query("invoices", "status", { issuerOrg: "acme", number: "INV-1" }) as { reimbursedAt: number }).reimbursedAt, at);
      // Without a claim reference the record keeps null.
      ok(issuer, "issue", invoice("INV-2"));
      ok(buyer2, "reimburse", { issuerOrg: "acme", number: "INV-2" });
      assert.equal(record("acme", "INV-2").claimRef, null);
    });

    test("reverse before reimbursement, once; reimbursing a reversed invoice is INVOICE_REVERSED", () => {
      const { c, ok, refused, record } = chain();
      ok(issuer, "issue", invoice("INV-1"));
      // Another invoice-issuer of the same org may reverse it.
      const r = ok(issuer2, "reverse", { number: "INV-1", reason: "wrong buyer tax id" });
      const at = c.height;
      assert.deepEqual(r.value, { issuerOrg: "acme", number: "INV-1", status: "reversed", height: at });
      assert.deepEqual(r.events, [
        {
          module: "invoices",
          name: "reversed",
          data: { issuerOrg: "acme", number: "INV-1", by: issuer2.address, reason: "wrong buyer tax id" },
        },
      ]);
      const rec = record("acme", "INV-1");
      assert.deepEqual(
        { status: rec.status, reversedAt: rec.reversedAt, reversedBy: rec.reversedBy, reason: rec.reason, reimbursedAt: rec.reimbursedAt },
        { status: "reversed", reversedAt: at, reversedBy: issuer2.address, reason: "wrong buyer tax id", reimbursedAt: null },
      );
      const again = refused(issuer, "reverse", { number: "INV-1", reason: "again" }, "INVOICE_REVERSED");
      assert.deepEqual(again.value, { issuerOrg: "acme", number: "INV-1", reversedAt: at });
      refused(buyer, "reimburse", { issuerOrg: "acme", number: "INV-1" }, "INVOICE_REVERSED");
      // The number stays taken: a reversed invoice is part of the record, not a free slot.
      refused(issuer, "issue", invoice("INV-1"), "INVOICE_EXISTS");
    });

    test("who may act: issue and reverse need the role; reimburse needs the buyer org; reverse is per issuing org", () => {
      const { ok, refused } = chain();
      refused(clerk, "issue", invoice("INV-1"), "FORBIDDEN");
      refused(net.admin, "issue", invoice("INV-1"), "FORBIDDEN");
      refused(tax, "issue", invoice("INV-1"), "FORBIDDEN");
      ok(issuer, "issue", invoice("INV-1"));
      refused(clerk, "reverse", { number: "INV-1", reason: "x" }, "FORBIDDEN");
      // An invoice-issuer of another org reverses within its own org's numbers: it has no INV-1.
      refused(otherIssuer, "reverse", { number: "INV-1", reason: "x" }, "NO_SUCH_INVOICE");
      // Reimbursement by anyone outside the buyer org, the issuer included, is FORBIDDEN.
      for (const who of [issuer, clerk, otherIssuer, tax, regulator, net.admin]) {
        const r = refused(who, "reimburse", { issuerOrg: "acme", number: "INV-1" }, "FORBIDDEN");
        assert.deepEqual(r.value, { issuerOrg: "acme", number: "INV-1", buyerOrg: "buyco" });
      }
      refused(buyer, "reimburse", { issuerOrg: "acme", number: "INV-9" }, "NO_SUCH_INVOICE");
      refused(buyer, "reimburse", { issuerOrg: "other", number: "INV-1" }, "NO_SUCH_INVOICE");
      refused(issuer, "reverse", { number: "INV-9", reason: "x" }, "NO_SUCH_INVOICE");
    });

    test("numbers: unique per issuing org; the same number from two orgs is two invoices", () => {
      const { ok, refused, record } = chain();
      const first = ok(issuer, "issue", invoice("INV-1"));
      const dup = refused(issuer2, "issue", invoice("INV-1", { amount: "5", digest: DIGEST(2) }), "INVOICE_EXISTS");
      assert.deepEqual(dup.value, { issuerOrg: "acme", number: "INV-1", height: (first.value as { height: number }).height });
      refused(issuer, "issue", invoice("INV-1"), "INVOICE_EXISTS");
      // Numbers are case-sensitive text.
      ok(issuer, "issue", invoice("inv-1"));
      ok(otherIssuer, "issue", invoice("INV-1", { amount: "5", digest: DIGEST(2) }));
      ok(buyer2, "issue", invoice("INV-1", { buyerOrg: "acme", amount: "7" }));
      assert.equal(record("acme", "INV-1").amount, 100000n);
      assert.equal(record("other", "INV-1").amount, 5n);
      assert.equal(record("buyco", "INV-1").buyerOrg, "acme");
      // Each is reimbursed by its own buyer org, independently.
      ok(buyer, "reimburse", { issuerOrg: "other", number: "INV-1" });
      assert.equal(record("acme", "INV-1").status, "issued");
      ok(issuer, "reimburse", { issuerOrg: "buyco", number: "INV-1" });
    });

    test("issue: an unknown buyer org is NO_SUCH_ORG; bad fields are BAD_ARGS", () => {
      const { refused } = chain();
      refused(issuer, "issue", invoice("INV-1", { buyerOrg: "nobody" }), "NO_SUCH_ORG");
      const bad: Array<[string, Value | undefined]> = [
        ...["2026-02-29", "2026-04-31", "2026-13-01", "2026-00-10", "2026-1-01", "20260315", "0000-01-01", "2026-03-15T00:00:00Z", ""].map(
          (d): [string, Value] => ["date", d],
        ),
        ...["0", "01", "-1", "1.5", "1e3", "1".repeat(40), "", " 1"].map((a): [string, Value] => ["amount", a]),
        ["amount", 100],
        ["tax", "01"],
        ["tax", "-1"],
        ["tax", 0],
        ...["", ".INV", "/INV", "INV 1", "INV\\1", "INV#1", "A".repeat(65), "发票1"].map((n): [string, Value] => ["number", n]),
        ...["", "91310000ma1k0000x1", "-ABC", "ABC-", "AB C", "A".repeat(33)].map((t): [string, Value] => ["sellerTaxId", t]),
        ["buyerTaxId", "DE 123"],
        ["buyerOrg", "Buy Co"],
        ["digest", DIGEST(1).subarray(0, 31)],
        ["digest", toHex(DIGEST(1))],
        ["date", undefined],
      ];
      for (const [field, value] of bad) {
        const args = invoice("INV-1");
        if (value === undefined) delete args[field];
        else args[field] = value;
        const r = refused(issuer, "issue", args, "BAD_ARGS");
        assert.equal((r.value as { field: string }).field, field, `${field}=${String(value)}`);
      }
      refused(issuer, "issue", { ...invoice("INV-1"), issuerOrg: "other" }, "BAD_ARGS");
      // The longest forms are accepted.
      const { ok } = chain();
      ok(issuer, "issue", invoice(`A${"9".repeat(63)}`, { sellerTaxId: "A".repeat(32), date: "2024-02-29" }));
    });

    test("reimburse and reverse: bad claimRef and reason are BAD_ARGS", () => {
      const { ok, refused } = chain();
      ok(issuer, "issue", invoice("INV-1"));
      for (const claimRef of ["x".repeat(65), "", "   ", 5])
        refused(buyer, "reimburse", { issuerOrg: "acme", number: "INV-1", claimRef }, "BAD_ARGS");
      refused(buyer, "reimburse", { issuerOrg: "acme", number: "INV-1", note: "x" }, "BAD_ARGS");
      for (const reason of ["x".repeat(257), "", " \n", null]) refused(issuer, "reverse", { number: "INV-1", reason }, "BAD_ARGS");
      refused(issuer, "reverse", { issuerOrg: "acme", number: "INV-1", reason: "x" }, "BAD_ARGS");
      ok(buyer, "reimburse", { issuerOrg: "acme", number: "INV-1", claimRef: "c".repeat(64) });
    });

    test("byIssuer: full records in issue order, paged; tax-authority or regulator only", () => {
      const { c, ok, queryFails } = chain();
      // Issue order differs from number order; two invoices share a block (tx index decides).
      ok(issuer, "issue", invoice("Z-1"));
      c.block([
        [issuer, "invoices", "issue", invoice("A-2")],
        [issuer2, "invoices", "issue", invoice("M-3", { buyerOrg: "other" })],
      ]);
      ok(otherIssuer, "issue", invoice("B-9"));
      ok(issuer, "issue", invoice("C-4"));
      ok(buyer, "reimburse", { issuerOrg: "acme", number: "A-2" });
      ok(issuer, "reverse", { number: "C-4", reason: "duplicate" });

      type Page = { issuerOrg: string; items: Array<Record<string, Value>>; next: string | null };
      const all = c.query("invoices", "byIssuer", { issuerOrg: "acme" }, tax) as Page;
      assert.deepEqual(
        all.items.map((i) => [i.number, i.status]),
        [
          ["Z-1", "issued"],
          ["A-2", "reimbursed"],
          ["M-3", "issued"],
          ["C-4", "reversed"],
        ],
      );
      assert.equal(all.next, null);
      const a2 = all.items[1] as Record<string, Value>;
      assert.equal(a2.reimbursedBy, buyer.address);
      assert.equal(a2.sellerTaxId, "91310000MA1K0000X1");
      assert.equal(a2.buyerTaxId, "91440300MA5F0000Y2");
      assert.equal(a2.issuedBy, issuer.address);
      assert.equal((all.items[3] as Record<string, Value>).reason, "duplicate");
      assert.equal((all.items[2] as Record<string, Value>).issuedBy, issuer2.address);

      // Pages of 3 then the rest; a full last page has a cursor to an empty page.
      const p1 = c.query("invoices", "byIssuer", { issuerOrg: "acme", limit: 3 }, regulator) as Page;
      assert.deepEqual(
        p1.items.map((i) => i.number),
        ["Z-1", "A-2", "M-3"],
      );
      assert.match(p1.next ?? "", /^[0-9a-f]{24}$/);
      const p2 = c.query("invoices", "byIssuer", { issuerOrg: "acme", limit: 3, after: p1.next }, regulator) as Page;
      assert.deepEqual(
        p2.items.map((i) => i.number),
        ["C-4"],
      );
      assert.equal(p2.next, null);
      const q1 = c.query("invoices", "byIssuer", { issuerOrg: "acme", limit: 2 }, tax) as Page;
      const q2 = c.query("invoices", "byIssuer", { issuerOrg: "acme", limit: 2, after: q1.next }, tax) as Page;
      assert.deepEqual(
        q2.items.map((i) => i.number),
        ["M-3", "C-4"],
      );
      assert.deepEqual((c.query("invoices", "byIssuer", { issuerOrg: "acme", after: q2.next }, tax) as Page).items, []);
      assert.deepEqual(
        (c.query("invoices", "byIssuer", { issuerOrg: "other" }, tax) as Page).items.map((i) => i.number),
        ["B-9"],
      );
      assert.deepEqual((c.query("invoices", "byIssuer", { issuerOrg: "nobody" }, tax) as Page).items, []);

      queryFails("byIssuer", { issuerOrg: "acme" }, null, "UNAUTHENTICATED");
      for (const who of [issuer, clerk, buyer, net.admin]) queryFails("byIssuer", { issuerOrg: "acme" }, who, "FORBIDDEN");
      const badPages: Value[] = [
        { issuerOrg: "acme", limit: 0 },
        { issuerOrg: "acme", limit: 1001 },
        { issuerOrg: "acme", after: "zz" },
        { issuerOrg: "acme", after: "00".repeat(13) },
        {},
      ];
      for (const args of badPages) queryFails("byIssuer", args, tax, "BAD_ARGS");
    });

    test("byBuyer: invoices addressed to an org, in issue order; tax-authority or regulator only", () => {
      const { c, ok, queryFails } = chain();
      ok(issuer, "issue", invoice("A-1"));
      ok(otherIssuer, "issue", invoice("A-1"));
      ok(issuer, "issue", invoice("A-2", { buyerOrg: "other" }));
      type Page = { buyerOrg: string; items: Array<Record<string, Value>>; next: string | null };
      const page = c.query("invoices", "byBuyer", { buyerOrg: "buyco" }, regulator) as Page;
      assert.deepEqual(
        page.items.map((i) => [i.issuerOrg, i.number]),
        [
          ["acme", "A-1"],
          ["other", "A-1"],
        ],
      );
      const first = c.query("invoices", "byBuyer", { buyerOrg: "buyco", limit: 1 }, tax) as Page;
      const second = c.query("invoices", "byBuyer", { buyerOrg: "buyco", limit: 1, after: first.next }, tax) as Page;
      assert.deepEqual(
        second.items.map((i) => i.issuerOrg),
        ["other"],
      );
      queryFails("byBuyer", { buyerOrg: "buyco" }, null, "UNAUTHENTICATED");
      queryFails("byBuyer", { buyerOrg: "buyco" }, buyer, "FORBIDDEN");
    });
  });
}
