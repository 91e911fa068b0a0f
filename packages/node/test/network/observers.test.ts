/**
 * An observer (a member that is not a validator) follows the chain over the same links: it holds the
 * validators' blocks, never signs, and relays the transactions it is sent to the validators.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { QUERY_AUTH_HEADER, signQuery, signTx, toHex } from "@tally/core";
import type { TallyNode } from "../../src/node.js";
import { get, http, post, testKey } from "../helpers.js";
import { metricValue, waitFor } from "../p2p/helpers.js";
import { type Cluster, heightOf, startCluster } from "./cluster.js";

const LIMIT = { timeout: 30_000 };
const VALIDATORS = [0, 1, 2, 3] as const;
const OBSERVER = 4;

describe("a 4-validator network with an observer", () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ validators: 4, observers: 1, logLevel: process.env.CLUSTER_LOG });
  });
  after(async () => {
    await cluster?.close();
  });

  const node = (i: number): TallyNode => {
    const n = cluster.members[i]?.node;
    if (n == null) throw new Error(`node${i} is not running`);
    return n;
  };
  async function metric(i: number, name: string): Promise<number> {
    const m = node(i).metrics.registry.getSingleMetric(name);
    assert.ok(m !== undefined, `metric ${name}`);
    return metricValue(m);
  }

  it("follows the validators' chain with identical blocks", LIMIT, async () => {
    await waitFor(async () => (await heightOf(cluster.url(OBSERVER))) >= 4, "observer at height 4", 20_000);
    const top = await heightOf(cluster.url(OBSERVER));
    await waitFor(
      async () => (await Promise.all(VALIDATORS.map((i) => heightOf(cluster.url(i))))).every((h) => h >= top),
      `validators at height ${top}`,
      10_000,
    );
    for (let h = 1; h <= top; h++) {
      const hashes = await Promise.all(
        [...VALIDATORS, OBSERVER].map(async (i) => (await get(cluster.url(i), `/v1/blocks/${h}`)).json.hash as string),
      );
      assert.equal(new Set(hashes).size, 1, `height ${h}: ${hashes.join(", ")}`);
    }
    // And it keeps following: a few blocks later it is still within reach of the validators.
    await waitFor(async () => (await heightOf(cluster.url(OBSERVER))) >= top + 3, "observer keeps following", 10_000);
  });

  it("reports the observer role and never signs or proposes", LIMIT, async () => {
    type Status = { validators: number; consensus: { role: string; peers: number } };
    const status = async (i: number) => (await get(cluster.url(i), "/v1/status")).json as Status;
    const observer = await status(OBSERVER);
    assert.equal(observer.consensus.role, "observer");
    assert.equal(observer.validators, 4);
    for (const i of VALIDATORS) assert.equal((await status(i)).consensus.role, "validator", `node${i}`);
    // Every validator links to the observer (3 validators + 1 observer each), and it to all of them.
    await waitFor(
      async () => (await Promise.all([...VALIDATORS, OBSERVER].map(status))).every((s) => s.consensus.peers === 4),
      "full mesh including the observer",
      10_000,
    );
    assert.equal(await metric(OBSERVER, "tally_consensus_votes_signed_total"), 0);
    assert.equal(await metric(OBSERVER, "tally_consensus_proposals_total"), 0);
    // It hears the validators' votes and decides blocks itself (not only by block sync).
    assert.ok((await metric(OBSERVER, "tally_consensus_votes_received_total")) > 0);
    assert.ok((await metric(OBSERVER, "tally_consensus_blocks_decided_total")) > 0);
    for (const i of VALIDATORS) assert.ok((await metric(i, "tally_consensus_votes_signed_total")) > 0, `node${i} signs`);
  });

  it("relays a transaction submitted to it to the validators, and it commits", LIMIT, async () => {
    const { bytes, hash } = signTx(cluster.suite, cluster.admin.key, {
      chainId: cluster.genesis.doc.chainId,
      nonce: 0,
      module: "evidence",
      method: "notarize",
      args: { digest: cluster.suite.hash(new TextEncoder().encode("observer-1")), label: "observer" },
    });
    const res = await post(cluster.url(OBSERVER), "/v1/txs", { tx: toHex(bytes), wait: true, timeoutMs: 20_000 });
    assert.equal(res.status, 200, res.text);
    const { height } = res.json as { height: number };
    for (const i of VALIDATORS) {
      await waitFor(async () => (await get(cluster.url(i), `/v1/txs/${hash}`)).status === 200, `tx on node${i}`, 10_000);
      const found = (await get(cluster.url(i), `/v1/txs/${hash}`)).json as { height: number };
      assert.equal(found.height, height, `node${i} holds the tx at the same height`);
    }
    // The block holding it was proposed by a validator: the observer proposes nothing.
    const block = (await get(cluster.url(OBSERVER), `/v1/blocks/${height}`)).json as { header: { proposer: string } };
    const proposers = cluster.members.slice(0, 4).map((m) => toHex(m.key.publicKey));
    assert.ok(proposers.includes(block.header.proposer), `proposer ${block.header.proposer}`);
    assert.equal(await metric(OBSERVER, "tally_consensus_proposals_total"), 0);
  });

  it("reports each validator's last signed height from the commit certificates", LIMIT, async () => {
    const res = await get(cluster.url(OBSERVER), "/v1/validators");
    assert.equal(res.status, 200, res.text);
    // Without ?height the set is set(head + 1), and the last signed heights are as of that head.
    const { validators, height } = res.json as {
      height: number;
      validators: Array<{ publicKey: string; lastSignedHeight: number | null }>;
    };
    const head = height - 1;
    assert.equal(validators.length, 4);
    // The head's certificate holds more than 2/3 of the power: at least 3 of the 4 signed it.
    const atHead = validators.filter((v) => v.lastSignedHeight === head);
    assert.ok(atHead.length >= 3, JSON.stringify(validators));
    for (const v of validators) {
      if (v.lastSignedHeight !== null) assert.ok(v.lastSignedHeight >= 1 && v.lastSignedHeight <= head, JSON.stringify(v));
      const commit = v.lastSignedHeight === null ? null : (await get(cluster.url(OBSERVER), `/v1/blocks/${v.lastSignedHeight}`)).json;
      if (commit !== null) {
        const set = (await get(cluster.url(OBSERVER), `/v1/validators?height=${v.lastSignedHeight}`)).json as {
          validators: Array<{ publicKey: string }>;
        };
        const index = set.validators.findIndex((x) => x.publicKey === v.publicKey);
        const signers = (commit.commit.signatures as Array<{ validator: number }>).map((s) => s.validator);
        assert.ok(signers.includes(index), `${v.publicKey.slice(0, 8)} signed block ${v.lastSignedHeight}`);
      }
    }
  });

  it("serves a regulator's signed queries from its own replica, with every validator stopped", LIMIT, async () => {
    const regulator = testKey(cluster.suite, "observer-test/regulator");
    const chainId = cluster.genesis.doc.chainId;
    const register = signTx(cluster.suite, cluster.admin.key, {
      chainId,
      nonce: 1,
      module: "accounts",
      method: "register",
      args: { publicKey: regulator.publicKey, org: cluster.admin.org, roles: ["regulator"] },
    });
    const res = await post(cluster.url(0), "/v1/txs", { tx: toHex(register.bytes), wait: true, timeoutMs: 20_000 });
    assert.equal(res.status, 200, res.text);
    await waitFor(
      async () => (await get(cluster.url(OBSERVER), `/v1/txs/${register.hash}`)).status === 200,
      "register on the observer",
      10_000,
    );
    for (const i of VALIDATORS) await cluster.stop(i);

    const args = { address: cluster.admin.address, limit: 100 };
    const header = signQuery(cluster.suite, regulator, { chainId, module: "audit", name: "accountTxs", args }, Date.now());
    const trail = await http(`${cluster.url(OBSERVER)}/v1/audit/accounts/${cluster.admin.address}/txs`, {
      body: JSON.stringify({ limit: 100 }),
      headers: { "content-type": "application/json", [QUERY_AUTH_HEADER]: header },
    });
    assert.equal(trail.status, 200, trail.text);
    const calls = (trail.json.items as Array<{ module: string; method: string; status: string }>).map(
      (i) => `${i.module}.${i.method}:${i.status}`,
    );
    assert.deepEqual(calls, ["evidence.notarize:ok", "accounts.register:ok"]);
  });
});
