/**
 * Shared fixtures for @tally/node tests: deterministic genesis documents for either crypto suite,
 * signed transactions, a Chain on a real ChainStore in a temp dir, and a full TallyNode with its API
 * on an ephemeral port. Everything opened here is closed and its temp dir removed by `close()`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  accountKey,
  addressOf,
  type CryptoSuite,
  type Genesis,
  type GenesisDoc,
  getSuite,
  type KeyPair,
  loadGenesis,
  type SuiteId,
  signTx,
  type TxEnvelope,
  type TxResult,
  toHex,
  utf8,
  type Value,
  verifyTxBytes,
} from "@tally/core";
import { Chain } from "../src/chain.js";
import type { NodeConfig } from "../src/config.js";
import { ExecutionEngine } from "../src/execution/engine.js";
import type { Module } from "../src/execution/module.js";
import { runQuery } from "../src/execution/query.js";
import { createLogger } from "../src/logger.js";
import { Mempool, type MempoolLimits } from "../src/mempool.js";
import { NodeMetrics } from "../src/metrics.js";
import { decodeAccount } from "../src/modules/accounts.js";
import { BUILTIN_MODULES } from "../src/modules/index.js";
import { TallyNode } from "../src/node.js";
import { DEFAULT_PRODUCER_OPTIONS, type ProducerOptions } from "../src/producer.js";
import { ChainStore } from "../src/storage/chain-store.js";
import { MemoryState as BaseMemoryState } from "../src/storage/memory-state.js";

export const SUITES: readonly SuiteId[] = ["ed25519", "sm2"];
export const CHAIN_ID = "tally-test";
export const ADMIN_ORG = "consortium";
export const GENESIS_TIME_MS = 1_700_000_000_000;

export const silentLogger = () => createLogger({ level: "silent" });

/** A key derived from a label: the same label gives the same key in every run. */
export function testKey(suite: CryptoSuite, label: string): KeyPair {
  return suite.keyPairFromPrivate(suite.hash(utf8(`tally-node-test/${suite.id}/${label}`)));
}

export interface TestAccount {
  readonly key: KeyPair;
  readonly address: string;
  readonly org: string;
  readonly roles: readonly string[];
}

export interface ExtraAccount {
  readonly name: string;
  readonly org?: string;
  readonly roles?: readonly string[];
}

export interface NetOptions {
  readonly chainId?: string;
  readonly genesisTimeMs?: number;
  /** Organisations besides "consortium". */
  readonly orgs?: ReadonlyArray<{ id: string; name: string }>;
  /** Accounts besides the admin, declared in genesis. */
  readonly accounts?: readonly ExtraAccount[];
  /** Varies the keys (validator and accounts) to get a different genesis with the same shape. */
  readonly keySalt?: string;
  /** The genesis's `contractEngine` pin (absent by default: the first contract transaction records it). */
  readonly contractEngine?: string;
}

export interface TestNet {
  readonly suite: CryptoSuite;
  readonly doc: GenesisDoc;
  readonly genesis: Genesis;
  readonly chainId: string;
  readonly validator: KeyPair;
  readonly admin: TestAccount;
  /** The extra accounts by name. */
  readonly accounts: Readonly<Record<string, TestAccount>>;
}

/** A genesis with one validator, the org "consortium" and an admin (roles admin, org-admin), plus `options`. */
export function makeNet(suiteId: SuiteId, options: NetOptions = {}): TestNet {
  const suite = getSuite(suiteId);
  const salt = options.keySalt ?? "";
  const chainId = options.chainId ?? CHAIN_ID;
  const validator = testKey(suite, `${salt}validator`);
  const account = (name: string, org: string, roles: readonly string[]): TestAccount => {
    const key = testKey(suite, `${salt}account/${name}`);
    return { key, address: addressOf(suite, key.publicKey), org, roles };
  };
  const admin = account("admin", ADMIN_ORG, ["admin", "org-admin"]);
  const accounts: Record<string, TestAccount> = {};
  for (const a of options.accounts ?? []) accounts[a.name] = account(a.name, a.org ?? ADMIN_ORG, a.roles ?? []);
  const doc: GenesisDoc = {
    chainId,
    crypto: suiteId,
    genesisTimeMs: options.genesisTimeMs ?? GENESIS_TIME_MS,
    validators: [{ name: "node0", publicKey: toHex(validator.publicKey), power: 1 }],
    orgs: [{ id: ADMIN_ORG, name: "Consortium administration" }, ...(options.orgs ?? [])],
    accounts: [admin, ...Object.values(accounts)].map((a) => ({ publicKey: toHex(a.key.publicKey), org: a.org, roles: [...a.roles] })),
    ...(options.contractEngine === undefined ? {} : { contractEngine: options.contractEngine }),
  };
  return { suite, doc, genesis: loadGenesis(doc), chainId, validator, admin, accounts };
}

