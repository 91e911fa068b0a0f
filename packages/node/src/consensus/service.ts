/**
 * The consensus shell (spec/consensus.md §shell): runs the pure Tendermint core (machine.ts) against
 * the real chain, mempool, network, timers and signing record. It authenticates every incoming
 * proposal and vote before the core sees it, executes proposed blocks, signs and sends what the core
 * decides (recording each signing point durably first), commits decided blocks with their commit
 * certificates, gossips transactions, and brings a node that is behind up to date by block sync.
 *
 * Everything it touches is injected (network, timers, clock, signing store), so the seeded simulator
 * runs this very code.
 */
import {
  type Block,
  blockHash,
  type CommitCertificate,
  decodeBlock,
  decodeEquivocation,
  type Equivocation,
  encodeBlock,
  encodeEquivocation,
  equalBytes,
  type KeyPair,
  LIMITS,
  proposalSignBytes,
  type SignedVote,
  TallyError,
  toHex,
  type ValidatorSet,
  type Value,
  validatorIndex,
  verifyCommit,
  verifySignedVote,
  voteSignBytes,
} from "@tally/core";
import type { Candidate, Chain, CommittedBlockEvent } from "../chain.js";
import type { Clock } from "../clock.js";
import type { ConsensusConfig } from "../config.js";
import type { Logger } from "../logger.js";
import type { Mempool } from "../mempool.js";
import { TokenBucket } from "../p2p/backoff.js";
import { CONSENSUS_LIMITS, type ConsensusState, IDLE_STATE, step } from "./machine.js";
import type { ConsensusMetrics } from "./metrics.js";
import type { SignGuard } from "./sign-record.js";
import type { ConsensusEffect, ConsensusEvent, Proposal, Vote } from "./types.js";
import { decodeWire, encodeWire, openSyncedBlock, type ProposalMessage, SYNC_LIMITS, syncedBlockEntry, type WireMessage } from "./wire.js";

/** The member-to-member links, as consensus needs them (P2PNode implements it; so does the simulator). */
export interface ConsensusNetwork {
  broadcast(message: Value): void;
  send(peer: string, message: Value): void;
  /** Drops a member that sent an invalid message (the transport logs and bans it). */
  disconnect(peer: string, detail: string): void;
  peers(): readonly string[];
  onMessage(handler: (peer: string, message: Value) => void): () => void;
  onPeer(handler: (peer: string, connected: boolean) => void): () => void;
}

export interface TimerHandle {
  cancel(): void;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

export const realTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

/** Bounds of the shell (spec/consensus.md §limits). */
export const SHELL_LIMITS = {
  /** Messages of the next height kept until this node gets there. */
  futureMessagesMax: 2_048,
  /** Distinct proposed blocks kept per height. */
  candidatesPerHeightMax: 16,
  /** Equivocations reported per height (the rest are logged only). */
  evidencePerHeightMax: 16,
  /** How often a node that has not advanced re-sends its own messages of the height and its status. */
  rebroadcastMs: 1_000,
  /** Block time may be at most this far ahead of the local clock (a proposal beyond it is invalid). */
  blockTimeDriftMsMax: 30_000,
  /** A node still deciding a height this long after entering it fetches it from a peer that has it. */
  syncStuckMs: 2_000,
  /** A sync request without an answer in this time goes to another peer. */
  syncRequestTimeoutMs: 5_000,
  /**
   * Block requests served per peer and second, and the burst above it. A syncing node has one request
   * out at a time, so an honest one stays far below; beyond it requests are dropped (the requester's
   * timeout moves it to another peer), so one member cannot buy unbounded disk reads and encoding.
   */
  blockRequestsPerPeerPerSecond: 50,
  blockRequestsPerPeerBurst: 100,
  /** Transactions gossiped in one message, and the delay that collects them. */
  gossipBatchTxsMax: 1_000,
  gossipDelayMs: 5,
} as const;

export interface ConsensusServiceOptions {
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly net: ConsensusNetwork;
  readonly timers: Timers;
  /** Wall-clock milliseconds for block times (proposals) and their drift check. */
  readonly clock: Clock;
  readonly key: KeyPair;
  /** The signing record; null for an observer (which never signs). */
  readonly guard: SignGuard | null;
  readonly config: ConsensusConfig;
  readonly blockTxsMax: number;
  readonly blockBytesMax: number;
  readonly log: Logger;
  readonly metrics: ConsensusMetrics;
  /** Called with equivocation evidence this node verified, once per equivocation (for a report transaction). */
  readonly onEquivocation?: (evidence: Equivocation, validators: ValidatorSet) => void;
}

interface CandidateEntry {
  readonly block: Block;
  status: "new" | "checking" | "valid" | "invalid";
  candidate: Candidate | null;
}

function voteKey(v: { kind: string; round: number; validator: number; blockHash: Uint8Array | null }): string {
  return `${v.kind}/${v.round}/${v.validator}/${v.blockHash === null ? "nil" : toHex(v.blockHash)}`;
}

export interface ConsensusStatus {
  readonly height: number;
  readonly round: number;
  readonly step: string;
  readonly role: "validator" | "observer";
  readonly peers: number;
  readonly syncing: boolean;
  /** Public key (hex) of the proposer of the current round, once the height has started. */
  readonly proposer: string | null;
}

export class ConsensusService {
  private cs: ConsensusState = IDLE_STATE;
  private readonly events: ConsensusEvent[] = [];
  private processing = false;
  private running = false;
  /** Height being decided: the executed head + 1. */
  private height = 0;
  private validators: ValidatorSet | null = null;
  private candidates = new Map<string, CandidateEntry>();
  private signatures = new Map<string, Uint8Array>();
  /** Own signed messages of the current height, re-sent while the height does not advance. */
  private own: Value[] = [];
  /** Others' votes of the current height, relayed while the height is stuck (spec §gossip). */
  private relay = new Map<string, { round: number; message: Value }>();
  private keptPerSlot = new Map<string, number>();
  private future: Array<{ peer: string | null; message: WireMessage }> = [];
  private reported = new Set<string>();
  private timers: TimerHandle[] = [];
  private readonly writes: Promise<CommittedBlockEvent>[] = [];
  private readonly peerHeights = new Map<string, number>();
  /** Consecutive block requests a peer left unanswered or answered empty: sync prefers the fewest. */
  private readonly syncFailures = new Map<string, number>();
  private readonly serveBudgets = new Map<string, TokenBucket>();
  private sync: { peer: string; from: number; timer: TimerHandle } | null = null;
  private syncStartedMs = 0;
  private syncApplied = 0;
  private lastProgressMs = 0;
  private gossipQueue: Uint8Array[] = [];
  private gossipTimer: TimerHandle | null = null;
  private wakeProposer: (() => void) | null = null;
  private lastCommitMs = 0;
  private rebroadcastTimer: TimerHandle | null = null;
  private heightAtLastTick = 0;
  private heightStartedMs = 0;
  private unsubscribe: Array<() => void> = [];
  /** Work that changes the chain runs one at a time, in order. */
  private work: Promise<void> = Promise.resolve();
  private failed: ((err: unknown) => void) | null = null;

