/**
 * Pending transactions (spec/mempool.md). Admission checks everything that does not depend on other
 * pending transactions' effects: canonical bytes, chain id, signature (checked here once, never again
 * for this node), registered signer, call shape, and the nonce, which must be exactly the account's
 * next nonce after its pending transactions (no gaps, no replays). Bounded by count, bytes and per account.
 */
import { assert, declaredGas, LIMITS, TallyError, type TxEnvelope } from "@tally/core";

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
  /** Transactions waiting in the pool. */
  pooled: number;
  /** Transactions taken into blocks that are not durable yet. */
  inFlight: number;
  /** Nonce after the account's last transaction that a block included (while some are in flight). */
  includedNextNonce: number | undefined;
}

/**
 * A transaction's life here: `add` (pooled) -> `take` (in a block being built or written) ->
 * `executed` (left out if it could not run) -> `committed` (durable: forgotten). While in flight it
 * still counts for its account's nonce sequence and for the limits, and cannot be admitted twice.
 */
export class Mempool {
  /** Insertion order is arrival order: blocks take transactions first come, first served. */
  private readonly pooled = new Map<string, TxEnvelope>();
  private readonly inFlight = new Set<string>();
  private readonly accounts = new Map<string, AccountQueue>();
  /** Bytes of pooled transactions. */
  private bytes = 0;
  /** Bytes of in-flight transactions: they count for the limit until their block is durable. */
  private inFlightBytes = 0;

  constructor(private readonly limits: MempoolLimits = DEFAULT_MEMPOOL_LIMITS) {}

