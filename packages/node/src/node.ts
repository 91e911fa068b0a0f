/**
 * One place wires the node (style: Lodestar's BeaconNode.init): storage -> chain -> mempool ->
 * block production -> API, and closes them in reverse.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fromHex, type Genesis, type KeyPair, TallyError, toHex, validatorIndex } from "@tally/core";
import type { FastifyInstance } from "fastify";
import { createApi } from "./api/server.js";
import { Chain } from "./chain.js";
import { type Clock, systemClock } from "./clock.js";
import { DEFAULT_CONSENSUS_CONFIG, type NodeConfig } from "./config.js";
import { EquivocationReporter } from "./consensus/evidence-reporter.js";
import { ConsensusMetrics } from "./consensus/metrics.js";
import { ConsensusService, realTimers } from "./consensus/service.js";
import { FileSignRecordStore, SignGuard } from "./consensus/sign-record.js";
import { NODE_ENGINE_ID } from "./contracts/engine.js";
import { acquireDirLock, type DirLock } from "./dir-lock.js";
import { createLogger, type Logger, subsystemLogger } from "./logger.js";
import { Mempool } from "./mempool.js";
import { NodeMetrics } from "./metrics.js";
import { type P2PMember, P2PNode } from "./p2p/p2p-node.js";
import { BlockProducer } from "./producer.js";
import { ChainStore } from "./storage/chain-store.js";
import { defaultVerifyWorkers, VerifyPool } from "./verify/pool.js";

export const NODE_VERSION = "0.1.0";

export interface NodeOptions {
  readonly dataDir: string;
  readonly config: NodeConfig;
  readonly genesis: Genesis;
  readonly key: KeyPair;
}

export interface NodeModules {
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly metrics?: NodeMetrics;
}

export class TallyNode {
  private constructor(
    readonly chain: Chain,
    readonly mempool: Mempool,
    readonly metrics: NodeMetrics,
    private readonly store: ChainStore,
    private readonly producer: BlockProducer | undefined,
    readonly consensus: ConsensusService | undefined,
    private readonly p2p: P2PNode | undefined,
    private readonly api: FastifyInstance,
    private readonly verifier: VerifyPool,
    private readonly lock: DirLock,
    private readonly log: Logger,
  ) {}

  static async init(options: NodeOptions, modules: NodeModules = {}): Promise<TallyNode> {
    const { config, genesis, key } = options;
    const root = modules.logger ?? createLogger({ level: config.logLevel, name: config.name });
    const log = subsystemLogger(root, "node");
    const metrics = modules.metrics ?? new NodeMetrics();
    const clock = modules.clock ?? systemClock;
    if (key.suite !== genesis.suite.id) throw new TallyError("WRONG_SUITE", "node key is not of the chain's crypto suite");
    const pinnedEngine = genesis.doc.contractEngine;
    if (pinnedEngine !== undefined && pinnedEngine !== NODE_ENGINE_ID) {
      throw new TallyError("ENGINE_MISMATCH", `the genesis pins ${pinnedEngine}; this node runs ${NODE_ENGINE_ID}`);
    }

    mkdirSync(options.dataDir, { recursive: true });
    // Whatever start-up opened is closed again, in reverse, if a later step fails.
    const opened: Array<() => Promise<void> | void> = [];
    try {
      const lock = acquireDirLock(options.dataDir);
      opened.push(() => lock.release());
      const store = ChainStore.open(options.dataDir);
      opened.push(() => store.close());
      const mempool = new Mempool();
      const verifier = new VerifyPool(
        genesis.suite,
        genesis.doc.chainId,
        config.verifyWorkers ?? defaultVerifyWorkers(),
        subsystemLogger(root, "verify"),
      );
      opened.push(() => verifier.close());
      const chain = await Chain.open(genesis, store, mempool, metrics, subsystemLogger(root, "chain"), verifier);

      let producer: BlockProducer | undefined;
      let consensus: ConsensusService | undefined;
      let p2p: P2PNode | undefined;
      const isValidator = validatorIndex(chain.validatorSet(chain.head.height + 1), key.publicKey) >= 0;
      if (config.p2p !== undefined) {
        p2p = new P2PNode({
          chainId: genesis.doc.chainId,
          suite: genesis.suite,
          key,
          members: p2pMembers(options, currentValidators(chain)),
          listen: config.p2p.listen,
          logger: root,
          registry: metrics.registry,
          random: Math.random,
        });
        opened.push(() => p2p?.stop());
        // Validator-set changes change who may link: members follow the sets of the next two heights.
        const linked = p2p;
        chain.on("committed", (event) => {
          if (event.included.length > 0) linked.setMembers(p2pMembers(options, currentValidators(chain)));
        });
        // Every member keeps a signing record: an observer may be made a validator by a set change.
        const guard = new SignGuard(new FileSignRecordStore(join(options.dataDir, "sign-state.cbor")));
        const reporter = new EquivocationReporter(chain, key, subsystemLogger(root, "evidence"), (txs) => consensus?.admitted(txs));
        consensus = new ConsensusService({
          chain,
          mempool,
          net: p2p,
          timers: realTimers,
          clock,
          key,
          guard,
          config: config.consensus ?? DEFAULT_CONSENSUS_CONFIG,
          blockTxsMax: config.producer.blockTxsMax,
          blockBytesMax: config.producer.blockBytesMax,
          log: subsystemLogger(root, "consensus"),
          metrics: new ConsensusMetrics(metrics.registry),
          onEquivocation: (evidence) => reporter.report(evidence),
        });
      } else if (isValidator && genesis.validators.validators.length === 1) {
        producer = new BlockProducer(chain, mempool, key, clock, config.producer, subsystemLogger(root, "producer"));
      } else {
        throw new TallyError("BAD_REQUEST", "a chain with several validators needs a p2p section in config.json");
      }
      const api = await createApi(
        { host: config.api.host, port: config.api.port, nodeName: config.name, version: NODE_VERSION },
        {
          chain,
          metrics,
          log: subsystemLogger(root, "api"),
          onAdmitted: (admitted) => {
            producer?.notify();
            consensus?.admitted(admitted.map((e) => e.bytes));
          },
          ...(consensus === undefined ? {} : { consensusStatus: () => ({ ...consensus.status() }) }),
        },
      );
      opened.push(() => api.close());
      await api.listen({ host: config.api.host, port: config.api.port });
      producer?.start();
      if (p2p !== undefined && consensus !== undefined) {
        await p2p.start();
        consensus.start(fatal(log));
      }
      const node = new TallyNode(chain, mempool, metrics, store, producer, consensus, p2p, api, verifier, lock, log);
      log.info(
        { api: node.apiUrl, height: chain.head.height, chainId: genesis.doc.chainId, verifyWorkers: verifier.workers },
        "node started",
      );
      return node;
    } catch (err) {
      for (const close of opened.reverse()) await close();
      throw err;
    }
  }

  /** Where this node accepts member links, once started (multi-member chains). */
  get p2pAddress(): { host: string; port: number } | undefined {
    return this.p2p?.listenAddress();
  }

  get apiUrl(): string {
    const address = this.api.server.address();
    if (address === null || typeof address === "string") return String(address);
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  async close(): Promise<void> {
    this.log.info("node stopping");
    await this.api.close();
    await this.producer?.stop();
    await this.consensus?.stop();
    await this.p2p?.stop();
    await this.verifier.close();
    await this.store.close();
    this.lock.release();
    this.log.info("node stopped");
  }
}

