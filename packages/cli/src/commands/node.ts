/**
 * `tally start`: run one node in this process until SIGINT/SIGTERM, then close it cleanly.
 * `tally devnet`: initialise (if needed) a local network and run each of its nodes as its own
 * `tally start` process, until SIGINT/SIGTERM.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, fstatSync, openSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadGenesis, type SuiteId, TallyError } from "@tally/core";
import { loadNodeDir, TallyNode } from "@tally/node";
import { CommandFailure, DEFAULT_API_PORT, DEFAULT_P2P_PORT, DEFAULT_RPC, readJsonFile } from "../io.js";
import { initNetwork, type NetworkFile, type NetworkNode, readNetwork } from "./init.js";

function describeError(err: unknown): string {
  if (err instanceof TallyError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

export async function startNode(dir: string): Promise<TallyNode> {
  try {
    const nodeDir = loadNodeDir(dir);
    return await TallyNode.init({ dataDir: nodeDir.dataDir, config: nodeDir.config, genesis: nodeDir.genesis, key: nodeDir.key });
  } catch (err) {
    throw new CommandFailure(`cannot start the node in ${dir}: ${describeError(err)}`);
  }
}

/**
 * Resolves on the first request to stop: SIGINT, SIGTERM, or, for a process started with an IPC channel
 * (as `tally devnet` starts its nodes), that channel closing because the parent died. Install it before
 * starting a node, so that a signal during start-up still closes the node cleanly. The handlers stay
 * installed, so further signals while closing are ignored rather than killing the process mid-close.
 */
export function stopRequested(): Promise<string> {
  return new Promise((resolvePromise) => {
    let requested = false;
    const request = (reason: string): void => {
      if (requested) return;
      requested = true;
      resolvePromise(reason);
    };
    process.on("SIGINT", () => request("SIGINT"));
    process.on("SIGTERM", () => request("SIGTERM"));
    if (process.connected) {
      process.channel?.unref(); // the channel alone must not keep the process alive
      process.once("disconnect", () => request("the parent process is gone"));
    }
  });
}

/** Closes the nodes once `stop` resolves (default: a new stopRequested()); then lets an IPC channel go. */
export async function closeOnSignal(nodes: TallyNode[], stop: Promise<string> = stopRequested()): Promise<void> {
  const reason = await stop;
  if (reason !== "SIGINT" && reason !== "SIGTERM") process.stderr.write(`${reason}; stopping\n`);
  await Promise.all(nodes.map((n) => n.close()));
  if (process.connected) process.disconnect?.();
}

/** packages/cli/bin/tally.js, found from this module both in src/commands and in dist/src/commands. */
export function cliBinPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++) {
    const candidate = join(dir, "bin", "tally.js");
    if (existsSync(candidate) && existsSync(join(dir, "package.json"))) return candidate;
    dir = dirname(dir);
  }
  throw new CommandFailure(`cannot find bin/tally.js above ${fileURLToPath(import.meta.url)}`);
}

export interface DevnetOptions {
  readonly dir: string;
  /** Validators. */
  readonly nodes: number;
  readonly observers?: number;
  /** Undefined: not given (ed25519 for a new network; an existing network keeps its own). */
  readonly crypto?: SuiteId;
  readonly apiPort?: number;
  readonly p2pPort?: number;
  /** How long each node has to answer GET /v1/status. Default 30 s. */
  readonly readyTimeoutMs?: number;
  /** How long nodes have to exit after SIGTERM before they get SIGKILL. Default 10 s. */
  readonly stopTimeoutMs?: number;
}

export const DEVNET_CHAIN_ID = "tally-devnet";

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function portOf(address: string | null): number | undefined {
  if (address === null) return undefined;
  const m = /:([0-9]+)\/?$/.exec(address);
  return m ? Number(m[1]) : undefined;
}

