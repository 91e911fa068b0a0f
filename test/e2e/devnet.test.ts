/**
 * Multi-node networks from the outside: `tally init --validators N --observers M` writes what each node
 * needs to find the others, and `tally devnet` runs every node as its own process, reports them, and
 * stops them all on SIGTERM. (Whether blocks are produced is consensus's business, not checked here.)
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { freePortBlock, listenOn, TALLY_BIN, tally, tempDir, waitFor } from "../helpers.js";

interface NetworkNode {
  name: string;
  dir: string;
  role: "validator" | "observer";
  publicKey: string;
  apiUrl: string;
  p2p: string | null;
}
interface NetworkFile {
  version: number;
  chainId: string;
  crypto: string;
  genesis: string;
  adminKey: string;
  nodes: NetworkNode[];
}
interface Config {
  name: string;
  api: { host: string; port: number };
  p2p?: { listen: { host: string; port: number }; peers: Array<{ publicKey: string; host: string; port: number }>; observers: string[] };
  consensus?: Record<string, number>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, "utf8")) as T;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Pids of running nodes, from their data/LOCK files. */
function lockedPids(net: string): number[] {
  return readdirSync(net)
    .filter((name) => /^node[0-9]+$/.test(name))
    .map((name) => join(net, name, "data", "LOCK"))
    .filter((path) => existsSync(path))
    .map((path) => Number.parseInt(readFileSync(path, "utf8"), 10))
    .filter((pid) => alive(pid));
}

interface Devnet {
  readonly proc: ChildProcess;
  readonly out: () => string;
  readonly err: () => string;
  readonly exited: Promise<number | null>;
}

