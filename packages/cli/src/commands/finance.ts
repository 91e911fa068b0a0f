/**
 * `tally finance register | pledge | release | transfer | confirm | pay | show | uses | by-payer | key`
 * (spec/modules/documents.md). A document is named either by its fields and the consortium salt
 * (`--salt` and the six field options; the key is derived here and the salt never leaves this
 * machine) or by its key (`--doc-key`).
 */
import { existsSync, readFileSync } from "node:fs";
import {
  type DocumentFieldsInput,
  documentKey,
  getSuite,
  normalizeDocumentFields,
  PAYER_RE,
  parseDocumentSalt,
  parseTokenAmount,
  TallyError,
  toHex,
} from "@tally/core";
import { AccountSigner, documentKeyBytes, type SubmitResult, TallyClient } from "@tally/sdk";
import { Command, Option } from "commander";
import { CommandFailure, DEFAULT_RPC, printJson, readKey } from "../io.js";

interface DocOptions {
  readonly rpc: string;
  readonly salt?: string;
  readonly docKey?: string;
  readonly kind?: string;
  readonly issuerId?: string;
  readonly number?: string;
  readonly currency?: string;
  readonly faceValue?: string;
  readonly issueDate?: string;
}

interface SignedDocOptions extends DocOptions {
  readonly key: string;
}

/** Turns a TallyError from local checks into a clean exit-1 message. */
function local<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TallyError) throw new CommandFailure(`${err.code}: ${err.message}`);
    throw err;
  }
}

/** `--salt` is 64 hex characters, or a file holding them. */
function readSalt(value: string): Uint8Array {
  const text = /^(0x)?[0-9a-fA-F]{64}$/.test(value) ? value : existsSync(value) ? readFileSync(value, "utf8") : undefined;
  if (text === undefined) throw new CommandFailure("--salt must be 64 hex characters or a file holding them");
  return local(() => parseDocumentSalt(text));
}

