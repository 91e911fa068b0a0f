/**
 * Signs notarize (or, with `transfer`, tokens.transfer) transactions for the load generator off the main thread, before the timed phase (as a
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
  /** Sign `tokens.transfer {symbol, to, amount}` instead of notarize transactions. */
  readonly transfer?: TransferArgs;
}

export interface TransferArgs {
  readonly symbol: string;
  /** Recipient address (hex). */
  readonly to: string;
  /** Decimal string. */
  readonly amount: string;
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
  const transfer = req.transfer;
  // One call for all random digests: unique with overwhelming probability, so no notarisation is refused.
  const digests = transfer === undefined ? randomBytes(32 * req.count) : Buffer.alloc(0);
  for (let i = 0; i < req.count; i++) {
    const nonce = req.startNonce + i;
    const signed =
      transfer === undefined
        ? signTx(suite, key, {
            chainId: req.chainId,
            nonce,
            module: "evidence",
            method: "notarize",
            args: { digest: new Uint8Array(digests.buffer, digests.byteOffset + 32 * i, 32).slice() },
          })
        : signTx(suite, key, {
            chainId: req.chainId,
            nonce,
            module: "tokens",
            method: "transfer",
            args: { symbol: transfer.symbol, to: transfer.to, amount: transfer.amount },
          });
    txs[i] = toHex(signed.bytes);
    hashes[i] = signed.hash;
  }
  const reply: SignReply = { id: req.id, txs, hashes };
  parentPort?.postMessage(reply);
});
