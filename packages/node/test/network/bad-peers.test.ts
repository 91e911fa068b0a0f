/**
 * A misbehaving member cannot crash or stall honest nodes (issue "Bad input"). Validators 0–2 run as
 * real TallyNodes; validator 3's key is held by this test, which links to them as a bare P2PNode and
 * sends what a correct node never would. With 3 of 4 validators honest (> 2/3 of the power) the chain
 * must keep committing through every attack, with identical blocks everywhere, and every invalid
 * message must cost its sender its links (and a ban, spec/p2p.md §bans).
 *
 * A ban lasts LIMITS.p2pViolationBanMs (10 s), so each attack comes from a member that has not offended
 * yet: validator 3 itself, or one of the cluster's observer keys (observers are members too, and
 * nothing in the consensus shell trusts a message for who relayed it). Signed messages are always
 * signed with validator 3's key (or a key outside the set) whatever link carries them.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TLSSocket } from "node:tls";
import {
  encode,
  encodeBlock,
  type KeyPair,
  LIMITS,
  proposalSignBytes,
  type SignedVote,
  toHex,
  utf8,
  type Value,
  validatorIndex,
  voteSignBytes,
} from "@tally/core";
import { Registry } from "prom-client";
import { proposerOf } from "../../src/consensus/proposer.js";
import { SHELL_LIMITS } from "../../src/consensus/service.js";
import { encodeWire } from "../../src/consensus/wire.js";
import type { TallyNode } from "../../src/node.js";
import { encodeFrame, P2PNode } from "../../src/p2p/index.js";
import { get, silentLogger, testKey } from "../helpers.js";
import { Harness, metricValue, rawDial, seededRandom, sharedTlsIdentity, waitFor } from "../p2p/helpers.js";
import { type Cluster, heightOf, p2pMembersOf, startCluster } from "./cluster.js";

const LIMIT = { timeout: 30_000 };
const HONEST = [0, 1, 2] as const;
/** The validator whose key the test holds. */
const BYZANTINE = 3;
/** Observer keys 4.. that the test plays (none of them runs a node). */
const OBSERVERS = 32;

type Honest = (typeof HONEST)[number];

/** A member played by the test: a real P2PNode that only dials, and remembers which honest nodes dropped it. */
interface Adversary {
  readonly p2p: P2PNode;
  readonly key: KeyPair;
  readonly hex: string;
  /** Keys (hex) of the honest nodes that closed their link to it. */
  readonly dropped: Set<string>;
  /** Consensus messages received from honest nodes. */
  readonly received: Array<{ from: string; message: Value }>;
}

/** Resolves when `socket` can take more writes, or closed. */
function drainedOrClosed(socket: TLSSocket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      socket.off("drain", done).off("close", done);
      resolve();
    };
    socket.on("drain", done).on("close", done);
  });
}

