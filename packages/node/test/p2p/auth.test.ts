import assert from "node:assert/strict";
import { once } from "node:events";
import { afterEach, describe, it } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { encode, getSuite, type SuiteId } from "@tally/core";
import { encodeFrame } from "../../src/p2p/index.js";
import {
  Harness,
  metricValue,
  p2pKey,
  rawDial,
  SUITE_IDS,
  sharedTlsIdentity,
  sleep,
  sortedKeys,
  startRelay,
  startSilentServer,
  type TestNode,
  tcpDial,
  waitFor,
} from "./helpers.js";

/** Every test ends, pass or fail, well within this (a hang must fail, not stall the run). */
const LIMIT = { timeout: 20_000 };

/** Two connected members a, b (a is the lower key) whose handshake counters are checked by each test. */
async function pair(h: Harness, suiteId: SuiteId, limits = {}) {
  const [aKey, bKey] = sortedKeys(getSuite(suiteId), ["auth-a", "auth-b"]);
  assert.ok(aKey !== undefined && bKey !== undefined);
  const a = await h.node({ key: aKey, seed: 1, limits });
  const b = await h.node({ key: bKey, seed: 2, limits });
  await h.connectAll([a, b]);
  return { a, b };
}

function refusals(t: TestNode, reason: string): Promise<number> {
  return metricValue(t.node.metrics.handshakeFailures, { reason });
}

for (const suiteId of SUITE_IDS) {
  describe(`p2p authentication (${suiteId})`, () => {
    const suite = getSuite(suiteId);
    let h = new Harness(suite);
    afterEach(async () => {
      await h.close();
      h = new Harness(suite);
    });

    it("refuses a non-member with valid TLS before processing anything it sent", LIMIT, async () => {
      const { a, b } = await pair(h, suiteId);
      // A real node whose own member list includes a: it dials a and is refused.
      const outsiderKey = p2pKey(suite, "outsider");
      const outsider = await h.node({ key: outsiderKey, seed: 9, listen: false });
      outsider.node.setMembers([{ publicKey: outsiderKey.publicKey }, { publicKey: a.key.publicKey, address: a.address() }]);
      await waitFor(async () => (await refusals(a, "not_member")) === 1, "outsider node refused");
      // A raw one that pipelines a message right behind its hello.
      const raw = await rawDial(h, a.address(), {
        suite,
        key: p2pKey(suite, "outsider-raw"),
        afterHello: encodeFrame(encode({ smuggled: true }), 1024),
      });
      await raw.closed;
      await waitFor(() => a.node.peers().length === 1, "a keeps only b");
      await sleep(100);
      assert.deepEqual(a.node.peers(), [b.hex]);
      assert.ok((await refusals(a, "not_member")) >= 2, "both outsiders counted as not_member");
      assert.equal(a.received.length, 0, "the smuggled message was never delivered");
    });

    it("refuses a peer whose hello signs another session's exported keying material (relayed MITM)", LIMIT, async () => {
      const [aKey, bKey] = sortedKeys(suite, ["mitm-a", "mitm-b"]);
      assert.ok(aKey !== undefined && bKey !== undefined);
      const b = await h.node({ key: bKey, seed: 2 });
      const relay = await startRelay(h, b.address());
      // a has no address of its own, so it dials b, which it believes lives at the relay's address.
      const a = await h.node({ key: aKey, seed: 1, limits: { dialBackoffBaseMs: 1_000, dialBackoffMaxMs: 2_000 } });
      b.node.setMembers([{ publicKey: aKey.publicKey }, { publicKey: bKey.publicKey, address: b.address() }]);
      a.node.setMembers([{ publicKey: aKey.publicKey }, { publicKey: bKey.publicKey, address: relay }]);
      await waitFor(async () => (await refusals(b, "bad_signature")) >= 1, "b refuses a's relayed hello");
      await sleep(100);
      assert.deepEqual(a.node.peers(), []);
      assert.deepEqual(b.node.peers(), []);
      // Sanity: the same two nodes connect when nothing is in between (so the refusal was the relay's doing).
      a.node.setMembers([{ publicKey: aKey.publicKey }, { publicKey: bKey.publicKey, address: b.address() }]);
      await waitFor(() => a.node.peers().length === 1 && b.node.peers().length === 1, "direct link", 4_000);
    });

    it("refuses a member that signs a wrong exporter value, the wrong role, or another chain", LIMIT, async () => {
      const { a, b } = await pair(h, suiteId);
      const c = p2pKey(suite, "auth-c");
      a.node.setMembers([
        { publicKey: a.key.publicKey, address: a.address() },
        { publicKey: b.key.publicKey, address: b.address() },
        { publicKey: c.publicKey },
      ]);
      const wrongEkm = await rawDial(h, a.address(), { suite, key: c, ekm: new Uint8Array(32).fill(1) });
      const wrongRole = await rawDial(h, a.address(), { suite, key: c, role: "listener" });
      const wrongChain = await rawDial(h, a.address(), { suite, key: c, chainId: "other-chain" });
      await Promise.all([wrongEkm.closed, wrongRole.closed, wrongChain.closed]);
      assert.equal(await refusals(a, "bad_signature"), 2);
      assert.equal(await refusals(a, "wrong_chain"), 1);
      assert.deepEqual(a.node.peers(), [b.hex]);
      // And the same member with a correct hello is accepted.
      const good = await rawDial(h, a.address(), { suite, key: c });
      await waitFor(() => a.node.peers().length === 2, "c accepted");
      assert.equal(good.isClosed(), false);
    });

    it("refuses a peer that claims this node's own key", LIMIT, async () => {
      const { a, b } = await pair(h, suiteId);
      const raw = await rawDial(h, a.address(), { suite, key: a.key });
      await raw.closed;
      assert.equal(await refusals(a, "self"), 1);
      assert.deepEqual(a.node.peers(), [b.hex]);
    });
  });
}

