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
  /**
   * Gas the contract transactions of one block may offer in total (the sum of their declared
   * `gasLimit`, spec/contracts.md §gas): bounds a block's contract execution to about a second on this
   * project's reference machine (5M gas ≈ 110 ms), however its transactions behave.
   */
  blockGasMax: 50_000_000,
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
  /** Blocks `GET /v1/validators` looks back through for each validator's last signed height. */
  apiLastSignedScanBlocksMax: 256,
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

  // --- contracts: the QuickJS sandbox (spec/contracts.md, packages/node/src/contracts) ---
  /** Contract source (UTF-8 bytes): must fit a deploy transaction's args with its other fields. */
  contractCodeBytesMax: 56 * 1024,
  /** Keys a contract writes (UTF-8 bytes; the full state key adds a 53-byte prefix under stateKeyBytesMax). */
  contractKeyBytesMax: 160,
  /** Values a contract writes (UTF-8 bytes). */
  contractValueBytesMax: 16 * 1024,
  /** JSON arguments passed to a method and JSON results returned by one (UTF-8 bytes). */
  contractArgsBytesMax: 16 * 1024,
  contractResultBytesMax: 16 * 1024,
  /** Event data a contract emits (JSON UTF-8 bytes) and events per transaction. */
  contractEventBytesMax: 4 * 1024,
  contractEventsMax: 256,
  /** Entries one `scan` returns. */
  contractScanLimitMax: 100,
  /** Contract-to-contract call depth (the transaction's own call is depth 1). */
  contractCallDepthMax: 8,
  /** Gas a transaction may offer (spec/contracts.md §gas). */
  contractGasLimitMax: 5_000_000,
  /** Gas a `contracts.simulate` query may use: queries are unauthenticated work on the API's thread. */
  contractSimulateGasMax: 1_000_000,
  /** QuickJS heap per call (checked by its object walk, spec/contracts.md §8). */
  contractMemoryBytesMax: 16 * 1024 * 1024,
  /**
   * The engine's whole WebAssembly memory, fixed (it never grows): a hard ceiling under the object
   * walk, which is checked only every few thousand steps. Reset to the same bytes before every
   * transaction, so an allocation fails at the same point on every node (spec/contracts.md §8).
   * Part of the engine id: changing it is a protocol change.
   */
  contractHeapBytesMax: 64 * 1024 * 1024,
  /**
   * Set aside in that heap at each reset and freed when it runs out, so the node has room to stop the
   * call; and the free block a call needs to go on (checked at host calls, memory checks, nested call
   * starts and call ends). Both decide where a call fails: protocol, like the heap size.
   */
  contractHeapReserveBytes: 1024 * 1024,
  contractHeapHeadroomBytes: 256 * 1024,
  /**
   * QuickJS stack (runtime.setMaxStackSize) of the transaction's own call, and of each nested call.
   * All levels together: 64 + 7 × 16 = 176 KiB. Measured: the interpreter's WebAssembly frames take
   * about 2.5× this on the native stack, which Node limits to ~984 KiB; a native overflow would
   * corrupt the engine, so the budget leaves most of it to the node's own frames.
   */
  contractStackBytesMax: 64 * 1024,
  contractNestedStackBytesMax: 16 * 1024,
  /**
   * QuickJS's own memory limit. This engine build cannot see allocation sizes, so the limit caps each
   * single allocation at this size and, counting 8 bytes per live allocation, the live allocations at
   * this / 8 (~500,000). The total bytes are checked separately against contractMemoryBytesMax.
   */
  contractAllocationBytesMax: 4 * 1024 * 1024,
  /** Length of an error message kept in a failed receipt. */
  contractErrorMessageMax: 256,

  // --- events: GET /v1/events and the WebSocket at /v1/ws (spec/api.md §events, packages/node/src/events) ---
  /** Blocks one events page request reads (it then answers with a `next` cursor to continue from). */
  eventsScanBlocksMax: 1_000,
  /** Transaction results one events page decodes, checked between blocks (a block may hold blockTxsMax). */
  eventsScanResultsMax: 20_000,
  /** WebSocket connections one node serves at once (beyond: error BUSY, close 1013). */
  wsConnectionsMax: 1_000,
  /** Subscriptions one connection may hold at once (beyond: error SUBSCRIPTION_LIMIT). */
  wsSubscriptionsPerConnectionMax: 32,
  /** Client subscription ids. */
  wsSubscriptionIdLengthMax: 32,
  /** A client message larger than this gets error TOO_LARGE; a frame larger than the frame cap closes the connection (1009). */
  wsMessageBytesMax: 4 * 1024,
  wsFrameBytesMax: 64 * 1024,
  /**
   * Messages one connection may send: a token bucket of this burst, refilled at this rate. A client
   * beyond it gets error BUSY and is disconnected (1008): a client needs a few messages per
   * subscription, so only a flood runs out.
   */
  wsInboundMessagesPerSecond: 20,
  wsInboundMessagesBurst: 64,
  /**
   * Bytes queued for one connection and not yet taken by the kernel. Sending pauses at half of it;
   * a queue above it, or one that stays above half for wsSlowConsumerMs, disconnects the client (1008).
   */
  wsOutboundQueueBytesMax: 4 * 1024 * 1024,
  wsSlowConsumerMs: 15_000,
  /** How far back a subscription may start: fromHeight >= head + 1 - this (older: page GET /v1/events). */
  wsReplayBlocksMax: 100_000,
  /** Work one connection does per event-loop turn before yielding: blocks read, messages and bytes sent. */
  wsPumpBlocksPerTurn: 64,
  wsPumpMessagesPerTurn: 512,
  wsPumpBytesPerTurn: 256 * 1024,
  /** Decoded recent blocks kept for live subscribers, by their JSON size. */
  wsBlockCacheBytesMax: 16 * 1024 * 1024,
  /** The server pings every connection this often; one that has not answered the previous ping is dropped. */
  wsHeartbeatMs: 30_000,
} as const;

export type Limits = typeof LIMITS;
