import assert from "node:assert/strict";
import { test } from "node:test";
import { ContractTestChain, contractCode } from "@tally/contract/testing";

const HOUR = 3_600_000;

function setup() {
  const chain = new ContractTestChain({
    accounts: [
      { name: "buyer", roles: ["contract-deployer"] },
      { name: "seller" },
      { name: "arb1" },
      { name: "arb2" },
      { name: "outsider" },
    ],
  });
  const [buyer, seller, arb1, arb2] = ["buyer", "seller", "arb1", "arb2"].map((n) => chain.account(n)) as [
    ReturnType<typeof chain.account>,
    ReturnType<typeof chain.account>,
    ReturnType<typeof chain.account>,
    ReturnType<typeof chain.account>,
  ];
  // The token is another contract project (examples/token), listed in package.json "tally.contracts".
  const token = chain.deploy(contractCode("token"), { from: buyer, initArgs: { symbol: "EUR", supply: 10_000 } });
  const escrow = chain.deploy();
  const balance = (address: string) => token.simulate<number>("balanceOf", { address });
  const open = (id: string, amount: number, threshold = 2) => {
    token.invoke("approve", { spender: escrow.address, amount }, { from: buyer });
    return escrow.call(
      "open",
      {
        id,
        token: token.address,
        seller: seller.address,
        arbiters: [arb1.address, arb2.address],
        threshold,
        amount,
        deadlineMs: chain.blockTimeMs + 24 * HOUR,
      },
      { from: buyer },
    );
  };
  return { chain, token, escrow, buyer, seller, arb1, arb2, balance, open };
}

test("two of four parties release the funds to the seller", () => {
  const { escrow, buyer, seller, arb1, balance, open } = setup();
  const opened = open("order-1", 2_500);
  assert.equal(opened.status, "ok", opened.message ?? "");
  assert.equal(balance(escrow.address), 2_500, "the escrow holds the amount");
  assert.equal(balance(buyer.address), 7_500);

  const first = escrow.invoke<{ status: string }>("vote", { id: "order-1", decision: "release" }, { from: buyer });
  assert.equal(first.status, "open");
  assert.equal(balance(seller.address), 0);
  const second = escrow.call("vote", { id: "order-1", decision: "release" }, { from: arb1 });
  assert.equal(second.status, "ok");
  assert.equal((second.value as { status: string }).status, "released");
  // The token's transfer event (emitted by the token contract, called by the escrow) is in the same result.
  assert.ok(second.events.some((e) => e.name === "transfer"));
  assert.equal(balance(seller.address), 2_500);
  assert.equal(balance(escrow.address), 0);

  const late = escrow.call("vote", { id: "order-1", decision: "refund" }, { from: seller });
  assert.match(late.message ?? "", /is released/);
});

test("arbiters refund the buyer; votes are checked", () => {
  const { chain, escrow, buyer, seller, arb1, arb2, balance, open } = setup();
  open("order-2", 1_000);
  const outsider = escrow.call("vote", { id: "order-2", decision: "refund" }, { from: chain.account("outsider") });
  assert.match(outsider.message ?? "", /only the deal's buyer, seller or arbiters/);
  escrow.invoke("vote", { id: "order-2", decision: "refund" }, { from: arb1 });
  const again = escrow.call("vote", { id: "order-2", decision: "release" }, { from: arb1 });
  assert.match(again.message ?? "", /already voted/);
  const bad = escrow.call("vote", { id: "order-2", decision: "maybe" }, { from: seller });
  assert.match(bad.message ?? "", /decision must be/);
  escrow.invoke("vote", { id: "order-2", decision: "refund" }, { from: arb2 });
  assert.equal(balance(buyer.address), 10_000);
  assert.equal(balance(seller.address), 0);
});

test("the buyer reclaims after the deadline, not before", () => {
  const { chain, escrow, buyer, balance, open } = setup();
  open("order-3", 400, 3);
  const early = escrow.call("reclaim", { id: "order-3" }, { from: buyer });
  assert.match(early.message ?? "", /deadline has not passed/);
  chain.advanceTime(25 * HOUR);
  escrow.invoke("reclaim", { id: "order-3" }, { from: buyer });
  assert.equal(balance(buyer.address), 10_000);
  assert.equal(escrow.simulate<{ status: string }>("deal", { id: "order-3" }).status, "refunded");
});

test("opening without an allowance fails and leaves nothing behind", () => {
  const { chain, token, escrow, buyer, seller, balance } = setup();
  const r = escrow.call(
    "open",
    {
      id: "order-4",
      token: token.address,
      seller: seller.address,
      arbiters: [],
      threshold: 1,
      amount: 5,
      deadlineMs: chain.blockTimeMs + HOUR,
    },
    { from: buyer },
  );
  assert.equal(r.status, "failed");
  assert.match(r.message ?? "", /allowance exceeded/);
  assert.equal(balance(buyer.address), 10_000);
  const missing = escrow.call("deal", { id: "order-4" });
  assert.match(missing.message ?? "", /no deal/);
});
