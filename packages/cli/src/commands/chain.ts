/** Read commands: `tally status | block | tx`, and `tally accounts register`. */
import { fromHex } from "@tally/core";
import { AccountSigner, TallyClient } from "@tally/sdk";
import { CommandFailure, printJson, readKey } from "../io.js";

export async function status(options: { rpc: string }): Promise<void> {
  printJson(await new TallyClient(options.rpc).status());
}

export async function block(id: string, options: { rpc: string }): Promise<void> {
  if (!/^([0-9]+|latest|[0-9a-f]{64})$/.test(id)) throw new CommandFailure("HEIGHT must be a number, a 64-hex block hash or 'latest'");
  const client = new TallyClient(options.rpc);
  printJson(id === "latest" ? await client.latestBlock() : await client.block(id));
}

export async function tx(hash: string, options: { rpc: string }): Promise<void> {
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new CommandFailure("HASH must be 64 lowercase hex characters");
  printJson(await new TallyClient(options.rpc).tx(hash));
}

export async function registerAccount(options: {
  rpc: string;
  key: string;
  publicKey: string;
  org: string;
  roles?: string;
}): Promise<void> {
  const client = new TallyClient(options.rpc);
  const signer = await AccountSigner.connect(client, readKey(options.key));
  const roles = options.roles ? options.roles.split(",").filter((r) => r.length > 0) : [];
  const outcome = await signer.registerAccount(fromHex(options.publicKey), options.org, roles);
  if (outcome.status !== "committed") throw new CommandFailure(`transaction ${outcome.hash} is ${outcome.status}`);
  if (outcome.result.status !== "ok") throw new CommandFailure(`registration failed: ${outcome.result.code}: ${outcome.result.message}`);
  printJson({ tx: outcome.hash, height: outcome.height, ...(outcome.result.value as object) });
}