/** An account key that is not in genesis. */
export function outsider(net: TestNet, label: string): TestAccount {
  const key = testKey(net.suite, `outsider/${label}`);
  return { key, address: addressOf(net.suite, key.publicKey), org: "", roles: [] };
}

export interface SignedTestTx {
  readonly bytes: Uint8Array;
  readonly hex: string;
  readonly hash: string;
}

export function sign(
  net: TestNet,
  key: KeyPair,
  nonce: number,
  module: string,
  method: string,
  args: Value,
  chainId = net.chainId,
): SignedTestTx {
  const { bytes, hash } = signTx(net.suite, key, { chainId, nonce, module, method, args });
  return { bytes, hex: toHex(bytes), hash };
}

/** A deterministic 32-byte digest for `label`. */
export function digestOf(net: TestNet, label: string): Uint8Array {
  return net.suite.hash(utf8(`evidence/${label}`));
}

export function notarize(net: TestNet, key: KeyPair, nonce: number, label: string, extra: Record<string, Value> = {}): SignedTestTx {
  return sign(net, key, nonce, "evidence", "notarize", { digest: digestOf(net, label), ...extra });
}

export function envelope(net: TestNet, tx: SignedTestTx): TxEnvelope {
  return verifyTxBytes(net.suite, net.chainId, tx.bytes);
}

export interface TempDir {
  readonly path: string;
  remove(): void;
}

export function tempDir(prefix = "tally-node-test-"): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

// ---- a Chain on a real store ------------------------------------------------------------------

export interface OpenChain {
  readonly chain: Chain;
  readonly store: ChainStore;
  readonly mempool: Mempool;
  readonly metrics: NodeMetrics;
  close(): Promise<void>;
}

/** Opens a Chain on a ChainStore at `path` (signatures verified inline, no workers). Closing keeps the files. */
export async function openChain(net: TestNet, path: string, limits?: MempoolLimits): Promise<OpenChain> {
  const store = ChainStore.open(path);
  const mempool = new Mempool(limits);
  const metrics = new NodeMetrics({ defaultMetrics: false });
  let chain: Chain;
  try {
    chain = await Chain.open(net.genesis, store, mempool, metrics, silentLogger());
  } catch (err) {
    await store.close();
    throw err;
  }
  return { chain, store, mempool, metrics, close: () => store.close() };
}

/** Admits `txs` (throwing on refusal), takes everything pooled and commits it as one block at `timeMs`. */
export async function commitBlock(c: OpenChain, net: TestNet, txs: readonly SignedTestTx[], timeMs: number) {
  for (const tx of txs) c.chain.admit(tx.bytes);
  const taken = c.mempool.take(10_000, 64 * 1024 * 1024);
  return c.chain.produceBlock(taken, net.validator, timeMs);
}

// ---- a full node with its HTTP API --------------------------------------------------------------

export interface RunningNode {
  readonly node: TallyNode;
  readonly url: string;
  readonly dataDir: string;
  /** Closes the node; the data dir is kept. */
  stop(): Promise<void>;
  /** Closes the node (if running) and removes its temp dir. */
  close(): Promise<void>;
}

export interface NodeOptions {
  readonly verifyWorkers?: number;
  readonly producer?: Partial<ProducerOptions>;
  /** Reuse a directory (e.g. to restart); by default a fresh temp dir owned by this node. */
  readonly dir?: string;
}

