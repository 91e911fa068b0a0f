/**
 * Single-node load run: a fresh one-validator network in a temp dir, the node as a separate OS process
 * (the built `tally start`, or the TypeScript sources with --source), and a closed-loop load generator
 * here: K client accounts (declared in genesis) submit pre-signed notarize transactions with `wait: true`,
 * one per request or in batches, for a fixed time. The node's CPU and memory come from /proc.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { createServer } from "node:net";
import { availableParallelism } from "node:os";
import { join, relative } from "node:path";
import { Worker } from "node:worker_threads";
import { initNetwork } from "@tally/cli";
import { type GenesisDoc, getSuite, type KeyPair, loadGenesis, type SuiteId, signTx, toHex, txSignBytes } from "@tally/core";
import { BENCH_CHAIN_ID, notarizeBody } from "./micro.js";
import { clockTicksPerSecond, cpuTicks, memoryKiB, OtherLoad, RssSampler, type ThreadCpu, threadCpuDelta, threadTicks } from "./proc.js";
import { type ProfileSummary, summariseProfileDir } from "./profile.js";
import type { SignReply, SignRequest } from "./sign-worker.js";
import { fmt, keepTempDir, makeTempDir, measureSync, percentile, progress, REPO, removeTempDir, sleep, withTimeout } from "./util.js";

export type LoadMode = "single" | "batch";

export interface LoadConfig {
  readonly mode: LoadMode;
  readonly clients: number;
  /** Transactions per request (1 in single mode). */
  readonly batchSize: number;
}

export interface NodeRunOptions {
  readonly suite: SuiteId;
  readonly durationSec: number;
  readonly warmupSec: number;
  readonly configs: readonly LoadConfig[];
  /** Run the node with --cpu-prof; profiles go to resultsDir/profiles/<config>. */
  readonly profile: boolean;
  /** The node's verifyWorkers setting; undefined keeps the node's default (cores - 1). */
  readonly verifyWorkers: number | undefined;
  /** Run the node from TypeScript sources (tsx) instead of the built CLI. */
  readonly source: boolean;
  readonly keep: boolean;
  readonly resultsDir: string;
  /** Seconds for the verify-only reference rate. */
  readonly verifySeconds: number;
  /** Before each configuration, wait up to this many seconds for other processes to leave the CPU (0: don't). */
  readonly waitQuietSec: number;
}

export interface PhaseStats {
  readonly committed: number;
  readonly requests: number;
  readonly wallSec: number;
  readonly txPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly errors: Record<string, number>;
  /** Some client ran out of pre-signed transactions before the time was up. */
  readonly exhausted: boolean;
  /** Committed tx/s in consecutive windows of the phase (8 windows), to show drift as the state grows. */
  readonly series: number[];
}

export interface LoadResult {
  readonly config: LoadConfig;
  readonly label: string;
  readonly warmup: PhaseStats;
  readonly main: PhaseStats;
  readonly presigned: { readonly txs: number; readonly seconds: number };
  /** Node process CPU over the main phase, in percent of one core (200% = both cores of this machine). */
  readonly nodeCpuPercent: number;
  readonly nodeThreads: ThreadCpu[];
  /** Node CPU time (all threads) per committed transaction over the main phase, microseconds. */
  readonly nodeCpuUsPerTx: number;
  /** The node's main thread (API, admission, execution, storage writes) per committed transaction, microseconds. */
  readonly mainThreadUsPerTx: number;
  /** Load generator CPU per committed transaction, microseconds. */
  readonly benchCpuUsPerTx: number;
  /** This (load generator) process's CPU over the main phase, percent of one core. */
  readonly benchCpuPercent: number;
  /** CPU used by every other process of the machine over the main phase (other users' jobs), percent of one core. */
  readonly otherCpuPercent: number;
  readonly peakRssMiB: number;
  /** Peak sampled RssAnon: the JS heap and other private memory, without LMDB's mapped file pages. */
  readonly peakAnonMiB: number;
  readonly hwmMiB: number;
  readonly rssSamples: number;
  readonly blocks: number;
  readonly avgTxsPerBlock: number;
  /** From the node's /metrics over the main phase. */
  readonly executeMsPerBlock: number;
  readonly persistMsPerBlock: number;
  readonly verification: Verification;
  readonly profiles?: ProfileSummary[];
  readonly logFile?: string;
}

