/**
 * The chain runs one engine build: the genesis pins it (or, without the pin, the first contract
 * transaction records it), and a node whose build differs does not start, or stops (an invariant
 * failure out of block execution) instead of computing other results.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AssertionFailure, CONTRACT_ENGINE_ID, contractEngineKey, decode, encode, loadGenesis, TallyError, toHex } from "@tally/core";
import { NODE_ENGINE_ID } from "../../src/contracts/sandbox.js";
import { MemoryChain, makeNet, startNode } from "../helpers.js";
import { COUNTER, call, deploy, GAS, value } from "./fixtures.js";

describe("contracts: engine pinning", () => {
  test("the installed engine is the pinned quickjs-emscripten 0.32.0 RELEASE_SYNC build with a 64 MiB heap", () => {
    assert.equal(NODE_ENGINE_ID, "quickjs-emscripten@0.32.0/RELEASE_SYNC/heap-64MiB");
    assert.equal(NODE_ENGINE_ID, CONTRACT_ENGINE_ID);
  });

  test("a genesis that pins the engine records it at height 0; a node with another engine refuses to start", async () => {
    const net = makeNet("ed25519", { contractEngine: NODE_ENGINE_ID });
    const chain = new MemoryChain(net);
    assert.equal(decode(chain.state.read(contractEngineKey())!), NODE_ENGINE_ID);
    assert.equal(value(call(chain, net.admin, deploy(chain, net.admin, COUNTER), "increment")), 1);

    const other = makeNet("ed25519", { contractEngine: "quickjs-emscripten@0.31.0/RELEASE_SYNC/heap-64MiB" });
    await assert.rejects(startNode(other), (e: unknown) => e instanceof TallyError && e.code === "ENGINE_MISMATCH");
    const pinnedElsewhere = new MemoryChain(other);
    assert.throws(() => pinnedElsewhere.call(net.admin, "contracts", "deploy", { code: COUNTER, gasLimit: GAS }), AssertionFailure);
    assert.throws(
      () => loadGenesis({ ...other.doc, contractEngine: "" }),
      (e: unknown) => e instanceof TallyError && e.code === "BAD_GENESIS",
    );
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