  constructor(private readonly o: ConsensusServiceOptions) {}

  /** Starts consensus at the chain's next height. `onFatal` hears a broken invariant or storage fault. */
  start(onFatal: (err: unknown) => void): void {
    this.failed = onFatal;
    this.running = true;
    this.unsubscribe.push(
      this.o.net.onMessage((peer, message) => this.onMessage(peer, message)),
      this.o.net.onPeer((peer, connected) => this.onPeer(peer, connected)),
    );
    this.lastCommitMs = this.o.clock.now();
    this.enterHeight(this.o.chain.executed.height + 1);
    this.scheduleRebroadcast();
    this.o.log.info({ height: this.height, role: this.role, validators: this.validators?.validators.length }, "consensus started");
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    this.cancelTimers();
    this.rebroadcastTimer?.cancel();
    this.gossipTimer?.cancel();
    this.sync?.timer.cancel();
    this.wakeProposer?.();
    await this.work.catch(() => undefined);
    await Promise.allSettled(this.writes);
  }

  /**
   * Resolves once no chain work and no block write is pending (the simulator waits for this after
   * every event, so that real storage I/O cannot reorder what happens in virtual time).
   */
  async idle(): Promise<void> {
    for (;;) {
      const work = this.work;
      const writes = [...this.writes];
      await work;
      await Promise.allSettled(writes);
      if (work === this.work && this.writes.length === 0) return;
    }
  }

  get role(): "validator" | "observer" {
    return this.o.guard !== null && this.validators !== null && validatorIndex(this.validators, this.o.key.publicKey) >= 0
      ? "validator"
      : "observer";
  }

  status(): ConsensusStatus {
    const s = this.cs;
    return {
      height: this.height,
      round: s.status === "idle" ? 0 : s.round,
      step: s.status === "idle" ? "idle" : s.status === "decided" ? "decided" : s.step,
      role: this.role,
      peers: this.o.net.peers().length,
      syncing: this.sync !== null,
      proposer: s.status === "idle" ? null : toHex(s.validators.validators[s.schedule.proposer(s.round)]?.publicKey ?? new Uint8Array()),
    };
  }

  /** Transactions this node admitted from a client: wake the proposer and gossip them to every member. */
  admitted(txs: readonly Uint8Array[]): void {
    this.wakeProposer?.();
    if (!this.running) return;
    for (const tx of txs) this.gossipQueue.push(tx);
    if (this.gossipQueue.length >= SHELL_LIMITS.gossipBatchTxsMax) this.flushGossip();
    else this.gossipTimer ??= this.o.timers.setTimeout(() => this.flushGossip(), SHELL_LIMITS.gossipDelayMs);
  }

