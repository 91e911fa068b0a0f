/**
 * A node directory (spec/node-dir.md): config.json, genesis.json, node-key.json and data/.
 * Everything a node reads at start-up is validated here; nothing else reads files or the environment.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromHex, fromKeyFile, type Genesis, type KeyPair, loadGenesis, TallyError } from "@tally/core";
import { DEFAULT_PRODUCER_OPTIONS, type ProducerOptions } from "./producer.js";

/** A member (validator or observer) this node knows an address for. */
export interface PeerConfig {
  /** Hex of the member's chain public key. */
  readonly publicKey: string;
  readonly host: string;
  readonly port: number;
}

/** Node-to-node networking (spec/p2p.md); absent for a single-validator chain. */
export interface P2PConfig {
  /** Where this node accepts links from other members. */
  readonly listen: { readonly host: string; readonly port: number };
  /** Members to dial (validators and observers); this node's own entry may appear and is skipped. */
  readonly peers: readonly PeerConfig[];
  /** Hex keys of observers allowed to link without a dialable address. Validators come from the genesis. */
  readonly observers: readonly string[];
}

/** Round timeouts (spec/consensus.md §timeouts), in milliseconds. */
export interface ConsensusConfig {
  readonly timeoutProposeMs: number;
  readonly timeoutPrevoteMs: number;
  readonly timeoutPrecommitMs: number;
  readonly timeoutDeltaMs: number;
  /** Minimum time between the commit of one block and the proposal of the next when no transaction waits. */
  readonly emptyBlockIntervalMs: number;
}

export const DEFAULT_CONSENSUS_CONFIG: ConsensusConfig = {
  timeoutProposeMs: 3_000,
  timeoutPrevoteMs: 1_000,
  timeoutPrecommitMs: 1_000,
  timeoutDeltaMs: 500,
  emptyBlockIntervalMs: 1_000,
};

export interface NodeConfig {
  readonly name: string;
  readonly api: { readonly host: string; readonly port: number };
  readonly producer: ProducerOptions;
  readonly logLevel: string;
  /** Signature verification threads; absent: one fewer than the machine's cores (at least 1). 0: verify inline. */
  readonly verifyWorkers?: number;
  readonly p2p?: P2PConfig;
  readonly consensus?: ConsensusConfig;
}

export interface NodeDir {
  readonly dir: string;
  readonly dataDir: string;
  readonly config: NodeConfig;
  readonly genesis: Genesis;
  readonly key: KeyPair;
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new TallyError("NOT_FOUND", `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new TallyError("BAD_REQUEST", `${path} is not valid JSON`);
  }
}

export function parseConfig(json: unknown): NodeConfig {
  const c = json as Partial<NodeConfig> & { producer?: Partial<ProducerOptions> };
  if (c === null || typeof c !== "object") throw new TallyError("BAD_REQUEST", "config must be an object");
  const port = c.api?.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new TallyError("BAD_REQUEST", "config api.port must be a port number");
  const producer = { ...DEFAULT_PRODUCER_OPTIONS, ...(c.producer ?? {}) };
  if (!Number.isSafeInteger(producer.blockIntervalMs) || producer.blockIntervalMs < 0)
    throw new TallyError("BAD_REQUEST", "producer.blockIntervalMs must be >= 0");
  if (c.verifyWorkers !== undefined && (!Number.isInteger(c.verifyWorkers) || c.verifyWorkers < 0 || c.verifyWorkers > 64)) {
    throw new TallyError("BAD_REQUEST", "verifyWorkers must be an integer from 0 to 64");
  }
  return {
    ...(c.verifyWorkers === undefined ? {} : { verifyWorkers: c.verifyWorkers }),
    ...(c.p2p === undefined ? {} : { p2p: parseP2P(c.p2p) }),
    ...(c.consensus === undefined ? {} : { consensus: parseConsensus(c.consensus) }),
    name: typeof c.name === "string" ? c.name : "node",
    api: { host: typeof c.api?.host === "string" ? c.api.host : "127.0.0.1", port },
    producer,
    logLevel: typeof c.logLevel === "string" ? c.logLevel : "info",
  };
}

function bad(message: string): never {
  throw new TallyError("BAD_REQUEST", message);
}

function isPort(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 65535;
}

function isKeyHex(v: unknown): v is string {
  if (typeof v !== "string") return false;
  try {
    fromHex(v);
    return v.length > 0;
  } catch {
    return false;
  }
}

function parseP2P(json: unknown): P2PConfig {
  const p = json as Partial<Record<keyof P2PConfig, unknown>>;
  if (p === null || typeof p !== "object") bad("config p2p must be an object");
  const listen = p.listen as { host?: unknown; port?: unknown } | undefined;
  if (listen === undefined || typeof listen.host !== "string" || !isPort(listen.port)) bad("config p2p.listen must be {host, port}");
  const peers = p.peers ?? [];
  const observers = p.observers ?? [];
  if (!Array.isArray(peers) || !Array.isArray(observers)) bad("config p2p.peers and p2p.observers must be arrays");
  return {
    listen: { host: listen.host, port: listen.port },
    peers: peers.map((peer: { publicKey?: unknown; host?: unknown; port?: unknown }) => {
      if (!isKeyHex(peer.publicKey) || typeof peer.host !== "string" || !isPort(peer.port) || peer.port === 0) {
        bad("config p2p.peers[] must be {publicKey (hex), host, port}");
      }
      return { publicKey: peer.publicKey, host: peer.host, port: peer.port };
    }),
    observers: observers.map((o: unknown) => {
      if (!isKeyHex(o)) bad("config p2p.observers[] must be hex public keys");
      return o;
    }),
  };
}

function parseConsensus(json: unknown): ConsensusConfig {
  if (json === null || typeof json !== "object") bad("config consensus must be an object");
  const merged = { ...DEFAULT_CONSENSUS_CONFIG, ...(json as Partial<ConsensusConfig>) };
  for (const [name, value] of Object.entries(merged)) {
    if (!Number.isSafeInteger(value) || value < 0 || value > 600_000) bad(`config consensus.${name} must be 0..600000 ms`);
  }
  return merged;
}

export function loadNodeDir(dir: string): NodeDir {
  return {
    dir,
    dataDir: join(dir, "data"),
    config: parseConfig(readJson(join(dir, "config.json"))),
    genesis: loadGenesis(readJson(join(dir, "genesis.json"))),
    key: fromKeyFile(readJson(join(dir, "node-key.json"))),
  };
}
