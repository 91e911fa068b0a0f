/**
 * Seeded simulation of n Tendermint state machines (spec/consensus.md §simulation). One PRNG drives
 * everything: the validator set, the Byzantine set, message loss, duplication, delay (hence
 * reordering), partitions until GST, application latency. Time is virtual. The same seed replays the
 * same run exactly: `SIM_SEED=<seed> node scripts/test.mjs packages/node/test/consensus/sim.test.ts`.
 *
 * Honest nodes run the real core behind a small shell that plays the parts the node will play: it
 * sends the effects' messages, fires timeouts, answers getValue/validate from a stub application,
 * buffers the next height's messages, re-sends its own messages of the current height while stuck
 * (the gossip layer's eventual delivery) and answers a peer behind it with the decided height's
 * proposal and precommits (catch-up). Byzantine validators are one colluding adversary that sends
 * conflicting proposals and votes to two halves of the honest nodes.
 */
import { createHash } from "node:crypto";
import { toHex, type ValidatorSet } from "@tally/core";
import { type ConsensusState, IDLE_STATE, step } from "../../src/consensus/machine.js";
import { ProposerSchedule } from "../../src/consensus/proposer.js";
import { isQuorum, votesFor } from "../../src/consensus/tally.js";
import type { ConsensusEffect, ConsensusEvent, Proposal, TimeoutConfig, Vote } from "../../src/consensus/types.js";

// ---- PRNG -----------------------------------------------------------------------------------------

/** sfc32 (Chris Doty-Humphrey's Small Fast Counter), seeded through splitmix32. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const splitmix = () => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix();
    this.b = splitmix();
    this.c = splitmix();
    this.d = splitmix();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t0 = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    const t = (t0 + this.d) | 0;
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 2 ** 32;
  }

  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }
}

// ---- options and results --------------------------------------------------------------------------

export type ByzantineMode = "none" | "tolerated" | "excessive";

export interface SimOptions {
  readonly seed: number;
  /** Heights every honest node must decide. */
  readonly heights: number;
  /** "tolerated": Byzantine power < 1/3 (up to f); "excessive": > 1/3 (negative control). */
  readonly byzantine: ByzantineMode;
  /** Network faults before GST; false: a perfect network from time 0. */
  readonly faults?: boolean;
}

export const SIM_CONFIG: TimeoutConfig = { timeoutProposeMs: 300, timeoutPrevoteMs: 150, timeoutPrecommitMs: 150, timeoutDeltaMs: 50 };

/** Virtual-time constants of the simulated world (ms). */
export const SIM_WORLD = {
  /** Δ: message delay bound after GST. */
  delayMaxMs: 40,
  delayMinMs: 2,
  /** Before GST some messages take up to this long (reordering across rounds). */
  longDelayMaxMs: 1500,
  gstMaxMs: 8000,
  gossipIntervalMs: 250,
  appDelayMaxMs: 15,
  commitDelayMs: 10,
  /** Buffered messages of the next height per node. */
  futureBufferMax: 4096,
} as const;

/**
 * The liveness bound: every honest node decides every one of `heights` heights by GST + this (checked).
 * A height whose rounds all have honest proposers takes well under a second after GST; a Byzantine
 * proposer costs a round of timeouts (about 0.6 s + 0.15 s per round number).
 */
export function livenessBoundMs(heights: number): number {
  return 10_000 + 1_000 * heights;
}

export interface SimParams {
  readonly seed: number;
  readonly powers: readonly number[];
  readonly byzantine: readonly number[];
  readonly loss: number;
  readonly duplication: number;
  readonly gstMs: number;
}

export interface Violation {
  readonly kind: "agreement" | "validity" | "liveness" | "certificate" | "honest-equivocation" | "false-evidence";
  readonly detail: string;
}

export interface DecisionRecord {
  readonly node: number;
  readonly height: number;
  readonly round: number;
  readonly blockHash: string;
  readonly timeMs: number;
}

export interface SimResult {
  readonly params: SimParams;
  readonly decisions: readonly DecisionRecord[];
  readonly violations: readonly Violation[];
  /** Time of the last honest decision minus GST (negative if all decided before GST). */
  readonly settleAfterGstMs: number;
  readonly steps: number;
  readonly messages: number;
  readonly maxRound: number;
  readonly evidence: number;
  /** Digest of every processed event, for the replay test. */
  readonly trace: string;
  /** Each honest node's last state, for diagnosing a failing seed. */
  readonly finalStates: ReadonlyMap<number, ConsensusState>;
}

