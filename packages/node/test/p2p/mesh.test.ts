import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { getSuite, isTallyError, TallyError, toHex, type Value } from "@tally/core";
import { Harness, metricValue, rawDial, SUITE_IDS, sleep, sortedKeys, waitFor } from "./helpers.js";

/** Every test ends, pass or fail, well within this (a hang must fail, not stall the run). */
const LIMIT = { timeout: 20_000 };

const PER_PAIR = 300;

for (const suiteId of SUITE_IDS) {
  describe(`p2p mesh (${suiteId})`, () => {
    let h = Harness.forSuite(suiteId);
    afterEach(async () => {
      await h.close();
      h = Harness.forSuite(suiteId);
    });

    it("three members form a full mesh and deliver every message in order", LIMIT, async () => {
      const keys = sortedKeys(getSuite(suiteId), ["a", "b", "c"]);
      const nodes = await Promise.all(keys.map((key, i) => h.node({ key, seed: i + 1 })));
      await h.connectAll(nodes);
      for (const n of nodes) {
        assert.deepEqual(
          n.node.peers(),
          nodes
            .filter((o) => o !== n)
            .map((o) => o.hex)
            .sort(),
        );
        assert.equal(await metricValue(n.node.metrics.peers), 2);
      }
      const peerEvents: string[] = [];
      nodes[0]?.node.onPeer((peer, up) => peerEvents.push(`${peer}:${up}`));

      for (let seq = 0; seq < PER_PAIR; seq++) {
        for (const from of nodes) {
          for (const to of nodes) {
            if (from !== to) assert.equal(from.node.send(to.hex, { seq, from: from.hex.slice(0, 8), pad: new Uint8Array(seq % 50) }), true);
          }
        }
        if (seq % 50 === 0) await sleep(1);
      }
      const broadcastTo = nodes[1]?.node.broadcast({ seq: PER_PAIR, from: "broadcast" });
      assert.equal(broadcastTo, 2);
      await waitFor(() => nodes.every((n) => n.received.length >= 2 * PER_PAIR + (n === nodes[1] ? 0 : 1)), "all messages");

      for (const to of nodes) {
        for (const from of nodes) {
          if (from === to) continue;
          const seqs = to.received.filter((r) => r.from === from.hex).map((r) => (r.message as { seq: number }).seq);
          const expected = Array.from({ length: PER_PAIR + (from === nodes[1] ? 1 : 0) }, (_, i) => i);
          assert.deepEqual(seqs, expected, `${from.hex.slice(0, 8)} -> ${to.hex.slice(0, 8)}`);
        }
        assert.equal(await metricValue(to.node.metrics.messagesIn), to.received.length);
      }
      // A large message (far above the 1 KiB hello limit) passes once the link is authenticated.
      const big = new Uint8Array(2 * 1024 * 1024).map((_, i) => i % 251);
      const [first, , last] = nodes;
      assert.ok(first !== undefined && last !== undefined);
      first.node.send(last.hex, { big });
      const bigOf = (r: { message: unknown }) => (r.message as { big?: Uint8Array }).big;
      await waitFor(() => last.received.some((r) => bigOf(r) !== undefined), "2 MiB message");
      assert.deepEqual(
        last.received.map(bigOf).find((b) => b !== undefined),
        big,
      );

      assert.deepEqual(peerEvents, [], "no link flapped");
      // Two dials that cross (both ends dial a member they have no link to; under CPU load the second
      // dialer's delay may not keep them apart) collapse to one link without it ever going down: the end
      // that refuses counts a "duplicate" disconnect, the other sees its handshake "closed". Nothing else
      // may fail or disconnect.
      let duplicates = 0;
      let closedHandshakes = 0;
      for (const n of nodes) {
        const total = await metricValue(n.node.metrics.disconnects);
        const dup = await metricValue(n.node.metrics.disconnects, { reason: "duplicate" });
        assert.equal(total - dup, 0, "no disconnect other than a refused duplicate dial");
        duplicates += dup;
        const failures = (await n.node.metrics.handshakeFailures.get()).values.filter((v) => v.value > 0);
        for (const f of failures) {
          assert.equal(f.labels.reason, "closed", `handshake failure ${String(f.labels.reason)}`);
          closedHandshakes += f.value;
        }
      }
      assert.ok(closedHandshakes <= duplicates, `${closedHandshakes} closed handshakes, ${duplicates} refused duplicates`);
    });

    it("duplicate connections collapse to one link", LIMIT, async () => {
      const [lowKey, highKey] = sortedKeys(getSuite(suiteId), ["dup-a", "dup-b"]);
      assert.ok(lowKey !== undefined && highKey !== undefined);
      const low = await h.node({ key: lowKey, seed: 1, limits: { dialBackoffBaseMs: 20, dialBackoffMaxMs: 100 } });
      const high = await h.node({ key: highKey, seed: 2, limits: { dialBackoffBaseMs: 20, dialBackoffMaxMs: 100 } });
      // Neither lists its own address, so each dials the other at once, neither giving the other a
      // head start (spec/p2p.md §dialing): two links race.
      low.node.setMembers([{ publicKey: lowKey.publicKey }, { publicKey: highKey.publicKey, address: high.address() }]);
      high.node.setMembers([{ publicKey: lowKey.publicKey, address: low.address() }, { publicKey: highKey.publicKey }]);
      await waitFor(() => low.node.peers().length === 1 && high.node.peers().length === 1, "one link each way");
      await sleep(300);
      assert.deepEqual(low.node.peers(), [high.hex]);
      assert.deepEqual(high.node.peers(), [low.hex]);
      const duplicates =
        (await metricValue(low.node.metrics.disconnects, { reason: "duplicate" })) +
        (await metricValue(high.node.metrics.disconnects, { reason: "duplicate" }));
      assert.ok(duplicates >= 1, `a duplicate was closed (${duplicates})`);

      // The lower key's dial is the link both kept (spec/p2p.md §duplicates): an impostor connection
      // carrying the higher key's identity from the other direction loses to it...
      const impostor = await rawDial(h, low.address(), { suite: getSuite(suiteId), key: highKey });
      await impostor.closed;
      assert.deepEqual(low.node.peers(), [high.hex]);
      // ...while a second link dialed by the same side replaces the old one (presumed dead), after which
      // the real dialer redials and takes over again.
      const before = await metricValue(high.node.metrics.disconnects, { reason: "duplicate" });
      const replacement = await rawDial(h, high.address(), { suite: getSuite(suiteId), key: lowKey });
      await replacement.closed;
      assert.ok((await metricValue(high.node.metrics.disconnects, { reason: "duplicate" })) >= before + 2, "replaced, then replaced back");
      await waitFor(() => low.node.peers().length === 1 && high.node.peers().length === 1, "real link back");

      low.node.send(high.hex, "ping");
      high.node.send(low.hex, "pong");
      await waitFor(() => high.received.some((r) => r.message === "ping") && low.received.some((r) => r.message === "pong"), "traffic");
    });
  });
}