  private flushGossip(): void {
    this.gossipTimer?.cancel();
    this.gossipTimer = null;
    while (this.gossipQueue.length > 0 && this.running) {
      const batch = this.gossipQueue.splice(0, SHELL_LIMITS.gossipBatchTxsMax);
      this.o.net.broadcast(encodeWire({ type: "txs", txs: batch }));
    }
  }

  // ---- heights ---------------------------------------------------------------------------------

  private enterHeight(height: number): void {
    this.cancelTimers();
    this.height = height;
    this.candidates = new Map();
    this.signatures = new Map();
    this.relay = new Map();
    this.keptPerSlot = new Map();
    this.own = [];
    this.reported = new Set();
    const validators = this.o.chain.validatorSet(height);
    this.validators = validators;
    const index = validatorIndex(validators, this.o.key.publicKey);
    const entry = this.o.guard?.entryFor(height);
    const votes = this.o.guard !== null && index >= 0 && entry?.mode !== "watch";
    if (entry?.mode === "resume") this.o.log.info({ height, ...entry.resume, lockedValue: undefined }, "resuming height after restart");
    if (entry?.mode === "watch")
      this.o.log.warn({ height }, "already signed past this height before a restart; following it without voting");
    this.o.metrics.height.set(height);
    this.feed({
      type: "startHeight",
      height,
      validators,
      self: votes ? index : null,
      config: this.o.config,
      ...(entry?.mode === "resume" ? { resume: entry.resume } : {}),
    });
    this.heightStartedMs = this.o.clock.now();
    if (entry?.mode === "resume" && this.o.guard !== null) {
      // Votes signed before the restart may never have left: count them again and send them again.
      for (const vote of this.o.guard.votesAt(height)) {
        const message = encodeWire({ type: "vote", vote });
        this.own.push(message);
        this.o.net.broadcast(message);
        this.acceptVote(vote);
      }
    }
    const buffered = this.future;
    this.future = [];
    for (const { peer, message } of buffered) {
      try {
        this.handle(peer, message);
      } catch (err) {
        if (peer === null) throw err;
        this.reject(peer, err);
      }
    }
  }

  private cancelTimers(): void {
    for (const t of this.timers) t.cancel();
    this.timers = [];
  }

  // ---- the core ---------------------------------------------------------------------------------

  /** Feeds one event to the core and performs its effects; events raised meanwhile are queued. */
  private feed(event: ConsensusEvent): void {
    this.events.push(event);
    if (this.processing) return;
    this.processing = true;
    try {
      for (let e = this.events.shift(); e !== undefined; e = this.events.shift()) {
        const before = this.cs;
        const result = step(before, e);
        this.cs = result.state;
        if (result.state.status !== "idle" && (before.status === "idle" || before.round !== result.state.round)) {
          this.o.metrics.round.set(result.state.round);
          if (before.status !== "idle" && result.state.round > before.round) this.o.metrics.roundChanges.inc();
        }
        for (const effect of result.effects) this.perform(effect);
      }
    } finally {
      this.processing = false;
    }
  }

  private perform(effect: ConsensusEffect): void {
    switch (effect.type) {
      case "getValue": {
        const { height, round } = effect;
        // Waiting for transactions happens outside the chain work queue, which must stay free for sync.
        void this.waitToPropose(height).then(() => this.enqueue(() => this.propose(height, round)));
        break;
      }
      case "validate":
        this.enqueue(() => this.validate(effect.height, effect.blockHash));
        break;
      case "broadcastProposal":
        this.sendProposal(effect.proposal);
        break;
      case "broadcastVote":
        this.sendVote(effect.vote);
        break;
      case "scheduleTimeout": {
        const { step: s, height, round, durationMs } = effect;
        this.timers.push(
          this.o.timers.setTimeout(() => this.running && this.feed({ type: "timeout", step: s, height, round }), durationMs),
        );
        break;
      }
      case "decide":
        this.decide(effect.height, effect.round, effect.blockHash, effect.precommits);
        break;
      case "voteEquivocation":
        this.voteEquivocation(effect.first, effect.second);
        break;
      case "proposalEquivocation":
        this.o.metrics.equivocations.inc({ kind: "proposal" });
        this.o.log.warn(
          { height: effect.first.height, round: effect.first.round, proposer: effect.first.proposer },
          "proposer sent two different proposals for one round",
        );
        break;
    }
  }

  /** Chain work (building, checking, committing blocks) runs serially; a failure there is fatal. */
  private enqueue(task: () => Promise<void> | void): void {
    this.work = this.work.then(task).catch((err: unknown) => {
      if (!this.running) return;
      this.running = false;
      this.failed?.(err);
    });
  }

