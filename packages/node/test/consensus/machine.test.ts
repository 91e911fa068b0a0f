/**
 * Each rule of Algorithm 1 triggered in isolation with hand-built messages (spec/consensus.md).
 * Four validators of power 1 unless said otherwise: proposer(1, r) = r mod 4; this node is index 3.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AssertionFailure, toHex } from "@tally/core";
import { CONSENSUS_LIMITS, type HeightState, IDLE_STATE, step } from "../../src/consensus/machine.js";
import { CONFIG, Harness, hash, proposal, start, timeout, valid, validatorSet, vote, votes } from "./fixtures.js";

const FOUR = validatorSet([1, 1, 1, 1]);
const A = hash(0xa);
const B = hash(0xb);

/** A node (index 3) that received proposal A from validator 0 in round 0 and knows it is valid. */
function prevotedA(): Harness {
  const h = new Harness(FOUR, 3);
  h.send(proposal(0, A, -1, 0), valid(A));
  return h;
}

describe("StartRound (L11–L21)", () => {
  test("a non-proposer schedules timeoutPropose(0) and waits", () => {
    const h = new Harness(FOUR, 3);
    assert.deepEqual(h.effects, [{ type: "scheduleTimeout", step: "propose", height: 1, round: 0, durationMs: CONFIG.timeoutProposeMs }]);
    assert.equal(h.state.round, 0);
    assert.equal(h.state.step, "propose");
  });

  test("the proposer asks for a value, proposes it with validRound -1 and prevotes it (L18–L19, L22–L24)", () => {
    const h = new Harness(FOUR, 0);
    assert.deepEqual(h.of("getValue"), [{ type: "getValue", height: 1, round: 0 }]);
    h.send({ type: "ownBlock", height: 1, round: 0, blockHash: A });
    assert.deepEqual(h.proposals(), [{ height: 1, round: 0, blockHash: A, validRound: -1, proposer: 0 }]);
    assert.deepEqual(h.ownVotes(), [{ kind: "prevote", height: 1, round: 0, blockHash: A, validator: 0 }]);
    assert.equal(h.of("validate").length, 0, "its own block needs no validation");
    assert.equal(h.state.step, "prevote");
  });

  test("an own block for a round already left is ignored", () => {
    const h = new Harness(FOUR, 0);
    h.send(timeout("propose", 0));
    const before = h.state;
    h.send({ type: "ownBlock", height: 1, round: 0, blockHash: A });
    assert.equal(h.state, before);
    assert.equal(h.proposals().length, 0);
  });

  test("a proposer with a validValue proposes it with its validRound (L15–L16)", () => {
    // Node 1 locks A in round 0, then is the proposer of round 1.
    const h = new Harness(FOUR, 1);
    h.send(proposal(0, A, -1, 0), valid(A), ...votes("prevote", 0, A, [0, 1, 2]));
    assert.equal(h.state.validRound, 0);
    h.send(...votes("precommit", 0, null, [0, 2, 3]), timeout("precommit", 0));
    assert.equal(h.state.round, 1);
    assert.deepEqual(h.proposals(), [{ height: 1, round: 1, blockHash: A, validRound: 0, proposer: 1 }]);
    assert.equal(h.of("getValue").length, 0);
    // Its own proposal passes L28 (2f+1 prevotes for A at round 0): it prevotes A at once.
    assert.deepEqual(h.ownVotes("prevote").at(-1), { kind: "prevote", height: 1, round: 1, blockHash: A, validator: 1 });
  });
});

