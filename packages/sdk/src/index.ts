export {
  type EvidenceReceiptFile,
  type EvidenceSummary,
  fromKeyFile,
  type Genesis,
  type GenesisDoc,
  getSuite,
  type KeyFile,
  type KeyPair,
  loadGenesis,
  parseTokenAmount,
  TallyError,
  TOKEN_AMOUNT_MAX,
  toKeyFile,
  verifyEvidenceReceiptFile,
} from "@tally/core";
export {
  type AuditTrail,
  type AuditTxView,
  type ClientOptions,
  type QueryAnswer,
  type QueryOptions,
  type QuerySigner,
  type SubmitOptions,
  TallyClient,
} from "./client.js";
export { AccountSigner, type SignedTxBytes } from "./signer.js";
export {
  type ProvenTokenValue,
  type TokenAmount,
  TokenCalls,
  type TokenInfo,
  type TokenReadOptions,
  TokenReads,
  verifyStateEntry,
  verifyTokenBalance,
} from "./tokens.js";
export * from "./types.js";
export { verifyStateView, verifyTxReceipt } from "./verify.js";
