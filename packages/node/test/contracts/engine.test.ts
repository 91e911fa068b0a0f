/**
 * The chain runs one engine build: the first contract transaction records it, and a node whose build
 * differs stops (an invariant failure out of block execution) instead of computing other results.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AssertionFailure, CONTRACT_ENGINE_ID, contractEngineKey, decode, encode, toHex } from "@tally/core";
import { NODE_ENGINE_ID } from "../../src/contracts/sandbox.js";
import { MemoryChain, makeNet } from "../helpers.js";
import { COUNTER, call, deploy, GAS, value } from "./fixtures.js";

describe("contracts: engine pinning", () => {
  test("the installed engine is the pinned quickjs-emscripten 0.32.0 RELEASE_SYNC build", () => {
    assert.equal(NODE_ENGINE_ID, "quickjs-emscripten@0.32.0/RELEASE_SYNC");
    assert.equal(NODE_ENGINE_ID, CONTRACT_ENGINE_ID);
  });

  test("a chain recorded with another engine makes execution stop, for deploys and calls", () => {
    const net = makeNet("ed25519");
    const chain = new MemoryChain(net);
    const address = deploy(chain, net.admin, COUNTER);
    assert.equal(decode(chain.state.read(contractEngineKey())!), NODE_ENGINE_ID);
    assert.equal(value(call(chain, net.admin, address, "increment")), 1);
    chain.state.values.set(toHex(contractEngineKey()), encode("quickjs-emscripten@0.31.0/RELEASE_SYNC"));
    assert.throws(() => call(chain, net.admin, address, "increment"), AssertionFailure);
    assert.throws(() => chain.call(net.admin, "contracts", "deploy", { code: COUNTER, gasLimit: GAS }), AssertionFailure);
  });
});