/** Initialises `dir` if it holds no network; otherwise checks the existing one matches what was asked for. */
function prepareNetwork(options: DevnetOptions): NetworkFile {
  const { dir } = options;
  const observers = options.observers ?? 0;
  if (!existsSync(join(dir, "genesis.json"))) {
    initNetwork(dir, {
      validators: options.nodes,
      observers,
      crypto: options.crypto ?? "ed25519",
      chainId: DEVNET_CHAIN_ID,
      apiPort: options.apiPort ?? DEFAULT_API_PORT,
      p2pPort: options.p2pPort ?? DEFAULT_P2P_PORT,
    });
    process.stdout.write(`initialised a new network in ${dir}\n`);
    return readNetwork(dir);
  }
  const legacy = !existsSync(join(dir, "network.json"));
  const network = readNetwork(dir);
  const has = {
    validators: network.nodes.filter((n) => n.role === "validator").length,
    observers: network.nodes.filter((n) => n.role === "observer").length,
  };
  const differences: string[] = [];
  const countDiffers = has.validators !== options.nodes || has.observers !== observers;
  if (countDiffers) {
    differences.push(
      `it has ${plural(has.validators, "validator")} and ${plural(has.observers, "observer")}, but ${plural(options.nodes, "validator")} and ${plural(observers, "observer")} were asked for (--nodes ${options.nodes} --observers ${observers})`,
    );
  }
  if (options.crypto !== undefined && options.crypto !== network.crypto) {
    differences.push(`it uses --crypto ${network.crypto}, not ${options.crypto}`);
  }
  const first = network.nodes[0];
  const apiPort = portOf(first?.apiUrl ?? null);
  if (options.apiPort !== undefined && apiPort !== options.apiPort)
    differences.push(`its node0 API port is ${apiPort}, not ${options.apiPort}`);
  const p2pPort = portOf(first?.p2p ?? null);
  if (options.p2pPort !== undefined && p2pPort !== undefined && p2pPort !== options.p2pPort) {
    differences.push(`its node0 p2p port is ${p2pPort}, not ${options.p2pPort}`);
  }
  if (differences.length > 0) {
    const lines = [
      `${dir} already holds a network that differs from what was asked for:`,
      ...differences.map((d) => `  - ${d}`),
      ...(legacy && countDiffers ? [`  (it was written by an earlier version of tally, whose devnet ran a single validator)`] : []),
      "Nothing was changed. To go on, either",
      `  - delete it (and its chain data) to start a fresh network: rm -rf ${dir}`,
      "  - or give another directory: tally devnet --dir OTHER …",
      `  - or run it as it is: tally devnet --dir ${dir} --nodes ${has.validators}${has.observers > 0 ? ` --observers ${has.observers}` : ""}` +
        (dir === ".tally"
          ? ` (with npm: npm start -- --nodes ${has.validators}${has.observers > 0 ? ` --observers ${has.observers}` : ""})`
          : ""),
    ];
    throw new CommandFailure(lines.join("\n"));
  }
  return network;
}

interface Child {
  readonly node: NetworkNode;
  readonly nodeDir: string;
  readonly logPath: string;
  /** Size of the log when this process was started: what it wrote comes after. */
  readonly logStart: number;
  readonly proc: ChildProcess;
  /** Set when the process has exited. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  readonly exited: Promise<void>;
  /** Aborted when the process exits (cuts a pending status request short). */
  readonly exitSignal: AbortSignal;
}

