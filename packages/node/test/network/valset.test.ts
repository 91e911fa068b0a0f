/**
 * Validator-set changes on a live network: a governance proposal (passed at once: the cluster has one
 * member organisation) makes the observer a validator two
 * heights later; it then signs, the chain stays live, and receipts after the change verify from
 * genesis alone through the validator-set proof.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { decodeReceipt, fromHex, signTx, toHex, verifyReceipt } from "@tally/core";
import { get, post } from "../helpers.js";
import { waitFor } from "../p2p/helpers.js";
import { type Cluster, heightOf, startCluster } from "./cluster.js";

describe("validator-set changes", () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ validators: 4, observers: 1 });
  });
  after(async () => {
    await cluster?.close();
  });

  let nonce = 0;
  async function submit(module: string, method: string, args: Record<string, unknown>): Promise<{ hash: string; height: number }> {
    const { bytes, hash } = signTx(cluster.suite, cluster.admin.key, {
      chainId: cluster.genesis.doc.chainId,
      nonce: nonce++,
      module,
      method,
      args: args as never,
    });
    const res = await post(cluster.url(0), "/v1/txs", { tx: toHex(bytes), wait: true, timeoutMs: 20_000 });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.result.status, "ok", res.text);
    if (module === "governance") assert.equal(res.json.result.value.status, "executed", res.text);
    return { hash, height: res.json.height as number };
  }

  /** A `setValidator` proposal, executed in its own transaction. */
  async function setValidator(publicKey: string, power: number): Promise<{ hash: string; height: number }> {
    return submit("governance", "propose", { action: { kind: "setValidator", publicKey, power } });
  }

  it("adds the observer as a validator from height h + 2, and it votes", async () => {
    const observerKey = toHex((cluster.members[4] as { key: { publicKey: Uint8Array } }).key.publicKey);
    const { height } = await setValidator(observerKey, 1);
    const before = await get(cluster.url(0), `/v1/validators?height=${height + 1}`);
    assert.equal(before.json.validators.length, 4);
    const afterChange = await get(cluster.url(0), `/v1/validators?height=${height + 2}`);
    assert.equal(afterChange.json.validators.length, 5);
    assert.ok(afterChange.json.validators.some((v: { publicKey: string }) => v.publicKey === observerKey));
    await waitFor(async () => (await heightOf(cluster.url(4))) >= height + 4, "the new validator follows", 30_000);
    const status = await get(cluster.url(4), "/v1/status");
    assert.equal(status.json.consensus.role, "validator");
    await waitFor(
      async () => /tally_consensus_votes_signed_total\{kind="precommit"\} [1-9]/.test((await get(cluster.url(4), "/metrics")).text),
      "the new validator signs precommits",
      30_000,
    );
  });

  it("a receipt after the change verifies from genesis through the validator-set proof", async () => {
    const { hash, height } = await submit("evidence", "notarize", {
      digest: cluster.suite.hash(new TextEncoder().encode("after-change")),
      label: "after",
    });
    const res = await get(cluster.url(1), `/v1/txs/${hash}/receipt`);
    assert.equal(res.status, 200, res.text);
    const receipt = decodeReceipt(fromHex(res.json.receipt));
    assert.equal(receipt.header.height, height);
    assert.equal(receipt.validatorProof?.length, 1);
    const verified = verifyReceipt(cluster.genesis, receipt);
    assert.equal(verified.validators.validators.length, 5);
    // Without the proof, the genesis set does not match the header's validator set.
    assert.throws(() => verifyReceipt(cluster.genesis, { ...receipt, validatorProof: [] }), /validator/);
  });

  it("removing a validator shrinks the set and the chain stays live", async () => {
    const removed = toHex((cluster.members[3] as { key: { publicKey: Uint8Array } }).key.publicKey);
    const { height } = await setValidator(removed, 0);
    const set = await get(cluster.url(0), `/v1/validators?height=${height + 2}`);
    assert.equal(set.json.validators.length, 4);
    await waitFor(async () => (await heightOf(cluster.url(0))) >= height + 4, "progress after removal", 30_000);
    const hashes = await Promise.all([0, 1, 2, 4].map(async (i) => (await get(cluster.url(i), `/v1/blocks/${height + 3}`)).json.hash));
    assert.equal(new Set(hashes).size, 1);
  });
});
