import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LIMITS, TallyError, type TxEnvelope, verifyTxBytes } from "@tally/core";
import { DEFAULT_MEMPOOL_LIMITS, Mempool } from "../src/mempool.js";
import { envelope, makeNet, notarize, SUITES, sign, type TestNet } from "./helpers.js";

const BIG = { txsMax: 1_000, bytesMax: 1 << 30, txsPerAccountMax: 1_000 };

function refusal(fn: () => unknown, code: string, meta?: Record<string, unknown>): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TallyError, `expected a TallyError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (meta !== undefined) for (const [k, v] of Object.entries(meta)) assert.deepEqual(err.meta[k], v, `meta.${k}`);
    return true;
  });
}

const hashes = (envs: readonly TxEnvelope[]) => envs.map((e) => e.hashHex);

for (const suiteId of SUITES) {
  describe(`mempool (${suiteId})`, () => {
    const net: TestNet = makeNet(suiteId, { accounts: [{ name: "alice" }, { name: "bob" }] });
    const alice = net.accounts.alice?.key;
    const bob = net.accounts.bob?.key;
    assert.ok(alice && bob);
    // sm2 signatures are randomised: sign each (account, nonce, label) once so equal calls give equal transactions.
    const signed = new Map<string, TxEnvelope>();
    /** Envelope of a notarisation by `who` with `nonce`; `label` varies the content. */
    const tx = (who: typeof alice, nonce: number, label = `${nonce}`): TxEnvelope => {
      const id = `${who === alice ? "a" : "b"}/${nonce}/${label}`;
      let env = signed.get(id);
      if (env === undefined) {
        env = envelope(net, notarize(net, who, nonce, id));
        signed.set(id, env);
      }
      return env;
    };

    test("a block's contract transactions offer at most LIMITS.blockGasMax gas: take() and peek() stop before it", () => {
      const pool = new Mempool(BIG);
      const gasLimit = LIMITS.blockGasMax / 10;
      const call = (nonce: number) =>
        envelope(net, sign(net, alice, nonce, "contracts", "call", { address: "00".repeat(20), method: "m", gasLimit }));
      const calls = Array.from({ length: 12 }, (_, i) => call(i));
      for (const env of calls) pool.add(env, 0);
      pool.add(tx(bob, 0), 0);
      // Ten fill the budget; the eleventh waits, and nothing behind it overtakes it.
      assert.deepEqual(hashes(pool.peek(100, 1 << 30)), hashes(calls.slice(0, 10)));
      assert.deepEqual(hashes(pool.take(100, 1 << 30)), hashes(calls.slice(0, 10)));
      assert.deepEqual(hashes(pool.take(100, 1 << 30)), hashes([...calls.slice(10), tx(bob, 0)]));
    });

    test("default limits are the protocol limits", () => {
      assert.deepEqual(DEFAULT_MEMPOOL_LIMITS, {
        txsMax: LIMITS.mempoolTxsMax,
        bytesMax: LIMITS.mempoolBytesMax,
        txsPerAccountMax: LIMITS.mempoolTxsPerAccountMax,
      });
    });

    test("take() hands out transactions in arrival order, across accounts", () => {
      const pool = new Mempool(BIG);
      const order = [tx(alice, 0), tx(bob, 0), tx(alice, 1), tx(bob, 1), tx(bob, 2), tx(alice, 2)];
      for (const env of order) pool.add(env, 0);
      assert.equal(pool.size, 6);
      assert.equal(
        pool.sizeBytes,
        order.reduce((n, e) => n + e.bytes.length, 0),
      );
      const taken = pool.take(100, 1 << 30);
      assert.deepEqual(hashes(taken), hashes(order));
      assert.equal(pool.size, 0);
      assert.equal(pool.sizeBytes, 0);
      assert.equal(pool.inFlightCount, 6);
      assert.deepEqual(pool.take(100, 1 << 30), []);
    });

    test("the nonce must be exactly the account's next one (committed, then after its pending transactions)", () => {
      const pool = new Mempool(BIG);
      refusal(() => pool.add(tx(alice, 2), 3), "NONCE_TOO_LOW", { expected: 3, got: 2 });
      refusal(() => pool.add(tx(alice, 4), 3), "NONCE_TOO_HIGH", { expected: 3, got: 4 });
      assert.equal(pool.size, 0);
      pool.add(tx(alice, 3), 3);
      // Once the account has pending transactions, its next nonce follows them, whatever committed state says.
      refusal(() => pool.add(tx(alice, 3, "other content"), 3), "NONCE_TOO_LOW", { expected: 4, got: 3 });
      refusal(() => pool.add(tx(alice, 5), 3), "NONCE_TOO_HIGH", { expected: 4, got: 5 });
      refusal(() => pool.add(tx(alice, 0), 0), "NONCE_TOO_LOW", { expected: 4, got: 0 });
      pool.add(tx(alice, 4), 0);
      // Other accounts are independent.
      pool.add(tx(bob, 7), 7);
      assert.equal(pool.size, 3);
      // In flight, the sequence still counts.
      pool.take(100, 1 << 30);
      refusal(() => pool.add(tx(alice, 4, "again"), 3), "NONCE_TOO_LOW", { expected: 5, got: 4 });
      pool.add(tx(alice, 5), 3);
      assert.deepEqual(hashes(pool.take(100, 1 << 30)), hashes([tx(alice, 5)]));
    });

    test("a transaction already pooled or in flight is a DUPLICATE_TX (checked before the nonce)", () => {
      const pool = new Mempool(BIG);
      const a0 = tx(alice, 0);
      pool.add(a0, 0);
      refusal(() => pool.add(a0, 0), "DUPLICATE_TX", { hash: a0.hashHex });
      // The same bytes decoded again are the same transaction.
      const again = verifyTxBytes(net.suite, net.chainId, Uint8Array.from(a0.bytes));
      refusal(() => pool.add(again, 0), "DUPLICATE_TX");
      assert.equal(pool.size, 1);
      assert.ok(pool.has(a0.hashHex));
      pool.take(10, 1 << 30);
      assert.ok(pool.has(a0.hashHex));
      refusal(() => pool.add(a0, 0), "DUPLICATE_TX", { hash: a0.hashHex });
      pool.committed([a0]);
      assert.equal(pool.has(a0.hashHex), false);
      // Forgotten by the pool; committed state (nonce 1) now refuses it.
      refusal(() => pool.add(a0, 1), "NONCE_TOO_LOW", { expected: 1, got: 0 });
    });

    test("txsMax counts pooled and in-flight transactions: MEMPOOL_FULL", () => {
      const pool = new Mempool({ ...BIG, txsMax: 3 });
      pool.add(tx(alice, 0), 0);
      pool.add(tx(alice, 1), 0);
      pool.add(tx(bob, 0), 0);
      refusal(() => pool.add(tx(bob, 1), 0), "MEMPOOL_FULL", { txs: 3 });
      const taken = pool.take(2, 1 << 30);
      assert.equal(taken.length, 2);
      refusal(() => pool.add(tx(bob, 1), 0), "MEMPOOL_FULL", { txs: 3 });
      pool.executed(taken, []);
      refusal(() => pool.add(tx(bob, 1), 0), "MEMPOOL_FULL");
      pool.committed(taken);
      pool.add(tx(bob, 1), 0);
      assert.equal(pool.size, 2);
      assert.equal(pool.inFlightCount, 0);
    });

    test("bytesMax bounds the pooled bytes: MEMPOOL_FULL; a transaction that exactly fills it is admitted", () => {
      const a0 = tx(alice, 0);
      const a1 = tx(alice, 1);
      const b0 = tx(bob, 0);
      const pool = new Mempool({ ...BIG, bytesMax: a0.bytes.length + a1.bytes.length });
      pool.add(a0, 0);
      pool.add(a1, 0);
      assert.equal(pool.sizeBytes, a0.bytes.length + a1.bytes.length);
      refusal(() => pool.add(b0, 0), "MEMPOOL_FULL", { bytes: a0.bytes.length + a1.bytes.length });
      assert.equal(pool.size, 2);
      const one = new Mempool({ ...BIG, bytesMax: b0.bytes.length - 1 });
      refusal(() => one.add(b0, 0), "MEMPOOL_FULL", { bytes: 0 });
      assert.equal(one.size, 0);
    });

    test("in-flight transactions still count for bytesMax, as they do for txsMax (class doc: 'still counts ... for the limits')", () => {
      const a0 = tx(alice, 0);
      const a1 = tx(alice, 1);
      const pool = new Mempool({ ...BIG, bytesMax: a0.bytes.length + a1.bytes.length });
      pool.add(a0, 0);
      pool.add(a1, 0);
      assert.equal(pool.take(10, 1 << 30).length, 2);
      // Both are still held (in a block being written); admitting more would exceed the byte bound.
      refusal(() => pool.add(tx(bob, 0), 0), "MEMPOOL_FULL");
    });

    test("txsPerAccountMax bounds one account's pooled + in-flight transactions: ACCOUNT_QUEUE_FULL", () => {
      const pool = new Mempool({ ...BIG, txsPerAccountMax: 2 });
      pool.add(tx(alice, 0), 0);
      pool.add(tx(alice, 1), 0);
      refusal(() => pool.add(tx(alice, 2), 0), "ACCOUNT_QUEUE_FULL", { max: 2 });
      pool.add(tx(bob, 0), 0);
      const taken = pool.take(10, 1 << 30);
      assert.equal(taken.length, 3);
      refusal(() => pool.add(tx(alice, 2), 0), "ACCOUNT_QUEUE_FULL", { max: 2 });
      pool.executed(taken, []);
      pool.committed(taken.slice(0, 1));
      pool.add(tx(alice, 2), 1);
      refusal(() => pool.add(tx(alice, 3), 1), "ACCOUNT_QUEUE_FULL", { max: 2 });
      // The refused one did not advance the sequence.
      pool.committed(taken.slice(1));
      pool.add(tx(alice, 3), 2);
      assert.equal(pool.size, 2);
    });

    test("take() respects txsMax and bytesMax and never skips ahead of a transaction that does not fit", () => {
      const pool = new Mempool(BIG);
      // a1 is much larger than the others.
      const a0 = tx(alice, 0);
      const a1 = envelope(net, notarize(net, alice, 1, "a/big", { label: "x".repeat(200) }));
      const b0 = tx(bob, 0);
      const b1 = tx(bob, 1);
      const b2 = tx(bob, 2);
      for (const env of [a0, a1, b0, b1, b2]) pool.add(env, 0);
      assert.ok(a1.bytes.length > b0.bytes.length + 100);
      assert.deepEqual(pool.take(0, 1 << 30), []);
      assert.deepEqual(hashes(pool.take(1, 1 << 30)), hashes([a0]));
      // a1 does not fit: nothing is taken even though b0 would fit.
      assert.deepEqual(pool.take(10, a1.bytes.length - 1), []);
      assert.equal(pool.size, 4);
      assert.deepEqual(hashes(pool.take(10, a1.bytes.length + b0.bytes.length)), hashes([a1, b0]));
      assert.deepEqual(hashes(pool.take(10, b1.bytes.length + b2.bytes.length - 1)), hashes([b1]));
      assert.deepEqual(hashes(pool.take(10, 1 << 30)), hashes([b2]));
      assert.equal(pool.size, 0);
      assert.equal(pool.sizeBytes, 0);
      assert.equal(pool.inFlightCount, 5);
    });

    test("a left-out transaction drops its account's later pooled transactions; other accounts keep theirs", () => {
      const pool = new Mempool(BIG);
      const a0 = tx(alice, 0);
      const b0 = tx(bob, 0);
      const a1 = tx(alice, 1);
      const a2 = tx(alice, 2);
      const b1 = tx(bob, 1);
      for (const env of [a0, b0, a1, a2, b1]) pool.add(env, 0);
      const taken = pool.take(2, 1 << 30);
      assert.deepEqual(hashes(taken), hashes([a0, b0]));
      const dropped = pool.executed([b0], [a0]);
      assert.deepEqual(hashes(dropped), hashes([a1, a2]));
      assert.equal(pool.size, 1);
      assert.equal(pool.sizeBytes, b1.bytes.length);
      assert.equal(pool.inFlightCount, 1);
      for (const env of [a0, a1, a2]) assert.equal(pool.has(env.hashHex), false);
      // alice starts again from committed state.
      refusal(() => pool.add(a1, 0), "NONCE_TOO_HIGH", { expected: 0, got: 1 });
      const a0b = tx(alice, 0, "retry");
      pool.add(a0b, 0);
      // bob's sequence is untouched.
      refusal(() => pool.add(tx(bob, 1, "dup nonce"), 0), "NONCE_TOO_LOW", { expected: 2, got: 1 });
      pool.add(tx(bob, 2), 0);
      assert.deepEqual(hashes(pool.take(10, 1 << 30)), hashes([b1, a0b, tx(bob, 2)]));
    });

    test("after a left-out transaction, the next nonce falls back to the one after the account's last included transaction", () => {
      const pool = new Mempool(BIG);
      const a0 = tx(alice, 0);
      const a1 = tx(alice, 1);
      const a2 = tx(alice, 2);
      pool.add(a0, 0);
      const block1 = pool.take(10, 1 << 30);
      assert.deepEqual(pool.executed(block1, []), []);
      pool.add(a1, 0);
      pool.add(a2, 0);
      const block2 = pool.take(1, 1 << 30);
      assert.deepEqual(hashes(block2), hashes([a1]));
      assert.deepEqual(hashes(pool.executed([], block2)), hashes([a2]));
      // Block 1 (with a0) is not durable yet: committed state still says nonce 0.
      refusal(() => pool.add(tx(alice, 0, "replay"), 0), "NONCE_TOO_LOW", { expected: 1, got: 0 });
      refusal(() => pool.add(a2, 0), "NONCE_TOO_HIGH", { expected: 1, got: 2 });
      pool.add(a1, 0);
      pool.committed(block1);
      assert.equal(pool.inFlightCount, 0);
      pool.add(a2, 1);
      assert.equal(pool.size, 2);
    });

    test("committed() forgets transactions; an idle account's next nonce comes from committed state again", () => {
      const pool = new Mempool(BIG);
      const a0 = tx(alice, 0);
      const a1 = tx(alice, 1);
      pool.add(a0, 0);
      pool.add(a1, 0);
      const taken = pool.take(10, 1 << 30);
      pool.executed(taken, []);
      pool.committed(taken);
      assert.equal(pool.inFlightCount, 0);
      assert.equal(pool.size, 0);
      assert.equal(pool.has(a0.hashHex), false);
      // The pool no longer tracks alice: committed state decides (and is trusted as given).
      refusal(() => pool.add(tx(alice, 1, "x"), 2), "NONCE_TOO_LOW", { expected: 2, got: 1 });
      pool.add(tx(alice, 2), 2);
      // Committing transactions the pool never had changes nothing.
      pool.committed([tx(bob, 0)]);
      assert.equal(pool.size, 1);
    });
  });
}
