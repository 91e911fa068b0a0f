/** `tally invoice issue | reimburse | reverse | status | list` (spec/modules/invoices.md). */
import { readFileSync } from "node:fs";
import { fromHex, TallyError, toHex } from "@tally/core";
import { AccountSigner, type InvoiceStatusView, type InvoiceView, type SubmitResult, TallyClient } from "@tally/sdk";
import { CommandFailure, printJson, readKey } from "../io.js";

interface Signed {
  readonly key: string;
  readonly rpc: string;
}

/** The SDK's argument checks (BAD_ARGS) as a clean CLI failure naming the field. */
async function checked<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof TallyError && err.code === "BAD_ARGS") throw new CommandFailure(`BAD_ARGS: ${err.message}`);
    throw err;
  }
}

async function signer(options: Signed): Promise<AccountSigner> {
  return AccountSigner.connect(new TallyClient(options.rpc), readKey(options.key));
}

/** Prints `{tx, height, ...value}` of an ok result; a failed one exits 1 with its code, message and details. */
function report(method: string, outcome: SubmitResult, extra: Record<string, unknown> = {}): void {
  if (outcome.status !== "committed") throw new CommandFailure(`transaction ${outcome.hash} is ${outcome.status}`);
  if (outcome.result.status !== "ok") {
    throw new CommandFailure(
      `invoice ${method} failed: ${outcome.result.code}: ${outcome.result.message} ${JSON.stringify(outcome.result.value)}`,
    );
  }
  printJson({ tx: outcome.hash, height: outcome.height, ...(outcome.result.value as object), ...extra });
}

/** The digest of the invoice document: given in hex, or the chain's hash of the file, computed locally. */
async function resolveDigest(client: TallyClient, options: { file?: string; digest?: string }): Promise<Uint8Array> {
  if ((options.file === undefined) === (options.digest === undefined)) throw new CommandFailure("give either --file or --digest");
  if (options.digest !== undefined) {
    try {
      return fromHex(options.digest.toLowerCase(), 32);
    } catch {
      throw new CommandFailure("--digest must be 64 hex characters");
    }
  }
  return client.invoices.digestOf(readFileSync(options.file as string));
}

export interface IssueOptions extends Signed {
  readonly number: string;
  readonly sellerTaxId: string;
  readonly buyerTaxId: string;
  readonly buyerOrg: string;
  readonly amount: string;
  readonly tax: string;
  readonly date: string;
  readonly file?: string;
  readonly digest?: string;
}

export async function issue(o: IssueOptions): Promise<void> {
  const s = await signer(o);
  const digest = await resolveDigest(s.client, o);
  const { number, sellerTaxId, buyerTaxId, buyerOrg, amount, tax, date } = o;
  const outcome = await checked(() => s.invoices.issue({ number, sellerTaxId, buyerTaxId, buyerOrg, amount, tax, date, digest }));
  report("issue", outcome, { digest: toHex(digest) });
}

export async function reimburse(o: Signed & { issuerOrg: string; number: string; claimRef?: string }): Promise<void> {
  const s = await signer(o);
  const outcome = await checked(() =>
    s.invoices.reimburse(o.issuerOrg, o.number, o.claimRef === undefined ? {} : { claimRef: o.claimRef }),
  );
  report("reimburse", outcome);
}

export async function reverse(o: Signed & { number: string; reason: string }): Promise<void> {
  const s = await signer(o);
  report("reverse", await checked(() => s.invoices.reverse(o.number, o.reason)));
}

/** JSON form of a view: amounts as decimal strings, the digest in hex. */
function printable(v: InvoiceStatusView | InvoiceView): Record<string, unknown> {
  return { ...v, amount: v.amount.toString(), tax: v.tax.toString(), digest: toHex(v.digest) };
}

/**
 * Anyone's status check. With --file, also says whether the file is the document issued (its hash
 * equals the recorded digest); a mismatch exits 1 after printing.
 */
export async function status(o: { rpc: string; issuerOrg: string; number: string; file?: string }): Promise<void> {
  const client = new TallyClient(o.rpc);
  const view = await checked(() => client.invoices.status(o.issuerOrg, o.number));
  if (view === null) throw new CommandFailure(`NO_SUCH_INVOICE: ${o.issuerOrg} has no invoice ${o.number}`);
  if (o.file === undefined) {
    printJson(printable(view));
    return;
  }
  const matches = toHex(await client.invoices.digestOf(readFileSync(o.file))) === toHex(view.digest);
  printJson({ ...printable(view), documentMatches: matches });
  if (!matches) throw new CommandFailure(`${o.file} is not the document of invoice ${o.number} (digest differs)`);
}

/** The tax authority's (or a regulator's) listing by issuer or by buyer org, one page. */
export async function list(o: Signed & { issuerOrg?: string; buyerOrg?: string; after?: string; limit?: string }): Promise<void> {
  if ((o.issuerOrg === undefined) === (o.buyerOrg === undefined)) throw new CommandFailure("give either --issuer-org or --buyer-org");
  if (o.limit !== undefined && !/^[1-9][0-9]{0,3}$/.test(o.limit)) throw new CommandFailure("--limit must be 1 to 1000");
  const page = { ...(o.after === undefined ? {} : { after: o.after }), ...(o.limit === undefined ? {} : { limit: Number(o.limit) }) };
  const s = await signer(o);
  const result = await checked(() =>
    o.issuerOrg !== undefined ? s.invoices.listByIssuer(o.issuerOrg, page) : s.invoices.listByBuyer(o.buyerOrg as string, page),
  );
  printJson({ ...result, items: result.items.map(printable) });
}
