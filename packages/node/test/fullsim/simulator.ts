/**
 * Deterministic full-node simulator (docs/simulation.md). For one seed it runs n validators in this
 * process, each with the node's real code: a ChainStore (LMDB) in its own directory, Chain (inline
 * signature verification), Mempool, SignGuard over a durable signing record, and the ConsensusService
 * with its block building, execution, commits, gossip and block sync. Around them everything is
 * simulated and driven by one seeded PRNG in virtual time: the network (loss, duplication, delay and
 * so reordering, symmetric and one-way partitions until GST), timers, per-node clocks with skew, block
 * writes (durable after a virtual disk latency; a crash loses those still in flight), crashes and
 * restarts from the same directory, a client submitting transactions, and up to f Byzantine
 * validators that equivocate (adversary.ts). Checkers (checkers.ts) run every quarter virtual second.
 *
 * Determinism: events run one at a time in (virtual time, sequence) order. After each one the
 * simulator waits until every node is quiescent (no real I/O in flight, `service.idle()`, and a
 * `setImmediate` turn with no new activity) before taking the next, so real storage latency never
 * reorders anything. A seed's trace hash covers every delivered message and every commit; the same
 * seed gives the same hash.
 */
import { createHash, type Hash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  addressOf,
  decode,
  type Equivocation,
  encode,
  type Genesis,
  type GenesisDoc,
  getSuite,
  type KeyPair,
  LIMITS,
  loadGenesis,
  signTx,
  TallyError,
  type TxEnvelope,
  toHex,
  utf8,
  type ValidatorSet,
  type Value,
  validatorIndex,
} from "@tally/core";
import { type Logger, pino } from "pino";
import { Chain, type CommittedBlockEvent } from "../../src/chain.js";
import type { Clock } from "../../src/clock.js";
import { EquivocationReporter } from "../../src/consensus/evidence-reporter.js";
import type { ConsensusState } from "../../src/consensus/machine.js";
import { ConsensusMetrics } from "../../src/consensus/metrics.js";
import { type ConsensusNetwork, ConsensusService, type TimerHandle, type Timers } from "../../src/consensus/service.js";
import { SignGuard, type SignRecord, type SignRecordStore } from "../../src/consensus/sign-record.js";
import { Mempool } from "../../src/mempool.js";
import { NodeMetrics } from "../../src/metrics.js";
import { type BlockCommit, ChainStore } from "../../src/storage/chain-store.js";
import { VerifyPool } from "../../src/verify/pool.js";
import { Prng } from "../consensus/sim.js";
import { Adversary, type AdversaryStats } from "./adversary.js";
import { Checkers, type CommittedTx, type Violation } from "./checkers.js";
import {
  type CrashPlan,
  describeParams,
  drawParams,
  type FullSimOptions,
  type PartitionPeriod,
  replayCommand,
  type SeedParams,
  SIM_CONSENSUS,
  SIM_WORLD,
} from "./params.js";
import { EventQueue } from "./queue.js";

const CHAIN_ID = "tally-fullsim";
const GENESIS_TIME_MS = 1_700_000_000_000;
/** Virtual time 0 is this long after genesis time on an unskewed clock. */
const START_OFFSET_MS = 1_000;
const ORG = "consortium";

// ---- the signing record ----------------------------------------------------------------------------

/**
 * The validator's signing record, kept by the simulator across crashes. `save` is synchronous and
 * durable in the real store (write, fsync, rename, fsync the directory), so nothing saved is ever lost
 * here either; it keeps a copy so that no caller can change a saved record afterwards.
 */
export class SimSignRecordStore implements SignRecordStore {
  private record: SignRecord | undefined;
  saves = 0;

  load(): SignRecord | undefined {
    return this.record === undefined ? undefined : { ...this.record };
  }

  save(record: SignRecord): void {
    this.saves++;
    this.record = { ...record, lockedValue: record.lockedValue === null ? null : Uint8Array.from(record.lockedValue) };
  }
}

// ---- results --------------------------------------------------------------------------------------

export interface SeedStats {
  events: number;
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  lostInFlight: number;
  crashes: number;
  crashesDuringWrite: number;
  lostWrites: number;
  restarts: number;
  bans: number;
  txsSubmitted: number;
  txsCommitted: number;
  voteEquivocationsSeen: number;
  proposalEquivocationsSeen: number;
  evidenceReports: number;
  evidenceReportsRefused: number;
  syncedBlocks: number;
  signRecordSaves: number;
  reporterErrors: number;
}

export interface SeedResult {
  readonly params: SeedParams;
  readonly violations: readonly Violation[];
  readonly trace: string;
  /** Highest height durable on an honest node. */
  readonly heights: number;
  readonly virtualMs: number;
  readonly realMs: number;
  readonly worstGapMs: number;
  readonly worstTxLatencyMs: number;
  readonly stats: SeedStats;
  readonly adversary: AdversaryStats;
  /** The last captured log lines of the node a violation names (or of all nodes), for diagnosis. */
  readonly logTail: readonly string[];
  /** Each node's state when the run ended. */
  readonly nodeStates: readonly string[];
}

