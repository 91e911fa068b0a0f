/** Hand-built validator sets, hashes and events for the consensus unit tests. */
import type { ValidatorSet } from "@tally/core";
import { type HeightState, IDLE_STATE, run, type StepResult, step } from "../../src/consensus/machine.js";
import type { ConsensusEffect, ConsensusEvent, Proposal, TimeoutConfig, Vote, VoteKind } from "../../src/consensus/types.js";

export const CONFIG: TimeoutConfig = { timeoutProposeMs: 300, timeoutPrevoteMs: 100, timeoutPrecommitMs: 100, timeoutDeltaMs: 50 };

/** A validator set with these powers, in index order (the keys are placeholders: the core never reads them). */
export function validatorSet(powers: readonly number[]): ValidatorSet {
  const hash = new Uint8Array(32);
  powers.forEach((p, i) => {
    hash[i % 32] = ((hash[i % 32] as number) + p * 31 + i) & 0xff;
  });
  return {
    validators: powers.map((power, i) => ({ publicKey: new Uint8Array([i]), power })),
    totalPower: powers.reduce((a, b) => a + b, 0),
    hash,
  };
}

/** A 32-byte block hash named by a small number. */
export function hash(n: number): Uint8Array {
  const out = new Uint8Array(32);
  out[0] = n & 0xff;
  out[1] = (n >> 8) & 0xff;
  out[31] = 0xb1;
  return out;
}

export const start = (validators: ValidatorSet, self: number | null, height = 1): ConsensusEvent => ({
  type: "startHeight",
  height,
  validators,
  self,
  config: CONFIG,
});

export const vote = (kind: VoteKind, round: number, blockHash: Uint8Array | null, validator: number, height = 1): ConsensusEvent => ({
  type: "vote",
  vote: { kind, height, round, blockHash, validator },
});

export const proposal = (round: number, blockHash: Uint8Array, validRound: number, proposer: number, height = 1): ConsensusEvent => ({
  type: "proposal",
  proposal: { height, round, blockHash, validRound, proposer },
});

export const valid = (blockHash: Uint8Array, ok = true, height = 1): ConsensusEvent => ({
  type: "blockValidity",
  height,
  blockHash,
  valid: ok,
});

export const timeout = (s: "propose" | "prevote" | "precommit", round: number, height = 1): ConsensusEvent => ({
  type: "timeout",
  step: s,
  height,
  round,
});

/** Votes of `kind` for `blockHash` from each listed validator. */
export function votes(kind: VoteKind, round: number, blockHash: Uint8Array | null, validators: readonly number[]): ConsensusEvent[] {
  return validators.map((v) => vote(kind, round, blockHash, v));
}

/** A machine driven event by event, keeping every effect. */
export class Harness {
  state: HeightState;
  readonly effects: ConsensusEffect[] = [];
  last: readonly ConsensusEffect[] = [];

  constructor(validators: ValidatorSet, self: number | null) {
    const r = step(IDLE_STATE, start(validators, self));
    this.state = r.state as HeightState;
    this.effects.push(...r.effects);
    this.last = r.effects;
  }

  send(...events: ConsensusEvent[]): readonly ConsensusEffect[] {
    const r: StepResult = run(this.state, events);
    this.state = r.state as HeightState;
    this.effects.push(...r.effects);
    this.last = r.effects;
    return r.effects;
  }

  ownVotes(kind?: VoteKind): Vote[] {
    return this.effects.flatMap((e) => (e.type === "broadcastVote" && (kind === undefined || e.vote.kind === kind) ? [e.vote] : []));
  }

  proposals(): Proposal[] {
    return this.effects.flatMap((e) => (e.type === "broadcastProposal" ? [e.proposal] : []));
  }

  of<T extends ConsensusEffect["type"]>(type: T, from: readonly ConsensusEffect[] = this.effects): Extract<ConsensusEffect, { type: T }>[] {
    return from.filter((e): e is Extract<ConsensusEffect, { type: T }> => e.type === type);
  }
}
