/**
 * The chain service: owns the committed ledger (store + head), admits transactions into the mempool,
 * executes and commits blocks, answers queries and builds proofs and receipts. It does not decide when
 * blocks are made (producer.ts) nor speak HTTP (api/).
 */
import { EventEmitter } from "node:events";
import {
  type Block,
  type BlockHeader,
  blockHash,
  type CommitCertificate,
  decodeResult,
  equalBytes,
  type Genesis,
  type KeyPair,
  LIMITS,
  merkleProof,
  merkleRoot,
  precommitSignBytes,
  type Receipt,
  type SmtProof,
  smtProve,
  TallyError,
  type TxEnvelope,
  type TxResult,
  toHex,
  validatorIndex,
  verifyTxBytes,
} from "@tally/core";
import { ExecutionEngine } from "./execution/engine.js";
import type { Logger } from "./logger.js";
import type { Mempool } from "./mempool.js";
import type { NodeMetrics } from "./metrics.js";
import { type AccountRecord, readAccount } from "./modules/accounts.js";
import { BUILTIN_MODULES } from "./modules/index.js";
import type { ChainStore } from "./storage/chain-store.js";

const EMPTY_ROOT = new Uint8Array(32);

export interface Head {
  readonly height: number;
  readonly hash: Uint8Array;
  readonly timeMs: number;
  readonly stateRoot: Uint8Array;
}

export interface CommittedBlockEvent {
  readonly height: number;
  readonly hash: Uint8Array;
  readonly included: readonly TxEnvelope[];
  readonly results: readonly TxResult[];
  readonly skipped: ReadonlyArray<{ tx: TxEnvelope; reason: TallyError }>;
}

export interface TxLookup {
  readonly height: number;
  readonly index: number;
  readonly txBytes: Uint8Array;
  readonly result: TxResult;
  readonly blockHash: Uint8Array;
  readonly timeMs: number;
}

export interface StateProofView {
  readonly height: number;
  readonly stateRoot: Uint8Array;
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
  readonly proof: SmtProof;
}

export class Chain extends EventEmitter<{ committed: [CommittedBlockEvent] }> {
  readonly engine: ExecutionEngine;
  private headState!: Head;

  private constructor(
    readonly genesis: Genesis,
    readonly store: ChainStore,
    private readonly mempool: Mempool,
    private readonly metrics: NodeMetrics,
    private readonly log: Logger,
  ) {
    super();
    this.engine = new ExecutionEngine(genesis.suite, genesis.doc.chainId, BUILTIN_MODULES);
  }

  /** Opens the chain in `store`, writing the genesis state on first start and checking it afterwards. */
  static async open(genesis: Genesis, store: ChainStore, mempool: Mempool, metrics: NodeMetrics, log: Logger): Promise<Chain> {
    const chain = new Chain(genesis, store, mempool, metrics, log);
    const storedGenesis = store.genesisHash();
    if (storedGenesis === undefined) {
      const g = chain.engine.genesisState(genesis, store, EMPTY_ROOT);
      await store.commitGenesis({ genesisHash: genesis.hash, stateRoot: g.stateRoot, stateWrites: g.stateWrites, smtNodes: g.smtNodes });
      log.info({ genesisHash: genesis.hashHex, stateRoot: toHex(g.stateRoot) }, "genesis state written");
    } else if (!equalBytes(storedGenesis, genesis.hash)) {
      throw new TallyError("BAD_GENESIS", "database belongs to another genesis", { stored: toHex(storedGenesis), given: genesis.hashHex });
    }
    chain.headState = chain.loadHead();
    metrics.chainHeight.set(chain.headState.height);
    log.info({ height: chain.headState.height, hash: toHex(chain.headState.hash) }, "chain opened");
    return chain;
  }

  private loadHead(): Head {
    const height = this.store.headHeight();
    if (height === 0) {
      const stateRoot = this.store.genesisStateRoot();
      if (stateRoot === undefined) throw new TallyError("BAD_GENESIS", "genesis state root missing");
      return { height: 0, hash: this.genesis.hash, timeMs: this.genesis.doc.genesisTimeMs, stateRoot };
    }
    const header = this.store.header(height);
    if (header === undefined) throw new TallyError("NOT_FOUND", "head block missing from store", { height });
    return { height, hash: blockHash(this.genesis.suite, header), timeMs: header.timeMs, stateRoot: header.stateRoot };
  }

  get head(): Head {
    return this.headState;
  }

