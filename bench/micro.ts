/**
 * Microbenchmarks: crypto suites, transaction admission checks, canonical encoding, the sparse Merkle tree
 * (in memory and on the node's LMDB store) and block commits through ChainStore. Each runs on this thread.
 */
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { join } from "node:path";
import {
  applySmtUpdates,
  type BlockHeader,
  blockHash,
  type CryptoSuite,
  decodeTx,
  encodeHeader,
  encodeTx,
  fromHex,
  getSuite,
  type KeyPair,
  loadGenesis,
  merkleRoot,
  openTxBytes,
  precommitSignBytes,
  type SignedTx,
  type SmtRoot,
  type SmtUpdate,
  type SuiteId,
  signTx,
  smtEmptyRoot,
  type TxEnvelope,
  toHex,
  txSignBytes,
  verifyTxBytes,
} from "@tally/core";
import { BUILTIN_MODULES, ChainStore, ExecutionEngine } from "@tally/node";
import { fmt, makeTempDir, measureSync, progress, removeTempDir } from "./util.js";

export interface MicroResult {
  readonly name: string;
  readonly suite: SuiteId | "-";
  readonly value: number;
  readonly unit: string;
  readonly note?: string;
}

export interface MicroOptions {
  /** The chain suite for the suite-independent benchmarks (encoding, SMT, storage). */
  readonly suite: SuiteId;
  /** Seconds per rate measurement. */
  readonly seconds: number;
  /** SMT: keys per batch and the tree's final size. */
  readonly smtBatch: number;
  readonly smtKeys: number;
  /** Storage: transactions per block. */
  readonly blockTxs: number;
}

export const BENCH_CHAIN_ID = "tally-bench";

/** A notarize transaction body with a random digest, as clients send them. */
export function notarizeBody(suite: CryptoSuite, nonce: number) {
  return { chainId: BENCH_CHAIN_ID, nonce, module: "evidence", method: "notarize", args: { digest: suite.hash(randomBytes(32)) } };
}

function report(results: MicroResult[], r: MicroResult): void {
  results.push(r);
  progress(`  ${r.name}${r.suite === "-" ? "" : ` [${r.suite}]`}: ${fmt(r.value)} ${r.unit}${r.note ? ` (${r.note})` : ""}`);
}

function cryptoMicro(id: SuiteId, seconds: number, results: MicroResult[]): void {
  const suite = getSuite(id);
  const keys = Array.from({ length: 8 }, () => suite.generateKeyPair());
  const txs = Array.from({ length: 512 }, (_, i) => signTx(suite, keys[i % keys.length] as KeyPair, notarizeBody(suite, i)));
  const messages = txs.map((t) => txSignBytes(t.tx));
  const key = keys[0] as KeyPair;

  let i = 0;
  const sign = measureSync((n) => {
    for (let k = 0; k < n; k++) suite.sign(key.privateKey, messages[i++ % messages.length] as Uint8Array);
  }, seconds);
  report(results, { name: "sign (tx sign bytes)", suite: id, value: sign.perSecond, unit: "ops/s" });

  i = 0;
  const verify = measureSync((n) => {
    for (let k = 0; k < n; k++) {
      const t = txs[i % txs.length] as (typeof txs)[number];
      if (!suite.verify(t.tx.signer, messages[i % messages.length] as Uint8Array, t.tx.signature)) throw new Error("verify failed");
      i++;
    }
  }, seconds);
  report(results, { name: "verify (tx sign bytes)", suite: id, value: verify.perSecond, unit: "ops/s", note: "8 keys, cached" });

  const input = randomBytes(1024);
  const hash = measureSync((n) => {
    for (let k = 0; k < n; k++) suite.hash(input);
  }, seconds);
  report(results, { name: "hash 1 KiB", suite: id, value: (hash.perSecond * 1024) / 1e6, unit: "MB/s" });

  i = 0;
  const full = measureSync((n) => {
    for (let k = 0; k < n; k++) verifyTxBytes(suite, BENCH_CHAIN_ID, (txs[i++ % txs.length] as (typeof txs)[number]).bytes);
  }, seconds);
  report(results, {
    name: "verifyTxBytes (notarize tx)",
    suite: id,
    value: full.perSecond,
    unit: "tx/s",
    note: "decode + checks + signature",
  });
}

