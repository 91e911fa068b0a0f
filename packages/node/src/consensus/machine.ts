/**
 * The Tendermint consensus core: Algorithm 1 of Buchman, Kwon, Milosevic, "The latest gossip on BFT
 * consensus" (arXiv 1807.04938) as a pure function `step(state, event) -> {state, effects}`.
 * Line numbers in comments (L22, L36...) are that algorithm's; spec/consensus.md states every rule.
 *
 * No clock, randomness, I/O or signatures: the shell (not yet written) authenticates messages before
 * they arrive here, executes blocks, signs and sends what the effects say, and fires timeouts.
 * States are immutable; an event that changes nothing returns the very same state object.
 */
import { assert, equalBytes, type ValidatorSet } from "@tally/core";
import { ProposerSchedule, powersOf } from "./proposer.js";
import { type AddVoteResult, addVote, emptyTally, isOneThird, isQuorum, powerFor, type VoteTally, valueKey, votesFor } from "./tally.js";
import type { ConsensusEffect, ConsensusEvent, Proposal, Step, TimeoutConfig, Vote, VoteKind } from "./types.js";

/** Every bound of the consensus core (spec/consensus.md §limits). */
export const CONSENSUS_LIMITS = {
  /**
   * Proposals and votes are stored for rounds up to round_p + roundsAheadMax. A message for a higher
   * round is not stored; it only raises its sender's highest known round, for the round skip (L55).
   */
  roundsAheadMax: 4,
  /** Distinct proposals kept per round: the first one plus conflicting ones of an equivocating proposer. */
  proposalsPerRoundMax: 4,
  /** Upon-rule passes after one event; each pass that fires moves the step, round or a flag forward. */
  rulePassesMax: 64,
  /** A restarted node resumes at most at this round (its signing record is corrupt beyond it). */
  resumeRoundMax: 1_000_000,
  /** Timeout durations (base + round × delta) must stay below this. */
  timeoutMsMax: 24 * 60 * 60 * 1000,
} as const;

type Validity = "pending" | "valid" | "invalid";

/** Proposals and votes of one round of the current height. */
export interface RoundRecord {
  readonly round: number;
  /** Distinct proposals of proposer(h, round), in the order received; the first is the proposal. */
  readonly proposals: readonly Proposal[];
  readonly proposalEquivocationReported: boolean;
  readonly prevotes: VoteTally;
  readonly precommits: VoteTally;
}

export interface IdleState {
  readonly status: "idle";
}

export interface HeightState {
  /** "decided": this height is final; everything but the next `startHeight` is ignored. */
  readonly status: "running" | "decided";
  readonly height: number;
  readonly validators: ValidatorSet;
  readonly powers: readonly number[];
  readonly self: number | null;
  readonly config: TimeoutConfig;
  readonly schedule: ProposerSchedule;
  /** round_p, step_p, lockedValue_p, lockedRound_p, validValue_p, validRound_p of Algorithm 1. */
  readonly round: number;
  readonly step: Step;
  readonly lockedValue: Uint8Array | null;
  readonly lockedRound: number;
  readonly validValue: Uint8Array | null;
  readonly validRound: number;
  readonly decision: { readonly round: number; readonly blockHash: Uint8Array } | null;
  /** Rounds of this height with stored messages; every round ≤ round + roundsAheadMax is kept. */
  readonly rounds: ReadonlyMap<number, RoundRecord>;
  /** Per validator: the highest round of any message of this height from it, or -1 (L55). */
  readonly highestRound: readonly number[];
  /** valid(v) per block hash key, for hashes this height asked the application about. */
  readonly validity: ReadonlyMap<string, Validity>;
  /** Rounds in which one block holds more than 2/3 of the precommit power, ascending (L49). */
  readonly commitQuorums: readonly { readonly round: number; readonly blockHash: Uint8Array }[];
  /** "For the first time" guards of the current round: L34, L36 and L47. */
  readonly prevoteTimeoutScheduled: boolean;
  readonly validValueSetThisRound: boolean;
  readonly precommitTimeoutScheduled: boolean;
  /** A getValue for the current round is outstanding. */
  readonly awaitingOwnBlock: boolean;
}

export type ConsensusState = IdleState | HeightState;

