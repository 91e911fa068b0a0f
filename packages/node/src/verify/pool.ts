/**
 * Verification of transaction signatures on worker threads, so the main thread (API, execution,
 * storage) is not bound by the fastest single-core signature rate. With `workers: 0` it verifies
 * inline. Batches are split into chunks spread over the workers.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { type CryptoSuite, isTallyError, LIMITS, TallyError, verifyTxBytes } from "@tally/core";
import type { Logger } from "../logger.js";
import type { Verdict, VerifyReply, VerifyRequest, WorkerInit } from "./protocol.js";

export function defaultVerifyWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}

interface Pending {
  resolve(verdicts: Verdict[]): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  queuedTxs: number;
  startedMs: number;
}

// From the build, the compiled worker; from TypeScript sources, an entry that loads tsx first.
const WORKER_URL = new URL(import.meta.url.endsWith(".ts") ? "./worker-from-source.mjs" : "./worker.js", import.meta.url);

/** A worker that dies this soon after starting, this many times in a row, is not restarted again. */
const WORKER_EARLY_EXIT_MS = 10_000;
const WORKER_EARLY_EXITS_MAX = 3;

export class VerifyPool {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private inFlightTxs = 0;
  private closed = false;
  private earlyExits = 0;

  constructor(
    private readonly suite: CryptoSuite,
    private readonly chainId: string,
    workers: number,
    private readonly log: Logger,
  ) {
    for (let i = 0; i < workers; i++) this.slots.push(this.spawn());
  }

  get workers(): number {
    return this.slots.length;
  }

  private spawn(): Slot {
    const init: WorkerInit = { suiteId: this.suite.id, chainId: this.chainId };
    const worker = new Worker(WORKER_URL, { workerData: init });
    const slot: Slot = { worker, pending: new Map(), queuedTxs: 0, startedMs: performance.now() };
    worker.on("message", (reply: VerifyReply) => {
      const p = slot.pending.get(reply.id);
      slot.pending.delete(reply.id);
      p?.resolve(reply.verdicts);
    });
    worker.on("error", (err) => this.replace(slot, err));
    worker.on("exit", (code) => {
      if (!this.closed) this.replace(slot, new Error(`verification worker exited with code ${code}`));
    });
    worker.unref();
    return slot;
  }

  /**
   * A crashed worker fails its pending requests (as INTERNAL) and is replaced. Workers that keep dying
   * right after start (a broken installation) are not restarted forever: the pool falls back to
   * verifying inline and says so.
   */
  private replace(slot: Slot, err: Error): void {
    const index = this.slots.indexOf(slot);
    if (index < 0 || this.closed) return;
    for (const p of slot.pending.values()) p.reject(new TallyError("INTERNAL", "verification worker failed"));
    slot.pending.clear();
    void slot.worker.terminate();
    this.earlyExits = performance.now() - slot.startedMs < WORKER_EARLY_EXIT_MS ? this.earlyExits + 1 : 0;
    if (this.earlyExits >= WORKER_EARLY_EXITS_MAX) {
      this.log.error({ err }, "verification workers keep failing at start; verifying on the main thread from now on");
      const others = this.slots.filter((other) => other !== slot);
      this.slots.length = 0;
      for (const other of others) {
        for (const p of other.pending.values()) p.reject(new TallyError("INTERNAL", "verification worker stopped"));
        other.pending.clear();
        void other.worker.terminate();
      }
      return;
    }
    this.log.error({ err }, "verification worker failed; replacing it");
    this.slots[index] = this.spawn();
  }

  /** One verdict per transaction, in order. Throws BUSY when too many transactions are already waiting. */
  async verify(txs: readonly Uint8Array[]): Promise<Verdict[]> {
    if (this.closed) throw new TallyError("NODE_STOPPING");
    if (this.slots.length === 0) return txs.map((bytes) => this.verifyInline(bytes));
    if (this.inFlightTxs + txs.length > LIMITS.verifyQueueTxsMax) {
      throw new TallyError("BUSY", "signature verification queue is full", { max: LIMITS.verifyQueueTxsMax });
    }
    this.inFlightTxs += txs.length;
    try {
      const chunkSize = Math.min(LIMITS.verifyChunkTxsMax, Math.ceil(txs.length / this.slots.length));
      const chunks: Promise<Verdict[]>[] = [];
      for (let start = 0; start < txs.length; start += chunkSize) chunks.push(this.send(txs.slice(start, start + chunkSize)));
      return (await Promise.all(chunks)).flat();
    } finally {
      this.inFlightTxs -= txs.length;
    }
  }

  private send(txs: Uint8Array[]): Promise<Verdict[]> {
    let slot = this.slots[0] as Slot;
    for (const s of this.slots) if (s.queuedTxs < slot.queuedTxs) slot = s;
    const id = this.nextId++;
    const request: VerifyRequest = { id, txs };
    slot.queuedTxs += txs.length;
    return new Promise<Verdict[]>((resolve, reject) => {
      const done = () => {
        slot.queuedTxs -= txs.length;
      };
      slot.pending.set(id, {
        resolve: (v) => {
          done();
          resolve(v);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      slot.worker.postMessage(request);
    });
  }

  private verifyInline(bytes: Uint8Array): Verdict {
    try {
      verifyTxBytes(this.suite, this.chainId, bytes);
      return null;
    } catch (err) {
      if (!isTallyError(err)) throw err;
      return { code: err.code, message: err.message, meta: err.meta };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const slot of this.slots) for (const p of slot.pending.values()) p.reject(new TallyError("NODE_STOPPING"));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
