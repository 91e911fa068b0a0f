import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { encode, getSuite, LIMITS, toHex } from "@tally/core";
import { encodeFrame, type P2PLimits } from "../../src/p2p/index.js";
import { Harness, metricValue, p2pKey, rawDial, seededRandom, sleep, sortedKeys, type TestNode, waitFor } from "./helpers.js";

/** Every test ends, pass or fail, well within this (a hang must fail, not stall the run). */
const LIMIT = { timeout: 20_000 };

const suite = getSuite("ed25519");

/**
 * a and b are real nodes linked to each other; the members c0..c3 have no address and are played by
 * raw peers that dial a. Returns a function that checks a <-> b still carries traffic.
 */
async function setup(h: Harness, limits: Partial<P2PLimits> = {}) {
  const [aKey, bKey] = sortedKeys(suite, ["abuse-a", "abuse-b"]);
  assert.ok(aKey !== undefined && bKey !== undefined);
  const a = await h.node({ key: aKey, seed: 1, limits });
  const b = await h.node({ key: bKey, seed: 2 });
  const raws = [0, 1, 2, 3].map((i) => p2pKey(suite, `abuse-c${i}`));
  await h.connectAll(
    [a, b],
    raws.map((k) => ({ publicKey: k.publicKey })),
  );
  let n = 0;
  const linkWorks = async () => {
    const tag = `probe-${n++}`;
    a.node.send(b.hex, tag);
    b.node.send(a.hex, tag);
    await waitFor(() => a.received.some((r) => r.message === tag) && b.received.some((r) => r.message === tag), `a <-> b (${tag})`, 2_000);
  };
  return { a, b, raws, linkWorks };
}

async function connectRaw(h: Harness, a: TestNode, key: ReturnType<typeof p2pKey>) {
  const raw = await rawDial(h, a.address(), { suite, key });
  await waitFor(() => a.node.peers().length === 2, "raw member accepted");
  return raw;
}

const disconnects = (t: TestNode, reason: string) => metricValue(t.node.metrics.disconnects, { reason });