function spawnChild(bin: string, dir: string, node: NetworkNode): Child {
  const nodeDir = join(dir, node.dir);
  const logPath = join(nodeDir, "node.log");
  const log = openSync(logPath, "a");
  const logStart = fstatSync(log).size;
  let proc: ChildProcess;
  try {
    // An IPC channel, unused for messages: when this process dies, the node sees it close and stops.
    proc = spawn(process.execPath, [bin, "start", resolve(nodeDir)], { stdio: ["ignore", log, log, "ipc"], env: process.env });
  } finally {
    closeSync(log);
  }
  let markExited: () => void = () => {};
  const exitController = new AbortController();
  const child: Child = {
    node,
    nodeDir,
    logPath,
    logStart,
    proc,
    exited: new Promise<void>((r) => (markExited = r)),
    exitSignal: exitController.signal,
  };
  const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
    if (child.exit !== undefined) return;
    child.exit = { code, signal };
    exitController.abort();
    markExited();
  };
  proc.once("exit", onExit);
  proc.once("error", (err) => {
    process.stderr.write(`${node.name}: ${err.message}\n`);
    if (proc.pid === undefined) onExit(null, null); // never started
  });
  return child;
}

function describeExit(exit: { code: number | null; signal: NodeJS.Signals | null }): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

/** Whether a log line says what went wrong: a plain line (the CLI's own message) or a pino error. */
function isProblem(line: string): boolean {
  if (line.startsWith("(node:") || line.startsWith("(Use `node")) return false; // Node's deprecation warnings
  if (!line.startsWith("{")) return true;
  try {
    return ((JSON.parse(line) as { level?: unknown }).level as number) >= 50;
  } catch {
    return true;
  }
}