describe("proposal in step propose (L22–L27)", () => {
  test("asks the application, then prevotes id(v) when valid", () => {
    const h = new Harness(FOUR, 3);
    h.send(proposal(0, A, -1, 0));
    assert.deepEqual(h.last, [{ type: "validate", height: 1, blockHash: A }]);
    assert.equal(h.state.step, "propose", "waits for valid(v)");
    h.send(valid(A));
    assert.deepEqual(h.ownVotes(), [{ kind: "prevote", height: 1, round: 0, blockHash: A, validator: 3 }]);
    assert.equal(h.state.step, "prevote");
  });

  test("prevotes nil for an invalid block", () => {
    const h = new Harness(FOUR, 3);
    h.send(proposal(0, A, -1, 0), valid(A, false));
    assert.deepEqual(h.ownVotes(), [{ kind: "prevote", height: 1, round: 0, blockHash: null, validator: 3 }]);
  });

  test("prevotes nil at once when locked on another value", () => {
    const h = prevotedA();
    h.send(...votes("prevote", 0, A, [0, 1]), ...votes("precommit", 0, null, [0, 1, 2]), timeout("precommit", 0));
    assert.equal(h.state.lockedRound, 0);
    assert.equal(h.state.round, 1);
    h.send(proposal(1, B, -1, 1));
    assert.deepEqual(h.ownVotes("prevote").at(-1), { kind: "prevote", height: 1, round: 1, blockHash: null, validator: 3 });
  });

  test("prevotes its locked value when proposed again", () => {
    const h = prevotedA();
    h.send(...votes("prevote", 0, A, [0, 1]), ...votes("precommit", 0, null, [0, 1, 2]), timeout("precommit", 0));
    h.send(proposal(1, A, -1, 1));
    assert.deepEqual(h.ownVotes("prevote").at(-1)?.blockHash, A);
  });

  test("a proposal from anyone but proposer(h, r) is ignored", () => {
    const h = new Harness(FOUR, 3);
    const before = h.state;
    const r = step(before, proposal(0, A, -1, 2));
    assert.equal(r.state, before);
    assert.deepEqual(r.effects, []);
  });

  test("a proposal whose validRound is not below its round is ignored", () => {
    const h = new Harness(FOUR, 3);
    const before = h.state;
    assert.equal(step(before, proposal(0, A, 0, 0)).state, before);
  });

  test("messages of another height are ignored", () => {
    const h = new Harness(FOUR, 3);
    const before = h.state;
    assert.equal(step(before, proposal(0, A, -1, 0, 2)).state, before);
    assert.equal(step(before, vote("prevote", 0, A, 0, 2)).state, before);
    assert.equal(step(before, timeout("propose", 0, 2)).state, before);
    assert.equal(step(before, vote("prevote", 0, A, 9, 2)).state, before, "its index may be out of this height's range");
  });

  test("a malformed message of the current height is a broken caller contract", () => {
    const h = new Harness(FOUR, 3);
    assert.throws(() => step(h.state, vote("prevote", 0, A, 4)), AssertionFailure);
    assert.throws(() => step(h.state, vote("prevote", -1, A, 0)), AssertionFailure);
    assert.throws(() => step(h.state, proposal(0.5, A, -1, 0)), AssertionFailure);
  });
});

