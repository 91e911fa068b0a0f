/**
 * `tally init`: a genesis, one directory per node, an admin account key and network.json
 * (spec/node-dir.md). Validators come first (node0..node{N-1}, in the genesis), then observers
 * (node{N}..node{N+M-1}, not in the genesis). A single validator without observers gets no p2p section.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  CONTRACT_ENGINE_ID,
  type GenesisDoc,
  getSuite,
  type KeyPair,
  loadGenesis,
  type SuiteId,
  TallyError,
  toHex,
  toKeyFile,
} from "@tally/core";
import { DEFAULT_CONSENSUS_CONFIG, DEFAULT_PRODUCER_OPTIONS, type NodeConfig, type PeerConfig, parseConfig } from "@tally/node";
import { CommandFailure, DEFAULT_P2P_PORT, readJsonFile, writeJsonFile } from "../io.js";

export const MAX_VALIDATORS = 64;
export const MAX_OBSERVERS = 32;
/** Every node of a local network listens on this host. */
export const LOCAL_HOST = "127.0.0.1";
export const NETWORK_FILE = "network.json";

export interface InitOptions {
  readonly validators: number;
  /** Default 0. */
  readonly observers?: number;
  readonly crypto: SuiteId;
  readonly chainId: string;
  /** API port of node 0; node k uses apiPort + k. */
  readonly apiPort: number;
  /** p2p port of node 0; node k uses p2pPort + k. Default 26650. Unused by a single validator without observers. */
  readonly p2pPort?: number;
  /** Replace an existing network, deleting its node directories (with their data). */
  readonly force?: boolean;
}

export type NodeRole = "validator" | "observer";

/** One node of network.json. */
export interface NetworkNode {
  readonly name: string;
  /** The node directory, relative to the network directory. */
  readonly dir: string;
  readonly role: NodeRole;
  /** Hex of the node's chain public key. */
  readonly publicKey: string;
  readonly apiUrl: string;
  /** "host:port" where the node accepts p2p links; null for a single validator without p2p. */
  readonly p2p: string | null;
}

/** DIR/network.json: where tools (benchmarks, tests, devnet) find the nodes of a local network. */
export interface NetworkFile {
  readonly version: 1;
  readonly chainId: string;
  readonly crypto: SuiteId;
  /** Paths relative to the network directory. */
  readonly genesis: string;
  readonly adminKey: string;
  readonly nodes: readonly NetworkNode[];
}

export interface InitResult {
  readonly genesisPath: string;
  readonly nodeDirs: string[];
  readonly adminKeyPath: string;
  readonly apiUrls: string[];
  readonly networkPath: string;
  readonly nodes: readonly NetworkNode[];
}

export const ADMIN_ORG = "consortium";

function checkPortRange(option: string, first: number, count: number): void {
  if (!Number.isInteger(first) || first < 1 || first > 65535) throw new CommandFailure(`${option} must be an integer from 1 to 65535`);
  const last = first + count - 1;
  if (last > 65535) {
    throw new CommandFailure(`${option} ${first} leaves no room for ${count} nodes: node${count - 1} would need port ${last} (max 65535)`);
  }
}

/** Checks the options; returns the number of nodes and whether the network uses p2p. */
function checkOptions(options: InitOptions): { total: number; p2p: boolean } {
  const { validators } = options;
  const observers = options.observers ?? 0;
  if (!Number.isInteger(validators) || validators < 1 || validators > MAX_VALIDATORS) {
    throw new CommandFailure(`--validators must be an integer from 1 to ${MAX_VALIDATORS}`);
  }
  if (!Number.isInteger(observers) || observers < 0 || observers > MAX_OBSERVERS) {
    throw new CommandFailure(`--observers must be an integer from 0 to ${MAX_OBSERVERS}`);
  }
  const total = validators + observers;
  const p2p = total > 1;
  checkPortRange("--api-port", options.apiPort, total);
  if (p2p) {
    const p2pPort = options.p2pPort ?? DEFAULT_P2P_PORT;
    checkPortRange("--p2p-port", p2pPort, total);
    if (options.apiPort < p2pPort + total && p2pPort < options.apiPort + total) {
      throw new CommandFailure(
        `API ports ${options.apiPort}-${options.apiPort + total - 1} and p2p ports ${p2pPort}-${p2pPort + total - 1} overlap; choose other --api-port or --p2p-port`,
      );
    }
  }
  return { total, p2p };
}

const NODE_DIR_RE = /^node[0-9]+$/;

