/** Prometheus metrics of consensus, transaction gossip and block sync (`tally_consensus_*`, `tally_gossip_*`, `tally_sync_*`), on the node's registry. */
import { Counter, Gauge, type Registry } from "prom-client";

export class ConsensusMetrics {
  readonly height: Gauge;
  readonly round: Gauge;
  readonly roundChanges: Counter;
  readonly proposals: Counter;
  readonly votesSigned: Counter<"kind">;
  readonly votesReceived: Counter<"kind">;
  readonly blocksDecided: Counter<"source">;
  readonly invalidBlocks: Counter;
  readonly invalidMessages: Counter<"code">;
  readonly equivocations: Counter<"kind">;
  readonly gossipTxs: Counter<"result">;
  readonly blockRequests: Counter<"result">;
  readonly syncPeerFailures: Counter<"reason">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.height = new Gauge({ name: "tally_consensus_height", help: "Height being decided", registers });
    this.round = new Gauge({ name: "tally_consensus_round", help: "Round of the height being decided", registers });
    this.roundChanges = new Counter({
      name: "tally_consensus_round_changes_total",
      help: "Moves to a later round (timeouts, round skips)",
      registers,
    });
    this.proposals = new Counter({ name: "tally_consensus_proposals_total", help: "Blocks this node built to propose", registers });
    this.votesSigned = new Counter({
      name: "tally_consensus_votes_signed_total",
      help: "Votes signed, by kind",
      labelNames: ["kind"],
      registers,
    });
    this.votesReceived = new Counter({
      name: "tally_consensus_votes_received_total",
      help: "Authenticated votes received, by kind",
      labelNames: ["kind"],
      registers,
    });
    this.blocksDecided = new Counter({
      name: "tally_consensus_blocks_decided_total",
      help: "Blocks made final here, by consensus or by block sync",
      labelNames: ["source"],
      registers,
    });
    this.invalidBlocks = new Counter({ name: "tally_consensus_invalid_blocks_total", help: "Proposed blocks found invalid", registers });
    this.invalidMessages = new Counter({
      name: "tally_consensus_invalid_messages_total",
      help: "Messages from members refused (the member is disconnected), by error code",
      labelNames: ["code"],
      registers,
    });
    this.equivocations = new Counter({
      name: "tally_consensus_equivocations_total",
      help: "Equivocations seen, by message kind",
      labelNames: ["kind"],
      registers,
    });
    this.gossipTxs = new Counter({
      name: "tally_gossip_txs_total",
      help: "Transactions received by gossip: known (not verified again), admitted, refused",
      labelNames: ["result"],
      registers,
    });
    this.blockRequests = new Counter({
      name: "tally_sync_block_requests_total",
      help: "Block requests from peers: served, or rate_limited (over the per-peer budget, not answered)",
      labelNames: ["result"],
      registers,
    });
    this.syncPeerFailures = new Counter({
      name: "tally_sync_peer_failures_total",
      help: "Block requests of this node that a peer did not answer in time (timeout) or answered with no block (empty)",
      labelNames: ["reason"],
      registers,
    });
  }
}
