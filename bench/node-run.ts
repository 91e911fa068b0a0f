/**
 * Single-node load run: a fresh one-validator network in a temp dir, the node as a separate OS process
 * (the built `tally start`, or the TypeScript sources with --source), and a closed-loop load generator
 * here: K client accounts (declared in genesis) submit pre-signed notarize transactions (or, with the transfer
 * workload, tokens.transfer transactions after an untimed token setup) with `wait: true`, one per request or
 * in batches, for a fixed time. The node's CPU and memory come from /proc.
 * The network lifecycle, the load phases and the chain walk here are shared with network-run.ts (--nodes N).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { availableParallelism } from "node:os";
import { join, relative } from "node:path";
import { Worker } from "node:worker_threads";
import { type InitResult, initNetwork } from "@tally/cli";
import {
  addressOf,
  decodeTokenBalance,
  decodeTokenRecord,
  fromHex,
  type GenesisDoc,
  getSuite,
  type KeyPair,
  loadGenesis,
  type SuiteId,
  signTx,
  toHex,
  tokenBalanceKey,
  tokenKey,
  txSignBytes,
  type Value,
} from "@tally/core";
import { freePort, freePortBlock } from "../test/helpers.js";
import { BENCH_CHAIN_ID, notarizeBody } from "./micro.js";
import { clockTicksPerSecond, cpuTicks, memoryKiB, OtherLoad, RssSampler, type ThreadCpu, threadCpuDelta, threadTicks } from "./proc.js";
import { type ProfileSummary, summariseProfileDir } from "./profile.js";
import type { SignReply, SignRequest, TransferArgs } from "./sign-worker.js";
import { fmt, keepTempDir, makeTempDir, measureSync, percentile, progress, REPO, removeTempDir, sleep, withTimeout } from "./util.js";

export type LoadMode = "single" | "batch";

/** What the clients send: evidence.notarize, or tokens.transfer of a token minted to them before the warm-up. */
export type Workload = "notarize" | "transfer";

export interface LoadConfig {
  readonly mode: LoadMode;
  readonly clients: number;
  /** Transactions per request (1 in single mode). */
  readonly batchSize: number;
}

export interface NodeRunOptions {
  readonly suite: SuiteId;
  readonly workload: Workload;
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

export class NodeProcess {
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
      node.checkRunning("during start");
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

