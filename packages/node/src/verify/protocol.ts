import type { ErrorCode, ErrorMeta, SuiteId } from "@tally/core";

export interface WorkerInit {
  readonly suiteId: SuiteId;
  readonly chainId: string;
}

export interface VerifyRequest {
  readonly id: number;
  readonly txs: Uint8Array[];
}

/** null: the transaction is well-formed for the chain and its signature verifies. */
export type Verdict = { readonly code: ErrorCode; readonly message: string; readonly meta: ErrorMeta } | null;

export interface VerifyReply {
  readonly id: number;
  readonly verdicts: Verdict[];
}