function runDevnet(args: string[]): Devnet {
  const proc = spawn(process.execPath, [TALLY_BIN, "devnet", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  return { proc, out: () => out, err: () => err, exited };
}

async function withTimeout<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe("tally init --validators N --observers M", () => {
  const dir = tempDir("init-multi");
  after(() => dir.cleanup());

  test("writes a genesis of the validators, one directory per node, peers, ports and network.json", () => {
    const net = join(dir.path, "net");
    const r = tally([
      "init",
      net,
      "--validators",
      "4",
      "--observers",
      "1",
      "--crypto",
      "sm2",
      "--api-port",
      "21000",
      "--p2p-port",
      "21100",
    ]);
    assert.equal(r.code, 0, r.stderr);

    const genesis = readJson<{ crypto: string; validators: Array<{ name: string; publicKey: string; power: number }> }>(
      join(net, "genesis.json"),
    );
    assert.equal(genesis.crypto, "sm2");
    assert.deepEqual(
      genesis.validators.map((v) => [v.name, v.power]),
      [
        ["node0", 1],
        ["node1", 1],
        ["node2", 1],
        ["node3", 1],
      ],
    );

    const network = readJson<NetworkFile>(join(net, "network.json"));
    assert.equal(network.version, 1);
    assert.equal(network.crypto, "sm2");
    assert.ok(existsSync(join(net, network.genesis)));
    assert.ok(existsSync(join(net, network.adminKey)));
    assert.deepEqual(
      network.nodes.map((n) => [n.name, n.dir, n.role, n.apiUrl, n.p2p]),
      [0, 1, 2, 3, 4].map((k) => [
        `node${k}`,
        `node${k}`,
        k < 4 ? "validator" : "observer",
        `http://127.0.0.1:${21000 + k}`,
        `127.0.0.1:${21100 + k}`,
      ]),
    );
    const observerKey = network.nodes[4]?.publicKey as string;
    assert.ok(!genesis.validators.some((v) => v.publicKey === observerKey), "the observer is not a genesis validator");

    network.nodes.forEach((node, k) => {
      const nodeDir = join(net, node.dir);
      const key = readJson<{ publicKey: string }>(join(nodeDir, "node-key.json"));
      assert.equal(key.publicKey, node.publicKey, `${node.name}: network.json has its key`);
      if (k < 4) assert.equal(genesis.validators[k]?.publicKey, node.publicKey, `${node.name} is validator ${k}`);
      assert.deepEqual(readJson(join(nodeDir, "genesis.json")), genesis);

      const config = readJson<Config>(join(nodeDir, "config.json"));
      assert.equal(config.name, node.name);
      assert.deepEqual(config.api, { host: "127.0.0.1", port: 21000 + k });
      assert.ok(config.p2p, `${node.name} has a p2p section`);
      assert.deepEqual(config.p2p.listen, { host: "127.0.0.1", port: 21100 + k });
      assert.deepEqual(
        config.p2p.peers,
        network.nodes
          .filter((other) => other !== node)
          .map((other) => ({ publicKey: other.publicKey, host: "127.0.0.1", port: 21100 + Number(other.name.slice(4)) })),
        `${node.name} dials every other node, validators and observers`,
      );
      assert.deepEqual(config.p2p.observers, [observerKey]);
      assert.deepEqual(Object.keys(config.consensus ?? {}).sort(), [
        "emptyBlockIntervalMs",
        "timeoutDeltaMs",
        "timeoutPrecommitMs",
        "timeoutPrevoteMs",
        "timeoutProposeMs",
      ]);
    });

    const printed = JSON.parse(r.stdout) as { nodeDirs: string[]; apiUrls: string[]; networkPath: string };
    assert.equal(printed.nodeDirs.length, 5);
    assert.equal(printed.networkPath, join(net, "network.json"));
  });

  test("a single validator gets no p2p section (as before), and network.json says p2p null", () => {
    const net = join(dir.path, "single");
    const r = tally(["init", net, "--api-port", "21200"]);
    assert.equal(r.code, 0, r.stderr);
    const config = readJson<Config>(join(net, "node0", "config.json"));
    assert.equal(config.p2p, undefined);
    assert.equal(config.consensus, undefined);
    assert.equal(config.api.port, 21200);
    const network = readJson<NetworkFile>(join(net, "network.json"));
    assert.deepEqual(
      network.nodes.map((n) => [n.name, n.role, n.apiUrl, n.p2p]),
      [["node0", "validator", "http://127.0.0.1:21200", null]],
    );
    assert.equal(readJson<{ validators: unknown[] }>(join(net, "genesis.json")).validators.length, 1);
  });

  test("defaults: API ports from 7070, p2p ports from 26650", () => {
    const net = join(dir.path, "defaults");
    assert.equal(tally(["init", net, "--validators", "2"]).code, 0);
    const network = readJson<NetworkFile>(join(net, "network.json"));
    assert.deepEqual(
      network.nodes.map((n) => [n.apiUrl, n.p2p]),
      [
        ["http://127.0.0.1:7070", "127.0.0.1:26650"],
        ["http://127.0.0.1:7071", "127.0.0.1:26651"],
      ],
    );
  });

  test("refuses bad counts, port ranges that do not fit or overlap, and an existing network", () => {
    const net = join(dir.path, "bad");
    const refused: Array<[string[], RegExp]> = [
      [["--validators", "0"], /--validators must be an integer from 1 to 64/],
      [["--validators", "65"], /--validators must be an integer from 1 to 64/],
      [["--validators", "two"], /--validators must be an integer/],
      [["--observers", "33"], /--observers must be an integer from 0 to 32/],
      [["--observers", "-1"], /--observers must be an integer from 0 to 32/],
      [["--validators", "4", "--api-port", "65533"], /--api-port 65533 leaves no room for 4 nodes.*65536/],
      [["--validators", "3", "--observers", "2", "--p2p-port", "65532"], /--p2p-port 65532 leaves no room for 5 nodes/],
      [["--validators", "4", "--api-port", "30000", "--p2p-port", "30002"], /overlap/],
      [["--api-port", "0"], /--api-port must be an integer from 1 to 65535/],
    ];
    for (const [args, message] of refused) {
      const r = tally(["init", net, ...args]);
      assert.notEqual(r.code, 0, `init ${args.join(" ")} was accepted`);
      assert.match(r.stderr, message, `init ${args.join(" ")}`);
      assert.ok(!existsSync(join(net, "genesis.json")), `init ${args.join(" ")} wrote a genesis`);
    }

    assert.equal(tally(["init", net, "--validators", "4"]).code, 0);
    const again = tally(["init", net, "--validators", "2"]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds a network.*--force/);

    const forced = tally(["init", net, "--validators", "2", "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(
      readdirSync(net)
        .filter((n) => n.startsWith("node"))
        .sort(),
      ["node0", "node1"],
      "the old node2, node3 are gone",
    );
    assert.equal(readJson<NetworkFile>(join(net, "network.json")).nodes.length, 2);
  });
});

describe("tally devnet", () => {
  const dir = tempDir("devnet");
  const net = join(dir.path, "net");
  const started: Devnet[] = [];
  const spawnDevnet = (args: string[]): Devnet => {
    const d = runDevnet(args);
    started.push(d);
    return d;
  };

  after(async () => {
    // Whatever a failed test left running: the devnet (its nodes stop when it dies) and any node.
    for (const d of started) if (d.proc.exitCode === null && d.proc.signalCode === null) d.proc.kill("SIGKILL");
    if (existsSync(net)) for (const pid of lockedPids(net)) process.kill(pid, "SIGKILL");
    dir.cleanup();
  });

  let apiPort = 0;
  let p2pPort = 0;

  test("runs 4 validators as 4 processes, prints their URLs, and stops them all on SIGTERM", { timeout: 90_000 }, async () => {
    const base = await freePortBlock(8);
    apiPort = base;
    p2pPort = base + 4;
    const devnet = spawnDevnet(["--nodes", "4", "--dir", net, "--api-port", String(apiPort), "--p2p-port", String(p2pPort)]);
    await waitFor("the devnet banner", async () => {
      if (devnet.proc.exitCode !== null) throw new Error(`devnet exited ${devnet.proc.exitCode}: ${devnet.err()}`);
      return devnet.out().includes("Stop with Ctrl-C.") ? true : undefined;
    });

    const network = readJson<NetworkFile>(join(net, "network.json"));
    assert.equal(network.chainId, "tally-devnet");
    assert.equal(network.nodes.length, 4);
    const pids: number[] = [];
    for (const [k, node] of network.nodes.entries()) {
      const url = `http://127.0.0.1:${apiPort + k}`;
      assert.equal(node.apiUrl, url);
      assert.equal(node.p2p, `127.0.0.1:${p2pPort + k}`);
      const line = devnet
        .out()
        .split("\n")
        .find((l) => l.includes(url));
      assert.ok(line, `the devnet prints ${url}`);
      assert.match(line, new RegExp(`node${k}\\s+validator`));
      const pid = Number(/pid ([0-9]+)/.exec(line)?.[1]);
      assert.ok(alive(pid), `node${k} (pid ${pid}) runs`);
      pids.push(pid);

      const res = await fetch(`${url}/v1/status`);
      assert.equal(res.status, 200);
      const status = (await res.json()) as { node: string; chainId: string; validators: number };
      assert.equal(status.node, `node${k}`);
      assert.equal(status.validators, 4);
      assert.ok(existsSync(join(net, `node${k}`, "node.log")));
    }
    assert.equal(new Set(pids).size, 4, "one process per node");
    assert.ok(!pids.includes(devnet.proc.pid as number));
    assert.deepEqual(lockedPids(net).sort(), [...pids].sort(), "each node holds its own data directory");
    assert.match(devnet.out(), /admin\.json/);
    assert.match(devnet.out(), /try: +npx tally /);

    devnet.proc.kill("SIGTERM");
    const code = await withTimeout("devnet exit after SIGTERM", devnet.exited, 30_000);
    assert.equal(code, 0, devnet.err());
    for (const pid of pids) assert.ok(!alive(pid), `node process ${pid} is gone`);
    assert.deepEqual(lockedPids(net), []);
    assert.equal(devnet.err(), "");
  });

  test("reuses the network; a node that dies is reported and the others keep running", { timeout: 90_000 }, async () => {
    assert.ok(apiPort > 0, "runs after the first test");
    const devnet = spawnDevnet(["--dir", net]); // --nodes defaults to 4, ports come from the network
    await waitFor("the devnet banner", async () => {
      if (devnet.proc.exitCode !== null) throw new Error(`devnet exited ${devnet.proc.exitCode}: ${devnet.err()}`);
      return devnet.out().includes("Stop with Ctrl-C.") ? true : undefined;
    });
    assert.doesNotMatch(devnet.out(), /initialised/);
    const pids = lockedPids(net);
    assert.equal(pids.length, 4);

    const node2 = Number(readFileSync(join(net, "node2", "data", "LOCK"), "utf8"));
    process.kill(node2, "SIGKILL");
    await waitFor("the report of node2's exit", async () => (/node2 .*exited unexpectedly.*SIGKILL/.test(devnet.err()) ? true : undefined));
    assert.match(devnet.err(), /tally start .*node2/);
    assert.equal(devnet.proc.exitCode, null, "the devnet keeps running");
    for (const k of [0, 1, 3]) assert.equal((await fetch(`http://127.0.0.1:${apiPort + k}/v1/status`)).status, 200);

    // Even a devnet killed outright leaves no node behind: each notices its parent is gone and stops.
    devnet.proc.kill("SIGKILL");
    await devnet.exited;
    await waitFor("the nodes to stop", async () => (pids.every((pid) => !alive(pid)) ? true : undefined), 20_000);
  });

  test("refuses a network of another size, and an old single-validator one, without touching it", () => {
    const other = tally(["devnet", "--dir", net, "--nodes", "2"]);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /already holds a network/);
    assert.match(other.stderr, /4 validators and 0 observers, but 2 validators/);
    assert.match(other.stderr, /rm -rf /);
    assert.equal(readJson<NetworkFile>(join(net, "network.json")).nodes.length, 4);

    const wrongPort = tally(["devnet", "--dir", net, "--api-port", String(apiPort + 1)]);
    assert.equal(wrongPort.code, 1);
    assert.match(wrongPort.stderr, /API port is/);

    const legacy = join(dir.path, "legacy");
    assert.equal(tally(["init", legacy, "--api-port", String(apiPort)]).code, 0);
    rmSync(join(legacy, "network.json")); // as written before network.json existed
    const before = readdirSync(legacy).sort();
    const r = tally(["devnet", "--dir", legacy]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /1 validator and 0 observers, but 4 validators/);
    assert.match(r.stderr, /earlier version/);
    assert.match(r.stderr, new RegExp(`rm -rf ${legacy}`));
    assert.match(r.stderr, /--nodes 1/);
    assert.deepEqual(readdirSync(legacy).sort(), before);
  });

  test("fails naming the node and its log when a node cannot start, and leaves nothing running", { timeout: 90_000 }, async () => {
    const base = await freePortBlock(8);
    const blocker = await listenOn(base + 2); // node2's API port is taken
    assert.ok(blocker);
    try {
      const failing = join(dir.path, "failing");
      const devnet = spawnDevnet(["--dir", failing, "--nodes", "4", "--api-port", String(base), "--p2p-port", String(base + 4)]);
      const code = await withTimeout("devnet exit", devnet.exited, 40_000);
      assert.equal(code, 1);
      assert.match(devnet.err(), /node2 exited during start-up \(exit code 1\); see .*node2[/\\]node\.log/);
      assert.match(devnet.err(), /EADDRINUSE/);
      assert.deepEqual(lockedPids(failing), [], "the other nodes were stopped");
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});
