/**
 * `--nodes N` (N ≥ 4): the load run against a BFT network of N validators on this machine, each its own
 * `tally start` process with the settings `tally init` writes (its consensus timeouts included). The
 * closed-loop clients are spread round-robin over the nodes' APIs; each client keeps to one node, so its
 * nonces arrive in order, and gossip carries its transactions to the proposer. A paced (open-loop) phase
 * then offers a fixed rate, by default half the best closed-loop rate, to a fresh network. After each run,
 * every node must hold identical blocks up to the lowest common height, and every transaction a node
 * acknowledged as committed must be in them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { SuiteId } from "@tally/core";
import {
  buildBodies,
  type ChainWalk,
  type Client,
  CpuMeter,
  checkTokens,
  configLabel,
  freshProfileDir,
  generateKeys,
  getJson,
  type LoadConfig,
  type NodeRunOptions,
  type PhaseRecord,
  type PhaseStats,
  PhaseTally,
  prepareNodeRun,
  prepareWorkload,
  presign,
  progressPhase,
  type RequestBody,
  type RunningNetwork,
  runPhase,
  runSettings,
  type SignPool,
  sampleTxs,
  send,
  stats,
  type TokenSetup,
  txsPath,
  type Verification,
  walkChain,
  walkTxs,
  warmUp,
  withNetwork,
  withSignPool,
  withTokenCheck,
  workloadIssuer,
} from "./node-run.js";
import { memoryKiB } from "./proc.js";
import { fmt, progress, sleep } from "./util.js";

export interface NetworkRunOptions extends NodeRunOptions {
  /** Validators, each its own process (≥ 4). */
  readonly nodes: number;
  /** Offered tx/s of the paced phase; undefined: half the best closed-loop rate. */
  readonly pacedRate: number | undefined;
}

export interface NodeUsage {
  readonly name: string;
  /** Percent of one core over the timed phase. */
  readonly cpuPercent: number;
  /** Peak sampled VmRSS over the whole run, and VmHWM at the end of the timed phase. */
  readonly peakRssMiB: number;
  readonly hwmMiB: number;
  /** Warning and error lines of its log (whole run), and the most frequent of them. */
  readonly logProblems: number;
  readonly logTop: string[];
}

export interface NetworkVerification extends Verification {
  /** Each node's height when checked (`height` is the lowest). */
  readonly heights: number[];
  /** The first height at which a node's block hash differs from node0's; null: identical on all nodes. */
  readonly divergedAt: number | null;
  /** Acknowledged transactions not in node0's blocks. */
  readonly missing: number;
  /** Blocks committed in a round above 0 (the first round timed out). */
  readonly laterRounds: number;
}

export interface NetworkLoadResult {
  readonly label: string;
  readonly warmup: PhaseStats;
  readonly main: PhaseStats;
  /** Transactions in the blocks committed during the timed phase, per second of it. */
  readonly blockTxPerSec: number;
  readonly blocks: number;
  readonly avgTxsPerBlock: number;
  readonly nodes: NodeUsage[];
  /** All node processes together, percent of one core. */
  readonly nodeCpuPercent: number;
  /** CPU of all node processes per transaction committed in the timed phase, microseconds. */
  readonly nodeCpuUsPerTx: number;
  readonly benchCpuPercent: number;
  readonly otherCpuPercent: number;
  /** The `consensus` section of the nodes' config.json (as `tally init` wrote it). */
  readonly consensus: Record<string, number>;
  readonly verification: NetworkVerification;
  /** The kept network directory (node logs), with --keep or when verification failed. */
  readonly dir?: string;
}

export interface PacedResult extends NetworkLoadResult {
  readonly offeredPerSec: number;
  /** Transactions per request, the interval between requests and the accounts sending them in turn. */
  readonly batchSize: number;
  readonly intervalMs: number;
  readonly accounts: number;
}

export interface NetworkRunSummary {
  readonly suite: SuiteId;
  readonly nodeRuntime: "built" | "source";
  readonly verifyWorkers: number | "default";
  readonly nodes: number;
  readonly verifyOnlyPerSec: number;
  readonly results: NetworkLoadResult[];
  readonly paced?: PacedResult;
}