describe("proposal with a valid round (L28–L33)", () => {
  test("prevotes id(v) with 2f+1 prevotes at vr even when locked at an earlier round on another value", () => {
    const h = prevotedA();
    h.send(...votes("prevote", 0, A, [0, 1]));
    assert.equal(h.state.lockedRound, 0);
    assert.deepEqual(h.state.lockedValue, A);
    // Round 1: B gets 2f+1 prevotes (a POL for B at round 1) but nobody precommits it in time.
    h.send(...votes("precommit", 0, null, [0, 1, 2]), timeout("precommit", 0));
    h.send(proposal(1, B, -1, 1), valid(B));
    assert.deepEqual(h.ownVotes("prevote").at(-1)?.blockHash, null, "locked on A: nil for B in round 1 (L26)");
    h.send(timeout("prevote", 1), ...votes("prevote", 1, B, [0, 1, 2]));
    h.send(...votes("precommit", 1, null, [0, 1, 2]), timeout("precommit", 1));
    assert.deepEqual([h.state.lockedValue, h.state.lockedRound], [A, 0], "still locked on A from round 0");
    assert.equal(h.state.round, 2);
    // Round 2: proposer 2 proposes B with validRound 1 > lockedRound 0 → prevote B (L29–L30).
    h.send(proposal(2, B, 1, 2));
    assert.deepEqual(h.ownVotes("prevote").at(-1), { kind: "prevote", height: 1, round: 2, blockHash: B, validator: 3 });
  });

  test("waits without 2f+1 prevotes at vr, then timeoutPropose prevotes nil", () => {
    const h = new Harness(FOUR, 3);
    h.send(...votes("precommit", 0, null, [0, 1, 2]), timeout("precommit", 0));
    h.send(proposal(1, A, 0, 1), valid(A));
    assert.equal(h.state.step, "propose");
    h.send(...votes("prevote", 0, A, [0, 1]));
    assert.equal(h.state.step, "propose", "two of four prevotes are not 2f+1");
    h.send(vote("prevote", 0, A, 2));
    assert.deepEqual(h.ownVotes("prevote").at(-1), { kind: "prevote", height: 1, round: 1, blockHash: A, validator: 3 });
  });

  test("prevotes nil when locked at a round above vr on another value", () => {
    const h = new Harness(FOUR, 3);
    // Round 0: nil prevote and precommit by timeouts; then B gets 2f+1 prevotes (validValue only, L42).
    h.send(timeout("propose", 0), timeout("prevote", 0), proposal(0, B, -1, 0), valid(B), ...votes("prevote", 0, B, [0, 1, 2]));
    assert.deepEqual([h.state.lockedRound, h.state.validRound], [-1, 0]);
    h.send(...votes("precommit", 0, null, [0, 1, 2]), timeout("precommit", 0));
    // Round 1: lock on A.
    h.send(proposal(1, A, -1, 1), valid(A), ...votes("prevote", 1, A, [0, 1]));
    assert.deepEqual([h.state.lockedValue, h.state.lockedRound], [A, 1]);
    h.send(...votes("precommit", 1, null, [0, 1, 2]), timeout("precommit", 1));
    // Round 2: B with validRound 0 has its 2f+1 prevotes, but lockedRound 1 > 0 and A ≠ B (L29 fails → L32).
    h.send(proposal(2, B, 0, 2));
    assert.deepEqual(h.ownVotes("prevote").at(-1), { kind: "prevote", height: 1, round: 2, blockHash: null, validator: 3 });
  });

  test("prevotes given 2f+1 prevotes at vr that arrived after it left round vr (past rounds are kept)", () => {
    const h = new Harness(FOUR, 3);
    for (let r = 0; r < 4; r++) h.send(...votes("precommit", r, null, [0, 1, 2]), timeout("precommit", r));
    assert.equal(h.state.round, 4);
    h.send(...votes("prevote", 0, A, [0, 1, 2]));
    h.send(proposal(4, A, 0, 0), valid(A));
    assert.deepEqual(h.ownVotes("prevote").at(-1), { kind: "prevote", height: 1, round: 4, blockHash: A, validator: 3 });
  });
});

describe("prevote step (L34–L46)", () => {
  test("L34: 2f+1 prevotes of any kind schedule timeoutPrevote once", () => {
    const h = prevotedA();
    h.send(vote("prevote", 0, null, 0));
    assert.equal(h.of("scheduleTimeout", h.last).length, 0);
    h.send(vote("prevote", 0, B, 1));
    assert.deepEqual(h.last, [{ type: "scheduleTimeout", step: "prevote", height: 1, round: 0, durationMs: CONFIG.timeoutPrevoteMs }]);
    h.send(vote("prevote", 0, null, 2));
    assert.equal(h.of("scheduleTimeout", h.last).length, 0, "for the first time only");
    h.send(timeout("prevote", 0));
    assert.deepEqual(h.ownVotes("precommit"), [{ kind: "precommit", height: 1, round: 0, blockHash: null, validator: 3 }]);
    assert.equal(h.state.step, "precommit");
  });

  test("L36–L41: proposal + 2f+1 prevotes for id(v) in step prevote → lock, precommit v, validValue", () => {
    const h = prevotedA();
    h.send(...votes("prevote", 0, A, [0, 1]));
    assert.deepEqual(h.ownVotes("precommit"), [{ kind: "precommit", height: 1, round: 0, blockHash: A, validator: 3 }]);
    assert.equal(h.state.step, "precommit");
    assert.deepEqual([h.state.lockedValue, h.state.lockedRound, h.state.validValue, h.state.validRound], [A, 0, A, 0]);
  });

  test("L42–L43: in step precommit only validValue/validRound move", () => {
    const h = prevotedA();
    h.send(vote("prevote", 0, null, 0), vote("prevote", 0, A, 1), timeout("prevote", 0));
    assert.equal(h.state.step, "precommit");
    h.send(vote("prevote", 0, A, 2));
    assert.deepEqual([h.state.lockedValue, h.state.lockedRound, h.state.validValue, h.state.validRound], [null, -1, A, 0]);
    assert.equal(h.ownVotes("precommit").length, 1, "no second precommit");
  });

  test("L36 waits for valid(v)", () => {
    const h = new Harness(FOUR, 3);
    h.send(timeout("propose", 0), proposal(0, A, -1, 0), ...votes("prevote", 0, A, [0, 1, 2]));
    assert.equal(h.state.step, "prevote");
    assert.equal(h.state.validRound, -1);
    h.send(valid(A));
    assert.equal(h.state.step, "precommit");
    assert.equal(h.state.lockedRound, 0);
  });

  test("L44–L46: 2f+1 prevotes for nil → precommit nil", () => {
    const h = prevotedA();
    h.send(...votes("prevote", 0, null, [0, 1]));
    assert.equal(h.ownVotes("precommit").length, 0);
    h.send(vote("prevote", 0, null, 2));
    assert.deepEqual(h.ownVotes("precommit"), [{ kind: "precommit", height: 1, round: 0, blockHash: null, validator: 3 }]);
  });
});

