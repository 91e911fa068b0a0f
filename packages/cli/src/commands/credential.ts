/**
 * `tally credential register-key | retire-key | issue | revoke | present | verify | show | keys`
 * (spec/modules/credentials.md). Credential and presentation files are JSON; `verify` is offline by
 * default (the presentation's embedded status proof, checked against the genesis file).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fromHex, loadGenesis, TallyError, verifyPresentation } from "@tally/core";
import { AccountSigner, checkCredential, issueCredential, present, type SubmitResult, TallyClient } from "@tally/sdk";
import { Command, Option } from "commander";
import { CommandFailure, DEFAULT_RPC, printJson, readJsonFile, readKey } from "../io.js";

interface Signed {
  readonly key: string;
  readonly rpc: string;
}

async function signer(options: Signed): Promise<AccountSigner> {
  return AccountSigner.connect(new TallyClient(options.rpc), readKey(options.key));
}

/** Value of an ok result; a failed one exits 1 with its code, message and details. */
function committed(method: string, outcome: SubmitResult): { tx: string; height: number; value: object } {
  if (outcome.status !== "committed") throw new CommandFailure(`transaction ${outcome.hash} is ${outcome.status}`);
  if (outcome.result.status !== "ok") {
    throw new CommandFailure(
      `credential ${method} failed: ${outcome.result.code}: ${outcome.result.message} ${JSON.stringify(outcome.result.value)}`,
    );
  }
  return { tx: outcome.hash, height: outcome.height, value: outcome.result.value as object };
}

function report(method: string, outcome: SubmitResult): void {
  const { tx, height, value } = committed(method, outcome);
  printJson({ tx, height, ...value });
}

/** TallyErrors of local checks become a clean exit 1 naming the code. */
function local<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TallyError) throw new CommandFailure(`${err.code}: ${err.message}`);
    throw err;
  }
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

export async function registerKey(options: Signed & { keyId: string; signingKey?: string; publicKey?: string }): Promise<void> {
  if ((options.signingKey === undefined) === (options.publicKey === undefined))
    throw new CommandFailure("give either --signing-key or --public-key");
  let publicKey: Uint8Array;
  if (options.signingKey !== undefined) publicKey = readKey(options.signingKey).publicKey;
  else {
    try {
      publicKey = fromHex((options.publicKey as string).toLowerCase());
    } catch {
      throw new CommandFailure("--public-key must be hex");
    }
  }
  report("register-issuer-key", await (await signer(options)).credentials.registerIssuerKey(options.keyId, publicKey));
}

export async function retireKey(options: Signed & { keyId: string }): Promise<void> {
  report("retire-issuer-key", await (await signer(options)).credentials.retireIssuerKey(options.keyId));
}

/** A time as typed: milliseconds since the epoch, or an ISO 8601 date. */
function parseTime(text: string, flag: string): number {
  if (/^[0-9]{1,15}$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms) || ms < 0) throw new CommandFailure(`${flag} must be milliseconds since the epoch or an ISO 8601 date`);
  return ms;
}

function parseAttrs(pairs: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new CommandFailure(`--attr takes name=value, got ${pair}`);
    const name = pair.slice(0, eq);
    if (Object.hasOwn(out, name)) throw new CommandFailure(`--attr ${name} given twice`);
    out[name] = pair.slice(eq + 1);
  }
  return out;
}

/** Builds and signs the credential with --signing-key, records its hash on chain, writes the credential to --out. */
export async function issue(
  options: Signed & {
    signingKey: string;
    keyId: string;
    id: string;
    schema: string;
    subject?: string;
    expires?: string;
    attr?: string[];
    out: string;
  },
): Promise<void> {
  const signingKey = readKey(options.signingKey);
  const s = await signer(options);
  if (signingKey.suite !== s.key.suite) throw new CommandFailure(`--signing-key is ${signingKey.suite}, the chain uses ${s.key.suite}`);
  const { org } = await s.client.account(s.address);
  const credential = local(() =>
    issueCredential(signingKey, {
      chainId: s.chainId,
      id: options.id,
      issuer: org,
      keyId: options.keyId,
      schema: options.schema,
      subject: options.subject ?? null,
      expiresAtMs: options.expires === undefined ? null : parseTime(options.expires, "--expires"),
      attributes: parseAttrs(options.attr),
    }),
  );
  const { tx, height } = committed("issue", await s.credentials.issue(credential));
  writeJson(options.out, credential);
  printJson({ tx, height, issuer: org, id: credential.id, credentialHash: credential.credentialHash, file: options.out });
}

export async function revoke(options: Signed & { id: string; reason: string; issuer?: string }): Promise<void> {
  const s = await signer(options);
  report("revoke", await s.credentials.revoke(options.id, options.reason, options.issuer === undefined ? {} : { issuer: options.issuer }));
}

/** Writes a presentation of CRED disclosing --disclose, with a status proof from the node (unless --no-status). */
export async function presentCmd(
  credentialPath: string,
  options: { disclose?: string; out: string; rpc: string; status: boolean },
): Promise<void> {
  const credential = local(() => checkCredential(readJsonFile(credentialPath)));
  const names = options.disclose === undefined || options.disclose === "" ? [] : options.disclose.split(",").map((n) => n.trim());
  const presentation = options.status
    ? await new TallyClient(options.rpc).credentials.present(credential, names)
    : local(() => present(credential, names));
  writeJson(options.out, presentation);
  printJson({ file: options.out, disclosed: Object.keys(presentation.disclosed), undisclosed: Object.keys(presentation.undisclosed) });
}