/** Accounts of the paced phase. Each has one request in flight at most, so they also bound the requests in flight. */
const PACED_ACCOUNTS = 64;
/** About this long between paced requests; the batch size is rounded and the interval follows from the rate. */
const PACED_TICK_MS = 50;
/** How long the network has to commit its first blocks, and later to let every node reach a height. */
const NETWORK_WAIT_MS = 60_000;

interface StatusJson {
  readonly height: number;
  readonly consensus?: { readonly peers?: number; readonly round?: number };
}

async function statuses(net: RunningNetwork): Promise<StatusJson[]> {
  return Promise.all(net.init.apiUrls.map(async (url) => (await getJson(`${url}/v1/status`)).json as StatusJson));
}

async function maxHeight(net: RunningNetwork): Promise<number> {
  return Math.max(...(await statuses(net)).map((s) => s.height));
}

/** Polls every node until each has committed 2 blocks and is linked to all the others; keeps the logs if not. */
async function waitAdvancing(net: RunningNetwork, label: string): Promise<void> {
  const deadline = Date.now() + NETWORK_WAIT_MS;
  let seen = "no status yet";
  for (;;) {
    for (const node of net.nodes) node.checkRunning("before the load");
    const all = await statuses(net).catch(() => undefined);
    if (all !== undefined) {
      seen = all.map((s, k) => `node${k} height ${s.height}, ${s.consensus?.peers ?? "?"} peers`).join("; ");
      if (all.every((s) => s.height >= 2 && s.consensus?.peers === net.nodes.length - 1)) {
        progress(`node [${label}]: all ${net.nodes.length} nodes committing (${seen})`);
        return;
      }
    }
    if (Date.now() > deadline) {
      net.keep = true;
      throw new Error(`the network did not start committing within ${NETWORK_WAIT_MS / 1000} s (${seen})`);
    }
    await sleep(250);
  }
}

/** Waits (bounded) until every node has reached `height`; returns the nodes' heights. */
async function waitHeight(net: RunningNetwork, height: number): Promise<number[]> {
  const deadline = Date.now() + NETWORK_WAIT_MS;
  for (;;) {
    const heights = (await statuses(net)).map((s) => s.height);
    if (Math.min(...heights) >= height || Date.now() > deadline) return heights;
    await sleep(200);
  }
}

/** The first height at which some walk's block hash differs from the first walk's; null if none does. */
function divergence(walks: readonly ChainWalk[], height: number): number | null {
  const [first, ...others] = walks;
  for (let h = 1; h <= height; h++) if (others.some((w) => w.hashes[h] !== first?.hashes[h])) return h;
  return null;
}

/**
 * After a run: every node reaches `minHeight` (the highest any node had when the load ended); each node's
 * blocks 1..(lowest common height) have node0's hashes; every acknowledged transaction is in them, the chain
 * holds no other; and each node finds 20 sampled acknowledged transactions through GET /v1/txs/{hash}.
 */
async function verifyNetwork(net: RunningNetwork, acked: readonly string[], minHeight: number) {
  const heights = await waitHeight(net, minHeight);
  const height = Math.min(...heights);
  const walks = await Promise.all(net.init.apiUrls.map((url, k) => walkChain(url, height, k === 0)));
  const samples = await Promise.all(net.init.apiUrls.map((url) => sampleTxs(url, acked, height)));
  const sampled = samples.reduce((n, s) => n + s.sampled, 0);
  const sampleFound = samples.reduce((n, s) => n + s.found, 0);
  const walked = walks.every((w) => w !== null);
  const first = walks[0] ?? null;
  const divergedAt = walked ? divergence(walks as ChainWalk[], height) : null;
  const chainTxs = first === null ? null : walkTxs(first);
  const missing = first === null ? acked.length : acked.filter((hash) => !first.txHashes.has(hash)).length;
  const ok = walked && divergedAt === null && missing === 0 && chainTxs === acked.length && sampleFound === sampled;
  const note = !walked
    ? "block walk timed out"
    : [
        divergedAt === null
          ? `identical block hashes on all ${net.nodes.length} nodes up to height ${height}`
          : `**block ${divergedAt} differs between nodes**`,
        missing === 0
          ? `all ${fmt(acked.length, 0)} acknowledged txs in them`
          : `${fmt(missing, 0)} of ${fmt(acked.length, 0)} acknowledged txs missing`,
        ...(chainTxs === acked.length ? [] : [`the chain holds ${fmt(chainTxs, 0)} txs`]),
        `${sampleFound}/${sampled} sampled lookups found`,
      ].join("; ");
  const verification: NetworkVerification = {
    ok,
    height,
    heights,
    chainTxs,
    committedResponses: acked.length,
    sampled,
    sampleFound,
    divergedAt,
    missing,
    laterRounds: first?.laterRounds ?? 0,
    note,
  };
  return { verification, walk: first };
}

