/**
 * Fault tolerance from the outside (issue item 9): a 4-validator network, each node its own
 * `tally start` process, under a continuous load of notarisations. Round after round a validator is
 * killed with SIGKILL (the current proposer in some rounds, a random one in the others); the other
 * three must keep committing, and the killed node, restarted, must catch up. Afterwards, through the
 * API as any client would, every node must report the same block hash at every height, and every
 * transaction a node acknowledged as committed must be found on every node at the same place.
 *
 * A failing run replays its choices (not its timing) with TALLY_KILL_SEED=<printed seed>; its
 * network directory, with each node's node.log, is kept and its path printed (also with TALLY_KEEP_NET=1).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { addressOf, getSuite, type KeyPair, loadGenesis, seededRandom, signTx, toHex } from "@tally/core";
import { freePortBlock, TALLY_BIN, tally, tempDir } from "../helpers.js";

const VALIDATORS = 4;
/** Kill-restart rounds; the rounds in PROPOSER_ROUNDS kill the proposer of the moment. */
const ROUNDS = 7;
const PROPOSER_ROUNDS = new Set([0, 2, 4]);
const CLIENTS = 4;
const BATCH = 10;
/**
 * How long the waits that may depend on a link coming back give. Both ends of a pair redial, and a
 * restarted node dials every peer at once (spec/p2p.md §6), so links are back within about a second;
 * the margin covers a machine loaded by the test's own clients and a round or two of timeouts.
 */
const LINK_WAIT_MS = 20_000;
/** Round timeouts lowered from the defaults so that a round without its proposer passes quickly. */
const CONSENSUS = {
  timeoutProposeMs: 1000,
  timeoutPrevoteMs: 500,
  timeoutPrecommitMs: 500,
  timeoutDeltaMs: 250,
  emptyBlockIntervalMs: 200,
};

interface NetworkFile {
  chainId: string;
  nodes: Array<{ name: string; dir: string; role: string; publicKey: string; apiUrl: string }>;
}
interface StatusJson {
  genesisHash: string;
  height: number;
  latestHash: string;
  consensus?: { height: number; round: number; step: string; role: string; peers: number; syncing: boolean; proposer: string | null };
}
interface BlockJson {
  hash: string;
  header: { height: number; prevHash: string };
  commit: { round: number };
  txs: string[];
}
interface TxJson {
  hash: string;
  height: number;
  index: number;
  blockHash: string;
}
type BatchEntry =
  | { hash: string; status: "committed"; height: number; index: number }
  | { hash: string; status: "pending" }
  | { hash?: string; error: { code: string; message: string; meta?: Record<string, unknown> } };

/** One validator: its directory, API and (while it runs) its process. */
interface Member {
  readonly name: string;
  readonly dir: string;
  readonly url: string;
  readonly publicKey: string;
  readonly log: string;
  proc: ChildProcess | null;
  exited: Promise<void>;
  /** Its API answers and the test is not killing it: load may go there. */
  up: boolean;
  /** The test sent the signal that ends the current process. */
  ending: boolean;
}

const dir = tempDir("kill");
const net = join(dir.path, "net");
const members: Member[] = [];
/** Set when a node exits without being told to; every wait gives up at once with this. */
let fatal: string | undefined;
let passed = false;
/** Ends the load (also when the test fails or times out, so that nothing keeps the process alive). */
let stopLoad = false;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, "utf8")) as T;

after(async () => {
  stopLoad = true;
  for (const m of members) {
    if (m.proc !== null && m.proc.exitCode === null && m.proc.signalCode === null) {
      m.ending = true;
      m.proc.kill("SIGKILL");
      await m.exited;
    }
  }
  if (passed && process.env.TALLY_KEEP_NET === undefined) dir.cleanup();
  else console.error(`kill.test: the network directory (node logs in node<k>/node.log) is kept: ${net}`);
});

async function request<T>(url: string, path: string, body?: unknown, timeoutMs = 5_000): Promise<{ status: number; json: T }> {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, json: (await res.json()) as T };
}

async function get<T>(url: string, path: string): Promise<T> {
  const { status, json } = await request<T>(url, path);
  if (status !== 200) throw new Error(`GET ${url}${path}: ${status} ${JSON.stringify(json)}`);
  return json;
}

const status = (m: Member) => get<StatusJson>(m.url, "/v1/status");

