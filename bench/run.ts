/**
 * `npm run bench`: microbenchmarks and a load run against a single node (or, with --nodes N, a network of N
 * validators); prints a markdown table, writes bench/results/latest.json and, with --write-docs, the results
 * sections of docs/benchmarks.md.
 *
 *   npm run bench -- [--quick] [--crypto ed25519|sm2] [--duration S] [--clients K] [--only micro|node]
 *                    [--batch 8x200,16x500 | --batch-clients 4,8 --batch-sizes 200,500] [--modes single,batch]
 *                    [--workload notarize|transfer] [--nodes N] [--paced-rate TX/S] [--warmup S] [--verify-workers N] [--profile] [--wait-quiet S]
 *                    [--source] [--keep] [--write-docs] [--docs-section NAME]; --help lists them.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import type { SuiteId } from "@tally/core";
import { contractBenchMain } from "./contracts.js";
import { type MicroResult, runMicro } from "./micro.js";
import { type NetworkLoadResult, type NetworkRunSummary, type PacedResult, runNetwork } from "./network-run.js";
import {
  killChildren,
  type LoadConfig,
  type LoadMode,
  type NodeRunSummary,
  type PhaseStats,
  QUIET_PERCENT,
  runNode,
  type Workload,
  waitQuiet,
} from "./node-run.js";
import { OtherLoad } from "./proc.js";
import { profileMarkdown } from "./profile.js";
import { fmt, type MachineInfo, machineInfo, progress, REPO, removeAllTempDirs, sleep } from "./util.js";

const USAGE = `usage: npm run bench -- [options]
  --quick                 short durations (checks that the harness works; figures are not meaningful)
  --crypto ed25519|sm2    chain suite for the node run and the suite-independent micros (default ed25519)
  --duration SECONDS      timed load phase per configuration (default 20; --quick: 3)
  --warmup SECONDS        warm-up before each timed phase (default 5; --quick: 1)
  --clients K             clients in single mode (default 8)
  --batch LIST            batch-mode loads as CLIENTSxSIZE, comma-separated (default: Kx200,16x500 with K from
                          --clients; 16x500 was the best of a sweep on the 2-core machine, docs/benchmarks.md)
  --batch-sizes LIST      with --batch-clients: a sweep over every combination (instead of --batch)
  --batch-clients LIST
  --modes LIST            single,batch (default both)
  --workload notarize|transfer|contract
                          contract: contract calls/s on one node (a counter and a token contract next to the
                          native tokens.transfer; bench/contracts.ts, its own options: --duration --warmup
                          --clients --batch-size --crypto --source --keep --write-docs).
                          what the clients send (default notarize: evidence.notarize). transfer: before the
                          warm-up (not timed) an issuer account of the genesis creates the token BENCH and mints
                          to every client; then client i sends tokens.transfer of 1 unit to client i+1 (mod K);
                          after the run the balances must add up to the minted total
  --nodes N               validators to load (default 1: a single node). N >= 4: a BFT network of N validators,
                          each its own \`tally start\` process on this machine with the consensus settings of
                          \`tally init\`; clients spread round-robin over the nodes; adds a paced (open-loop) phase
  --paced-rate TX/S       with --nodes: the paced phase's offered rate (default: half the best closed-loop rate)
  --only micro|node       run one part
  --verify-workers N      the node's verification threads (default: the node's own default, cores - 1)
  --profile               run the node with --cpu-prof and print its top self-time functions (with --nodes: every node; profiles in bench/results/profiles)
  --source                run the node from TypeScript sources instead of the built CLI
  --wait-quiet SECONDS    before each node configuration, wait up to this long for other processes to
                          leave the CPU (shared machines; default 0)
  --keep                  keep the temporary network directories and node logs
  --write-docs            write the results into docs/benchmarks.md
  --docs-section NAME     the docs section to (re)write (default: the suite, e.g. ed25519; with --nodes N: ed25519-N-nodes
                          for the load run; with --workload transfer: ed25519-transfer, ed25519-transfer-N-nodes;
                          e.g. ed25519-sweep for a tuning run)
  --help`;

interface Options {
  readonly quick: boolean;
  readonly suite: SuiteId;
  readonly durationSec: number;
  readonly warmupSec: number;
  readonly clients: number;
  readonly batch: Array<{ clients: number; batchSize: number }>;
  readonly modes: LoadMode[];
  readonly workload: Workload;
  /** Validators under load: 1 (a single node) or at least 4. */
  readonly nodes: number;
  readonly pacedRate: number | undefined;
  readonly only: "micro" | "node" | undefined;
  readonly verifyWorkers: number | undefined;
  readonly profile: boolean;
  readonly source: boolean;
  readonly keep: boolean;
  readonly waitQuietSec: number;
  readonly writeDocs: boolean;
  /** Docs section of the microbenchmarks (--docs-section, else the suite). */
  readonly docsSection: string;
  /**
   * Docs section of the load run (--docs-section, else the suite, or SUITE-N-nodes with --nodes N; with
   * --workload transfer SUITE-transfer or SUITE-transfer-N-nodes).
   */
  readonly nodeDocsSection: string;
}