/** Warning and error lines (pino level 40 and above) of a node's log, and its three most frequent messages. */
function logProblems(file: string): { count: number; top: string[] } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return { count: 0, top: [] };
  }
  const counts = new Map<string, number>();
  let count = 0;
  for (const line of text.split("\n")) {
    const level = /"level":(\d+)/.exec(line)?.[1];
    if (level === undefined || Number(level) < 40) continue;
    count++;
    const msg = /"msg":"([^"]*)"/.exec(line)?.[1] ?? line.slice(0, 80);
    counts.set(msg, (counts.get(msg) ?? 0) + 1);
  }
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 3);
  return { count, top: top.map(([msg, n]) => `${msg} ×${n}`) };
}

function readConsensus(net: RunningNetwork): Record<string, number> {
  const config = JSON.parse(readFileSync(join(net.init.nodeDirs[0] as string, "config.json"), "utf8")) as {
    consensus?: Record<string, number>;
  };
  return config.consensus ?? {};
}

interface Timed {
  readonly main: PhaseRecord;
  readonly cpu: ReturnType<CpuMeter["finish"]>;
  readonly hwmKiB: number[];
  /** The highest height of any node before and after the phase. */
  readonly heightBefore: number;
  readonly heightAfter: number;
}

/** A timed phase, with the CPU of every node around it and the chain heights before and after. */
async function timed(net: RunningNetwork, phase: () => Promise<PhaseRecord>): Promise<Timed> {
  const heightBefore = await maxHeight(net);
  const meter = new CpuMeter(net.nodes.map((n) => n.pid));
  const main = await phase();
  const cpu = meter.finish();
  const hwmKiB = net.nodes.map((n) => memoryKiB(n.pid)?.hwm ?? Number.NaN);
  const heightAfter = await maxHeight(net);
  return { main, cpu, hwmKiB, heightBefore, heightAfter };
}

function nodeUsage(net: RunningNetwork, t: Timed): NodeUsage[] {
  return net.nodes.map((node, k) => {
    const log = logProblems(node.logFile);
    return {
      name: `node${k}`,
      cpuPercent: t.cpu.nodeCpuPercent[k] ?? Number.NaN,
      peakRssMiB: (net.samplers[k]?.peakKiB ?? Number.NaN) / 1024,
      hwmMiB: (t.hwmKiB[k] ?? Number.NaN) / 1024,
      logProblems: log.count,
      logTop: log.top,
    };
  });
}

