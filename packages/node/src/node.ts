/**
 * One place wires the node (style: Lodestar's BeaconNode.init): storage -> chain -> mempool ->
 * block production -> API, and closes them in reverse.
 */
import { mkdirSync } from "node:fs";
import { type Genesis, type KeyPair, TallyError, validatorIndex } from "@tally/core";
import type { FastifyInstance } from "fastify";
import { createApi } from "./api/server.js";
import { Chain } from "./chain.js";
import { type Clock, systemClock } from "./clock.js";
import type { NodeConfig } from "./config.js";
import { acquireDirLock, type DirLock } from "./dir-lock.js";
import { createLogger, type Logger, subsystemLogger } from "./logger.js";
import { Mempool } from "./mempool.js";
import { NodeMetrics } from "./metrics.js";
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
      const isValidator = validatorIndex(genesis.validators, key.publicKey) >= 0;
      if (isValidator && genesis.validators.validators.length === 1) {
        producer = new BlockProducer(chain, mempool, key, clock, config.producer, subsystemLogger(root, "producer"));
      } else {
        log.warn(
          { validators: genesis.validators.validators.length, isValidator },
          "this node does not produce blocks: multi-validator consensus is not in this build",
        );
      }
      const api = await createApi(
        { host: config.api.host, port: config.api.port, nodeName: config.name, version: NODE_VERSION },
        { chain, metrics, log: subsystemLogger(root, "api"), onAdmitted: () => producer?.notify() },
      );
      opened.push(() => api.close());
      await api.listen({ host: config.api.host, port: config.api.port });
      producer?.start();
      const node = new TallyNode(chain, mempool, metrics, store, producer, api, verifier, lock, log);
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
    await this.verifier.close();
    await this.store.close();
    this.lock.release();
    this.log.info("node stopped");
  }
}
