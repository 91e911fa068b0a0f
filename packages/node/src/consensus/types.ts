/**
 * Messages, events and effects of the Tendermint consensus core (spec/consensus.md). Everything here
 * is plain data: the core never signs, sends, stores or reads a clock; the shell around it does.
 */
import type { ValidatorSet } from "@tally/core";

export type VoteKind = "prevote" | "precommit";

export type Step = "propose" | "prevote" | "precommit";

/** A prevote or precommit, already authenticated by the shell. `blockHash: null` is a vote for nil. */
export interface Vote {
  readonly kind: VoteKind;
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array | null;
  /** Index into the height's validator set (canonical order). */
  readonly validator: number;
}

/** ⟨PROPOSAL, h, r, v, vr⟩ of Algorithm 1, carrying id(v): the block itself travels beside it. */
export interface Proposal {
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array;
  /** The round in which the proposer saw 2f+1 prevotes for this block, or -1. */
  readonly validRound: number;
  readonly proposer: number;
}

/** Base durations; the timeout of round r is `base + r × timeoutDeltaMs` (spec §timeouts). */
export interface TimeoutConfig {
  readonly timeoutProposeMs: number;
  readonly timeoutPrevoteMs: number;
  readonly timeoutPrecommitMs: number;
  readonly timeoutDeltaMs: number;
}

/** Where a restarted validator re-enters its height: what its signing record kept (spec §restart). */
export interface ResumePoint {
  readonly round: number;
  /**
   * The step of the last message it signed in `round`: the core re-enters the round at that step, so
   * it never again emits a vote of that round it already signed (it may have signed another value).
   */
  readonly step: Step;
  readonly lockedValue: Uint8Array | null;
  readonly lockedRound: number;
}

export type ConsensusEvent =
  /** Begin height `height` at round 0. `self` is this node's validator index, or null for a non-voting observer. */
  | {
      readonly type: "startHeight";
      readonly height: number;
      readonly validators: ValidatorSet;
      readonly self: number | null;
      readonly config: TimeoutConfig;
      /**
       * Restart within a height this node already signed messages in (spec §restart): re-enter the
       * last round it signed in, at the step it had reached, holding the lock it had recorded.
       */
      readonly resume?: ResumePoint;
    }
  | { readonly type: "proposal"; readonly proposal: Proposal }
  | { readonly type: "vote"; readonly vote: Vote }
  /** The application executed the block with this hash (answer to a `validate` effect). */
  | { readonly type: "blockValidity"; readonly height: number; readonly blockHash: Uint8Array; readonly valid: boolean }
  /** The application built our block for (height, round) (answer to a `getValue` effect). */
  | { readonly type: "ownBlock"; readonly height: number; readonly round: number; readonly blockHash: Uint8Array }
  | { readonly type: "timeout"; readonly step: Step; readonly height: number; readonly round: number };

export type ConsensusEffect =
  /** Build a block to propose at (height, round) and answer with `ownBlock`. */
  | { readonly type: "getValue"; readonly height: number; readonly round: number }
  /** Execute the proposed block with this hash and answer with `blockValidity` (valid(v) of Algorithm 1). */
  | { readonly type: "validate"; readonly height: number; readonly blockHash: Uint8Array }
  | { readonly type: "broadcastProposal"; readonly proposal: Proposal }
  /** Record durably, sign, then send (spec §shell). The core has already counted it. */
  | { readonly type: "broadcastVote"; readonly vote: Vote }
  /** Deliver `timeout` (step, height, round) after durationMs. Never cancelled: stale timeouts are ignored. */
  | { readonly type: "scheduleTimeout"; readonly step: Step; readonly height: number; readonly round: number; readonly durationMs: number }
  /**
   * The block is final. `precommits` are the counted precommits for it at `round`, ascending by
   * validator index, holding more than 2/3 of the power: their signatures form the commit certificate.
   */
  | {
      readonly type: "decide";
      readonly height: number;
      readonly round: number;
      readonly blockHash: Uint8Array;
      readonly proposal: Proposal;
      readonly precommits: readonly Vote[];
    }
  /** Two different votes of one validator for the same (height, round, kind); only `first` was counted. */
  | { readonly type: "voteEquivocation"; readonly first: Vote; readonly second: Vote }
  /** Two different proposals of the round's proposer for the same (height, round). */
  | { readonly type: "proposalEquivocation"; readonly first: Proposal; readonly second: Proposal };