function encodingMicro(id: SuiteId, seconds: number, results: MicroResult[]): void {
  const suite = getSuite(id);
  const key = suite.generateKeyPair();
  const txs = Array.from({ length: 256 }, (_, i) => signTx(suite, key, notarizeBody(suite, i)));
  let i = 0;
  const codec = measureSync((n) => {
    for (let k = 0; k < n; k++) {
      const bytes = encodeTx((txs[i++ % txs.length] as (typeof txs)[number]).tx);
      decodeTx(bytes);
    }
  }, seconds);
  report(results, {
    name: "encode + decode tx",
    suite: id,
    value: codec.perSecond,
    unit: "tx/s",
    note: `${txs[0]?.bytes.length} B notarize tx`,
  });
  i = 0;
  const open = measureSync((n) => {
    for (let k = 0; k < n; k++) openTxBytes(suite, BENCH_CHAIN_ID, (txs[i++ % txs.length] as (typeof txs)[number]).bytes);
  }, seconds);
  report(results, {
    name: "openTxBytes (no signature)",
    suite: id,
    value: open.perSecond,
    unit: "tx/s",
    note: "node main-thread re-decode",
  });
}

function mapKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

function smtUpdates(suite: CryptoSuite, count: number): Array<{ key: Uint8Array; update: SmtUpdate }> {
  return Array.from({ length: count }, () => {
    const key = randomBytes(40);
    const value = new Uint8Array(randomBytes(120));
    return { key: new Uint8Array(key), update: { path: suite.hash(key), valueHash: suite.hash(value), value } };
  });
}

async function smtMicro(id: SuiteId, opts: MicroOptions, results: MicroResult[]): Promise<void> {
  const suite = getSuite(id);
  const batches = Math.ceil(opts.smtKeys / opts.smtBatch);
  const all = smtUpdates(suite, batches * opts.smtBatch);
  const batchAt = (b: number) => all.slice(b * opts.smtBatch, (b + 1) * opts.smtBatch);

  // In memory: nodes in a Map, as the chain keeps unflushed blocks' nodes.
  const nodes = new Map<string, Uint8Array>();
  const reader = { getNode: (ref: Uint8Array) => nodes.get(mapKey(ref)) };
  let root: SmtRoot = smtEmptyRoot();
  let last = 0;
  const start = performance.now();
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    const out = applySmtUpdates(
      suite.hash,
      reader,
      root,
      batchAt(b).map((u) => u.update),
      b + 1,
    );
    for (const [ref, record] of out.newNodes) nodes.set(mapKey(ref), record);
    root = out.root;
    last = performance.now() - t0;
  }
  const memSeconds = (performance.now() - start) / 1000;
  report(results, {
    name: `SMT batch update, Map store (${fmt(opts.smtBatch)}/batch to ${fmt(opts.smtKeys)} keys)`,
    suite: id,
    value: all.length / memSeconds,
    unit: "updates/s",
    note: `last batch ${last.toFixed(1)} ms, ${fmt(nodes.size)} records`,
  });

  // On the node's LMDB store: each batch is committed as a block through ChainStore.commitBlock.
  const dir = makeTempDir("tally-bench-smt-");
  const store = ChainStore.open(dir);
  try {
    root = smtEmptyRoot();
    let computeMs = 0;
    let commitMs = 0;
    let lastMs = 0;
    const zero = new Uint8Array(32);
    for (let b = 0; b < batches; b++) {
      const batch = batchAt(b);
      const t0 = performance.now();
      const out = applySmtUpdates(
        suite.hash,
        store,
        root,
        batch.map((u) => u.update),
        b + 1,
      );
      const t1 = performance.now();
      const header: BlockHeader = {
        chainId: BENCH_CHAIN_ID,
        height: b + 1,
        timeMs: b + 1,
        prevHash: zero,
        txCount: 0,
        txRoot: zero,
        stateRoot: out.root.hash,
        resultsRoot: zero,
        validatorsHash: zero,
        nextValidatorsHash: zero,
        proposer: zero,
      };
      const hash = suite.hash(encodeHeader(header));
      await store.commitBlock({
        block: { header, txs: [] },
        blockHash: hash,
        txHashes: [],
        txSenders: [],
        results: [],
        commit: { height: b + 1, round: 0, blockHash: hash, signatures: [] },
        stateWrites: batch.map((u) => ({ key: u.key, value: u.update.value })),
        stateRoot: out.root,
        smtNodes: out.newNodes,
      });
      const t2 = performance.now();
      computeMs += t1 - t0;
      commitMs += t2 - t1;
      lastMs = t2 - t0;
      root = out.root;
    }
    report(results, {
      name: `SMT batch update + commit, LMDB ChainStore (${fmt(opts.smtBatch)}/batch to ${fmt(opts.smtKeys)} keys)`,
      suite: id,
      value: all.length / ((computeMs + commitMs) / 1000),
      unit: "updates/s",
      note: `tree ${fmt(computeMs)} ms + commit ${fmt(commitMs)} ms; last batch ${lastMs.toFixed(1)} ms`,
    });
  } finally {
    await store.close();
    removeTempDir(dir);
  }
}