/** Node directories written by an earlier init: node<k> holding a key or config. */
function existingNodeDirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && NODE_DIR_RE.test(e.name))
    .map((e) => join(dir, e.name))
    .filter((d) => existsSync(join(d, "node-key.json")) || existsSync(join(d, "config.json")));
}

/** The pid in a node's data/LOCK if that process is alive (the node is running). */
function runningPid(nodeDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(join(nodeDir, "data", "LOCK"), "utf8"), 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM" ? pid : undefined;
  }
}

/** --force: remove the old network's node directories (their data belongs to the old genesis). */
function removeOldNetwork(dir: string): void {
  const nodeDirs = existingNodeDirs(dir);
  for (const nodeDir of nodeDirs) {
    const pid = runningPid(nodeDir);
    if (pid !== undefined) throw new CommandFailure(`${nodeDir} is in use by a running node (process ${pid}); stop it before --force`);
  }
  for (const nodeDir of nodeDirs) rmSync(nodeDir, { recursive: true, force: true });
  rmSync(join(dir, NETWORK_FILE), { force: true });
}

export function initNetwork(dir: string, options: InitOptions): InitResult {
  const { total, p2p } = checkOptions(options);
  const holdsNetwork = existsSync(join(dir, "genesis.json")) || existsSync(join(dir, NETWORK_FILE)) || existingNodeDirs(dir).length > 0;
  if (holdsNetwork && !options.force) {
    throw new CommandFailure(
      `${dir} already holds a network; use --force to replace it (this deletes its node directories and their data)`,
    );
  }
  const suite = getSuite(options.crypto);
  const p2pPort = options.p2pPort ?? DEFAULT_P2P_PORT;
  const nodes: Array<{ name: string; role: NodeRole; key: KeyPair; apiPort: number; p2pPort: number }> = [];
  for (let k = 0; k < total; k++) {
    nodes.push({
      name: `node${k}`,
      role: k < options.validators ? "validator" : "observer",
      key: suite.generateKeyPair(),
      apiPort: options.apiPort + k,
      p2pPort: p2pPort + k,
    });
  }
  const validators = nodes.filter((n) => n.role === "validator");
  const observers = nodes.filter((n) => n.role === "observer");
  const admin = suite.generateKeyPair();
  const doc: GenesisDoc = {
    chainId: options.chainId,
    crypto: suite.id,
    genesisTimeMs: Date.now(),
    validators: validators.map((n) => ({ name: n.name, publicKey: toHex(n.key.publicKey), power: 1 })),
    orgs: [{ id: ADMIN_ORG, name: "Consortium administration" }],
    accounts: [{ publicKey: toHex(admin.publicKey), org: ADMIN_ORG, roles: ["admin", "org-admin"] }],
    contractEngine: CONTRACT_ENGINE_ID,
  };
  // Refuse to write a genesis or configs that nodes would refuse to read.
  try {
    loadGenesis(doc);
  } catch (err) {
    if (err instanceof TallyError) throw new CommandFailure(`invalid genesis: ${err.message}`);
    throw err;
  }
  const configs = nodes.map((node): NodeConfig => {
    const peers: PeerConfig[] = nodes
      .filter((other) => other !== node)
      .map((other) => ({ publicKey: toHex(other.key.publicKey), host: LOCAL_HOST, port: other.p2pPort }));
    const config: NodeConfig = {
      name: node.name,
      api: { host: LOCAL_HOST, port: node.apiPort },
      producer: DEFAULT_PRODUCER_OPTIONS,
      logLevel: "info",
      ...(p2p
        ? {
            p2p: { listen: { host: LOCAL_HOST, port: node.p2pPort }, peers, observers: observers.map((o) => toHex(o.key.publicKey)) },
            consensus: DEFAULT_CONSENSUS_CONFIG,
          }
        : {}),
    };
    parseConfig(config);
    return config;
  });

  if (holdsNetwork) removeOldNetwork(dir);
  const genesisPath = join(dir, "genesis.json");
  writeJsonFile(genesisPath, doc);
  const entries: NetworkNode[] = [];
  nodes.forEach((node, k) => {
    const nodeDir = join(dir, node.name);
    writeJsonFile(join(nodeDir, "config.json"), configs[k]);
    writeJsonFile(join(nodeDir, "genesis.json"), doc);
    writeJsonFile(join(nodeDir, "node-key.json"), toKeyFile(node.key), { mode: 0o600 });
    entries.push({
      name: node.name,
      dir: node.name,
      role: node.role,
      publicKey: toHex(node.key.publicKey),
      apiUrl: `http://${LOCAL_HOST}:${node.apiPort}`,
      p2p: p2p ? `${LOCAL_HOST}:${node.p2pPort}` : null,
    });
  });
  const adminKeyPath = join(dir, "accounts", "admin.json");
  writeJsonFile(adminKeyPath, toKeyFile(admin), { mode: 0o600 });
  const network: NetworkFile = {
    version: 1,
    chainId: doc.chainId,
    crypto: suite.id,
    genesis: "genesis.json",
    adminKey: "accounts/admin.json",
    nodes: entries,
  };
  const networkPath = join(dir, NETWORK_FILE);
  writeJsonFile(networkPath, network);
  return {
    genesisPath,
    nodeDirs: entries.map((e) => join(dir, e.dir)),
    adminKeyPath,
    apiUrls: entries.map((e) => e.apiUrl),
    networkPath,
    nodes: entries,
  };
}

