/**
 * The Byzantine validators: one colluding adversary. Each Byzantine node runs the real node code
 * (chain, mempool, ConsensusService with its own signing record), but its outgoing link is wrapped.
 * Whenever it sends its own proposal or vote, the adversary splits the honest nodes of that (height,
 * round) into two halves: one half gets the real message, the other a conflicting one signed with the
 * same key, a second valid block (built with `chain.buildCandidate` from another transaction subset and
 * time), an invalid block, or a vote for that second block or for nil. A share of honest recipients
 * ("leak") gets both, so honest nodes see the equivocation and report it. Other Byzantine nodes get
 * the real messages, so the adversary's own replicas follow one consistent view.
 */
import { blockHash, encodeBlock, type KeyPair, proposalSignBytes, type SignedVote, toHex, type Value, voteSignBytes } from "@tally/core";
import type { Chain } from "../../src/chain.js";
import type { Clock } from "../../src/clock.js";
import type { ConsensusNetwork } from "../../src/consensus/service.js";
import { decodeWire, encodeWire, type ProposalMessage } from "../../src/consensus/wire.js";
import type { Mempool } from "../../src/mempool.js";
import type { Prng } from "../consensus/sim.js";

export interface AdversaryStats {
  altProposals: number;
  invalidAltProposals: number;
  altVotes: number;
  leaks: number;
}

export interface ByzantineReplica {
  readonly node: number;
  /** Index in the validator set. */
  readonly validator: number;
  readonly key: KeyPair;
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly clock: Clock;
  readonly blockTxsMax: number;
  readonly blockBytesMax: number;
}

export class Adversary {
  readonly stats: AdversaryStats = { altProposals: 0, invalidAltProposals: 0, altVotes: 0, leaks: 0 };
  /** The second message for each real one (null: this one is sent honestly), by sender and message. */
  private readonly alternatives = new Map<string, Value | null>();
  /** Second block of a (height, round) keyed by the first block's hash. */
  private readonly altBlocks = new Map<string, Uint8Array>();
  /** A block hash some Byzantine node saw proposed at (height, round). */
  private readonly seen = new Map<string, Uint8Array>();
  private readonly splits = new Map<string, Set<string>>();

  constructor(
    private readonly prng: Prng,
    /** Public keys (hex) of the honest nodes, in node order. */
    private readonly honest: readonly string[],
    private readonly byzantine: ReadonlySet<string>,
    private readonly chainId: string,
    private readonly intensity: number,
    private readonly leak: number,
    private readonly invalidAlt: number,
  ) {}

  /** Wraps a Byzantine replica's link. */
  wrap(inner: ConsensusNetwork, replica: ByzantineReplica): ConsensusNetwork {
    const send = (peer: string, message: Value): void => {
      for (const m of this.versionsFor(replica, peer, message)) inner.send(peer, m);
    };
    return {
      broadcast: (message) => {
        for (const peer of inner.peers()) send(peer, message);
      },
      send,
      disconnect: (peer, detail) => inner.disconnect(peer, detail),
      peers: () => inner.peers(),
      onMessage: (handler) =>
        inner.onMessage((peer, message) => {
          this.observe(message);
          handler(peer, message);
        }),
      onPeer: (handler) => inner.onPeer(handler),
    };
  }

  private observe(message: Value): void {
    if (!Array.isArray(message) || message[0] !== "proposal") return;
    try {
      const m = decodeWire(message);
      if (m.type === "proposal") {
        const key = `${m.height}/${m.round}`;
        if (!this.seen.has(key)) this.seen.set(key, m.blockHash);
      }
    } catch {
      // not ours to judge
    }
  }

  private split(height: number, round: number): Set<string> {
    const key = `${height}/${round}`;
    let half = this.splits.get(key);
    if (half === undefined) {
      const order = this.prng.shuffle(this.honest);
      half = new Set(order.slice(0, Math.ceil(order.length / 2)));
      this.splits.set(key, half);
    }
    return half;
  }

  private versionsFor(replica: ByzantineReplica, peer: string, message: Value): Value[] {
    if (this.byzantine.has(peer) || !Array.isArray(message) || (message[0] !== "proposal" && message[0] !== "vote")) return [message];
    const m = decodeWire(message);
    let height: number;
    let round: number;
    let alt: Value | null;
    if (m.type === "proposal") {
      if (m.proposer !== replica.validator) return [message];
      ({ height, round } = m);
      alt = this.alternative(`${replica.node}/p/${height}/${round}/${toHex(m.blockHash)}`, () => this.altProposal(replica, m));
    } else if (m.type === "vote") {
      const v = m.vote;
      if (v.validator !== replica.validator) return [message];
      ({ height, round } = v);
      alt = this.alternative(`${replica.node}/${v.kind}/${height}/${round}`, () => this.altVote(replica, v));
    } else {
      return [message];
    }
    if (alt === null) return [message];
    if (this.prng.chance(this.leak)) {
      this.stats.leaks++;
      return this.prng.chance(0.5) ? [message, alt] : [alt, message];
    }
    return this.split(height, round).has(peer) ? [message] : [alt];
  }

  private alternative(key: string, make: () => Value | null): Value | null {
    let alt = this.alternatives.get(key);
    if (alt === undefined) {
      alt = this.prng.chance(this.intensity) ? make() : null;
      this.alternatives.set(key, alt);
    }
    return alt;
  }

  private altProposal(r: ByzantineReplica, m: ProposalMessage): Value | null {
    const { chain } = r;
    if (chain.executed.height + 1 !== m.height) return null;
    const { suite } = chain.genesis;
    const pooled = r.mempool.peek(r.blockTxsMax, r.blockBytesMax);
    let candidate = chain.buildCandidate(
      pooled.slice(0, this.prng.int(0, pooled.length)),
      r.key.publicKey,
      r.clock.now() + this.prng.int(1, 400),
    );
    if (toHex(candidate.hash) === toHex(m.blockHash)) {
      candidate = chain.buildCandidate([], r.key.publicKey, candidate.block.header.timeMs + 1);
    }
    let block = candidate.block;
    let hash = candidate.hash;
    if (this.prng.chance(this.invalidAlt)) {
      const header = { ...block.header, stateRoot: suite.hash(hash) };
      block = { header, txs: block.txs };
      hash = blockHash(suite, header);
      this.stats.invalidAltProposals++;
    } else {
      this.altBlocks.set(`${m.height}/${m.round}/${toHex(m.blockHash)}`, hash);
    }
    this.stats.altProposals++;
    const signature = suite.sign(r.key.privateKey, proposalSignBytes(this.chainId, m.height, m.round, hash, -1));
    return encodeWire({
      type: "proposal",
      height: m.height,
      round: m.round,
      blockHash: hash,
      validRound: -1,
      proposer: m.proposer,
      signature,
      block: encodeBlock(block),
    });
  }

  private altVote(r: ByzantineReplica, v: SignedVote): Value | null {
    const { suite } = r.chain.genesis;
    let hash: Uint8Array | null;
    if (v.blockHash !== null) {
      hash = this.altBlocks.get(`${v.height}/${v.round}/${toHex(v.blockHash)}`) ?? (this.prng.chance(0.5) ? null : suite.hash(v.signature));
    } else {
      hash = this.seen.get(`${v.height}/${v.round}`) ?? suite.hash(v.signature);
    }
    const vote = { kind: v.kind, height: v.height, round: v.round, blockHash: hash };
    const signature = suite.sign(r.key.privateKey, voteSignBytes(this.chainId, vote));
    this.stats.altVotes++;
    return encodeWire({ type: "vote", vote: { ...vote, validator: v.validator, signature } });
  }
}
