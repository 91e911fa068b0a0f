import assert from "node:assert/strict";
import { test } from "node:test";
import { ContractTestChain, contractCode } from "@tally/contract/testing";

test("supply, transfers and allowances", () => {
  const chain = new ContractTestChain({ accounts: [{ name: "alice", roles: ["contract-deployer"] }, { name: "bob" }] });
  const alice = chain.account("alice");
  const bob = chain.account("bob");
  const token = chain.deploy(undefined, { from: alice, initArgs: { symbol: "ABC", supply: 1000 } });
  assert.deepEqual(token.simulate("info"), { symbol: "ABC", supply: 1000 });
  assert.equal(token.simulate("balanceOf", { address: alice.address }), 1000);

  const sent = token.call("transfer", { to: bob.address, amount: 300 }, { from: alice });
  assert.equal(sent.status, "ok");
  assert.equal(sent.value, 700);
  // A contract's event data is { contract, data }: which contract emitted it, and what it emitted.
  assert.deepEqual(sent.events[0]?.data, { contract: token.address, data: { from: alice.address, to: bob.address, amount: 300 } });

  const tooMuch = token.call("transfer", { to: alice.address, amount: 301 }, { from: bob });
  assert.equal(tooMuch.status, "failed");
  assert.match(tooMuch.message ?? "", /insufficient balance/);
  assert.equal(token.simulate("balanceOf", { address: bob.address }), 300);

  token.invoke("approve", { spender: bob.address, amount: 50 }, { from: alice });
  token.invoke("transferFrom", { from: alice.address, to: bob.address, amount: 50 }, { from: bob });
  const over = token.call("transferFrom", { from: alice.address, to: bob.address, amount: 1 }, { from: bob });
  assert.match(over.message ?? "", /allowance exceeded/);
  assert.equal(token.simulate("balanceOf", { address: alice.address }), 650);
  assert.equal(token.simulate("balanceOf", { address: bob.address }), 350);
});

test("bad arguments fail the call and change nothing", () => {
  const chain = new ContractTestChain({ accounts: [{ name: "alice" }] });
  const token = chain.deploy(undefined, { initArgs: { symbol: "ABC", supply: 10 } });
  for (const args of [{ to: "nope", amount: 1 }, { to: chain.account("alice").address, amount: "1" }, null]) {
    const r = token.call("transfer", args);
    assert.equal(r.status, "failed", JSON.stringify(args));
  }
  assert.equal(token.simulate("balanceOf", { address: chain.admin.address }), 10);
  const refused = chain.tryDeploy(contractCode(), { initArgs: { symbol: "abc", supply: 1 } });
  assert.equal(refused.status, "failed");
  assert.match(refused.message ?? "", /symbol must be/);
});