// ---- events ----------------------------------------------------------------------------------------

type EventBody =
  | {
      readonly kind: "deliver";
      readonly to: number;
      readonly toInc: number;
      readonly epoch: number;
      readonly from: number;
      readonly bytes: Uint8Array;
    }
  | { readonly kind: "timer"; readonly node: number; readonly inc: number; readonly fn: () => void; readonly state: { cancelled: boolean } }
  | { readonly kind: "flush"; readonly node: number; readonly inc: number }
  | { readonly kind: "connect"; readonly a: number; readonly b: number }
  | { readonly kind: "peerDown"; readonly node: number; readonly inc: number; readonly peer: number }
  | { readonly kind: "partition"; readonly period: PartitionPeriod }
  | { readonly kind: "gst" }
  | { readonly kind: "crash"; readonly plan: CrashPlan; readonly now: boolean }
  | { readonly kind: "restart"; readonly plan: CrashPlan }
  | { readonly kind: "client" }
  | { readonly kind: "check" };

type SimEvent = EventBody & { readonly at: number; readonly seq: number };

interface PendingWrite {
  readonly commit: BlockCommit;
  resolve(): void;
  reject(err: Error): void;
}

/** One incarnation of a running node. */
interface Live {
  readonly inc: number;
  readonly store: ChainStore;
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly service: ConsensusService;
  readonly endpoint: Endpoint;
  readonly cmetrics: ConsensusMetrics;
  readonly realCommit: (c: BlockCommit) => Promise<void>;
  readonly pending: PendingWrite[];
  lastFlushAt: number;
  lastCommitted: number;
}

class SimNode {
  up = false;
  inc = 0;
  live: Live | null = null;
  upSinceMs = 0;
  /** The crash plan that took it down (its restart belongs to it). */
  downBy: number | null = null;
  /** A crash waiting for this node's next block write. */
  armed: CrashPlan | null = null;
  durableAtCrash = 0;
  readonly signStore = new SimSignRecordStore();
  readonly logs: string[] = [];
  /** Own signed votes and proposals, by (height, round, kind): the honest-equivocation checker. */
  readonly signed = new Map<string, string>();

  constructor(
    readonly index: number,
    readonly key: KeyPair,
    readonly hex: string,
    readonly power: number,
    readonly byzantine: boolean,
    readonly validator: number,
    readonly dir: string,
  ) {}
}

interface Link {
  up: boolean;
  epoch: number;
}

/** A node's end of the simulated member links (what P2PNode is to a real node). */
class Endpoint implements ConsensusNetwork {
  readonly messageHandlers: Array<(peer: string, message: Value) => void> = [];
  readonly peerHandlers: Array<(peer: string, connected: boolean) => void> = [];

  constructor(
    private readonly sim: FullSim,
    private readonly node: number,
    private readonly inc: number,
  ) {}

  private get current(): boolean {
    const n = this.sim.nodes[this.node] as SimNode;
    return n.up && n.inc === this.inc;
  }

  broadcast(message: Value): void {
    if (!this.current) return;
    for (const j of this.sim.linkedPeers(this.node)) this.sim.transmit(this.node, j, message);
  }

  send(peer: string, message: Value): void {
    const j = this.sim.indexOf(peer);
    if (!this.current || j === undefined || !this.sim.link(this.node, j).up) return;
    this.sim.transmit(this.node, j, message);
  }

  disconnect(peer: string, detail: string): void {
    const j = this.sim.indexOf(peer);
    if (this.current && j !== undefined) this.sim.ban(this.node, j, detail);
  }

  peers(): readonly string[] {
    return this.current
      ? this.sim
          .linkedPeers(this.node)
          .map((j) => (this.sim.nodes[j] as SimNode).hex)
          .sort()
      : [];
  }

  onMessage(handler: (peer: string, message: Value) => void): () => void {
    this.messageHandlers.push(handler);
    return () => this.messageHandlers.splice(this.messageHandlers.indexOf(handler), 1);
  }

  onPeer(handler: (peer: string, connected: boolean) => void): () => void {
    this.peerHandlers.push(handler);
    return () => this.peerHandlers.splice(this.peerHandlers.indexOf(handler), 1);
  }
}

interface ClientTx {
  readonly account: number;
  readonly nonce: number;
  readonly bytes: Uint8Array;
  readonly hash: Uint8Array;
  readonly hex: string;
  readonly firstMs: number;
}

function simRoot(): string {
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  return mkdtempSync(join(base, "tally-fullsim-"));
}

const keyCache = new Map<string, KeyPair>();
function simKey(label: string): KeyPair {
  let key = keyCache.get(label);
  if (key === undefined) {
    const suite = getSuite("ed25519");
    key = suite.keyPairFromPrivate(suite.hash(utf8(`tally-fullsim/${label}`)));
    keyCache.set(label, key);
  }
  return key;
}

// ---- the simulation --------------------------------------------------------------------------------

