/**
 * Pending transactions (spec/mempool.md). Admission checks everything that does not depend on other
 * pending transactions' effects: canonical bytes, chain id, signature (checked here once, never again
 * for this node), registered signer, call shape, and the nonce, which must be exactly the account's
 * next nonce after its pending transactions (no gaps, no replays). Bounded by count, bytes and per account.
 */
import { LIMITS, TallyError, type TxEnvelope } from "@tally/core";

export interface MempoolLimits {
  readonly txsMax: number;
  readonly bytesMax: number;
  readonly txsPerAccountMax: number;
}

export const DEFAULT_MEMPOOL_LIMITS: MempoolLimits = {
  txsMax: LIMITS.mempoolTxsMax,
  bytesMax: LIMITS.mempoolBytesMax,
  txsPerAccountMax: LIMITS.mempoolTxsPerAccountMax,
};

interface AccountQueue {
  /** Nonce the next admitted transaction of this account must carry. */
  nextNonce: number;
  count: number;
}

export class Mempool {
  /** Insertion order is arrival order: blocks take transactions first come, first served. */
  private readonly byHash = new Map<string, TxEnvelope>();
  private readonly accounts = new Map<string, AccountQueue>();
  private bytes = 0;

  constructor(private readonly limits: MempoolLimits = DEFAULT_MEMPOOL_LIMITS) {}

  get size(): number {
    return this.byHash.size;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  has(hashHex: string): boolean {
    return this.byHash.has(hashHex);
  }

  /** `committedNonce` is the account's nonce in committed state. Throws a TallyError on refusal. */
  add(env: TxEnvelope, committedNonce: number): void {
    if (this.byHash.has(env.hashHex)) throw new TallyError("DUPLICATE_TX", undefined, { hash: env.hashHex });
    const queue = this.accounts.get(env.sender);
    const expected = queue?.nextNonce ?? committedNonce;
    if (env.tx.nonce < expected) throw new TallyError("NONCE_TOO_LOW", undefined, { expected, got: env.tx.nonce });
    if (env.tx.nonce > expected) throw new TallyError("NONCE_TOO_HIGH", undefined, { expected, got: env.tx.nonce });
    if (this.byHash.size >= this.limits.txsMax || this.bytes + env.bytes.length > this.limits.bytesMax) {
      throw new TallyError("MEMPOOL_FULL", undefined, { txs: this.byHash.size, bytes: this.bytes });
    }
    if ((queue?.count ?? 0) >= this.limits.txsPerAccountMax) {
      throw new TallyError("ACCOUNT_QUEUE_FULL", undefined, { max: this.limits.txsPerAccountMax });
    }
    this.byHash.set(env.hashHex, env);
    this.bytes += env.bytes.length;
    if (queue === undefined) this.accounts.set(env.sender, { nextNonce: env.tx.nonce + 1, count: 1 });
    else {
      queue.nextNonce = env.tx.nonce + 1;
      queue.count++;
    }
  }

  /** The oldest transactions, within the block limits. They stay pooled until `remove`. */
  take(txsMax: number, bytesMax: number): TxEnvelope[] {
    const out: TxEnvelope[] = [];
    let bytes = 0;
    for (const env of this.byHash.values()) {
      if (out.length >= txsMax || bytes + env.bytes.length > bytesMax) break;
      out.push(env);
      bytes += env.bytes.length;
    }
    return out;
  }

  /**
   * Drops committed or unexecutable transactions. An account whose transaction was dropped without
   * being committed loses its later pending transactions too: their nonces can no longer follow.
   */
  remove(envs: readonly TxEnvelope[], invalidated: readonly TxEnvelope[] = []): void {
    for (const env of envs) this.drop(env);
    const broken = new Set(invalidated.map((e) => e.sender));
    for (const env of invalidated) this.drop(env);
    if (broken.size === 0) return;
    for (const env of [...this.byHash.values()]) if (broken.has(env.sender)) this.drop(env);
    for (const sender of broken) this.accounts.delete(sender);
  }

  private drop(env: TxEnvelope): void {
    if (!this.byHash.delete(env.hashHex)) return;
    this.bytes -= env.bytes.length;
    const queue = this.accounts.get(env.sender);
    if (queue === undefined) return;
    queue.count--;
    if (queue.count === 0) this.accounts.delete(env.sender);
  }
}
