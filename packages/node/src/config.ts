/**
 * A node directory (spec/node-dir.md): config.json, genesis.json, node-key.json and data/.
 * Everything a node reads at start-up is validated here; nothing else reads files or the environment.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromKeyFile, type Genesis, type KeyPair, loadGenesis, TallyError } from "@tally/core";
import { DEFAULT_PRODUCER_OPTIONS, type ProducerOptions } from "./producer.js";

export interface NodeConfig {
  readonly name: string;
  readonly api: { readonly host: string; readonly port: number };
  readonly producer: ProducerOptions;
  readonly logLevel: string;
  /** Signature verification threads; absent: one fewer than the machine's cores (at least 1). 0: verify inline. */
  readonly verifyWorkers?: number;
}

export interface NodeDir {
  readonly dir: string;
  readonly dataDir: string;
  readonly config: NodeConfig;
  readonly genesis: Genesis;
  readonly key: KeyPair;
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new TallyError("NOT_FOUND", `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new TallyError("BAD_REQUEST", `${path} is not valid JSON`);
  }
}

export function parseConfig(json: unknown): NodeConfig {
  const c = json as Partial<NodeConfig> & { producer?: Partial<ProducerOptions> };
  if (c === null || typeof c !== "object") throw new TallyError("BAD_REQUEST", "config must be an object");
  const port = c.api?.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new TallyError("BAD_REQUEST", "config api.port must be a port number");
  const producer = { ...DEFAULT_PRODUCER_OPTIONS, ...(c.producer ?? {}) };
  if (!Number.isSafeInteger(producer.blockIntervalMs) || producer.blockIntervalMs < 0)
    throw new TallyError("BAD_REQUEST", "producer.blockIntervalMs must be >= 0");
  if (c.verifyWorkers !== undefined && (!Number.isInteger(c.verifyWorkers) || c.verifyWorkers < 0 || c.verifyWorkers > 64)) {
    throw new TallyError("BAD_REQUEST", "verifyWorkers must be an integer from 0 to 64");
  }
  return {
    ...(c.verifyWorkers === undefined ? {} : { verifyWorkers: c.verifyWorkers }),
    name: typeof c.name === "string" ? c.name : "node",
    api: { host: typeof c.api?.host === "string" ? c.api.host : "127.0.0.1", port },
    producer,
    logLevel: typeof c.logLevel === "string" ? c.logLevel : "info",
  };
}

export function loadNodeDir(dir: string): NodeDir {
  return {
    dir,
    dataDir: join(dir, "data"),
    config: parseConfig(readJson(join(dir, "config.json"))),
    genesis: loadGenesis(readJson(join(dir, "genesis.json"))),
    key: fromKeyFile(readJson(join(dir, "node-key.json"))),
  };
}