  // ---- proposing and validating --------------------------------------------------------------------

  /** Without waiting transactions, waits for one, or until the empty-block interval has passed. */
  private async waitToPropose(height: number): Promise<void> {
    const emptyDeadline = this.lastCommitMs + this.o.config.emptyBlockIntervalMs;
    while (this.running && this.height === height && this.o.mempool.size === 0 && this.o.clock.now() < emptyDeadline) {
      await new Promise<void>((resolve) => {
        const t = this.o.timers.setTimeout(resolve, Math.max(1, emptyDeadline - this.o.clock.now()));
        this.wakeProposer = () => {
          t.cancel();
          resolve();
        };
      });
      this.wakeProposer = null;
    }
  }

  private async propose(height: number, round: number): Promise<void> {
    await this.waitForWrites();
    if (!this.running || this.height !== height) return;
    const txs = this.o.mempool.peek(this.o.blockTxsMax, this.o.blockBytesMax);
    const candidate = this.o.chain.buildCandidate(txs, this.o.key.publicKey, this.o.clock.now());
    const dropped = this.o.mempool.dropUnrunnable(candidate.out.skipped.map((s) => s.tx));
    this.o.chain.announceLeftOut(this.o.chain.leftOut(candidate.out.skipped, dropped));
    this.candidates.set(toHex(candidate.hash), { block: candidate.block, status: "valid", candidate });
    this.o.metrics.proposals.inc();
    this.feed({ type: "ownBlock", height, round, blockHash: candidate.hash });
  }

  private async validate(height: number, hash: Uint8Array): Promise<void> {
    if (!this.running || this.height !== height) return;
    const entry = this.candidates.get(toHex(hash));
    if (entry === undefined) return; // the core asks only about proposals it stored, whose blocks we keep
    let valid = entry.status === "valid";
    if (entry.status === "new") {
      entry.status = "checking";
      try {
        if (entry.block.header.timeMs > this.o.clock.now() + SHELL_LIMITS.blockTimeDriftMsMax) {
          throw new TallyError("BAD_BLOCK", "block time is too far ahead of this node's clock");
        }
        await this.o.chain.verifyBlockTxs(entry.block);
        await this.waitForWrites();
        if (!this.running || this.height !== height) return;
        entry.candidate = this.o.chain.checkCandidate(entry.block, hash);
        entry.status = "valid";
        valid = true;
      } catch (err) {
        if (!(err instanceof TallyError)) throw err;
        entry.status = "invalid";
        this.o.metrics.invalidBlocks.inc();
        this.o.log.warn({ height, hash: toHex(hash), code: err.code, err: err.message }, "proposed block is invalid");
      }
    }
    if (this.running && this.height === height) this.feed({ type: "blockValidity", height, blockHash: hash, valid });
  }

  /** Keeps the number of executed-but-unwritten blocks within LIMITS.unflushedBlocksMax. */
  private async waitForWrites(): Promise<void> {
    while (this.writes.length >= LIMITS.unflushedBlocksMax) await this.writes[0];
  }

  // ---- signing and sending ---------------------------------------------------------------------

  private lockRecord(): { lockedValue: Uint8Array | null; lockedRound: number } {
    const s = this.cs;
    return s.status === "idle" ? { lockedValue: null, lockedRound: -1 } : { lockedValue: s.lockedValue, lockedRound: s.lockedRound };
  }

  private sendProposal(p: Proposal): void {
    const entry = this.candidates.get(toHex(p.blockHash));
    const guard = this.o.guard;
    if (entry === undefined || guard === null) {
      this.o.log.warn({ height: p.height, round: p.round }, "cannot propose: the block is not held here");
      return;
    }
    const point = { height: p.height, round: p.round, step: "proposal" } as const;
    if (!guard.maySign(point)) {
      this.o.log.warn({ height: p.height, round: p.round }, "refusing to sign a proposal at or before the last signed point");
      return;
    }
    const { suite } = this.o.chain.genesis;
    const signature = suite.sign(
      this.o.key.privateKey,
      proposalSignBytes(this.o.chain.chainId, p.height, p.round, p.blockHash, p.validRound),
    );
    guard.record(point, this.lockRecord());
    const message = encodeWire({
      type: "proposal",
      height: p.height,
      round: p.round,
      blockHash: p.blockHash,
      validRound: p.validRound,
      proposer: p.proposer,
      signature,
      block: encodeBlock(entry.block),
    });
    this.own.push(message);
    this.o.net.broadcast(message);
  }