function fieldsOf(o: DocOptions): DocumentFieldsInput {
  const missing = (["kind", "issuerId", "number", "currency", "faceValue", "issueDate"] as const).filter((f) => o[f] === undefined);
  if (missing.length > 0) {
    const flags = missing.map((f) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    throw new CommandFailure(`with --salt, give the document's fields: missing ${flags.join(", ")}`);
  }
  return o as Required<DocOptions>;
}

/** The document key: derived from --salt and the fields with the chain's hash, or --doc-key. */
function docKey(o: DocOptions, suiteId: string): Uint8Array {
  if ((o.salt === undefined) === (o.docKey === undefined))
    throw new CommandFailure("give either --salt with the document's fields, or --doc-key");
  if (o.docKey !== undefined) return local(() => documentKeyBytes(o.docKey as string));
  const salt = readSalt(o.salt as string);
  return local(() => documentKey(getSuite(suiteId), salt, fieldsOf(o)));
}

async function connect(o: SignedDocOptions): Promise<{ signer: AccountSigner; key: Uint8Array }> {
  const keyPair = readKey(o.key);
  const key = docKey(o, keyPair.suite);
  return { signer: await AccountSigner.connect(new TallyClient(o.rpc), keyPair), key };
}

function checkAmount(text: string, flag: string): string {
  local(() => parseTokenAmount(text, flag, true));
  return text;
}

/** Prints `{tx, height, ...value}` of an ok result; a failed one exits 1 with its code, message and details. */
function report(method: string, outcome: SubmitResult): void {
  if (outcome.status !== "committed") throw new CommandFailure(`transaction ${outcome.hash} is ${outcome.status}`);
  if (outcome.result.status !== "ok") {
    throw new CommandFailure(
      `finance ${method} failed: ${outcome.result.code}: ${outcome.result.message} ${JSON.stringify(outcome.result.value)}`,
    );
  }
  printJson({ tx: outcome.hash, height: outcome.height, ...(outcome.result.value as object) });
}

export async function register(o: SignedDocOptions & { debtor?: string }): Promise<void> {
  const { signer, key } = await connect(o);
  const debtor = o.debtor === undefined ? {} : { debtor: o.debtor };
  if (o.salt !== undefined) {
    const f = local(() => normalizeDocumentFields(fieldsOf(o)));
    report("register", await signer.documents.register({ key, kind: f.kind, faceValue: f.faceValue, currency: f.currency, ...debtor }));
    return;
  }
  if (o.kind === undefined || o.faceValue === undefined || o.currency === undefined) {
    throw new CommandFailure("with --doc-key, give --kind, --face-value and --currency");
  }
  const kind = o.kind as DocumentFieldsInput["kind"] as "receivable";
  report(
    "register",
    await signer.documents.register({ key, kind, faceValue: checkAmount(o.faceValue, "--face-value"), currency: o.currency, ...debtor }),
  );
}

export async function pledge(o: SignedDocOptions & { amount: string; ref: string }): Promise<void> {
  const amount = checkAmount(o.amount, "--amount");
  const { signer, key } = await connect(o);
  report("pledge", await signer.documents.pledge(key, amount, o.ref));
}

export async function release(o: SignedDocOptions & { useId: string }): Promise<void> {
  if (!/^[0-9]{1,9}$/.test(o.useId)) throw new CommandFailure("--use-id must be a use id (a positive integer)");
  const { signer, key } = await connect(o);
  report("release", await signer.documents.release(key, Number(o.useId)));
}

export async function transfer(o: SignedDocOptions & { toOrg: string }): Promise<void> {
  const { signer, key } = await connect(o);
  report("transfer", await signer.documents.transfer(key, o.toOrg));
}

export async function confirm(o: SignedDocOptions & { toOrg?: string }): Promise<void> {
  const { signer, key } = await connect(o);
  report("confirm", await signer.documents.confirmTransfer(key, o.toOrg === undefined ? {} : { toOrg: o.toOrg }));
}

export async function pay(o: SignedDocOptions & { paymentId: string; payer: string; amount: string }): Promise<void> {
  const amount = checkAmount(o.amount, "--amount");
  if (!PAYER_RE.test(o.payer)) throw new CommandFailure(`--payer must match ${PAYER_RE}`);
  const { signer, key } = await connect(o);
  report("pay", await signer.documents.recordPayment(key, { paymentId: o.paymentId, payer: o.payer, amount }));
}

/** The `document` query; signed when --key is given (an org sees its own uses, a regulator all). */
export async function show(o: DocOptions & { key?: string }): Promise<void> {
  const client = new TallyClient(o.rpc);
  if (o.key === undefined) {
    const key = docKey(o, (await client.status()).crypto);
    printJson((await client.query("documents", "document", { key: toHex(key) })).value);
    return;
  }
  const { signer, key } = await connect(o as SignedDocOptions);
  printJson((await signer.query("documents", "document", { key: toHex(key) })).value);
}

function page(o: { limit?: string }): { limit?: number } {
  if (o.limit === undefined) return {};
  if (!/^[0-9]{1,4}$/.test(o.limit) || Number(o.limit) < 1 || Number(o.limit) > 1000) throw new CommandFailure("--limit must be 1 to 1000");
  return { limit: Number(o.limit) };
}

export async function uses(o: SignedDocOptions & { limit?: string; after?: string }): Promise<void> {
  if (o.after !== undefined && !/^[0-9]{1,9}$/.test(o.after)) throw new CommandFailure("--after must be a use id");
  const lim = page(o);
  const { signer, key } = await connect(o);
  const args = { key: toHex(key), ...lim, ...(o.after === undefined ? {} : { after: Number(o.after) }) };
  printJson((await signer.query("documents", "uses", args)).value);
}

export async function byPayer(o: { key: string; rpc: string; payer: string; limit?: string; after?: string }): Promise<void> {
  if (!PAYER_RE.test(o.payer)) throw new CommandFailure(`--payer must match ${PAYER_RE}`);
  const lim = page(o);
  const signer = await AccountSigner.connect(new TallyClient(o.rpc), readKey(o.key));
  const args = { payer: o.payer, ...lim, ...(o.after === undefined ? {} : { after: o.after }) };
  printJson((await signer.query("documents", "byPayer", args)).value);
}

/** Offline: the key of a document for a suite, and the normalised fields it commits to. */
export function deriveKey(o: DocOptions & { crypto: string }): void {
  if (o.salt === undefined) throw new CommandFailure("--salt is required");
  const fields = local(() => normalizeDocumentFields(fieldsOf(o)));
  printJson({ key: toHex(docKey(o, o.crypto)), fields });
}

// ---- the command tree -----------------------------------------------------------------------------------

const rpc = () => new Option("--rpc <url>", "node API URL").default(DEFAULT_RPC);
const signerKey = (what = "key file of the signing account") => new Option("--key <file>", what).makeOptionMandatory();

/** The options that name a document: --salt and its fields, or --doc-key. */
function documentOptions(cmd: Command): Command {
  return cmd
    .option("--salt <hex|file>", "the consortium's 32-byte document salt (hex, or a file holding it); derive the key from the fields")
    .option("--doc-key <hex>", "the document key, instead of --salt and the fields")
    .option("--kind <kind>", "receivable, invoice, contract or customs")
    .option("--issuer-id <id>", "the document issuer's id as printed")
    .option("--number <number>", "the document number as printed")
    .option("--currency <code>", "ISO 4217 code, e.g. USD")
    .option("--face-value <amount>", "face value in minor units, a decimal integer")
    .option("--issue-date <YYYY-MM-DD>", "issue date");
}

export function financeCommand(): Command {
  const fin = new Command("finance").description("document registry: trade finance (pledge, release, factoring) and payment authenticity");
  documentOptions(fin.command("register").description("register a document; your org becomes its holder (role bank)"))
    .addOption(signerKey())
    .option("--debtor <address>", "the debtor's account, who confirms transfers (needed for factoring)")
    .addOption(rpc())
    .action(register);
  documentOptions(fin.command("pledge").description("finance against a document: open a financing use (role bank)"))
    .addOption(signerKey())
    .requiredOption("--amount <amount>", "amount in minor units")
    .requiredOption("--ref <text>", "the loan or financing reference (at most 64 characters)")
    .addOption(rpc())
    .action(pledge);
  documentOptions(fin.command("release").description("release a financing use of your org on repayment (role bank)"))
    .addOption(signerKey())
    .requiredOption("--use-id <n>", "the use id `pledge` returned")
    .addOption(rpc())
    .action(release);
  documentOptions(fin.command("transfer").description("ask to transfer a document your org holds to another org (factoring; role bank)"))
    .addOption(signerKey())
    .requiredOption("--to-org <org>", "the organisation that takes the document")
    .addOption(rpc())
    .action(transfer);
  documentOptions(fin.command("confirm").description("confirm the pending transfer of a document (its debtor)"))
    .addOption(signerKey("key file of the debtor's account"))
    .option("--to-org <org>", "confirm only a transfer to this organisation")
    .addOption(rpc())
    .action(confirm);
  documentOptions(fin.command("pay").description("record that a payment uses a document (role bank): permanent, capped by the face value"))
    .addOption(signerKey())
    .requiredOption("--payment-id <id>", "the payment's id, unique per document (at most 64 characters)")
    .requiredOption("--payer <id>", "the payer's id (letters, digits and ._:@#+-, at most 64)")
    .requiredOption("--amount <amount>", "amount in minor units")
    .addOption(rpc())
    .action(pay);
  documentOptions(fin.command("show").description("a document's face value, used and available amounts; signed with --key, more"))
    .option("--key <file>", "sign the query: your org's uses, or everything for a regulator")
    .addOption(rpc())
    .action(show);
  documentOptions(fin.command("uses").description("every use of a document: the audit trail (regulator)"))
    .addOption(signerKey("key file of a regulator account"))
    .option("--limit <n>", "at most this many (1 to 1000, default 100)")
    .option("--after <useId>", "continue after this use id (`next` of the previous page)")
    .addOption(rpc())
    .action(uses);
  fin
    .command("by-payer")
    .description("every document a payer's payments used, with amounts (regulator)")
    .addOption(signerKey("key file of a regulator account"))
    .requiredOption("--payer <id>", "the payer's id")
    .option("--limit <n>", "at most this many (1 to 1000, default 100)")
    .option("--after <cursor>", "continue after this cursor (`next` of the previous page)")
    .addOption(rpc())
    .action(byPayer);
  documentOptions(fin.command("key").description("derive a document key offline and print the normalised fields"))
    .addOption(
      new Option("--crypto <suite>", "the chain's suite: ed25519 (SHA-256) or sm2 (SM3)").choices(["ed25519", "sm2"]).default("ed25519"),
    )
    .action(deriveKey);
  return fin;
}