export class FullSim {
  now = 0;
  readonly nodes: SimNode[];
  private readonly prng: Prng;
  readonly params: SeedParams;
  private readonly genesis: Genesis;
  private readonly queue = new EventQueue<SimEvent>();
  private seq = 0;
  /** Bumped by everything a node does that the simulator must see settle (sends, timers, writes). */
  private activity = 0;
  private readonly links: Link[][];
  private partition: PartitionPeriod | null = null;
  private readonly byHex = new Map<string, number>();
  private readonly adversary: Adversary;
  private readonly checkers: Checkers;
  private readonly trace: Hash = createHash("sha256");
  private readonly root: string;
  private readonly clients: Array<{ key: KeyPair; address: string; nextNonce: number; outstanding: ClientTx[] }>;
  private readonly committedTxs: CommittedTx[] = [];
  private checks = 0;
  private readonly executedCrashes = new Set<number>();
  readonly stats: SeedStats = {
    events: 0,
    sent: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    lostInFlight: 0,
    crashes: 0,
    crashesDuringWrite: 0,
    lostWrites: 0,
    restarts: 0,
    bans: 0,
    txsSubmitted: 0,
    txsCommitted: 0,
    voteEquivocationsSeen: 0,
    proposalEquivocationsSeen: 0,
    evidenceReports: 0,
    evidenceReportsRefused: 0,
    syncedBlocks: 0,
    signRecordSaves: 0,
    reporterErrors: 0,
  };

  constructor(private readonly options: FullSimOptions) {
    this.prng = new Prng(options.seed);
    this.params = drawParams(this.prng, options);
    const p = this.params;
    const suite = getSuite("ed25519");
    const keys = p.powers.map((_, i) => simKey(`validator${i}`));
    this.clients = Array.from({ length: SIM_WORLD.clientAccounts }, (_, k) => {
      const key = simKey(`client${k}`);
      return { key, address: addressOf(suite, key.publicKey), nextNonce: 0, outstanding: [] };
    });
    const doc: GenesisDoc = {
      chainId: CHAIN_ID,
      crypto: "ed25519",
      genesisTimeMs: GENESIS_TIME_MS,
      validators: keys.map((k, i) => ({ name: `node${i}`, publicKey: toHex(k.publicKey), power: p.powers[i] as number })),
      orgs: [{ id: ORG, name: "Consortium administration" }],
      accounts: [
        ...this.clients.map((c) => ({ publicKey: toHex(c.key.publicKey), org: ORG, roles: [] })),
        // Validator keys are accounts, as `tally init` registers them, so equivocation reports can be signed.
        ...keys.map((k) => ({ publicKey: toHex(k.publicKey), org: ORG, roles: [] })),
      ],
    };
    this.genesis = loadGenesis(doc);
    this.root = simRoot();
    this.nodes = keys.map((key, i) => {
      const hex = toHex(key.publicKey);
      this.byHex.set(hex, i);
      const dir = join(this.root, `node${i}`);
      mkdirSync(dir);
      return new SimNode(
        i,
        key,
        hex,
        p.powers[i] as number,
        p.byzantine.includes(i),
        validatorIndex(this.genesis.validators, key.publicKey),
        dir,
      );
    });
    this.links = this.nodes.map(() => this.nodes.map(() => ({ up: false, epoch: 0 })));
    const honestHex = this.nodes.filter((n) => !n.byzantine).map((n) => n.hex);
    const byzHex = new Set(this.nodes.filter((n) => n.byzantine).map((n) => n.hex));
    this.adversary = new Adversary(this.prng, honestHex, byzHex, CHAIN_ID, p.intensity, p.leak, p.invalidAlt);
    const total = p.powers.reduce((a, b) => a + b, 0);
    const addresses = [...this.clients.map((c) => c.address), ...keys.map((k) => addressOf(suite, k.publicKey))];
    this.checkers = new Checkers(suite, p.validators, total, p.gstMs, addresses);
  }

  // ---- scheduling and settling ---------------------------------------------------------------------

  private schedule(at: number, body: EventBody): void {
    this.queue.push({ ...body, at, seq: this.seq++ } as SimEvent);
  }

  /** Waits until no node has work in flight: nothing real is pending and a full turn brings no new activity. */
  private async settle(): Promise<void> {
    for (let turn = 0; ; turn++) {
      if (turn > 10_000) throw new Error("the nodes never became quiescent");
      const before = this.activity;
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (const n of this.nodes) {
        // With block writes held by the simulated disk, idle() would wait for a virtual event.
        if (n.live !== null && n.live.pending.length === 0) await n.live.service.idle();
      }
      if (this.activity === before) return;
    }
  }

  private traceLine(line: string, bytes?: Uint8Array): void {
    this.trace.update(`${this.now} ${line}\n`);
    if (bytes !== undefined) this.trace.update(bytes);
  }

  // ---- the network ---------------------------------------------------------------------------------

  indexOf(hex: string): number | undefined {
    return this.byHex.get(hex);
  }

  link(a: number, b: number): Link {
    return (this.links[Math.min(a, b)] as Link[])[Math.max(a, b)] as Link;
  }

  linkedPeers(i: number): number[] {
    return this.nodes.filter((n) => n.index !== i && this.link(i, n.index).up).map((n) => n.index);
  }

