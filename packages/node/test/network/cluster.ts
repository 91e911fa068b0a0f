/**
 * In-process clusters of full nodes linked by the real P2P transport on loopback: each node has its own
 * directory, LMDB, API, signing record and consensus service, exactly as `tally start` runs it.
 */
import { createServer } from "node:net";
import { join } from "node:path";
import { addressOf, type GenesisDoc, getSuite, type KeyPair, loadGenesis, type SuiteId, toHex } from "@tally/core";
import { DEFAULT_CONSENSUS_CONFIG, type NodeConfig } from "../../src/config.js";
import { NodeMetrics } from "../../src/metrics.js";
import { TallyNode } from "../../src/node.js";
import type { P2PMember } from "../../src/p2p/index.js";
import { DEFAULT_PRODUCER_OPTIONS } from "../../src/producer.js";
import { ADMIN_ORG, get, silentLogger, type TempDir, type TestAccount, tempDir, testKey } from "../helpers.js";

export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<import("node:net").Server>((resolve) => {
          const s = createServer();
          s.listen(0, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as import("node:net").AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

export interface ClusterMember {
  readonly name: string;
  readonly key: KeyPair;
  readonly dir: string;
  readonly config: NodeConfig;
  node: TallyNode | null;
}

export interface Cluster {
  readonly suite: ReturnType<typeof getSuite>;
  readonly genesis: ReturnType<typeof loadGenesis>;
  readonly admin: TestAccount;
  readonly members: ClusterMember[];
  start(i: number): Promise<TallyNode>;
  stop(i: number): Promise<void>;
  url(i: number): string;
  close(): Promise<void>;
}

export interface ClusterOptions {
  readonly validators: number;
  readonly observers?: number;
  readonly suite?: SuiteId;
  readonly logLevel?: string;
  /** Validator keys registered as accounts (so equivocation reports can be signed). */
  readonly validatorAccounts?: boolean;
  /**
   * Indices of the members started by `startCluster` (default: all). The others keep their key, port
   * and place in every config: start them later with `start(i)`, or let the test play them.
   */
  readonly start?: readonly number[];
}

/** Short consensus timeouts: a round without a proposal costs 1.5 s, an empty block about 200 ms. */
export const FAST_CONSENSUS = {
  ...DEFAULT_CONSENSUS_CONFIG,
  timeoutProposeMs: 1_500,
  timeoutPrevoteMs: 500,
  timeoutPrecommitMs: 500,
  timeoutDeltaMs: 250,
  emptyBlockIntervalMs: 200,
};

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const suite = getSuite(options.suite ?? "ed25519");
  const total = options.validators + (options.observers ?? 0);
  const keys = Array.from({ length: total }, (_, i) => testKey(suite, `cluster/node${i}`));
  const adminKey = testKey(suite, "cluster/admin");
  const admin: TestAccount = {
    key: adminKey,
    address: addressOf(suite, adminKey.publicKey),
    org: ADMIN_ORG,
    roles: ["admin", "org-admin"],
  };
  const doc: GenesisDoc = {
    chainId: "tally-cluster",
    crypto: suite.id,
    genesisTimeMs: 1_700_000_000_000,
    validators: keys.slice(0, options.validators).map((k, i) => ({ name: `node${i}`, publicKey: toHex(k.publicKey), power: 1 })),
    orgs: [{ id: ADMIN_ORG, name: "Consortium administration" }],
    accounts: [
      { publicKey: toHex(adminKey.publicKey), org: ADMIN_ORG, roles: ["admin", "org-admin"] },
      ...(options.validatorAccounts
        ? keys.slice(0, options.validators).map((k) => ({ publicKey: toHex(k.publicKey), org: ADMIN_ORG, roles: [] }))
        : []),
    ],
  };
  const genesis = loadGenesis(doc);
  const ports = await freePorts(total);
  const root: TempDir = tempDir("tally-cluster-");
  const observers = keys.slice(options.validators).map((k) => toHex(k.publicKey));
  const members: ClusterMember[] = keys.map((key, i) => ({
    name: `node${i}`,
    key,
    dir: join(root.path, `node${i}`),
    node: null,
    config: {
      name: `node${i}`,
      api: { host: "127.0.0.1", port: 0 },
      producer: DEFAULT_PRODUCER_OPTIONS,
      logLevel: options.logLevel ?? "silent",
      verifyWorkers: 0,
      p2p: {
        listen: { host: "127.0.0.1", port: ports[i] as number },
        peers: keys
          .map((k, j) => ({ publicKey: toHex(k.publicKey), host: "127.0.0.1", port: ports[j] as number }))
          .filter((_, j) => j !== i),
        observers,
      },
      consensus: FAST_CONSENSUS,
    },
  }));
  const cluster: Cluster = {
    suite,
    genesis,
    admin,
    members,
    async start(i) {
      const m = members[i] as ClusterMember;
      const logger =
        options.logLevel === undefined
          ? silentLogger()
          : (await import("../../src/logger.js")).createLogger({ level: options.logLevel, name: m.name });
      m.node = await TallyNode.init(
        { dataDir: join(m.dir, "data"), config: m.config, genesis, key: m.key },
        { logger, metrics: new NodeMetrics({ defaultMetrics: false }) },
      );
      return m.node;
    },
    async stop(i) {
      const m = members[i] as ClusterMember;
      const node = m.node;
      m.node = null;
      await node?.close();
    },
    url(i) {
      const node = members[i]?.node;
      if (node == null) throw new Error(`node${i} is not running`);
      return node.apiUrl;
    },
    async close() {
      await Promise.all(members.map((_, i) => cluster.stop(i)));
      root.remove();
    },
  };
  try {
    const initial = options.start ?? members.map((_, i) => i);
    await Promise.all(initial.map((i) => cluster.start(i)));
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}

/** Every member's key with its p2p listen address, as a P2PNode member list (for a test-driven peer). */
export function p2pMembersOf(cluster: Cluster): P2PMember[] {
  return cluster.members.map((m) => ({ publicKey: m.key.publicKey, address: m.config.p2p?.listen }));
}

export async function heightOf(url: string): Promise<number> {
  const res = await get(url, "/v1/status");
  return res.json.height as number;
}