function invalidNetwork(path: string, why: string): never {
  throw new CommandFailure(`${path} is not a valid network file: ${why}`);
}

/**
 * The nodes of the network in `dir`: from network.json, or, for a network written before
 * network.json existed, from the genesis validators and their node directories (no observers).
 */
export function readNetwork(dir: string): NetworkFile {
  const path = join(dir, NETWORK_FILE);
  if (existsSync(path)) {
    const json = readJsonFile(path) as Partial<NetworkFile> | null;
    if (json === null || typeof json !== "object" || json.version !== 1) invalidNetwork(path, "expected version 1");
    if (!Array.isArray(json.nodes) || json.nodes.length === 0) invalidNetwork(path, "nodes must be a non-empty array");
    if (json.crypto !== "ed25519" && json.crypto !== "sm2") invalidNetwork(path, "crypto must be ed25519 or sm2");
    const nodes = (json.nodes as unknown[]).map((raw, i): NetworkNode => {
      const n = raw as Partial<NetworkNode> | null;
      if (
        n === null ||
        typeof n !== "object" ||
        typeof n.name !== "string" ||
        typeof n.dir !== "string" ||
        (n.role !== "validator" && n.role !== "observer") ||
        typeof n.publicKey !== "string" ||
        typeof n.apiUrl !== "string" ||
        (n.p2p !== null && typeof n.p2p !== "string")
      ) {
        invalidNetwork(path, `nodes[${i}] must be {name, dir, role, publicKey, apiUrl, p2p}`);
      }
      return { name: n.name, dir: n.dir, role: n.role, publicKey: n.publicKey, apiUrl: n.apiUrl, p2p: n.p2p };
    });
    return {
      version: 1,
      chainId: String(json.chainId),
      crypto: json.crypto,
      genesis: typeof json.genesis === "string" ? json.genesis : "genesis.json",
      adminKey: typeof json.adminKey === "string" ? json.adminKey : "accounts/admin.json",
      nodes,
    };
  }
  let genesis: ReturnType<typeof loadGenesis>;
  try {
    genesis = loadGenesis(readJsonFile(join(dir, "genesis.json")));
  } catch (err) {
    if (err instanceof TallyError) throw new CommandFailure(`${join(dir, "genesis.json")}: ${err.message}`);
    throw err;
  }
  const nodes = genesis.doc.validators.map((v, i): NetworkNode => {
    const name = `node${i}`;
    const configPath = join(dir, name, "config.json");
    if (!existsSync(configPath)) throw new CommandFailure(`${dir} has ${genesis.doc.validators.length} validators but no ${configPath}`);
    let config: NodeConfig;
    try {
      config = parseConfig(readJsonFile(configPath));
    } catch (err) {
      if (err instanceof TallyError) throw new CommandFailure(`${configPath}: ${err.message}`);
      throw err;
    }
    const host = config.api.host === "0.0.0.0" ? LOCAL_HOST : config.api.host;
    return {
      name,
      dir: name,
      role: "validator",
      publicKey: v.publicKey,
      apiUrl: `http://${host}:${config.api.port}`,
      p2p: config.p2p ? `${config.p2p.listen.host}:${config.p2p.listen.port}` : null,
    };
  });
  return {
    version: 1,
    chainId: genesis.doc.chainId,
    crypto: genesis.suite.id as SuiteId,
    genesis: "genesis.json",
    adminKey: "accounts/admin.json",
    nodes,
  };
}