  private get synchronous(): boolean {
    return this.now >= this.params.gstMs;
  }

  transmit(from: number, to: number, message: Value): void {
    this.activity++;
    this.stats.sent++;
    const bytes = encode(message);
    const sender = this.nodes[from] as SimNode;
    if (!sender.byzantine) this.noteSigned(sender, message);
    if (!this.synchronous) {
      if ((this.partition?.blocked[from] as readonly boolean[] | undefined)?.[to] === true || this.prng.chance(this.params.loss)) {
        this.stats.dropped++;
        return;
      }
    }
    const copies = this.prng.chance(this.params.duplication) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    const epoch = this.link(from, to).epoch;
    const toInc = (this.nodes[to] as SimNode).inc;
    for (let c = 0; c < copies; c++) {
      const long = !this.synchronous && this.prng.chance(SIM_WORLD.longDelayShare);
      const delay = this.prng.int(1, long ? SIM_WORLD.longDelayMaxMs : this.params.delayMaxMs);
      this.schedule(this.now + delay, { kind: "deliver", to, toInc, epoch, from, bytes });
    }
  }

  /** Honest nodes never sign two different messages for one (height, round, kind), across restarts too. */
  private noteSigned(node: SimNode, message: Value): void {
    if (!Array.isArray(message)) return;
    let key: string;
    let hash: Value | undefined;
    if (message[0] === "vote" && Array.isArray(message[1])) {
      const [kind, height, round, blockHash, validator] = message[1] as Value[];
      if (validator !== node.validator) return;
      key = `${String(kind)}/${String(height)}/${String(round)}`;
      hash = blockHash;
    } else if (message[0] === "proposal") {
      if (message[5] !== node.validator) return;
      key = `p/${String(message[1])}/${String(message[2])}`;
      hash = message[3];
    } else {
      return;
    }
    const value = hash instanceof Uint8Array ? toHex(hash) : "nil";
    const before = node.signed.get(key);
    if (before === undefined) node.signed.set(key, value);
    else if (before !== value) {
      this.checkers.fail(
        "honest-equivocation",
        this.now,
        `node${node.index} signed ${key} for ${before.slice(0, 16)} and ${value.slice(0, 16)}`,
      );
    }
  }

  /** A node dropped a member for an invalid message: the link goes down and comes back after a ban. */
  ban(by: number, peer: number, detail: string): void {
    this.stats.bans++;
    this.log(by, `disconnects node${peer}: ${detail}`);
    if (!(this.nodes[peer] as SimNode).byzantine && !(this.nodes[by] as SimNode).byzantine) {
      this.checkers.fail("honest-peer-rejected", this.now, `node${by} disconnected honest node${peer}: ${detail}`);
    }
    this.linkDown(by, peer);
    this.schedule(this.now + this.prng.int(SIM_WORLD.banMinMs, SIM_WORLD.banMaxMs), { kind: "connect", a: by, b: peer });
  }

  private linkDown(a: number, b: number): void {
    const link = this.link(a, b);
    if (!link.up) return;
    link.up = false;
    link.epoch++;
    this.activity++;
    for (const [node, peer] of [
      [a, b],
      [b, a],
    ] as const) {
      const n = this.nodes[node] as SimNode;
      if (n.up) this.schedule(this.now + this.prng.int(1, 5), { kind: "peerDown", node, inc: n.inc, peer });
    }
  }

  private connect(a: number, b: number): void {
    const na = this.nodes[a] as SimNode;
    const nb = this.nodes[b] as SimNode;
    const link = this.link(a, b);
    if (link.up || !na.up || !nb.up) return;
    link.up = true;
    link.epoch++;
    this.traceLine(`link ${a} ${b}`);
    for (const [n, peer] of [
      [na, nb],
      [nb, na],
    ] as const) {
      for (const h of [...(n.live?.endpoint.peerHandlers ?? [])]) h(peer.hex, true);
    }
  }

  // ---- nodes -------------------------------------------------------------------------------------

  private log(node: number, line: string): void {
    const logs = (this.nodes[node] as SimNode).logs;
    logs.push(`t=${this.now} ${line}`);
    if (logs.length > 400) logs.splice(0, logs.length - 300);
  }

  private logger(node: SimNode): Logger {
    const sim = this;
    const print = this.options.logLevel !== undefined;
    return pino(
      { level: this.options.logLevel ?? "info", base: { node: node.index }, timestamp: false, mixin: () => ({ t: sim.now }) },
      {
        write(line: string) {
          const trimmed = line.trimEnd();
          sim.log(node.index, trimmed);
          if (print) process.stderr.write(`${trimmed}\n`);
          if (node.byzantine) return;
          if (trimmed.includes('"validator equivocated"')) sim.stats.voteEquivocationsSeen++;
          else if (trimmed.includes('"proposer sent two different proposals for one round"')) sim.stats.proposalEquivocationsSeen++;
          else if (trimmed.includes('"equivocation reported"')) sim.stats.evidenceReports++;
          else if (trimmed.includes('"equivocation report refused"')) sim.stats.evidenceReportsRefused++;
        },
      },
    );
  }