  /** Transactions waiting to be taken into a block. */
  get size(): number {
    return this.pooled.size;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  has(hashHex: string): boolean {
    return this.pooled.has(hashHex) || this.inFlight.has(hashHex);
  }

  /** `committedNonce` is the account's nonce in committed state. Throws a TallyError on refusal. */
  add(env: TxEnvelope, committedNonce: number): void {
    if (this.has(env.hashHex)) throw new TallyError("DUPLICATE_TX", undefined, { hash: env.hashHex });
    const queue = this.accounts.get(env.sender);
    const expected = queue?.nextNonce ?? committedNonce;
    if (env.tx.nonce < expected) throw new TallyError("NONCE_TOO_LOW", undefined, { expected, got: env.tx.nonce });
    if (env.tx.nonce > expected) throw new TallyError("NONCE_TOO_HIGH", undefined, { expected, got: env.tx.nonce });
    if (
      this.pooled.size + this.inFlight.size >= this.limits.txsMax ||
      this.bytes + this.inFlightBytes + env.bytes.length > this.limits.bytesMax
    ) {
      throw new TallyError("MEMPOOL_FULL", undefined, { txs: this.pooled.size + this.inFlight.size, bytes: this.bytes });
    }
    if ((queue?.pooled ?? 0) + (queue?.inFlight ?? 0) >= this.limits.txsPerAccountMax) {
      throw new TallyError("ACCOUNT_QUEUE_FULL", undefined, { max: this.limits.txsPerAccountMax });
    }
    this.pooled.set(env.hashHex, env);
    this.bytes += env.bytes.length;
    if (queue === undefined) {
      this.accounts.set(env.sender, { nextNonce: env.tx.nonce + 1, pooled: 1, inFlight: 0, includedNextNonce: undefined });
    } else {
      queue.nextNonce = env.tx.nonce + 1;
      queue.pooled++;
    }
  }

  /** Moves the oldest pooled transactions, within the block limits, into flight. */
  take(txsMax: number, bytesMax: number): TxEnvelope[] {
    const out = this.oldestWithin(txsMax, bytesMax);
    for (const env of out) {
      this.pooled.delete(env.hashHex);
      this.inFlight.add(env.hashHex);
      this.bytes -= env.bytes.length;
      this.inFlightBytes += env.bytes.length;
      const queue = this.accounts.get(env.sender);
      assert(queue !== undefined, "pooled transaction without account queue");
      queue.pooled--;
      queue.inFlight++;
    }
    return out;
  }

  /**
   * After a block executed: transactions it left out are forgotten, and so are their accounts' later
   * pooled transactions (their nonces can no longer follow); such an account's next nonce falls back
   * to the one after its last included transaction, or to committed state.
   */
  executed(included: readonly TxEnvelope[], skipped: readonly TxEnvelope[]): TxEnvelope[] {
    for (const env of included) {
      const queue = this.accounts.get(env.sender);
      if (queue !== undefined) queue.includedNextNonce = env.tx.nonce + 1;
    }
    if (skipped.length === 0) return [];
    const broken = new Set<string>();
    for (const env of skipped) {
      if (!this.inFlight.delete(env.hashHex)) continue;
      this.inFlightBytes -= env.bytes.length;
      broken.add(env.sender);
      const queue = this.accounts.get(env.sender);
      if (queue !== undefined) queue.inFlight--;
    }
    const dropped: TxEnvelope[] = [];
    for (const env of [...this.pooled.values()]) {
      if (!broken.has(env.sender)) continue;
      this.pooled.delete(env.hashHex);
      this.bytes -= env.bytes.length;
      dropped.push(env);
    }
    for (const sender of broken) {
      const queue = this.accounts.get(sender);
      if (queue === undefined) continue;
      queue.pooled = 0;
      if (queue.inFlight === 0 || queue.includedNextNonce === undefined) this.accounts.delete(sender);
      else queue.nextNonce = queue.includedNextNonce;
    }
    return dropped;
  }

  // ---- consensus mode (spec/mempool.md §consensus): proposals may not be decided, so nothing is taken.

  /** The oldest pooled transactions within the block limits, left in the pool. */
  peek(txsMax: number, bytesMax: number): TxEnvelope[] {
    return this.oldestWithin(txsMax, bytesMax);
  }

  /**
   * The longest prefix of the pool in arrival order (so each account's nonces stay in order) within
   * the count and byte limits and the block's gas budget (LIMITS.blockGasMax, which every validator
   * checks): the rest waits for a later block.
   */
  private oldestWithin(txsMax: number, bytesMax: number): TxEnvelope[] {
    const out: TxEnvelope[] = [];
    let bytes = 0;
    let gas = 0;
    for (const env of this.pooled.values()) {
      const txGas = declaredGas(env.tx);
      if (out.length >= txsMax || bytes + env.bytes.length > bytesMax || gas + txGas > LIMITS.blockGasMax) break;
      out.push(env);
      bytes += env.bytes.length;
      gas += txGas;
    }
    return out;
  }

  /**
   * A decided block (ours or another proposer's) holds these transactions: they leave the pool, and so
   * do pooled transactions of the same accounts whose nonces the block overtook (another transaction
   * with that nonce won). `nonceAfter` gives an account's next nonce after the block.
   */
  removeIncluded(
    included: ReadonlyArray<{ readonly hashHex: string; readonly sender: string }>,
    nonceAfter: (sender: string) => number,
  ): void {
    const senders = new Set<string>();
    for (const { hashHex, sender } of included) {
      senders.add(sender);
      const env = this.pooled.get(hashHex);
      if (env === undefined) continue;
      this.pooled.delete(hashHex);
      this.bytes -= env.bytes.length;
      const queue = this.accounts.get(sender);
      if (queue !== undefined) queue.pooled--;
    }
    let overtaken = false;
    for (const sender of senders) {
      const queue = this.accounts.get(sender);
      if (queue === undefined) continue;
      const next = nonceAfter(sender);
      if (queue.pooled > 0 && queue.nextNonce > next) {
        // The remaining pooled transactions follow on; any below `next` lost to another transaction.
        // Pooled nonces of an account are contiguous and end just below nextNonce.
        overtaken ||= queue.nextNonce - queue.pooled < next;
        continue;
      }
      if (queue.inFlight === 0) this.accounts.delete(sender);
      else queue.nextNonce = Math.max(queue.nextNonce, next);
      if (queue.pooled > 0) overtaken = true;
    }
    if (!overtaken) return;
    for (const env of [...this.pooled.values()]) {
      if (senders.has(env.sender) && env.tx.nonce < nonceAfter(env.sender)) this.dropPooled(env);
    }
    for (const sender of senders) {
      const queue = this.accounts.get(sender);
      if (queue !== undefined && queue.pooled === 0 && queue.inFlight === 0) this.accounts.delete(sender);
    }
  }

  private dropPooled(env: TxEnvelope): void {
    if (!this.pooled.delete(env.hashHex)) return;
    this.bytes -= env.bytes.length;
    const queue = this.accounts.get(env.sender);
    if (queue !== undefined) queue.pooled--;
  }

  /**
   * Pooled transactions that could not run when this node built a proposal: they and their accounts'
   * later pooled transactions are dropped (their nonces can no longer follow). Returns the later ones.
   */
  dropUnrunnable(skipped: readonly TxEnvelope[]): TxEnvelope[] {
    if (skipped.length === 0) return [];
    const broken = new Set<string>();
    for (const env of skipped) {
      this.dropPooled(env);
      broken.add(env.sender);
    }
    const dropped: TxEnvelope[] = [];
    for (const env of [...this.pooled.values()]) {
      if (!broken.has(env.sender)) continue;
      this.dropPooled(env);
      dropped.push(env);
    }
    for (const sender of broken) {
      const queue = this.accounts.get(sender);
      if (queue !== undefined && queue.inFlight === 0) this.accounts.delete(sender);
    }
    return dropped;
  }

  /** The block holding these transactions is durable: they are no longer this pool's concern. */
  committed(included: readonly TxEnvelope[]): void {
    for (const env of included) {
      if (!this.inFlight.delete(env.hashHex)) continue;
      this.inFlightBytes -= env.bytes.length;
      const queue = this.accounts.get(env.sender);
      if (queue === undefined) continue;
      queue.inFlight--;
      if (queue.inFlight === 0) {
        queue.includedNextNonce = undefined;
        if (queue.pooled === 0) this.accounts.delete(env.sender);
      }
    }
  }
}