export interface Verification {
  readonly ok: boolean;
  readonly height: number;
  readonly chainTxs: number | null;
  readonly committedResponses: number;
  readonly sampled: number;
  readonly sampleFound: number;
  readonly note: string;
}

export interface NodeRunSummary {
  readonly suite: SuiteId;
  readonly nodeRuntime: "built" | "source";
  readonly verifyWorkers: number | "default";
  /** Single-core verify-only rate of this machine: suite.verify over tx sign bytes, in this process. */
  readonly verifyOnlyPerSec: number;
  readonly results: LoadResult[];
}

export const TALLY_BIN = join(REPO, "packages", "cli", "bin", "tally.js");
const START_SOURCE = join(REPO, "bench", "start-node.ts");
const WAIT_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 90_000;
/** Bound on pre-signed transactions for one phase (memory of the load generator). */
const POOL_TXS_MAX = 800_000;
/** The org `tally init` creates for its admin account (ADMIN_ORG in packages/cli, not exported). */
const ADMIN_ORG = "consortium";

// ---- child processes: always killed on exit -------------------------------------------------------

const children = new Set<ChildProcess>();

/** SIGKILL every node process still running (exit, error and signal handlers call this). */
export function killChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  children.clear();
}

class NodeProcess {
  private constructor(
    readonly proc: ChildProcess,
    readonly url: string,
    readonly logFile: string,
    private readonly exited: Promise<void>,
  ) {}

  get pid(): number {
    return this.proc.pid as number;
  }

  static async start(nodeDir: string, url: string, logFile: string, source: boolean, profileDir: string | undefined): Promise<NodeProcess> {
    const log = openSync(logFile, "a");
    const prof = profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`];
    const entry = source ? ["--conditions=@tally/source", "--import", "tsx", START_SOURCE] : [TALLY_BIN];
    const proc = spawn(process.execPath, [...prof, ...entry, "start", nodeDir], { stdio: ["ignore", log, log], cwd: REPO });
    children.add(proc);
    const exited = new Promise<void>((resolve) =>
      proc.once("exit", () => {
        children.delete(proc);
        resolve();
      }),
    );
    const node = new NodeProcess(proc, url, logFile, exited);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`node exited (${proc.exitCode ?? proc.signalCode}) during start; log: ${logTail(logFile)}`);
      }
      try {
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) return node;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        node.kill();
        throw new Error(`node did not answer /health within 60 s; log: ${logTail(logFile)}`);
      }
      await sleep(100);
    }
  }

  /** SIGTERM and wait for a clean exit (needed for --cpu-prof to write its profile); SIGKILL after `ms`. */
  async stop(ms = 60_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill("SIGTERM");
    try {
      await withTimeout(this.exited, ms, "node stop");
    } catch {
      progress(`node ${this.pid} did not stop within ${ms / 1000} s: SIGKILL`);
      this.kill();
      await this.exited;
    }
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGKILL");
  }
}

function logTail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "(no log)";
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

// ---- HTTP ----------------------------------------------------------------------------------------

interface HttpReply {
  readonly status: number;
  readonly json: unknown;
}

function post(agent: Agent, url: URL, path: string, body: Buffer): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path,
        method: "POST",
        headers: { "content-type": "application/json", "content-length": body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
          } catch (err) {
            reject(err);
          }
        });
        res.on("error", reject);
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(body);
  });
}

async function getJson(url: string): Promise<HttpReply> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  return { status: res.status, json: await res.json() };
}

async function getText(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  return res.text();
}

/** Sum and count of a Prometheus histogram (unlabelled) from /metrics text. */
function histogram(text: string, name: string): { sum: number; count: number } {
  const read = (suffix: string) => Number(new RegExp(`^${name}_${suffix} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
  return { sum: read("sum"), count: read("count") };
}

// ---- signing -------------------------------------------------------------------------------------

/**
 * Workers on Node 20 do not inherit tsx's loader hooks from `--import tsx`, so the worker registers them
 * itself (tsx/esm/api) before importing the TypeScript file.
 */
const SIGN_WORKER_BOOT = `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL("./sign-worker.ts", import.meta.url).href)}); });`;

class SignPool {
  private readonly workers: Worker[];
  private nextId = 0;
  private readonly pending = new Map<number, (reply: SignReply) => void>();