  private timers(node: number, inc: number): Timers {
    return {
      setTimeout: (fn, ms): TimerHandle => {
        const state = { cancelled: false };
        this.activity++;
        this.schedule(this.now + Math.max(0, ms), { kind: "timer", node, inc, fn, state });
        return {
          cancel: () => {
            state.cancelled = true;
          },
        };
      },
    };
  }

  private async start(node: SimNode): Promise<void> {
    const p = this.params;
    const log = this.logger(node);
    const store = ChainStore.open(node.dir);
    const mempool = new Mempool();
    const metrics = new NodeMetrics({ defaultMetrics: false });
    const verifier = new VerifyPool(this.genesis.suite, CHAIN_ID, 0, log);
    const chain = await Chain.open(this.genesis, store, mempool, metrics, log, verifier);
    const inc = node.inc;
    const clock: Clock = { now: () => GENESIS_TIME_MS + START_OFFSET_MS + this.now + (p.skews[node.index] as number) };
    const endpoint = new Endpoint(this, node.index, inc);
    const cmetrics = new ConsensusMetrics(metrics.registry);
    const realCommit = store.commitBlock.bind(store);
    const pending: PendingWrite[] = [];
    const blockTxsMax = LIMITS.blockTxsMax;
    const blockBytesMax = LIMITS.blockBytesMax;
    let service: ConsensusService | null = null;
    const net = node.byzantine
      ? this.adversary.wrap(endpoint, {
          node: node.index,
          validator: node.validator,
          key: node.key,
          chain,
          mempool,
          clock,
          blockTxsMax,
          blockBytesMax,
        })
      : endpoint;
    const reporter = node.byzantine ? null : new EquivocationReporter(chain, node.key, log, (txs) => service?.admitted(txs));
    service = new ConsensusService({
      chain,
      mempool,
      net,
      timers: this.timers(node.index, inc),
      clock,
      key: node.key,
      guard: new SignGuard(node.signStore),
      config: SIM_CONSENSUS,
      blockTxsMax,
      blockBytesMax,
      log,
      metrics: cmetrics,
      onEquivocation: (evidence, validators) => {
        if (!node.byzantine) this.onEvidence(node, evidence, validators);
        // Wired as node.ts wires it: whatever the reporter throws reaches the consensus service.
        if (reporter !== null) this.reporterCall(node, () => reporter.report(evidence));
      },
    });
    const live: Live = {
      inc,
      store,
      chain,
      mempool,
      service,
      endpoint,
      cmetrics,
      realCommit,
      pending,
      lastFlushAt: 0,
      lastCommitted: chain.head.height,
    };
    // The simulated disk: a block write becomes durable after a virtual latency, in order; a crash before then loses it.
    store.commitBlock = (commit: BlockCommit) =>
      new Promise<void>((resolve, reject) => {
        this.activity++;
        pending.push({ commit, resolve, reject });
        const latency = this.prng.chance(SIM_WORLD.slowDiskShare)
          ? this.prng.int(50, SIM_WORLD.slowDiskMaxMs)
          : this.prng.int(1, SIM_WORLD.diskLatencyMaxMs);
        const at = Math.max(this.now + latency, live.lastFlushAt);
        live.lastFlushAt = at;
        this.schedule(at, { kind: "flush", node: node.index, inc });
        const armed = node.armed;
        if (armed !== null) {
          node.armed = null;
          this.schedule(this.now + this.prng.int(0, at - this.now - 1), { kind: "crash", plan: armed, now: true });
        }
      });
    chain.on("committed", (e: CommittedBlockEvent) => {
      if (e.height <= live.lastCommitted) return;
      live.lastCommitted = e.height;
      this.traceLine(`commit ${node.index} ${e.height} ${toHex(e.hash)}`);
    });
    node.live = live;
    node.up = true;
    node.upSinceMs = this.now;
    this.traceLine(`start ${node.index}`);
    service.start((err) => this.onFatal(node, inc, err));
  }

  private onFatal(node: SimNode, inc: number, err: unknown): void {
    if (node.inc !== inc) return;
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    this.log(node.index, `FATAL ${message}`);
    if (!node.byzantine) this.checkers.fail("fatal", this.now, `node${node.index}: ${message}`);
  }

  /**
   * Runs the equivocation reporter. A throw is a violation ("evidence-report"): the reporter must not
   * fail on valid evidence. It is rethrown, to the consensus service, which logs it and goes on.
   */
  private reporterCall(node: SimNode, report: () => void): void {
    try {
      report();
    } catch (err) {
      this.stats.reporterErrors++;
      this.checkers.fail("evidence-report", this.now, `node${node.index}: equivocation reporter threw: ${(err as Error).message}`);
      throw err;
    }
  }

  private onEvidence(node: SimNode, evidence: Equivocation, validators: ValidatorSet): void {
    const accused = validators.validators[evidence.first.validator];
    const culprit = accused === undefined ? undefined : this.byHex.get(toHex(accused.publicKey));
    if (culprit === undefined || !(this.nodes[culprit] as SimNode).byzantine) {
      this.checkers.fail("false-evidence", this.now, `node${node.index} holds equivocation evidence against honest node${culprit ?? "?"}`);
    }
  }

