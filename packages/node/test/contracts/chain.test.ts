/**
 * Contracts through the real Chain on LMDB: admission refuses a syntax error before it reaches a
 * block, committed calls count in the contract metrics, and a restarted chain keeps the contract.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TallyError } from "@tally/core";
import { commitBlock, makeNet, openChain, sign, tempDir } from "../helpers.js";
import { COUNTER, GAS } from "./fixtures.js";

describe("contracts: on a real chain", () => {
  test("admission, commit, metrics and restart", async () => {
    const net = makeNet("ed25519");
    const dir = tempDir();
    let c = await openChain(net, dir.path);
    try {
      const bad = sign(net, net.admin.key, 0, "contracts", "deploy", { code: "var __contract = {", gasLimit: GAS });
      assert.throws(
        () => c.chain.admit(bad.bytes),
        (e: unknown) => e instanceof TallyError && e.code === "CONTRACT_SYNTAX",
      );
      const dep = sign(net, net.admin.key, 0, "contracts", "deploy", { code: COUNTER, gasLimit: GAS });
      const [deployed] = (await commitBlock(c, net, [dep], 1_700_000_001_000))?.results ?? [];
      assert.ok(deployed !== undefined && deployed.status === "ok");
      const address = (deployed.value as { address: string }).address;
      const inc = sign(net, net.admin.key, 1, "contracts", "call", { address, method: "increment", args: { by: 2 }, gasLimit: GAS });
      const loop = sign(net, net.admin.key, 2, "contracts", "call", { address, method: "nope", gasLimit: GAS });
      const out = await commitBlock(c, net, [inc, loop], 1_700_000_002_000);
      assert.ok(out);
      assert.deepEqual(
        out.results.map((r) => r.code),
        [null, "CONTRACT_NO_METHOD"],
      );
      const text = await c.metrics.registry.metrics();
      assert.match(text, /tally_contract_calls_total\{method="deploy",status="ok"\} 1/);
      assert.match(text, /tally_contract_calls_total\{method="call",status="ok"\} 1/);
      assert.match(text, /tally_contract_failures_total\{code="CONTRACT_NO_METHOD"\} 1/);
      assert.match(text, /tally_contract_gas_used_count 3/);
      await c.close();
      c = await openChain(net, dir.path);
      const next = sign(net, net.admin.key, 3, "contracts", "call", { address, method: "increment", gasLimit: GAS });
      const [again] = (await commitBlock(c, net, [next], 1_700_000_003_000))?.results ?? [];
      assert.ok(again !== undefined);
      assert.deepEqual((again.value as { value: number }).value, 3);
    } finally {
      await c.close();
      dir.remove();
    }
  });
});