  get chainId(): string {
    return this.genesis.doc.chainId;
  }

  private readState = (key: Uint8Array): Uint8Array | null => this.store.stateValue(key) ?? null;

  /** Admission of one transaction into the mempool. Throws a TallyError on refusal; changes nothing then. */
  admit(bytes: Uint8Array): TxEnvelope {
    try {
      const env = verifyTxBytes(this.genesis.suite, this.chainId, bytes);
      if (this.store.txLocation(env.hash) !== undefined)
        throw new TallyError("DUPLICATE_TX", "transaction already committed", { hash: env.hashHex });
      const account = readAccount(this.readState, env.sender);
      if (account === null) throw new TallyError("UNKNOWN_SIGNER", undefined, { address: env.sender });
      const { def, parsed } = this.engine.resolveCall(env.tx.module, env.tx.method, env.tx.args);
      def.precheck?.({ suite: this.genesis.suite, caller: env.sender, get: this.readState }, parsed);
      this.mempool.add(env, account.nonce);
      this.metrics.mempoolAdmitted.inc();
      this.metrics.mempoolTxs.set(this.mempool.size);
      this.metrics.mempoolBytes.set(this.mempool.sizeBytes);
      return env;
    } catch (err) {
      if (err instanceof TallyError) this.metrics.mempoolRejected.inc({ code: err.code });
      throw err;
    }
  }

  /**
   * Executes `txs` on top of the head as block head+1, signs its commit certificate with the single
   * validator key and commits it durably. Returns undefined if transactions were given but none could be included.
   */
  async produceBlock(txs: readonly TxEnvelope[], proposerKey: KeyPair, timeMs: number): Promise<CommittedBlockEvent | undefined> {
    const { suite } = this.genesis;
    const head = this.headState;
    const height = head.height + 1;
    const blockTime = Math.max(timeMs, head.timeMs + 1);
    const started = performance.now();
    const out = this.engine.executeBlock({ height, timeMs: blockTime, prevStateRoot: head.stateRoot, txs }, this.readState, this.store);
    if (out.skipped.length > 0) {
      this.metrics.txsSkipped.inc(out.skipped.length);
      this.log.warn({ height, skipped: out.skipped.length, first: out.skipped[0]?.reason.code }, "transactions left out of block");
    }
    if (out.included.length === 0 && txs.length > 0) {
      this.mempool.remove(
        [],
        out.skipped.map((s) => s.tx),
      );
      return undefined;
    }
    const txBytes = out.included.map((e) => e.bytes);
    const header: BlockHeader = {
      chainId: this.chainId,
      height,
      timeMs: blockTime,
      prevHash: head.hash,
      txRoot: merkleRoot(suite.hash, txBytes),
      stateRoot: out.stateRoot,
      resultsRoot: merkleRoot(suite.hash, out.resultBytes),
      validatorsHash: this.genesis.validators.hash,
      nextValidatorsHash: this.genesis.validators.hash,
      proposer: proposerKey.publicKey,
    };
    const hash = blockHash(suite, header);
    const commit = this.selfCommit(header, hash, proposerKey);
    const block: Block = { header, txs: txBytes };
    const executed = performance.now();
    this.metrics.blockExecuteSeconds.observe((executed - started) / 1000);
    await this.store.commitBlock({
      block,
      blockHash: hash,
      txHashes: out.included.map((e) => e.hash),
      results: out.resultBytes,
      commit,
      stateWrites: out.stateWrites,
      smtNodes: out.smtNodes,
    });
    this.metrics.blockPersistSeconds.observe((performance.now() - executed) / 1000);
    this.headState = { height, hash, timeMs: blockTime, stateRoot: out.stateRoot };
    this.mempool.remove(
      out.included,
      out.skipped.map((s) => s.tx),
    );
    this.recordCommitMetrics(out.results);
    const event: CommittedBlockEvent = { height, hash, included: out.included, results: out.results, skipped: out.skipped };
    this.log.debug({ height, txs: out.included.length, hash: toHex(hash) }, "block committed");
    this.emit("committed", event);
    return event;
  }

  private recordCommitMetrics(results: readonly TxResult[]): void {
    const failed = results.filter((r) => r.status === "failed").length;
    this.metrics.blocksCommitted.inc();
    this.metrics.chainHeight.set(this.headState.height);
    this.metrics.blockTxs.observe(results.length);
    this.metrics.txsCommitted.inc({ status: "ok" }, results.length - failed);
    if (failed > 0) this.metrics.txsCommitted.inc({ status: "failed" }, failed);
    this.metrics.mempoolTxs.set(this.mempool.size);
    this.metrics.mempoolBytes.set(this.mempool.sizeBytes);
  }