class UsageError extends Error {}

function positiveInt(name: string, value: string, min = 1, max = 100_000): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}`);
  return n;
}

function positiveNumber(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new UsageError(`${name} must be a number of seconds in (0, 3600]`);
  return n;
}

function intList(name: string, value: string, max: number): number[] {
  return value.split(",").map((v) => positiveInt(name, v.trim(), 1, max));
}

/** Batch-mode loads: an explicit CxS list, a clients × sizes sweep, or the default Kx200,16x500. */
function batchLoads(list: string | undefined, sizes: string | undefined, clientCounts: string | undefined, k: number) {
  if (list !== undefined && (sizes !== undefined || clientCounts !== undefined)) {
    throw new UsageError("give either --batch or --batch-sizes/--batch-clients");
  }
  if (sizes !== undefined || clientCounts !== undefined) {
    const ss = sizes === undefined ? [200] : intList("--batch-sizes", sizes, 2000);
    const cs = clientCounts === undefined ? [k] : intList("--batch-clients", clientCounts, 2000);
    return cs.flatMap((clients) => ss.map((batchSize) => ({ clients, batchSize })));
  }
  const items = (list ?? `${k}x200,16x500`).split(",").map((item) => {
    const m = /^(\d+)x(\d+)$/.exec(item.trim());
    if (m === null) throw new UsageError("--batch items must look like 16x500 (clients x transactions per request)");
    return {
      clients: positiveInt("--batch clients", m[1] as string, 1, 2000),
      batchSize: positiveInt("--batch size", m[2] as string, 1, 2000),
    };
  });
  // The same load twice (e.g. --clients 16) is run once.
  return items.filter((b, i) => items.findIndex((o) => o.clients === b.clients && o.batchSize === b.batchSize) === i);
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: "boolean", default: false },
      crypto: { type: "string", default: "ed25519" },
      duration: { type: "string" },
      warmup: { type: "string" },
      clients: { type: "string", default: "8" },
      batch: { type: "string" },
      "batch-sizes": { type: "string" },
      "batch-clients": { type: "string" },
      modes: { type: "string", default: "single,batch" },
      workload: { type: "string", default: "notarize" },
      nodes: { type: "string", default: "1" },
      "paced-rate": { type: "string" },
      only: { type: "string" },
      "verify-workers": { type: "string" },
      profile: { type: "boolean", default: false },
      source: { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
      "wait-quiet": { type: "string" },
      "write-docs": { type: "boolean", default: false },
      "docs-section": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.crypto !== "ed25519" && values.crypto !== "sm2") throw new UsageError("--crypto must be ed25519 or sm2");
  if (values.only !== undefined && values.only !== "micro" && values.only !== "node") throw new UsageError("--only must be micro or node");
  const modes = values.modes.split(",").map((m) => m.trim());
  if (modes.length === 0 || !modes.every((m): m is LoadMode => m === "single" || m === "batch")) {
    throw new UsageError("--modes must be a list of single and batch");
  }
  if (values.workload !== "notarize" && values.workload !== "transfer") throw new UsageError("--workload must be notarize or transfer");
  const workload: Workload = values.workload;
  const clients = positiveInt("--clients", values.clients, 1, 2000);
  const nodes = nodeCount(values.nodes, values["paced-rate"]);
  if (values["docs-section"] !== undefined && !/^[a-z0-9-]{1,40}$/.test(values["docs-section"])) {
    throw new UsageError("--docs-section must be lowercase letters, digits and dashes");
  }
  return {
    quick: values.quick,
    suite: values.crypto,
    durationSec: values.duration === undefined ? (values.quick ? 3 : 20) : positiveNumber("--duration", values.duration),
    warmupSec: values.warmup === undefined ? (values.quick ? 1 : 5) : positiveNumber("--warmup", values.warmup),
    clients,
    batch: batchLoads(values.batch, values["batch-sizes"], values["batch-clients"], clients),
    modes,
    workload,
    nodes,
    pacedRate: values["paced-rate"] === undefined ? undefined : positiveInt("--paced-rate", values["paced-rate"], 1, 1_000_000),
    only: values.only,
    verifyWorkers: values["verify-workers"] === undefined ? undefined : positiveInt("--verify-workers", values["verify-workers"], 0, 64),
    profile: values.profile,
    source: values.source,
    keep: values.keep,
    waitQuietSec: values["wait-quiet"] === undefined ? 0 : positiveNumber("--wait-quiet", values["wait-quiet"]),
    writeDocs: values["write-docs"],
    docsSection: values["docs-section"] ?? values.crypto,
    nodeDocsSection: values["docs-section"] ?? defaultNodeSection(values.crypto, workload, nodes),
  };
}

/** The load run's docs section: ed25519, ed25519-4-nodes; another workload than notarize is named: ed25519-transfer-4-nodes. */
function defaultNodeSection(suite: SuiteId, workload: Workload, nodes: number): string {
  return [suite, ...(workload === "notarize" ? [] : [workload]), ...(nodes > 1 ? [`${nodes}-nodes`] : [])].join("-");
}

/** --nodes: 1, or a BFT network of at least 4 validators (tolerating one faulty); --paced-rate needs a network. */
function nodeCount(value: string, pacedRate: string | undefined): number {
  const nodes = positiveInt("--nodes", value, 1, 64);
  if (nodes > 1 && nodes < 4) throw new UsageError("--nodes must be 1 or at least 4 (a BFT network tolerating one faulty validator)");
  if (nodes === 1 && pacedRate !== undefined) throw new UsageError("--paced-rate needs --nodes N (N >= 4)");
  return nodes;
}

function loadConfigs(o: Options): LoadConfig[] {
  const configs: LoadConfig[] = [];
  if (o.modes.includes("single")) configs.push({ mode: "single", clients: o.clients, batchSize: 1 });
  if (o.modes.includes("batch")) for (const b of o.batch) configs.push({ mode: "batch", ...b });
  return configs;
}

// ---- report --------------------------------------------------------------------------------------

/** Other processes' CPU (percent of one core) above which a figure is flagged as disturbed. */
const OTHER_LOAD_WARN_PERCENT = QUIET_PERCENT;

interface Report {
  readonly command: string;
  readonly machine: MachineInfo;
  /** CPU used by other processes in the second before the run, percent of one core. */
  readonly otherLoadBeforePercent: number;
  /** CPU used by other processes while the microbenchmarks ran, percent of one core. */
  readonly otherLoadMicroPercent?: number;
  readonly options: Options;
  readonly micro?: MicroResult[];
  readonly node?: NodeRunSummary;
  readonly network?: NetworkRunSummary;
}

function machineLine(m: MachineInfo): string {
  return `${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB RAM, Node ${m.node}, Linux ${m.kernel}; run ${m.date.slice(0, 16).replace("T", " ")} UTC`;
}

function microMarkdown(r: Report): string {
  const rows = (r.micro ?? []).map((m) => `| ${m.name} | ${m.suite} | ${fmt(m.value)} ${m.unit} | ${m.note ?? ""} |`);
  return [
    `Command: \`${r.command}\`  `,
    `Machine: ${machineLine(r.machine)}; other processes used ${fmt(r.otherLoadMicroPercent)}% of one core meanwhile`,
    "",
    "| benchmark | suite | result | notes |",
    "|---|---|---:|---|",
    ...rows,
  ].join("\n");
}

