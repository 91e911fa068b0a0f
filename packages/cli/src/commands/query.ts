/** `tally query` and `tally audit`: module queries and an account's audit trail (spec/api.md §queries, §audit). */
import type { JsonValue } from "@tally/core";
import { AccountSigner, TallyClient } from "@tally/sdk";
import { CommandFailure, printJson, readKey } from "../io.js";

function parseArgs(text: string | undefined): { [key: string]: JsonValue } {
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CommandFailure("--args must be a JSON object");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new CommandFailure("--args must be a JSON object");
  return parsed as { [key: string]: JsonValue };
}

/** Prints `{height, value}`; signed by --key's account when given (role-restricted queries need it). */
export async function query(module: string, name: string, o: { args?: string; key?: string; rpc: string }): Promise<void> {
  const client = new TallyClient(o.rpc);
  const args = parseArgs(o.args);
  const signer = o.key === undefined ? undefined : await AccountSigner.connect(client, readKey(o.key));
  printJson(await client.query(module, name, args, signer === undefined ? {} : { signer }));
}

/** Prints one page of the transactions `address` signed; --key must be a regulator's or the account's own. */
export async function audit(o: { address: string; key: string; limit?: string; after?: string; rpc: string }): Promise<void> {
  if (!/^[0-9a-f]{40}$/.test(o.address)) throw new CommandFailure("--address must be 40 lowercase hex characters");
  const limit = o.limit === undefined ? undefined : Number(o.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000)) throw new CommandFailure("--limit must be 1 to 1000");
  const client = new TallyClient(o.rpc);
  const signer = await AccountSigner.connect(client, readKey(o.key));
  printJson(
    await client.auditTrail(o.address, signer, {
      ...(limit === undefined ? {} : { limit }),
      ...(o.after === undefined ? {} : { after: o.after }),
    }),
  );
}
