/** Requests waiting for their transactions to commit, resolved from the chain's commit events. */
import { fromHex, LIMITS, TallyError, type TxResult } from "@tally/core";
import type { Chain, CommittedBlockEvent } from "../chain.js";
import type { NodeMetrics } from "../metrics.js";

export type CommitOutcome =
  | { readonly kind: "committed"; readonly height: number; readonly index: number; readonly result: TxResult }
  | { readonly kind: "dropped"; readonly reason: TallyError }
  | { readonly kind: "timeout" };

export class CommitWaiters {
  private readonly waiting = new Map<string, Array<(outcome: CommitOutcome) => void>>();
  private count = 0;

  constructor(
    private readonly chain: Chain,
    private readonly metrics: NodeMetrics,
  ) {
    chain.on("committed", (event) => this.onCommitted(event));
  }

  /** Resolves when the transaction commits, is dropped, or the timeout passes; at once if already committed. */
  wait(hashHex: string, timeoutMs: number): Promise<CommitOutcome> {
    const committed = this.chain.tx(fromHex(hashHex));
    if (committed !== undefined) {
      return Promise.resolve({ kind: "committed", height: committed.height, index: committed.index, result: committed.result });
    }
    if (this.count >= LIMITS.apiCommitWaitersMax) {
      throw new TallyError("TOO_LARGE", "too many requests waiting for commits", { max: LIMITS.apiCommitWaitersMax });
    }
    return new Promise((resolve) => {
      const list = this.waiting.get(hashHex) ?? [];
      const timer = setTimeout(() => settle({ kind: "timeout" }), timeoutMs);
      const settle = (outcome: CommitOutcome): void => {
        clearTimeout(timer);
        const current = this.waiting.get(hashHex);
        if (current !== undefined) {
          const rest = current.filter((f) => f !== settle);
          if (rest.length === 0) this.waiting.delete(hashHex);
          else this.waiting.set(hashHex, rest);
        }
        this.count--;
        this.metrics.commitWaiters.set(this.count);
        resolve(outcome);
      };
      list.push(settle);
      this.waiting.set(hashHex, list);
      this.count++;
      this.metrics.commitWaiters.set(this.count);
    });
  }

  /** Resolves everyone still waiting (node shutdown). */
  closeAll(): void {
    for (const list of [...this.waiting.values()])
      for (const settle of [...list]) settle({ kind: "dropped", reason: new TallyError("NODE_STOPPING") });
  }

  private onCommitted(event: CommittedBlockEvent): void {
    if (this.count === 0) return;
    event.included.forEach((env, index) => {
      const list = this.waiting.get(env.hashHex);
      const result = event.results[index];
      if (list === undefined || result === undefined) return;
      for (const settle of [...list]) settle({ kind: "committed", height: event.height, index, result });
    });
    for (const { tx, reason } of event.skipped) {
      const list = this.waiting.get(tx.hashHex);
      if (list !== undefined) for (const settle of [...list]) settle({ kind: "dropped", reason });
    }
  }
}