describe("precommits and decision (L47–L54)", () => {
  test("L47: 2f+1 precommits of any kind schedule timeoutPrecommit once, in any step", () => {
    const h = new Harness(FOUR, 3);
    h.send(vote("precommit", 0, A, 0), vote("precommit", 0, null, 1));
    assert.equal(h.of("scheduleTimeout", h.last).length, 0);
    h.send(vote("precommit", 0, B, 2));
    assert.deepEqual(h.last, [{ type: "scheduleTimeout", step: "precommit", height: 1, round: 0, durationMs: CONFIG.timeoutPrecommitMs }]);
    assert.equal(h.state.step, "propose");
  });

  test("L49: proposal + 2f+1 precommits for id(v) + valid(v) → decide with the certificate's precommits", () => {
    const h = new Harness(FOUR, 3);
    h.send(...votes("precommit", 0, A, [2, 0, 1]));
    assert.equal(h.of("decide").length, 0, "no proposal yet");
    h.send(proposal(0, A, -1, 0));
    assert.equal(h.of("decide").length, 0, "valid(v) not known yet");
    h.send(valid(A));
    const [d] = h.of("decide");
    assert.ok(d);
    assert.equal(d.round, 0);
    assert.deepEqual(d.blockHash, A);
    assert.deepEqual(
      d.precommits.map((v) => v.validator),
      [0, 1, 2],
    );
    assert.equal(h.state.status, "decided");
    const after = h.state;
    assert.equal(step(after, vote("precommit", 0, A, 3)).state, after, "a decided height ignores everything");
  });

  test("L49 decides on a round earlier than round_p", () => {
    const h = new Harness(FOUR, 3);
    h.send(proposal(0, A, -1, 0), valid(A));
    for (let r = 1; r < 3; r++) h.send(...votes("precommit", r, null, [0, 1, 2]), timeout("precommit", r));
    assert.equal(h.state.round, 3);
    h.send(...votes("precommit", 0, A, [0, 1, 2]));
    const [d] = h.of("decide");
    assert.ok(d);
    assert.equal(d.round, 0);
    assert.deepEqual(d.proposal, { height: 1, round: 0, blockHash: A, validRound: -1, proposer: 0 });
  });

  test("no decision on 2f+1 precommits for a block that is invalid", () => {
    const h = new Harness(FOUR, 3);
    h.send(proposal(0, A, -1, 0), valid(A, false), ...votes("precommit", 0, A, [0, 1, 2]));
    assert.equal(h.of("decide").length, 0);
  });
});

describe("round skip (L55–L56)", () => {
  test("f+1 of the power in a higher round starts that round", () => {
    const h = new Harness(FOUR, 3);
    h.send(vote("prevote", 2, A, 0));
    assert.equal(h.state.round, 0, "1 of 4 is not f+1");
    h.send(vote("precommit", 2, null, 1));
    assert.equal(h.state.round, 2);
    assert.deepEqual(h.of("scheduleTimeout", h.last), [
      { type: "scheduleTimeout", step: "propose", height: 1, round: 2, durationMs: CONFIG.timeoutProposeMs + 2 * CONFIG.timeoutDeltaMs },
    ]);
  });

  test("a proposal counts as a message of its round", () => {
    const h = new Harness(FOUR, 3);
    h.send(proposal(1, A, -1, 1), vote("prevote", 1, null, 2));
    assert.equal(h.state.round, 1);
  });

  test("messages spread over higher rounds skip to the highest round that f+1 of the power has reached", () => {
    const h = new Harness(FOUR, 3);
    h.send(vote("prevote", 3, null, 0), vote("prevote", 2, null, 1));
    assert.equal(h.state.round, 2);
  });

  test("a message beyond round + roundsAheadMax is not stored but still counts for the skip", () => {
    const far = CONSENSUS_LIMITS.roundsAheadMax + 5;
    const h = new Harness(FOUR, 3);
    h.send(vote("prevote", far, A, 0));
    assert.equal(h.state.rounds.has(far), false);
    assert.equal(h.state.highestRound[0], far);
    h.send(vote("prevote", far, A, 1));
    assert.equal(h.state.round, far);
  });
});

