/** Four validators in one process over real TLS links: blocks commit everywhere, transactions travel, a node catches up. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { signTx, toHex } from "@tally/core";
import { get, post } from "../helpers.js";
import { waitFor } from "../p2p/helpers.js";
import { type Cluster, heightOf, startCluster } from "./cluster.js";

describe("a 4-validator network", () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ validators: 4, logLevel: process.env.CLUSTER_LOG });
  });
  after(async () => {
    await cluster?.close();
  });

  it("commits blocks on every node with identical hashes", async () => {
    await waitFor(
      async () => (await Promise.all([0, 1, 2, 3].map((i) => heightOf(cluster.url(i))))).every((h) => h >= 3),
      "height 3 everywhere",
      20_000,
    );
    for (let h = 1; h <= 3; h++) {
      const hashes = await Promise.all([0, 1, 2, 3].map(async (i) => (await get(cluster.url(i), `/v1/blocks/${h}`)).json.hash as string));
      assert.equal(new Set(hashes).size, 1, `height ${h}: ${hashes.join(", ")}`);
    }
  });

  it("a transaction submitted to one node commits on all", async () => {
    const { bytes, hash } = signTx(cluster.suite, cluster.admin.key, {
      chainId: cluster.genesis.doc.chainId,
      nonce: 0,
      module: "evidence",
      method: "notarize",
      args: { digest: cluster.suite.hash(new TextEncoder().encode("net-1")), label: "net" },
    });
    const res = await post(cluster.url(3), "/v1/txs", { tx: toHex(bytes), wait: true, timeoutMs: 20_000 });
    assert.equal(res.status, 200, res.text);
    for (const i of [0, 1, 2]) {
      await waitFor(async () => (await get(cluster.url(i), `/v1/txs/${hash}`)).status === 200, `tx on node${i}`, 10_000);
    }
  });

  it("keeps committing with one validator down, and the restarted one catches up", async () => {
    await cluster.stop(2);
    const start = await heightOf(cluster.url(0));
    await waitFor(async () => (await heightOf(cluster.url(0))) >= start + 3, "progress with 3 of 4", 30_000);
    await cluster.start(2);
    const target = await heightOf(cluster.url(0));
    await waitFor(async () => (await heightOf(cluster.url(2))) >= target, "node2 caught up", 30_000);
  });
});
