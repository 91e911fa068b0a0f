/** `tally init`: a genesis, one directory per node, and an admin account key (spec/node-dir.md). */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type GenesisDoc, getSuite, loadGenesis, type SuiteId, toHex, toKeyFile } from "@tally/core";
import { DEFAULT_PRODUCER_OPTIONS, type NodeConfig } from "@tally/node";
import { CommandFailure, writeJsonFile } from "../io.js";

export interface InitOptions {
  readonly validators: number;
  readonly crypto: SuiteId;
  readonly chainId: string;
  readonly apiPort: number;
  readonly force?: boolean;
}

export interface InitResult {
  readonly genesisPath: string;
  readonly nodeDirs: string[];
  readonly adminKeyPath: string;
  readonly apiUrls: string[];
}

export const ADMIN_ORG = "consortium";

export function initNetwork(dir: string, options: InitOptions): InitResult {
  if (existsSync(join(dir, "genesis.json")) && !options.force) {
    throw new CommandFailure(`${dir} already holds a network (genesis.json exists); use --force to overwrite`);
  }
  if (!Number.isInteger(options.validators) || options.validators < 1 || options.validators > 64) {
    throw new CommandFailure("--validators must be between 1 and 64");
  }
  const suite = getSuite(options.crypto);
  const nodeKeys = Array.from({ length: options.validators }, () => suite.generateKeyPair());
  const admin = suite.generateKeyPair();
  const doc: GenesisDoc = {
    chainId: options.chainId,
    crypto: suite.id,
    genesisTimeMs: Date.now(),
    validators: nodeKeys.map((k, i) => ({ name: `node${i}`, publicKey: toHex(k.publicKey), power: 1 })),
    orgs: [{ id: ADMIN_ORG, name: "Consortium administration" }],
    accounts: [{ publicKey: toHex(admin.publicKey), org: ADMIN_ORG, roles: ["admin", "org-admin"] }],
  };
  loadGenesis(doc); // refuse to write a genesis that nodes would refuse to read
  const genesisPath = join(dir, "genesis.json");
  writeJsonFile(genesisPath, doc);
  const nodeDirs: string[] = [];
  const apiUrls: string[] = [];
  nodeKeys.forEach((key, i) => {
    const nodeDir = join(dir, `node${i}`);
    const config: NodeConfig = {
      name: `node${i}`,
      api: { host: "127.0.0.1", port: options.apiPort + i },
      producer: DEFAULT_PRODUCER_OPTIONS,
      logLevel: "info",
    };
    writeJsonFile(join(nodeDir, "config.json"), config);
    writeJsonFile(join(nodeDir, "genesis.json"), doc);
    writeJsonFile(join(nodeDir, "node-key.json"), toKeyFile(key), { mode: 0o600 });
    nodeDirs.push(nodeDir);
    apiUrls.push(`http://127.0.0.1:${options.apiPort + i}`);
  });
  const adminKeyPath = join(dir, "accounts", "admin.json");
  writeJsonFile(adminKeyPath, toKeyFile(admin), { mode: 0o600 });
  return { genesisPath, nodeDirs, adminKeyPath, apiUrls };
}
