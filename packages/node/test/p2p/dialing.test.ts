/**
 * Who dials whom (spec/p2p.md §dialing, §duplicates): both ends of a pair dial a member they have no
 * link to, so a restarted member does not wait for its peers' grown backoff; and when both dial at
 * once the pair still ends with one link, the same one on both ends, and no churn.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { getSuite } from "@tally/core";
import type { P2PMember } from "../../src/p2p/index.js";
import { dialsInFlight, Harness, linkOf, metricValue, sleep, sortedKeys, type TestNode, waitFor } from "./helpers.js";

/** Every test ends, pass or fail, well within this (a hang must fail, not stall the run). */
const LIMIT = { timeout: 20_000 };

const suite = getSuite("ed25519");

function membersOf(nodes: readonly TestNode[]): P2PMember[] {
  return nodes.map((n) => ({ publicKey: n.key.publicKey, address: n.address() }));
}

const fullMesh = (nodes: readonly TestNode[]) => nodes.every((n) => n.node.peers().length === nodes.length - 1);

/**
 * Every pair holds exactly one link, and it is the same TCP connection seen from its two ends; with
 * `lowerDialed`, it is the one the lower key dialed (`nodes` sorted by key).
 */
function assertOneSharedLinkPerPair(nodes: readonly TestNode[], lowerDialed = false): void {
  for (const a of nodes) {
    assert.deepEqual(
      a.node.peers(),
      nodes
        .filter((o) => o !== a)
        .map((o) => o.hex)
        .sort(),
    );
    for (const b of nodes) {
      if (a === b) continue;
      const ab = linkOf(a, b.hex);
      const ba = linkOf(b, a.hex);
      assert.ok(ab !== null && ba !== null, "a link at both ends");
      assert.notEqual(ab.outbound, ba.outbound, "one end dialed, the other accepted");
      assert.equal(ab.localPort, ba.remotePort, "both ends hold the same connection");
      assert.equal(ab.remotePort, ba.localPort, "both ends hold the same connection");
      if (lowerDialed) assert.equal(ab.outbound, nodes.indexOf(a) < nodes.indexOf(b), "the lower key's dial won");
    }
  }
}

/** Everything that would move if links were being dropped and redialed. */
async function churnCounters(nodes: readonly TestNode[]): Promise<number[]> {
  const out: number[] = [];
  for (const n of nodes) {
    out.push(await metricValue(n.node.metrics.disconnects));
    out.push(await metricValue(n.node.metrics.dials));
    out.push(await metricValue(n.node.metrics.handshakeFailures));
  }
  return out;
}

