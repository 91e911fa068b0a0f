/**
 * The chain service: owns the committed ledger (store + head), admits transactions into the mempool,
 * executes and commits blocks, answers queries and builds proofs and receipts. It does not decide when
 * blocks are made (producer.ts) nor speak HTTP (api/).
 */
import { EventEmitter } from "node:events";
import {
  assert,
  type Block,
  type BlockHeader,
  blockHash,
  type CommitCertificate,
  declaredGas,
  decodeResult,
  equalBytes,
  fromHex,
  type Genesis,
  type KeyPair,
  LIMITS,
  merkleProof,
  merkleRoot,
  openTxBytes,
  precommitSignBytes,
  type Receipt,
  type SmtNodeReader,
  type SmtProof,
  type SmtRoot,
  smtProve,
  TallyError,
  type TxEnvelope,
  type TxResult,
  toHex,
  type ValidatorSet,
  type ValidatorSetHop,
  validatorIndex,
  verifyTxBytes,
} from "@tally/core";
import { observeContractResults } from "./contracts/metrics.js";
import { type BlockOutput, ExecutionEngine, refuseGated, type SkippedTx } from "./execution/engine.js";
import type { Logger } from "./logger.js";
import type { Mempool } from "./mempool.js";
import type { NodeMetrics } from "./metrics.js";
import { type AccountRecord, readAccount } from "./modules/accounts.js";
import { BUILTIN_MODULES } from "./modules/index.js";
import { validatorSetAt, validatorSetChanges } from "./modules/validators.js";
import type { ChainStore, SenderTx, StateWrite } from "./storage/chain-store.js";
import { VerifyPool } from "./verify/pool.js";

function noop(): void {}

function mapKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** The writes of an executed block whose storage write has not completed yet. */
class UnflushedBlock {
  private readonly values = new Map<string, Uint8Array | null>();
  private readonly nodes = new Map<string, Uint8Array>();

  constructor(
    readonly height: number,
    writes: readonly StateWrite[],
    nodes: ReadonlyArray<readonly [Uint8Array, Uint8Array]>,
  ) {
    for (const w of writes) this.values.set(mapKey(w.key), w.value);
    for (const [ref, record] of nodes) this.nodes.set(mapKey(ref), record);
  }

  /** undefined: this block did not write the key. */
  state(key: Uint8Array): Uint8Array | null | undefined {
    return this.values.get(mapKey(key));
  }

  node(ref: Uint8Array): Uint8Array | undefined {
    return this.nodes.get(mapKey(ref));
  }
}

export interface Head {
  readonly height: number;
  readonly hash: Uint8Array;
  readonly timeMs: number;
  readonly stateRoot: SmtRoot;
}

export interface CommittedBlockEvent {
  readonly height: number;
  readonly hash: Uint8Array;
  readonly included: readonly TxEnvelope[];
  readonly results: readonly TxResult[];
  readonly skipped: ReadonlyArray<{ tx: TxEnvelope; reason: TallyError }>;
}