  private async crash(node: SimNode, plan: CrashPlan): Promise<void> {
    const live = node.live as Live;
    this.executedCrashes.add(plan.id);
    this.checkers.scan(this.checked(node), this.now);
    node.durableAtCrash = live.chain.head.height;
    await this.collectMetrics(live);
    node.up = false;
    node.inc++;
    node.live = null;
    node.downBy = plan.id;
    node.armed = null;
    this.stats.crashes++;
    if (live.pending.length > 0) this.stats.crashesDuringWrite++;
    this.traceLine(`crash ${node.index} pending=${live.pending.length}`);
    this.log(node.index, `CRASH (${live.pending.length} block writes in flight are lost)`);
    for (const other of this.nodes) if (other !== node) this.linkDown(node.index, other.index);
    const stopping = live.service.stop();
    const lost = live.pending.splice(0);
    for (const w of lost) w.reject(new Error("simulated crash: block write was not durable"));
    this.stats.lostWrites += lost.length;
    await stopping;
    await new Promise<void>((resolve) => setImmediate(resolve));
    await live.store.close();
    this.schedule(this.now + plan.downMs, { kind: "restart", plan });
  }

  private async restart(node: SimNode): Promise<void> {
    node.downBy = null;
    this.stats.restarts++;
    await this.start(node);
    this.log(node.index, `RESTART at height ${node.live?.chain.head.height}`);
    this.checkers.afterRestart(this.checked(node), node.durableAtCrash, this.committedTxs, this.now);
    for (const other of this.nodes) {
      if (other !== node && other.up) {
        this.schedule(this.now + this.prng.int(SIM_WORLD.connectMinMs, SIM_WORLD.connectMaxMs), {
          kind: "connect",
          a: node.index,
          b: other.index,
        });
      }
    }
  }

  private async collectMetrics(live: Live): Promise<void> {
    const decided = await live.cmetrics.blocksDecided.get();
    for (const v of decided.values) if (v.labels.source === "sync") this.stats.syncedBlocks += v.value;
  }

  private checked(node: SimNode) {
    return {
      index: node.index,
      honest: !node.byzantine,
      power: node.power,
      chain: node.live?.chain ?? null,
      upSinceMs: node.upSinceMs,
    };
  }

  // ---- the client ----------------------------------------------------------------------------------

  private async clientTick(): Promise<void> {
    const p = this.params;
    this.schedule(this.now + this.prng.int(p.clientIntervalMinMs, p.clientIntervalMaxMs), { kind: "client" });
    const a = this.prng.int(0, this.clients.length - 1);
    const client = this.clients[a] as (typeof this.clients)[number];
    if (client.outstanding.length < SIM_WORLD.clientOutstandingMax) {
      const nonce = client.nextNonce++;
      const suite = this.genesis.suite;
      const { bytes, hash } = signTx(suite, client.key, {
        chainId: CHAIN_ID,
        nonce,
        module: "evidence",
        method: "notarize",
        args: { digest: suite.hash(utf8(`fullsim/${p.seed}/${a}/${nonce}`)), label: `client${a}` },
      });
      client.outstanding.push({ account: a, nonce, bytes, hash: suite.hash(bytes), hex: hash, firstMs: this.now });
      this.stats.txsSubmitted++;
    }
    const targets = this.nodes.filter((n) => n.up && !n.byzantine);
    if (targets.length === 0) return;
    const target = targets[this.prng.int(0, targets.length - 1)] as SimNode;
    const live = target.live as Live;
    // Every uncommitted transaction again, in nonce order per account: a node that lost them (restart) gets them back.
    const txs = this.clients.flatMap((c) => c.outstanding);
    if (txs.length === 0) return;
    this.activity++;
    const outcomes = await live.chain.submit(txs.map((t) => t.bytes));
    const admitted = outcomes.filter((o): o is TxEnvelope => !(o instanceof TallyError));
    if (admitted.length > 0 && target.live === live) live.service.admitted(admitted.map((e) => e.bytes));
  }

  /** The client polls honest nodes for its transactions; one found durable is reported committed. */
  private pollClient(): void {
    for (const client of this.clients) {
      client.outstanding = client.outstanding.filter((tx) => {
        for (const n of this.nodes) {
          if (n.byzantine || n.live === null) continue;
          const found = n.live.chain.tx(tx.hash);
          if (found === undefined) continue;
          this.committedTxs.push({ hash: tx.hash, hex: tx.hex, height: found.height, blockHash: toHex(found.blockHash) });
          this.stats.txsCommitted++;
          this.checkers.noteTxLatency(tx.firstMs, this.now);
          return false;
        }
        return true;
      });
    }
  }

  // ---- checks ---------------------------------------------------------------------------------------

  private check(): void {
    const checked = this.nodes.map((n) => this.checked(n));
    for (const n of checked) this.checkers.scan(n, this.now);
    this.pollClient();
    this.checks++;
    if (this.checks % 8 === 0) this.checkers.state(checked, this.now, this.checks / 8);
    this.checkers.liveness(checked, this.now);
    this.checkers.txLiveness(
      this.clients.flatMap((c) => c.outstanding),
      this.now,
    );
  }

