import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backoffDelayMs, TokenBucket } from "../../src/p2p/index.js";
import { seededRandom } from "./helpers.js";

describe("p2p backoff", () => {
  it("doubles from the base, jitters within [d/2, d) and never exceeds the max", () => {
    assert.equal(
      backoffDelayMs(0, 100, 10_000, () => 0),
      50,
    );
    assert.equal(
      backoffDelayMs(1, 100, 10_000, () => 0),
      100,
    );
    assert.equal(
      backoffDelayMs(3, 100, 10_000, () => 0),
      400,
    );
    assert.equal(
      backoffDelayMs(3, 100, 10_000, () => 0.5),
      600,
    );
    assert.equal(
      backoffDelayMs(3, 100, 10_000, () => 0.999999),
      799,
    );
    assert.equal(
      backoffDelayMs(50, 100, 10_000, () => 0),
      5_000,
    );
    assert.equal(
      backoffDelayMs(1_000, 100, 10_000, () => 0.999999),
      9_999,
    );
    // A misbehaving source cannot push the delay out of range.
    assert.equal(
      backoffDelayMs(2, 100, 10_000, () => 7),
      200,
    );
    assert.equal(
      backoffDelayMs(2, 100, 10_000, () => Number.NaN),
      200,
    );
  });

  it("draws its jitter only from the injected source: one seed, one schedule", () => {
    const schedule = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 12 }, (_, i) => backoffDelayMs(i, 250, 30_000, random));
    };
    assert.deepEqual(schedule(7), schedule(7));
    assert.notDeepEqual(schedule(7), schedule(8));
    for (const [i, d] of schedule(9).entries()) {
      const ceiling = Math.min(30_000, 250 * 2 ** i);
      assert.ok(d >= ceiling / 2 && d < ceiling, `attempt ${i}: ${d}`);
    }
  });
});

describe("p2p token bucket", () => {
  it("allows a burst, then the sustained rate", () => {
    const bucket = new TokenBucket(100, 10, 0);
    let taken = 0;
    for (let i = 0; i < 50; i++) if (bucket.take(0)) taken++;
    assert.equal(taken, 10, "burst");
    assert.equal(bucket.take(5), false, "half a token after 5 ms");
    assert.equal(bucket.take(10), true, "one token after 10 ms");
    taken = 0;
    for (let i = 0; i < 50; i++) if (bucket.take(1_000_000)) taken++;
    assert.equal(taken, 10, "refill is capped at the burst");
  });

  it("ignores a clock that goes backwards", () => {
    const bucket = new TokenBucket(1000, 1, 100);
    assert.equal(bucket.take(100), true);
    assert.equal(bucket.take(50), false);
    assert.equal(bucket.take(101), true);
  });
});
