/** `tally start` and `tally devnet`: run nodes until SIGINT/SIGTERM, then close them cleanly. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { SuiteId } from "@tally/core";
import { loadNodeDir, TallyNode } from "@tally/node";
import { initNetwork } from "./init.js";

export async function startNode(dir: string): Promise<TallyNode> {
  const nodeDir = loadNodeDir(dir);
  return TallyNode.init({ dataDir: nodeDir.dataDir, config: nodeDir.config, genesis: nodeDir.genesis, key: nodeDir.key });
}

/** Resolves when the process is asked to stop; the nodes are closed by then. */
export function closeOnSignal(nodes: TallyNode[]): Promise<void> {
  return new Promise((resolve) => {
    let closing = false;
    const stop = async (): Promise<void> => {
      if (closing) return;
      closing = true;
      await Promise.all(nodes.map((n) => n.close()));
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

export interface DevnetOptions {
  readonly dir: string;
  readonly nodes: number;
  readonly crypto: SuiteId;
  readonly apiPort: number;
}

export async function runDevnet(options: DevnetOptions): Promise<void> {
  if (!existsSync(join(options.dir, "genesis.json"))) {
    initNetwork(options.dir, { validators: options.nodes, crypto: options.crypto, chainId: "tally-devnet", apiPort: options.apiPort });
  }
  const node = await startNode(join(options.dir, "node0"));
  process.stdout.write(
    [
      "",
      `Tally devnet is running (chain ${node.chain.chainId}, ${node.chain.genesis.suite.id}).`,
      `  node0 API:   ${node.apiUrl}/v1/status`,
      `  OpenAPI:     ${node.apiUrl}/openapi.json`,
      `  metrics:     ${node.apiUrl}/metrics`,
      `  admin key:   ${join(options.dir, "accounts", "admin.json")}`,
      `  try:         npx tally evidence notarize README.md --key ${join(options.dir, "accounts", "admin.json")}`,
      "Stop with Ctrl-C.",
      "",
    ].join("\n"),
  );
  await closeOnSignal([node]);
}