  constructor(size: number) {
    this.workers = Array.from({ length: size }, () => {
      const w = new Worker(SIGN_WORKER_BOOT, { eval: true });
      w.on("message", (reply: SignReply) => {
        this.pending.get(reply.id)?.(reply);
        this.pending.delete(reply.id);
      });
      w.on("error", (err) => {
        throw err;
      });
      return w;
    });
  }

  sign(req: Omit<SignRequest, "id">, worker: number): Promise<SignReply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      (this.workers[worker % this.workers.length] as Worker).postMessage({ ...req, id } satisfies SignRequest);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

// ---- clients ---------------------------------------------------------------------------------------

interface Client {
  readonly key: KeyPair;
  readonly privateKeyHex: string;
  /** Nonce of the next transaction to sign. */
  signedUpTo: number;
  /** Signed, not yet sent: hex and hash, in nonce order. */
  queue: Array<{ hex: string; hash: string }>;
  /** Set when a request failed: the account's later nonces can no longer commit, so it stops. */
  broken: boolean;
}

interface RequestBody {
  readonly buf: Buffer;
  readonly txs: Array<{ hex: string; hash: string }>;
}

function buildBodies(client: Client, config: LoadConfig): RequestBody[] {
  const bodies: RequestBody[] = [];
  for (let i = 0; i < client.queue.length; i += config.batchSize) {
    const txs = client.queue.slice(i, i + config.batchSize);
    const json =
      config.mode === "single"
        ? `{"tx":"${(txs[0] as { hex: string }).hex}","wait":true,"timeoutMs":${WAIT_TIMEOUT_MS}}`
        : `{"txs":[${txs.map((t) => `"${t.hex}"`).join(",")}],"wait":true,"timeoutMs":${WAIT_TIMEOUT_MS}}`;
    bodies.push({ buf: Buffer.from(json), txs });
  }
  return bodies;
}

async function presign(pool: SignPool, suite: SuiteId, clients: Client[], perClient: number): Promise<{ txs: number; seconds: number }> {
  const t0 = performance.now();
  let total = 0;
  await Promise.all(
    clients.map(async (c, i) => {
      if (c.broken || perClient <= 0) return;
      const reply = await pool.sign(
        { suite, chainId: BENCH_CHAIN_ID, privateKeyHex: c.privateKeyHex, startNonce: c.signedUpTo, count: perClient },
        i,
      );
      c.signedUpTo += perClient;
      for (let k = 0; k < reply.txs.length; k++) c.queue.push({ hex: reply.txs[k] as string, hash: reply.hashes[k] as string });
      total += reply.txs.length;
    }),
  );
  return { txs: total, seconds: (performance.now() - t0) / 1000 };
}

interface PhaseRecord extends PhaseStats {
  /** Hashes the node reported committed (for the verification sample). */
  readonly committedHashes: string[];
}

/** Closed loop: each client sends its next request when the previous one answered, until the time is up. */
async function runPhase(agent: Agent, url: URL, clients: Client[], config: LoadConfig, seconds: number): Promise<PhaseRecord> {
  const path = config.mode === "single" ? "/v1/txs" : "/v1/txs/batch";
  const latencies: Array<[number, number]> = [];
  const SERIES_WINDOWS = 8;
  const series: number[] = new Array(SERIES_WINDOWS).fill(0);
  const errors: Record<string, number> = {};
  const committedHashes: string[] = [];
  let committed = 0;
  let requests = 0;
  let exhausted = false;
  let last = 0;
  const addError = (code: string, n = 1) => {
    errors[code] = (errors[code] ?? 0) + n;
  };
  const perClient = clients.map((c) => (c.broken ? [] : buildBodies(c, config)));
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    clients.map(async (client, ci) => {
      const bodies = perClient[ci] as RequestBody[];
      let sent = 0;
      while (!client.broken && performance.now() < end) {
        const body = bodies[sent];
        if (body === undefined) {
          exhausted = true;
          break;
        }
        sent++;
        const t0 = performance.now();
        let reply: HttpReply;
        try {
          reply = await post(agent, url, path, body.buf);
        } catch (err) {
          addError(`network: ${(err as Error).message}`, body.txs.length);
          client.broken = true;
          break;
        }
        const t1 = performance.now();
        last = Math.max(last, t1);
        requests++;
        let ok = 0;
        if (config.mode === "single") {
          const j = reply.json as { status?: string; error?: { code?: string } };
          if (reply.status === 200 && j.status === "committed") {
            ok = 1;
            committedHashes.push((body.txs[0] as { hash: string }).hash);
          } else addError(j.error?.code ?? `HTTP ${reply.status}`);
        } else {
          const results = (reply.json as { results?: Array<{ status?: string; hash?: string; error?: { code?: string } }> }).results;
          if (reply.status !== 200 || !Array.isArray(results)) {
            addError((reply.json as { error?: { code?: string } }).error?.code ?? `HTTP ${reply.status}`, body.txs.length);
          } else {
            results.forEach((r, k) => {
              if (r.status === "committed") {
                ok++;
                committedHashes.push((body.txs[k] as { hash: string }).hash);
              } else addError(r.error?.code ?? "unknown");
            });
          }
        }
        committed += ok;
        const w = Math.min(SERIES_WINDOWS - 1, Math.floor(((t1 - start) / (seconds * 1000)) * SERIES_WINDOWS));
        series[w] = (series[w] ?? 0) + ok;
        if (ok > 0) latencies.push([t1 - t0, ok]);
        if (ok < body.txs.length) client.broken = true;
      }
      // What was not sent stays queued, in nonce order, for the next phase.
      client.queue = bodies.slice(sent).flatMap((b) => b.txs);
    }),
  );
  const wallSec = ((last || performance.now()) - start) / 1000;
  return {
    committed,
    requests,
    wallSec,
    txPerSec: committed / wallSec,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.reduce((m, [v]) => Math.max(m, v), 0),
    errors,
    exhausted,
    // Responses after the end (the drain) count in the last window, whose length is stretched to match.
    series: series.map(
      (n, i) =>
        n / ((i === SERIES_WINDOWS - 1 ? wallSec - (seconds * (SERIES_WINDOWS - 1)) / SERIES_WINDOWS : seconds / SERIES_WINDOWS) || 1),
    ),
    committedHashes,
  };
}

function stats(p: PhaseRecord): PhaseStats {
  const { committedHashes: _, ...rest } = p;
  return rest;
}

// ---- one configuration ---------------------------------------------------------------------------

export function configLabel(c: LoadConfig): string {
  return c.mode === "single" ? `single, ${c.clients} clients` : `batch ${c.batchSize}, ${c.clients} clients`;
}

function configSlug(c: LoadConfig): string {
  return c.mode === "single" ? `single-c${c.clients}` : `batch-c${c.clients}-b${c.batchSize}`;
}

/** A fresh network whose genesis also declares the client accounts (no registration transactions needed). */
function makeNetwork(dir: string, suite: SuiteId, port: number, clients: KeyPair[], verifyWorkers: number | undefined): string {
  initNetwork(dir, { validators: 1, crypto: suite, chainId: BENCH_CHAIN_ID, apiPort: port });
  const doc = JSON.parse(readFileSync(join(dir, "genesis.json"), "utf8")) as GenesisDoc;
  const withClients: GenesisDoc = {
    ...doc,
    accounts: [...doc.accounts, ...clients.map((k) => ({ publicKey: toHex(k.publicKey), org: ADMIN_ORG, roles: ["clerk"] }))],
  };
  loadGenesis(withClients);
  const nodeDir = join(dir, "node0");
  for (const path of [join(dir, "genesis.json"), join(nodeDir, "genesis.json")])
    writeFileSync(path, `${JSON.stringify(withClients, null, 2)}\n`);
  if (verifyWorkers !== undefined) {
    const configPath = join(nodeDir, "config.json");
    const config = JSON.parse(readFileSync(configPath, "utf8")) as Record<string, unknown>;
    writeFileSync(configPath, `${JSON.stringify({ ...config, verifyWorkers }, null, 2)}\n`);
  }
  return nodeDir;
}

/** Checks through the API that the chain holds what the load generator was told was committed. */
async function verifyChain(url: string, committedResponses: number, hashes: string[]): Promise<Verification> {
  const status = (await getJson(`${url}/v1/status`)).json as { height: number };
  const height = status.height;
  // Every block's transaction count (bounded in time; 4 requests at once).
  let chainTxs: number | null = 0;
  let next = 1;
  const deadline = Date.now() + 60_000;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next <= height && chainTxs !== null) {
        if (Date.now() > deadline) {
          chainTxs = null;
          return;
        }
        const h = next++;
        const block = (await getJson(`${url}/v1/blocks/${h}`)).json as { txs?: string[] };
        if (chainTxs !== null) chainTxs += block.txs?.length ?? 0;
      }
    }),
  );
  const sample: string[] = [];
  for (let i = 0; i < Math.min(20, hashes.length); i++) sample.push(hashes[Math.floor(Math.random() * hashes.length)] as string);
  let found = 0;
  for (const hash of sample) {
    const r = await getJson(`${url}/v1/txs/${hash}`);
    const j = r.json as { hash?: string; height?: number };
    if (r.status === 200 && j.hash === hash && typeof j.height === "number" && j.height >= 1 && j.height <= height) found++;
  }
  const countOk = chainTxs === committedResponses;
  const ok = countOk && found === sample.length;
  const note =
    chainTxs === null
      ? "block walk timed out"
      : countOk
        ? `all ${fmt(chainTxs)} txs in ${height} blocks were reported committed; ${found}/${sample.length} sampled hashes found`
        : `chain holds ${fmt(chainTxs)} txs but ${fmt(committedResponses)} were reported committed; ${found}/${sample.length} sampled hashes found`;
  return { ok, height, chainTxs, committedResponses, sampled: sample.length, sampleFound: found, note };
}