/** The "chain verified" cell: the verdict, the phase's errors, and flags for an exhausted pool or a busy machine. */
function verifiedCell(ok: boolean, main: PhaseStats, otherCpuPercent: number): string {
  const errors = Object.entries(main.errors)
    .map(([k, c]) => `${k}×${c}`)
    .join(", ");
  return `${ok ? "yes" : "**no**"}${errors ? `; errors: ${errors}` : ""}${main.exhausted ? "; pool ran out" : ""}${otherCpuPercent > OTHER_LOAD_WARN_PERCENT ? "; **machine busy with other work**" : ""}`;
}

function runHeader(r: Report): string[] {
  return [`Command: \`${r.command}\`  `, `Machine: ${machineLine(r.machine)}  `];
}

function runtimeText(n: { nodeRuntime: "built" | "source" }): string {
  return n.nodeRuntime === "built" ? "built CLI (`packages/cli/bin/tally.js start`)" : "TypeScript sources via tsx";
}

function loadText(o: Options): string {
  const txs =
    o.workload === "notarize"
      ? "notarize txs"
      : "`tokens.transfer` txs (client i → client i+1 mod K, amount 1; token created and minted to every client before the warm-up, not timed)";
  return `load ${o.durationSec} s per row after ${o.warmupSec} s warm-up; ${txs} pre-signed before the timed phase`;
}