  private finalCheck(): void {
    this.check();
    const checked = this.nodes.map((n) => this.checked(n));
    this.checkers.state(checked, this.now, 0);
    for (const n of checked) this.checkers.checkTxs(n, this.committedTxs, this.now);
  }

  // ---- events ---------------------------------------------------------------------------------------

  /** Runs one event; false if it was stale (nothing happened). */
  private async handle(ev: SimEvent): Promise<boolean> {
    switch (ev.kind) {
      case "deliver": {
        const node = this.nodes[ev.to] as SimNode;
        const link = this.link(ev.from, ev.to);
        if (!node.up || node.inc !== ev.toInc || !link.up || link.epoch !== ev.epoch || node.live === null) {
          this.stats.lostInFlight++;
          return false;
        }
        this.stats.delivered++;
        this.traceLine(`deliver ${ev.from} ${ev.to}`, ev.bytes);
        const value = decode(ev.bytes);
        const from = (this.nodes[ev.from] as SimNode).hex;
        this.guarded(node, () => {
          for (const h of [...(node.live as Live).endpoint.messageHandlers]) h(from, value);
        });
        return true;
      }
      case "timer": {
        const node = this.nodes[ev.node] as SimNode;
        if (ev.state.cancelled || !node.up || node.inc !== ev.inc) return false;
        this.guarded(node, ev.fn);
        return true;
      }
      case "flush": {
        const node = this.nodes[ev.node] as SimNode;
        const live = node.live;
        if (!node.up || node.inc !== ev.inc || live === null) return false;
        const w = live.pending.shift();
        if (w === undefined) return false;
        try {
          await live.realCommit(w.commit);
        } catch (err) {
          w.reject(err as Error);
          return true;
        }
        w.resolve();
        return true;
      }
      case "connect":
        this.connect(ev.a, ev.b);
        return true;
      case "peerDown": {
        const node = this.nodes[ev.node] as SimNode;
        if (!node.up || node.inc !== ev.inc || node.live === null || this.link(ev.node, ev.peer).up) return false;
        const peer = (this.nodes[ev.peer] as SimNode).hex;
        this.guarded(node, () => {
          for (const h of [...(node.live as Live).endpoint.peerHandlers]) h(peer, false);
        });
        return true;
      }
      case "partition":
        if (this.synchronous) return false;
        this.partition = ev.period;
        this.traceLine(`partition ${ev.period.label}`);
        return true;
      case "gst":
        this.partition = null;
        this.traceLine("gst");
        return true;
      case "crash": {
        const node = this.nodes[ev.plan.node] as SimNode;
        if (this.executedCrashes.has(ev.plan.id)) return false;
        if (!node.up || node.live === null) {
          this.executedCrashes.add(ev.plan.id);
          return false;
        }
        if (ev.plan.duringWrite && !ev.now) {
          // Armed: strikes during the node's next block write, or after 3 s without one.
          node.armed = ev.plan;
          this.schedule(this.now + 3_000, { kind: "crash", plan: ev.plan, now: true });
          return true;
        }
        await this.crash(node, ev.plan);
        return true;
      }
      case "restart": {
        const node = this.nodes[ev.plan.node] as SimNode;
        if (node.up || node.downBy !== ev.plan.id) return false;
        await this.restart(node);
        return true;
      }
      case "client":
        await this.clientTick();
        return true;
      case "check":
        this.schedule(this.now + SIM_WORLD.checkEveryMs, { kind: "check" });
        this.check();
        return true;
    }
  }