  private sendVote(v: Vote): void {
    const guard = this.o.guard;
    if (guard === null) return;
    const point = { height: v.height, round: v.round, step: v.kind };
    if (!guard.maySign(point)) {
      this.o.log.warn({ height: v.height, round: v.round, kind: v.kind }, "refusing to sign a vote at or before the last signed point");
      return;
    }
    const signature = this.o.chain.genesis.suite.sign(this.o.key.privateKey, voteSignBytes(this.o.chain.chainId, v));
    const signed: SignedVote = { ...v, signature };
    guard.record(point, this.lockRecord(), signed);
    this.signatures.set(voteKey(v), signature);
    const message = encodeWire({ type: "vote", vote: signed });
    this.own.push(message);
    this.o.net.broadcast(message);
    this.o.metrics.votesSigned.inc({ kind: v.kind });
  }

  // ---- deciding ----------------------------------------------------------------------------------

  private decide(height: number, round: number, hash: Uint8Array, precommits: readonly Vote[]): void {
    const signatures: Array<{ validator: number; signature: Uint8Array }> = [];
    for (const v of precommits) {
      const signature = this.signatures.get(voteKey(v));
      if (signature !== undefined) signatures.push({ validator: v.validator, signature });
    }
    const commit: CommitCertificate = { height, round, blockHash: hash, signatures };
    const entry = this.candidates.get(toHex(hash));
    if (entry?.candidate == null) {
      // Decided on a block this node could not execute: only possible if it is faulty itself. Sync fetches it.
      this.o.log.error({ height, hash: toHex(hash) }, "decided a block this node did not execute; waiting for block sync");
      return;
    }
    const candidate = entry.candidate;
    this.enqueue(() => {
      if (!this.running || this.height !== height) return;
      this.commit(candidate, commit, "consensus");
    });
  }

  /** Makes `candidate` the next block and moves to the next height; the write completes in the background. */
  private commit(candidate: Candidate, commit: CommitCertificate, source: "consensus" | "sync"): void {
    const height = candidate.block.header.height;
    const write = this.o.chain.commitCandidate(candidate, commit);
    this.o.mempool.removeIncluded(candidate.out.included, (sender) => this.o.chain.nextNonce(sender));
    this.writes.push(write);
    write.then(
      (event) => {
        this.writes.splice(this.writes.indexOf(write), 1);
        if (this.running) this.o.net.broadcast(encodeWire({ type: "status", height: event.height }));
      },
      (err: unknown) => {
        if (!this.running) return;
        this.running = false;
        this.failed?.(err);
      },
    );
    this.lastCommitMs = this.o.clock.now();
    this.o.metrics.blocksDecided.inc({ source });
    this.o.log.debug({ height, txs: candidate.block.txs.length, source, hash: toHex(candidate.hash) }, "block decided");
    this.enterHeight(height + 1);
  }

  // ---- incoming messages ---------------------------------------------------------------------------

  private onMessage(peer: string, value: Value): void {
    if (!this.running) return;
    let message: WireMessage;
    try {
      message = decodeWire(value);
    } catch (err) {
      this.reject(peer, err);
      return;
    }
    try {
      this.handle(peer, message);
    } catch (err) {
      this.reject(peer, err);
    }
  }

  /** A member sent something invalid: count it and drop the link (the transport logs and bans). */
  private reject(peer: string, err: unknown): void {
    if (!(err instanceof TallyError)) throw err;
    this.o.metrics.invalidMessages.inc({ code: err.code });
    this.o.net.disconnect(peer, `${err.code}: ${err.message}`);
  }

  /** `peer` is null only for this node's own messages. */
  private handle(peer: string | null, m: WireMessage): void {
    switch (m.type) {
      case "proposal":
        this.onProposal(peer, m);
        return;
      case "vote":
        this.onVote(peer, m.vote);
        return;
      case "txs":
        if (peer !== null) this.onGossipTxs(m.txs);
        return;
      case "status":
        if (peer !== null) this.onStatus(peer, m.height);
        return;
      case "getBlocks":
        if (peer !== null) this.serveBlocks(peer, m.from, m.count);
        return;
      case "blocks":
        if (peer !== null) this.onBlocks(peer, m.blocks);
        return;
      case "evidence":
        this.onEvidence(m.evidence);
        return;
    }
  }

  /** Whether a message of `height` is for now (true), for later (buffered; false) or stale (false). */
  private current(height: number, peer: string | null, message: WireMessage): boolean {
    if (height === this.height) return true;
    if (height === this.height + 1 && this.future.length < SHELL_LIMITS.futureMessagesMax) this.future.push({ peer, message });
    return false;
  }