/** The first column's header of the load tables: names the workload unless it is notarize. */
function loadColumn(o: Options, what: string): string {
  return o.workload === "notarize" ? what : `${o.workload}: ${what}`;
}

function seriesLines(rows: ReadonlyArray<{ label: string; main: PhaseStats }>): string[] {
  return [
    "Committed tx/s over each timed phase, in 8 equal windows (the last one includes the drain):",
    "",
    ...rows.map((x) => `- ${x.label}: ${x.main.series.map((v) => fmt(v, 0)).join(" → ")}`),
  ];
}

function nodeMarkdown(r: Report): string {
  const n = r.node;
  if (n === undefined) return "";
  const rows = n.results.map((x) => {
    return [
      x.label,
      `**${fmt(x.main.txPerSec)}**`,
      fmt(x.main.p50Ms),
      fmt(x.main.p99Ms),
      `${fmt(x.nodeCpuPercent)}%`,
      `${fmt(x.nodeCpuUsPerTx)} / ${fmt(x.mainThreadUsPerTx)}`,
      `${fmt(x.peakRssMiB)} / ${fmt(x.hwmMiB)} / ${fmt(x.peakAnonMiB)}`,
      `${fmt(x.blocks, 0)} × ${fmt(x.avgTxsPerBlock, 0)}`,
      `${fmt(x.executeMsPerBlock)} / ${fmt(x.persistMsPerBlock)}`,
      `${fmt(x.benchCpuPercent)}% / ${fmt(x.otherCpuPercent)}%`,
      verifiedCell(x.verification.ok, x.main, x.otherCpuPercent),
    ].join(" | ");
  });
  const best = n.results.reduce<(typeof n.results)[number] | undefined>(
    (b, x) => (b === undefined || x.main.txPerSec > b.main.txPerSec ? x : b),
    undefined,
  );
  const lines = [
    ...runHeader(r),
    `Node: ${runtimeText(n)}, separate process, verifyWorkers ${n.verifyWorkers}; ${loadText(r.options)}.`,
    "",
    `| ${loadColumn(r.options, "load (`wait: true`)")} | committed tx/s | p50 ms | p99 ms | node CPU | node CPU µs per tx (all / main thread) | node RSS MiB (peak sampled / VmHWM / peak anon) | blocks × txs | execute / persist ms per block | load-gen / other CPU | chain verified |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ...rows.map((row) => `| ${row} |`),
    "",
    `Single-core verify-only rate (${n.suite} verify of tx sign bytes, this machine): ${fmt(n.verifyOnlyPerSec)}/s.`,
  ];
  if (best !== undefined) {
    lines.push(
      `Best: ${best.label}: ${fmt(best.main.txPerSec)} tx/s committed = ${(best.main.txPerSec / n.verifyOnlyPerSec).toFixed(2)} × the single-core verify-only rate.`,
      "",
      `Node threads during the best row (percent of one core): ${best.nodeThreads.map((t) => `${t.thread} ${fmt(t.cpuPercent)}%`).join(", ")}.`,
      "",
      `CPU ceilings implied by the best row: the main thread alone allows at most ${fmt(1e6 / best.mainThreadUsPerTx)} tx/s (1 s / ${fmt(best.mainThreadUsPerTx)} µs); node plus load generator on ${r.machine.cores} cores at most ${fmt((r.machine.cores * 1e6) / (best.nodeCpuUsPerTx + best.benchCpuUsPerTx))} tx/s (${r.machine.cores} × 1 s / ${fmt(best.nodeCpuUsPerTx + best.benchCpuUsPerTx)} µs).`,
    );
  }
  lines.push("", ...seriesLines(n.results));
  for (const x of n.results) {
    for (const p of x.profiles ?? []) {
      if (p.busyPercent < 1) continue;
      lines.push("", `**${x.label}**: ${profileMarkdown(p, p.thread === "main" ? 20 : 8)}`);
    }
  }
  return lines.join("\n");
}

/** The issue's target for a 4-validator ed25519 network, and other projects' published figures (not measured here). */
const NETWORK_TARGET_TX_PER_SEC = 2_500;
const REFERENCE_FIGURES =
  "Hyperledger Besu ~1,900 tx/s (4 QBFT validators, 4–32 cores) and FISCO BCOS 2.x ~2,900 tx/s: those projects' published figures, on their own hardware and setups, not measured here";
const PACED_P50_TARGET_MS = 1000;

function perNode(values: readonly number[], unit = ""): string {
  return values.map((v) => `${fmt(v)}${unit}`).join(" / ");
}

/** Cells shared by the closed-loop and paced tables: per-node CPU and RSS, blocks, CPU of others, verification. */
function usageCells(x: NetworkLoadResult): string[] {
  return [
    `${perNode(
      x.nodes.map((u) => u.cpuPercent),
      "%",
    )} (${fmt(x.nodeCpuPercent)}%)`,
    fmt(x.nodeCpuUsPerTx),
    perNode(x.nodes.map((u) => u.peakRssMiB)),
    `${fmt(x.blocks, 0)} × ${fmt(x.avgTxsPerBlock, 0)}`,
    `${fmt(x.benchCpuPercent)}% / ${fmt(x.otherCpuPercent)}%`,
    verifiedCell(x.verification.ok, x.main, x.otherCpuPercent),
  ];
}

/** The usage columns' headers; the CPU column says that all nodes share the machine's cores. */
function usageHeader(cores: number): string {
  return `node CPU, each node (all; the nodes share ${cores} cores = ${cores * 100}%) | node CPU µs per tx (all nodes) | node RSS MiB, peak sampled, each node | blocks × txs | load-gen / other CPU | chain verified |`;
}

function networkTable(n: NetworkRunSummary, cores: number, o: Options): string[] {
  const rows = n.results.map((x) =>
    [
      x.label,
      `**${fmt(x.blockTxPerSec)}**`,
      fmt(x.main.txPerSec),
      fmt(x.main.p50Ms),
      fmt(x.main.p99Ms),
      (x.blockTxPerSec / n.verifyOnlyPerSec).toFixed(2),
      ...usageCells(x),
    ].join(" | "),
  );
  return [
    `| ${loadColumn(o, "closed loop (`wait: true`)")} | committed tx/s (in blocks) | acknowledged tx/s | p50 ms | p99 ms | × verify-only rate | ${usageHeader(cores)}`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ...rows.map((row) => `| ${row} |`),
  ];
}

function pacedTable(p: PacedResult, cores: number, o: Options): string[] {
  const row = [
    `${p.batchSize} txs every ${fmt(p.intervalMs)} ms, ${p.accounts} accounts`,
    fmt(p.offeredPerSec, 0),
    `**${fmt(p.blockTxPerSec)}**`,
    `**${fmt(p.main.p50Ms)}**`,
    fmt(p.main.p99Ms),
    fmt(p.main.maxMs),
    p.main.p50Ms <= PACED_P50_TARGET_MS ? "met" : "**not met**",
    ...usageCells(p),
  ].join(" | ");
  return [
    `| ${loadColumn(o, "paced, open loop (`wait: true`)")} | offered tx/s | committed tx/s (in blocks) | p50 ms | p99 ms | max ms | p50 ≤ 1 s | ${usageHeader(cores)}`,
    "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|",
    `| ${row} |`,
  ];
}

function targetLine(r: Report, best: NetworkLoadResult | undefined): string {
  const n = r.network as NetworkRunSummary;
  const target = `Target (ed25519, 4 validators): ≥ ${fmt(NETWORK_TARGET_TX_PER_SEC, 0)} committed tx/s`;
  if (n.suite !== "ed25519" || n.nodes !== 4 || r.options.workload !== "notarize" || best === undefined)
    return `${target} (not this run's configuration${r.options.workload === "notarize" ? "" : `: the target is for notarize, this run is ${r.options.workload}`}).`;
  const verdict = best.blockTxPerSec >= NETWORK_TARGET_TX_PER_SEC ? "reached" : "**not reached**";
  return `${target}: ${verdict}, best ${fmt(best.blockTxPerSec)} tx/s (${best.label}), on ${r.machine.cores} cores shared by all ${n.nodes} nodes.`;
}

function networkMarkdown(r: Report): string {
  const n = r.network;
  if (n === undefined) return "";
  const all = [...n.results, ...(n.paced === undefined ? [] : [n.paced])];
  const best = n.results.reduce<NetworkLoadResult | undefined>(
    (b, x) => (b === undefined || x.blockTxPerSec > b.blockTxPerSec ? x : b),
    undefined,
  );
  const consensus = Object.entries(all[0]?.consensus ?? {})
    .map(([k, v]) => `${k} ${fmt(v, 0)}`)
    .join(", ");
  const lines = [
    ...runHeader(r),
    `Network: ${n.nodes} validators, each its own process, ${runtimeText(n)}, verifyWorkers ${n.verifyWorkers}. **All ${n.nodes} nodes and the load generator share this machine's ${r.machine.cores} cores**, and every node checks every signature and executes every block, so these are not the figures of ${n.nodes} machines.  `,
    `Consensus settings as \`tally init\` writes them: ${consensus}.  `,
    `Clients round-robin over the nodes' APIs, each keeping to one node; ${loadText(r.options)}; each row on a fresh network.`,
    "",
    ...networkTable(n, r.machine.cores, r.options),
    "",
    `Single-core verify-only rate (${n.suite} verify of tx sign bytes, this machine): ${fmt(n.verifyOnlyPerSec)}/s.  `,
    `${targetLine(r, best)}  `,
    `For comparison: ${REFERENCE_FIGURES}.`,
  ];
  if (n.paced !== undefined) lines.push("", ...pacedTable(n.paced, r.machine.cores, r.options));
  lines.push(
    "",
    `Blocks committed in a round above 0 (a timed-out first round), whole run: ${all.map((x) => `${x.label} ${x.verification.laterRounds}`).join("; ")}.`,
  );
  const logs = all.flatMap((x) =>
    x.nodes.filter((u) => u.logProblems > 0).map((u) => `- ${x.label}, ${u.name}: ${u.logProblems} (${u.logTop.join("; ")})`),
  );
  if (logs.length > 0) lines.push("", "Warnings and errors in the node logs:", "", ...logs);
  lines.push("", ...seriesLines(all));
  return lines.join("\n");
}

const DOCS = join(REPO, "docs", "benchmarks.md");

function replaceSection(text: string, id: string, body: string): string {
  const start = `<!-- bench:${id}:start -->`;
  const end = `<!-- bench:${id}:end -->`;
  const block = `${start}\n${body}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) return text.slice(0, i) + block + text.slice(j + end.length);
  return `${text.trimEnd()}\n\n${block}\n`;
}

function writeDocs(r: Report): void {
  let text = existsSync(DOCS) ? readFileSync(DOCS, "utf8") : "# Benchmarks\n\nWritten by `npm run bench -- --write-docs`.\n";
  const { suite, docsSection, nodeDocsSection, nodes, workload } = r.options;
  const title = docsSection === suite ? suite : docsSection;
  const wl = workload === "notarize" ? "" : `, ${workload} workload`;
  if (r.micro !== undefined)
    text = replaceSection(text, `${docsSection}:micro`, `### Microbenchmarks (${title} run)\n\n${microMarkdown(r)}`);
  if (r.node !== undefined) {
    const name = nodeDocsSection === defaultNodeSection(suite, workload, nodes) ? `${suite}${wl}` : nodeDocsSection;
    text = replaceSection(text, `${nodeDocsSection}:node`, `### Single node, ${name}\n\n${nodeMarkdown(r)}`);
  }
  if (r.network !== undefined) {
    const name = nodeDocsSection === defaultNodeSection(suite, workload, nodes) ? `${suite}${wl}` : nodeDocsSection;
    text = replaceSection(text, `${nodeDocsSection}:node`, `### ${nodes} validators, ${name}\n\n${networkMarkdown(r)}`);
  }
  writeFileSync(DOCS, text.endsWith("\n") ? text : `${text}\n`);
  progress(`wrote ${relative(REPO, DOCS)}`);
}

// ---- main ----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  // Contract calls/s (issue 6) is its own run with its own options (bench/contracts.ts).
  if (argv.some((a, i) => a === "--workload=contract" || (a === "--workload" && argv[i + 1] === "contract"))) {
    await contractBenchMain(argv);
    return;
  }
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}`;
  const machine = machineInfo();
  progress(`${command}: ${machineLine(machine)}`);
  const idle = new OtherLoad([process.pid]);
  await sleep(1000);
  const otherLoadBeforePercent = idle.percent(1);
  if (otherLoadBeforePercent > OTHER_LOAD_WARN_PERCENT) {
    progress(`warning: other processes use ${fmt(otherLoadBeforePercent)}% CPU right now; figures will be low and noisy`);
  }
  const resultsDir = join(REPO, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });

  let micro: MicroResult[] | undefined;
  let node: NodeRunSummary | undefined;
  let network: NetworkRunSummary | undefined;
  let otherLoadMicroPercent: number | undefined;
  if (options.only !== "node") {
    if (options.waitQuietSec > 0) await waitQuiet(options.waitQuietSec);
    const load = new OtherLoad([process.pid]);
    const t0 = performance.now();
    micro = await runMicro({
      suite: options.suite,
      seconds: options.quick ? 0.3 : 2,
      smtBatch: 2000,
      smtKeys: options.quick ? 10_000 : 100_000,
      blockTxs: 1000,
    });
    otherLoadMicroPercent = load.percent((performance.now() - t0) / 1000);
  }
  if (options.only !== "micro") {
    const nodeOptions = {
      suite: options.suite,
      workload: options.workload,
      durationSec: options.durationSec,
      warmupSec: options.warmupSec,
      configs: loadConfigs(options),
      profile: options.profile,
      verifyWorkers: options.verifyWorkers,
      source: options.source,
      keep: options.keep,
      resultsDir,
      verifySeconds: options.quick ? 0.3 : 2,
      waitQuietSec: options.waitQuietSec,
    };
    if (options.nodes === 1) node = await runNode(nodeOptions);
    else network = await runNetwork({ ...nodeOptions, nodes: options.nodes, pacedRate: options.pacedRate });
  }
  const report: Report = {
    command,
    machine,
    otherLoadBeforePercent,
    ...(otherLoadMicroPercent === undefined ? {} : { otherLoadMicroPercent }),
    options,
    ...(micro ? { micro } : {}),
    ...(node ? { node } : {}),
    ...(network ? { network } : {}),
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(join(resultsDir, "latest.json"), json);
  writeFileSync(join(resultsDir, `${options.suite}-${machine.date.replace(/[:.]/g, "-")}.json`), json);
  progress(`wrote bench/results/latest.json`);

  const out = [`## Results: ${options.suite}${options.workload === "notarize" ? "" : `, ${options.workload} workload`}`, ""];
  if (micro !== undefined) out.push("### Microbenchmarks", "", microMarkdown(report), "");
  if (node !== undefined) out.push("### Single node", "", nodeMarkdown(report), "");
  if (network !== undefined) out.push(`### ${network.nodes} validators`, "", networkMarkdown(report), "");
  console.log(`\n${out.join("\n")}`);
  if (options.writeDocs) writeDocs(report);
  const verified = [...(node?.results ?? []), ...(network?.results ?? []), ...(network?.paced ? [network.paced] : [])];
  const failed = verified.some((x) => !x.verification.ok);
  if (failed) {
    progress("chain verification failed for at least one configuration (see the table)");
    process.exitCode = 1;
  }
}

/** Kills the node first (it holds files in the temp dirs), then removes the temp dirs. */
function cleanUp(): void {
  killChildren();
  removeAllTempDirs();
}

process.on("exit", cleanUp);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    progress(`${signal}: stopping the node(s) and exiting`);
    cleanUp();
    process.exit(130);
  });
}

try {
  await main();
} catch (err) {
  console.error(err);
  cleanUp();
  process.exitCode = 1;
}
// Nothing should be left running; exit explicitly in case a library kept a handle open.
process.exit(process.exitCode ?? 0);