  /** Throws (with the end of the node's log) if the process has exited. */
  checkRunning(when: string): void {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
      throw new Error(`node ${this.logFile} exited (${this.proc.exitCode ?? this.proc.signalCode}) ${when}; log: ${logTail(this.logFile)}`);
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

export async function getJson(url: string): Promise<HttpReply> {
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

export class SignPool {
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

export interface Client {
  readonly key: KeyPair;
  readonly privateKeyHex: string;
  /** Nonce of the next transaction to sign. */
  signedUpTo: number;
  /** Signed, not yet sent: hex and hash, in nonce order. */
  queue: Array<{ hex: string; hash: string }>;
  /** Set when a request failed: the account's later nonces can no longer commit, so it stops. */
  broken: boolean;
  /** Transfer workload: what each of its transactions transfers (else it notarizes). */
  readonly transfer?: TransferArgs;
}

export interface RequestBody {
  readonly buf: Buffer;
  readonly txs: Array<{ hex: string; hash: string }>;
}

/** Clients of `keys`; with `transferTo` (an address per key), clients of the transfer workload. */
export function makeClients(keys: readonly KeyPair[], transferTo?: readonly string[]): Client[] {
  return keys.map((key, i) => ({
    key,
    privateKeyHex: toHex(key.privateKey),
    signedUpTo: 0,
    queue: [],
    broken: false,
    ...(transferTo === undefined ? {} : { transfer: { symbol: BENCH_TOKEN, to: transferTo[i] as string, amount: "1" } }),
  }));
}

export function buildBodies(client: Client, config: LoadConfig): RequestBody[] {
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

export async function presign(
  pool: SignPool,
  suite: SuiteId,
  clients: Client[],
  perClient: number,
): Promise<{ txs: number; seconds: number }> {
  const t0 = performance.now();
  let total = 0;
  await Promise.all(
    clients.map(async (c, i) => {
      if (c.broken || perClient <= 0) return;
      const reply = await pool.sign(
        {
          suite,
          chainId: BENCH_CHAIN_ID,
          privateKeyHex: c.privateKeyHex,
          startNonce: c.signedUpTo,
          count: perClient,
          ...(c.transfer === undefined ? {} : { transfer: c.transfer }),
        },
        i,
      );
      c.signedUpTo += perClient;
      for (let k = 0; k < reply.txs.length; k++) c.queue.push({ hex: reply.txs[k] as string, hash: reply.hashes[k] as string });
      total += reply.txs.length;
    }),
  );
  return { txs: total, seconds: (performance.now() - t0) / 1000 };
}

export interface PhaseRecord extends PhaseStats {
  /** Hashes the node reported committed (for the verification sample). */
  readonly committedHashes: string[];
}

const SERIES_WINDOWS = 8;

/** What the answers of one phase add up to: committed transactions, latencies, errors, tx/s over time. */
export class PhaseTally {
  private readonly latencies: Array<[number, number]> = [];
  private readonly series: number[] = new Array(SERIES_WINDOWS).fill(0);
  private readonly errors: Record<string, number> = {};
  private readonly committedHashes: string[] = [];
  private committed = 0;
  private requests = 0;
  private last = 0;
  exhausted = false;

  constructor(
    private readonly start: number,
    private readonly seconds: number,
  ) {}

  addError(code: string, n = 1): void {
    this.errors[code] = (this.errors[code] ?? 0) + n;
  }

  /** One answered request sent at t0 (latency counts from there); returns how many of its transactions committed. */
  record(path: string, body: RequestBody, reply: HttpReply, t0: number): number {
    const t1 = performance.now();
    this.last = Math.max(this.last, t1);
    this.requests++;
    const ok = path === "/v1/txs" ? this.single(body, reply) : this.batch(body, reply);
    this.committed += ok;
    const w = Math.min(SERIES_WINDOWS - 1, Math.floor(((t1 - this.start) / (this.seconds * 1000)) * SERIES_WINDOWS));
    this.series[w] = (this.series[w] ?? 0) + ok;
    if (ok > 0) this.latencies.push([t1 - t0, ok]);
    return ok;
  }

  private single(body: RequestBody, reply: HttpReply): number {
    const j = reply.json as { status?: string; error?: { code?: string } };
    if (reply.status === 200 && j.status === "committed") {
      this.committedHashes.push((body.txs[0] as { hash: string }).hash);
      return 1;
    }
    this.addError(j.error?.code ?? `HTTP ${reply.status}`);
    return 0;
  }

  private batch(body: RequestBody, reply: HttpReply): number {
    const results = (reply.json as { results?: Array<{ status?: string; hash?: string; error?: { code?: string } }> }).results;
    if (reply.status !== 200 || !Array.isArray(results)) {
      this.addError((reply.json as { error?: { code?: string } }).error?.code ?? `HTTP ${reply.status}`, body.txs.length);
      return 0;
    }
    let ok = 0;
    results.forEach((r, k) => {
      if (r.status === "committed") {
        ok++;
        this.committedHashes.push((body.txs[k] as { hash: string }).hash);
      } else this.addError(r.error?.code ?? "unknown");
    });
    return ok;
  }

  result(): PhaseRecord {
    const wallSec = ((this.last || performance.now()) - this.start) / 1000;
    const { seconds, committed, latencies } = this;
    return {
      committed,
      requests: this.requests,
      wallSec,
      txPerSec: committed / wallSec,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.reduce((m, [v]) => Math.max(m, v), 0),
      errors: this.errors,
      exhausted: this.exhausted,
      // Responses after the end (the drain) count in the last window, whose length is stretched to match.
      series: this.series.map(
        (n, i) =>
          n / ((i === SERIES_WINDOWS - 1 ? wallSec - (seconds * (SERIES_WINDOWS - 1)) / SERIES_WINDOWS : seconds / SERIES_WINDOWS) || 1),
      ),
      committedHashes: this.committedHashes,
    };
  }
}

/** Sends one request body; a failure to get an answer is counted and stops the client (its later nonces cannot commit). */
export async function send(agent: Agent, url: URL, path: string, body: RequestBody, client: Client, tally: PhaseTally, t0: number) {
  let reply: HttpReply;
  try {
    reply = await post(agent, url, path, body.buf);
  } catch (err) {
    tally.addError(`network: ${(err as Error).message}`, body.txs.length);
    client.broken = true;
    return;
  }
  if (tally.record(path, body, reply, t0) < body.txs.length) client.broken = true;
}

export function txsPath(config: LoadConfig): string {
  return config.mode === "single" ? "/v1/txs" : "/v1/txs/batch";
}

/**
 * Closed loop: each client sends its next request when the previous one answered, until the time is up.
 * Client i sends to urls[i mod urls.length] (one node for a single-node run; round-robin over the nodes otherwise).
 */
export async function runPhase(agent: Agent, urls: readonly URL[], clients: Client[], config: LoadConfig, seconds: number) {
  const path = txsPath(config);
  const perClient = clients.map((c) => (c.broken ? [] : buildBodies(c, config)));
  const start = performance.now();
  const end = start + seconds * 1000;
  const tally = new PhaseTally(start, seconds);
  await Promise.all(
    clients.map(async (client, ci) => {
      const bodies = perClient[ci] as RequestBody[];
      const url = urls[ci % urls.length] as URL;
      let sent = 0;
      while (!client.broken && performance.now() < end) {
        const body = bodies[sent];
        if (body === undefined) {
          tally.exhausted = true;
          break;
        }
        sent++;
        await send(agent, url, path, body, client, tally, performance.now());
      }
      // What was not sent stays queued, in nonce order, for the next phase.
      client.queue = bodies.slice(sent).flatMap((b) => b.txs);
    }),
  );
  return tally.result();
}

export function stats(p: PhaseRecord): PhaseStats {
  const { committedHashes: _, ...rest } = p;
  return rest;
}

// ---- transfer workload: token setup and balance check --------------------------------------------

/** The transfer workload's token (decimals 0, no maximum supply). */
export const BENCH_TOKEN = "BENCH";
/** Units minted to each client: far more than any run transfers (each transfer moves 1). */
const MINT_PER_CLIENT = 10n ** 15n;
/** Mint transactions per setup request. */
const MINT_BATCH = 500;

/** What the token setup did (before the warm-up, not timed). */
export interface TokenSetup {
  readonly issuerAddress: string;
  readonly clientAddresses: readonly string[];
  /** Units minted in all: the supply, and what the balances of clients and issuer add up to. */
  readonly minted: bigint;
  /** Hashes of the setup transactions (create, mints), all committed. */
  readonly hashes: string[];
}

/** A fresh issuer key for the transfer workload's genesis; undefined for notarize. */
export function workloadIssuer(options: NodeRunOptions): KeyPair | undefined {
  return options.workload === "transfer" ? (generateKeys(options.suite, 1)[0] as KeyPair) : undefined;
}

async function postJson(net: RunningNetwork, path: string, body: unknown): Promise<HttpReply> {
  return post(net.agent, net.urls[0] as URL, path, Buffer.from(JSON.stringify(body)));
}

/**
 * Transfer workload setup on node 0: the issuer creates BENCH and mints MINT_PER_CLIENT to every client
 * (batches with `wait: true`, nonces in order); with several nodes, waits until every node has the blocks.
 */
async function setupTokens(options: NodeRunOptions, net: RunningNetwork, keys: readonly KeyPair[], label: string): Promise<TokenSetup> {
  const issuer = net.issuer;
  if (issuer === undefined) throw new Error("transfer workload without an issuer in the genesis");
  const t0 = performance.now();
  const suite = getSuite(options.suite);
  const issuerAddress = addressOf(suite, issuer.publicKey);
  const clientAddresses = keys.map((k) => addressOf(suite, k.publicKey));
  const sign = (nonce: number, method: string, args: Value) =>
    signTx(suite, issuer, { chainId: BENCH_CHAIN_ID, nonce, module: "tokens", method, args });
  const hashes: string[] = [];
  const create = sign(0, "create", { symbol: BENCH_TOKEN, name: "Bench token", decimals: 0 });
  const created = await postJson(net, "/v1/txs", { tx: toHex(create.bytes), wait: true, timeoutMs: WAIT_TIMEOUT_MS });
  if (created.status !== 200 || (created.json as { status?: string }).status !== "committed") {
    throw new Error(`token setup: tokens.create not committed: HTTP ${created.status} ${JSON.stringify(created.json)}`);
  }
  hashes.push(create.hash);
  for (let i = 0; i < clientAddresses.length; i += MINT_BATCH) {
    const mints = clientAddresses
      .slice(i, i + MINT_BATCH)
      .map((to, k) => sign(1 + i + k, "mint", { symbol: BENCH_TOKEN, to, amount: MINT_PER_CLIENT.toString() }));
    const reply = await postJson(net, "/v1/txs/batch", { txs: mints.map((m) => toHex(m.bytes)), wait: true, timeoutMs: WAIT_TIMEOUT_MS });
    const results = (reply.json as { results?: Array<{ status?: string; error?: unknown }> }).results;
    const failed = results?.findIndex((r) => r.status !== "committed") ?? 0;
    if (reply.status !== 200 || results?.length !== mints.length || failed >= 0) {
      throw new Error(
        `token setup: mint ${i + Math.max(0, failed)} not committed: HTTP ${reply.status} ${JSON.stringify(results?.[failed] ?? reply.json)}`,
      );
    }
    hashes.push(...mints.map((m) => m.hash));
  }
  if (net.nodes.length > 1) await waitAllAt(net, await chainHeight(net.init.apiUrls[0] as string));
  const minted = MINT_PER_CLIENT * BigInt(clientAddresses.length);
  progress(
    `node [${label}]: token setup: issuer created ${BENCH_TOKEN} and minted ${minted} units to ${clientAddresses.length} clients in ${hashes.length} txs, ${((performance.now() - t0) / 1000).toFixed(1)} s (not timed)`,
  );
  return { issuerAddress, clientAddresses, minted, hashes };
}

/** Waits (bounded, 60 s) until every node of the network has reached `height`. */
async function waitAllAt(net: RunningNetwork, height: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const heights = await Promise.all(net.init.apiUrls.map((url) => chainHeight(url)));
    if (Math.min(...heights) >= height) return;
    if (Date.now() > deadline) throw new Error(`token setup: nodes at heights ${heights.join(", ")}, not all at ${height}`);
    await sleep(100);
  }
}

/**
 * The clients of the workload: notarize clients, or, for transfer, the token setup and clients that each
 * transfer 1 unit to the next client (client i to client (i + 1) mod K; a lone client to the issuer).
 */
export async function prepareWorkload(
  options: NodeRunOptions,
  net: RunningNetwork,
  keys: readonly KeyPair[],
  label: string,
): Promise<{ clients: Client[]; tokens: TokenSetup | undefined }> {
  if (options.workload === "notarize") return { clients: makeClients(keys), tokens: undefined };
  const tokens = await setupTokens(options, net, keys, label);
  const a = tokens.clientAddresses;
  const to = a.length === 1 ? [tokens.issuerAddress] : a.map((_, i) => a[(i + 1) % a.length] as string);
  return { clients: makeClients(keys, to), tokens };
}

async function stateValue(url: string, key: Uint8Array): Promise<Uint8Array | null> {
  const r = await getJson(`${url}/v1/state/${toHex(key)}`);
  const value = (r.json as { value?: string | null }).value;
  if (r.status !== 200 || value === undefined) throw new Error(`GET /v1/state: HTTP ${r.status} ${JSON.stringify(r.json)}`);
  return value === null ? null : fromHex(value);
}

/**
 * After a transfer run, on each node: the token's supply and the balances of the clients and the issuer
 * (GET /v1/state with the core key builders) each add up to the minted total. Transfers conserve the sum,
 * so this holds at any height.
 */
export async function checkTokens(urls: readonly string[], tokens: TokenSetup): Promise<{ ok: boolean; note: string }> {
  const holders = [...tokens.clientAddresses, tokens.issuerAddress];
  const problems: string[] = [];
  try {
    for (const [k, url] of urls.entries()) {
      const record = await stateValue(url, tokenKey(BENCH_TOKEN));
      const supply = record === null ? null : decodeTokenRecord(record).supply;
      let sum = 0n;
      for (let i = 0; i < holders.length; i += 16) {
        const values = await Promise.all(holders.slice(i, i + 16).map((a) => stateValue(url, tokenBalanceKey(BENCH_TOKEN, a))));
        for (const v of values) sum += decodeTokenBalance(v);
      }
      if (supply !== tokens.minted || sum !== tokens.minted)
        problems.push(`node${k}: supply ${supply ?? "none"}, balances sum ${sum}, minted ${tokens.minted}`);
    }
  } catch (err) {
    problems.push(`balance check failed: ${(err as Error).message}`);
  }
  const ok = problems.length === 0;
  return {
    ok,
    note: ok
      ? `${BENCH_TOKEN} supply and the ${holders.length} holders' balances sum to the minted ${tokens.minted} on ${urls.length === 1 ? "the node" : `all ${urls.length} nodes`}`
      : `**token balances do not add up**: ${problems.join("; ")}`,
  };
}

/** A verification with the token balance check folded in (not ok if either fails). */
export function withTokenCheck<V extends Verification>(v: V, check: { ok: boolean; note: string }): V {
  return { ...v, ok: v.ok && check.ok, note: `${v.note}; ${check.note}` };
}

// ---- one configuration ---------------------------------------------------------------------------

export function configLabel(c: LoadConfig): string {
  return c.mode === "single" ? `single, ${c.clients} clients` : `batch ${c.batchSize}, ${c.clients} clients`;
}

function configSlug(c: LoadConfig): string {
  return c.mode === "single" ? `single-c${c.clients}` : `batch-c${c.clients}-b${c.batchSize}`;
}

interface NetworkPorts {
  readonly validators: number;
  /** API port of node 0 (node k: api + k). */
  readonly api: number;
  /** p2p port of node 0 (node k: p2p + k); none for a single validator. */
  readonly p2p?: number;
}

/** Ports for N validators: any free port for a single node (no p2p), else a block of 2N (N API ports, then N p2p ports). */
async function networkPorts(validators: number): Promise<NetworkPorts> {
  if (validators === 1) return { validators, api: await freePort() };
  const base = await freePortBlock(2 * validators);
  return { validators, api: base, p2p: base + validators };
}

/**
 * A fresh network (`tally init` defaults, consensus timeouts included) whose genesis also declares the client
 * accounts (no registration transactions needed).
 */
function makeNetwork(
  dir: string,
  suite: SuiteId,
  ports: NetworkPorts,
  clients: readonly KeyPair[],
  verifyWorkers: number | undefined,
  issuer: KeyPair | undefined,
) {
  const init = initNetwork(dir, {
    validators: ports.validators,
    crypto: suite,
    chainId: BENCH_CHAIN_ID,
    apiPort: ports.api,
    ...(ports.p2p === undefined ? {} : { p2pPort: ports.p2p }),
  });
  const doc = JSON.parse(readFileSync(init.genesisPath, "utf8")) as GenesisDoc;
  const withClients: GenesisDoc = {
    ...doc,
    accounts: [
      ...doc.accounts,
      ...clients.map((k) => ({ publicKey: toHex(k.publicKey), org: ADMIN_ORG, roles: ["clerk"] })),
      // The transfer workload's token issuer: an extra account with the `issuer` role.
      ...(issuer === undefined ? [] : [{ publicKey: toHex(issuer.publicKey), org: ADMIN_ORG, roles: ["issuer"] }]),
    ],
  };
  loadGenesis(withClients);
  for (const path of [init.genesisPath, ...init.nodeDirs.map((d) => join(d, "genesis.json"))])
    writeFileSync(path, `${JSON.stringify(withClients, null, 2)}\n`);
  if (verifyWorkers !== undefined) {
    for (const nodeDir of init.nodeDirs) {
      const configPath = join(nodeDir, "config.json");
      const config = JSON.parse(readFileSync(configPath, "utf8")) as Record<string, unknown>;
      writeFileSync(configPath, `${JSON.stringify({ ...config, verifyWorkers }, null, 2)}\n`);
    }
  }
  return init;
}

/** Starts every node, each its own `tally start` process logging to DIR/node<k>.log; on any failure, none stays running. */
async function startNodes(init: InitResult, dir: string, source: boolean, profileDir: string | undefined): Promise<NodeProcess[]> {
  const started = await Promise.allSettled(
    init.nodeDirs.map((nodeDir, k) => NodeProcess.start(nodeDir, init.apiUrls[k] as string, join(dir, `node${k}.log`), source, profileDir)),
  );
  const nodes = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed !== undefined) {
    for (const node of nodes) node.kill();
    throw failed.reason;
  }
  return nodes;
}

/** A started network of one or more nodes, and what the load generator needs to reach it. */
export interface RunningNetwork {
  readonly dir: string;
  readonly init: InitResult;
  readonly urls: readonly URL[];
  readonly nodes: readonly NodeProcess[];
  /** VmRSS of each node from its start on. */
  readonly samplers: readonly RssSampler[];
  readonly agent: Agent;
  /** Keep the directory (node logs) after the run: --keep, or set when verification failed. */
  keep: boolean;
  /** Transfer workload: the genesis account with the `issuer` role. */
  readonly issuer?: KeyPair;
}

export interface NetworkSpec {
  readonly label: string;
  readonly validators: number;
  /** Client accounts to declare in the genesis. */
  readonly keys: readonly KeyPair[];
  /** HTTP sockets per node API (its closed-loop clients and a few more). */
  readonly socketsPerNode: number;
  readonly profileDir?: string | undefined;
  /** Transfer workload: declare this account in the genesis with the `issuer` role. */
  readonly issuer?: KeyPair | undefined;
}

/** Waits for a quiet machine (--wait-quiet), starts a fresh network in a temp dir, runs `run` against it, and always stops it. */
export async function withNetwork<T>(options: NodeRunOptions, spec: NetworkSpec, run: (net: RunningNetwork) => Promise<T>): Promise<T> {
  if (options.waitQuietSec > 0) {
    const load = await waitQuiet(options.waitQuietSec);
    if (load >= QUIET_PERCENT) progress(`machine still busy (${fmt(load)}% CPU by other processes); running anyway`);
  }
  const dir = makeTempDir("tally-bench-node-");
  const agent = new Agent({ keepAlive: true, maxSockets: spec.socketsPerNode });
  let net: RunningNetwork | undefined;
  let nodes: NodeProcess[] = [];
  try {
    const init = makeNetwork(dir, options.suite, await networkPorts(spec.validators), spec.keys, options.verifyWorkers, spec.issuer);
    progress(`node [${spec.label}]: network in ${dir}, API ${init.apiUrls.join(", ")}`);
    nodes = await startNodes(init, dir, options.source, spec.profileDir);
    const samplers = nodes.map((n) => new RssSampler(n.pid, 500));
    for (const s of samplers) s.start();
    net = {
      dir,
      init,
      urls: init.apiUrls.map((u) => new URL(u)),
      nodes,
      samplers,
      agent,
      keep: options.keep,
      ...(spec.issuer === undefined ? {} : { issuer: spec.issuer }),
    };
    return await run(net);
  } finally {
    for (const s of net?.samplers ?? []) s.stop();
    agent.destroy();
    await Promise.all(nodes.map((n) => n.stop()));
    if (net?.keep ?? options.keep) {
      keepTempDir(dir);
      progress(`node [${spec.label}]: kept ${dir} (node logs: node<k>.log)`);
    } else removeTempDir(dir);
  }
}

/** Warm-up (JIT, caches, connection pool), then the pre-signed pool of the timed phase, sized by the warm-up's rate. */
export async function warmUp(
  options: NodeRunOptions,
  config: LoadConfig,
  label: string,
  pool: SignPool,
  net: RunningNetwork,
  clients: Client[],
) {
  const roundUp = (n: number) => Math.max(config.batchSize, Math.ceil(n / config.batchSize) * config.batchSize);
  const guess = options.suite === "ed25519" ? 12_000 : 3_000;
  const warmGuess = config.mode === "single" ? Math.min(guess, config.clients * 500) : guess;
  const warmPer = roundUp((options.warmupSec * warmGuess) / config.clients);
  let signed = await presign(pool, options.suite, clients, warmPer);
  progress(
    `node [${label}]: pre-signed ${fmt(signed.txs, 0)} warm-up txs in ${signed.seconds.toFixed(1)} s; warm-up ${options.warmupSec} s`,
  );
  const warm = await runPhase(net.agent, net.urls, clients, config, options.warmupSec);
  progress(`node [${label}]: warm-up ${fmt(warm.txPerSec)} tx/s${warm.exhausted ? " (pool exhausted)" : ""}`);

  const rate = Math.max(200, warm.txPerSec) * (warm.exhausted ? 3 : 2);
  const want = Math.min(POOL_TXS_MAX, rate * options.durationSec) / config.clients;
  const queued = Math.min(...clients.map((c) => c.queue.length));
  signed = await presign(pool, options.suite, clients, Math.max(0, roundUp(want - queued)));
  progress(
    `node [${label}]: pre-signed ${fmt(signed.txs, 0)} txs in ${signed.seconds.toFixed(1)} s (signing is not timed); load ${options.durationSec} s`,
  );
  return { warm, signed };
}

/** CPU of the node processes, of this process and of everything else, from construction to finish(). */
export class CpuMeter {
  private readonly t0 = performance.now();
  private readonly ticks0: number[];
  private readonly bench0 = process.cpuUsage();
  private readonly other: OtherLoad;

  constructor(private readonly pids: readonly number[]) {
    this.ticks0 = pids.map((pid) => cpuTicks(pid) ?? 0);
    this.other = new OtherLoad([...pids, process.pid]);
  }

  /** Percentages are of one core (200% = both cores of a 2-core machine). */
  finish(): { seconds: number; nodeCpuPercent: number[]; benchCpuPercent: number; otherCpuPercent: number } {
    const seconds = (performance.now() - this.t0) / 1000;
    const bench = process.cpuUsage(this.bench0);
    const hz = clockTicksPerSecond();
    return {
      seconds,
      nodeCpuPercent: this.pids.map((pid, k) => (((cpuTicks(pid) ?? 0) - (this.ticks0[k] ?? 0)) / hz / seconds) * 100),
      benchCpuPercent: ((bench.user + bench.system) / 1e6 / seconds) * 100,
      otherCpuPercent: this.other.percent(seconds),
    };
  }
}

async function chainHeight(url: string): Promise<number> {
  return ((await getJson(`${url}/v1/status`)).json as { height: number }).height;
}

/** Blocks 1..height of one node, as its API serves them. */
export interface ChainWalk {
  /** Index h: the hash and the transaction count of block h (index 0 unused). */
  readonly hashes: string[];
  readonly txCounts: number[];
  /** Every transaction hash of blocks 1..height (empty unless asked for). */
  readonly txHashes: Set<string>;
  /** Blocks committed in a round above 0 (the first round's proposal or votes timed out). */
  laterRounds: number;
}

/** Walks blocks 1..height of the node at `url`, 4 requests at once; null if that takes over 60 s. */
export async function walkChain(url: string, height: number, withTxHashes: boolean): Promise<ChainWalk | null> {
  const walk: ChainWalk = { hashes: [], txCounts: [], txHashes: new Set(), laterRounds: 0 };
  let next = 1;
  let timedOut = false;
  const deadline = Date.now() + 60_000;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next <= height && !timedOut) {
        if (Date.now() > deadline) {
          timedOut = true;
          return;
        }
        const h = next++;
        const block = (await getJson(`${url}/v1/blocks/${h}`)).json as { hash?: string; txs?: string[]; commit?: { round?: number } };
        walk.hashes[h] = block.hash ?? "";
        walk.txCounts[h] = block.txs?.length ?? 0;
        if ((block.commit?.round ?? 0) > 0) walk.laterRounds++;
        if (withTxHashes) for (const t of block.txs ?? []) walk.txHashes.add(t);
      }
    }),
  );
  return timedOut ? null : walk;
}