/** Verifies the network after a run and makes its result row (also progress lines). */
async function networkResult(
  net: RunningNetwork,
  label: string,
  warm: PhaseRecord,
  t: Timed,
  tokens: TokenSetup | undefined,
): Promise<NetworkLoadResult> {
  const { main, cpu } = t;
  const acked = [...(tokens?.hashes ?? []), ...warm.committedHashes, ...main.committedHashes];
  const checked = await verifyNetwork(net, acked, t.heightAfter);
  const { walk } = checked;
  const verification =
    tokens === undefined ? checked.verification : withTokenCheck(checked.verification, await checkTokens(net.init.apiUrls, tokens));
  progress(`node [${label}]: verification ${verification.ok ? "ok" : "FAILED"}: ${verification.note}`);
  if (!verification.ok) net.keep = true;
  const blocks = t.heightAfter - t.heightBefore;
  const blockTxs = walk === null ? Number.NaN : walkTxs(walk, t.heightBefore + 1, t.heightAfter);
  const nodes = nodeUsage(net, t);
  const nodeCpuPercent = cpu.nodeCpuPercent.reduce((a, b) => a + b, 0);
  const nodeCpuUsPerTx = blockTxs > 0 ? ((nodeCpuPercent / 100) * cpu.seconds * 1e6) / blockTxs : Number.NaN;
  progress(
    `node [${label}]: ${fmt(blockTxs / cpu.seconds)} tx/s in blocks (${fmt(blockTxs, 0)} txs in ${blocks} blocks, ${verification.laterRounds} blocks of the run in a round > 0), ${fmt(main.txPerSec)} tx/s acknowledged, p50 ${fmt(main.p50Ms)} ms, p99 ${fmt(main.p99Ms)} ms; node CPU ${nodes.map((n) => `${fmt(n.cpuPercent)}%`).join(" / ")} = ${fmt(nodeCpuUsPerTx)} µs/tx; other processes ${fmt(cpu.otherCpuPercent)}% CPU`,
  );
  for (const n of nodes)
    if (n.logProblems > 0) progress(`node [${label}]: ${n.name} log: ${n.logProblems} warnings/errors: ${n.logTop.join("; ")}`);
  return {
    label,
    warmup: stats(warm),
    main: stats(main),
    blockTxPerSec: blockTxs / cpu.seconds,
    blocks,
    avgTxsPerBlock: blocks > 0 ? blockTxs / blocks : Number.NaN,
    nodes,
    nodeCpuPercent,
    nodeCpuUsPerTx,
    benchCpuPercent: cpu.benchCpuPercent,
    otherCpuPercent: cpu.otherCpuPercent,
    consensus: readConsensus(net),
    verification,
    ...(net.keep ? { dir: net.dir } : {}),
  };
}

function networkSpec(options: NetworkRunOptions, label: string, clients: number, config: LoadConfig) {
  const keys = generateKeys(options.suite, clients);
  // With --profile every node runs under --cpu-prof; their profiles land in one directory per row.
  const profileDir = options.profile ? freshProfileDir(options, config, `${options.nodes}-nodes`) : undefined;
  return {
    label,
    validators: options.nodes,
    keys,
    socketsPerNode: Math.ceil(clients / options.nodes) + 2,
    profileDir,
    issuer: workloadIssuer(options),
  };
}

/** One closed-loop configuration on a fresh network. */
async function runNetworkConfig(options: NetworkRunOptions, config: LoadConfig, pool: SignPool): Promise<NetworkLoadResult> {
  const spec = networkSpec(options, `${configLabel(config)}, ${options.nodes} nodes`, config.clients, config);
  return withNetwork(options, spec, async (net) => {
    await waitAdvancing(net, spec.label);
    const { clients, tokens } = await prepareWorkload(options, net, spec.keys, spec.label);
    const { warm } = await warmUp(options, config, spec.label, pool, net, clients);
    const t = await timed(net, () => runPhase(net.agent, net.urls, clients, config, options.durationSec));
    progressPhase(spec.label, t.main);
    return networkResult(net, spec.label, warm, t, tokens);
  });
}

/**
 * Open loop: one request of `config.batchSize` transactions every `intervalMs` whatever the answers, from the
 * accounts in turn (account i sends to node i mod N). An account still waiting for its previous answer sends
 * when that arrives; latency counts from the scheduled time, so such waiting shows in it.
 */