/** Offline against --genesis with the embedded proof, or with a fresh proof from --rpc when --fresh. */
export async function verify(
  presentationPath: string,
  options: { genesis: string; fresh?: boolean; rpc: string; now?: string; maxAge?: string },
): Promise<void> {
  const genesis = loadGenesis(readJsonFile(options.genesis));
  const presentation = local(() => JSON.parse(readFileSync(presentationPath, "utf8")) as unknown);
  const nowMs = options.now === undefined ? Date.now() : parseTime(options.now, "--now");
  if (options.maxAge !== undefined && !/^[0-9]{1,12}$/.test(options.maxAge))
    throw new CommandFailure("--max-age must be a number of seconds");
  const maxProofAgeMs = options.maxAge === undefined ? undefined : Number(options.maxAge) * 1000;
  const common = { nowMs, ...(maxProofAgeMs === undefined ? {} : { maxProofAgeMs }) };
  try {
    const verified = options.fresh
      ? await new TallyClient(options.rpc).credentials.verify(presentation, { genesis, ...common })
      : verifyPresentation(genesis, presentation, common);
    printJson({ valid: true, ...verified });
  } catch (err) {
    if (err instanceof TallyError) throw new CommandFailure(`invalid: ${err.code}: ${err.message}`);
    throw err;
  }
}

export async function show(options: { rpc: string; issuer: string; id: string }): Promise<void> {
  printJson(await new TallyClient(options.rpc).credentials.record(options.issuer, options.id));
}

export async function keys(options: { rpc: string; issuer: string }): Promise<void> {
  printJson({ issuer: options.issuer, keys: await new TallyClient(options.rpc).credentials.issuerKeys(options.issuer) });
}

/** The `tally credential` command tree (wired into main.ts with one line). */
export function credentialCommand(): Command {
  const rpc = () => new Option("--rpc <url>", "node API URL").default(DEFAULT_RPC);
  const key = () => new Option("--key <file>", "key file of the signing account").makeOptionMandatory();
  const keyId = () => new Option("--key-id <id>", "issuer key id, e.g. k1 (^[a-z0-9][a-z0-9._-]{0,31}$)").makeOptionMandatory();
  const cmd = new Command("credential").description("verifiable credentials with selective disclosure: issue, revoke, present, verify");
  cmd
    .command("register-key")
    .description("register a signing key of your org under --key-id (needs org-admin)")
    .addOption(key())
    .addOption(keyId())
    .option("--signing-key <file>", "key file of the signing key (its public key is registered)")
    .option("--public-key <hex>", "the signing key's public key, instead of --signing-key")
    .addOption(rpc())
    .action(async (o: Signed & { keyId: string; signingKey?: string; publicKey?: string }) => registerKey(o));
  cmd
    .command("retire-key")
    .description("retire a signing key of your org: no new credential may use it (needs org-admin)")
    .addOption(key())
    .addOption(keyId())
    .addOption(rpc())
    .action(async (o: Signed & { keyId: string }) => retireKey(o));
  cmd
    .command("issue")
    .description("sign a credential with --signing-key, record its hash on chain, write it to --out (credential-issuer or org-admin)")
    .addOption(key())
    .requiredOption("--signing-key <file>", "key file of the registered signing key")
    .addOption(keyId())
    .requiredOption("--id <id>", "credential id, unique per issuing org")
    .requiredOption("--schema <text>", "schema name (at most 64 characters)")
    .option("--subject <text>", "opaque subject id (at most 128 characters)")
    .option("--expires <time>", "expiry: ISO 8601 date or milliseconds since the epoch")
    .option("--attr <name=value...>", "attributes")
    .requiredOption("--out <file>", "where to write the credential (give it to the holder)")
    .addOption(rpc())
    .action(async (o: Parameters<typeof issue>[0]) => issue(o));
  cmd
    .command("revoke")
    .description("revoke a credential of your org (credential-issuer or org-admin)")
    .addOption(key())
    .requiredOption("--id <id>", "credential id")
    .requiredOption("--reason <text>", "why (at most 256 characters)")
    .option("--issuer <org>", "issuing org (default: yours; another org's is refused)")
    .addOption(rpc())
    .action(async (o: Signed & { id: string; reason: string; issuer?: string }) => revoke(o));
  cmd
    .command("present")
    .description("write a presentation of CREDENTIAL disclosing only --disclose, with a status proof from the node")
    .argument("<credential>", "credential file")
    .option("--disclose <names>", "comma-separated attribute names to disclose (default: none)")
    .requiredOption("--out <file>", "where to write the presentation")
    .option("--no-status", "do not embed a status proof (the verifier must use --fresh)")
    .addOption(rpc())
    .action(async (file: string, o: { disclose?: string; out: string; rpc: string; status: boolean }) => presentCmd(file, o));
  cmd
    .command("verify")
    .description("verify a presentation against the genesis file (exit 0 valid, 1 invalid); offline unless --fresh")
    .argument("<presentation>", "presentation file")
    .requiredOption("--genesis <file>", "the chain's genesis.json")
    .option("--fresh", "fetch a current status proof from --rpc instead of the embedded one")
    .option("--now <time>", "judge expiry at this time (default: now)")
    .option("--max-age <seconds>", "refuse a status proof older than this")
    .addOption(rpc())
    .action(async (file: string, o: { genesis: string; fresh?: boolean; rpc: string; now?: string; maxAge?: string }) => verify(file, o));
  cmd
    .command("show")
    .description("a credential's ledger record (never its attributes)")
    .requiredOption("--issuer <org>", "issuing org")
    .requiredOption("--id <id>", "credential id")
    .addOption(rpc())
    .action(async (o: { rpc: string; issuer: string; id: string }) => show(o));
  cmd
    .command("keys")
    .description("the signing keys an org registered, active and retired")
    .requiredOption("--issuer <org>", "the org")
    .addOption(rpc())
    .action(async (o: { rpc: string; issuer: string }) => keys(o));
  return cmd;
}