/** An executed block that is not (yet) part of the chain: a proposal, or a synced block being applied. */
export interface Candidate {
  readonly block: Block;
  readonly hash: Uint8Array;
  /** The executed head it was built or checked on. */
  readonly parentHash: Uint8Array;
  readonly out: BlockOutput;
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
  /** Last durable block: what queries and receipts see. */
  private headState!: Head;
  /** Last executed block: the parent of the next one. Ahead of `headState` while blocks are being flushed. */
  private executedHead!: Head;
  /** Executed blocks whose write is not durable yet, oldest first; execution reads through them. */
  private readonly unflushed: UnflushedBlock[] = [];
  private admissionTail: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly genesis: Genesis,
    readonly store: ChainStore,
    private readonly mempool: Mempool,
    private readonly metrics: NodeMetrics,
    private readonly log: Logger,
    private readonly verifier: VerifyPool,
  ) {
    super();
    this.engine = new ExecutionEngine(genesis.suite, genesis.doc.chainId, BUILTIN_MODULES);
  }

  /** Opens the chain in `store`, writing the genesis state on first start and checking it afterwards. */
  static async open(
    genesis: Genesis,
    store: ChainStore,
    mempool: Mempool,
    metrics: NodeMetrics,
    log: Logger,
    verifier: VerifyPool = new VerifyPool(genesis.suite, genesis.doc.chainId, 0, log),
  ): Promise<Chain> {
    const chain = new Chain(genesis, store, mempool, metrics, log, verifier);
    const storedGenesis = store.genesisHash();
    if (storedGenesis === undefined) {
      const g = chain.engine.genesisState(genesis, store);
      await store.commitGenesis({ genesisHash: genesis.hash, stateRoot: g.stateRoot, stateWrites: g.stateWrites, smtNodes: g.smtNodes });
      log.info({ genesisHash: genesis.hashHex, stateRoot: toHex(g.stateRoot.hash) }, "genesis state written");
    } else if (!equalBytes(storedGenesis, genesis.hash)) {
      throw new TallyError("BAD_GENESIS", "database belongs to another genesis", { stored: toHex(storedGenesis), given: genesis.hashHex });
    }
    chain.headState = chain.loadHead();
    chain.executedHead = chain.headState;
    metrics.chainHeight.set(chain.headState.height);
    log.info({ height: chain.headState.height, hash: toHex(chain.headState.hash) }, "chain opened");
    return chain;
  }

  private loadHead(): Head {
    const height = this.store.headHeight();
    const stateRoot = this.stateRootAt(height);
    assert(stateRoot !== undefined, `state root of the head (height ${height}) is missing from the store`);
    if (height === 0) return { height: 0, hash: this.genesis.hash, timeMs: this.genesis.doc.genesisTimeMs, stateRoot };
    const header = this.store.header(height);
    assert(header !== undefined, `head block ${height} is missing from the store`);
    return { height, hash: blockHash(this.genesis.suite, header), timeMs: header.timeMs, stateRoot };
  }

  /** The state tree root after a durable height (0: genesis). */
  private stateRootAt(height: number): SmtRoot | undefined {
    const hash = height === 0 ? this.store.genesisStateRoot() : this.store.header(height)?.stateRoot;
    return hash === undefined ? undefined : this.store.stateRoot(height, hash);
  }

  get head(): Head {
    return this.headState;
  }

  get chainId(): string {
    return this.genesis.doc.chainId;
  }

  private readState = (key: Uint8Array): Uint8Array | null => this.store.stateValue(key) ?? null;

  /** State as of the last executed block: unflushed blocks first, newest wins, then the store. */
  private readExecState = (key: Uint8Array): Uint8Array | null => {
    for (let i = this.unflushed.length - 1; i >= 0; i--) {
      const hit = (this.unflushed[i] as UnflushedBlock).state(key);
      if (hit !== undefined) return hit;
    }
    return this.readState(key);
  };

  private readonly execNodes: SmtNodeReader = {
    getNode: (ref) => {
      for (let i = this.unflushed.length - 1; i >= 0; i--) {
        const hit = (this.unflushed[i] as UnflushedBlock).node(ref);
        if (hit !== undefined) return hit;
      }
      return this.store.getNode(ref);
    },
  };

  /**
   * Admission of transactions, each on its own: signatures are verified in parallel on the
   * verification pool, then the transactions are admitted in arrival order (across concurrent
   * callers too, so one account's pipelined transactions keep their nonce order). Each entry is the
   * admitted envelope or the TallyError that refused it; refused transactions change nothing.
   */
  submit(txs: readonly Uint8Array[]): Promise<Array<TxEnvelope | TallyError>> {
    const verdicts = this.verifier.verify(txs);
    const turn = this.admissionTail
      .then(() => verdicts)
      .then((vs) =>
        txs.map((bytes, i) => {
          const verdict = vs[i];
          if (verdict === undefined) return new TallyError("INTERNAL", "missing verification verdict");
          if (verdict !== null) {
            this.metrics.mempoolRejected.inc({ code: verdict.code });
            return new TallyError(verdict.code, verdict.message, verdict.meta);
          }
          try {
            return this.admitOpened(openTxBytes(this.genesis.suite, this.chainId, bytes));
          } catch (err) {
            if (err instanceof TallyError) return err;
            throw err;
          }
        }),
      );
    this.admissionTail = turn.then(noop, noop);
    return turn;
  }

  /** Synchronous admission of one transaction, verifying its signature inline. Throws a TallyError on refusal. */
  admit(bytes: Uint8Array): TxEnvelope {
    let env: TxEnvelope;
    try {
      env = verifyTxBytes(this.genesis.suite, this.chainId, bytes);
    } catch (err) {
      if (err instanceof TallyError) this.metrics.mempoolRejected.inc({ code: err.code });
      throw err;
    }
    return this.admitOpened(env);
  }

  /** Admission checks after the signature: not committed, registered signer, call shape, precheck, mempool. */
  private admitOpened(env: TxEnvelope): TxEnvelope {
    try {
      if (this.store.txLocation(env.hash) !== undefined)
        throw new TallyError("DUPLICATE_TX", "transaction already committed", { hash: env.hashHex });
      const account = readAccount(this.readExecState, env.sender);
      if (account === null) throw new TallyError("UNKNOWN_SIGNER", undefined, { address: env.sender });
      const { def, parsed } = this.engine.resolveCall(env.tx.module, env.tx.method, env.tx.args);
      refuseGated(this.readExecState, env.sender, account.org, env.tx.module);
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
   * The validator set that commits block `height` (spec/validators.md): set(h) is fixed by the state
   * after block h - 2, so it is known for every height up to the executed head + 2.
   */
  validatorSet(height: number): ValidatorSet {
    assert(height >= 1 && height <= this.executedHead.height + 2, "validator set asked for beyond the executed head + 2");
    return validatorSetAt(this.genesis.suite, this.readExecState, height);
  }

  /** The last executed block (decided, possibly still being written): the parent of the next one. */
  get executed(): Head {
    return this.executedHead;
  }

  /** Executed blocks whose write has not finished. */
  get unflushedBlocks(): number {
    return this.unflushed.length;
  }

  /**
   * Builds and executes the block after the last executed one from `txs` (proposer side). Transactions
   * that cannot run are left out (`skipped`). Nothing changes until `commitCandidate`.
   */
  buildCandidate(txs: readonly TxEnvelope[], proposer: Uint8Array, timeMs: number): Candidate {
    const parent = this.executedHead;
    const height = parent.height + 1;
    const blockTime = Math.max(timeMs, parent.timeMs + 1);
    const started = performance.now();
    const out = this.engine.executeBlock(
      { height, timeMs: blockTime, prevStateRoot: parent.stateRoot, txs },
      this.readExecState,
      this.execNodes,
    );
    this.metrics.blockExecuteSeconds.observe((performance.now() - started) / 1000);
    const { suite } = this.genesis;
    const txBytes = out.included.map((e) => e.bytes);
    const header: BlockHeader = {
      chainId: this.chainId,
      height,
      timeMs: blockTime,
      prevHash: parent.hash,
      txCount: txBytes.length,
      txRoot: merkleRoot(suite.hash, txBytes),
      stateRoot: out.stateRoot.hash,
      resultsRoot: merkleRoot(suite.hash, out.resultBytes),
      validatorsHash: this.validatorSet(height).hash,
      nextValidatorsHash: this.validatorSet(height + 1).hash,
      proposer,
    };
    return { block: { header, txs: txBytes }, hash: blockHash(suite, header), parentHash: parent.hash, out };
  }

  /**
   * Checks a block someone else built (a proposal or a synced block) as the next one: header fields
   * against the executed head and the validator sets, then executes it and compares the roots. The
   * transactions' signatures must have been checked already (`verifyBlockTxs`). Throws BAD_BLOCK.
   */
  checkCandidate(block: Block, blockHashValue: Uint8Array): Candidate {
    const { suite } = this.genesis;
    const parent = this.executedHead;
    const h = block.header;
    const height = parent.height + 1;
    const bad = (message: string, meta: Record<string, string | number> = {}): never => {
      throw new TallyError("BAD_BLOCK", message, { height: h.height, ...meta });
    };
    if (!equalBytes(blockHash(suite, h), blockHashValue)) bad("block hash does not match its header");
    if (h.chainId !== this.chainId) bad("block is for another chain");
    if (h.height !== height) bad("block is not the next height", { expected: height });
    if (!equalBytes(h.prevHash, parent.hash)) bad("block does not extend the executed head");
    if (h.timeMs <= parent.timeMs) bad("block time does not move forward");
    if (!equalBytes(h.validatorsHash, this.validatorSet(height).hash)) bad("block names another validator set");
    if (!equalBytes(h.nextValidatorsHash, this.validatorSet(height + 1).hash)) bad("block names another next validator set");
    if (validatorIndex(this.validatorSet(height), h.proposer) < 0) bad("block proposer is not a validator");
    if (!equalBytes(h.txRoot, merkleRoot(suite.hash, block.txs))) bad("txRoot does not match the transactions");
    const txs: TxEnvelope[] = [];
    for (const bytes of block.txs) {
      try {
        txs.push(openTxBytes(suite, this.chainId, bytes));
      } catch (err) {
        if (err instanceof TallyError) bad(`block holds an invalid transaction: ${err.message}`);
        throw err;
      }
    }
    const gas = txs.reduce((sum, env) => sum + declaredGas(env.tx), 0);
    if (gas > LIMITS.blockGasMax) bad("block offers more contract gas than a block may", { gas, max: LIMITS.blockGasMax });
    const started = performance.now();
    const out = this.engine.executeBlock(
      { height, timeMs: h.timeMs, prevStateRoot: parent.stateRoot, txs },
      this.readExecState,
      this.execNodes,
    );
    this.metrics.blockExecuteSeconds.observe((performance.now() - started) / 1000);
    if (out.skipped.length > 0) bad("block holds a transaction that cannot run", { reason: out.skipped[0]?.reason.code ?? "" });
    if (!equalBytes(out.stateRoot.hash, h.stateRoot)) bad("stateRoot differs from execution");
    if (!equalBytes(merkleRoot(suite.hash, out.resultBytes), h.resultsRoot)) bad("resultsRoot differs from execution");
    return { block, hash: blockHashValue, parentHash: parent.hash, out };
  }

  /**
   * Checks the signatures of a received block's transactions, except those this node verified when it
   * admitted them (still in its mempool): each signature is verified once per node.
   */
  async verifyBlockTxs(block: Block): Promise<void> {
    const unknown = block.txs.filter((bytes) => !this.mempool.has(toHex(this.genesis.suite.hash(bytes))));
    if (unknown.length === 0) return;
    const verdicts = await this.verifier.verify(unknown);
    const failed = verdicts.find((v) => v !== null);
    if (failed != null) throw new TallyError("BAD_BLOCK", `block holds a transaction that fails verification: ${failed.message}`);
  }

  /**
   * Makes a decided candidate the executed head at once (the next block may be built on it right away)
   * and writes it with its commit certificate; resolves once it is durable and announced.
   */
  async commitCandidate(
    candidate: Candidate,
    commit: CommitCertificate,
    leftOut: CommittedBlockEvent["skipped"] = [],
  ): Promise<CommittedBlockEvent> {
    const { block, hash, out } = candidate;
    const height = block.header.height;
    assert(equalBytes(candidate.parentHash, this.executedHead.hash), "candidate does not extend the executed head");
    assert(commit.height === height && equalBytes(commit.blockHash, hash), "commit certificate is for another block");
    const head: Head = { height, hash, timeMs: block.header.timeMs, stateRoot: out.stateRoot };
    const unflushed = new UnflushedBlock(height, out.stateWrites, out.smtNodes);
    this.unflushed.push(unflushed);
    this.executedHead = head;
    const started = performance.now();
    await this.store.commitBlock({
      block,
      blockHash: hash,
      txHashes: out.included.map((e) => e.hash),
      txSenders: out.included.map((e) => fromHex(e.sender, 20)),
      results: out.resultBytes,
      commit,
      stateWrites: out.stateWrites,
      stateRoot: out.stateRoot,
      smtNodes: out.smtNodes,
    });
    assert(this.unflushed[0] === unflushed, "blocks became durable out of order");
    this.unflushed.shift();
    this.metrics.blockPersistSeconds.observe((performance.now() - started) / 1000);
    this.headState = head;
    this.recordCommitMetrics(out.results);
    observeContractResults(this.metrics, out.included, out.results);
    const event: CommittedBlockEvent = { height, hash, included: out.included, results: out.results, skipped: leftOut };
    this.log.debug({ height, txs: out.included.length, hash: toHex(hash) }, "block committed");
    this.emit("committed", event);
    return event;
  }

  /**
   * Single-validator production: executes `txs` as the next block, signs its commit certificate with
   * the only validator key and writes it. Execution happens synchronously within this call, so the
   * caller may start the next block while this one is being flushed; the returned promise resolves once
   * the block is durable and announced. Resolves undefined if transactions were given but none could
   * be included.
   */
  async produceBlock(txs: readonly TxEnvelope[], proposerKey: KeyPair, timeMs: number): Promise<CommittedBlockEvent | undefined> {
    const parent = this.executedHead;
    const candidate = this.buildCandidate(txs, proposerKey.publicKey, timeMs);
    const { out } = candidate;
    const dropped = this.mempool.executed(
      out.included,
      out.skipped.map((s) => s.tx),
    );
    const leftOut = this.leftOut(out.skipped, dropped);
    if (out.included.length === 0 && txs.length > 0) {
      this.emit("committed", { height: parent.height, hash: parent.hash, included: [], results: [], skipped: leftOut });
      return undefined;
    }
    const commit = this.selfCommit(candidate.block.header, candidate.hash, proposerKey);
    const event = await this.commitCandidate(candidate, commit, leftOut);
    // In flight until durable: the accounts' next nonces still counted these transactions until now.
    this.mempool.committed(out.included);
    this.metrics.mempoolTxs.set(this.mempool.size);
    this.metrics.mempoolBytes.set(this.mempool.sizeBytes);
    return event;
  }

  /** Waiters learn why: the transaction itself could not run, or an earlier one of its account could not. */
  leftOut(skipped: readonly SkippedTx[], dropped: readonly TxEnvelope[]): Array<{ tx: TxEnvelope; reason: TallyError }> {
    const out = [
      ...skipped,
      ...dropped.map((tx) => ({
        tx,
        reason: new TallyError("NONCE_TOO_HIGH", "an earlier transaction of this account was left out of a block"),
      })),
    ];
    if (skipped.length > 0) {
      this.metrics.txsSkipped.inc(skipped.length);
      this.log.warn(
        { height: this.executedHead.height + 1, skipped: skipped.length, dropped: dropped.length, first: skipped[0]?.reason.code },
        "transactions left out of block",
      );
    }
    return out;
  }

  /** Tells waiters about transactions that were dropped without reaching a block. */
  announceLeftOut(leftOut: ReadonlyArray<{ tx: TxEnvelope; reason: TallyError }>): void {
    if (leftOut.length === 0) return;
    this.emit("committed", { height: this.headState.height, hash: this.headState.hash, included: [], results: [], skipped: leftOut });
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

  // Queries stop at the durable head: LMDB makes a block readable when its write commits, which can
  // be just before the flush that makes it durable, and nothing may be reported before that.

  blockAt(height: number): { header: BlockHeader; hash: Uint8Array; block: Block; commit: CommitCertificate } | undefined {
    if (height > this.headState.height) return undefined;
    const block = this.store.block(height);
    const commit = this.store.commit(height);
    if (block === undefined || commit === undefined) return undefined;
    return { header: block.header, hash: blockHash(this.genesis.suite, block.header), block, commit };
  }

  /** The commit certificate of durable block `height` (without decoding the block). */
  commitAt(height: number): CommitCertificate | undefined {
    return height > this.headState.height ? undefined : this.store.commit(height);
  }

  heightOfBlock(hash: Uint8Array): number | undefined {
    const height = this.store.heightOfBlock(hash);
    return height !== undefined && height <= this.headState.height ? height : undefined;
  }

  /** Where a transaction was committed, if its block is durable. */
  private txLocation(hash: Uint8Array): { height: number; index: number } | undefined {
    const loc = this.store.txLocation(hash);
    return loc !== undefined && loc.height <= this.headState.height ? loc : undefined;
  }

  tx(hash: Uint8Array): TxLookup | undefined {
    const loc = this.txLocation(hash);
    if (loc === undefined) return undefined;
    const found = this.blockAt(loc.height);
    const resultBytes = this.store.results(loc.height)?.[loc.index];
    const txBytes = found?.block.txs[loc.index];
    if (found === undefined || resultBytes === undefined || txBytes === undefined) {
      throw new TallyError("NOT_FOUND", "indexed transaction missing from its block", { height: loc.height });
    }
    return { ...loc, txBytes, result: decodeResult(resultBytes), blockHash: found.hash, timeMs: found.header.timeMs };
  }

  /** The nonce an account's next transaction must carry, as of the last executed block. */
  nextNonce(address: string): number {
    return readAccount(this.readExecState, address)?.nonce ?? 0;
  }

  account(address: string): AccountRecord | null {
    return readAccount(this.readState, address);
  }

  /** Durable transactions signed by `address`, in commit order (the audit trail). */
  txsBySender(address: string, limit: number, after?: { height: number; index: number }): SenderTx[] {
    const durable = this.headState.height;
    const rows = [...this.store.txsBySender(fromHex(address, 20), Math.min(limit, LIMITS.apiListLimitMax), after)];
    return rows.filter((r) => r.height <= durable);
  }

  stateValue(key: Uint8Array): Uint8Array | null {
    return this.readState(key);
  }

  scanState(prefix: Uint8Array, limit: number, after?: Uint8Array): Array<[Uint8Array, Uint8Array]> {
    return [...this.store.scanState(prefix, Math.min(limit, LIMITS.apiListLimitMax), after)];
  }

  /** The value of `key` right after block `height` (default: head), with its proof against that header's state root. */
  stateProof(key: Uint8Array, height = this.headState.height): StateProofView {
    const root = height <= this.headState.height ? this.stateRootAt(height) : undefined;
    if (root === undefined) throw new TallyError("NOT_FOUND", "no such height", { height });
    const { proof, value } = smtProve(this.store, root, this.genesis.suite.hash(key));
    return { height, stateRoot: root.hash, key, value, proof };
  }

  /** set(height) from durable state (queries): known up to the durable head + 2. */
  validatorSetDurable(height: number): ValidatorSet {
    assert(height >= 1 && height <= this.headState.height + 2, "validator set asked for beyond the durable head + 2");
    return validatorSetAt(this.genesis.suite, this.readState, height);
  }

  /** The validator-set hops from genesis to the set of block `height` (spec/validators.md §proof). */
  validatorProof(height: number): ValidatorSetHop[] {
    return validatorSetChanges(this.genesis.suite, this.readState, height).map((change) => {
      const found = this.blockAt(change.height);
      if (found === undefined) throw new TallyError("NOT_FOUND", "block of a validator-set change is missing", { height: change.height });
      return { header: found.header, commit: found.commit, nextValidators: change.nextValidators.validators };
    });
  }

  /** A receipt for a committed transaction, optionally proving `stateKey` at the same block. */
  receipt(txHash: Uint8Array, stateKey?: Uint8Array): Receipt {
    const loc = this.txLocation(txHash);
    if (loc === undefined) throw new TallyError("NOT_FOUND", "transaction not committed", { hash: toHex(txHash) });
    const found = this.blockAt(loc.height);
    const results = this.store.results(loc.height);
    if (found === undefined || results === undefined) throw new TallyError("NOT_FOUND", "block missing", { height: loc.height });
    const { hash } = this.genesis.suite;
    const stateEntry = stateKey === undefined ? null : this.stateProof(stateKey, loc.height);
    const validatorProof = this.validatorProof(loc.height);
    return {
      ...(validatorProof.length === 0 ? {} : { validatorProof }),
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
