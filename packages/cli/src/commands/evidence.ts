/** `tally evidence notarize | receipt | verify | get | list`. */
import { readFileSync, writeFileSync } from "node:fs";
import {
  type EvidenceSummary,
  formatEvidenceReceiptFile,
  fromHex,
  getSuite,
  loadGenesis,
  TallyError,
  toHex,
  verifyEvidenceReceiptFile,
} from "@tally/core";
import { AccountSigner, TallyClient } from "@tally/sdk";
import { CommandFailure, printJson, readJsonFile, readKey } from "../io.js";

export interface DigestSource {
  readonly file?: string;
  readonly digest?: string;
}

/** The digest to notarise: given in hex, or the chain's hash of a file's bytes. */
async function resolveDigest(client: TallyClient, source: DigestSource): Promise<Uint8Array> {
  if (source.digest !== undefined && source.file !== undefined) throw new CommandFailure("give either FILE or --digest, not both");
  if (source.digest !== undefined) {
    try {
      return fromHex(source.digest.toLowerCase(), 32);
    } catch {
      throw new CommandFailure("--digest must be 64 hex characters");
    }
  }
  if (source.file === undefined) throw new CommandFailure("give FILE or --digest HEX");
  const { crypto } = await client.status();
  return getSuite(crypto).hash(readFileSync(source.file));
}

export async function notarize(
  source: DigestSource,
  options: { key: string; rpc: string; label?: string; meta?: string[] },
): Promise<void> {
  const client = new TallyClient(options.rpc);
  const digest = await resolveDigest(client, source);
  const signer = await AccountSigner.connect(client, readKey(options.key));
  const metadata = parseMeta(options.meta);
  const outcome = await signer.notarize(digest, { ...(options.label ? { label: options.label } : {}), ...(metadata ? { metadata } : {}) });
  if (outcome.status !== "committed") throw new CommandFailure(`transaction ${outcome.hash} is ${outcome.status}`);
  if (outcome.result.status !== "ok") {
    throw new CommandFailure(
      `notarisation failed: ${outcome.result.code}: ${outcome.result.message} ${JSON.stringify(outcome.result.value)}`,
    );
  }
  printJson(await client.evidence(toHex(digest)));
}

function parseMeta(pairs: string[] | undefined): Record<string, string> | undefined {
  if (pairs === undefined || pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new CommandFailure(`--meta takes key=value, got ${pair}`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export async function fetchReceipt(source: DigestSource, options: { rpc: string; out: string }): Promise<void> {
  const client = new TallyClient(options.rpc);
  const digest = await resolveDigest(client, source);
  const file = await client.evidenceReceipt(toHex(digest));
  writeFileSync(options.out, formatEvidenceReceiptFile(file));
  process.stdout.write(`receipt for ${file.evidence.digest} (height ${file.evidence.height}) written to ${options.out}\n`);
}

export function describe(summary: EvidenceSummary): string {
  const label = summary.label === null ? "" : ` label "${summary.label}"`;
  return `${summary.hashAlgorithm} ${summary.digest} notarised at height ${summary.height} (${summary.time}) by ${summary.submitter}${label}; tx ${summary.txHash}, block ${summary.blockHash}`;
}

/** Offline: reads only the receipt, the genesis and optionally the file. */
export function verify(receiptPath: string, options: { genesis: string; file?: string }): void {
  const genesis = loadGenesis(readJsonFile(options.genesis));
  const text = readFileSync(receiptPath, "utf8");
  const fileBytes = options.file === undefined ? undefined : readFileSync(options.file);
  try {
    const summary = verifyEvidenceReceiptFile(genesis, text, fileBytes);
    process.stdout.write(`valid: ${describe(summary)}${options.file ? `; file ${options.file} matches` : ""}\n`);
  } catch (err) {
    if (err instanceof TallyError) throw new CommandFailure(`invalid: ${err.message}`);
    throw err;
  }
}

export async function get(source: DigestSource, options: { rpc: string }): Promise<void> {
  const client = new TallyClient(options.rpc);
  printJson(await client.evidence(toHex(await resolveDigest(client, source))));
}

export async function list(options: { rpc: string; submitter: string; limit?: string; after?: string }): Promise<void> {
  const client = new TallyClient(options.rpc);
  printJson(
    await client.evidenceBySubmitter(options.submitter, {
      ...(options.limit ? { limit: Number(options.limit) } : {}),
      ...(options.after ? { after: options.after } : {}),
    }),
  );
}
