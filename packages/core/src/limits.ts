/**
 * Every bound in Tally, in one place (style: TigerBeetle's constants). Units are the last word of
 * each name. Consensus-relevant limits are part of the protocol: changing one is a protocol change.
 */
export const LIMITS = {
  /** Largest encoded transaction (signed envelope). */
  txBytesMax: 64 * 1024,
  /** Largest `args` value of a transaction, encoded. */
  txArgsBytesMax: 60 * 1024,
  /** Module and method names. */
  nameLengthMax: 64,
  /** Transactions a block may carry. */
  blockTxsMax: 5_000,
  /** Encoded transactions a block may carry, in bytes. */
  blockBytesMax: 8 * 1024 * 1024,
  /** Depth of nested arrays/maps in any decoded value. */
  encodingDepthMax: 16,
  /** Any CBOR document Tally decodes (blocks are the largest). */
  encodingBytesMax: 16 * 1024 * 1024,
  /** State keys and values. */
  stateKeyBytesMax: 256,
  stateValueBytesMax: 64 * 1024,
  /** Evidence label and metadata. */
  evidenceLabelLengthMax: 256,
  evidenceMetadataBytesMax: 4 * 1024,
  /** Validators in one set. */
  validatorsMax: 128,
  /** Voting power one validator may be given by a governance `setValidator` change (genesis powers are bounded by the set's total only). */
  validatorPowerMax: 2 ** 40,
  /**
   * Validator-set changes one proof may carry (spec/validators.md). A hop holds a header, a commit and a
   * list of up to validatorsMax validators, at most about 19 KiB (sm2, 128 signers): 512 hops stay well
   * inside encodingBytesMax together with the rest of a receipt.
   */
  validatorHopsMax: 512,
  /** Encoded equivocation evidence (two signed votes) a `validators.reportEquivocation` call may carry. */
  equivocationBytesMax: 1024,
  /** Accounts and organisations declared in genesis. */
  genesisAccountsMax: 10_000,
  /** Executed blocks whose storage write may be in progress at once (execution of the next overlaps the flush). */
  unflushedBlocksMax: 2,
  /** Mempool. */
  mempoolTxsMax: 50_000,
  mempoolBytesMax: 256 * 1024 * 1024,
  mempoolTxsPerAccountMax: 5_000,
  /** HTTP API. */
  apiBodyBytesMax: 8 * 1024 * 1024,
  apiBatchTxsMax: 2_000,
  apiWaitTimeoutMsMax: 60_000,
  apiListLimitMax: 1_000,
  /** A signed query is accepted this long before or after the node's clock (spec/api.md §queries). */
  queryAuthSkewMs: 120_000,
  /** Largest query request body (its JSON arguments); queries ask small questions. */
  queryBodyBytesMax: 16 * 1024,
  /** Transactions waiting for signature verification at once (beyond: BUSY). */
  verifyQueueTxsMax: 50_000,
  /** Transactions per message to a verification worker. */
  verifyChunkTxsMax: 256,
  /** Requests waiting for a commit at once. */
  apiCommitWaitersMax: 100_000,

  // --- p2p: the node-to-node transport (spec/p2p.md, packages/node/src/p2p) ---
  /** Members (validators + observers) one node keeps links to. */
  p2pPeersMax: 256,
  /** Largest frame payload (canonical CBOR after the 4-byte length prefix): a proposal carries a whole block. */
  p2pFrameBytesMax: 9 * 1024 * 1024,
  /** Largest frame accepted before the peer is authenticated: only the hello (spec/p2p.md §hello). */
  p2pHelloBytesMax: 1024,
  /** TCP connect + TLS handshake + hello exchange must finish within this. */
  p2pHandshakeTimeoutMs: 5_000,
  /** Connections still in their handshake, inbound and outbound together. */
  p2pPendingConnectionsMax: 64,
  /** Per-peer send queue (beyond it: the oldest queued message is dropped). Bytes must hold one largest frame. */
  p2pSendQueueMsgsMax: 10_000,
  p2pSendQueueBytesMax: 32 * 1024 * 1024,
  /** Inbound token bucket per peer: sustained rate and burst, in messages. */
  p2pInboundMsgsPerSecond: 20_000,
  p2pInboundBurstMsgs: 40_000,
  /** A peer whose messages are dropped by its bucket more than this often within one window is disconnected. */
  p2pFloodDropsMax: 20_000,
  p2pFloodWindowMs: 10_000,
  /** After a protocol violation (bad frame, flood, write stall) the member is neither accepted nor dialed for this long. */
  p2pViolationBanMs: 10_000,
  /**
   * Redial delay: base * 2^failures, with jitter, never above the max. The max is low because members
   * are a small known set and both ends redial (spec/p2p.md §dialing): a member that comes back should
   * find its peers retrying within seconds, and a dial every few seconds per absent member is cheap.
   */
  p2pDialBackoffBaseMs: 250,
  p2pDialBackoffMaxMs: 5_000,
  /** A link that stayed up this long resets the redial backoff. */
  p2pLinkStableMs: 10_000,
  /** A link with queued output that makes no write progress for this long is closed. */
  p2pWriteStallMs: 30_000,
} as const;

export type Limits = typeof LIMITS;