/** Other processes' CPU (percent of one core) under which the machine counts as quiet. */
export const QUIET_PERCENT = 15;

/** Waits (bounded) until other processes use less than QUIET_PERCENT of a core over a 2-second window. */
export async function waitQuiet(maxSec: number): Promise<number> {
  const deadline = Date.now() + maxSec * 1000;
  let load = Number.NaN;
  for (;;) {
    const probe = new OtherLoad([process.pid, ...[...children].map((c) => c.pid ?? 0)]);
    await sleep(2000);
    load = probe.percent(2);
    if (!(load >= QUIET_PERCENT) || Date.now() >= deadline) return load;
    progress(`waiting for a quiet machine: other processes use ${fmt(load)}% CPU`);
  }
}

async function runConfig(options: NodeRunOptions, config: LoadConfig, pool: SignPool): Promise<LoadResult> {
  const label = configLabel(config);
  if (options.waitQuietSec > 0) {
    const load = await waitQuiet(options.waitQuietSec);
    if (load >= QUIET_PERCENT) progress(`machine still busy (${fmt(load)}% CPU by other processes); running anyway`);
  }
  const suite = getSuite(options.suite);
  const dir = makeTempDir("tally-bench-node-");
  const port = await freePort();
  const keys = Array.from({ length: config.clients }, () => suite.generateKeyPair());
  const nodeDir = makeNetwork(dir, options.suite, port, keys, options.verifyWorkers);
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(dir, "node0.log");
  let profileDir: string | undefined;
  if (options.profile) {
    profileDir = join(options.resultsDir, "profiles", `${options.suite}-${configSlug(config)}`);
    rmSync(profileDir, { recursive: true, force: true });
    mkdirSync(profileDir, { recursive: true });
  }
  progress(`node [${label}]: network in ${dir}, API ${url}`);
  const node = await NodeProcess.start(nodeDir, url, logFile, options.source, profileDir);
  const sampler = new RssSampler(node.pid, 500);
  sampler.start();
  const agent = new Agent({ keepAlive: true, maxSockets: config.clients + 2 });
  const clients: Client[] = keys.map((key) => ({ key, privateKeyHex: toHex(key.privateKey), signedUpTo: 0, queue: [], broken: false }));
  try {
    const roundUp = (n: number) => Math.max(config.batchSize, Math.ceil(n / config.batchSize) * config.batchSize);
    // Warm-up (JIT, caches, connection pool); its rate sizes the pre-signed pool of the timed phase.
    const guess = options.suite === "ed25519" ? 12_000 : 3_000;
    const warmGuess = config.mode === "single" ? Math.min(guess, config.clients * 500) : guess;
    const warmPer = roundUp((options.warmupSec * warmGuess) / config.clients);
    let signed = await presign(pool, options.suite, clients, warmPer);
    progress(
      `node [${label}]: pre-signed ${fmt(signed.txs, 0)} warm-up txs in ${signed.seconds.toFixed(1)} s; warm-up ${options.warmupSec} s`,
    );
    const warm = await runPhase(agent, new URL(url), clients, config, options.warmupSec);
    progress(`node [${label}]: warm-up ${fmt(warm.txPerSec)} tx/s${warm.exhausted ? " (pool exhausted)" : ""}`);

    const rate = Math.max(200, warm.txPerSec) * (warm.exhausted ? 3 : 2);
    const want = Math.min(POOL_TXS_MAX, rate * options.durationSec) / config.clients;
    const queued = Math.min(...clients.map((c) => c.queue.length));
    signed = await presign(pool, options.suite, clients, Math.max(0, roundUp(want - queued)));
    progress(
      `node [${label}]: pre-signed ${fmt(signed.txs, 0)} txs in ${signed.seconds.toFixed(1)} s (signing is not timed); load ${options.durationSec} s`,
    );

    const metricsBefore = await getText(`${url}/metrics`);
    const heightBefore = ((await getJson(`${url}/v1/status`)).json as { height: number }).height;
    const ticksBefore = cpuTicks(node.pid) ?? 0;
    const threadsBefore = threadTicks(node.pid);
    const benchBefore = process.cpuUsage();
    const other = new OtherLoad([node.pid, process.pid]);
    const t0 = performance.now();
    const main = await runPhase(agent, new URL(url), clients, config, options.durationSec);
    const seconds = (performance.now() - t0) / 1000;
    const ticksAfter = cpuTicks(node.pid) ?? 0;
    const threadsAfter = threadTicks(node.pid);
    const bench = process.cpuUsage(benchBefore);
    const otherCpuPercent = other.percent(seconds);
    const mem = memoryKiB(node.pid);
    const metricsAfter = await getText(`${url}/metrics`);
    const heightAfter = ((await getJson(`${url}/v1/status`)).json as { height: number }).height;

    const exec = [histogram(metricsBefore, "tally_block_execute_seconds"), histogram(metricsAfter, "tally_block_execute_seconds")];
    const persist = [histogram(metricsBefore, "tally_block_persist_seconds"), histogram(metricsAfter, "tally_block_persist_seconds")];
    const perBlockMs = ([a, b]: Array<{ sum: number; count: number }>) =>
      a !== undefined && b !== undefined && b.count > a.count ? ((b.sum - a.sum) / (b.count - a.count)) * 1000 : Number.NaN;
    const blocks = heightAfter - heightBefore;
    const nodeCpuPercent = ((ticksAfter - ticksBefore) / clockTicksPerSecond() / seconds) * 100;
    const nodeThreads = threadCpuDelta(threadsBefore, threadsAfter, seconds);
    const mainThread = nodeThreads.find((t) => t.thread.startsWith("main"));
    const usPerTx = (percent: number) => (main.committed > 0 ? ((percent / 100) * seconds * 1e6) / main.committed : Number.NaN);
    const benchCpuPercent = ((bench.user + bench.system) / 1e6 / seconds) * 100;
    progress(
      `node [${label}]: ${fmt(main.txPerSec)} tx/s committed (${fmt(main.committed, 0)} in ${main.wallSec.toFixed(1)} s), p50 ${fmt(main.p50Ms)} ms, p99 ${fmt(main.p99Ms)} ms, node CPU ${fmt(nodeCpuPercent)}% = ${fmt(usPerTx(nodeCpuPercent))} µs/tx (main thread ${fmt(usPerTx(mainThread?.cpuPercent ?? Number.NaN))} µs/tx), ${blocks} blocks, other processes ${fmt(otherCpuPercent)}% CPU`,
    );
    progress(`node [${label}]: tx/s over the phase, in 8 windows: ${main.series.map((v) => fmt(v, 0)).join(" ")}`);
    if (Object.keys(main.errors).length > 0) progress(`node [${label}]: errors ${JSON.stringify(main.errors)}`);

    const verification = await verifyChain(url, warm.committed + main.committed, main.committedHashes);
    progress(`node [${label}]: verification ${verification.ok ? "ok" : "FAILED"}: ${verification.note}`);
    sampler.stop();
    await node.stop();
    const profiles = profileDir === undefined ? undefined : summariseProfileDir(profileDir);
    if (profiles !== undefined) progress(`node [${label}]: ${profiles.length} CPU profile(s) in ${relative(REPO, profileDir as string)}`);
    let keptLog: string | undefined;
    if (options.keep || !verification.ok) keptLog = logFile;
    return {
      config,
      label,
      warmup: stats(warm),
      main: stats(main),
      presigned: signed,
      nodeCpuPercent,
      nodeThreads,
      nodeCpuUsPerTx: usPerTx(nodeCpuPercent),
      mainThreadUsPerTx: usPerTx(mainThread?.cpuPercent ?? Number.NaN),
      benchCpuUsPerTx: usPerTx(benchCpuPercent),
      benchCpuPercent,
      otherCpuPercent,
      peakRssMiB: sampler.peakKiB / 1024,
      peakAnonMiB: sampler.peakAnonKiB / 1024,
      hwmMiB: (mem?.hwm ?? Number.NaN) / 1024,
      rssSamples: sampler.samples,
      blocks,
      avgTxsPerBlock: blocks > 0 ? main.committed / blocks : Number.NaN,
      executeMsPerBlock: perBlockMs(exec),
      persistMsPerBlock: perBlockMs(persist),
      verification,
      ...(profiles === undefined ? {} : { profiles }),
      ...(keptLog === undefined ? {} : { logFile: keptLog }),
    };
  } finally {
    sampler.stop();
    agent.destroy();
    await node.stop();
    if (options.keep) keepTempDir(dir);
    else removeTempDir(dir);
  }
}