describe("p2p dialing", () => {
  let h = Harness.forSuite("ed25519");
  afterEach(async () => {
    await h.close();
    h = Harness.forSuite("ed25519");
  });

  it("redials a stopped peer with backoff and reconnects once it is back", LIMIT, async () => {
    const [dialerKey, listenerKey] = sortedKeys(getSuite("ed25519"), ["redial-a", "redial-b"]);
    assert.ok(dialerKey !== undefined && listenerKey !== undefined);
    const limits = { dialBackoffBaseMs: 40, dialBackoffMaxMs: 320, linkStableMs: 60_000 };
    const dialer = await h.node({ key: dialerKey, seed: 3, limits });
    let listener = await h.node({ key: listenerKey, seed: 4, limits });
    await h.connectAll([dialer, listener]);
    const port = listener.address().port;
    const events: string[] = [];
    dialer.node.onPeer((peer, up) => events.push(`${peer === listener.hex}:${up}`));

    await listener.node.stop();
    await waitFor(() => dialer.node.peers().length === 0, "link down");
    const failedBefore = await metricValue(dialer.node.metrics.dials, { result: "failed" });
    const downMs = 1_200;
    await sleep(downMs);
    const failed = (await metricValue(dialer.node.metrics.dials, { result: "failed" })) - failedBefore;
    // 40·2^k with jitter in [d/2, d): about 6 attempts in 1.2 s; without backoff it would be hundreds.
    assert.ok(failed >= 3 && failed <= 12, `failed dials while down: ${failed}`);

    listener = await h.node({ key: listenerKey, port, seed: 5, limits });
    listener.node.setMembers([
      { publicKey: dialerKey.publicKey, address: dialer.address() },
      { publicKey: listenerKey.publicKey, address: listener.address() },
    ]);
    const backAt = performance.now();
    await waitFor(() => dialer.node.peers().length === 1, "redialed", 2_000);
    // Whichever comes first: the dialer's next redial (within the 320 ms max backoff) or the listener's
    // own dial (both ends dial; dialing.test.ts checks that a restarted node does not wait for the other).
    assert.ok(performance.now() - backAt < 1_000, "reconnected within the max backoff plus a handshake");
    assert.deepEqual(events, ["true:false", "true:true"]);
    dialer.node.send(listener.hex, { hello: "again" });
    await waitFor(() => listener.received.length === 1, "message over the new link");
  });

  it("a handler that throws is logged and counted; the link and later handlers carry on", LIMIT, async () => {
    const [aKey, bKey] = sortedKeys(getSuite("ed25519"), ["handler-a", "handler-b"]);
    assert.ok(aKey !== undefined && bKey !== undefined);
    const a = await h.node({ key: aKey });
    const b = await h.node({ key: bKey });
    await h.connectAll([a, b]);
    const seen: Value[] = [];
    b.node.onMessage((_from, message) => {
      if (message === "boom") throw new TallyError("BAD_REQUEST", "handler refuses");
    });
    b.node.onMessage((_from, message) => seen.push(message));
    a.node.send(b.hex, "boom");
    a.node.send(b.hex, "after");
    await waitFor(() => seen.includes("after"), "later message");
    assert.deepEqual(seen, ["boom", "after"], "other handlers still get every message");
    assert.equal(await metricValue(b.node.metrics.drops, { reason: "handler_error" }), 1);
    assert.deepEqual(b.node.peers(), [a.hex]);
  });

  it("a linked member removed from the set is reported down and leaves the peer count", LIMIT, async () => {
    const keys = sortedKeys(getSuite("ed25519"), ["rm-a", "rm-b", "rm-c"]);
    const nodes = await Promise.all(keys.map((key, i) => h.node({ key, seed: i + 1 })));
    await h.connectAll(nodes);
    const [a, b, c] = nodes;
    assert.ok(a !== undefined && b !== undefined && c !== undefined);
    const events: string[] = [];
    a.node.onPeer((peer, up) => events.push(`${peer}:${up}`));
    a.node.setMembers([a, b].map((n) => ({ publicKey: n.key.publicKey, address: n.address() })));
    assert.deepEqual(events, [`${c.hex}:false`]);
    assert.deepEqual(a.node.peers(), [b.hex]);
    assert.equal(await metricValue(a.node.metrics.peers), 1);
    assert.throws(
      () => a.node.send(c.hex, 1),
      (err) => isTallyError(err) && err.code === "NOT_FOUND",
    );
  });

  it("send refuses unknown keys and after stop; counts sends to members without a link", LIMIT, async () => {
    const [aKey, bKey] = sortedKeys(getSuite("ed25519"), ["send-a", "send-b"]);
    assert.ok(aKey !== undefined && bKey !== undefined);
    const a = await h.node({ key: aKey });
    a.node.setMembers([{ publicKey: aKey.publicKey }, { publicKey: bKey.publicKey }]);
    assert.equal(a.node.send(toHex(bKey.publicKey), 1), false);
    assert.equal(await metricValue(a.node.metrics.drops, { reason: "not_connected" }), 1);
    assert.throws(
      () => a.node.send("00".repeat(32), 1),
      (err) => isTallyError(err) && err.code === "NOT_FOUND",
    );
    assert.throws(
      () => a.node.broadcast(1.5 as Value),
      (err) => isTallyError(err) && err.code === "BAD_ENCODING",
    );
    await a.node.stop();
    assert.throws(
      () => a.node.broadcast(1),
      (err) => isTallyError(err) && err.code === "NODE_STOPPING",
    );
  });
});