  /** A node's handler throwing is a broken invariant in that node (honest: a violation). */
  private guarded(node: SimNode, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.onFatal(node, node.inc, err);
    }
  }

  async run(): Promise<SeedResult> {
    const started = performance.now();
    const p = this.params;
    let nodeStates: string[] = [];
    try {
      for (const node of this.nodes) await this.start(node);
      for (const a of this.nodes) for (const b of this.nodes) if (a.index < b.index) this.connect(a.index, b.index);
      for (const period of p.partitions) this.schedule(period.fromMs, { kind: "partition", period });
      this.schedule(p.gstMs, { kind: "gst" });
      for (const plan of p.crashes) this.schedule(plan.atMs, { kind: "crash", plan, now: false });
      this.schedule(this.prng.int(0, p.clientIntervalMaxMs), { kind: "client" });
      this.schedule(SIM_WORLD.checkEveryMs, { kind: "check" });
      await this.settle();
      for (let ev = this.queue.pop(); ev !== undefined && ev.at <= p.durationMs; ev = this.queue.pop()) {
        this.now = ev.at;
        if (await this.handle(ev)) {
          this.stats.events++;
          await this.settle();
        }
        if (!this.checkers.safe) break;
      }
      if (this.checkers.safe) {
        this.now = Math.max(this.now, p.durationMs);
        this.finalCheck();
      }
    } finally {
      nodeStates = this.nodes.map((n) => this.describeNode(n));
      await this.shutdown();
    }
    for (const n of this.nodes) this.stats.signRecordSaves += n.signStore.saves;
    const named = new Set<number>();
    for (const v of this.checkers.violations) for (const m of v.detail.matchAll(/node(\d+)/g)) named.add(Number(m[1]));
    const tailOf = named.size > 0 ? [...named] : this.nodes.map((n) => n.index);
    const logTail = tailOf.flatMap((i) => (this.nodes[i]?.logs.slice(-40) ?? []).map((l) => `node${i}: ${l}`));
    return {
      params: p,
      violations: this.checkers.violations,
      trace: this.trace.digest("hex"),
      heights: this.checkers.maxHeight,
      virtualMs: this.now,
      realMs: Math.round(performance.now() - started),
      worstGapMs: this.checkers.worstGapMs,
      worstTxLatencyMs: this.checkers.worstTxLatencyMs,
      stats: this.stats,
      adversary: this.adversary.stats,
      logTail,
      nodeStates,
    };
  }

  private describeNode(n: SimNode): string {
    const live = n.live;
    const role = n.byzantine ? "byzantine" : "honest";
    if (live === null) return `node${n.index} (${role}, validator ${n.validator}): down`;
    const s = live.service.status();
    const last = n.signStore.load();
    // Diagnostics only: the core's lock, read from the service's private state.
    const cs = (live.service as unknown as { cs: ConsensusState }).cs;
    const lock =
      cs.status === "idle"
        ? ""
        : ` locked ${cs.lockedRound}:${cs.lockedValue === null ? "-" : toHex(cs.lockedValue).slice(0, 8)} valid ${cs.validRound}:${cs.validValue === null ? "-" : toHex(cs.validValue).slice(0, 8)}`;
    const votes = (tally: { votes: readonly ({ blockHash: Uint8Array | null } | undefined)[] }): string =>
      tally.votes.map((v) => (v === undefined ? "." : v.blockHash === null ? "n" : toHex(v.blockHash).slice(0, 2))).join("");
    const rounds =
      cs.status === "idle"
        ? ""
        : [...cs.rounds.values()]
            .sort((a, b) => a.round - b.round)
            .map((r) => ` r${r.round}[props ${r.proposals.length} pv ${votes(r.prevotes)} pc ${votes(r.precommits)}]`)
            .join("");
    return [
      `node${n.index} (${role}, validator ${n.validator}): head ${live.chain.head.height} executed ${live.chain.executed.height}`,
      `deciding ${s.height} round ${s.round} step ${s.step} peers ${s.peers} syncing ${s.syncing} mempool ${live.mempool.size}`,
      `pending writes ${live.pending.length} last signed ${last === undefined ? "-" : `${last.height}/${last.round}/${last.step}`}${lock}${rounds}`,
    ].join(" ");
  }

  private async shutdown(): Promise<void> {
    for (const node of this.nodes) {
      const live = node.live;
      if (live === null) continue;
      await this.collectMetrics(live);
      node.up = false;
      node.inc++;
      node.live = null;
      const stopping = live.service.stop();
      for (const w of live.pending.splice(0)) w.reject(new Error("simulation over"));
      await stopping;
      await new Promise<void>((resolve) => setImmediate(resolve));
      await live.store.close();
    }
    if (this.options.keepDirs !== true) rmSync(this.root, { recursive: true, force: true });
  }
}

export async function runSeed(options: FullSimOptions): Promise<SeedResult> {
  return new FullSim(options).run();
}

export function formatResult(r: SeedResult): string {
  const s = r.stats;
  const status = r.violations.length === 0 ? "ok" : `FAIL (${[...new Set(r.violations.map((v) => v.kind))].join(", ")})`;
  return [
    `seed ${r.params.seed}`,
    describeParams(r.params),
    `| heights ${r.heights} txs ${s.txsCommitted}/${s.txsSubmitted}`,
    `crashes ${s.crashes} (in-write ${s.crashesDuringWrite}, lost writes ${s.lostWrites})`,
    `equivocations seen ${s.voteEquivocationsSeen}v/${s.proposalEquivocationsSeen}p${s.reporterErrors > 0 ? ` (reporter threw ${s.reporterErrors}×)` : ""}`,
    `msgs ${s.delivered}/${s.sent}`,
    `worst gap ${(r.worstGapMs / 1000).toFixed(1)}s`,
    `virt ${(r.virtualMs / 1000).toFixed(0)}s real ${r.realMs}ms trace ${r.trace.slice(0, 12)}`,
    status,
  ].join(" ");
}

/** Violations, node states, log tail and the replay command of a failed seed. */
export function describeFailure(r: SeedResult): string {
  return [
    `FAILED seed ${r.params.seed}:`,
    ...r.violations.slice(0, 10).map((v) => `  ${v.kind} at t=${v.atMs} ms: ${v.detail}`),
    "  nodes:",
    ...r.nodeStates.map((l) => `    ${l}`),
    "  log tail:",
    ...r.logTail.slice(-60).map((l) => `    ${l.length > 400 ? `${l.slice(0, 400)}…` : l}`),
    `  replay: ${replayCommand(r.params)}`,
  ].join("\n");
}