export function describeParams(p: SimParams): string {
  return `seed=${p.seed} powers=[${p.powers.join(",")}] byzantine=[${p.byzantine.join(",")}] loss=${p.loss.toFixed(2)} dup=${p.duplication.toFixed(2)} gst=${p.gstMs}ms`;
}

// ---- the world ------------------------------------------------------------------------------------

type Message = { readonly kind: "proposal"; readonly proposal: Proposal } | { readonly kind: "vote"; readonly vote: Vote };

type QueueItem =
  | {
      readonly at: number;
      readonly seq: number;
      readonly type: "deliver";
      readonly to: number;
      readonly from: number;
      readonly msg: Message;
    }
  | { readonly at: number; readonly seq: number; readonly type: "local"; readonly to: number; readonly event: ConsensusEvent }
  | { readonly at: number; readonly seq: number; readonly type: "start"; readonly to: number; readonly height: number }
  | { readonly at: number; readonly seq: number; readonly type: "gossip"; readonly to: number };

const ITEM_CODES = { deliver: 1, local: 2, start: 3, gossip: 4 } as const;

/** Binary min-heap on (at, seq): equal times pop in insertion order. */
class Queue {
  private readonly items: QueueItem[] = [];

  get size(): number {
    return this.items.length;
  }

  private less(i: number, j: number): boolean {
    const a = this.items[i] as QueueItem;
    const b = this.items[j] as QueueItem;
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const t = this.items[i] as QueueItem;
    this.items[i] = this.items[j] as QueueItem;
    this.items[j] = t;
  }