/** Transactions in blocks from..to of a walk. */
export function walkTxs(walk: ChainWalk, from = 1, to = walk.txCounts.length - 1): number {
  let n = 0;
  for (let h = from; h <= to; h++) n += walk.txCounts[h] ?? 0;
  return n;
}

/** Looks up 20 random hashes (fewer if there are fewer) on the node: how many it holds in blocks 1..height. */
export async function sampleTxs(url: string, hashes: readonly string[], height: number): Promise<{ sampled: number; found: number }> {
  const sample: string[] = [];
  for (let i = 0; i < Math.min(20, hashes.length); i++) sample.push(hashes[Math.floor(Math.random() * hashes.length)] as string);
  let found = 0;
  for (const hash of sample) {
    const r = await getJson(`${url}/v1/txs/${hash}`);
    const j = r.json as { hash?: string; height?: number };
    if (r.status === 200 && j.hash === hash && typeof j.height === "number" && j.height >= 1 && j.height <= height) found++;
  }
  return { sampled: sample.length, found };
}

/** Checks through the API that the chain holds what the load generator was told was committed. */
async function verifyChain(url: string, committedResponses: number, hashes: string[]): Promise<Verification> {
  const height = await chainHeight(url);
  const walk = await walkChain(url, height, false);
  const chainTxs = walk === null ? null : walkTxs(walk);
  const { sampled, found } = await sampleTxs(url, hashes, height);
  const countOk = chainTxs === committedResponses;
  const ok = countOk && found === sampled;
  const note =
    chainTxs === null
      ? "block walk timed out"
      : countOk
        ? `all ${fmt(chainTxs)} txs in ${height} blocks were reported committed; ${found}/${sampled} sampled hashes found`
        : `chain holds ${fmt(chainTxs)} txs but ${fmt(committedResponses)} were reported committed; ${found}/${sampled} sampled hashes found`;
  return { ok, height, chainTxs, committedResponses, sampled, sampleFound: found, note };
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

export function freshProfileDir(options: NodeRunOptions, config: LoadConfig, suffix = ""): string {
  const dir = join(options.resultsDir, "profiles", `${options.suite}-${configSlug(config)}${suffix === "" ? "" : `-${suffix}`}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function generateKeys(suite: SuiteId, count: number): KeyPair[] {
  const s = getSuite(suite);
  return Array.from({ length: count }, () => s.generateKeyPair());
}

async function runConfig(options: NodeRunOptions, config: LoadConfig, pool: SignPool): Promise<LoadResult> {
  const label = configLabel(config);
  const keys = generateKeys(options.suite, config.clients);
  const profileDir = options.profile ? freshProfileDir(options, config) : undefined;
  const spec = { label, validators: 1, keys, socketsPerNode: config.clients + 2, profileDir, issuer: workloadIssuer(options) };
  return withNetwork(options, spec, async (net) => {
    const { clients, tokens } = await prepareWorkload(options, net, keys, label);
    return runSingleNode(options, { config, label, clients, profileDir, tokens }, pool, net);
  });
}

/** Per-block milliseconds of a /metrics histogram between two scrapes. */
function perBlockMs(before: string, after: string, name: string): number {
  const a = histogram(before, name);
  const b = histogram(after, name);
  return b.count > a.count ? ((b.sum - a.sum) / (b.count - a.count)) * 1000 : Number.NaN;
}

interface SingleRun {
  readonly config: LoadConfig;
  readonly label: string;
  readonly clients: Client[];
  readonly profileDir: string | undefined;
  readonly tokens: TokenSetup | undefined;
}

async function runSingleNode(options: NodeRunOptions, run: SingleRun, pool: SignPool, net: RunningNetwork): Promise<LoadResult> {
  const { config, label, clients, profileDir, tokens } = run;
  const node = net.nodes[0] as NodeProcess;
  const sampler = net.samplers[0] as RssSampler;
  const url = net.init.apiUrls[0] as string;
  const { warm, signed } = await warmUp(options, config, label, pool, net, clients);

  const metricsBefore = await getText(`${url}/metrics`);
  const heightBefore = await chainHeight(url);
  const threadsBefore = threadTicks(node.pid);
  const meter = new CpuMeter([node.pid]);
  const main = await runPhase(net.agent, net.urls, clients, config, options.durationSec);
  const {
    seconds,
    nodeCpuPercent: [nodeCpuPercent = Number.NaN],
    benchCpuPercent,
    otherCpuPercent,
  } = meter.finish();
  const threadsAfter = threadTicks(node.pid);
  const mem = memoryKiB(node.pid);
  const metricsAfter = await getText(`${url}/metrics`);
  const heightAfter = await chainHeight(url);

  const blocks = heightAfter - heightBefore;
  const nodeThreads = threadCpuDelta(threadsBefore, threadsAfter, seconds);
  const mainThread = nodeThreads.find((t) => t.thread.startsWith("main"));
  const usPerTx = (percent: number) => (main.committed > 0 ? ((percent / 100) * seconds * 1e6) / main.committed : Number.NaN);
  progress(
    `node [${label}]: ${fmt(main.txPerSec)} tx/s committed (${fmt(main.committed, 0)} in ${main.wallSec.toFixed(1)} s), p50 ${fmt(main.p50Ms)} ms, p99 ${fmt(main.p99Ms)} ms, node CPU ${fmt(nodeCpuPercent)}% = ${fmt(usPerTx(nodeCpuPercent))} µs/tx (main thread ${fmt(usPerTx(mainThread?.cpuPercent ?? Number.NaN))} µs/tx), ${blocks} blocks, other processes ${fmt(otherCpuPercent)}% CPU`,
  );
  progressPhase(label, main);

  const chain = await verifyChain(url, (tokens?.hashes.length ?? 0) + warm.committed + main.committed, main.committedHashes);
  const verification = tokens === undefined ? chain : withTokenCheck(chain, await checkTokens([url], tokens));
  progress(`node [${label}]: verification ${verification.ok ? "ok" : "FAILED"}: ${verification.note}`);
  sampler.stop();
  await node.stop();
  const profiles = profileDir === undefined ? undefined : summariseProfileDir(profileDir);
  if (profiles !== undefined) progress(`node [${label}]: ${profiles.length} CPU profile(s) in ${relative(REPO, profileDir as string)}`);
  if (!verification.ok) net.keep = true;
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
    executeMsPerBlock: perBlockMs(metricsBefore, metricsAfter, "tally_block_execute_seconds"),
    persistMsPerBlock: perBlockMs(metricsBefore, metricsAfter, "tally_block_persist_seconds"),
    verification,
    ...(profiles === undefined ? {} : { profiles }),
    ...(net.keep ? { logFile: node.logFile } : {}),
  };
}

/** The tx/s windows and the errors of a timed phase, as progress lines. */
export function progressPhase(label: string, phase: PhaseStats): void {
  progress(`node [${label}]: tx/s over the phase, in 8 windows: ${phase.series.map((v) => fmt(v, 0)).join(" ")}`);
  if (Object.keys(phase.errors).length > 0) progress(`node [${label}]: errors ${JSON.stringify(phase.errors)}`);
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

/** Checks that the node to run is built, then measures the verify-only reference rate (single-node and network runs). */
export function prepareNodeRun(options: NodeRunOptions): number {
  if (!options.source && !existsSync(join(REPO, "packages", "cli", "dist", "src", "main.js"))) {
    throw new Error("the CLI is not built: run `npm run build` first (or pass --source)");
  }
  if (!options.source && distIsStale())
    progress("warning: packages/*/src is newer than dist; run `npm run build` to bench the current code");
  progress(`node: verify-only reference rate [${options.suite}] (${options.verifySeconds} s)`);
  const verifyOnlyPerSec = verifyOnlyRate(options.suite, options.verifySeconds);
  progress(`node: single-core verify-only ${fmt(verifyOnlyPerSec)} verifications/s`);
  return verifyOnlyPerSec;
}

/** Runs `run` with a pool of signing threads (one per core), closed afterwards. */
export async function withSignPool<T>(run: (pool: SignPool) => Promise<T>): Promise<T> {
  const pool = new SignPool(Math.max(1, availableParallelism()));
  try {
    return await run(pool);
  } finally {
    await pool.close();
  }
}

export async function runNode(options: NodeRunOptions): Promise<NodeRunSummary> {
  const verifyOnlyPerSec = prepareNodeRun(options);
  const results = await withSignPool(async (pool) => {
    const out: LoadResult[] = [];
    for (const config of options.configs) out.push(await runConfig(options, config, pool));
    return out;
  });
  return { ...runSettings(options), verifyOnlyPerSec, results };
}

/** What a summary says about the node processes of the run. */
export function runSettings(options: NodeRunOptions) {
  return {
    suite: options.suite,
    nodeRuntime: options.source ? ("source" as const) : ("built" as const),
    verifyWorkers: options.verifyWorkers ?? ("default" as const),
  };
}
