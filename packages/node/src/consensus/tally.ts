/**
 * Votes of one (height, round, kind), counted by voting power (spec/consensus.md §votes). Immutable:
 * `addVote` returns a new tally.
 *
 * A validator's first vote here is its vote: it alone counts toward "2f+1 of any kind" (L34, L47).
 * A second, different vote is equivocation, reported once; like Algorithm 1, which counts the
 * messages for id(v) from distinct processes, it still counts toward its own value (and only that),
 * so a node that saw an equivocator's other vote first can still see the quorum the rest of the
 * network used. A third different vote is dropped: at most two values per validator are stored.
 */
import { equalBytes, toHex } from "@tally/core";
import type { Vote, VoteKind } from "./types.js";

/** The key of a vote's value in `powerByValue`. */
export function valueKey(blockHash: Uint8Array | null): string {
  return blockHash === null ? "nil" : toHex(blockHash);
}

/** power × 3 > total × 2: "2f+1" of Algorithm 1, by voting power. */
export function isQuorum(power: number, total: number): boolean {
  return power * 3 > total * 2;
}

/** power × 3 > total: "f+1" of Algorithm 1, by voting power. */
export function isOneThird(power: number, total: number): boolean {
  return power * 3 > total;
}

export interface VoteTally {
  readonly kind: VoteKind;
  readonly round: number;
  /** First vote per validator index. */
  readonly votes: readonly (Vote | undefined)[];
  /** Second, different vote per validator index (an equivocation), counted toward its value only. */
  readonly conflicting: readonly (Vote | undefined)[];
  /** Power per value key (`valueKey`) of distinct validators that voted for it: lookups only, never iterated. */
  readonly powerByValue: ReadonlyMap<string, number>;
  /** Power of the validators that voted at all (each once). */
  readonly anyPower: number;
}

export function emptyTally(kind: VoteKind, round: number, validators: number): VoteTally {
  return {
    kind,
    round,
    votes: new Array<Vote | undefined>(validators).fill(undefined),
    conflicting: new Array<Vote | undefined>(validators).fill(undefined),
    powerByValue: new Map(),
    anyPower: 0,
  };
}

function sameValue(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return equalBytes(a, b);
}

export type AddVoteResult =
  | { readonly outcome: "added"; readonly tally: VoteTally }
  /** The same vote again, or a third different one (dropped). */
  | { readonly outcome: "ignored" }
  /** A second, different vote: report `first` and this one; `tally` counts it toward its value. */
  | { readonly outcome: "equivocation"; readonly first: Vote; readonly tally: VoteTally };

function withPower(map: ReadonlyMap<string, number>, blockHash: Uint8Array | null, power: number): Map<string, number> {
  const out = new Map(map);
  const key = valueKey(blockHash);
  out.set(key, (out.get(key) ?? 0) + power);
  return out;
}

export function addVote(tally: VoteTally, vote: Vote, power: number): AddVoteResult {
  const first = tally.votes[vote.validator];
  if (first === undefined) {
    const votes = [...tally.votes];
    votes[vote.validator] = vote;
    const powerByValue = withPower(tally.powerByValue, vote.blockHash, power);
    return { outcome: "added", tally: { ...tally, votes, powerByValue, anyPower: tally.anyPower + power } };
  }
  if (sameValue(first.blockHash, vote.blockHash) || tally.conflicting[vote.validator] !== undefined) return { outcome: "ignored" };
  const conflicting = [...tally.conflicting];
  conflicting[vote.validator] = vote;
  const powerByValue = withPower(tally.powerByValue, vote.blockHash, power);
  return { outcome: "equivocation", first, tally: { ...tally, conflicting, powerByValue } };
}

export function powerFor(tally: VoteTally | undefined, blockHash: Uint8Array | null): number {
  return tally?.powerByValue.get(valueKey(blockHash)) ?? 0;
}

/** The votes for `blockHash`, one per validator, ascending by validator index. */
export function votesFor(tally: VoteTally, blockHash: Uint8Array): Vote[] {
  const out: Vote[] = [];
  for (let i = 0; i < tally.votes.length; i++) {
    for (const v of [tally.votes[i], tally.conflicting[i]]) {
      if (v?.blockHash != null && equalBytes(v.blockHash, blockHash)) {
        out.push(v);
        break;
      }
    }
  }
  return out;
}