  push(item: QueueItem): void {
    this.items.push(item);
    let i = this.items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): QueueItem | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (this.items.length > 0 && last !== undefined) {
      this.items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.items.length && this.less(l, m)) m = l;
        if (r < this.items.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

/** The stub application's blocks: a real hash of (height, round, proposer, variant). */
function blockHashOf(height: number, round: number, proposer: number, variant: number): Uint8Array {
  return new Uint8Array(createHash("sha256").update(`tally-sim/block/${height}/${round}/${proposer}/${variant}`).digest());
}

interface BlockInfo {
  readonly height: number;
  readonly round: number;
  readonly proposer: number;
  readonly variant: number;
}

interface Certificate {
  readonly proposal: Proposal;
  readonly precommits: readonly Vote[];
}

interface HonestNode {
  readonly index: number;
  state: ConsensusState;
  height: number;
  /** Own messages of the current height, re-sent while stuck. */
  own: Message[];
  future: Message[];
  certs: Map<number, Certificate>;
  lastCatchup: Map<string, number>;
  progressMark: string;
}

function validatorSetOf(powers: readonly number[]): ValidatorSet {
  return {
    validators: powers.map((power, i) => ({ publicKey: new Uint8Array([i]), power })),
    totalPower: powers.reduce((a, b) => a + b, 0),
    hash: createHash("sha256")
      .update(`tally-sim/set/${powers.join(",")}`)
      .digest(),
  };
}

/** FNV-1a over 32-bit words, for the trace digest. */
class Digest {
  private h = 0x811c9dc5;

  add(...words: number[]): void {
    for (const w of words) {
      this.h = Math.imul(this.h ^ (w & 0xffff), 0x01000193);
      this.h = Math.imul(this.h ^ ((w >>> 16) & 0xffff), 0x01000193);
    }
  }

  hex(): string {
    return (this.h >>> 0).toString(16).padStart(8, "0");
  }
}

export function simParams(seed: number, byzantine: ByzantineMode, faults: boolean): SimParams {
  const rng = new Prng(seed);
  const n = rng.int(4, 7);
  const weighted = rng.chance(0.5);
  const powers = Array.from({ length: n }, () => (weighted ? rng.int(1, 3) : 1));
  const total = powers.reduce((a, b) => a + b, 0);
  const order = rng.shuffle(powers.map((_, i) => i));
  const chosen: number[] = [];
  let power = 0;
  if (byzantine === "tolerated") {
    // The largest prefix whose power stays below 1/3, then often all of it, otherwise a random part.
    const fits: number[] = [];
    for (const i of order) {
      if ((power + (powers[i] as number)) * 3 >= total) break;
      power += powers[i] as number;
      fits.push(i);
    }
    chosen.push(...fits.slice(0, rng.chance(0.6) ? fits.length : rng.int(0, fits.length)));
  } else if (byzantine === "excessive") {
    // f + 1 by power: add validators until their power exceeds 1/3.
    for (const i of order) {
      chosen.push(i);
      power += powers[i] as number;
      if (power * 3 > total) break;
    }
  }
  return {
    seed,
    powers,
    byzantine: chosen.sort((a, b) => a - b),
    loss: faults ? rng.float() * 0.3 : 0,
    duplication: faults ? rng.float() * 0.1 : 0,
    gstMs: faults ? rng.int(0, SIM_WORLD.gstMaxMs) : 0,
  };
}

export function runSimulation(options: SimOptions): SimResult {
  const faults = options.faults ?? true;
  const params = simParams(options.seed, options.byzantine, faults);
  // One PRNG for the run, seeded apart from the parameter draw so that parameters stay stable.
  const rng = new Prng(options.seed ^ 0x5eed5eed);
  const { powers, gstMs } = params;
  const n = powers.length;
  const H = options.heights;
  const set = validatorSetOf(powers);
  const isByzantine = powers.map((_, i) => params.byzantine.includes(i));
  const honest = powers.map((_, i) => i).filter((i) => !isByzantine[i]);
  const queue = new Queue();
  const digest = new Digest();
  const violations: Violation[] = [];
  const decisions: DecisionRecord[] = [];
  const blocks = new Map<string, BlockInfo>();
  const sentVotes = new Map<string, string>();
  const schedules = new Map<number, ProposerSchedule>();
  let seq = 0;
  let now = 0;
  let steps = 0;
  let messages = 0;
  let maxRound = 0;
  let evidence = 0;
  const endMs = gstMs + livenessBoundMs(H);

  const proposerOf = (height: number, round: number): number => {
    let s = schedules.get(height);
    if (s === undefined) {
      s = ProposerSchedule.forHeight(set, height);
      schedules.set(height, s);
    }
    return s.proposer(round);
  };

  const registerBlock = (info: BlockInfo): Uint8Array => {
    const hash = blockHashOf(info.height, info.round, info.proposer, info.variant);
    blocks.set(toHex(hash), info);
    return hash;
  };

  // Partitions before GST: epochs of 300–3000 ms, each either whole or split into 2–3 groups.
  const partitionEpochs: { until: number; group: number[] }[] = [];
  for (let t = 0; t < gstMs; ) {
    const until = Math.min(gstMs, t + rng.int(300, 3000));
    const k = rng.chance(0.5) ? 1 : rng.int(2, 3);
    partitionEpochs.push({ until, group: powers.map(() => rng.int(0, k - 1)) });
    t = until;
  }
  const partitioned = (a: number, b: number): boolean => {
    if (now >= gstMs) return false;
    const epoch = partitionEpochs.find((e) => now < e.until);
    return epoch !== undefined && epoch.group[a] !== epoch.group[b];
  };

  const send = (from: number, to: number, msg: Message): void => {
    if (from === to) return;
    if (now < gstMs && (partitioned(from, to) || rng.chance(params.loss))) return;
    const copies = rng.chance(params.duplication) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const long = now < gstMs && rng.chance(0.05);
      const delay = long ? rng.int(SIM_WORLD.delayMinMs, SIM_WORLD.longDelayMaxMs) : rng.int(SIM_WORLD.delayMinMs, SIM_WORLD.delayMaxMs);
      queue.push({ at: now + delay, seq: seq++, type: "deliver", to, from, msg });
      messages++;
    }
  };

  // ---- the adversary: all Byzantine validators, colluding -----------------------------------------
  const adversary = {
    rounds: new Set<string>(),
    proposals: new Set<string>(),
    /** Two halves of the honest nodes for (height, round), of about equal power, otherwise random. */
    split(): [number[], number[]] {
      const groups: [number[], number[]] = [[], []];
      const power = [0, 0];
      for (const i of rng.shuffle(honest)) {
        const g = (power[0] as number) <= (power[1] as number) ? 0 : 1;
        groups[g].push(i);
        power[g] = (power[g] as number) + (powers[i] as number);
      }
      return groups;
    },
    sendVotes(height: number, round: number, groups: [number[], number[]], values: [Uint8Array | null, Uint8Array | null]): void {
      for (const b of params.byzantine) {
        for (const kind of ["prevote", "precommit"] as const) {
          for (let g = 0; g < 2; g++) {
            for (const to of groups[g] as number[]) {
              send(b, to, { kind: "vote", vote: { kind, height, round, blockHash: values[g] as Uint8Array | null, validator: b } });
            }
          }
        }
      }
    },
    /** A round some honest node entered: a Byzantine proposer splits the honest nodes between two blocks. */
    onRound(height: number, round: number): void {
      const key = `${height}/${round}`;
      if (params.byzantine.length === 0 || adversary.rounds.has(key)) return;
      adversary.rounds.add(key);
      const p = proposerOf(height, round);
      if (!isByzantine[p]) return;
      const groups = adversary.split();
      const a = registerBlock({ height, round, proposer: p, variant: 1 });
      // Sometimes the second block is invalid: an unregistered hash.
      const b = rng.chance(0.25) ? blockHashOf(height, round, p, 99) : registerBlock({ height, round, proposer: p, variant: 2 });
      const values: [Uint8Array, Uint8Array] = [a, b];
      for (let g = 0; g < 2; g++) {
        for (const to of groups[g] as number[]) {
          send(p, to, { kind: "proposal", proposal: { height, round, blockHash: values[g] as Uint8Array, validRound: -1, proposer: p } });
        }
      }
      adversary.sendVotes(height, round, groups, values);
    },
    /** An honest proposal: Byzantine validators vote for it to one half and nil to the other. */
    onProposal(p: Proposal): void {
      const key = `${p.height}/${p.round}`;
      if (params.byzantine.length === 0 || adversary.proposals.has(key)) return;
      adversary.proposals.add(key);
      adversary.sendVotes(p.height, p.round, adversary.split(), [p.blockHash, null]);
    },
  };

  // ---- honest nodes -------------------------------------------------------------------------------
  const nodes = new Map<number, HonestNode>();
  for (const i of honest) {
    nodes.set(i, {
      index: i,
      state: IDLE_STATE,
      height: 0,
      own: [],
      future: [],
      certs: new Map(),
      lastCatchup: new Map(),
      progressMark: "",
    });
    queue.push({ at: rng.int(0, 50), seq: seq++, type: "start", to: i, height: 1 });
    queue.push({ at: rng.int(1, SIM_WORLD.gossipIntervalMs), seq: seq++, type: "gossip", to: i });
  }

  const broadcast = (node: HonestNode, msg: Message): void => {
    for (let to = 0; to < n; to++) send(node.index, to, msg);
  };

  const checkCertificate = (node: HonestNode, e: Extract<ConsensusEffect, { type: "decide" }>): void => {
    const seen = new Set<number>();
    let power = 0;
    for (const v of e.precommits) {
      const ok =
        v.kind === "precommit" &&
        v.height === e.height &&
        v.round === e.round &&
        v.blockHash !== null &&
        toHex(v.blockHash) === toHex(e.blockHash) &&
        !seen.has(v.validator);
      if (!ok) violations.push({ kind: "certificate", detail: `node ${node.index} height ${e.height}: bad precommit in certificate` });
      seen.add(v.validator);
      power += powers[v.validator] as number;
    }
    if (!isQuorum(power, set.totalPower)) {
      violations.push({
        kind: "certificate",
        detail: `node ${node.index} height ${e.height}: certificate holds ${power}/${set.totalPower}`,
      });
    }
  };

  const apply = (node: HonestNode, event: ConsensusEvent): void => {
    const result = step(node.state, event);
    steps++;
    node.state = result.state;
    for (const e of result.effects) handleEffect(node, e);
  };

  const handleEffect = (node: HonestNode, e: ConsensusEffect): void => {
    switch (e.type) {
      case "broadcastProposal": {
        const msg: Message = { kind: "proposal", proposal: e.proposal };
        node.own.push(msg);
        broadcast(node, msg);
        adversary.onProposal(e.proposal);
        break;
      }
      case "broadcastVote": {
        const v = e.vote;
        const key = `${v.validator}/${v.height}/${v.round}/${v.kind}`;
        const value = v.blockHash === null ? "nil" : toHex(v.blockHash);
        const before = sentVotes.get(key);
        if (before !== undefined && before !== value) violations.push({ kind: "honest-equivocation", detail: `validator ${key}` });
        sentVotes.set(key, value);
        const msg: Message = { kind: "vote", vote: v };
        node.own.push(msg);
        broadcast(node, msg);
        break;
      }
      case "scheduleTimeout":
        if (e.step === "propose") {
          maxRound = Math.max(maxRound, e.round);
          adversary.onRound(e.height, e.round);
        }
        queue.push({
          at: now + e.durationMs,
          seq: seq++,
          type: "local",
          to: node.index,
          event: { type: "timeout", step: e.step, height: e.height, round: e.round },
        });
        break;
      case "getValue": {
        const blockHash = registerBlock({ height: e.height, round: e.round, proposer: node.index, variant: 0 });
        queue.push({
          at: now + rng.int(0, SIM_WORLD.appDelayMaxMs),
          seq: seq++,
          type: "local",
          to: node.index,
          event: { type: "ownBlock", height: e.height, round: e.round, blockHash },
        });
        break;
      }
      case "validate": {
        // The application re-derives the hash from the block it names: valid iff it is a block of this height.
        const info = blocks.get(toHex(e.blockHash));
        const valid =
          info !== undefined &&
          info.height === e.height &&
          toHex(blockHashOf(info.height, info.round, info.proposer, info.variant)) === toHex(e.blockHash);
        queue.push({
          at: now + rng.int(0, SIM_WORLD.appDelayMaxMs),
          seq: seq++,
          type: "local",
          to: node.index,
          event: { type: "blockValidity", height: e.height, blockHash: e.blockHash, valid },
        });
        break;
      }
      case "decide": {
        checkCertificate(node, e);
        const info = blocks.get(toHex(e.blockHash));
        if (info === undefined || info.height !== e.height || info.proposer !== proposerOf(info.height, info.round)) {
          violations.push({ kind: "validity", detail: `node ${node.index} decided an unproposed block at height ${e.height}` });
        }
        decisions.push({ node: node.index, height: e.height, round: e.round, blockHash: toHex(e.blockHash), timeMs: now });
        digest.add(0xdec1de, node.index, e.height, e.round, now);
        node.certs.set(e.height, { proposal: e.proposal, precommits: e.precommits });
        if (e.height < H)
          queue.push({ at: now + SIM_WORLD.commitDelayMs, seq: seq++, type: "start", to: node.index, height: e.height + 1 });
        break;
      }
      case "voteEquivocation":
      case "proposalEquivocation": {
        evidence++;
        const culprit = e.type === "voteEquivocation" ? e.first.validator : e.first.proposer;
        if (!isByzantine[culprit]) violations.push({ kind: "false-evidence", detail: `node ${node.index} accused honest ${culprit}` });
        break;
      }
    }
  };

  const heightOf = (msg: Message): number => (msg.kind === "vote" ? msg.vote.height : msg.proposal.height);
  const toEvent = (msg: Message): ConsensusEvent =>
    msg.kind === "vote" ? { type: "vote", vote: msg.vote } : { type: "proposal", proposal: msg.proposal };

  const deliver = (node: HonestNode, from: number, msg: Message): void => {
    const h = heightOf(msg);
    const cert = node.certs.get(h);
    if (cert !== undefined && !isByzantine[from]) {
      // A peer still at a height we decided: send it the proposal and precommits (rate-limited).
      const key = `${from}/${h}`;
      const last = node.lastCatchup.get(key);
      if (last === undefined || now - last >= SIM_WORLD.gossipIntervalMs) {
        node.lastCatchup.set(key, now);
        send(node.index, from, { kind: "proposal", proposal: cert.proposal });
        for (const v of cert.precommits) send(node.index, from, { kind: "vote", vote: v });
      }
      return;
    }
    if (h === node.height) apply(node, toEvent(msg));
    else if (h === node.height + 1 && node.future.length < SIM_WORLD.futureBufferMax) node.future.push(msg);
  };

  /**
   * What a stuck node re-sends: the gossip layer's eventual delivery (the paper's assumption: a
   * message one correct process received reaches every correct process), done the way CometBFT's
   * reactor does it. Its own messages of the height; every vote it holds for its round and the round
   * before (including other validators' and conflicting ones); the proposals of its round; and the
   * prevotes that justify a valid round (L28), of its own validValue and of its round's proposals.
   */
  const gossipSet = (node: HonestNode): Message[] => {
    const out = [...node.own];
    const s = node.state;
    if (s.status !== "running") return out;
    const add = (v: Vote | undefined) => {
      if (v !== undefined && v.validator !== node.index) out.push({ kind: "vote", vote: v });
    };
    for (const r of [s.round - 1, s.round]) {
      const rec = s.rounds.get(r);
      if (rec === undefined) continue;
      for (const t of [rec.prevotes, rec.precommits]) for (let i = 0; i < n; i++) for (const v of [t.votes[i], t.conflicting[i]]) add(v);
    }
    const pol = (round: number, blockHash: Uint8Array) => {
      const tally = s.rounds.get(round)?.prevotes;
      if (tally !== undefined) for (const v of votesFor(tally, blockHash)) add(v);
    };
    if (s.validValue !== null) pol(s.validRound, s.validValue);
    for (const p of s.rounds.get(s.round)?.proposals ?? []) {
      out.push({ kind: "proposal", proposal: p });
      if (p.validRound >= 0) pol(p.validRound, p.blockHash);
    }
    return out;
  };

  const mark = (node: HonestNode): string => {
    const s = node.state;
    return s.status === "idle" ? "idle" : `${s.height}/${s.round}/${s.step}/${s.status}`;
  };

  let gossipTicks = 0;
  for (;;) {
    const item = queue.pop();
    if (item === undefined) break;
    now = item.at;
    if (now > endMs) break;
    const node = nodes.get(item.to);
    digest.add(ITEM_CODES[item.type], item.to, now);
    if (node === undefined) continue; // Byzantine validators act through the adversary only.
    if (item.type === "deliver") {
      deliver(node, item.from, item.msg);
    } else if (item.type === "local") {
      apply(node, item.event);
    } else if (item.type === "start") {
      node.height = item.height;
      node.own = [];
      apply(node, { type: "startHeight", height: item.height, validators: set, self: node.index, config: SIM_CONFIG });
      const buffered = node.future;
      node.future = [];
      for (const msg of buffered) if (heightOf(msg) === node.height) apply(node, toEvent(msg));
    } else {
      // Re-send own messages of the current height while stuck, and every fifth tick regardless.
      const current = mark(node);
      gossipTicks++;
      if (current === node.progressMark || gossipTicks % 5 === 0) for (const msg of gossipSet(node)) broadcast(node, msg);
      node.progressMark = current;
      const done = node.certs.has(H);
      if (!done || [...nodes.values()].some((x) => !x.certs.has(H))) {
        queue.push({ at: now + SIM_WORLD.gossipIntervalMs, seq: seq++, type: "gossip", to: node.index });
      }
    }
    if ([...nodes.values()].every((x) => x.certs.has(H))) break;
  }

  // ---- checkers -----------------------------------------------------------------------------------
  const byHeight = new Map<number, DecisionRecord[]>();
  for (const d of decisions) byHeight.set(d.height, [...(byHeight.get(d.height) ?? []), d]);
  for (const [height, ds] of [...byHeight.entries()].sort((a, b) => a[0] - b[0])) {
    const values = [...new Set(ds.map((d) => d.blockHash))].sort();
    if (values.length > 1) {
      violations.push({
        kind: "agreement",
        detail: `height ${height}: ${ds.map((d) => `node ${d.node} → ${d.blockHash.slice(0, 8)} (round ${d.round})`).join(", ")}`,
      });
    }
  }
  let lastDecision = 0;
  for (const i of honest) {
    for (let h = 1; h <= H; h++) {
      const d = decisions.find((x) => x.node === i && x.height === h);
      if (d === undefined)
        violations.push({ kind: "liveness", detail: `node ${i} did not decide height ${h} by GST + ${livenessBoundMs(H)} ms` });
      else lastDecision = Math.max(lastDecision, d.timeMs);
    }
  }
  for (const d of decisions) digest.add(d.node, d.height, d.round, Number.parseInt(d.blockHash.slice(0, 8), 16));
  return {
    params,
    decisions,
    violations,
    settleAfterGstMs: lastDecision - gstMs,
    steps,
    messages,
    maxRound,
    evidence,
    trace: digest.hex(),
    finalStates: new Map([...nodes.values()].map((x) => [x.index, x.state])),
  };
}