/** Polls `probe` until it returns a value; fails at once if a node died on its own. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (fatal !== undefined) throw new Error(`${fatal} (while waiting for ${what})`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
    await sleep(100);
  }
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

function spawnNode(m: Member): void {
  const log = openSync(m.log, "a");
  const proc = spawn(process.execPath, [TALLY_BIN, "start", m.dir], { stdio: ["ignore", log, log] });
  closeSync(log);
  m.proc = proc;
  m.ending = false;
  m.exited = new Promise((resolve) =>
    proc.once("exit", (code, signal) => {
      if (!m.ending) fatal ??= `${m.name} exited on its own (${signal ?? `exit code ${code}`}); see ${m.log}`;
      resolve();
    }),
  );
}

async function startMember(m: Member): Promise<void> {
  spawnNode(m);
  await until(
    `${m.name} to answer /health`,
    async () => ((await fetch(`${m.url}/health`, { signal: AbortSignal.timeout(1_000) })).ok ? true : undefined),
    30_000,
  );
  m.up = true;
}

async function killMember(m: Member): Promise<void> {
  m.up = false;
  m.ending = true;
  m.proc?.kill("SIGKILL");
  await m.exited;
  m.proc = null;
}

async function heights(ms: readonly Member[]): Promise<number[]> {
  return Promise.all(ms.map(async (m) => (await status(m)).height));
}

/** Client accounts written into every copy of the genesis before the first start, as an operator would. */
function addClientAccounts(count: number): KeyPair[] {
  const suite = getSuite("ed25519");
  const keys = Array.from({ length: count }, () => suite.generateKeyPair());
  const paths = [join(net, "genesis.json"), ...members.map((m) => join(m.dir, "genesis.json"))];
  for (const path of paths) {
    const doc = readJson<{ accounts: Array<{ publicKey: string; org: string; roles: string[] }> }>(path);
    for (const key of keys) doc.accounts.push({ publicKey: toHex(key.publicKey), org: "consortium", roles: [] });
    loadGenesis(doc);
    writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
  }
  return keys;
}

interface Acknowledged {
  readonly height: number;
  readonly index: number;
  readonly via: string;
}

interface LoadStats {
  batches: number;
  sent: number;
  /** Requests that got no answer (the node died under them, or did not answer in time). */
  unanswered: number;
  /** Refusals and non-commits by error code. */
  refused: Map<string, number>;
}

/**
 * One client account submitting batches of notarisations with `wait`, to its own node while that one
 * is up, else to a random node that is. Only a "committed" answer counts as acknowledged. After anything
 * else the nonce is re-learnt: from the node's NONCE_TOO_LOW/HIGH refusal (which counts its pooled
 * transactions), or else from the account's committed nonce.
 */
async function runClient(
  c: number,
  key: KeyPair,
  chainId: string,
  acknowledged: Map<string, Acknowledged>,
  stats: LoadStats,
  stopped: () => boolean,
): Promise<void> {
  const suite = getSuite(key.suite);
  const address = addressOf(suite, key.publicKey);
  let nonce: number | undefined;
  let n = 0;
  while (!stopped()) {
    const own = members[c % members.length] as Member;
    const live = members.filter((m) => m.up);
    const node = own.up ? own : live[Math.floor(Math.random() * live.length)];
    if (node === undefined) {
      await sleep(100);
      continue;
    }
    try {
      if (nonce === undefined) nonce = (await get<{ nonce: number }>(node.url, `/v1/accounts/${address}`)).nonce;
      const first: number = nonce;
      const txs = Array.from({ length: BATCH }, (_, i) => {
        const args = { digest: new Uint8Array(randomBytes(32)), label: `kill c${c} #${n++}` };
        return toHex(signTx(suite, key, { chainId, nonce: first + i, module: "evidence", method: "notarize", args }).bytes);
      });
      stats.batches++;
      stats.sent += txs.length;
      const { status: code, json } = await request<{ results: BatchEntry[] }>(
        node.url,
        "/v1/txs/batch",
        { txs, wait: true, timeoutMs: 8_000 },
        12_000,
      );
      if (code !== 200) throw new Error(`batch answered ${code}: ${JSON.stringify(json)}`);
      let all = true;
      for (const r of json.results) {
        if ("status" in r && r.status === "committed") {
          acknowledged.set(r.hash, { height: r.height, index: r.index, via: node.name });
          continue;
        }
        all = false;
        const why = "error" in r ? r.error.code : r.status;
        stats.refused.set(why, (stats.refused.get(why) ?? 0) + 1);
      }
      if (all) {
        nonce = first + txs.length;
        continue;
      }
      const head = json.results[0];
      const expected = head !== undefined && "error" in head ? head.error.meta?.expected : undefined;
      nonce = typeof expected === "number" ? expected : undefined;
    } catch {
      stats.unanswered++;
      nonce = undefined;
      await sleep(200);
    }
  }
}

