/**
 * Consensus and sync messages between members (spec/consensus.md §wire). Each is a canonical CBOR
 * array whose first element names its type; decoding is strict, and a member that sends something
 * that does not decode is disconnected by the caller.
 */
import {
  type Block,
  type CommitCertificate,
  decodeBlock,
  decodeCommit,
  encodeBlock,
  encodeCommit,
  LIMITS,
  type SignedVote,
  signedVoteFromValue,
  signedVoteToValue,
  TallyError,
  type Value,
} from "@tally/core";

export const SYNC_LIMITS = {
  /** Blocks one `getBlocks` may ask for, and one `blocks` reply may hold. */
  blocksPerRequestMax: 32,
  /** Bytes of blocks one reply may hold (each block is at most LIMITS.blockBytesMax; a reply stays below a frame). */
  replyBytesMax: 8 * 1024 * 1024,
  /** Transactions one gossip message may carry. */
  gossipTxsMax: 2_000,
} as const;

export interface ProposalMessage {
  readonly type: "proposal";
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array;
  readonly validRound: number;
  readonly proposer: number;
  readonly signature: Uint8Array;
  /** The proposed block, encoded (spec/block.md). */
  readonly block: Uint8Array;
}

export type WireMessage =
  | ProposalMessage
  | { readonly type: "vote"; readonly vote: SignedVote }
  | { readonly type: "txs"; readonly txs: readonly Uint8Array[] }
  /** The sender's durable height: a peer that is behind it asks for blocks. */
  | { readonly type: "status"; readonly height: number }
  | { readonly type: "getBlocks"; readonly from: number; readonly count: number }
  | { readonly type: "blocks"; readonly blocks: ReadonlyArray<{ readonly block: Uint8Array; readonly commit: Uint8Array }> }
  /** Equivocation evidence (core encodeEquivocation bytes). */
  | { readonly type: "evidence"; readonly evidence: Uint8Array };

export function encodeWire(m: WireMessage): Value {
  switch (m.type) {
    case "proposal":
      return ["proposal", m.height, m.round, m.blockHash, m.validRound, m.proposer, m.signature, m.block];
    case "vote":
      return ["vote", signedVoteToValue(m.vote)];
    case "txs":
      return ["txs", [...m.txs]];
    case "status":
      return ["status", m.height];
    case "getBlocks":
      return ["getBlocks", m.from, m.count];
    case "blocks":
      return ["blocks", m.blocks.map((b) => [b.block, b.commit])];
    case "evidence":
      return ["evidence", m.evidence];
  }
}

function fail(message: string): never {
  throw new TallyError("BAD_ENCODING", message);
}

const isUint = (v: Value | undefined): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isBytes = (v: Value | undefined, max: number): v is Uint8Array => v instanceof Uint8Array && v.length <= max;

export function decodeWire(value: Value): WireMessage {
  if (!Array.isArray(value) || typeof value[0] !== "string") fail("message must be an array headed by its type");
  const a = value as Value[];
  const arity = (n: number): void => {
    if (a.length !== n) fail(`${String(a[0])} message must have ${n} elements`);
  };
  switch (a[0]) {
    case "proposal": {
      arity(8);
      const [, height, round, blockHash, validRound, proposer, signature, block] = a;
      if (!isUint(height) || height < 1 || !isUint(round) || !isUint(proposer) || proposer >= LIMITS.validatorsMax)
        fail("bad proposal numbers");
      if (typeof validRound !== "number" || !Number.isSafeInteger(validRound) || validRound < -1 || validRound >= round)
        fail("bad validRound");
      if (!isBytes(blockHash, 32) || blockHash.length !== 32 || !isBytes(signature, 128) || !isBytes(block, LIMITS.encodingBytesMax)) {
        fail("bad proposal bytes");
      }
      return { type: "proposal", height, round, blockHash, validRound, proposer, signature, block };
    }
    case "vote":
      arity(2);
      return { type: "vote", vote: signedVoteFromValue(a[1] as Value) };
    case "txs": {
      arity(2);
      const txs = a[1];
      if (!Array.isArray(txs) || txs.length > SYNC_LIMITS.gossipTxsMax || !txs.every((t) => isBytes(t, LIMITS.txBytesMax))) {
        fail("txs must be at most gossipTxsMax transactions");
      }
      return { type: "txs", txs: txs as Uint8Array[] };
    }
    case "status":
      arity(2);
      if (!isUint(a[1])) fail("status height must be an unsigned integer");
      return { type: "status", height: a[1] };
    case "getBlocks":
      arity(3);
      if (!isUint(a[1]) || a[1] < 1 || !isUint(a[2]) || a[2] < 1 || a[2] > SYNC_LIMITS.blocksPerRequestMax) fail("bad getBlocks range");
      return { type: "getBlocks", from: a[1], count: a[2] };
    case "blocks": {
      arity(2);
      const list = a[1];
      if (!Array.isArray(list) || list.length > SYNC_LIMITS.blocksPerRequestMax) fail("blocks must be a bounded list");
      return {
        type: "blocks",
        blocks: list.map((item) => {
          if (!Array.isArray(item) || item.length !== 2 || !isBytes(item[0], LIMITS.encodingBytesMax) || !isBytes(item[1], 64 * 1024)) {
            fail("blocks entries must be [block, commit]");
          }
          return { block: item[0] as Uint8Array, commit: item[1] as Uint8Array };
        }),
      };
    }
    case "evidence":
      arity(2);
      if (!isBytes(a[1], 4096)) fail("evidence must be bytes");
      return { type: "evidence", evidence: a[1] };
    default:
      return fail("unknown message type");
  }
}

/** A synced block with its certificate, decoded. Throws BAD_ENCODING. */
export function openSyncedBlock(entry: { readonly block: Uint8Array; readonly commit: Uint8Array }): {
  block: Block;
  commit: CommitCertificate;
} {
  return { block: decodeBlock(entry.block), commit: decodeCommit(entry.commit) };
}

export function syncedBlockEntry(block: Block, commit: CommitCertificate): { block: Uint8Array; commit: Uint8Array } {
  return { block: encodeBlock(block), commit: encodeCommit(commit) };
}
