/** Redial delays and inbound rate limiting (spec/p2p.md §dialing, §rate-limit). Time and randomness are injected. */

/** A source of uniform numbers in [0, 1): injected so that simulations replay from a seed. */
export type RandomSource = () => number;

/**
 * Delay before redial number `failures` (0 for the first): base * 2^failures capped at max, then
 * "equal jitter": uniformly in [d/2, d). Never below base/2, never at or above max.
 */
export function backoffDelayMs(failures: number, baseMs: number, maxMs: number, random: RandomSource): number {
  const exp = Math.min(failures, 30);
  const ceiling = Math.min(maxMs, baseMs * 2 ** exp);
  const r = random();
  const u = r >= 0 && r < 1 ? r : 0;
  return Math.floor(ceiling / 2 + (ceiling / 2) * u);
}

/** Classic token bucket, refilled lazily from the caller's clock (milliseconds). */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.ratePerSecond) / 1000);
      this.lastMs = nowMs;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