  /** A single validator's commit certificate: valid only while it holds more than 2/3 of the power. */
  private selfCommit(header: BlockHeader, hash: Uint8Array, key: KeyPair): CommitCertificate {
    const index = validatorIndex(this.genesis.validators, key.publicKey);
    if (index < 0) throw new TallyError("FORBIDDEN", "this node's key is not a validator");
    const signature = this.genesis.suite.sign(key.privateKey, precommitSignBytes(this.chainId, header.height, 0, hash));
    return { height: header.height, round: 0, blockHash: hash, signatures: [{ validator: index, signature }] };
  }

  // ---- queries -------------------------------------------------------------------------------

  blockAt(height: number): { header: BlockHeader; hash: Uint8Array; block: Block; commit: CommitCertificate } | undefined {
    const block = this.store.block(height);
    const commit = this.store.commit(height);
    if (block === undefined || commit === undefined) return undefined;
    return { header: block.header, hash: blockHash(this.genesis.suite, block.header), block, commit };
  }

  heightOfBlock(hash: Uint8Array): number | undefined {
    return this.store.heightOfBlock(hash);
  }

  tx(hash: Uint8Array): TxLookup | undefined {
    const loc = this.store.txLocation(hash);
    if (loc === undefined) return undefined;
    const found = this.blockAt(loc.height);
    const resultBytes = this.store.results(loc.height)?.[loc.index];
    const txBytes = found?.block.txs[loc.index];
    if (found === undefined || resultBytes === undefined || txBytes === undefined) {
      throw new TallyError("NOT_FOUND", "indexed transaction missing from its block", { height: loc.height });
    }
    return { ...loc, txBytes, result: decodeResult(resultBytes), blockHash: found.hash, timeMs: found.header.timeMs };
  }

  account(address: string): AccountRecord | null {
    return readAccount(this.readState, address);
  }

  stateValue(key: Uint8Array): Uint8Array | null {
    return this.readState(key);
  }

  scanState(prefix: Uint8Array, limit: number, after?: Uint8Array): Array<[Uint8Array, Uint8Array]> {
    return [...this.store.scanState(prefix, Math.min(limit, LIMITS.apiListLimitMax), after)];
  }

  /** The value of `key` right after block `height` (default: head), with its proof against that header's state root. */
  stateProof(key: Uint8Array, height = this.headState.height): StateProofView {
    const stateRoot = height === 0 ? this.store.genesisStateRoot() : this.store.header(height)?.stateRoot;
    if (stateRoot === undefined || height > this.headState.height) throw new TallyError("NOT_FOUND", "no such height", { height });
    const { hash } = this.genesis.suite;
    const path = hash(key);
    const proof = smtProve(hash, this.store, stateRoot, path);
    let value: Uint8Array | null = null;
    if (proof.leaf !== null && equalBytes(proof.leaf.path, path)) {
      value = this.store.valueByHash(proof.leaf.valueHash) ?? null;
      if (value === null) throw new TallyError("NOT_FOUND", "state value missing for a proven leaf");
    }
    return { height, stateRoot, key, value, proof };
  }

  /** A receipt for a committed transaction, optionally proving `stateKey` at the same block. */
  receipt(txHash: Uint8Array, stateKey?: Uint8Array): Receipt {
    const loc = this.store.txLocation(txHash);
    if (loc === undefined) throw new TallyError("NOT_FOUND", "transaction not committed", { hash: toHex(txHash) });
    const found = this.blockAt(loc.height);
    const results = this.store.results(loc.height);
    if (found === undefined || results === undefined) throw new TallyError("NOT_FOUND", "block missing", { height: loc.height });
    const { hash } = this.genesis.suite;
    const stateEntry = stateKey === undefined ? null : this.stateProof(stateKey, loc.height);
    return {
      header: found.header,
      commit: found.commit,
      tx: found.block.txs[loc.index] as Uint8Array,
      txProof: merkleProof(hash, found.block.txs as Uint8Array[], loc.index),
      result: results[loc.index] as Uint8Array,
      resultProof: merkleProof(hash, results, loc.index),
      state: stateEntry === null ? null : { key: stateEntry.key, value: stateEntry.value, proof: stateEntry.proof },
    };
  }
}