describe("timeouts (L57–L67)", () => {
  test("OnTimeoutPropose prevotes nil; stale or repeated timeouts do nothing", () => {
    const h = new Harness(FOUR, 3);
    h.send(timeout("propose", 0));
    assert.deepEqual(h.ownVotes(), [{ kind: "prevote", height: 1, round: 0, blockHash: null, validator: 3 }]);
    const before = h.state;
    assert.equal(step(before, timeout("propose", 0)).state, before);
  });

  test("OnTimeoutPrevote in step prevote precommits nil", () => {
    const h = new Harness(FOUR, 3);
    h.send(timeout("propose", 0), timeout("prevote", 0));
    assert.deepEqual(h.ownVotes("precommit"), [{ kind: "precommit", height: 1, round: 0, blockHash: null, validator: 3 }]);
  });

  test("OnTimeoutPrecommit starts the next round; durations grow by delta per round", () => {
    const h = new Harness(FOUR, 3);
    h.send(timeout("precommit", 0));
    assert.equal(h.state.round, 1);
    h.send(timeout("precommit", 1), timeout("precommit", 2), timeout("precommit", 3));
    assert.equal(h.state.round, 4);
    const proposeTimeouts = h.of("scheduleTimeout").filter((t) => t.step === "propose");
    assert.deepEqual(
      proposeTimeouts.map((t) => [t.round, t.durationMs]),
      [0, 1, 2, 3, 4].map((r) => [r, CONFIG.timeoutProposeMs + r * CONFIG.timeoutDeltaMs]),
    );
    const before = h.state;
    assert.equal(step(before, timeout("precommit", 2)).state, before, "a timeout of an earlier round is stale");
  });
});

describe("equivocation", () => {
  test("a second different vote is reported with both votes and counts toward its own value only", () => {
    const h = new Harness(FOUR, 3);
    h.send(vote("prevote", 0, A, 1));
    h.send(vote("prevote", 0, B, 1));
    assert.deepEqual(h.last, [
      {
        type: "voteEquivocation",
        first: { kind: "prevote", height: 1, round: 0, blockHash: A, validator: 1 },
        second: { kind: "prevote", height: 1, round: 0, blockHash: B, validator: 1 },
      },
    ]);
    const tally = h.state.rounds.get(0)?.prevotes;
    assert.equal(tally?.anyPower, 1, "the validator counts once toward 2f+1 of any kind");
    assert.deepEqual(tally?.votes[1]?.blockHash, A, "the first vote stays its vote");
    assert.deepEqual([tally?.powerByValue.get(toHex(A)), tally?.powerByValue.get(toHex(B))], [1, 1]);
    const before = h.state;
    const r = step(before, vote("prevote", 0, null, 1));
    assert.equal(r.state, before, "a third different vote is dropped");
    assert.deepEqual(r.effects, [], "one report per validator, round and kind");
  });

  test("an equivocator cannot push 2f+1 of any kind alone", () => {
    const h = prevotedA();
    h.send(vote("prevote", 0, B, 1), vote("prevote", 0, null, 1));
    assert.equal(h.of("scheduleTimeout").filter((t) => t.step === "prevote").length, 0, "own + validator 1 = 2 of 4");
  });

  test("a node that saw an equivocator's other precommit first still decides with the network's quorum", () => {
    // Validator 1 precommitted B to this node and A to the others; 0, 1 (A) and 2 form the certificate.
    const h = new Harness(FOUR, 3);
    h.send(proposal(0, A, -1, 0), valid(A), vote("precommit", 0, B, 1), ...votes("precommit", 0, A, [0, 2]));
    assert.equal(h.of("decide").length, 0);
    h.send(vote("precommit", 0, A, 1));
    const [d] = h.of("decide");
    assert.deepEqual(
      d?.precommits.map((v) => [v.validator, toHex(v.blockHash as Uint8Array)]),
      [0, 1, 2].map((i) => [i, toHex(A)]),
    );
  });

  test("an identical vote again changes nothing", () => {
    const h = new Harness(FOUR, 3);
    h.send(vote("precommit", 0, A, 1));
    const before = h.state;
    const r = step(before, vote("precommit", 0, A, 1));
    assert.equal(r.state, before);
    assert.deepEqual(r.effects, []);
  });

  test("prevote and precommit of one round are different slots", () => {
    const h = new Harness(FOUR, 3);
    h.send(vote("prevote", 0, A, 1), vote("precommit", 0, null, 1));
    assert.equal(h.of("voteEquivocation").length, 0);
  });

  test("conflicting proposals of the round's proposer are reported once; both stay usable for L49", () => {
    const h = new Harness(FOUR, 3);
    h.send(proposal(0, A, -1, 0), proposal(0, B, -1, 0));
    assert.equal(h.of("proposalEquivocation").length, 1);
    h.send(proposal(0, hash(0xc), -1, 0));
    assert.equal(h.of("proposalEquivocation").length, 1);
    // Another group decided B: this node can follow with the precommits.
    h.send(valid(B), ...votes("precommit", 0, B, [0, 1, 2]));
    assert.deepEqual(h.of("decide")[0]?.blockHash, B);
  });
});

