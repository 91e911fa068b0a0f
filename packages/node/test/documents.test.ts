import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import {
  DOCUMENT_USES_MAX,
  type DocumentFieldsInput,
  decodeDocumentRecord,
  documentKey,
  documentKeyPreimage,
  documentRecordKey,
  getSuite,
  normalizeDocumentFields,
  parseDocumentSalt,
  TallyError,
  type TxResult,
  toHex,
  type Value,
} from "@tally/core";
import { MemoryChain, makeNet, outsider, SUITES, type TestAccount } from "./helpers.js";

const VECTORS = JSON.parse(readFileSync(new URL("../../../spec/test-vectors/documents.json", import.meta.url), "utf8")) as Record<
  string,
  { salt: string; cases: Array<{ input: DocumentFieldsInput; fields: Record<string, string>; preimage: string; key: string }> }
>;

const SALT = new Uint8Array(32).fill(0x5a);
const FIELDS: DocumentFieldsInput = {
  kind: "receivable",
  issuerId: "ACME-EXPORT",
  number: "R-2026-0001",
  currency: "USD",
  faceValue: "1000",
  issueDate: "2026-05-01",
};

const isCode = (code: string) => (err: unknown) => err instanceof TallyError && err.code === code;

describe("document key derivation", () => {
  for (const id of SUITES) {
    const suite = getSuite(id);
    test(`spec/test-vectors/documents.json (${id})`, () => {
      const v = VECTORS[id];
      assert.ok(v && v.cases.length >= 3);
      const salt = parseDocumentSalt(v.salt);
      for (const c of v.cases) {
        assert.deepEqual(normalizeDocumentFields(c.input), c.fields);
        assert.equal(toHex(documentKeyPreimage(salt, c.input)), c.preimage);
        assert.equal(toHex(documentKey(suite, salt, c.input)), c.key);
        // The normalised fields derive the same key as the raw input.
        assert.equal(toHex(documentKey(suite, salt, c.fields as unknown as DocumentFieldsInput)), c.key);
      }
    });

    test(`same fields give the same key; any change of a field or the salt gives another (${id})`, () => {
      const key = toHex(documentKey(suite, SALT, FIELDS));
      assert.equal(toHex(documentKey(suite, SALT, { ...FIELDS, faceValue: 1000n })), key);
      assert.equal(toHex(documentKey(suite, SALT, { ...FIELDS, issuerId: " ACME-EXPORT\n", currency: "usd", faceValue: "01000" })), key);
      const changed: DocumentFieldsInput[] = [
        { ...FIELDS, kind: "invoice" },
        { ...FIELDS, issuerId: "ACME-EXPORTS" },
        { ...FIELDS, issuerId: "acme-export" },
        { ...FIELDS, number: "R-2026-0002" },
        { ...FIELDS, currency: "EUR" },
        { ...FIELDS, faceValue: "1001" },
        { ...FIELDS, issueDate: "2026-05-02" },
      ];
      const keys = new Set([key, ...changed.map((f) => toHex(documentKey(suite, SALT, f)))]);
      assert.equal(keys.size, changed.length + 1);
      const otherSalt = SALT.slice();
      otherSalt[31] = 0x5b;
      assert.notEqual(toHex(documentKey(suite, otherSalt, FIELDS)), key);
    });
  }

  test("the other suite's hash gives another key", () => {
    assert.notEqual(toHex(documentKey(getSuite("ed25519"), SALT, FIELDS)), toHex(documentKey(getSuite("sm2"), SALT, FIELDS)));
  });

  test("fields that cannot be normalised are BAD_ARGS naming the field", () => {
    const bad: Array<[Partial<DocumentFieldsInput>, string]> = [
      [{ kind: "bill" }, "kind"],
      [{ issuerId: "  " }, "issuerId"],
      [{ number: "x".repeat(129) }, "number"],
      [{ currency: "US" }, "currency"],
      [{ currency: "US1" }, "currency"],
      [{ faceValue: "0" }, "faceValue"],
      [{ faceValue: "-5" }, "faceValue"],
      [{ faceValue: "1.5" }, "faceValue"],
      [{ faceValue: (10n ** 39n).toString() }, "faceValue"],
      [{ issueDate: "2026-5-01" }, "issueDate"],
      [{ issueDate: "2025-02-29" }, "issueDate"],
      [{ issueDate: "2026-13-01" }, "issueDate"],
      [{ issueDate: "2026-04-31" }, "issueDate"],
    ];
    for (const [change, field] of bad) {
      assert.throws(
        () => documentKey(getSuite("ed25519"), SALT, { ...FIELDS, ...change }),
        (err: unknown) => err instanceof TallyError && err.code === "BAD_ARGS" && err.meta.field === field,
        JSON.stringify(change),
      );
    }
    assert.throws(() => documentKey(getSuite("ed25519"), new Uint8Array(31), FIELDS), isCode("BAD_ARGS"));
    assert.throws(() => parseDocumentSalt("abcd"), isCode("BAD_ARGS"));
    assert.equal(normalizeDocumentFields({ ...FIELDS, issueDate: "2000-02-29" }).issueDate, "2000-02-29");
  });
});