async function runPaced(net: RunningNetwork, clients: Client[], config: LoadConfig, intervalMs: number, seconds: number) {
  const path = txsPath(config);
  const bodies = clients.map((c) => (c.broken ? [] : buildBodies(c, config)));
  const sent = clients.map(() => 0);
  const inFlight = clients.map(() => Promise.resolve());
  const start = performance.now();
  const tally = new PhaseTally(start, seconds);
  for (let k = 0; k * intervalMs < seconds * 1000; k++) {
    const due = start + k * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const ci = k % clients.length;
    const client = clients[ci] as Client;
    const body = bodies[ci]?.[sent[ci] ?? 0];
    if (body === undefined) {
      tally.exhausted = true;
      break;
    }
    sent[ci] = (sent[ci] ?? 0) + 1;
    const url = net.urls[ci % net.urls.length] as URL;
    const go = (b: RequestBody) =>
      client.broken ? tally.addError("account stopped after an error", b.txs.length) : send(net.agent, url, path, b, client, tally, due);
    inFlight[ci] = (inFlight[ci] as Promise<void>).then(() => go(body));
  }
  await Promise.all(inFlight);
  clients.forEach((c, ci) => {
    c.queue = (bodies[ci] ?? []).slice(sent[ci]).flatMap((b) => b.txs);
  });
  return tally.result();
}

/** The paced phase on a fresh network: a warm-up at the rate, then the timed phase. */
async function runPacedNetwork(options: NetworkRunOptions, rate: number, pool: SignPool): Promise<PacedResult> {
  const batchSize = Math.max(1, Math.round((rate * PACED_TICK_MS) / 1000));
  const intervalMs = (batchSize / rate) * 1000;
  const config: LoadConfig = { mode: "batch", clients: PACED_ACCOUNTS, batchSize };
  const spec = networkSpec(options, `paced ${fmt(rate, 0)} tx/s, ${options.nodes} nodes`, PACED_ACCOUNTS, config);
  return withNetwork(options, spec, async (net) => {
    await waitAdvancing(net, spec.label);
    const { clients, tokens } = await prepareWorkload(options, net, spec.keys, spec.label);
    const requests = ((options.warmupSec + options.durationSec) * 1000) / intervalMs;
    const signed = await presign(pool, options.suite, clients, Math.ceil((requests * 1.1) / PACED_ACCOUNTS + 1) * batchSize);
    progress(
      `node [${spec.label}]: pre-signed ${fmt(signed.txs, 0)} txs in ${signed.seconds.toFixed(1)} s; ${batchSize} txs every ${fmt(intervalMs)} ms from ${PACED_ACCOUNTS} accounts in turn; warm-up ${options.warmupSec} s`,
    );
    const warm = await runPaced(net, clients, config, intervalMs, options.warmupSec);
    progress(`node [${spec.label}]: warm-up p50 ${fmt(warm.p50Ms)} ms, p99 ${fmt(warm.p99Ms)} ms; load ${options.durationSec} s`);
    const t = await timed(net, () => runPaced(net, clients, config, intervalMs, options.durationSec));
    progressPhase(spec.label, t.main);
    const result = await networkResult(net, spec.label, warm, t, tokens);
    return { ...result, offeredPerSec: rate, batchSize, intervalMs, accounts: PACED_ACCOUNTS };
  });
}

/** The closed-loop configurations, each on a fresh N-node network, then the paced phase. */
export async function runNetwork(options: NetworkRunOptions): Promise<NetworkRunSummary> {
  const verifyOnlyPerSec = prepareNodeRun(options);
  const { results, paced } = await withSignPool(async (pool): Promise<{ results: NetworkLoadResult[]; paced?: PacedResult }> => {
    const results: NetworkLoadResult[] = [];
    for (const config of options.configs) results.push(await runNetworkConfig(options, config, pool));
    const best = Math.max(...results.map((r) => (Number.isFinite(r.blockTxPerSec) ? r.blockTxPerSec : r.main.txPerSec)));
    const rate = options.pacedRate ?? Math.round(best / 2);
    if (!(rate >= 1)) {
      progress("network: no closed-loop rate to pace at; paced phase skipped");
      return { results };
    }
    progress(
      `network: paced phase at ${fmt(rate, 0)} tx/s (${options.pacedRate === undefined ? "half the best closed-loop rate" : "--paced-rate"})`,
    );
    return { results, paced: await runPacedNetwork(options, rate, pool) };
  });
  return {
    ...runSettings(options),
    nodes: options.nodes,
    verifyOnlyPerSec,
    results,
    ...(paced === undefined ? {} : { paced }),
  };
}
