/**
 * Contracts calling native module methods (spec/contracts.md §6): `invoke` runs the method as the
 * transaction's signer, behind the same roles, gates and argument schema as a transaction, as a nested
 * step whose writes and events go if it refuses.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeEvidenceRecord, evidenceRecordKey, fromHex } from "@tally/core";
import { MemoryChain, makeNet } from "../helpers.js";
import { call, deploy, failed, value } from "./fixtures.js";

const net = makeNet("ed25519", { accounts: [{ name: "issuer", roles: ["issuer"] }, { name: "payer" }, { name: "payee" }] });
const { admin } = net;
const issuer = net.accounts.issuer!;
const payer = net.accounts.payer!;
const payee = net.accounts.payee!;

/** Pays `amount` TLY to `to` through tokens.transfer, recording the payment in the contract's state. */
const PAYMENTS = `var __contract = {
  pay(a) {
    const r = JSON.parse(__tally.invoke("tokens", "transfer", JSON.stringify({ symbol: "TLY", to: a.to, amount: a.amount })));
    __tally.set("last", a.amount);
    return r;
  },
  tryPay(a) {
    __tally.set("attempted", a.amount);
    try { __tally.invoke("tokens", "transfer", JSON.stringify({ symbol: "TLY", to: a.to, amount: a.amount })); return "paid"; }
    catch (e) { return e.code; }
  },
  payThenFail(a) {
    __tally.invoke("tokens", "transfer", JSON.stringify({ symbol: "TLY", to: a.to, amount: a.amount }));
    throw new Error("changed my mind");
  },
  mint(a) { return JSON.parse(__tally.invoke("tokens", "mint", JSON.stringify({ symbol: "TLY", to: a.to, amount: "5" }))); },
  notarize(a) { return JSON.parse(__tally.invoke("evidence", "notarize", JSON.stringify({ digest: { $bytes: a.digest }, label: "via contract" }))); },
  raw(a) { return JSON.parse(__tally.invoke(a.module, a.method, JSON.stringify(a.args))); },
  viaOther(a) { return JSON.parse(__tally.call(a.other, "pay", JSON.stringify({ to: a.to, amount: "1" }))); },
};`;

function balance(chain: MemoryChain, address: string): string {
  return (chain.query("tokens", "balance", { symbol: "TLY", address }) as { balance: string }).balance;
}

function setUp(): { chain: MemoryChain; contract: string } {
  const chain = new MemoryChain(net);
  chain.call(issuer, "tokens", "create", { symbol: "TLY", name: "Tally", decimals: 0, maxSupply: null });
  chain.call(issuer, "tokens", "mint", { symbol: "TLY", to: payer.address, amount: "100" });
  return { chain, contract: deploy(chain, admin, PAYMENTS) };
}

describe("contracts: native module methods (invoke)", () => {
  test("a contract moves the signer's tokens through tokens.transfer; the module's event is in the receipt", () => {
    const { chain, contract } = setUp();
    const r = call(chain, payer, contract, "pay", { to: payee.address, amount: "30" });
    assert.deepEqual(value(r), { symbol: "TLY", balance: "70" });
    assert.deepEqual(
      r.events.map((e) => [e.module, e.name]),
      [["tokens", "transferred"]],
    );
    assert.equal(balance(chain, payer.address), "70");
    assert.equal(balance(chain, payee.address), "30");
  });

  test("a refusal is thrown into the contract with its code; uncaught it fails the transaction and nothing moves", () => {
    const { chain, contract } = setUp();
    failed(call(chain, payer, contract, "pay", { to: payee.address, amount: "1000" }), "INSUFFICIENT_BALANCE");
    assert.equal(value(call(chain, payer, contract, "tryPay", { to: payee.address, amount: "1000" })), "INSUFFICIENT_BALANCE");
    // Caught: the contract's own write stays, the refused transfer wrote nothing.
    assert.equal(balance(chain, payer.address), "100");
    failed(call(chain, payer, contract, "payThenFail", { to: payee.address, amount: "10" }), "CONTRACT_ERROR");
    assert.equal(balance(chain, payer.address), "100", "a transfer made before the contract failed is discarded with it");
    assert.equal(value(call(chain, payer, contract, "tryPay", { to: "00", amount: "1" })), "BAD_ARGS");
  });

  test("the signer's roles apply: minting needs the issuer role, whoever's contract asks", () => {
    const { chain, contract } = setUp();
    failed(call(chain, payer, contract, "mint", { to: payer.address }), "FORBIDDEN");
    assert.equal((value(call(chain, issuer, contract, "mint", { to: payee.address })) as { supply: string }).supply, "105");
  });

  test("byte arguments travel as { $bytes: hex }: evidence.notarize records the signer as notariser", () => {
    const { chain, contract } = setUp();
    const digest = "ab".repeat(32);
    const r = value(call(chain, payer, contract, "notarize", { digest })) as Record<string, unknown>;
    assert.equal(r.digest, `0x${digest}`);
    const record = decodeEvidenceRecord(chain.state.read(evidenceRecordKey(fromHex(digest)))!);
    assert.equal(record.submitter, payer.address);
    assert.equal(record.label, "via contract");
    failed(call(chain, payer, contract, "notarize", { digest: "xyz" }), "BAD_ARGS");
  });

  test("refused: contracts and governance methods, a contract called by a contract, and an anonymous simulation", () => {
    const { chain, contract } = setUp();
    const other = deploy(chain, admin, PAYMENTS);
    const raw = (module: string, method: string, args: unknown) => call(chain, payer, contract, "raw", { module, method, args } as never);
    failed(raw("contracts", "call", { address: other, method: "pay", args: null, gasLimit: 100_000 }), "FORBIDDEN");
    failed(raw("governance", "vote", { id: 1, yes: true }), "FORBIDDEN");
    failed(raw("tokens", "nope", {}), "UNKNOWN_METHOD");
    failed(raw("nope", "x", {}), "UNKNOWN_MODULE");
    failed(call(chain, payer, contract, "viaOther", { other, to: payee.address }), "FORBIDDEN");
    assert.equal(balance(chain, payer.address), "100");
    const simulate = (caller: typeof payer | null) =>
      chain.query(
        "contracts",
        "simulate",
        { address: contract, method: "pay", args: { to: payee.address, amount: "1" }, gasLimit: 1_000_000 },
        caller,
      );
    assert.throws(
      () => simulate(null),
      (e: unknown) => (e as { code?: string }).code === "UNAUTHENTICATED",
    );
    assert.deepEqual((simulate(payer) as { value: unknown }).value, { symbol: "TLY", balance: "99" });
    assert.equal(balance(chain, payer.address), "100", "a simulation writes nothing");
  });
});