/** Keys of the validators of the next two heights (the sets a node must hear from). */
function currentValidators(chain: Chain): Uint8Array[] {
  const next = chain.head.height + 1;
  return [...chain.validatorSetDurable(next).validators, ...chain.validatorSetDurable(next + 1).validators].map((v) => v.publicKey);
}

/** Current validators and the config's observers and peers, with the addresses the config knows. */
function p2pMembers(options: NodeOptions, validators: readonly Uint8Array[]): P2PMember[] {
  const p2p = options.config.p2p;
  const members = new Map<string, P2PMember>();
  for (const key of validators) members.set(toHex(key), { publicKey: key });
  for (const hex of p2p?.observers ?? []) members.set(hex, { publicKey: fromHex(hex) });
  for (const peer of p2p?.peers ?? []) {
    members.set(peer.publicKey, { publicKey: fromHex(peer.publicKey), address: { host: peer.host, port: peer.port } });
  }
  const self = toHex(options.key.publicKey);
  if (p2p !== undefined) members.set(self, { publicKey: options.key.publicKey, address: p2p.listen });
  return [...members.values()];
}

/** A consensus failure is a broken invariant or a storage fault: stop the node rather than run on. */
function fatal(log: Logger): (err: unknown) => void {
  return (err) => {
    log.fatal({ err }, "consensus failed; stopping the node");
    process.exitCode = 70;
    process.kill(process.pid, "SIGTERM");
  };
}