  private onProposal(peer: string | null, m: ProposalMessage): void {
    if (!this.current(m.height, peer, m)) return;
    const validators = this.validators as ValidatorSet;
    const proposer = validators.validators[m.proposer];
    if (proposer === undefined) throw new TallyError("FORBIDDEN", "proposal from a non-member index");
    if (this.cs.status !== "idle" && this.cs.schedule.proposer(m.round) !== m.proposer) {
      throw new TallyError("FORBIDDEN", "proposal from a validator that is not the round's proposer", { round: m.round });
    }
    const { suite } = this.o.chain.genesis;
    const signBytes = proposalSignBytes(this.o.chain.chainId, m.height, m.round, m.blockHash, m.validRound);
    if (!suite.verify(proposer.publicKey, signBytes, m.signature)) throw new TallyError("BAD_SIGNATURE", "proposal signature");
    const key = toHex(m.blockHash);
    if (!this.candidates.has(key)) {
      const block = decodeBlock(m.block);
      if (!equalBytes(blockHash(suite, block.header), m.blockHash)) throw new TallyError("BAD_BLOCK", "proposal carries another block");
      if (this.candidates.size >= SHELL_LIMITS.candidatesPerHeightMax) return;
      this.candidates.set(key, { block, status: "new", candidate: null });
    }
    this.feed({
      type: "proposal",
      proposal: { height: m.height, round: m.round, blockHash: m.blockHash, validRound: m.validRound, proposer: m.proposer },
    });
  }

  private onVote(peer: string | null, v: SignedVote): void {
    if (!this.current(v.height, peer, { type: "vote", vote: v })) return;
    const validators = this.validators as ValidatorSet;
    if (validators.validators[v.validator] === undefined) throw new TallyError("FORBIDDEN", "vote from a non-member index");
    if (this.signatures.has(voteKey(v))) return; // already counted: a re-sent vote
    // Every vote is verified before it counts or is counted against a limit (a forged far-round vote
    // would otherwise drive the round skip, and forged votes could use up an honest slot).
    verifySignedVote(this.o.chain.genesis.suite, this.o.chain.chainId, validators, v);
    this.o.metrics.votesReceived.inc({ kind: v.kind });
    if (!this.keepable(v)) {
      this.feed({ type: "vote", vote: { kind: v.kind, height: v.height, round: v.round, blockHash: v.blockHash, validator: v.validator } });
      return;
    }
    this.relay.set(voteKey(v), { round: v.round, message: encodeWire({ type: "vote", vote: v }) });
    this.acceptVote(v);
  }

  /**
   * Whether a vote's signature is kept (for certificates and relaying). Bounded like the core's own
   * storage, because a Byzantine validator can sign any number of hashes and rounds: at most two
   * different votes per validator, round and kind, and no round beyond the core's window (such a vote
   * is still fed: the core notes its round for the round skip).
   */
  private keepable(v: SignedVote): boolean {
    const current = this.cs.status === "idle" ? 0 : this.cs.round;
    if (v.round > current + CONSENSUS_LIMITS.roundsAheadMax) return false;
    const slot = `${v.kind}/${v.round}/${v.validator}`;
    const count = this.keptPerSlot.get(slot) ?? 0;
    if (count >= 2) return false;
    this.keptPerSlot.set(slot, count + 1);
    return true;
  }

  /** Feeds an authenticated vote of the current height to the core, keeping its signature for certificates. */
  private acceptVote(v: SignedVote): void {
    this.signatures.set(voteKey(v), v.signature);
    this.feed({ type: "vote", vote: { kind: v.kind, height: v.height, round: v.round, blockHash: v.blockHash, validator: v.validator } });
  }

  private onGossipTxs(txs: readonly Uint8Array[]): void {
    const { suite } = this.o.chain.genesis;
    // Each signature is verified once per node: transactions already pooled are not submitted again.
    const fresh = txs.filter((bytes) => !this.o.mempool.has(toHex(suite.hash(bytes))));
    this.o.metrics.gossipTxs.inc({ result: "known" }, txs.length - fresh.length);
    if (fresh.length === 0) return;
    this.o.chain.submit(fresh).then(
      (outcomes) => {
        const admitted = outcomes.filter((o) => !(o instanceof TallyError)).length;
        this.o.metrics.gossipTxs.inc({ result: "admitted" }, admitted);
        this.o.metrics.gossipTxs.inc({ result: "refused" }, outcomes.length - admitted);
        if (admitted > 0) this.wakeProposer?.();
      },
      (err: unknown) => this.o.log.debug({ err: (err as Error).message }, "gossiped transactions not admitted"),
    );
  }

  private voteEquivocation(first: Vote, second: Vote): void {
    this.o.metrics.equivocations.inc({ kind: first.kind });
    const a = this.signatures.get(voteKey(first));
    const b = this.signatures.get(voteKey(second));
    const validators = this.validators;
    if (a === undefined || b === undefined || validators === null) return;
    const evidence: Equivocation = { first: { ...first, signature: a }, second: { ...second, signature: b } };
    this.o.log.warn(
      {
        height: first.height,
        round: first.round,
        kind: first.kind,
        validator: toHex(validators.validators[first.validator]?.publicKey ?? new Uint8Array()),
      },
      "validator equivocated",
    );
    this.o.net.broadcast(encodeWire({ type: "evidence", evidence: encodeEquivocation(evidence) }));
    this.report(evidence, validators);
  }

