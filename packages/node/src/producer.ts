/**
 * Block production for a chain with a single validator (this node): a block is made as soon as
 * transactions wait, or on a fixed interval; empty blocks only when asked for. Multi-validator
 * consensus replaces this loop (spec/consensus.md).
 */
import { assert, type KeyPair, LIMITS } from "@tally/core";
import type { Chain } from "./chain.js";
import type { Clock } from "./clock.js";
import type { Logger } from "./logger.js";
import type { Mempool } from "./mempool.js";

export interface ProducerOptions {
  /** 0: cut a block as soon as transactions wait. > 0: cut a block every this many milliseconds. */
  readonly blockIntervalMs: number;
  /** Whether a block is cut when nothing waits (only with an interval). Off by default. */
  readonly emptyBlocks: boolean;
  readonly blockTxsMax: number;
  readonly blockBytesMax: number;
}

export const DEFAULT_PRODUCER_OPTIONS: ProducerOptions = {
  blockIntervalMs: 0,
  emptyBlocks: false,
  blockTxsMax: LIMITS.blockTxsMax,
  blockBytesMax: LIMITS.blockBytesMax,
};

export class BlockProducer {
  private running = false;
  private wake: (() => void) | undefined;
  private stopWake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly chain: Chain,
    private readonly mempool: Mempool,
    private readonly key: KeyPair,
    private readonly clock: Clock,
    private readonly options: ProducerOptions,
    private readonly log: Logger,
  ) {
    assert(
      options.blockTxsMax <= LIMITS.blockTxsMax && options.blockBytesMax <= LIMITS.blockBytesMax,
      "producer limits exceed protocol limits",
    );
  }

  start(): void {
    assert(!this.running, "producer started twice");
    this.running = true;
    this.loop = this.run().catch((err: unknown) => {
      // A failure here is a broken invariant or a storage fault: stop rather than continue half-committed.
      this.log.fatal({ err }, "block production failed; stopping the node");
      process.exitCode = 70;
      process.kill(process.pid, "SIGTERM");
    });
  }

  /** Called whenever a transaction enters the mempool. */
  notify(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopWake?.();
    await this.loop;
  }

  /** Resolves after `ms` (0: never by itself), or earlier on `notify` / `stop` when `wakeable`. */
  private sleep(ms: number, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms > 0 ? setTimeout(done, ms) : undefined;
      const self = this;
      function done(): void {
        if (timer !== undefined) clearTimeout(timer);
        self.wake = undefined;
        self.stopWake = undefined;
        resolve();
      }
      if (wakeable) this.wake = done;
      this.stopWake = done;
    });
  }

  private async run(): Promise<void> {
    const { blockIntervalMs, emptyBlocks, blockTxsMax, blockBytesMax } = this.options;
    this.log.info({ height: this.chain.head.height, blockIntervalMs, emptyBlocks }, "block production started");
    // Blocks being written while the next one executes (spec/storage.md §pipelining).
    const writing: Promise<unknown>[] = [];
    while (this.running) {
      if (blockIntervalMs > 0) await this.sleep(blockIntervalMs, false);
      else if (this.mempool.size === 0) await this.sleep(0, true);
      if (!this.running) break;
      const txs = this.mempool.take(blockTxsMax, blockBytesMax);
      if (txs.length === 0 && !emptyBlocks) continue;
      writing.push(this.chain.produceBlock(txs, this.key, this.clock.now()));
      while (writing.length >= LIMITS.unflushedBlocksMax) await writing.shift();
      // Let admissions that queued up while this block executed reach the pool before the next one.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(writing);
    this.log.info("block production stopped");
  }
}