/** suite.verify over tx sign bytes on this thread: the single-core ceiling of signature checking. */
function verifyOnlyRate(suiteId: SuiteId, seconds: number): number {
  const suite = getSuite(suiteId);
  const keys = Array.from({ length: 8 }, () => suite.generateKeyPair());
  const txs = Array.from({ length: 512 }, (_, i) => signTx(suite, keys[i % 8] as KeyPair, notarizeBody(suite, i)).tx);
  const msgs = txs.map((t) => txSignBytes(t));
  let i = 0;
  return measureSync((n) => {
    for (let k = 0; k < n; k++, i++) {
      const t = txs[i % txs.length] as (typeof txs)[number];
      suite.verify(t.signer, msgs[i % msgs.length] as Uint8Array, t.signature);
    }
  }, seconds).perSecond;
}

function distIsStale(): boolean {
  const newest = (dir: string, ext: string): number => {
    let max = 0;
    const walk = (d: string) => {
      for (const name of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, name.name);
        if (name.isDirectory()) walk(p);
        else if (name.name.endsWith(ext)) max = Math.max(max, statSync(p).mtimeMs);
      }
    };
    if (existsSync(dir)) walk(dir);
    return max;
  };
  return ["core", "node", "sdk", "cli"].some((pkg) => {
    const src = newest(join(REPO, "packages", pkg, "src"), ".ts");
    const dist = newest(join(REPO, "packages", pkg, "dist", "src"), ".js");
    return dist === 0 || src > dist;
  });
}

export async function runNode(options: NodeRunOptions): Promise<NodeRunSummary> {
  if (!options.source && !existsSync(join(REPO, "packages", "cli", "dist", "src", "main.js"))) {
    throw new Error("the CLI is not built: run `npm run build` first (or pass --source)");
  }
  if (!options.source && distIsStale())
    progress("warning: packages/*/src is newer than dist; run `npm run build` to bench the current code");
  progress(`node: verify-only reference rate [${options.suite}] (${options.verifySeconds} s)`);
  const verifyOnlyPerSec = verifyOnlyRate(options.suite, options.verifySeconds);
  progress(`node: single-core verify-only ${fmt(verifyOnlyPerSec)} verifications/s`);
  const pool = new SignPool(Math.max(1, availableParallelism()));
  const results: LoadResult[] = [];
  try {
    for (const config of options.configs) results.push(await runConfig(options, config, pool));
  } finally {
    await pool.close();
  }
  return {
    suite: options.suite,
    nodeRuntime: options.source ? "source" : "built",
    verifyWorkers: options.verifyWorkers ?? "default",
    verifyOnlyPerSec,
    results,
  };
}