export async function startNode(net: TestNet, options: NodeOptions = {}): Promise<RunningNode> {
  const owned = options.dir === undefined ? tempDir() : undefined;
  const root = options.dir ?? (owned as TempDir).path;
  const dataDir = join(root, "data");
  const config: NodeConfig = {
    name: "test-node",
    api: { host: "127.0.0.1", port: 0 },
    producer: { ...DEFAULT_PRODUCER_OPTIONS, ...options.producer },
    logLevel: "silent",
    verifyWorkers: options.verifyWorkers ?? 0,
  };
  let node: TallyNode;
  try {
    node = await TallyNode.init(
      { dataDir, config, genesis: net.genesis, key: net.validator },
      { logger: silentLogger(), metrics: new NodeMetrics({ defaultMetrics: false }) },
    );
  } catch (err) {
    owned?.remove();
    throw err;
  }
  let running = true;
  const stop = async () => {
    if (!running) return;
    running = false;
    await node.close();
  };
  return {
    node,
    url: node.apiUrl,
    dataDir,
    stop,
    close: async () => {
      try {
        await stop();
      } finally {
        owned?.remove();
      }
    },
  };
}

// ---- HTTP -----------------------------------------------------------------------------------------

export interface HttpResponse {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked field by field in the tests
  readonly json: any;
  readonly text: string;
}

export async function http(
  url: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<HttpResponse> {
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: init.headers ?? (init.body === undefined ? {} : { "content-type": "application/json" }),
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text.length === 0 ? null : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

export const get = (base: string, path: string) => http(`${base}${path}`);
export const post = (base: string, path: string, body: unknown) => http(`${base}${path}`, { body: JSON.stringify(body) });

/** Committed state and tree nodes in memory, as the execution engine sees them through its readers. */
/** The product's in-memory state, plus what module tests ask of it. */
export class MemoryState extends BaseMemoryState {
  /** Keys and values (hex) under `prefix` (e.g. a module's name and "/"): what a refused call must leave untouched. */
  entriesUnder(prefix: string): Map<string, string> {
    const p = toHex(utf8(prefix));
    return new Map([...this.values].filter(([k]) => k.startsWith(p)).map(([k, v]) => [k, toHex(v)]));
  }
}

/**
 * A chain in memory for module tests: the real engine and modules over a MemoryState; every `call` is
 * its own block, nonces are tracked from state, and `query` runs a module query as the API would.
 */
export class MemoryChain {
  readonly engine: ExecutionEngine;
  readonly state = new MemoryState();

  constructor(
    readonly net: TestNet,
    modules: readonly Module[] = BUILTIN_MODULES,
  ) {
    this.engine = new ExecutionEngine(net.suite, net.chainId, modules);
    this.state.apply(this.engine.genesisState(net.genesis, this.state));
  }

  get height(): number {
    return this.state.height;
  }

  nonce(address: string): number {
    const bytes = this.state.read(accountKey(address));
    return bytes === null ? 0 : decodeAccount(bytes).nonce;
  }

  /** Runs one block with these calls (each `[who, module, method, args]`), in order. */
  block(calls: ReadonlyArray<readonly [TestAccount, string, string, Value]>): TxResult[] {
    const nonces = new Map<string, number>();
    const txs = calls.map(([who, module, method, args]) => {
      const n = nonces.get(who.address) ?? this.nonce(who.address);
      nonces.set(who.address, n + 1);
      return envelope(this.net, sign(this.net, who.key, n, module, method, args));
    });
    const height = this.state.height + 1;
    const out = this.engine.executeBlock(
      { height, timeMs: GENESIS_TIME_MS + height * 1000, prevStateRoot: this.state.root, txs },
      this.state.read,
      this.state,
    );
    this.state.apply(out);
    this.state.height = height;
    if (out.results.length !== calls.length) throw new Error(`${calls.length - out.results.length} transaction(s) skipped`);
    return out.results;
  }

  call(who: TestAccount, module: string, method: string, args: Value): TxResult {
    const [result] = this.block([[who, module, method, args]]);
    if (result === undefined) throw new Error("no result");
    return result;
  }

  /** A query as `caller` (a signed query), or anonymously. Throws the query's TallyError. */
  query(module: string, name: string, args: Value, caller: TestAccount | null = null): Value {
    const state = {
      suite: this.net.suite,
      chainId: this.net.chainId,
      height: this.state.height,
      get: this.state.read,
      scan: this.state.scan,
    };
    return runQuery(this.engine, state, module, name, args, caller === null ? null : caller.address);
  }
}
