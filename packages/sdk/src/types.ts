/** Response shapes of the node API (spec/api.md). Bytes are lowercase hex. */
import type { JsonValue } from "@tally/core";

export interface StatusView {
  chainId: string;
  crypto: "ed25519" | "sm2";
  genesisHash: string;
  node: string;
  version: string;
  height: number;
  latestHash: string;
  latestTimeMs: number;
  stateRoot: string;
  validators: number;
  modules: string[];
}

export interface ResultView {
  status: "ok" | "failed";
  code: string | null;
  message: string | null;
  value: JsonValue;
  events: Array<{ module: string; name: string; data: JsonValue }>;
}

export type SubmitResult =
  | { hash: string; status: "pending" }
  | { hash: string; status: "committed"; height: number; index: number; result: ResultView };

/** One entry of a batch: each transaction is admitted (or committed) or refused on its own. */
export type BatchSubmitResult = SubmitResult | { hash?: string; error: { code: string; message: string; meta: Record<string, unknown> } };

export interface HeaderView {
  chainId: string;
  height: number;
  timeMs: number;
  time: string;
  prevHash: string;
  txCount: number;
  txRoot: string;
  stateRoot: string;
  resultsRoot: string;
  validatorsHash: string;
  nextValidatorsHash: string;
  proposer: string;
}

export interface BlockView {
  hash: string;
  header: HeaderView;
  commit: { height: number; round: number; blockHash: string; signatures: Array<{ validator: number; signature: string }> };
  txs: string[];
}

export interface TxView {
  hash: string;
  height: number;
  index: number;
  blockHash: string;
  timeMs: number;
  tx: {
    chainId: string;
    sender: string;
    signer: string;
    nonce: number;
    module: string;
    method: string;
    args: JsonValue;
    signature: string;
    raw: string;
  };
  result: ResultView;
}

export interface TxReceiptView {
  hash: string;
  height: number;
  /** Hex of the canonical CBOR receipt; check it with `verifyTxReceipt`. */
  receipt: string;
}

export interface AccountView {
  address: string;
  publicKey: string;
  org: string;
  roles: string[];
  nonce: number;
}

export interface StateView {
  height: number;
  stateRoot: string;
  key: string;
  value: string | null;
  /** Hex of the canonical CBOR sparse Merkle proof. */
  proof: string;
}

export interface EvidenceView {
  digest: string;
  submitter: string;
  height: number;
  timeMs: number;
  time: string;
  txHash: string;
  label: string | null;
  metadata: Record<string, string> | null;
}

export interface EvidenceList {
  records: EvidenceView[];
  next: string | null;
}
