/**
 * Helpers for end-to-end tests: they drive the built `tally` CLI and real node processes, and check
 * results from outside through the public API, as an operator or client would.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before } from "node:test";
import { getSuite } from "@tally/core";
import { AccountSigner, type ClientOptions, fromKeyFile, type Genesis, loadGenesis, type SubmitResult, TallyClient } from "@tally/sdk";

export const REPO = resolve(import.meta.dirname, "..");
export const TALLY_BIN = join(REPO, "packages", "cli", "bin", "tally.js");

export function tempDir(prefix: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), `tally-${prefix}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** A server listening on 127.0.0.1:port that closes every connection, or undefined when the port is taken. */
export function listenOn(port: number): Promise<Server | undefined> {
  return new Promise((resolveServer) => {
    const server = createServer((socket) => socket.destroy());
    server.once("error", () => resolveServer(undefined));
    server.listen(port, "127.0.0.1", () => resolveServer(server));
  });
}

/**
 * A base port B such that B .. B+count-1 are all free right now (for `tally init --api-port/--p2p-port`).
 * Drawn at random in 20000-32000, below Linux's ephemeral range (where freePort() and outgoing
 * connections land) and in steps of 100 so that tests running in parallel, each taking a block, do not
 * collide.
 */
export async function freePortBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 120) * 100;
    const servers: Server[] = [];
    let ok = true;
    for (let p = base; p < base + count && ok; p++) {
      const server = await listenOn(p);
      if (server) servers.push(server);
      else ok = false;
    }
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    if (ok) return base;
  }
  throw new Error(`no block of ${count} free ports found`);
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function tally(args: string[], options: { cwd?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [TALLY_BIN, ...args], { cwd: options.cwd ?? REPO, encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}: ${String(lastError)}`);
}

export interface NodeProcess {
  readonly proc: ChildProcess;
  readonly url: string;
  /** SIGKILL: no cleanup, no flush. */
  kill(): Promise<void>;
  /** SIGTERM and wait for a clean exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function startNode(nodeDir: string, url: string, logFile: string): Promise<NodeProcess> {
  const log = openSync(logFile, "a");
  const proc = spawn(process.execPath, [TALLY_BIN, "start", nodeDir], { stdio: ["ignore", log, log] });
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  await waitFor(`node at ${url}`, async () => {
    if (proc.exitCode !== null) throw new Error(`node exited with ${proc.exitCode}; see ${logFile}`);
    const res = await fetch(`${url}/health`);
    return res.ok ? true : undefined;
  });
  return {
    proc,
    url,
    async kill() {
      proc.kill("SIGKILL");
      await exited;
    },
    async stop() {
      proc.kill("SIGTERM");
      return exited;
    },
  };
}

/** Runs `tally ARGS --rpc RPC`, which must exit 0, and parses its JSON output. */
export function tallyJson(rpc: string, args: string[]): Record<string, unknown> {
  const r = tally([...args, "--rpc", rpc]);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** Runs `tally ARGS --rpc RPC`, which must exit 1 with `expected` (an error code or pattern) on stderr. */
export function tallyRefused(rpc: string, args: string[], expected: string | RegExp): CliResult {
  const r = tally([...args, "--rpc", rpc]);
  assert.equal(r.code, 1, `${args.join(" ")} should fail: ${r.stdout}`);
  assert.match(r.stderr, typeof expected === "string" ? new RegExp(expected) : expected);
  return r;
}

type Committed = Extract<SubmitResult, { status: "committed" }>;

/** The committed result of an SDK call, which must have succeeded. */
export function committedOk(outcome: SubmitResult): Committed {
  assert.equal(outcome.status, "committed");
  if (outcome.status !== "committed") throw new Error("not committed");
  assert.equal(outcome.result.status, "ok", `${outcome.result.code}: ${outcome.result.message}`);
  return outcome;
}

/** The committed result of an SDK call refused at execution with `code` (a failed result in its receipt). */
export function committedFailed(outcome: SubmitResult, code: string): Committed {
  assert.equal(outcome.status, "committed");
  if (outcome.status !== "committed") throw new Error("not committed");
  assert.equal(outcome.result.status, "failed", "refused at execution");
  assert.equal(outcome.result.code, code, `${outcome.result.code}: ${outcome.result.message}`);
  return outcome;
}

/** A key made with `tally keys new`, in the network's folder. */
export interface CliKey {
  readonly keyPath: string;
  readonly address: string;
  readonly publicKey: string;
}

export interface CliNetworkOptions {
  readonly suite?: "ed25519" | "sm2";
  /** More `tally init` arguments. */
  readonly initArgs?: readonly string[];
  /** Runs after `tally init` and before the node starts (e.g. to add organisations to the genesis). */
  readonly beforeStart?: (net: string) => void;
  /** Whether `after` asserts the node exits 0 on SIGTERM (default true). */
  readonly requireCleanExit?: boolean;
}

/** The network seen through the SDK: a client, the trusted genesis, the admin, and account registration. */
export interface SdkAccess {
  readonly client: TallyClient;
  readonly genesis: Genesis;
  readonly admin: AccountSigner;
  /** A new key of the suite, registered by the admin in `org` with `roles`. */
  register(roles: string[], org?: string): Promise<AccountSigner>;
}

/**
 * A one-node network made by `tally init` in a temporary folder, its node started as its own process
 * in the suite's `before` and stopped (it must exit 0) in its `after`. Call inside `describe`.
 */
export class CliNetwork {
  readonly dir: { path: string; cleanup: () => void };
  readonly net: string;
  readonly admin: string;
  readonly genesis: string;
  /** The node's API, known once `before` has run. */
  rpc = "";
  private readonly suite: "ed25519" | "sm2";

  constructor(label: string, options: CliNetworkOptions = {}) {
    this.suite = options.suite ?? "ed25519";
    this.dir = tempDir(label);
    this.net = join(this.dir.path, "net");
    this.admin = join(this.net, "accounts", "admin.json");
    this.genesis = join(this.net, "genesis.json");
    let node: NodeProcess;
    before(async () => {
      const port = await freePort();
      this.rpc = `http://127.0.0.1:${port}`;
      const init = tally(["init", this.net, "--crypto", this.suite, "--api-port", String(port), ...(options.initArgs ?? [])]);
      assert.equal(init.code, 0, init.stderr);
      options.beforeStart?.(this.net);
      node = await startNode(join(this.net, "node0"), this.rpc, join(this.dir.path, "node0.log"));
    });
    after(async () => {
      const code = await node.stop();
      if (options.requireCleanExit !== false) assert.equal(code, 0, "node exits cleanly on SIGTERM");
      this.dir.cleanup();
    });
  }

  /** Connects the SDK to the started node (call from a `before` registered after this network). */
  async sdk(options: ClientOptions = {}): Promise<SdkAccess> {
    const client = new TallyClient(this.rpc, options);
    const genesis = loadGenesis(JSON.parse(readFileSync(this.genesis, "utf8")));
    const admin = await AccountSigner.connect(client, fromKeyFile(JSON.parse(readFileSync(this.admin, "utf8"))));
    const suite = getSuite(this.suite);
    return {
      client,
      genesis,
      admin,
      async register(roles, org = "consortium") {
        const key = suite.generateKeyPair();
        committedOk(await admin.registerAccount(key.publicKey, org, roles));
        return AccountSigner.connect(client, key);
      },
    };
  }

  /** Runs `tally ARGS` against the node, which must exit 0; its JSON output. */
  json(args: string[]): Record<string, unknown> {
    return tallyJson(this.rpc, args);
  }

  /** Runs `tally ARGS` against the node, which must exit 1 with `expected` on stderr. */
  refused(args: string[], expected: string | RegExp): CliResult {
    return tallyRefused(this.rpc, args, expected);
  }

  /** A new key of the network's suite, saved as `<name>.json`. */
  newKey(name: string): CliKey {
    const keyPath = join(this.dir.path, `${name}.json`);
    const created = tally(["keys", "new", "--out", keyPath, "--crypto", this.suite]);
    assert.equal(created.code, 0, created.stderr);
    const { address, publicKey } = JSON.parse(created.stdout) as { address: string; publicKey: string };
    return { keyPath, address, publicKey };
  }

  /** A new key the admin registers as an account of `org` with `roles` (comma-separated). */
  newAccount(name: string, roles: string, org = "consortium"): CliKey {
    const key = this.newKey(name);
    this.json(["accounts", "register", "--key", this.admin, "--public-key", key.publicKey, "--org", org, "--roles", roles]);
    return key;
  }
}