describe("p2p abuse by an authenticated member", () => {
  let h = new Harness(suite);
  afterEach(async () => {
    await h.close();
    h = new Harness(suite);
  });

  it("an oversized length prefix, random bytes and a malformed CBOR frame each disconnect the sender only", LIMIT, async () => {
    const { a, b, raws, linkWorks } = await setup(h);
    const [c0, c1, c2] = raws;
    assert.ok(c0 !== undefined && c1 !== undefined && c2 !== undefined);

    // 1. A length prefix one above the limit: refused from the 4 bytes alone.
    const oversized = await connectRaw(h, a, c0);
    oversized.sendValue("fine");
    await waitFor(() => a.received.some((r) => r.message === "fine"), "a normal message first");
    const header = Buffer.alloc(4);
    header.writeUInt32BE(LIMITS.p2pFrameBytesMax + 1);
    oversized.writeRaw(header);
    await oversized.closed;
    assert.equal(await disconnects(a, "frame_too_large"), 1);
    assert.deepEqual(a.node.peers(), [b.hex]);
    await linkWorks();

    // The offender is banned for a while (spec/p2p.md §bans): its next connection is refused.
    const again = await rawDial(h, a.address(), { suite, key: c0 });
    await again.closed;
    assert.equal(await metricValue(a.node.metrics.handshakeFailures, { reason: "banned" }), 1);

    // 2. Random bytes in a well-formed frame.
    const random = seededRandom(42);
    const noise = Buffer.from(Array.from({ length: 200 }, () => Math.floor(random() * 256)));
    const garbage = await connectRaw(h, a, c1);
    garbage.writeRaw(encodeFrame(noise, 1024));
    await garbage.closed;
    assert.equal(await disconnects(a, "bad_encoding"), 1);
    await linkWorks();

    // 3. CBOR that decodes but is not canonical: the integer 1 in two bytes.
    const malformed = await connectRaw(h, a, c2);
    malformed.writeRaw(encodeFrame(Uint8Array.of(0x18, 0x01), 1024));
    await malformed.closed;
    assert.equal(await disconnects(a, "bad_encoding"), 2);
    await linkWorks();

    const fromRaws = a.received.filter((r) => r.from !== b.hex).map((r) => r.message);
    assert.deepEqual(fromRaws, ["fine"], "nothing after the bad frames was delivered");
    assert.deepEqual(a.node.peers(), [b.hex]);
    assert.deepEqual(b.node.peers(), [a.hex]);
  });

  it("a flooding member is rate limited and disconnected without delaying the other link", LIMIT, async (t) => {
    const limits = { inboundMsgsPerSecond: 1_000, inboundBurstMsgs: 1_000, floodDropsMax: 150_000 };
    const { a, b, raws } = await setup(h, limits);
    const flooderKey = raws[3] as ReturnType<typeof p2pKey>;
    const flooderHex = toHex(flooderKey.publicKey);
    const flooder = await connectRaw(h, a, flooderKey);

    // b pings a every 5 ms for the whole flood; a records how late each ping arrives.
    const latencies: number[] = [];
    a.node.onMessage((from, message) => {
      if (from === b.hex && typeof message === "object" && message !== null && "sentAt" in message) {
        latencies.push(performance.now() - (message.sentAt as number));
      }
    });
    let pings = 0;
    const pinger = setInterval(() => {
      b.node.send(a.hex, { sentAt: Math.round(performance.now()), n: pings++ });
    }, 5);

    const batch = Buffer.concat(Array.from({ length: 500 }, () => encodeFrame(encode({ spam: 1 }), 64)));
    const started = performance.now();
    let sent = 0;
    try {
      while (!flooder.isClosed() && performance.now() - started < 5_000) {
        sent += 500;
        if (!flooder.writeRaw(batch)) await new Promise((resolve) => flooder.socket.once("drain", resolve).once("close", resolve));
        else await new Promise((resolve) => setImmediate(resolve));
      }
      await sleep(100);
    } finally {
      clearInterval(pinger);
    }
    const tookMs = performance.now() - started;
    assert.ok(flooder.isClosed(), "the flooder was disconnected");
    assert.equal(await disconnects(a, "flood"), 1);
    const dropped = await metricValue(a.node.metrics.drops, { reason: "rate_limited" });
    assert.ok(dropped > limits.floodDropsMax, `dropped ${dropped}`);
    const fromFlooder = a.received.filter((r) => r.from === flooderHex).length;
    assert.ok(
      fromFlooder <= limits.inboundBurstMsgs + (tookMs / 1000) * limits.inboundMsgsPerSecond + 10,
      `accepted ${fromFlooder} in ${tookMs} ms`,
    );
    assert.ok(sent > fromFlooder + dropped / 2, "the flood was real");

    await waitFor(() => latencies.length >= pings - 1, "every ping delivered", 2_000);
    const worst = Math.max(...latencies);
    t.diagnostic(
      `flood: ${sent} frames sent in ${tookMs.toFixed(0)} ms, ${fromFlooder} accepted, ${dropped} dropped; ${latencies.length} pings, worst ${worst.toFixed(1)} ms`,
    );
    assert.ok(latencies.length > 10, `pings: ${latencies.length}`);
    assert.ok(worst < 250, `worst ping latency during the flood: ${worst.toFixed(1)} ms`);
    assert.deepEqual(a.node.peers(), [b.hex]);
  });

  it("a member that stops reading fills its own send queue (oldest dropped, counted) without slowing the others", LIMIT, async () => {
    const limits = { sendQueueMsgsMax: 50, sendQueueBytesMax: 64 * 1024, frameBytesMax: 16 * 1024 };
    const { a, b, raws, linkWorks } = await setup(h, limits);
    const c = raws[0] as ReturnType<typeof p2pKey>;
    const slow = await connectRaw(h, a, c);
    slow.socket.pause();
    const cHex = toHex(c.publicKey);

    // Sends within one turn of the event loop stay queued until the flush: 1000 sends, 50 kept.
    for (let i = 0; i < 1_000; i++) assert.equal(a.node.send(cHex, { i }), true);
    assert.equal(a.node.queuedMessages(cHex), 50);
    assert.equal(await metricValue(a.node.metrics.drops, { reason: "queue_full" }), 950);

    // Keep pushing large messages at the slow member while a and b exchange traffic.
    const big = new Uint8Array(12 * 1024);
    const started = performance.now();
    let rounds = 0;
    while (performance.now() - started < 1_000) {
      for (let i = 0; i < 20; i++) a.node.send(cHex, { big, i });
      if (rounds++ % 10 === 0) await linkWorks();
      await sleep(5);
      assert.ok(a.node.queuedMessages(cHex) <= 50);
    }
    const queueFull = await metricValue(a.node.metrics.drops, { reason: "queue_full" });
    assert.ok(queueFull > 950, `more drops once the socket buffers filled: ${queueFull}`);
    assert.deepEqual(b.node.peers(), [a.hex]);
    assert.equal(slow.received.length, 0);

    // The slow member receives the newest messages once it reads again (the policy drops the oldest).
    slow.socket.resume();
    a.node.send(cHex, "latest");
    await waitFor(() => slow.received.includes("latest"), "slow member catches up", 3_000);
  });

  it("a member whose socket makes no write progress is disconnected after the stall limit", LIMIT, async () => {
    const { a, b, raws, linkWorks } = await setup(h, { writeStallMs: 400, sendQueueMsgsMax: 64 });
    const c = raws[1] as ReturnType<typeof p2pKey>;
    const stalled = await connectRaw(h, a, c);
    stalled.socket.pause();
    const cHex = toHex(c.publicKey);
    const big = new Uint8Array(64 * 1024);
    const started = performance.now();
    // (The paused raw socket does not notice the close itself: it reads nothing, not even the reset.)
    while (a.node.peers().includes(cHex) && performance.now() - started < 6_000) {
      for (let i = 0; i < 16; i++) a.node.send(cHex, big);
      await sleep(10);
    }
    assert.equal(await disconnects(a, "write_stall"), 1, "stalled member disconnected");
    const tookMs = performance.now() - started;
    assert.ok(tookMs >= 400 && tookMs < 3_000, `after ${tookMs} ms`);
    stalled.socket.destroy();
    assert.deepEqual(a.node.peers(), [b.hex]);
    await linkWorks();
  });
});