test("4 validators under load: SIGKILL and restart one at a time; the chain goes on and every node agrees", {
  timeout: 280_000,
}, async (t) => {
  const startedMs = Date.now();
  const seed = Number(process.env.TALLY_KILL_SEED ?? Date.now() % 1_000_000);
  const random = seededRandom(seed);
  t.diagnostic(`seed ${seed}; network in ${net}`);

  // --- A 4-validator network with short round timeouts, each node its own process.
  const base = await freePortBlock(2 * VALIDATORS);
  const init = tally([
    "init",
    net,
    "--validators",
    String(VALIDATORS),
    "--api-port",
    String(base),
    "--p2p-port",
    String(base + VALIDATORS),
  ]);
  assert.equal(init.code, 0, init.stderr);
  const network = readJson<NetworkFile>(join(net, "network.json"));
  for (const node of network.nodes) {
    assert.equal(node.role, "validator");
    const nodeDir = join(net, node.dir);
    members.push({
      name: node.name,
      dir: nodeDir,
      url: node.apiUrl,
      publicKey: node.publicKey,
      log: join(nodeDir, "node.log"),
      proc: null,
      exited: Promise.resolve(),
      up: false,
      ending: false,
    });
    const configPath = join(nodeDir, "config.json");
    const config = readJson<{ logLevel: string; consensus?: Record<string, number> }>(configPath);
    config.consensus = { ...config.consensus, ...CONSENSUS };
    config.logLevel = "debug"; // every block decided, every failed dial: what a failed run's logs need
    writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  }
  const byKey = new Map(members.map((m) => [m.publicKey, m]));
  const keys = addClientAccounts(CLIENTS);
  await Promise.all(members.map((m) => startMember(m)));
  await until("the first blocks on every node", async () => ((await heights(members)).every((h) => h >= 2) ? true : undefined), 30_000);

  const phases: string[] = [`start ${Date.now() - startedMs} ms`];
  let phaseMs = Date.now();
  const phase = (name: string) => {
    phases.push(`${name} ${Date.now() - phaseMs} ms`);
    phaseMs = Date.now();
  };

  // --- Load: every client account submits continuously until the end of the kill rounds.
  const acknowledged = new Map<string, Acknowledged>();
  const stats: LoadStats = { batches: 0, sent: 0, unanswered: 0, refused: new Map() };
  const load = keys.map((key, c) => runClient(c, key, network.chainId, acknowledged, stats, () => stopLoad));

  // --- Kill rounds.
  let proposerKills = 0;

  try {
    for (let round = 0; round < ROUNDS; round++) {
      await sleep(1_000 + random() * 1_500); // load runs with all four
      let victim: Member;
      let wasProposer: boolean;
      if (PROPOSER_ROUNDS.has(round)) {
        const asked = members[Math.floor(random() * members.length)] as Member;
        victim = await until(
          `${asked.name} to report the proposer`,
          async () => {
            const proposer = (await status(asked)).consensus?.proposer;
            if (proposer === null || proposer === undefined) return undefined; // between heights
            const found = byKey.get(proposer);
            assert.ok(found, `${asked.name} reports proposer ${proposer}, which is not a validator of network.json`);
            return found;
          },
          10_000,
        );
        wasProposer = true;
      } else {
        victim = members[Math.floor(random() * members.length)] as Member;
        wasProposer = (await status(victim)).consensus?.proposer === victim.publicKey;
      }
      if (wasProposer) proposerKills++;
      const others = members.filter((m) => m !== victim);
      const before = Math.max(...(await heights(others)));
      const killedMs = Date.now();
      await killMember(victim);

      // The other three keep committing.
      await until(
        `the 3 nodes left to commit 2 blocks past ${before} after ${victim.name} was killed (round ${round})`,
        async () => (Math.min(...(await heights(others))) >= before + 2 ? true : undefined),
        LINK_WAIT_MS,
      );
      const progressMs = Date.now() - killedMs;
      const witness = others[0] as Member;
      const commitRounds = await Promise.all(
        [before + 1, before + 2].map(async (h) => (await get<BlockJson>(witness.url, `/v1/blocks/${h}`)).commit.round),
      );
      await sleep(random() * 2_000); // stays down a while, falling further behind
      const downMs = Date.now() - killedMs;

      // Restarted, it catches up with what the others had committed when it came back.
      await startMember(victim);
      const restartedMs = Date.now();
      const from = (await status(victim)).height;
      const target = Math.max(...(await heights(others)));
      const caughtUp = await until(
        `${victim.name} to catch up from ${from} to ${target} after its restart (round ${round})`,
        async () => {
          const s = await status(victim);
          return s.height >= target ? s : undefined;
        },
        LINK_WAIT_MS,
      );
      const line =
        `round ${round}: killed ${victim.name}${wasProposer ? " (the proposer)" : ""} at height ${before} (time ${killedMs}); ` +
        `the others +2 in ${progressMs} ms (commit rounds ${commitRounds.join(", ")}); down ${downMs} ms; back at ${from}, caught up to ${target} in ${Date.now() - restartedMs} ms ` +
        `with ${caughtUp.consensus?.peers} of ${VALIDATORS - 1} peers linked`;
      t.diagnostic(line);
    }
  } finally {
    stopLoad = true;
    await Promise.all(load);
  }
  phase("kill rounds");
  assert.ok(proposerKills >= 2, `only ${proposerKills} of the kills hit the proposer`);
  assert.ok(acknowledged.size > 0, "no transaction was acknowledged as committed");

  // --- Every node ends up at the same chain: within one height, linked to each other.
  const maxAcked = Math.max(...[...acknowledged.values()].map((a) => a.height));
  const finalHeights = await until(
    "all 4 nodes within one height, past every acknowledged transaction",
    async () => {
      const hs = await heights(members);
      return Math.max(...hs) - Math.min(...hs) <= 1 && Math.min(...hs) >= maxAcked ? hs : undefined;
    },
    30_000,
  );
  await until(
    "every node linked to its 3 peers",
    async () => ((await Promise.all(members.map(status))).every((s) => s.consensus?.peers === VALIDATORS - 1) ? true : undefined),
    LINK_WAIT_MS,
  );

  phase("convergence");

  // --- Identical block hashes at every height, on every node; the chain links from the genesis.
  const top = Math.min(...finalHeights);
  const hashes: string[] = [];
  const heightsToCheck = Array.from({ length: top }, (_, i) => i + 1);
  await pool(heightsToCheck, 8, async (h) => {
    const blocks = await Promise.all(members.map((m) => get<BlockJson>(m.url, `/v1/blocks/${h}`)));
    const first = blocks[0] as BlockJson;
    blocks.forEach((b, i) => {
      assert.equal(b.header.height, h);
      assert.equal(b.hash, first.hash, `block ${h}: ${members[i]?.name} has ${b.hash}, ${members[0]?.name} has ${first.hash}`);
    });
    hashes[h] = first.hash;
  });
  let prev = (await status(members[0] as Member)).genesisHash;
  for (let h = 1; h <= top; h++) {
    const block = await get<BlockJson>((members[0] as Member).url, `/v1/blocks/${h}`);
    assert.equal(block.header.prevHash, prev, `block ${h} does not link to block ${h - 1}`);
    prev = block.hash;
  }

  phase("block check");

  // --- Every acknowledged transaction is on every node, at the height and index it was acknowledged at.
  const ackList = [...acknowledged.entries()];
  await pool(ackList, 16, async ([hash, ack]) => {
    for (const m of members) {
      const { status: code, json } = await request<TxJson>(m.url, `/v1/txs/${hash}`);
      assert.equal(
        code,
        200,
        `tx ${hash}, acknowledged by ${ack.via} at height ${ack.height}, is missing on ${m.name}: ${JSON.stringify(json)}`,
      );
      assert.equal(json.height, ack.height, `tx ${hash} on ${m.name}: height ${json.height}, acknowledged at ${ack.height} by ${ack.via}`);
      assert.equal(json.index, ack.index, `tx ${hash} on ${m.name}: index ${json.index}, acknowledged at ${ack.index} by ${ack.via}`);
      assert.equal(json.blockHash, hashes[ack.height], `tx ${hash} on ${m.name}: block hash`);
    }
  });

  phase("tx check");

  // --- A clean stop, as an operator would do it.
  for (const m of members) {
    m.up = false;
    m.ending = true;
    const proc = m.proc as ChildProcess;
    proc.kill("SIGTERM");
    await m.exited;
    assert.equal(proc.exitCode, 0, `${m.name} exited ${proc.exitCode ?? proc.signalCode} on SIGTERM; see ${m.log}`);
    m.proc = null;
  }

  phase("stop");
  t.diagnostic(phases.join("; "));
  const refused = [...stats.refused.entries()].map(([code, count]) => `${code} ${count}`).join(", ");
  t.diagnostic(
    `seed ${seed}: ${ROUNDS} kills (${proposerKills} of the proposer), blocks 1..${top} identical on ${VALIDATORS} nodes, ` +
      `${acknowledged.size} of ${stats.sent} transactions acknowledged and found on every node ` +
      `(${stats.batches} batches, ${stats.unanswered} unanswered; not committed: ${refused || "none"}), ${Math.round((Date.now() - startedMs) / 1000)} s`,
  );
  passed = true;
});
