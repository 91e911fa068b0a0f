/**
 * `npm run bench -- --workload contract`: contract calls per second on one node (issue 6 item 7), next
 * to the same logic as a native module. One validator (`tally init` defaults, the built CLI in its own
 * process); K client accounts declared in the genesis. Three workloads, one after the other on the
 * same node, each a warm-up then a timed closed loop of batches sent with `wait: true`:
 *
 *   counter (contract)     contracts.call increment {by: 1} on the template counter (`tally contract new`)
 *   token (contract)       contracts.call transfer {to, amount: 1} on examples/token, client i to client i+1
 *   tokens.transfer        the native tokens module's transfer of 1 unit, client i to client i+1
 *
 * Transactions are signed before each timed phase. After each workload the state is checked: the
 * counter equals the increments committed, and the token balances still add up to what was handed out.
 *
 *   npm run bench -- --workload contract [--duration S] [--warmup S] [--clients K] [--batch-size N]
 *                    [--crypto ed25519|sm2] [--source] [--keep] [--write-docs]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Agent } from "node:http";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { initNetwork } from "@tally/cli";
import { type GenesisDoc, getSuite, type KeyPair, loadGenesis, type SuiteId, signTx, toHex, type Value } from "@tally/core";
import { AccountSigner, fromKeyFile, TallyClient } from "@tally/sdk";
import { buildContract } from "../packages/cli/src/contract/build.js";
import { newContractProject } from "../packages/cli/src/contract/template.js";
import { freePort } from "../test/helpers.js";
import { BENCH_CHAIN_ID } from "./micro.js";
import { type Client, killChildren, type LoadConfig, NodeProcess, type PhaseStats, runPhase, stats } from "./node-run.js";
import { fmt, machineInfo, makeTempDir, progress, REPO, removeTempDir } from "./util.js";

const DOCS = join(REPO, "docs", "benchmarks.md");
const ADMIN_ORG = "consortium";
const TOKEN_SYMBOL = "BENCH";
/** Units each client gets of either token: far more than any run moves (each transfer moves 1). */
const UNITS_PER_CLIENT = 1_000_000;
/** Pre-signed transactions per client per workload are sized for this rate (calls/s over the whole node). */
const PRESIGN_RATE = 2_500;
/** Gas offered by each contract call: several times what one uses (the table prints a simulated call's gas). */
const CALL_GAS = 200_000;

export type ContractWorkload = "counter" | "contract-token" | "native-token";

const WORKLOAD_LABEL: Record<ContractWorkload, string> = {
  counter: "counter.increment (contract)",
  "contract-token": "token.transfer (contract, examples/token)",
  "native-token": "tokens.transfer (native module)",
};

export interface ContractBenchOptions {
  readonly suite: SuiteId;
  readonly durationSec: number;
  readonly warmupSec: number;
  readonly clients: number;
  readonly batchSize: number;
  readonly source: boolean;
  readonly keep: boolean;
}

export interface ContractBenchRow {
  readonly workload: ContractWorkload;
  readonly label: string;
  readonly warmup: PhaseStats;
  readonly main: PhaseStats;
  /** Gas of one call, from a simulation before the run (contract workloads). */
  readonly gasPerCall: number | null;
  readonly nodeCpuPercent: number | null;
  readonly verified: boolean;
  readonly note: string;
}

function usage(): string {
  return `usage: npm run bench -- --workload contract [--duration S] [--warmup S] [--clients K] [--batch-size N] [--crypto ed25519|sm2] [--source] [--keep] [--write-docs]`;
}

