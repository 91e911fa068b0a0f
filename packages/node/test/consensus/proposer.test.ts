/** Weighted proposer selection (spec/consensus.md §proposer). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ProposerSchedule, prioritiesAfter, proposerOf, proposerPeriod, selectionStep } from "../../src/consensus/proposer.js";
import { validatorSet } from "./fixtures.js";

/** The rule written out naively, from zero priorities, without any period reduction. */
function naive(powers: readonly number[], steps: number): number {
  const total = powers.reduce((a, b) => a + b, 0);
  const pr = powers.map(() => 0);
  let winner = -1;
  for (let s = 0; s <= steps; s++) {
    for (let i = 0; i < pr.length; i++) pr[i] = (pr[i] as number) + (powers[i] as number);
    winner = 0;
    for (let i = 1; i < pr.length; i++) if ((pr[i] as number) > (pr[winner] as number)) winner = i;
    pr[winner] = (pr[winner] as number) - total;
  }
  return winner;
}

describe("proposer selection", () => {
  test("equal powers rotate by index, starting at index 0 for height 1 round 0", () => {
    const set = validatorSet([1, 1, 1, 1]);
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((r) => proposerOf(set, 1, r)),
      [0, 1, 2, 3, 0, 1],
    );
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((h) => proposerOf(set, h, 0)),
      [0, 1, 2, 3, 0],
    );
  });

  test("powers [3, 1, 1, 1]: proposals in proportion to power, in a fixed pattern", () => {
    const set = validatorSet([3, 1, 1, 1]);
    const counts = [0, 0, 0, 0];
    const sequence: number[] = [];
    for (let r = 0; r < 6000; r++) {
      const p = proposerOf(set, 1, r);
      counts[p] = (counts[p] as number) + 1;
      if (r < 12) sequence.push(p);
    }
    assert.deepEqual(counts, [3000, 1000, 1000, 1000]);
    // Worked by hand in spec/consensus.md §proposer.
    assert.deepEqual(sequence, [0, 1, 0, 2, 3, 0, 0, 1, 0, 2, 3, 0]);
  });

  test("heights continue the sequence: proposer(h, r) = proposer(h + 1, r - 1)", () => {
    const set = validatorSet([5, 2, 7, 1, 3]);
    for (let h = 1; h < 40; h++) for (let r = 1; r < 10; r++) assert.equal(proposerOf(set, h, r), proposerOf(set, h + 1, r - 1));
  });

  test("ties go to the lowest index", () => {
    const total = 4;
    const priorities = [0, 0, 0];
    assert.equal(selectionStep([2, 1, 1], total, priorities), 0);
    assert.deepEqual(priorities, [-2, 1, 1]);
    assert.equal(selectionStep([2, 1, 1], total, priorities), 1);
  });

  test("the priorities return to zero after totalPower / gcd steps, each validator winning power / gcd times", () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let t = 0; t < 300; t++) {
      const powers = Array.from({ length: 1 + rand(9) }, () => 1 + rand(t % 2 === 0 ? 6 : 60));
      const period = proposerPeriod(powers);
      assert.ok(prioritiesAfter(powers, period).every((p) => p === 0) && prioritiesAfter(powers, 0).every((p) => p === 0));
      const g = powers.reduce((a, b) => a + b, 0) / period;
      const wins = powers.map(() => 0);
      const set = validatorSet(powers);
      for (let s = 0; s < period; s++) {
        const w = proposerOf(set, 1, s);
        wins[w] = (wins[w] as number) + 1;
      }
      assert.deepEqual(
        wins,
        powers.map((p) => p / g),
      );
    }
  });

  test("the period reduction and the incremental schedule agree with the naive rule", () => {
    const powers = [4, 9, 2, 6];
    const set = validatorSet(powers);
    let schedule = ProposerSchedule.forHeight(set, 1);
    for (let h = 1; h <= 60; h++) {
      assert.equal(schedule.height, h);
      for (let r = 0; r < 8; r++) {
        const expected = naive(powers, h - 1 + r);
        assert.equal(proposerOf(set, h, r), expected);
        assert.equal(schedule.proposer(r), expected);
        assert.equal(ProposerSchedule.forHeight(set, h).proposer(r), expected);
      }
      schedule = schedule.next(set);
    }
    // A round beyond the memo uses the reduction from the height's start.
    assert.equal(ProposerSchedule.forHeight(set, 3).proposer(5000), naive(powers, 2 + 5000));
    assert.equal(proposerOf(set, 1_000_000, 7), naive(powers, (1_000_000 - 1 + 7) % proposerPeriod(powers)));
  });

  test("deterministic: the same set, height and round always give the same proposer", () => {
    const a = validatorSet([3, 1, 1, 1]);
    const b = validatorSet([3, 1, 1, 1]);
    for (let r = 0; r < 50; r++) assert.equal(proposerOf(a, 17, r), proposerOf(b, 17, r));
  });
});
