/** Offline verification helpers: everything here checks against a genesis, never against a node's word. */
import {
  decode,
  decodeReceipt,
  decodeSmtProof,
  fromHex,
  type Genesis,
  type VerifiedReceipt,
  verifyReceipt,
  verifySmtProof,
} from "@tally/core";
import type { StateView } from "./types.js";

/** Verifies a transaction receipt (hex from `TallyClient.txReceipt`) against the genesis. */
export function verifyTxReceipt(genesis: Genesis, receiptHex: string): VerifiedReceipt {
  return verifyReceipt(genesis, decodeReceipt(fromHex(receiptHex)));
}

/**
 * Checks a state view's proof against a state root you already trust (for instance from a verified
 * receipt's header). The root inside the view is the node's claim and is not trusted here.
 */
export function verifyStateView(genesis: Genesis, trustedStateRoot: Uint8Array, view: StateView): boolean {
  try {
    const proof = decodeSmtProof(decode(fromHex(view.proof)));
    return verifySmtProof(genesis.suite.hash, trustedStateRoot, fromHex(view.key), view.value === null ? null : fromHex(view.value), proof);
  } catch {
    return false;
  }
}