export function parseContractOptions(argv: string[]): ContractBenchOptions & { writeDocs: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      workload: { type: "string" },
      quick: { type: "boolean", default: false },
      crypto: { type: "string", default: "ed25519" },
      duration: { type: "string" },
      warmup: { type: "string" },
      clients: { type: "string", default: "8" },
      "batch-size": { type: "string", default: "100" },
      source: { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
      "write-docs": { type: "boolean", default: false },
    },
  });
  const int = (name: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}\n${usage()}`);
    return n;
  };
  if (values.crypto !== "ed25519" && values.crypto !== "sm2") throw new Error(`--crypto must be ed25519 or sm2\n${usage()}`);
  return {
    suite: values.crypto,
    durationSec: int("--duration", values.duration ?? (values.quick ? "3" : "15"), 1, 600),
    warmupSec: int("--warmup", values.warmup ?? (values.quick ? "1" : "3"), 0, 60),
    clients: int("--clients", values.clients, 1, 64),
    batchSize: int("--batch-size", values["batch-size"], 1, 1000),
    source: values.source,
    keep: values.keep,
    writeDocs: values["write-docs"],
  };
}

function newClient(key: KeyPair): Client {
  return { key, privateKeyHex: toHex(key.privateKey), signedUpTo: 0, queue: [], broken: false };
}

/** Signs `count` more transactions of `client` (consecutive nonces from where it stopped). */
function presign(suite: SuiteId, client: Client, nonce0: number, count: number, module: string, method: string, args: Value): void {
  const s = getSuite(suite);
  for (let i = 0; i < count; i++) {
    const nonce = nonce0 + client.signedUpTo;
    const { bytes, hash } = signTx(s, client.key, { chainId: BENCH_CHAIN_ID, nonce, module, method, args });
    client.queue.push({ hex: toHex(bytes), hash });
    client.signedUpTo++;
  }
}

/** Node CPU over a phase, percent of one core, from /proc (Linux). */
function cpuPercent(pid: number, run: () => Promise<PhaseStats>): Promise<{ phase: PhaseStats; cpu: number | null }> {
  const ticks = () => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      return Number(f[11]) + Number(f[12]);
    } catch {
      return Number.NaN;
    }
  };
  const t0 = performance.now();
  const c0 = ticks();
  return run().then((phase) => {
    const seconds = (performance.now() - t0) / 1000;
    const cpu = ((ticks() - c0) / 100 / seconds) * 100;
    return { phase, cpu: Number.isFinite(cpu) ? cpu : null };
  });
}

export async function runContractBench(options: ContractBenchOptions): Promise<ContractBenchRow[]> {
  const dir = makeTempDir("contracts");
  const suite = getSuite(options.suite);
  const keys = Array.from({ length: options.clients }, () => suite.generateKeyPair());
  const issuer = suite.generateKeyPair();
  const port = await freePort();
  const init = initNetwork(join(dir, "net"), { validators: 1, crypto: options.suite, chainId: BENCH_CHAIN_ID, apiPort: port });
  const doc = JSON.parse(readFileSync(init.genesisPath, "utf8")) as GenesisDoc;
  const withClients: GenesisDoc = {
    ...doc,
    accounts: [
      ...doc.accounts,
      ...keys.map((k) => ({ publicKey: toHex(k.publicKey), org: ADMIN_ORG, roles: [] })),
      { publicKey: toHex(issuer.publicKey), org: ADMIN_ORG, roles: ["issuer"] },
    ],
  };
  loadGenesis(withClients);
  for (const path of [init.genesisPath, ...init.nodeDirs.map((d) => join(d, "genesis.json"))]) {
    writeFileSync(path, `${JSON.stringify(withClients, null, 2)}\n`);
  }
  // The contracts: the `tally contract new` counter and examples/token, built as `tally contract build` does.
  const counterDir = join(dir, "counter");
  newContractProject(counterDir);
  const counterCode = readFileSync((await buildContract(counterDir, options.suite)).file, "utf8");
  const tokenCode = readFileSync((await buildContract(join(REPO, "examples", "token"), options.suite)).file, "utf8");

  const url = init.apiUrls[0] as string;
  const node = await NodeProcess.start(init.nodeDirs[0] as string, url, join(dir, "node0.log"), options.source, undefined);
  const agent = new Agent({ keepAlive: true, maxSockets: options.clients + 2 });
  const rows: ContractBenchRow[] = [];
  try {
    const client = new TallyClient(url);
    const admin = await AccountSigner.connect(
      client,
      fromKeyFile(JSON.parse(readFileSync(join(dir, "net", "accounts", "admin.json"), "utf8"))),
    );
    const issuerSigner = await AccountSigner.connect(client, issuer);
    const signers = await Promise.all(keys.map((k) => AccountSigner.connect(client, k)));
    const addresses = signers.map((s) => s.address);

    progress("contracts bench: setup (deploys, token distribution; not timed)");
    const counter = (await admin.contracts.deploy(counterCode, { gasLimit: 2_000_000 })).value.address;
    const supply = UNITS_PER_CLIENT * options.clients;
    const token = (await admin.contracts.deploy(tokenCode, { gasLimit: 2_000_000, initArgs: { symbol: TOKEN_SYMBOL, supply } })).value
      .address;
    await issuerSigner.tokens.create({ symbol: TOKEN_SYMBOL, name: "Bench", decimals: 0 });
    for (const to of addresses) {
      await admin.contracts.call(token, "transfer", { to, amount: UNITS_PER_CLIENT });
      await issuerSigner.tokens.mint(TOKEN_SYMBOL, to, BigInt(UNITS_PER_CLIENT));
    }
    const config: LoadConfig = { mode: "batch", clients: options.clients, batchSize: options.batchSize };
    const perClient = Math.ceil((PRESIGN_RATE * (options.durationSec + options.warmupSec)) / options.clients);
    const nextOf = (i: number) => addresses[(i + 1) % addresses.length] as string;

    for (const workload of ["counter", "contract-token", "native-token"] as const) {
      const clients = keys.map(newClient);
      const nonces = await Promise.all(addresses.map(async (a) => (await client.account(a)).nonce));
      let gasPerCall: number | null = null;
      clients.forEach((c, i) => {
        const nonce0 = nonces[i] as number;
        if (workload === "counter")
          presign(options.suite, c, nonce0, perClient, "contracts", "call", {
            address: counter,
            method: "increment",
            args: { by: 1 },
            gasLimit: CALL_GAS,
          });
        else if (workload === "contract-token") {
          presign(options.suite, c, nonce0, perClient, "contracts", "call", {
            address: token,
            method: "transfer",
            args: { to: nextOf(i), amount: 1 },
            gasLimit: CALL_GAS,
          });
        } else presign(options.suite, c, nonce0, perClient, "tokens", "transfer", { symbol: TOKEN_SYMBOL, to: nextOf(i), amount: "1" });
      });
      if (workload === "counter") gasPerCall = (await client.contracts.simulate(counter, "increment", { by: 1 })).gasUsed;
      if (workload === "contract-token") {
        gasPerCall = (
          await client.contracts.simulate(token, "transfer", { to: nextOf(0), amount: 1 }, { signer: signers[0] as AccountSigner })
        ).gasUsed;
      }
      const before = workload === "counter" ? ((await client.contracts.state<number>(counter, "count")) ?? 0) : 0;
      progress(`contracts bench: ${WORKLOAD_LABEL[workload]}: warm-up ${options.warmupSec} s`);
      const warmup =
        options.warmupSec > 0 ? stats(await runPhase(agent, [new URL(url)], clients, config, options.warmupSec)) : emptyPhase();
      progress(`contracts bench: ${WORKLOAD_LABEL[workload]}: ${options.durationSec} s`);
      const { phase, cpu } = await cpuPercent(node.pid, async () =>
        stats(await runPhase(agent, [new URL(url)], clients, config, options.durationSec)),
      );
      node.checkRunning(`after ${workload}`);
      // State check: what the node says it committed is what the state shows.
      let verified = false;
      let note = "";
      const committed = warmup.committed + phase.committed;
      if (workload === "counter") {
        const count = (await client.contracts.state<number>(counter, "count")) ?? 0;
        verified = count - before === committed;
        note = `count +${count - before} = ${committed} committed increments`;
      } else {
        let sum = 0;
        for (const a of addresses) {
          sum +=
            workload === "contract-token"
              ? (await client.contracts.simulate<number>(token, "balanceOf", { address: a })).value
              : Number(await client.tokens.balance(TOKEN_SYMBOL, a));
        }
        verified = sum === supply;
        note = `client balances sum to ${sum} (handed out ${supply})`;
      }
      const errors = Object.entries(phase.errors);
      if (errors.length > 0) note += `; errors: ${errors.map(([k, v]) => `${k} ×${v}`).join(", ")}`;
      if (phase.exhausted) note += "; ran out of pre-signed transactions";
      rows.push({ workload, label: WORKLOAD_LABEL[workload], warmup, main: phase, gasPerCall, nodeCpuPercent: cpu, verified, note });
      progress(`contracts bench: ${WORKLOAD_LABEL[workload]}: ${fmt(phase.txPerSec)} calls/s, p50 ${fmt(phase.p50Ms)} ms, ${note}`);
    }
  } finally {
    agent.destroy();
    await node.stop();
    killChildren();
    if (!options.keep) removeTempDir(dir);
    else progress(`kept ${dir}`);
  }
  return rows;
}

function emptyPhase(): PhaseStats {
  return { committed: 0, requests: 0, wallSec: 0, txPerSec: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, errors: {}, exhausted: false, series: [] };
}

export function contractBenchMarkdown(rows: readonly ContractBenchRow[], options: ContractBenchOptions, command: string): string {
  const m = machineInfo();
  const native = rows.find((r) => r.workload === "native-token")?.main.txPerSec;
  const lines = [
    `\`${command}\` — ${m.date.slice(0, 10)}, ${m.cpuModel} (${m.cores} cores), Node ${m.node}, ${options.suite}; one validator (built CLI),`,
    `${options.clients} clients × batches of ${options.batchSize} with \`wait: true\`, ${options.warmupSec} s warm-up + ${options.durationSec} s per workload.`,
    "",
    "| workload | committed calls/s | p50 ms | p99 ms | vs native | gas per call | node CPU % (of one core) | state check |",
    "|---|---:|---:|---:|---:|---:|---:|---|",
    ...rows.map(
      (r) =>
        `| ${r.label} | ${fmt(r.main.txPerSec)} | ${fmt(r.main.p50Ms)} | ${fmt(r.main.p99Ms)} | ${
          native === undefined || native === 0 ? "–" : `${((r.main.txPerSec / native) * 100).toFixed(0)}%`
        } | ${r.gasPerCall === null ? "–" : fmt(r.gasPerCall)} | ${r.nodeCpuPercent === null ? "–" : fmt(r.nodeCpuPercent)} | ${r.verified ? "ok" : "FAILED"}: ${r.note} |`,
    ),
  ];
  return lines.join("\n");
}

function replaceSection(text: string, id: string, body: string): string {
  const start = `<!-- bench:${id}:start -->`;
  const end = `<!-- bench:${id}:end -->`;
  const block = `${start}\n${body}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) return text.slice(0, i) + block + text.slice(j + end.length);
  return `${text.trimEnd()}\n\n${block}\n`;
}

/** The whole `--workload contract` run: parse, measure, print, optionally write docs/benchmarks.md. */
export async function contractBenchMain(argv: string[]): Promise<void> {
  const options = parseContractOptions(argv);
  const command = `npm run bench -- ${argv.join(" ")}`;
  const rows = await runContractBench(options);
  const table = contractBenchMarkdown(rows, options, command);
  console.log(`\n## Contracts: calls/s on one node (${options.suite})\n\n${table}\n`);
  if (options.writeDocs) {
    const text = readFileSync(DOCS, "utf8");
    writeFileSync(
      DOCS,
      replaceSection(text, `${options.suite}-contracts:node`, `### Single node, contract calls (${options.suite})\n\n${table}`),
    );
    progress(`wrote ${relative(REPO, DOCS)}`);
  }
  if (rows.some((r) => !r.verified)) process.exitCode = 1;
}
