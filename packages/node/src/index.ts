export { CommitWaiters } from "./api/commit-waiters.js";
export { createApi } from "./api/server.js";
export { Chain } from "./chain.js";
export { type Clock, systemClock } from "./clock.js";
export {
  type ConsensusConfig,
  DEFAULT_CONSENSUS_CONFIG,
  loadNodeDir,
  type NodeConfig,
  type NodeDir,
  type P2PConfig,
  type PeerConfig,
  parseConfig,
} from "./config.js";
export { ExecutionEngine } from "./execution/engine.js";
export type { CallContext, Module } from "./execution/module.js";
export { createLogger, type Logger } from "./logger.js";
export { Mempool } from "./mempool.js";
export { NodeMetrics } from "./metrics.js";
export { ROLE_ADMIN, ROLE_ORG_ADMIN } from "./modules/accounts.js";
export { BUILTIN_MODULES } from "./modules/index.js";
export { NODE_VERSION, type NodeOptions, TallyNode } from "./node.js";
export { DEFAULT_PRODUCER_OPTIONS, type ProducerOptions } from "./producer.js";
export { ChainStore } from "./storage/chain-store.js";
export { MemoryState } from "./storage/memory-state.js";