describe("a misbehaving member cannot crash or stall honest nodes", () => {
  let cluster: Cluster;
  const adversaries: Adversary[] = [];
  let unused = BYZANTINE + 1;
  /** An observer key that has not misbehaved yet (so no node bans it). */
  const nextMember = (): number => {
    assert.ok(unused < BYZANTINE + 1 + OBSERVERS, "out of unused observer keys: raise OBSERVERS");
    return unused++;
  };
  let harness: Harness;

  const node = (i: number): TallyNode => {
    const n = cluster.members[i]?.node;
    if (n == null) throw new Error(`node${i} is not running`);
    return n;
  };
  const hexOf = (i: number): string => toHex((cluster.members[i] as { key: KeyPair }).key.publicKey);
  const byzKey = (): KeyPair => (cluster.members[BYZANTINE] as { key: KeyPair }).key;

  async function metric(i: number, name: string, labels?: Record<string, string>): Promise<number> {
    const m = node(i).metrics.registry.getSingleMetric(name);
    assert.ok(m !== undefined, `metric ${name}`);
    return metricValue(m, labels);
  }

  /** Links member `index` (validator 3 or an observer key) to the honest nodes as a bare P2PNode. */
  async function adversary(index = nextMember()): Promise<Adversary> {
    const key = (cluster.members[index] as { key: KeyPair }).key;
    const hex = toHex(key.publicKey);
    // Without an address of its own it dials everyone at once (rather than wait to be dialed).
    const members = p2pMembersOf(cluster).map((m, i) => (i === index ? { publicKey: m.publicKey } : m));
    const p2p = new P2PNode({
      chainId: cluster.genesis.doc.chainId,
      suite: cluster.suite,
      key,
      members,
      tls: await sharedTlsIdentity(),
      logger: silentLogger(),
      registry: new Registry(),
      random: seededRandom(index),
    });
    const adv: Adversary = { p2p, key, hex, dropped: new Set(), received: [] };
    p2p.onPeer((peer, connected) => {
      if (!connected) adv.dropped.add(peer);
    });
    p2p.onMessage((from, message) => adv.received.push({ from, message }));
    adversaries.push(adv);
    await p2p.start();
    await waitFor(() => HONEST.every((i) => p2p.peers().includes(hexOf(i))), `member ${index} linked to nodes 0-2`, 10_000);
    return adv;
  }

  /**
   * Waits until every honest node has committed `count` more blocks, then checks they hold identical
   * blocks at those heights and still serve their API (a node whose consensus failed would have taken
   * this process down, spec: a consensus failure stops the node).
   */
  async function assertLive(what: string, count = 3): Promise<void> {
    const start = Math.max(...(await Promise.all(HONEST.map((i) => heightOf(cluster.url(i))))));
    await waitFor(
      async () => (await Promise.all(HONEST.map((i) => heightOf(cluster.url(i))))).every((h) => h >= start + count),
      `${what}: nodes 0-2 commit ${count} more blocks after height ${start}`,
      20_000,
    );
    for (let h = start + 1; h <= start + count; h++) {
      const hashes = await Promise.all(HONEST.map(async (i) => (await get(cluster.url(i), `/v1/blocks/${h}`)).json.hash as string));
      assert.equal(new Set(hashes).size, 1, `${what}: height ${h} differs: ${hashes.join(", ")}`);
    }
    for (const i of HONEST) {
      const status = (await get(cluster.url(i), "/v1/status")).json as { consensus: { role: string; peers: number } };
      assert.equal(status.consensus.role, "validator");
      assert.ok(status.consensus.peers >= 2, `node${i} keeps its honest peers`);
    }
  }

  /**
   * Sends `build(i)` to honest node i from `adv` until node i drops the link (a message built for a
   * height that ended while it travelled is stale, ignored without a verdict: it is built again), and
   * checks the node counted one invalid message with `code` and one `invalid_message` disconnect.
   */
  async function expectRejected(adv: Adversary, targets: readonly Honest[], code: string, build: (i: Honest) => Value): Promise<void> {
    for (const i of targets) {
      const invalidBefore = await metric(i, "tally_consensus_invalid_messages_total", { code });
      const dropsBefore = await metric(i, "tally_p2p_disconnects_total", { reason: "invalid_message" });
      let sentAt = -Infinity;
      await waitFor(
        () => {
          if (adv.dropped.has(hexOf(i))) return true;
          if (performance.now() - sentAt > 300) {
            adv.p2p.send(hexOf(i), build(i));
            sentAt = performance.now();
          }
          return false;
        },
        `node${i} drops member ${adv.hex.slice(0, 8)} (${code})`,
        5_000,
      );
      assert.equal(await metric(i, "tally_consensus_invalid_messages_total", { code }), invalidBefore + 1, `node${i}: ${code} counted`);
      assert.equal(await metric(i, "tally_p2p_disconnects_total", { reason: "invalid_message" }), dropsBefore + 1);
      assert.ok(!adv.p2p.peers().includes(hexOf(i)));
    }
  }

  /** The height node i is deciding and its round. */
  const position = (i: number): { height: number; round: number } => {
    const s = node(i).consensus?.status();
    assert.ok(s !== undefined);
    return { height: s.height, round: s.round };
  };

  const indexOf = (i: number, key: KeyPair): number => validatorIndex(node(i).chain.validatorSet(position(i).height), key.publicKey);

  /** A prevote of validator 3 at node i's height and round, signed by it, with `fields` changed. */
  function vote(i: number, fields: Partial<SignedVote> & { signer?: KeyPair }): Value {
    const { signer = byzKey(), signature, ...changed } = fields;
    const body = {
      kind: "prevote" as const,
      ...position(i),
      // A block nobody votes for: a vote equal to one already counted would be taken for a re-send.
      blockHash: cluster.suite.hash(utf8("no such block")),
      validator: indexOf(i, byzKey()),
      ...changed,
    };
    const signed = signature ?? cluster.suite.sign(signer.privateKey, voteSignBytes(cluster.genesis.doc.chainId, body));
    return encodeWire({ type: "vote", vote: { ...body, signature: signed } });
  }

  /** A proposal by validator 3's key for node i's current height, in the first round ≥ its own that `pick` accepts. */
  function proposal(i: number, pick: (proposer: number, self: number) => boolean, options: { proposer?: "self" | "round" } = {}): Value {
    const { height, round } = position(i);
    const set = node(i).chain.validatorSet(height);
    const self = validatorIndex(set, byzKey().publicKey);
    let r = round;
    while (!pick(proposerOf(set, height, r), self)) r++;
    // A real block (the previous one), under a hash that is not its own.
    const previous = node(i).chain.blockAt(node(i).chain.head.height);
    assert.ok(previous !== undefined);
    const hash = cluster.suite.hash(utf8(`not the block of ${height}/${r}`));
    const signature = cluster.suite.sign(byzKey().privateKey, proposalSignBytes(cluster.genesis.doc.chainId, height, r, hash, -1));
    return encodeWire({
      type: "proposal",
      height,
      round: r,
      blockHash: hash,
      validRound: -1,
      proposer: options.proposer === "round" ? proposerOf(set, height, r) : self,
      signature,
      block: encodeBlock(previous.block),
    });
  }

  before(async () => {
    cluster = await startCluster({
      validators: 4,
      observers: OBSERVERS,
      start: [...HONEST],
      logLevel: process.env.CLUSTER_LOG,
    });
    harness = new Harness(cluster.suite, cluster.genesis.doc.chainId);
    await waitFor(
      async () => (await Promise.all(HONEST.map((i) => heightOf(cluster.url(i))))).every((h) => h >= 2),
      "height 2 on nodes 0-2",
      20_000,
    );
  });

  after(async () => {
    for (const a of adversaries) await a.p2p.stop();
    await harness?.close();
    await cluster?.close();
  });

  it("1. votes with a bad signature (current height and round) disconnect their sender", LIMIT, async () => {
    const adv = await adversary(BYZANTINE);
    const wrongBytes = cluster.suite.sign(byzKey().privateKey, utf8("something else"));
    await expectRejected(adv, [0], "BAD_SIGNATURE", (i) => vote(i, { signature: wrongBytes }));
    // Claiming an honest validator's index, with a signature that is garbage.
    await expectRejected(adv, [1], "BAD_SIGNATURE", (i) =>
      vote(i, { validator: (indexOf(i, byzKey()) + 1) % 4, signature: new Uint8Array(64).fill(7) }),
    );
    // A precommit for a block, signed over another round.
    await expectRejected(adv, [2], "BAD_SIGNATURE", (i) => {
      const { round } = position(i);
      const signed = vote(i, { kind: "precommit", round: round + 1, blockHash: new Uint8Array(32).fill(1) }) as [string, Value[]];
      const value = [...(signed[1] as Value[])];
      value[2] = round;
      return ["vote", value];
    });
    // The offender is banned (spec/p2p.md §bans): its redials are refused for a while.
    const refused = await metric(0, "tally_p2p_handshake_failures_total", { reason: "banned" });
    await waitFor(
      async () => (await metric(0, "tally_p2p_handshake_failures_total", { reason: "banned" })) > refused,
      "a banned redial",
      5_000,
    );
    assert.ok(!adv.p2p.peers().includes(hexOf(0)));
    await assertLive("after bad-signature votes");
  });

  it("2. votes from a non-member index, or signed by a key outside the set, disconnect their sender", LIMIT, async () => {
    const outsider = await adversary();
    await expectRejected(outsider, HONEST, "FORBIDDEN", (i) =>
      vote(i, { validator: node(i).chain.validatorSet(position(i).height).validators.length }),
    );
    const stranger = testKey(cluster.suite, "bad-peers/not-a-validator");
    const impostor = await adversary();
    await expectRejected(impostor, HONEST, "BAD_SIGNATURE", (i) => vote(i, { signer: stranger, validator: indexOf(i, byzKey()) }));
    await assertLive("after non-member votes");
  });

  it(
    "3. proposals from the wrong proposer, forged for the right one, or carrying another block disconnect their sender",
    LIMIT,
    async () => {
      // Signed correctly with validator 3's key, for a round whose proposer is someone else.
      const wrong = await adversary();
      await expectRejected(wrong, HONEST, "FORBIDDEN", (i) => proposal(i, (proposer, self) => proposer !== self));
      // Claims to come from the round's proposer, but validator 3 signed it.
      const forged = await adversary();
      await expectRejected(forged, HONEST, "BAD_SIGNATURE", (i) =>
        proposal(i, (proposer, self) => proposer !== self, { proposer: "round" }),
      );
      // Validator 3's own round and a valid signature, but the block is not the one the hash names.
      const mismatch = await adversary();
      await expectRejected(mismatch, HONEST, "BAD_BLOCK", (i) => proposal(i, (proposer, self) => proposer === self));
      await assertLive("after bad proposals");
    },
  );

  it("4. malformed consensus messages disconnect their sender", LIMIT, async () => {
    const sig = new Uint8Array(64);
    const hash = new Uint8Array(32);
    const malformed: Array<[string, Value]> = [
      ["not an array", 42],
      ["a map", { type: "vote" }],
      ["unknown type", ["gossip", 1]],
      ["wrong arity", ["status"]],
      ["extra element", ["status", 1, 2]],
      ["string height", ["status", "high"]],
      ["negative height", ["status", -1]],
      ["zero-length block range", ["getBlocks", 1, 0]],
      ["too long a block range", ["getBlocks", 1, 1_000]],
      ["vote of wrong arity", ["vote", [1, 5, 0, null, 0]]],
      ["vote of unknown kind", ["vote", [3, 5, 0, null, 0, sig]]],
      ["vote with a 31-byte hash", ["vote", [1, 5, 0, new Uint8Array(31), 0, sig]]],
      ["vote index beyond validatorsMax", ["vote", [1, 5, 0, null, LIMITS.validatorsMax, sig]]],
      ["proposal with validRound = round", ["proposal", 5, 0, hash, 0, 0, sig, new Uint8Array(1)]],
      ["proposal with a text block", ["proposal", 5, 1, hash, -1, 0, sig, "block"]],
      ["blocks that are not pairs", ["blocks", [[new Uint8Array(1)]]]],
      ["txs that are not bytes", ["txs", ["tx"]]],
      ["evidence that does not decode", ["evidence", new Uint8Array([1, 2, 3])]],
    ];
    // An offender is banned by the node it offended: each one sends one message to each honest node.
    let sender: Adversary | null = null;
    for (const [n, [what, message]] of malformed.entries()) {
      const target = HONEST[n % HONEST.length] as Honest;
      if (n % HONEST.length === 0) sender = await adversary();
      const code = what.startsWith("evidence") ? "BAD_EVIDENCE" : "BAD_ENCODING";
      await expectRejected(sender as Adversary, [target], code, () => message);
    }
    await assertLive("after malformed messages");
  });

  it("5a. thousands of stale but well-formed messages are answered or ignored, without a verdict", LIMIT, async (t) => {
    const adv = await adversary();
    const junk = new Uint8Array(64).fill(9);
    const stale: Value[] = [];
    for (let n = 0; n < 2_000; n++) {
      stale.push(encodeWire({ type: "status", height: n % 2 }));
      // Votes for heights long decided: not even their signatures are looked at.
      stale.push(
        encodeWire({ type: "vote", vote: { kind: "precommit", height: 1, round: n, blockHash: null, validator: n % 4, signature: junk } }),
      );
    }
    for (let n = 0; n < 200; n++) stale.push(encodeWire({ type: "getBlocks", from: 1, count: 32 }));
    const received = await Promise.all(HONEST.map((i) => metric(i, "tally_p2p_messages_received_total")));
    const started = performance.now();
    // In chunks: one turn of the event loop queues at most LIMITS.p2pSendQueueMsgsMax frames per link.
    for (let n = 0; n < stale.length; n += 1_000) {
      for (const m of stale.slice(n, n + 1_000)) adv.p2p.broadcast(m);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await waitFor(
      async () =>
        (await Promise.all(HONEST.map((i) => metric(i, "tally_p2p_messages_received_total")))).every(
          (n, k) => n >= (received[k] as number) + stale.length,
        ),
      "every node took every message",
      15_000,
    );
    t.diagnostic(`${stale.length} stale messages to each of 3 nodes taken in ${(performance.now() - started).toFixed(0)} ms`);
    // Block requests are served (all of them, or as many as a serving budget allows).
    await waitFor(
      () => HONEST.every((i) => adv.received.some((r) => r.from === hexOf(i) && (r.message as Value[])[0] === "blocks")),
      "blocks served",
    );
    for (const i of HONEST) {
      assert.ok(adv.p2p.peers().includes(hexOf(i)), `node${i} keeps the link: nothing was invalid`);
      assert.equal(await metric(i, "tally_p2p_dropped_messages_total", { reason: "rate_limited" }), 0);
    }
    await assertLive("after a stale flood");
    assert.deepEqual(adv.dropped, new Set());
  });

  it("5b. a flood beyond the rate limit is dropped, then disconnected", LIMIT, async () => {
    const key = (cluster.members[nextMember()] as { key: KeyPair }).key;
    const address = node(0).p2pAddress;
    assert.ok(address !== undefined);
    const raw = await rawDial(harness, address, { suite: cluster.suite, key });
    await waitFor(() => raw.received.length > 0, "node0 accepted the raw member (it sent its status)");
    const dropsBefore = await metric(0, "tally_p2p_dropped_messages_total", { reason: "rate_limited" });
    const floodsBefore = await metric(0, "tally_p2p_disconnects_total", { reason: "flood" });
    const frame = encodeFrame(encode(encodeWire({ type: "status", height: 1 })), 64);
    const batch = Buffer.concat(Array.from({ length: 10_000 }, () => frame));
    // Burst + refill + the drops that count as a flood, with room to spare.
    const total = LIMITS.p2pInboundBurstMsgs + LIMITS.p2pInboundMsgsPerSecond + 2 * LIMITS.p2pFloodDropsMax;
    for (let sent = 0; sent < total * 2 && !raw.isClosed(); sent += batch.length / frame.length) {
      if (!raw.writeRaw(batch)) await drainedOrClosed(raw.socket);
    }
    await raw.closed;
    assert.equal(await metric(0, "tally_p2p_disconnects_total", { reason: "flood" }), floodsBefore + 1);
    assert.ok((await metric(0, "tally_p2p_dropped_messages_total", { reason: "rate_limited" })) - dropsBefore > LIMITS.p2pFloodDropsMax);
    await assertLive("after a flood");
  });

  it("5c. block requests within the transport's rate limit are capped per peer and cannot monopolise a node", LIMIT, async (t) => {
    const key = (cluster.members[nextMember()] as { key: KeyPair }).key;
    const address = node(0).p2pAddress;
    assert.ok(address !== undefined);
    const raw = await rawDial(harness, address, { suite: cluster.suite, key });
    await waitFor(() => raw.received.length > 0, "node0 accepted the raw member");
    // It never reads the answers (so their cost here is node0's alone): node0's send queue takes them, oldest dropped.
    raw.socket.pause();
    // A small fraction of the burst the transport lets through.
    const requests = 3_000;
    const frame = encodeFrame(encode(encodeWire({ type: "getBlocks", from: 1, count: 32 })), 64);
    const receivedBefore = await metric(0, "tally_p2p_messages_received_total");
    const servedBefore = await metric(0, "tally_sync_block_requests_total", { result: "served" });
    const limitedBefore = await metric(0, "tally_sync_block_requests_total", { result: "rate_limited" });
    const started = performance.now();
    raw.writeRaw(Buffer.concat(Array.from({ length: requests }, () => frame)));
    await waitFor(
      async () => (await metric(0, "tally_p2p_messages_received_total")) >= receivedBefore + requests,
      "node0 took every request",
      20_000,
    );
    const tookSeconds = (performance.now() - started) / 1000;
    raw.socket.destroy();
    const served = (await metric(0, "tally_sync_block_requests_total", { result: "served" })) - servedBefore;
    const limited = (await metric(0, "tally_sync_block_requests_total", { result: "rate_limited" })) - limitedBefore;
    t.diagnostic(`${requests} getBlocks from one member in ${tookSeconds.toFixed(2)} s: ${served} served, ${limited} refused`);
    // Honest members (the other validators) may also have asked for blocks meanwhile; the raw member's share
    // is at most the per-peer burst plus the refill over the time it took.
    const budget = SHELL_LIMITS.blockRequestsPerPeerBurst + Math.ceil(tookSeconds * SHELL_LIMITS.blockRequestsPerPeerPerSecond);
    assert.ok(limited >= requests - budget, `only ${limited} of ${requests} requests were refused (budget ${budget})`);
    assert.ok(limited + served >= requests, "every request was counted as served or refused");
    await assertLive("after a getBlocks flood at node0");
  });

  it("6. an oversized frame or undecodable bytes from a member disconnect it (transport level, real node)", LIMIT, async () => {
    const address = (i: number) => {
      const a = node(i).p2pAddress;
      assert.ok(a !== undefined);
      return a;
    };
    const member = () => (cluster.members[nextMember()] as { key: KeyPair }).key;
    const before = {
      tooLarge: await metric(1, "tally_p2p_disconnects_total", { reason: "frame_too_large" }),
      badEncoding: await metric(2, "tally_p2p_disconnects_total", { reason: "bad_encoding" }),
    };
    const oversized = await rawDial(harness, address(1), { suite: cluster.suite, key: member() });
    await waitFor(() => oversized.received.length > 0, "node1 accepted the raw member");
    const header = Buffer.alloc(4);
    header.writeUInt32BE(LIMITS.p2pFrameBytesMax + 1);
    oversized.writeRaw(header);
    await oversized.closed;
    assert.equal(await metric(1, "tally_p2p_disconnects_total", { reason: "frame_too_large" }), before.tooLarge + 1);

    const garbage = await rawDial(harness, address(2), { suite: cluster.suite, key: member() });
    await waitFor(() => garbage.received.length > 0, "node2 accepted the raw member");
    const random = seededRandom(7);
    garbage.writeRaw(
      encodeFrame(
        Uint8Array.from({ length: 300 }, () => Math.floor(random() * 256)),
        1024,
      ),
    );
    await garbage.closed;
    assert.equal(await metric(2, "tally_p2p_disconnects_total", { reason: "bad_encoding" }), before.badEncoding + 1);
    await assertLive("after bad frames");
  });

  it("7. a key that is neither validator nor observer is refused at the handshake", LIMIT, async () => {
    const stranger = testKey(cluster.suite, "bad-peers/stranger");
    for (const i of HONEST) {
      const address = node(i).p2pAddress;
      assert.ok(address !== undefined);
      const refusedBefore = await metric(i, "tally_p2p_handshake_failures_total", { reason: "not_member" });
      const raw = await rawDial(harness, address, { suite: cluster.suite, key: stranger });
      raw.sendValue(encodeWire({ type: "status", height: 1_000_000 }));
      await raw.closed;
      assert.equal(raw.received.length, 0, "nothing but the node's hello reached the stranger");
      assert.equal(await metric(i, "tally_p2p_handshake_failures_total", { reason: "not_member" }), refusedBefore + 1);
    }
    await assertLive("after a stranger knocked");
  });

  it("8. a forged vote is refused however many forged votes for its slot came before", LIMIT, async () => {
    // Three members each send node 0 a forged prevote of validator 0 for round 0 of the next height: they wait
    // in its buffer, and are checked in the order they came as soon as node 0 gets there.
    const senders = [await adversary(), await adversary(), await adversary()];
    const { height } = position(0);
    const forged = vote(0, { height: height + 1, round: 0, validator: 0, signature: new Uint8Array(64).fill(5) });
    for (const sender of senders) {
      sender.p2p.send(hexOf(0), forged);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(position(0).height <= height + 1, "node 0 passed the forged votes' height before they arrived: run again");
    await waitFor(() => position(0).height > height + 1, "node 0 decides the forged votes' height", 15_000);
    const refused = senders.filter((s) => s.dropped.has(hexOf(0))).length;
    assert.equal(refused, 3, `forged votes refused: ${refused} of 3 (the rest were taken without a verdict)`);
    await assertLive("after forged votes for one slot");
  });

  it("9. forged votes for a far-ahead round are refused like any bad signature, and do not drag honest nodes there", LIMIT, async () => {
    const adv = await adversary();
    const forged: Array<[Honest, Value[]]> = HONEST.map((i) => {
      const { height, round } = position(i);
      const set = node(i).chain.validatorSet(height);
      // A round whose proposer is validator 3, which will not propose: its propose timeout is capped at 24 h.
      let far = round + 1_000_000;
      while (proposerOf(set, height, far) !== validatorIndex(set, byzKey().publicKey)) far++;
      const garbage = new Uint8Array(64).fill(3);
      return [
        i,
        set.validators.map((_, validator) =>
          encodeWire({ type: "vote", vote: { kind: "prevote", height, round: far, blockHash: null, validator, signature: garbage } }),
        ),
      ];
    });
    const before = await Promise.all(HONEST.map((i) => metric(i, "tally_consensus_invalid_messages_total", { code: "BAD_SIGNATURE" })));
    for (const [i, votes] of forged) for (const v of votes) adv.p2p.send(hexOf(i), v);
    await waitFor(() => HONEST.every((i) => adv.dropped.has(hexOf(i))), "every honest node drops the forger", 5_000).catch(() => undefined);
    const rounds = HONEST.map((i) => position(i).round);
    const after = await Promise.all(HONEST.map((i) => metric(i, "tally_consensus_invalid_messages_total", { code: "BAD_SIGNATURE" })));
    assert.ok(
      rounds.every((r) => r < 1_000),
      `honest nodes were dragged to rounds ${rounds.join(", ")}`,
    );
    assert.deepEqual(
      after.map((n, k) => n - (before[k] as number)),
      [1, 1, 1],
      "each honest node refused a forged vote",
    );
    await assertLive("after forged far-round votes");
  });
});

describe("a member that lies about its height cannot keep a lagging honest node from catching up", () => {
  let cluster: Cluster;
  let liar: P2PNode | null = null;
  const LIAR = 4;

  before(async () => {
    cluster = await startCluster({ validators: 4, observers: 1, start: [0, 1, 2, 3], logLevel: process.env.CLUSTER_LOG });
  });
  after(async () => {
    await liar?.stop();
    await cluster?.close();
  });

  it("block sync turns to another peer when the one claiming the highest height does not deliver", LIMIT, async () => {
    const node = (i: number): TallyNode => {
      const n = cluster.members[i]?.node;
      if (n == null) throw new Error(`node${i} is not running`);
      return n;
    };
    const hex = (i: number) => toHex((cluster.members[i] as { key: KeyPair }).key.publicKey);
    await waitFor(async () => (await heightOf(cluster.url(3))) >= 2, "height 2", 20_000);
    const key = (cluster.members[LIAR] as { key: KeyPair }).key;
    const requests: string[] = [];
    const p2p = new P2PNode({
      chainId: cluster.genesis.doc.chainId,
      suite: cluster.suite,
      key,
      members: p2pMembersOf(cluster).map((m, i) => (i === LIAR ? { publicKey: m.publicKey } : m)),
      tls: await sharedTlsIdentity(),
      logger: silentLogger(),
      registry: new Registry(),
      random: seededRandom(LIAR),
    });
    liar = p2p;
    p2p.onMessage((from, message) => {
      if (from === hex(3) && Array.isArray(message) && message[0] === "getBlocks") requests.push(from);
    });
    await p2p.start();
    await waitFor(() => p2p.peers().includes(hex(3)), "the liar links to node3", 10_000);
    // The liar claims a height far ahead, and never serves a block: node3 asks it.
    p2p.send(hex(3), encodeWire({ type: "status", height: 1_000_000_000 }));
    await waitFor(() => requests.length > 0, "node3 asks the liar for blocks");

    // A partition: node3 loses its links to the other validators while they commit a few blocks (TallyNode does
    // not expose its transport; its member list is what a partition needs).
    const transport = (node(3) as unknown as { p2p: P2PNode }).p2p;
    const all = p2pMembersOf(cluster);
    transport.setMembers(all.filter((_, i) => i === 3 || i === LIAR));
    const cut = await heightOf(cluster.url(3));
    await waitFor(
      async () => (await Promise.all([0, 1, 2].map((i) => heightOf(cluster.url(i))))).every((h) => h >= cut + 4),
      "the others commit 4 more blocks",
      15_000,
    );
    transport.setMembers(all);
    const target = await heightOf(cluster.url(0));
    try {
      await waitFor(async () => (await heightOf(cluster.url(3))) >= target, `node3 catches up to height ${target}`, 15_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}; meanwhile it asked the liar for blocks ${requests.length} times`);
    }
  });
});