describe("p2p handshake hygiene", () => {
  let h = Harness.forSuite("ed25519");
  afterEach(async () => {
    await h.close();
    h = Harness.forSuite("ed25519");
  });

  it("closes a connection that sends no hello within the handshake timeout", LIMIT, async () => {
    const { a, b } = await pair(h, "ed25519", { handshakeTimeoutMs: 300 });
    const started = performance.now();
    const raw = await rawDial(h, a.address(), { suite: h.suite, key: b.key, silent: true });
    await raw.closed;
    const took = performance.now() - started;
    assert.ok(took >= 250 && took < 2_000, `closed after ${took} ms`);
    assert.equal(await refusals(a, "timeout"), 1);
    assert.deepEqual(a.node.peers(), [b.hex]);
  });

  it("gives up on a dial that never completes its handshake", LIMIT, async () => {
    const [aKey, bKey] = sortedKeys(h.suite, ["hang-a", "hang-b"]);
    assert.ok(aKey !== undefined && bKey !== undefined);
    const silent = await startSilentServer(h);
    const a = await h.node({ key: aKey, limits: { handshakeTimeoutMs: 200, dialBackoffBaseMs: 5_000, dialBackoffMaxMs: 5_000 } });
    a.node.setMembers([{ publicKey: aKey.publicKey }, { publicKey: bKey.publicKey, address: silent }]);
    await waitFor(async () => (await refusals(a, "timeout")) === 1, "dial timed out", 2_000);
    assert.equal(await metricValue(a.node.metrics.dials, { result: "failed" }), 1);
  });

  it("refuses garbage before TLS, an oversized or malformed hello, and a non-p2p TLS client", LIMIT, async () => {
    const { a, b } = await pair(h, "ed25519");
    const tcp = await tcpDial(h, a.address());
    tcp.write(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await once(tcp, "close");
    assert.equal(await refusals(a, "tls"), 1);

    const big = await rawDial(h, a.address(), { suite: h.suite, key: b.key, silent: true });
    big.writeRaw(Buffer.from([0, 0, 4, 1])); // 1025 bytes: above the hello limit
    await big.closed;
    const garbage = await rawDial(h, a.address(), { suite: h.suite, key: b.key, silent: true });
    garbage.writeRaw(encodeFrame(Buffer.from("not cbor at all"), 1024));
    await garbage.closed;
    assert.equal(await refusals(a, "bad_hello"), 2);

    const identity = await sharedTlsIdentity();
    for (const ALPNProtocols of [["http/1.1"], undefined]) {
      const tls = h.track(
        tlsConnect({ ...a.address(), key: identity.keyPem, cert: identity.certPem, rejectUnauthorized: false, ALPNProtocols }),
      );
      await new Promise((resolve) => tls.on("error", () => {}).on("close", resolve));
    }
    assert.equal(await refusals(a, "tls"), 3);
    assert.deepEqual(a.node.peers(), [b.hex]);
  });
});