describe("thresholds are voting power, not counts (powers [4, 1, 1, 1])", () => {
  const WEIGHTED = validatorSet([4, 1, 1, 1]);

  test("two validators holding 5 of 7 are 2f+1", () => {
    const h = new Harness(WEIGHTED, 3);
    h.send(timeout("propose", 0));
    assert.equal(h.ownVotes("precommit").length, 0);
    // Validator 0 (power 4) and this node's own nil prevote (power 1): 5 × 3 > 7 × 2.
    h.send(vote("prevote", 0, null, 0));
    assert.deepEqual(h.ownVotes("precommit"), [{ kind: "precommit", height: 1, round: 0, blockHash: null, validator: 3 }]);
  });

  test("three of four validators holding 3 of 7 are not 2f+1", () => {
    const h = new Harness(WEIGHTED, 3);
    h.send(timeout("propose", 0), ...votes("prevote", 0, null, [1, 2]));
    assert.equal(h.ownVotes("precommit").length, 0);
    assert.equal(h.of("scheduleTimeout").filter((t) => t.step === "prevote").length, 0);
  });

  test("one validator holding 4 of 7 is f+1 for the round skip; two holding 2 of 7 are not", () => {
    const h = new Harness(WEIGHTED, 3);
    h.send(vote("prevote", 1, null, 1), vote("prevote", 1, null, 2));
    assert.equal(h.state.round, 0);
    h.send(vote("prevote", 2, null, 0));
    assert.equal(h.state.round, 2);
  });
});

describe("purity", () => {
  test("step never mutates its input state and equal inputs give equal outputs", () => {
    const h = prevotedA();
    const before = h.state;
    const snapshot = structuredClone({ ...before, schedule: null });
    const events = [...votes("prevote", 0, A, [0, 1]), vote("prevote", 0, B, 1), ...votes("precommit", 0, A, [0, 1])];
    let s1: HeightState = before;
    let s2: HeightState = before;
    for (const e of events) {
      const r1 = step(s1, e);
      const r2 = step(s2, e);
      assert.deepEqual(r1.effects, r2.effects);
      s1 = r1.state as HeightState;
      s2 = r2.state as HeightState;
    }
    assert.deepEqual(structuredClone({ ...before, schedule: null }), snapshot);
    assert.equal(s1.status, "decided");
  });

  test("heights only move forward", () => {
    const h = new Harness(FOUR, 3);
    assert.throws(() => step(h.state, start(FOUR, 3, 1)), AssertionFailure);
    const next = step(h.state, start(FOUR, 3, 2)).state as HeightState;
    assert.equal(next.height, 2);
    assert.equal(step(IDLE_STATE, vote("prevote", 0, A, 0)).state, IDLE_STATE);
  });
});