/** The last few lines of a log that say why a node failed (or else its last lines). */
function logTail(path: string, from: number, count = 3): string {
  let lines: string[];
  try {
    const bytes = readFileSync(path);
    lines = bytes
      .subarray(Math.max(from, bytes.length - 16_384))
      .toString("utf8")
      .split("\n")
      .filter((l) => l.trim().length > 0);
  } catch {
    return "";
  }
  const problems = lines.filter(isProblem);
  return (problems.length > 0 ? problems : lines)
    .slice(-count)
    .map((l) => `    | ${l.length > 400 ? `${l.slice(0, 400)}…` : l}`)
    .join("\n");
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

class Stopped extends Error {}

/** Polls the node's GET /v1/status until it answers for this chain and node, the node exits, or time runs out. */
async function waitReady(child: Child, genesisHash: string, timeoutMs: number, stopping: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const url = `${child.node.apiUrl}/v1/status`;
  for (;;) {
    if (stopping()) throw new Stopped();
    if (child.exit !== undefined) {
      const tail = logTail(child.logPath, child.logStart);
      throw new CommandFailure(
        `${child.node.name} exited during start-up (${describeExit(child.exit)}); see ${child.logPath}${tail ? `:\n${tail}` : ""}`,
      );
    }
    if (Date.now() > deadline) {
      throw new CommandFailure(`${child.node.name} did not answer ${url} within ${timeoutMs / 1000} s; see ${child.logPath}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.any([AbortSignal.timeout(2_000), child.exitSignal]) });
      if (res.ok) {
        const status = (await res.json()) as { genesisHash?: unknown; node?: unknown };
        // Another process on this port (another network) does not count as our node being up.
        if (status.genesisHash === genesisHash && status.node === child.node.name) return;
      } else {
        await res.body?.cancel();
      }
    } catch {
      // not listening yet
    }
    await sleep(150);
  }
}

export async function runDevnet(options: DevnetOptions): Promise<void> {
  const { dir } = options;
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const network = prepareNetwork(options);
  const genesisPath = join(dir, network.genesis);
  let genesisHash: string;
  let suite: string;
  try {
    const genesis = loadGenesis(readJsonFile(genesisPath));
    genesisHash = genesis.hashHex;
    suite = genesis.suite.id;
  } catch (err) {
    throw new CommandFailure(`${genesisPath}: ${describeError(err)}`);
  }
  const bin = cliBinPath();
  const children = network.nodes.map((node) => spawnChild(bin, dir, node));

  // Stopping: SIGTERM to every node still running, SIGKILL to those still running after stopTimeoutMs.
  let stopping = false;
  let stopped: Promise<void> | undefined;
  const running = () => children.filter((c) => c.exit === undefined);
  const stopAll = (): Promise<void> => {
    if (stopped) return stopped;
    stopping = true;
    stopped = (async () => {
      const live = running();
      for (const c of live) c.proc.kill("SIGTERM");
      const timer = setTimeout(() => {
        for (const c of running()) {
          process.stderr.write(`${c.node.name} did not stop within ${stopTimeoutMs / 1000} s of SIGTERM; sending SIGKILL\n`);
          c.proc.kill("SIGKILL");
        }
      }, stopTimeoutMs);
      await Promise.all(live.map((c) => c.exited));
      clearTimeout(timer);
    })();
    return stopped;
  };
  let signalled = false;
  let onSignalled: () => void = () => {};
  const signalledPromise = new Promise<void>((r) => (onSignalled = r));
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      // A second signal: do not wait any longer.
      for (const c of running()) c.proc.kill("SIGKILL");
      return;
    }
    signalled = true;
    process.stdout.write(`\n${signal}: stopping ${plural(running().length, "node")}…\n`);
    void stopAll();
    onSignalled();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    // Start-up: every node must answer, or the devnet stops them all and fails.
    try {
      await Promise.all(children.map((c) => waitReady(c, genesisHash, readyTimeoutMs, () => stopping)));
    } catch (err) {
      if (!(err instanceof Stopped)) throw err;
      await stopAll();
      return;
    }

    // After start-up: a node that exits is reported; the others keep running.
    const allGone = new Promise<void>((resolveAllGone) => {
      for (const c of children) {
        void c.exited.then(() => {
          if (stopping) return;
          process.stderr.write(
            `${c.node.name} (${c.node.role}) exited unexpectedly with ${describeExit(c.exit ?? { code: null, signal: null })}; the other nodes keep running.\n` +
              `  log: ${c.logPath}\n  restart it in another terminal: npx tally start ${c.nodeDir}\n`,
          );
          if (running().length === 0) resolveAllGone();
        });
      }
    });

    printBanner(dir, network, suite, children);
    await Promise.race([signalledPromise, allGone]);
    if (!signalled) {
      throw new CommandFailure("every node has exited; stopping the devnet");
    }
    await stopAll();
    process.stdout.write("devnet stopped\n");
  } catch (err) {
    await stopAll();
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function printBanner(dir: string, network: NetworkFile, suite: string, children: Child[]): void {
  const validators = network.nodes.filter((n) => n.role === "validator").length;
  const observers = network.nodes.length - validators;
  const first = network.nodes[0];
  const api = first?.apiUrl ?? DEFAULT_RPC;
  const adminKey = join(dir, network.adminKey);
  const rpc = api === DEFAULT_RPC ? "" : ` --rpc ${api}`;
  const width = Math.max(...network.nodes.map((n) => n.name.length));
  const members = `${plural(validators, "validator")}${observers > 0 ? ` and ${plural(observers, "observer")}` : ""}`;
  process.stdout.write(
    [
      "",
      `Tally devnet is running (chain ${network.chainId}, ${suite}): ${members} in ${dir}, one process per node.`,
      ...children.map(
        (c) => `  ${c.node.name.padEnd(width)}  ${c.node.role.padEnd(9)}  API ${c.node.apiUrl}  pid ${c.proc.pid}  log ${c.logPath}`,
      ),
      `  explorer:    ${api}/   (open in a browser: blocks, transactions, verify a file)`,
      `  status:      ${api}/v1/status`,
      `  OpenAPI:     ${api}/openapi.json`,
      `  metrics:     ${api}/metrics`,
      `  admin key:   ${adminKey}`,
      ...(existsSync(join(dir, "network.json")) ? [`  nodes:       ${join(dir, "network.json")}`] : []),
      `  try:         npx tally evidence notarize README.md --key ${adminKey}${rpc}`,
      `  one node:    npx tally start ${join(dir, "node<k>")}   (restarts a node that stopped)`,
      "Stop with Ctrl-C.",
      "",
    ].join("\n"),
  );
}