  private onEvidence(bytes: Uint8Array): void {
    // Evidence about another height is checked by whoever records it (the validators module).
    let evidence: Equivocation;
    try {
      evidence = decodeEquivocation(bytes);
    } catch {
      throw new TallyError("BAD_EVIDENCE", "undecodable equivocation evidence");
    }
    if (evidence.first.height !== this.height || this.validators === null) return;
    const validators = this.validators;
    for (const v of [evidence.first, evidence.second]) verifySignedVote(this.o.chain.genesis.suite, this.o.chain.chainId, validators, v);
    this.report(evidence, validators);
  }

  private report(evidence: Equivocation, validators: ValidatorSet): void {
    const id = `${evidence.first.validator}/${evidence.first.round}/${evidence.first.kind}`;
    if (this.reported.has(id) || this.reported.size >= SHELL_LIMITS.evidencePerHeightMax) return;
    this.reported.add(id);
    try {
      this.o.onEquivocation?.(evidence, validators);
    } catch (err) {
      // Reporting is best effort; it must never disturb the consensus step that found the evidence.
      this.o.log.error({ err }, "equivocation report failed");
    }
  }

  // ---- peers, status and block sync ------------------------------------------------------------------

  private onPeer(peer: string, connected: boolean): void {
    if (!this.running) return;
    if (!connected) {
      this.peerHeights.delete(peer);
      this.serveBudgets.delete(peer);
      if (this.sync?.peer === peer) this.restartSync();
      return;
    }
    this.o.net.send(peer, encodeWire({ type: "status", height: this.o.chain.head.height }));
    for (const m of this.own) this.o.net.send(peer, m);
  }

  private scheduleRebroadcast(): void {
    this.rebroadcastTimer = this.o.timers.setTimeout(() => {
      if (!this.running) return;
      if (this.height === this.heightAtLastTick) {
        // Links drop and queues overflow: messages of a stuck height are sent again (eventual delivery).
        for (const m of this.own) this.o.net.broadcast(m);
        for (const m of this.relayable()) this.o.net.broadcast(m);
        this.o.net.broadcast(encodeWire({ type: "status", height: this.o.chain.head.height }));
      }
      this.heightAtLastTick = this.height;
      this.scheduleRebroadcast();
    }, SHELL_LIMITS.rebroadcastMs);
  }

  /**
   * Votes that let a peer that missed them reach the same quorums: those of the current and previous
   * round, and of the rounds that justify this node's lock and valid value.
   */
  private relayable(): Value[] {
    const s = this.cs;
    if (s.status === "idle") return [];
    const rounds = new Set([s.round, s.round - 1, s.lockedRound, s.validRound]);
    const out: Value[] = [];
    for (const { round, message } of this.relay.values()) if (rounds.has(round)) out.push(message);
    return out;
  }

  private onStatus(peer: string, height: number): void {
    this.peerHeights.set(peer, height);
    if (this.sync !== null) return;
    // The peer has durably committed past the height this node is deciding, or this node has been stuck
    // on a height the peer already committed: fetch the blocks rather than wait for their votes.
    const stuck = this.o.clock.now() - this.heightStartedMs >= SHELL_LIMITS.syncStuckMs;
    if (height > this.height || (height === this.height && stuck)) this.restartSync();
  }

  private requestBlocks(peer: string): void {
    const from = this.height;
    const peerHeight = this.peerHeights.get(peer) ?? 0;
    const count = Math.min(SYNC_LIMITS.blocksPerRequestMax, peerHeight - from + 1);
    if (count < 1) return;
    if (this.syncStartedMs === 0) {
      this.syncStartedMs = this.o.clock.now();
      this.syncApplied = 0;
      this.o.log.info({ from, target: peerHeight, peer }, "block sync started");
    }
    const timer = this.o.timers.setTimeout(() => this.syncPeerFailed(peer, "timeout"), SHELL_LIMITS.syncRequestTimeoutMs);
    this.sync = { peer, from, timer };
    this.o.net.send(peer, encodeWire({ type: "getBlocks", from, count }));
  }

  /**
   * A peer that claimed blocks did not deliver them. Counting it steers the next requests to the others,
   * so a member that claims a height it never serves cannot hold sync back beyond one timeout.
   */
  private syncPeerFailed(peer: string, reason: "timeout" | "empty"): void {
    this.syncFailures.set(peer, (this.syncFailures.get(peer) ?? 0) + 1);
    this.o.metrics.syncPeerFailures.inc({ reason });
    this.o.log.warn({ peer, reason, height: this.height, claimed: this.peerHeights.get(peer) }, "sync peer did not deliver");
    this.restartSync();
  }