/**
 * Block commits of realistic blocks: notarize transactions of 8 accounts executed by the real engine, so the
 * state writes and tree records are those a node writes. Signatures are random bytes of the right length
 * (neither execution nor storage checks them), so the setup costs no signing. Only commitBlock is timed
 * for the headline; execution (with Merkle roots and the commit signature) is timed alongside.
 */
async function storageMicro(id: SuiteId, opts: MicroOptions, results: MicroResult[]): Promise<void> {
  const suite = getSuite(id);
  const validator = suite.generateKeyPair();
  const accounts = Array.from({ length: 8 }, () => suite.generateKeyPair());
  const genesis = loadGenesis({
    chainId: BENCH_CHAIN_ID,
    crypto: id,
    genesisTimeMs: Date.now(),
    validators: [{ name: "node0", publicKey: toHex(validator.publicKey), power: 1 }],
    orgs: [{ id: "consortium", name: "Consortium" }],
    accounts: accounts.map((a) => ({ publicKey: toHex(a.publicKey), org: "consortium", roles: ["clerk"] })),
  });
  const engine = new ExecutionEngine(suite, BENCH_CHAIN_ID, BUILTIN_MODULES);
  const dir = makeTempDir("tally-bench-store-");
  const store = ChainStore.open(dir);
  const nonces = accounts.map(() => 0);
  const makeBlockTxs = (): TxEnvelope[] =>
    Array.from({ length: opts.blockTxs }, (_, i) => {
      const a = i % accounts.length;
      const key = accounts[a] as KeyPair;
      const tx: SignedTx = {
        ...notarizeBody(suite, nonces[a] as number),
        signer: key.publicKey,
        signature: new Uint8Array(randomBytes(suite.signatureBytes)),
      };
      nonces[a] = (nonces[a] as number) + 1;
      return openTxBytes(suite, BENCH_CHAIN_ID, encodeTx(tx));
    });
  try {
    const g = engine.genesisState(genesis, store);
    await store.commitGenesis({ genesisHash: genesis.hash, stateRoot: g.stateRoot, stateWrites: g.stateWrites, smtNodes: g.smtNodes });
    let root = g.stateRoot;
    let prevHash = genesis.hash;
    let execMs = 0;
    let commitMs = 0;
    let blocks = 0;
    let writes = 0;
    let records = 0;
    const readState = (k: Uint8Array) => store.stateValue(k) ?? null;
    // Time-bounded: about `seconds` of commit time, at least 3 blocks, at most 500.
    while ((commitMs < opts.seconds * 1000 || blocks < 3) && blocks < 500) {
      const txs = makeBlockTxs();
      const height = blocks + 1;
      const t0 = performance.now();
      const out = engine.executeBlock({ height, timeMs: Date.now(), prevStateRoot: root, txs }, readState, store);
      const txBytes = out.included.map((e) => e.bytes);
      const header: BlockHeader = {
        chainId: BENCH_CHAIN_ID,
        height,
        timeMs: Date.now(),
        prevHash,
        txCount: txBytes.length,
        txRoot: merkleRoot(suite.hash, txBytes),
        stateRoot: out.stateRoot.hash,
        resultsRoot: merkleRoot(suite.hash, out.resultBytes),
        validatorsHash: genesis.validators.hash,
        nextValidatorsHash: genesis.validators.hash,
        proposer: validator.publicKey,
      };
      const hash = blockHash(suite, header);
      const signature = suite.sign(validator.privateKey, precommitSignBytes(BENCH_CHAIN_ID, height, 0, hash));
      const t1 = performance.now();
      if (out.included.length !== txs.length) throw new Error(`storage bench: ${out.skipped.length} txs skipped`);
      await store.commitBlock({
        block: { header, txs: txBytes },
        blockHash: hash,
        txHashes: out.included.map((e) => e.hash),
        txSenders: out.included.map((e) => fromHex(e.sender, 20)),
        results: out.resultBytes,
        commit: { height, round: 0, blockHash: hash, signatures: [{ validator: 0, signature }] },
        stateWrites: out.stateWrites,
        stateRoot: out.stateRoot,
        smtNodes: out.smtNodes,
      });
      const t2 = performance.now();
      execMs += t1 - t0;
      commitMs += t2 - t1;
      blocks++;
      writes += out.stateWrites.length;
      records += out.smtNodes.length;
      root = out.stateRoot;
      prevHash = hash;
    }
    const dbMiB = statSync(join(dir, "data.mdb"), { throwIfNoEntry: false })?.size ?? 0;
    report(results, {
      name: `ChainStore.commitBlock (${fmt(opts.blockTxs)}-tx notarize blocks)`,
      suite: id,
      value: blocks / (commitMs / 1000),
      unit: "blocks/s",
      note: `${(commitMs / blocks).toFixed(1)} ms/block = ${fmt((blocks * opts.blockTxs) / (commitMs / 1000))} tx/s; ${fmt(writes / blocks)} state writes + ${fmt(records / blocks)} tree records per block; ${blocks} blocks, db ${fmt(dbMiB / 2 ** 20)} MiB`,
    });
    report(results, {
      name: `execute block (${fmt(opts.blockTxs)} notarize txs, roots, commit signature)`,
      suite: id,
      value: (blocks * opts.blockTxs) / (execMs / 1000),
      unit: "tx/s",
      note: `${(execMs / blocks).toFixed(1)} ms/block, no signature checks`,
    });
  } finally {
    await store.close();
    removeTempDir(dir);
  }
}

export async function runMicro(opts: MicroOptions): Promise<MicroResult[]> {
  const results: MicroResult[] = [];
  for (const id of ["ed25519", "sm2"] as const) {
    progress(`micro: crypto ${id} (${opts.seconds} s per figure)`);
    cryptoMicro(id, opts.seconds, results);
  }
  progress(`micro: canonical encoding [${opts.suite}]`);
  encodingMicro(opts.suite, opts.seconds, results);
  progress(`micro: sparse Merkle tree [${opts.suite}]`);
  await smtMicro(opts.suite, opts, results);
  progress(`micro: storage [${opts.suite}]`);
  await storageMicro(opts.suite, opts, results);
  return results;
}
