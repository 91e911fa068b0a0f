/**
 * Weighted proposer selection (spec/consensus.md §proposer): CometBFT's proposer-priority rule.
 *
 * Priorities start at 0 for every validator. One selection step adds each validator's power to its
 * priority, picks the highest priority (lowest index on ties) and subtracts the total power from the
 * winner. The proposer of (height h, round r) is the winner of step number h - 1 + r (0-based) of this
 * sequence: rounds of a height continue the sequence where the height starts, as in CometBFT.
 *
 * The sequence is periodic: after P = totalPower / gcd(powers) steps every priority is back to 0 and
 * validator i has won exactly power_i / gcd times. That is why selection is a pure function of
 * (validator set, height, round) that costs at most min(h - 1 + r, P) steps.
 */
import { assert, type ValidatorSet } from "@tally/core";

/** Priorities stay within ±2 × totalPower; this keeps every intermediate a safe integer. */
export const PROPOSER_TOTAL_POWER_MAX = 2 ** 50;

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) {
    const t = x % y;
    x = y;
    y = t;
  }
  return x;
}

export function powersOf(set: ValidatorSet): number[] {
  const powers = set.validators.map((v) => v.power);
  let total = 0;
  for (const p of powers) {
    assert(Number.isSafeInteger(p) && p > 0, "validator power must be a positive integer");
    total += p;
  }
  assert(total === set.totalPower, "validator set total power does not match its validators");
  assert(total <= PROPOSER_TOTAL_POWER_MAX, "total voting power exceeds PROPOSER_TOTAL_POWER_MAX");
  return powers;
}

/** Steps after which the priorities return to all zeros. */
export function proposerPeriod(powers: readonly number[]): number {
  let g = 0;
  let total = 0;
  for (const p of powers) {
    g = gcd(g, p);
    total += p;
  }
  return total / g;
}

/** One selection step, in place: returns the winner's index. */
export function selectionStep(powers: readonly number[], total: number, priorities: number[]): number {
  let best = 0;
  for (let i = 0; i < powers.length; i++) {
    const p = (priorities[i] as number) + (powers[i] as number);
    priorities[i] = p;
    // Strictly greater: on a tie the lower index, already in `best`, wins.
    if (p > (priorities[best] as number)) best = i;
  }
  priorities[best] = (priorities[best] as number) - total;
  return best;
}

/** Priorities after `steps` selection steps from all zeros (reduced modulo the period). */
export function prioritiesAfter(powers: readonly number[], steps: number): number[] {
  assert(Number.isSafeInteger(steps) && steps >= 0, "selection steps must be a non-negative integer");
  const total = powers.reduce((a, b) => a + b, 0);
  const priorities = powers.map(() => 0);
  const n = steps % proposerPeriod(powers);
  for (let s = 0; s < n; s++) selectionStep(powers, total, priorities);
  return priorities;
}

/** proposer(h, r): the validator index that proposes in round `round` of height `height` (h ≥ 1). */
export function proposerOf(set: ValidatorSet, height: number, round: number): number {
  assert(Number.isSafeInteger(height) && height >= 1, "height must be a positive integer");
  assert(Number.isSafeInteger(round) && round >= 0, "round must be a non-negative integer");
  const powers = powersOf(set);
  const priorities = prioritiesAfter(powers, (((height - 1) % proposerPeriod(powers)) + round) % proposerPeriod(powers));
  return selectionStep(powers, set.totalPower, priorities);
}

/**
 * The proposers of one height, computed incrementally: priorities at the height's start plus a memo
 * of the winners of rounds 0..k. Immutable from the outside: `proposer(r)` only fills the memo, whose
 * contents are a function of (set, height), so sharing one schedule between states is safe.
 */
export class ProposerSchedule {
  readonly height: number;
  readonly setHash: Uint8Array;
  private readonly powers: readonly number[];
  private readonly total: number;
  private readonly period: number;
  /** Priorities at the start of the height (after height - 1 steps). */
  private readonly start: readonly number[];
  /** Priorities after the memoised rounds. */
  private readonly cursor: number[];
  private readonly memo: number[] = [];

  private constructor(set: ValidatorSet, height: number, start: readonly number[]) {
    this.height = height;
    this.setHash = set.hash;
    this.powers = powersOf(set);
    this.total = set.totalPower;
    this.period = proposerPeriod(this.powers);
    this.start = start;
    this.cursor = [...start];
  }

  static forHeight(set: ValidatorSet, height: number): ProposerSchedule {
    assert(Number.isSafeInteger(height) && height >= 1, "height must be a positive integer");
    return new ProposerSchedule(set, height, prioritiesAfter(powersOf(set), height - 1));
  }

  /** The schedule of height + 1 for the same set: one step on from this height's start. */
  next(set: ValidatorSet): ProposerSchedule {
    const start = [...this.start];
    selectionStep(this.powers, this.total, start);
    return new ProposerSchedule(set, this.height + 1, start);
  }

  /** Memoised rounds stay below this; a higher round is computed from the start without memo. */
  private static readonly memoRoundsMax = 1024;

  proposer(round: number): number {
    assert(Number.isSafeInteger(round) && round >= 0, "round must be a non-negative integer");
    const known = this.memo[round];
    if (known !== undefined) return known;
    if (round >= ProposerSchedule.memoRoundsMax) {
      const priorities = [...this.start];
      const steps = round % this.period;
      for (let s = 0; s < steps; s++) selectionStep(this.powers, this.total, priorities);
      return selectionStep(this.powers, this.total, priorities);
    }
    while (this.memo.length <= round) this.memo.push(selectionStep(this.powers, this.total, this.cursor));
    return this.memo[round] as number;
  }
}
