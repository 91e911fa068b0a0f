/**
 * `tally finance` from the outside: init a network with bank, regulator and debtor organisations,
 * start the node as its own process, register accounts with the CLI, then walk trade finance
 * (register, pledge, a refused over-financing, release, factoring) and payment authenticity (pay,
 * a refused over-payment, the regulator's uses and by-payer), the key derived from a salt file.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CliNetwork, tally } from "../helpers.js";

const ORGS = [
  { id: "bank-a", name: "Bank A" },
  { id: "bank-b", name: "Bank B" },
  { id: "authority", name: "Financial regulator" },
  { id: "buyer-co", name: "Buyer Co" },
];

describe("CLI finance flow (ed25519)", () => {
  const network = new CliNetwork("cli-finance", {
    beforeStart(net) {
      for (const path of [join(net, "genesis.json"), join(net, "node0", "genesis.json")]) {
        const doc = JSON.parse(readFileSync(path, "utf8")) as { orgs: unknown[] };
        doc.orgs.push(...ORGS);
        writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
      }
      writeFileSync(saltFile, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
    },
  });
  const { dir } = network;
  const saltFile = join(dir.path, "salt.hex");

  const json = (args: string[]) => network.json(args);
  const refused = (args: string[], expected: string | RegExp) => network.refused(args, expected);
  const newAccount = (name: string, org: string, roles: string) => network.newAccount(name, roles, org);
  const receivable = [
    "--salt",
    saltFile,
    "--kind",
    "receivable",
    "--issuer-id",
    "EXPORTER-1",
    "--number",
    "RCV-9",
    "--currency",
    "USD",
    "--face-value",
    "1000",
    "--issue-date",
    "2026-06-30",
  ];

  test("register, pledge, refused double financing, release, transfer, confirm, pay, show, uses, by-payer", () => {
    const bankA = newAccount("bank-a", "bank-a", "bank");
    const bankB = newAccount("bank-b", "bank-b", "bank");
    const reg = newAccount("regulator", "authority", "regulator");
    const debtor = newAccount("debtor", "buyer-co", "");

    const derived = tally(["finance", "key", ...receivable]);
    assert.equal(derived.code, 0, derived.stderr);
    const { key } = JSON.parse(derived.stdout) as { key: string };
    assert.match(key, /^[0-9a-f]{64}$/);

    refused(["finance", "register", "--key", debtor.keyPath, ...receivable], "FORBIDDEN");
    const registered = json(["finance", "register", "--key", bankA.keyPath, ...receivable, "--debtor", debtor.address]);
    assert.equal(registered.key, key);
    assert.equal(registered.holder, "bank-a");
    refused(["finance", "register", "--key", bankB.keyPath, ...receivable], "DOCUMENT_EXISTS");

    const pledged = json(["finance", "pledge", "--key", bankA.keyPath, ...receivable, "--amount", "700", "--ref", "LOAN-A"]);
    assert.deepEqual([pledged.useId, pledged.used, pledged.available], [1, "700", "300"]);
    const over = refused(
      ["finance", "pledge", "--key", bankB.keyPath, "--doc-key", key, "--amount", "400", "--ref", "LOAN-B"],
      "DOCUMENT_OVERUSED",
    );
    assert.match(over.stderr, /"available":"300"/);
    assert.doesNotMatch(over.stderr, /bank-a/);

    const shown = json(["finance", "show", "--doc-key", key]);
    assert.deepEqual([shown.used, shown.available, shown.holder], ["700", "300", undefined]);
    json(["finance", "release", "--key", bankA.keyPath, "--doc-key", key, "--use-id", "1"]);
    refused(["finance", "release", "--key", bankA.keyPath, "--doc-key", key, "--use-id", "1"], "USE_CLOSED");
    json(["finance", "pledge", "--key", bankB.keyPath, "--doc-key", key, "--amount", "400", "--ref", "LOAN-B"]);

    json(["finance", "transfer", "--key", bankA.keyPath, "--doc-key", key, "--to-org", "bank-b"]);
    refused(["finance", "confirm", "--key", bankB.keyPath, "--doc-key", key], "FORBIDDEN");
    const confirmed = json(["finance", "confirm", "--key", debtor.keyPath, "--doc-key", key, "--to-org", "bank-b"]);
    assert.deepEqual([confirmed.from, confirmed.to], ["bank-a", "bank-b"]);

    json(["finance", "pay", "--key", bankA.keyPath, "--doc-key", key, "--payment-id", "MT103-1", "--payer", "PAYER-1", "--amount", "600"]);
    refused(
      ["finance", "pay", "--key", bankA.keyPath, "--doc-key", key, "--payment-id", "MT103-2", "--payer", "PAYER-1", "--amount", "1"],
      "DOCUMENT_OVERUSED",
    );
    refused(
      ["finance", "pay", "--key", bankB.keyPath, "--doc-key", key, "--payment-id", "MT103-1", "--payer", "PAYER-1", "--amount", "1"],
      "PAYMENT_EXISTS",
    );

    const full = json(["finance", "show", "--key", reg.keyPath, ...receivable]);
    assert.equal(full.holder, "bank-b");
    assert.equal((full.uses as unknown[]).length, 3);
    const uses = json(["finance", "uses", "--key", reg.keyPath, "--doc-key", key]);
    assert.deepEqual(
      (uses.items as Array<{ kind: string; status: string }>).map((u) => [u.kind, u.status]),
      [
        ["financing", "released"],
        ["financing", "open"],
        ["payment", "open"],
      ],
    );
    const byPayer = json(["finance", "by-payer", "--key", reg.keyPath, "--payer", "PAYER-1"]);
    assert.deepEqual(
      (byPayer.items as Array<{ key: string; amount: string }>).map((i) => [i.key, i.amount]),
      [[key, "600"]],
    );
    refused(["finance", "by-payer", "--key", bankA.keyPath, "--payer", "PAYER-1"], "FORBIDDEN");
    refused(["finance", "uses", "--key", bankA.keyPath, "--doc-key", key], "FORBIDDEN");
  });

  test("bad input is refused before anything is sent", () => {
    const bank = join(dir.path, "bank-a.json");
    refused(["finance", "pledge", "--key", bank, "--amount", "1", "--ref", "x"], "either --salt");
    refused(["finance", "pledge", "--key", bank, "--salt", "nope", "--amount", "1", "--ref", "x"], "--salt");
    refused(["finance", "pledge", "--key", bank, "--salt", saltFile, "--kind", "invoice", "--amount", "1", "--ref", "x"], "--issuer-id");
    refused(["finance", "pledge", "--key", bank, "--doc-key", "abcd", "--amount", "1", "--ref", "x"], "BAD_ARGS");
    refused(["finance", "pledge", "--key", bank, "--doc-key", "00".repeat(32), "--amount", "01", "--ref", "x"], "BAD_ARGS");
    const badDate = tally(["finance", "key", ...receivable.slice(0, -1), "2026-02-30"]);
    assert.equal(badDate.code, 1);
    assert.match(badDate.stderr, /BAD_ARGS: issueDate/);
  });
});