export const IDLE_STATE: IdleState = { status: "idle" };

export interface StepResult {
  readonly state: ConsensusState;
  readonly effects: readonly ConsensusEffect[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function sameHash(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return equalBytes(a, b);
}

function isRound(r: number): boolean {
  return Number.isSafeInteger(r) && r >= 0;
}

export function timeoutMs(config: TimeoutConfig, step: Step, round: number): number {
  const base = step === "propose" ? config.timeoutProposeMs : step === "prevote" ? config.timeoutPrevoteMs : config.timeoutPrecommitMs;
  return Math.min(base + round * config.timeoutDeltaMs, CONSENSUS_LIMITS.timeoutMsMax);
}

function checkConfig(c: TimeoutConfig): void {
  for (const v of [c.timeoutProposeMs, c.timeoutPrevoteMs, c.timeoutPrecommitMs, c.timeoutDeltaMs]) {
    assert(Number.isSafeInteger(v) && v >= 0 && v <= CONSENSUS_LIMITS.timeoutMsMax, "timeouts must be integers of milliseconds in range");
  }
}

/** One event's worth of changes: a shallow copy of the state plus the effects it emits. */
class Draft {
  readonly s: Mutable<HeightState>;
  readonly effects: ConsensusEffect[] = [];
  private readonly rounds: Map<number, RoundRecord>;
  private readonly validity: Map<string, Validity>;
  private readonly highest: number[];

  constructor(state: HeightState) {
    this.rounds = new Map(state.rounds);
    this.validity = new Map(state.validity);
    this.highest = [...state.highestRound];
    this.s = { ...state, rounds: this.rounds, validity: this.validity, highestRound: this.highest };
  }

  finish(): HeightState {
    return { ...this.s };
  }

  private get total(): number {
    return this.s.validators.totalPower;
  }

  private record(round: number): RoundRecord {
    const existing = this.rounds.get(round);
    if (existing !== undefined) return existing;
    const n = this.s.powers.length;
    return {
      round,
      proposals: [],
      proposalEquivocationReported: false,
      prevotes: emptyTally("prevote", round, n),
      precommits: emptyTally("precommit", round, n),
    };
  }

  private tally(round: number, kind: VoteKind): VoteTally | undefined {
    const r = this.rounds.get(round);
    return r === undefined ? undefined : kind === "prevote" ? r.prevotes : r.precommits;
  }

  private noteRound(validator: number, round: number): void {
    if ((this.highest[validator] as number) < round) this.highest[validator] = round;
  }

  private validityOf(blockHash: Uint8Array): Validity | undefined {
    return this.validity.get(valueKey(blockHash));
  }

  private requestValidity(blockHash: Uint8Array): void {
    const key = valueKey(blockHash);
    if (this.validity.has(key)) return;
    this.validity.set(key, "pending");
    this.effects.push({ type: "validate", height: this.s.height, blockHash });
  }

  // ---- messages ----------------------------------------------------------------------------------

  /** Stores a proposal of proposer(h, r); returns whether the state changed. */
  receiveProposal(p: Proposal): boolean {
    // Another height's message is ignored before its shape is checked: its indices refer to another set.
    if (p.height !== this.s.height) return false;
    const n = this.s.powers.length;
    assert(isRound(p.round) && Number.isSafeInteger(p.validRound) && p.validRound >= -1, "proposal rounds must be integers");
    assert(Number.isSafeInteger(p.proposer) && p.proposer >= 0 && p.proposer < n, "proposal from a non-member index");
    assert(p.blockHash instanceof Uint8Array, "proposal block hash must be bytes");
    if (p.round > this.s.round + CONSENSUS_LIMITS.roundsAheadMax) return false;
    if (p.proposer !== this.s.schedule.proposer(p.round)) return false;
    // A valid round must precede the round (L28: vr < round); anything else is not a proposal of Algorithm 1.
    if (p.validRound >= p.round) return false;
    const rec = this.record(p.round);
    const same = rec.proposals.find((q) => equalBytes(q.blockHash, p.blockHash));
    if (same !== undefined && same.validRound === p.validRound) return false;
    this.noteRound(p.proposer, p.round);
    let next = rec;
    const first = rec.proposals[0];
    if (first !== undefined && !rec.proposalEquivocationReported) {
      this.effects.push({ type: "proposalEquivocation", first, second: p });
      next = { ...next, proposalEquivocationReported: true };
    }
    if (same === undefined) {
      const kept = this.keepProposal(next, p);
      if (kept !== null) {
        next = { ...next, proposals: kept };
        this.requestValidity(p.blockHash);
      }
    }
    this.rounds.set(p.round, next);
    return true;
  }

  /**
   * The proposal list with `p` added, or null when it is full. A full list still takes a block that
   * holds more than 2/3 of the round's prevotes or precommits (it may be needed by L36 or L49),
   * replacing a later entry that holds neither. While Byzantine power is below 1/3, at most one block
   * per kind can hold such a quorum, so the list never has to give up a block that has one.
   */
  private keepProposal(rec: RoundRecord, p: Proposal): Proposal[] | null {
    if (rec.proposals.length < CONSENSUS_LIMITS.proposalsPerRoundMax) return [...rec.proposals, p];
    const quorum = (hash: Uint8Array) =>
      isQuorum(powerFor(rec.prevotes, hash), this.total) || isQuorum(powerFor(rec.precommits, hash), this.total);
    if (!quorum(p.blockHash)) return null;
    for (let i = rec.proposals.length - 1; i >= 1; i--) {
      if (!quorum((rec.proposals[i] as Proposal).blockHash)) {
        const out = [...rec.proposals];
        out[i] = p;
        return out;
      }
    }
    return null;
  }

  /** Counts a vote (one per validator, round and kind); returns whether the state changed. */
  receiveVote(v: Vote): boolean {
    if (v.height !== this.s.height) return false;
    const n = this.s.powers.length;
    assert(v.kind === "prevote" || v.kind === "precommit", "vote kind must be prevote or precommit");
    assert(isRound(v.round), "vote round must be a non-negative integer");
    assert(Number.isSafeInteger(v.validator) && v.validator >= 0 && v.validator < n, "vote from a non-member index");
    assert(v.blockHash === null || v.blockHash instanceof Uint8Array, "vote block hash must be bytes or null");
    if (v.round > this.s.round + CONSENSUS_LIMITS.roundsAheadMax) {
      if ((this.highest[v.validator] as number) >= v.round) return false;
      this.noteRound(v.validator, v.round);
      return true;
    }
    const rec = this.record(v.round);
    const tally = v.kind === "prevote" ? rec.prevotes : rec.precommits;
    const result: AddVoteResult = addVote(tally, v, this.s.powers[v.validator] as number);
    if (result.outcome === "ignored") return false;
    if (result.outcome === "equivocation") this.effects.push({ type: "voteEquivocation", first: result.first, second: v });
    this.rounds.set(v.round, v.kind === "prevote" ? { ...rec, prevotes: result.tally } : { ...rec, precommits: result.tally });
    this.noteRound(v.validator, v.round);
    if (v.kind === "precommit" && v.blockHash !== null) {
      const before = powerFor(tally, v.blockHash);
      const after = powerFor(result.tally, v.blockHash);
      if (!isQuorum(before, this.total) && isQuorum(after, this.total)) {
        const quorums = [...this.s.commitQuorums, { round: v.round, blockHash: v.blockHash }];
        quorums.sort((a, b) => a.round - b.round);
        this.s.commitQuorums = quorums;
      }
    }
    return true;
  }

  receiveValidity(blockHash: Uint8Array, valid: boolean): boolean {
    const key = valueKey(blockHash);
    // Only answers to our own requests are recorded: the map stays bounded by the proposals kept.
    if (this.validity.get(key) !== "pending") return false;
    this.validity.set(key, valid ? "valid" : "invalid");
    return true;
  }

  receiveOwnBlock(round: number, blockHash: Uint8Array): boolean {
    const s = this.s;
    if (round !== s.round || s.step !== "propose" || !s.awaitingOwnBlock) return false;
    assert(s.validValue === null && s.validRound === -1, "own block requested while a valid value exists");
    s.awaitingOwnBlock = false;
    // The application built it: valid(v) holds without asking again.
    this.validity.set(valueKey(blockHash), "valid");
    this.propose({ height: s.height, round, blockHash, validRound: -1, proposer: s.self as number });
    return true;
  }

  /** L57–L67. */
  receiveTimeout(step: Step, round: number): boolean {
    const s = this.s;
    if (round !== s.round) return false;
    if (step === "propose") {
      // L57–L60: OnTimeoutPropose
      if (s.step !== "propose") return false;
      this.castVote("prevote", null);
      s.step = "prevote";
      return true;
    }
    if (step === "prevote") {
      // L61–L64: OnTimeoutPrevote
      if (s.step !== "prevote") return false;
      this.castVote("precommit", null);
      s.step = "precommit";
      return true;
    }
    // L65–L67: OnTimeoutPrecommit
    this.startRound(round + 1);
    return true;
  }

  // ---- Algorithm 1 -------------------------------------------------------------------------------

  private castVote(kind: VoteKind, blockHash: Uint8Array | null): void {
    const s = this.s;
    if (s.self === null) return;
    const vote: Vote = { kind, height: s.height, round: s.round, blockHash, validator: s.self };
    this.effects.push({ type: "broadcastVote", vote });
    // Broadcast includes ourselves: count our own vote now.
    this.receiveVote(vote);
  }

  private propose(p: Proposal): void {
    this.effects.push({ type: "broadcastProposal", proposal: p });
    this.receiveProposal(p);
  }

  private scheduleTimeout(step: Step): void {
    const s = this.s;
    this.effects.push({ type: "scheduleTimeout", step, height: s.height, round: s.round, durationMs: timeoutMs(s.config, step, s.round) });
  }

  /** L11–L21: StartRound(round). */
  private startRoundFields(round: number): void {
    const s = this.s;
    assert(round >= s.round, "rounds only move forward");
    s.round = round;
    s.step = "propose";
    s.prevoteTimeoutScheduled = false;
    s.validValueSetThisRound = false;
    s.precommitTimeoutScheduled = false;
    s.awaitingOwnBlock = false;
  }

  startRound(round: number): void {
    const s = this.s;
    this.startRoundFields(round);
    if (s.self !== null && s.schedule.proposer(round) === s.self) {
      if (s.validValue !== null) {
        // L15–L16, L19: propose validValue with its validRound.
        this.propose({ height: s.height, round, blockHash: s.validValue, validRound: s.validRound, proposer: s.self });
      } else {
        // L18: getValue(), answered by an ownBlock event; L19 runs in receiveOwnBlock.
        s.awaitingOwnBlock = true;
        this.effects.push({ type: "getValue", height: s.height, round });
      }
    }
    // L21. Scheduled for the proposer too (deviation, spec §timeouts): getValue is asynchronous here.
    this.scheduleTimeout("propose");
  }

  /**
   * Re-enters `round` after a restart at a step past propose (this node already signed its prevote,
   * or its precommit, there): nothing is proposed or scheduled; the rules of that step take over
   * (L34/L36/L44 for prevote, L47 for precommit) as the round's messages arrive again.
   */
  resumeRound(round: number, step: Step): void {
    this.startRoundFields(round);
    this.s.step = step;
  }

  /** Runs the upon rules until none fires. */
  evaluate(): void {
    for (let pass = 0; pass < CONSENSUS_LIMITS.rulePassesMax; pass++) {
      if (this.s.status !== "running") return;
      const fired =
        this.decideRule() ||
        this.roundSkipRule() ||
        this.prevoteOnProposalRule() ||
        this.prevoteTimeoutRule() ||
        this.lockRule() ||
        this.nilPrecommitRule() ||
        this.precommitTimeoutRule();
      if (!fired) return;
    }
    assert(false, "consensus rules did not settle within rulePassesMax passes");
  }

  /** L49–L54: a proposal for v and 2f+1 precommits for id(v) in any round r, valid(v) → decide. */
  private decideRule(): boolean {
    const s = this.s;
    for (const q of s.commitQuorums) {
      const rec = this.rounds.get(q.round);
      const proposal = rec?.proposals.find((p) => equalBytes(p.blockHash, q.blockHash));
      if (rec === undefined || proposal === undefined) continue;
      if (this.validityOf(q.blockHash) !== "valid") continue;
      s.status = "decided";
      s.decision = { round: q.round, blockHash: q.blockHash };
      this.effects.push({
        type: "decide",
        height: s.height,
        round: q.round,
        blockHash: q.blockHash,
        proposal,
        precommits: votesFor(rec.precommits, q.blockHash),
      });
      return true;
    }
    return false;
  }

  /**
   * L55–L56: f+1 of the power has sent messages for rounds above round_p → StartRound. We jump to
   * the highest round r such that validators holding more than 1/3 of the power each sent a message
   * for a round ≥ r (spec §round skip): the paper's rule is the case where they all name r itself.
   */
  private roundSkipRule(): boolean {
    const s = this.s;
    const order = this.highest.map((r, i) => ({ r, i })).filter((x) => x.r > s.round);
    if (order.length === 0) return false;
    order.sort((a, b) => b.r - a.r || a.i - b.i);
    let power = 0;
    for (const { r, i } of order) {
      power += s.powers[i] as number;
      if (isOneThird(power, this.total)) {
        this.startRound(r);
        return true;
      }
    }
    return false;
  }

  private prevote(blockHash: Uint8Array | null): void {
    this.castVote("prevote", blockHash);
    this.s.step = "prevote";
  }

  /** L22–L27 (validRound = -1) and L28–L33 (validRound ≥ 0 with 2f+1 prevotes at validRound), in step propose. */
  private prevoteOnProposalRule(): boolean {
    const s = this.s;
    if (s.step !== "propose") return false;
    const rec = this.rounds.get(s.round);
    if (rec === undefined) return false;
    for (const p of rec.proposals) {
      let lockAllows: boolean;
      if (p.validRound === -1) {
        // L23
        lockAllows = s.lockedRound === -1 || sameHash(s.lockedValue, p.blockHash);
      } else {
        // L28: needs 2f+1 prevotes for id(v) in round vr (< round_p, checked on receipt).
        if (!isQuorum(powerFor(this.tally(p.validRound, "prevote"), p.blockHash), this.total)) continue;
        // L29
        lockAllows = s.lockedRound <= p.validRound || sameHash(s.lockedValue, p.blockHash);
      }
      if (!lockAllows) {
        this.prevote(null); // L26 / L32
        return true;
      }
      const validity = this.validityOf(p.blockHash);
      if (validity === "pending" || validity === undefined) continue; // valid(v) not known yet
      this.prevote(validity === "valid" ? p.blockHash : null); // L24 / L30, or L26 / L32
      return true;
    }
    return false;
  }

  /** L34–L35: 2f+1 prevotes of any kind in round_p, step prevote, first time → timeoutPrevote. */
  private prevoteTimeoutRule(): boolean {
    const s = this.s;
    if (s.step !== "prevote" || s.prevoteTimeoutScheduled) return false;
    if (!isQuorum(this.tally(s.round, "prevote")?.anyPower ?? 0, this.total)) return false;
    s.prevoteTimeoutScheduled = true;
    this.scheduleTimeout("prevote");
    return true;
  }

  /** L36–L43: a proposal for v and 2f+1 prevotes for id(v) in round_p, valid(v), step ≥ prevote, first time. */
  private lockRule(): boolean {
    const s = this.s;
    if (s.step === "propose" || s.validValueSetThisRound) return false;
    const rec = this.rounds.get(s.round);
    if (rec === undefined) return false;
    for (const p of rec.proposals) {
      if (!isQuorum(powerFor(rec.prevotes, p.blockHash), this.total)) continue;
      if (this.validityOf(p.blockHash) !== "valid") continue;
      s.validValueSetThisRound = true;
      if (s.step === "prevote") {
        // L37–L41
        s.lockedValue = p.blockHash;
        s.lockedRound = s.round;
        this.castVote("precommit", p.blockHash);
        s.step = "precommit";
      }
      // L42–L43
      s.validValue = p.blockHash;
      s.validRound = s.round;
      return true;
    }
    return false;
  }

  /** L44–L46: 2f+1 prevotes for nil in round_p, step prevote → precommit nil. */
  private nilPrecommitRule(): boolean {
    const s = this.s;
    if (s.step !== "prevote") return false;
    if (!isQuorum(powerFor(this.tally(s.round, "prevote"), null), this.total)) return false;
    this.castVote("precommit", null);
    s.step = "precommit";
    return true;
  }

  /** L47–L48: 2f+1 precommits of any kind in round_p, first time → timeoutPrecommit. */
  private precommitTimeoutRule(): boolean {
    const s = this.s;
    if (s.precommitTimeoutScheduled) return false;
    if (!isQuorum(this.tally(s.round, "precommit")?.anyPower ?? 0, this.total)) return false;
    s.precommitTimeoutScheduled = true;
    this.scheduleTimeout("precommit");
    return true;
  }
}

/** Begins a height (L10 `upon start`, and L52–L54 after a decision): fresh variables, StartRound(0). */
function startHeight(prev: ConsensusState, e: Extract<ConsensusEvent, { type: "startHeight" }>): StepResult {
  assert(Number.isSafeInteger(e.height) && e.height >= 1, "height must be a positive integer");
  assert(prev.status === "idle" || e.height > prev.height, "heights only move forward");
  checkConfig(e.config);
  const resume = e.resume;
  if (resume !== undefined) {
    assert(isRound(resume.round) && resume.round <= CONSENSUS_LIMITS.resumeRoundMax, "resume round out of range");
    assert(
      (resume.lockedValue === null) === (resume.lockedRound === -1) && resume.lockedRound <= resume.round,
      "a resumed lock must be from the resumed round or an earlier one, with a value exactly when its round is set",
    );
  }
  const powers = powersOf(e.validators);
  assert(e.self === null || (Number.isSafeInteger(e.self) && e.self >= 0 && e.self < powers.length), "own index out of range");
  const schedule =
    prev.status !== "idle" && prev.schedule.height === e.height - 1 && equalBytes(prev.schedule.setHash, e.validators.hash)
      ? prev.schedule.next(e.validators)
      : ProposerSchedule.forHeight(e.validators, e.height);
  const fresh: HeightState = {
    status: "running",
    height: e.height,
    validators: e.validators,
    powers,
    self: e.self,
    config: e.config,
    schedule,
    round: 0,
    step: "propose",
    lockedValue: resume?.lockedValue ?? null,
    lockedRound: resume?.lockedRound ?? -1,
    validValue: null,
    validRound: -1,
    decision: null,
    rounds: new Map(),
    highestRound: powers.map(() => -1),
    validity: new Map(),
    commitQuorums: [],
    prevoteTimeoutScheduled: false,
    validValueSetThisRound: false,
    precommitTimeoutScheduled: false,
    awaitingOwnBlock: false,
  };
  const d = new Draft(fresh);
  if (resume === undefined || resume.step === "propose") d.startRound(resume?.round ?? 0);
  else d.resumeRound(resume.round, resume.step);
  d.evaluate();
  return { state: d.finish(), effects: d.effects };
}

/** The consensus transition function. Deterministic: equal (state, event) give equal results. */
export function step(state: ConsensusState, event: ConsensusEvent): StepResult {
  if (event.type === "startHeight") return startHeight(state, event);
  if (state.status !== "running") return { state, effects: [] };
  const d = new Draft(state);
  let changed: boolean;
  switch (event.type) {
    case "proposal":
      changed = d.receiveProposal(event.proposal);
      break;
    case "vote":
      changed = d.receiveVote(event.vote);
      break;
    case "blockValidity":
      changed = event.height === state.height && d.receiveValidity(event.blockHash, event.valid);
      break;
    case "ownBlock":
      changed = event.height === state.height && d.receiveOwnBlock(event.round, event.blockHash);
      break;
    case "timeout":
      changed = event.height === state.height && d.receiveTimeout(event.step, event.round);
      break;
  }
  if (!changed) return { state, effects: [] };
  d.evaluate();
  return { state: d.finish(), effects: d.effects };
}

/** Applies events in order (for replay and tests); returns the final state and all effects. */
export function run(state: ConsensusState, events: readonly ConsensusEvent[]): StepResult {
  let s = state;
  const effects: ConsensusEffect[] = [];
  for (const e of events) {
    const r = step(s, e);
    s = r.state;
    effects.push(...r.effects);
  }
  return { state: s, effects };
}