describe("p2p dialing from both ends", () => {
  let h = new Harness(suite);
  afterEach(async () => {
    await h.close();
    h = new Harness(suite);
  });

  // Restarting the highest key is the case the old single-dialer rule got wrong: the restarted member
  // dialed none of its peers and waited for their backoff. A middle key has both kinds of peers.
  for (const restartedIndex of [3, 1]) {
    it(
      `a restarted member (key ${restartedIndex} of 0..3) links to every peer within 1 s, however far their backoff grew`,
      LIMIT,
      async (t) => {
        const keys = sortedKeys(suite, ["restart-a", "restart-b", "restart-c", "restart-d"]);
        // The restarted member runs with the default limits. Its peers run with base = max/2, which
        // brings their backoff to its cap quickly and predictably: one failed redial, and the next delay
        // is drawn from [max/2, max) = [2.5 s, 5 s). The lower peers' first redials fall within
        // [base/2, base) of the stop, at most 1.25 s apart, so once each has failed, each one's next
        // redial is at least 1.25 s away: a restarted member that waited for them to dial could not be
        // linked to all within 1 s. Dialing them itself, it is linked within its head start (< 250 ms).
        const peerLimits = { dialBackoffBaseMs: 2_500, dialBackoffMaxMs: 5_000 };
        const nodes = await Promise.all(
          keys.map((key, i) => h.node({ key, seed: i + 1, ...(i === restartedIndex ? {} : { limits: peerLimits }) })),
        );
        await h.connectAll(nodes);
        const members = membersOf(nodes);
        const restarted = nodes[restartedIndex];
        assert.ok(restarted !== undefined);
        const peers = nodes.filter((n) => n !== restarted);
        const port = restarted.address().port;

        await restarted.node.stop();
        await waitFor(() => peers.every((p) => p.node.peers().length === 2), "the peers see it down");
        // The lower keys redial it without a head start (and did so under the old rule too).
        const lower = nodes.slice(0, restartedIndex);
        const failedRedials = () => Promise.all(lower.map((p) => metricValue(p.node.metrics.dials, { result: "failed" })));
        await waitFor(async () => (await failedRedials()).every((f) => f >= 1), "every lower peer failed to redial it", 5_000);

        const restartAt = performance.now();
        const back = await h.node({ key: restarted.key, port, seed: 10 + restartedIndex }, members);
        await waitFor(
          () => back.node.peers().length === peers.length && peers.every((p) => p.node.peers().includes(back.hex)),
          "the restarted member linked to all its peers",
          3_000,
        );
        const tookMs = performance.now() - restartAt;
        t.diagnostic(`linked to all peers ${Math.round(tookMs)} ms after the restart`);
        assert.ok(tookMs < 1_000, `linked to all ${peers.length} peers ${Math.round(tookMs)} ms after the restart`);

        const all = [...peers, back];
        assertOneSharedLinkPerPair(all);
        for (const p of peers) {
          back.node.send(p.hex, "back");
          p.node.send(back.hex, "welcome");
        }
        await waitFor(
          () =>
            peers.every((p) => p.received.some((r) => r.message === "back")) &&
            back.received.filter((r) => r.message === "welcome").length === 3,
          "traffic both ways over the new links",
        );
      },
    );
  }

  it("members that all dial each other at once end with one shared link per pair and then stay quiet", LIMIT, async (t) => {
    const keys = sortedKeys(suite, ["mutual-a", "mutual-b", "mutual-c", "mutual-d", "mutual-e"]);
    // A 2 ms base shrinks the higher key's head start to ~1 ms, less than a handshake: both ends of
    // every pair dial at the same time. It also makes churn loud: a member that kept losing its link
    // would redial within milliseconds, and every such dial would show in the counters.
    const limits = { dialBackoffBaseMs: 2, dialBackoffMaxMs: 50 };
    const nodes = await Promise.all(keys.map((key, i) => h.node({ key, seed: 20 + i, limits })));
    const events: string[] = [];
    for (const n of nodes) n.node.onPeer((peer, up) => events.push(`${n.hex.slice(0, 6)}-${peer.slice(0, 6)}:${up}`));
    const members = membersOf(nodes);

    for (let round = 0; round < 3; round++) {
      // All in one turn of the event loop: every node learns every other at the same moment. From the
      // second round on, every link was just dropped by both ends at once ("removed"), and both redial.
      for (const n of nodes) n.node.setMembers(members);
      await waitFor(() => fullMesh(nodes), `full mesh (round ${round})`);
      // Let the losing handshakes finish (refused as duplicates) and the redials they scheduled be
      // cancelled; from then on nothing may move any more.
      await waitFor(() => nodes.every((n) => dialsInFlight(n) === 0), `no dial in flight or scheduled (round ${round})`);
      // The lower key dials without a head start, so its dial was made in every pair, and it is the one
      // both ends keep (spec/p2p.md §duplicates).
      assertOneSharedLinkPerPair(nodes, true);
      const counters = await churnCounters(nodes);
      const eventCount = events.length;
      await sleep(2_000);
      assert.deepEqual(await churnCounters(nodes), counters, `no dial, disconnect or refusal once settled (round ${round})`);
      assert.deepEqual(events.slice(eventCount), [], `no peer went down or up once settled (round ${round})`);
      assertOneSharedLinkPerPair(nodes, true);

      for (const a of nodes) for (const b of nodes) if (a !== b) a.node.send(b.hex, { round, from: a.hex });
      await waitFor(
        () => nodes.every((n) => n.received.filter((r) => (r.message as { round?: number }).round === round).length === nodes.length - 1),
        `traffic on every link (round ${round})`,
      );

      for (const n of nodes) n.node.setMembers([{ publicKey: n.key.publicKey, address: n.address() }]);
      await waitFor(() => nodes.every((n) => n.node.peers().length === 0), `links dropped (round ${round})`);
    }
    let duplicates = 0;
    for (const n of nodes) duplicates += await metricValue(n.node.metrics.disconnects, { reason: "duplicate" });
    t.diagnostic(
      `duplicates closed: ${duplicates}; peer events: ${events.length} (without any flap: ${3 * nodes.length * (nodes.length - 1)})`,
    );
    // The test is only worth something if both ends really did dial: the losers were closed as duplicates.
    assert.ok(duplicates >= 1, `duplicate links closed: ${duplicates}`);
  });
});
