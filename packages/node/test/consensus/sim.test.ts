/**
 * Seeded simulation of the consensus core (spec/consensus.md §simulation). A failing seed is printed
 * with the command that replays exactly that run:
 *
 *   SIM_SEED=<seed> SIM_BYZANTINE=<none|tolerated|excessive> node scripts/test.mjs packages/node/test/consensus/sim.test.ts
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type ByzantineMode, describeParams, livenessBoundMs, runSimulation, type SimResult } from "./sim.js";

/** CI size: fixed seeds, a few seconds in all. */
const SEEDS_TOLERATED = 400;
const SEEDS_HONEST = 100;
const SEEDS_NEGATIVE = 40;
const HEIGHTS = 4;

const replaySeed = process.env.SIM_SEED === undefined ? undefined : Number(process.env.SIM_SEED);
const replayMode = (process.env.SIM_BYZANTINE ?? "tolerated") as ByzantineMode;

function report(mode: ByzantineMode, r: SimResult): string {
  const lines = r.violations.slice(0, 10).map((v) => `  ${v.kind}: ${v.detail}`);
  return [
    `simulation failed: ${describeParams(r.params)} (${mode})`,
    ...lines,
    `replay: SIM_SEED=${r.params.seed} SIM_BYZANTINE=${mode} node scripts/test.mjs packages/node/test/consensus/sim.test.ts`,
  ].join("\n");
}

function sweep(mode: ByzantineMode, seeds: readonly number[]): { results: SimResult[]; failures: string[] } {
  const results: SimResult[] = [];
  const failures: string[] = [];
  for (const seed of seeds) {
    const r = runSimulation({ seed, heights: HEIGHTS, byzantine: mode });
    results.push(r);
    if (r.violations.length > 0) {
      const text = report(mode, r);
      console.log(text);
      failures.push(text);
    }
  }
  return { results, failures };
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

function summary(results: readonly SimResult[]): string {
  const decisions = results.reduce((a, r) => a + r.decisions.length, 0);
  const settle = Math.max(...results.map((r) => r.settleAfterGstMs));
  const rounds = Math.max(...results.map((r) => r.maxRound));
  const evidence = results.reduce((a, r) => a + r.evidence, 0);
  const byzantine = results.filter((r) => r.params.byzantine.length > 0).length;
  return `${results.length} seeds (${byzantine} with Byzantine validators), ${decisions} decisions, evidence ${evidence}, max round ${rounds}, last decision GST + ${settle} ms (bound ${livenessBoundMs(HEIGHTS)} ms)`;
}

if (replaySeed !== undefined) {
  test(`replay seed ${replaySeed} (${replayMode})`, () => {
    const r = runSimulation({ seed: replaySeed, heights: HEIGHTS, byzantine: replayMode });
    console.log(describeParams(r.params));
    for (const d of r.decisions)
      console.log(`  t=${d.timeMs}ms node ${d.node} height ${d.height} round ${d.round} ${d.blockHash.slice(0, 16)}`);
    assert.deepEqual(r.violations, [], report(replayMode, r));
  });
} else {
  describe("consensus simulation", () => {
    test(`safety and liveness with up to f equivocating validators: ${SEEDS_TOLERATED} seeds × ${HEIGHTS} heights`, () => {
      const { results, failures } = sweep("tolerated", range(1, SEEDS_TOLERATED));
      console.log(`tolerated: ${summary(results)}`);
      assert.deepEqual(failures, []);
      assert.ok(
        results.some((r) => r.evidence > 0),
        "the adversary's equivocation was detected somewhere",
      );
    });

    test(`safety and liveness without Byzantine validators: ${SEEDS_HONEST} seeds × ${HEIGHTS} heights`, () => {
      const { results, failures } = sweep("none", range(10_001, SEEDS_HONEST));
      console.log(`honest: ${summary(results)}`);
      assert.deepEqual(failures, []);
    });

    test(`negative control: Byzantine power above 1/3 breaks agreement for some seed in 1..${SEEDS_NEGATIVE}`, () => {
      const broken: number[] = [];
      for (const seed of range(1, SEEDS_NEGATIVE)) {
        const r = runSimulation({ seed, heights: HEIGHTS, byzantine: "excessive" });
        if (r.violations.some((v) => v.kind === "agreement")) broken.push(seed);
        // Only agreement and liveness may fail: the other checkers hold whatever the adversary does.
        const other = r.violations.filter((v) => v.kind !== "agreement" && v.kind !== "liveness");
        assert.deepEqual(other, [], report("excessive", r));
      }
      console.log(`negative control: agreement violated for ${broken.length}/${SEEDS_NEGATIVE} seeds (${broken.join(", ")})`);
      assert.ok(broken.length > 0, "the agreement checker never fired: it cannot be trusted");
    });

    test("the same seed gives the same run twice", () => {
      for (const [seed, mode] of [
        [7, "tolerated"],
        [10_003, "none"],
        [5, "excessive"],
      ] as const) {
        const a = runSimulation({ seed, heights: HEIGHTS, byzantine: mode });
        const b = runSimulation({ seed, heights: HEIGHTS, byzantine: mode });
        assert.deepEqual(b.decisions, a.decisions);
        assert.equal(b.trace, a.trace);
        assert.equal(b.steps, a.steps);
        assert.ok(a.decisions.length > 0);
      }
      assert.notEqual(
        runSimulation({ seed: 8, heights: HEIGHTS, byzantine: "tolerated" }).trace,
        runSimulation({ seed: 9, heights: HEIGHTS, byzantine: "tolerated" }).trace,
      );
    });
  });
}
