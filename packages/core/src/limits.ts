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
  /** Transactions waiting for signature verification at once (beyond: BUSY). */
  verifyQueueTxsMax: 50_000,
  /** Transactions per message to a verification worker. */
  verifyChunkTxsMax: 256,
  /** Requests waiting for a commit at once. */
  apiCommitWaitersMax: 100_000,
} as const;

export type Limits = typeof LIMITS;