  /**
   * The sync peer went away, went quiet or ran out of blocks: ask the peer that has the blocks with the
   * fewest failed requests, the highest first among equals (ties by key, so every run picks alike).
   */
  private restartSync(): void {
    this.sync?.timer.cancel();
    this.sync = null;
    let best: { peer: string; height: number; failures: number } | undefined;
    for (const [peer, height] of this.peerHeights) {
      if (height < this.height) continue;
      const failures = this.syncFailures.get(peer) ?? 0;
      const better =
        best === undefined ||
        failures < best.failures ||
        (failures === best.failures && (height > best.height || (height === best.height && peer < best.peer)));
      if (better) best = { peer, height, failures };
    }
    if (best !== undefined) this.requestBlocks(best.peer);
    else this.finishSync();
  }

  private finishSync(): void {
    if (this.syncStartedMs === 0) return;
    const seconds = Math.max(0.001, (this.o.clock.now() - this.syncStartedMs) / 1000);
    this.o.log.info(
      {
        height: this.height - 1,
        blocks: this.syncApplied,
        seconds: Number(seconds.toFixed(3)),
        blocksPerSecond: Math.round(this.syncApplied / seconds),
      },
      "block sync caught up; following consensus",
    );
    this.syncStartedMs = 0;
  }

  private serveBlocks(peer: string, from: number, count: number): void {
    const now = this.o.clock.now();
    let budget = this.serveBudgets.get(peer);
    if (budget === undefined) {
      budget = new TokenBucket(SHELL_LIMITS.blockRequestsPerPeerPerSecond, SHELL_LIMITS.blockRequestsPerPeerBurst, now);
      this.serveBudgets.set(peer, budget);
    }
    if (!budget.take(now)) {
      this.o.metrics.blockRequests.inc({ result: "rate_limited" });
      return;
    }
    this.o.metrics.blockRequests.inc({ result: "served" });
    const blocks: Array<{ block: Uint8Array; commit: Uint8Array }> = [];
    let bytes = 0;
    for (let h = from; h < from + count; h++) {
      const found = this.o.chain.blockAt(h);
      if (found === undefined) break;
      const entry = syncedBlockEntry(found.block, found.commit);
      const entryBytes = entry.block.length + entry.commit.length;
      if (blocks.length > 0 && bytes + entryBytes > SYNC_LIMITS.replyBytesMax) break;
      bytes += entryBytes;
      blocks.push(entry);
    }
    this.o.net.send(peer, encodeWire({ type: "blocks", blocks }));
  }

  private onBlocks(peer: string, entries: ReadonlyArray<{ block: Uint8Array; commit: Uint8Array }>): void {
    const request = this.sync;
    if (request === null || request.peer !== peer) return; // unsolicited or late: ignored
    const decoded = entries.map(openSyncedBlock);
    // A reply starts at the height asked for: one that does not answers an earlier request to this
    // peer (it timed out, and the peer was asked again later) and is ignored like any late reply.
    const first = decoded[0];
    if (first !== undefined && first.block.header.height !== request.from) return;
    request.timer.cancel();
    if (first === undefined) {
      this.sync = null;
      this.syncPeerFailed(peer, "empty");
      return;
    }
    this.enqueue(async () => {
      for (const { block, commit } of decoded) {
        if (!this.running) return;
        const height = block.header.height;
        if (height < this.height) continue; // decided by consensus meanwhile
        if (height > this.height) break;
        const validators = this.o.chain.validatorSet(height);
        try {
          verifyCommit(this.o.chain.genesis.suite, validators, block.header, commit);
          await this.o.chain.verifyBlockTxs(block);
          await this.waitForWrites();
          if (!this.running || height !== this.height) continue;
          const candidate = this.o.chain.checkCandidate(block, commit.blockHash);
          this.commit(candidate, commit, "sync");
          this.syncApplied++;
        } catch (err) {
          if (!(err instanceof TallyError)) throw err;
          // A block with a valid certificate that does not execute here, or a forged certificate: drop the peer.
          this.o.log.error({ peer, height, code: err.code, err: err.message }, "synced block refused");
          this.o.metrics.invalidMessages.inc({ code: err.code });
          this.o.net.disconnect(peer, `sync: ${err.message}`);
          this.restartSync();
          return;
        }
      }
      this.logSyncProgress();
      this.syncFailures.delete(peer);
      if (this.sync === request) {
        this.sync = null;
        const peerHeight = this.peerHeights.get(peer) ?? 0;
        if (peerHeight >= this.height) this.requestBlocks(peer);
        else this.restartSync();
      }
    });
  }

  private logSyncProgress(): void {
    const now = this.o.clock.now();
    if (now - this.lastProgressMs < 2_000) return;
    this.lastProgressMs = now;
    const target = Math.max(0, ...this.peerHeights.values());
    this.o.log.info({ height: this.height - 1, target, applied: this.syncApplied }, "block sync progress");
  }
}
