/**
 * Signs notarize transactions for the load generator off the main thread, before the timed phase (as a
 * fleet of clients signs on its own machines). Each request: one account, a run of consecutive nonces.
 */
import { randomBytes } from "node:crypto";
import { parentPort } from "node:worker_threads";
import { fromHex, getSuite, signTx, toHex } from "@tally/core";

export interface SignRequest {
  readonly id: number;
  readonly suite: "ed25519" | "sm2";
  readonly chainId: string;
  readonly privateKeyHex: string;
  readonly startNonce: number;
  readonly count: number;
}

export interface SignReply {
  readonly id: number;
  /** Hex of each transaction's canonical bytes, in nonce order. */
  readonly txs: string[];
  /** Each transaction's hash (hex), in nonce order. */
  readonly hashes: string[];
}

parentPort?.on("message", (req: SignRequest) => {
  const suite = getSuite(req.suite);
  const key = suite.keyPairFromPrivate(fromHex(req.privateKeyHex));
  const txs: string[] = new Array(req.count);
  const hashes: string[] = new Array(req.count);
  // One call for all random digests: unique with overwhelming probability, so no notarisation is refused.
  const digests = randomBytes(32 * req.count);
  for (let i = 0; i < req.count; i++) {
    const digest = new Uint8Array(digests.buffer, digests.byteOffset + 32 * i, 32).slice();
    const signed = signTx(suite, key, {
      chainId: req.chainId,
      nonce: req.startNonce + i,
      module: "evidence",
      method: "notarize",
      args: { digest },
    });
    txs[i] = toHex(signed.bytes);
    hashes[i] = signed.hash;
  }
  const reply: SignReply = { id: req.id, txs, hashes };
  parentPort?.postMessage(reply);
});