for (const suiteId of SUITES) {
  describe(`documents module (${suiteId})`, () => {
    const net = makeNet(suiteId, {
      orgs: [
        { id: "bank-a", name: "Bank A" },
        { id: "bank-b", name: "Bank B" },
        { id: "authority", name: "Regulator" },
        { id: "buyer-co", name: "Buyer Co" },
      ],
      accounts: [
        { name: "bankA", org: "bank-a", roles: ["bank"] },
        { name: "bankA2", org: "bank-a", roles: ["bank"] },
        { name: "bankB", org: "bank-b", roles: ["bank"] },
        { name: "clerkA", org: "bank-a" },
        { name: "regulator", org: "authority", roles: ["regulator"] },
        { name: "debtor", org: "buyer-co" },
      ],
    });
    const acct = (name: string): TestAccount => {
      const a = net.accounts[name];
      assert.ok(a);
      return a;
    };
    const [bankA, bankA2, bankB, clerkA, regulator, debtor] = ["bankA", "bankA2", "bankB", "clerkA", "regulator", "debtor"].map(acct) as [
      TestAccount,
      TestAccount,
      TestAccount,
      TestAccount,
      TestAccount,
      TestAccount,
    ];
    const docKey = documentKey(net.suite, SALT, FIELDS);
    const keyHex = toHex(docKey);

    function setup() {
      const c = new MemoryChain(net);
      const docsState = () => c.state.entriesUnder("documents/");
      const ok = (who: TestAccount, method: string, args: Value): TxResult => {
        const r = c.call(who, "documents", method, args);
        assert.equal(r.status, "ok", `${method}: ${r.code} ${r.message}`);
        return r;
      };
      /** A refusal with `code`: no events, nothing under documents/ changed. */
      const refused = (who: TestAccount, method: string, args: Value, code: string): TxResult => {
        const before = docsState();
        const r = c.call(who, "documents", method, args);
        assert.equal(r.status, "failed", `${method} should be refused with ${code}`);
        assert.equal(r.code, code, `${r.code}: ${r.message}`);
        assert.deepEqual(r.events, []);
        assert.deepEqual(docsState(), before);
        return r;
      };
      const record = () => {
        const bytes = c.state.read(documentRecordKey(docKey));
        assert.ok(bytes);
        return decodeDocumentRecord(bytes);
      };
      const register = (extra: Record<string, Value> = {}) =>
        ok(bankA, "register", { key: docKey, kind: "receivable", faceValue: "1000", currency: "USD", debtor: debtor.address, ...extra });
      return { c, ok, refused, record, register, docsState };
    }

    test("genesis writes nothing under documents/", () => {
      assert.equal(setup().docsState().size, 0);
    });

    test("trade finance: register, pledge, double financing by a second bank refused with amounts only, release, re-pledge", () => {
      const { c, ok, refused, record, register } = setup();
      const reg = register();
      assert.deepEqual(reg.value, { key: keyHex, kind: "receivable", faceValue: "1000", currency: "USD", holder: "bank-a" });
      assert.deepEqual(reg.events, [
        { module: "documents", name: "registered", data: { key: keyHex, kind: "receivable", faceValue: "1000", currency: "USD" } },
      ]);
      assert.equal(record().holder, "bank-a");
      assert.equal(record().debtor, debtor.address);

      const p1 = ok(bankA, "pledge", { key: docKey, amount: "700", ref: "LOAN-A-1" });
      assert.deepEqual(p1.value, { key: keyHex, used: "700", available: "300", useId: 1 });
      assert.deepEqual(p1.events, [{ module: "documents", name: "pledged", data: { key: keyHex, useId: 1, amount: "700" } }]);

      // Bank B wants 400 of a receivable that has 300 left: refused, told the amounts and nothing about bank A.
      const over = refused(bankB, "pledge", { key: docKey, amount: "400", ref: "LOAN-B-1" }, "DOCUMENT_OVERUSED");
      assert.deepEqual(over.value, { key: keyHex, faceValue: "1000", used: "700", available: "300", requested: "400" });
      assert.ok(!JSON.stringify(over.value).includes("bank-a") && !(over.message ?? "").includes("bank-a"));
      assert.ok(!JSON.stringify(over.value).includes(bankA.address));

      const p2 = ok(bankB, "pledge", { key: docKey, amount: "300", ref: "LOAN-B-1" });
      assert.deepEqual(p2.value, { key: keyHex, used: "1000", available: "0", useId: 2 });
      refused(bankB, "pledge", { key: docKey, amount: "1", ref: "LOAN-B-2" }, "DOCUMENT_OVERUSED");

      // Release on repayment: only the org that opened the use (any of its bank accounts), only once.
      refused(bankB, "release", { key: docKey, useId: 1 }, "FORBIDDEN");
      refused(clerkA, "release", { key: docKey, useId: 1 }, "FORBIDDEN");
      refused(bankA, "release", { key: docKey, useId: 3 }, "NO_SUCH_USE");
      refused(bankA, "release", { key: docKey, useId: 0 }, "NO_SUCH_USE");
      const rel = ok(bankA2, "release", { key: docKey, useId: 1 });
      assert.deepEqual(rel.value, { key: keyHex, used: "300", available: "700", useId: 1 });
      assert.deepEqual(rel.events, [{ module: "documents", name: "released", data: { key: keyHex, useId: 1, amount: "700" } }]);
      refused(bankA, "release", { key: docKey, useId: 1 }, "USE_CLOSED");

      // The released capacity can be financed again, by anyone.
      const again = ok(bankB, "pledge", { key: docKey, amount: "700", ref: "LOAN-B-2" });
      assert.deepEqual(again.value, { key: keyHex, used: "1000", available: "0", useId: 3 });
      assert.equal(record().openUses, 2);
      assert.equal(record().uses, 3);

      // Anonymous readers see amounts only; an org sees its own uses; the regulator sees everything.
      const anon = c.query("documents", "document", { key: keyHex }) as Record<string, Value>;
      assert.deepEqual(anon, {
        key: keyHex,
        used: "1000",
        available: "0",
        kind: "receivable",
        faceValue: "1000",
        currency: "USD",
        openUses: 2,
      });
      const asB = c.query("documents", "document", { key: `0x${keyHex}` }, bankB) as Record<string, Value>;
      assert.equal(asB.holder, undefined);
      assert.deepEqual(
        (asB.ownUses as Array<Record<string, Value>>).map((u) => [u.id, u.org, u.status]),
        [
          [2, "bank-b", "open"],
          [3, "bank-b", "open"],
        ],
      );
      const asA = c.query("documents", "document", { key: keyHex }, bankA) as Record<string, Value>;
      assert.equal(asA.holder, "bank-a");
      assert.deepEqual(
        (asA.ownUses as Array<Record<string, Value>>).map((u) => [u.id, u.status]),
        [[1, "released"]],
      );
      const asReg = c.query("documents", "document", { key: keyHex }, regulator) as Record<string, Value>;
      assert.equal(asReg.holder, "bank-a");
      assert.deepEqual(
        (asReg.uses as Array<Record<string, Value>>).map((u) => [u.id, u.org, u.kind, u.amount, u.ref, u.status]),
        [
          [1, "bank-a", "financing", "700", "LOAN-A-1", "released"],
          [2, "bank-b", "financing", "300", "LOAN-B-1", "open"],
          [3, "bank-b", "financing", "700", "LOAN-B-2", "open"],
        ],
      );
    });

    test("register refusals: duplicate key (nothing about who), role, debtor, arguments", () => {
      const { ok, refused, register, c } = setup();
      const base = { key: docKey, kind: "receivable", faceValue: "1000", currency: "USD" };
      refused(clerkA, "register", base, "FORBIDDEN");
      refused(regulator, "register", base, "FORBIDDEN");
      refused(bankA, "register", { ...base, debtor: outsider(net, "x").address }, "NO_SUCH_ACCOUNT");
      refused(bankA, "register", { ...base, kind: "bill" }, "BAD_ARGS");
      refused(bankA, "register", { ...base, faceValue: "0" }, "BAD_ARGS");
      refused(bankA, "register", { ...base, faceValue: "01" }, "BAD_ARGS");
      refused(bankA, "register", { ...base, currency: "usd" }, "BAD_ARGS");
      refused(bankA, "register", { ...base, key: docKey.subarray(0, 31) }, "BAD_ARGS");
      refused(bankA, "register", { ...base, extra: 1 }, "BAD_ARGS");
      register();
      const dup = refused(bankB, "register", base, "DOCUMENT_EXISTS");
      assert.deepEqual(dup.value, { key: keyHex });
      // A document without a debtor is fine too.
      const other = documentKey(net.suite, SALT, { ...FIELDS, number: "R-2026-0002" });
      ok(bankB, "register", { key: other, kind: "invoice", faceValue: "5", currency: "EUR" });
      assert.throws(() => c.query("documents", "document", { key: "00".repeat(32) }), isCode("NO_SUCH_DOCUMENT"));
    });

    test("unknown documents and bad pledge arguments are refused", () => {
      const { refused, register } = setup();
      const unknown = new Uint8Array(32).fill(9);
      for (const [method, args] of [
        ["pledge", { key: unknown, amount: "1", ref: "L" }],
        ["release", { key: unknown, useId: 1 }],
        ["transfer", { key: unknown, toOrg: "bank-b" }],
        ["confirm-transfer", { key: unknown }],
        ["record-payment", { key: unknown, paymentId: "P", payer: "PAYER-1", amount: "1" }],
      ] as const) {
        refused(method === "confirm-transfer" ? debtor : bankA, method, args, "NO_SUCH_DOCUMENT");
      }
      register();
      refused(clerkA, "pledge", { key: docKey, amount: "1", ref: "L" }, "FORBIDDEN");
      refused(bankA, "pledge", { key: docKey, amount: "0", ref: "L" }, "BAD_ARGS");
      refused(bankA, "pledge", { key: docKey, amount: "1", ref: "L".repeat(65) }, "BAD_ARGS");
      refused(bankA, "pledge", { key: docKey, amount: "1001", ref: "L" }, "DOCUMENT_OVERUSED");
    });

    test("factoring: transfer to another org, confirmed by the debtor only", () => {
      const { ok, refused, record, register, c } = setup();
      register();
      ok(bankA, "pledge", { key: docKey, amount: "200", ref: "LOAN-A-1" });
      refused(bankB, "transfer", { key: docKey, toOrg: "bank-b" }, "FORBIDDEN");
      refused(clerkA, "transfer", { key: docKey, toOrg: "bank-b" }, "FORBIDDEN");
      refused(bankA, "transfer", { key: docKey, toOrg: "nobody" }, "NO_SUCH_ORG");
      refused(bankA, "transfer", { key: docKey, toOrg: "bank-a" }, "BAD_ARGS");
      refused(debtor, "confirm-transfer", { key: docKey }, "NO_PENDING_TRANSFER");

      const t = ok(bankA2, "transfer", { key: docKey, toOrg: "bank-b" });
      assert.deepEqual(t.value, { key: keyHex, toOrg: "bank-b" });
      assert.deepEqual(record().pending, { toOrg: "bank-b", by: bankA2.address, height: c.height });
      const asA = c.query("documents", "document", { key: keyHex }, bankA) as Record<string, Value>;
      assert.deepEqual(asA.pending, { toOrg: "bank-b", by: bankA2.address, height: c.height });

      refused(bankA, "confirm-transfer", { key: docKey }, "FORBIDDEN");
      refused(bankB, "confirm-transfer", { key: docKey }, "FORBIDDEN");
      refused(debtor, "confirm-transfer", { key: docKey, toOrg: "authority" }, "NO_PENDING_TRANSFER");
      const done = ok(debtor, "confirm-transfer", { key: docKey, toOrg: "bank-b" });
      assert.deepEqual(done.value, { key: keyHex, from: "bank-a", to: "bank-b" });
      assert.deepEqual(done.events, [{ module: "documents", name: "transferred", data: { key: keyHex, from: "bank-a", to: "bank-b" } }]);
      assert.equal(record().holder, "bank-b");
      assert.equal(record().pending, null);
      // Uses stay with the document; the new holder transfers it on, the old one no longer can.
      assert.equal(record().used, 200n);
      refused(debtor, "confirm-transfer", { key: docKey }, "NO_PENDING_TRANSFER");
      refused(bankA, "transfer", { key: docKey, toOrg: "authority" }, "FORBIDDEN");
      ok(bankB, "transfer", { key: docKey, toOrg: "bank-a" });

      // Without a debtor, nobody could confirm: refused up front.
      const other = documentKey(net.suite, SALT, { ...FIELDS, number: "NO-DEBTOR" });
      ok(bankA, "register", { key: other, kind: "contract", faceValue: "10", currency: "USD" });
      refused(bankA, "transfer", { key: other, toOrg: "bank-b" }, "NO_DEBTOR");
    });

    test("cross-border authenticity: payments capped by the face value, unique ids, permanent, listed by payer", () => {
      const { ok, refused, record, register, c } = setup();
      register();
      const pay = (who: TestAccount, paymentId: string, payer: string, amount: string) =>
        ok(who, "record-payment", { key: docKey, paymentId, payer, amount });
      const p1 = pay(bankA, "SWIFT-001", "CN-IMPORTER-1", "600");
      assert.deepEqual(p1.value, { key: keyHex, used: "600", available: "400", useId: 1 });
      assert.deepEqual(p1.events, [
        { module: "documents", name: "paymentRecorded", data: { key: keyHex, useId: 1, paymentId: "SWIFT-001", amount: "600" } },
      ]);
      refused(bankB, "record-payment", { key: docKey, paymentId: "SWIFT-001", payer: "CN-IMPORTER-1", amount: "1" }, "PAYMENT_EXISTS");
      const over = refused(
        bankB,
        "record-payment",
        { key: docKey, paymentId: "SWIFT-002", payer: "X", amount: "401" },
        "DOCUMENT_OVERUSED",
      );
      assert.deepEqual(over.value, { key: keyHex, faceValue: "1000", used: "600", available: "400", requested: "401" });
      // Financing and payments share the cap.
      refused(bankB, "pledge", { key: docKey, amount: "401", ref: "L" }, "DOCUMENT_OVERUSED");
      pay(bankB, "SWIFT-002", "CN-IMPORTER-1", "300");
      refused(bankA, "release", { key: docKey, useId: 1 }, "USE_PERMANENT");
      refused(bankA, "record-payment", { key: docKey, paymentId: "P", payer: "bad/payer", amount: "1" }, "BAD_ARGS");
      refused(bankA, "record-payment", { key: docKey, paymentId: "P", payer: "", amount: "1" }, "BAD_ARGS");
      refused(clerkA, "record-payment", { key: docKey, paymentId: "P", payer: "X", amount: "1" }, "FORBIDDEN");

      // The same payer on a second document; another payer on the first.
      const invoice = documentKey(net.suite, SALT, { ...FIELDS, kind: "invoice", number: "INV-9" });
      ok(bankB, "register", { key: invoice, kind: "invoice", faceValue: "50", currency: "EUR" });
      ok(bankB, "record-payment", { key: invoice, paymentId: "SWIFT-001", payer: "CN-IMPORTER-1", amount: "50" });
      pay(bankA, "SWIFT-003", "CN-IMPORTER-2", "100");
      assert.equal(record().used, 1000n);
      assert.equal(record().openUses, 3);

      const byPayer = c.query("documents", "byPayer", { payer: "CN-IMPORTER-1" }, regulator) as {
        items: Array<Record<string, Value>>;
        next: Value;
      };
      const expected = [
        [keyHex, 1, "SWIFT-001", "600", "USD", "bank-a"],
        [keyHex, 2, "SWIFT-002", "300", "USD", "bank-b"],
        [toHex(invoice), 1, "SWIFT-001", "50", "EUR", "bank-b"],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0])));
      assert.deepEqual(
        byPayer.items.map((i) => [i.key, i.useId, i.paymentId, i.amount, i.currency, i.org]),
        expected,
      );
      assert.equal(byPayer.next, null);
      // Paging: one at a time, continuing after the cursor.
      const page1 = c.query("documents", "byPayer", { payer: "CN-IMPORTER-1", limit: 2 }, regulator) as { items: Value[]; next: string };
      assert.equal(page1.items.length, 2);
      const page2 = c.query("documents", "byPayer", { payer: "CN-IMPORTER-1", limit: 2, after: page1.next }, regulator) as {
        items: Array<Record<string, Value>>;
        next: Value;
      };
      assert.deepEqual(
        page2.items.map((i) => [i.key, i.useId]),
        [[expected[2]?.[0], expected[2]?.[1]]],
      );
      assert.equal(page2.next, null);
      const none = c.query("documents", "byPayer", { payer: "CN-IMPORTER-9" }, regulator) as { items: Value[] };
      assert.deepEqual(none.items, []);

      const uses = c.query("documents", "uses", { key: keyHex }, regulator) as { items: Array<Record<string, Value>>; next: Value };
      assert.deepEqual(
        uses.items.map((u) => [u.id, u.kind, u.org, u.ref, u.payer, u.amount]),
        [
          [1, "payment", "bank-a", "SWIFT-001", "CN-IMPORTER-1", "600"],
          [2, "payment", "bank-b", "SWIFT-002", "CN-IMPORTER-1", "300"],
          [3, "payment", "bank-a", "SWIFT-003", "CN-IMPORTER-2", "100"],
        ],
      );
      const paged = c.query("documents", "uses", { key: keyHex, after: 1, limit: 1 }, regulator) as {
        items: Array<Record<string, Value>>;
        next: Value;
      };
      assert.deepEqual(
        paged.items.map((u) => u.id),
        [2],
      );
      assert.equal(paged.next, 2);
    });

    test("regulator-only queries: anonymous is UNAUTHENTICATED, other roles FORBIDDEN", () => {
      const { register, c } = setup();
      register();
      for (const [name, args] of [
        ["uses", { key: keyHex }],
        ["byPayer", { payer: "CN-IMPORTER-1" }],
      ] as const) {
        assert.throws(() => c.query("documents", name, args), isCode("UNAUTHENTICATED"));
        assert.throws(() => c.query("documents", name, args, bankA), isCode("FORBIDDEN"));
        assert.throws(() => c.query("documents", name, args, debtor), isCode("FORBIDDEN"));
        c.query("documents", name, args, regulator);
      }
      assert.throws(() => c.query("documents", "uses", { key: "11".repeat(32) }, regulator), isCode("NO_SUCH_DOCUMENT"));
      assert.throws(() => c.query("documents", "uses", { key: "zz" }, regulator), isCode("BAD_ARGS"));
      assert.throws(() => c.query("documents", "byPayer", { payer: "a/b" }, regulator), isCode("BAD_ARGS"));
      assert.throws(() => c.query("documents", "byPayer", { payer: "A", after: "00" }, regulator), isCode("BAD_ARGS"));
    });

    test("a block of several calls: a refused one changes nothing, the others apply in order", () => {
      const { c, record } = setup();
      const results = c.block([
        [bankA, "documents", "register", { key: docKey, kind: "receivable", faceValue: "1000", currency: "USD" }],
        [bankA, "documents", "pledge", { key: docKey, amount: "900", ref: "A" }],
        [bankB, "documents", "pledge", { key: docKey, amount: "200", ref: "B" }],
        [bankB, "documents", "pledge", { key: docKey, amount: "100", ref: "B" }],
      ]);
      assert.deepEqual(
        results.map((r) => r.code ?? r.status),
        ["ok", "ok", "DOCUMENT_OVERUSED", "ok"],
      );
      assert.equal(record().used, 1000n);
      assert.equal(record().uses, 2);
    });
    test(`a document takes at most ${DOCUMENT_USES_MAX} uses (TOO_LARGE after)`, { skip: suiteId !== "ed25519" }, () => {
      const { c, refused, record } = setup();
      c.block([
        [bankA, "documents", "register", { key: docKey, kind: "receivable", faceValue: "5000", currency: "USD" }],
        ...Array.from(
          { length: DOCUMENT_USES_MAX },
          (_, i) => [bankA, "documents", "pledge", { key: docKey, amount: "1", ref: `L${i}` }] as const,
        ),
      ]);
      assert.equal(record().uses, DOCUMENT_USES_MAX);
      refused(bankB, "pledge", { key: docKey, amount: "1", ref: "more" }, "TOO_LARGE");
      const all = c.query("documents", "document", { key: keyHex }, regulator) as { uses: Value[] };
      assert.equal(all.uses.length, DOCUMENT_USES_MAX);
    });
  });
}
