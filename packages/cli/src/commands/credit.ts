/**
 * `tally credit record | link | apply | decide | standing | history | applications`
 * (spec/modules/credit.md). Evidence is given as a file (hashed with the chain's hash) or a digest.
 */
import { readFileSync } from "node:fs";
import { toHex } from "@tally/core";
import { AccountSigner, type SubmitResult, TallyClient, TallyError } from "@tally/sdk";
import { Command, Option } from "commander";
import { CommandFailure, DEFAULT_RPC, printJson, readKey } from "../io.js";

interface Rpc {
  readonly rpc: string;
}

interface Evidence {
  readonly evidence?: string;
  readonly digest?: string;
}

function id(text: string, flag: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text)) throw new CommandFailure(`${flag} must be a positive integer`);
  return Number(text);
}

/** The digest to send: --digest as given, or the chain's hash of the --evidence file. */
async function evidenceDigest(client: TallyClient, o: Evidence): Promise<Uint8Array | string> {
  if ((o.evidence === undefined) === (o.digest === undefined)) throw new CommandFailure("give either --evidence FILE or --digest HEX");
  if (o.digest !== undefined) return o.digest;
  return client.credit.digestOf(readFileSync(o.evidence as string));
}

/** Runs an SDK call; its BAD_ARGS (checked before signing) becomes a clean failure. */
async function submit(method: string, call: () => Promise<SubmitResult>): Promise<void> {
  let outcome: SubmitResult;
  try {
    outcome = await call();
  } catch (err) {
    if (err instanceof TallyError) throw new CommandFailure(`credit ${method} refused: ${err.code}: ${err.message}`);
    throw err;
  }
  if (outcome.status !== "committed") throw new CommandFailure(`transaction ${outcome.hash} is ${outcome.status}`);
  if (outcome.result.status !== "ok") {
    throw new CommandFailure(
      `credit ${method} failed: ${outcome.result.code}: ${outcome.result.message} ${JSON.stringify(outcome.result.value)}`,
    );
  }
  printJson({ tx: outcome.hash, height: outcome.height, ...(outcome.result.value as object) });
}

async function signer(o: { key: string } & Rpc): Promise<AccountSigner> {
  return AccountSigner.connect(new TallyClient(o.rpc), readKey(o.key));
}

/** Byte fields as hex, for printing. */
function printable(value: unknown): unknown {
  if (value instanceof Uint8Array) return toHex(value);
  if (Array.isArray(value)) return value.map(printable);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, printable(v)]));
  return value;
}

export async function record(o: { key: string; entity: string; kind: string; severity: string; date: string } & Evidence & Rpc) {
  if (!/^[1-5]$/.test(o.severity)) throw new CommandFailure("--severity must be 1 to 5");
  const s = await signer(o);
  const digest = await evidenceDigest(s.client, o);
  await submit("record", () =>
    s.credit.recordEvent({ entityId: o.entity, kind: o.kind, severity: Number(o.severity), evidenceDigest: digest, date: o.date }),
  );
}

export async function link(o: { key: string; entity: string; account: string } & Rpc) {
  const s = await signer(o);
  await submit("link", () => s.credit.linkEntity(o.entity, o.account));
}

export async function apply(o: { key: string; entity: string; event: string; reason: string } & Evidence & Rpc) {
  const eventId = id(o.event, "--event");
  const s = await signer(o);
  const digest = await evidenceDigest(s.client, o);
  await submit("apply", () => s.credit.applyRepair({ entityId: o.entity, eventId, reason: o.reason, evidenceDigest: digest }));
}

export async function decide(
  o: { key: string; entity: string; application: string; approve?: boolean; reject?: boolean; note?: string } & Rpc,
) {
  if (Boolean(o.approve) === Boolean(o.reject)) throw new CommandFailure("give either --approve or --reject");
  const applicationId = id(o.application, "--application");
  const s = await signer(o);
  await submit("decide", () =>
    s.credit.decideRepair({
      entityId: o.entity,
      applicationId,
      approve: Boolean(o.approve),
      ...(o.note === undefined ? {} : { note: o.note }),
    }),
  );
}

/** Reads; a refusal (BAD_ARGS, FORBIDDEN, ...) exits 1 with its code. */
async function read<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TallyError) throw new CommandFailure(`credit ${what}: ${err.code}: ${err.message}`);
    throw err;
  }
}

export async function standing(o: { entity: string; prove?: boolean; height?: string } & Rpc) {
  const client = new TallyClient(o.rpc);
  if (o.prove || o.height !== undefined) {
    if (o.height !== undefined && !/^[0-9]+$/.test(o.height)) throw new CommandFailure("--height must be a block height");
    const options = o.height === undefined ? {} : { height: Number(o.height) };
    const { value, view } = await read("standing", () => client.credit.provenStanding(o.entity, options));
    if (value === null) throw new CommandFailure(`NO_SUCH_ENTITY: no credit record for ${o.entity} (proven absent)`);
    printJson({ ...value, height: view.height, stateRoot: view.stateRoot });
    return;
  }
  const view = await read("standing", () => client.credit.standing(o.entity));
  if (view === null) throw new CommandFailure(`NO_SUCH_ENTITY: no credit record for ${o.entity}`);
  printJson(view);
}

export async function history(o: { entity: string; after?: string; limit?: string } & Rpc) {
  const page = {
    ...(o.after === undefined ? {} : { after: Number(o.after) }),
    ...(o.limit === undefined ? {} : { limit: id(o.limit, "--limit") }),
  };
  if (o.after !== undefined && !/^[0-9]{1,10}$/.test(o.after)) throw new CommandFailure("--after must be the `next` of a previous page");
  const answer = await read("history", () => new TallyClient(o.rpc).credit.history(o.entity, page));
  if (answer === null) throw new CommandFailure(`NO_SUCH_ENTITY: no credit record for ${o.entity}`);
  printJson(printable(answer));
}

export async function applications(o: { key: string; after?: string; limit?: string } & Rpc) {
  const page = {
    ...(o.after === undefined ? {} : { after: o.after }),
    ...(o.limit === undefined ? {} : { limit: id(o.limit, "--limit") }),
  };
  const s = await signer(o);
  printJson(printable(await read("applications", () => s.credit.openApplications(page))));
}

export function creditCommand(): Command {
  const cmd = new Command("credit").description("credit supervision and repair: events, links, repairs, standing, history");
  const rpc = () => new Option("--rpc <url>", "node API URL").default(DEFAULT_RPC);
  const key = () => new Option("--key <file>", "key file of the signing account").makeOptionMandatory();
  const entity = () => new Option("--entity <id>", "entity id, e.g. a unified social credit code").makeOptionMandatory();
  const evidence = (what: string) => [
    new Option("--evidence <file>", `${what} file; its hash (the chain's) is recorded`),
    new Option("--digest <hex>", `hash of the ${what} (64 hex characters), instead of --evidence`),
  ];
  const withOptions = (c: Command, options: Option[]) => {
    for (const o of options) c.addOption(o);
    return c;
  };
  withOptions(
    cmd
      .command("record")
      .description("record a credit event against an entity (regulator)")
      .addOption(key())
      .addOption(entity())
      .requiredOption("--kind <kind>", "event kind, e.g. tax-arrears")
      .requiredOption("--severity <n>", "1 (minor) to 5 (grave): takes 5, 10, 20, 40 or 60 points off the score")
      .requiredOption("--date <YYYY-MM-DD>", "date of the underlying fact"),
    [...evidence("evidence"), rpc()],
  ).action(record);
  cmd
    .command("link")
    .description("link an entity to a registered account, which may then apply for repairs (regulator)")
    .addOption(key())
    .addOption(entity())
    .requiredOption("--account <address>", "the entity's account")
    .addOption(rpc())
    .action(link);
  withOptions(
    cmd
      .command("apply")
      .description("apply for the repair of an event (the entity's linked account or a bank)")
      .addOption(key())
      .addOption(entity())
      .requiredOption("--event <id>", "event id")
      .requiredOption("--reason <text>", "why the event should be repaired (1 to 512 characters; public)"),
    [...evidence("proof of rectification"), rpc()],
  ).action(apply);
  cmd
    .command("decide")
    .description("approve or reject an open repair application (regulator)")
    .addOption(key())
    .addOption(entity())
    .requiredOption("--application <id>", "application id")
    .option("--approve", "approve: the event is repaired and its points restored")
    .option("--reject", "reject: the event stays active")
    .option("--note <text>", "the decision's note (at most 512 characters)")
    .addOption(rpc())
    .action(decide);
  cmd
    .command("standing")
    .description("an entity's score, grade and event counts (anyone)")
    .addOption(entity())
    .option("--prove", "read the stored standing with its state proof checked")
    .option("--height <n>", "the proven standing at this height (implies --prove)")
    .addOption(rpc())
    .action(standing);
  cmd
    .command("history")
    .description("an entity's events and repair applications with decisions, in order (anyone)")
    .addOption(entity())
    .option("--after <seq>", "continue after this item (`next` of the previous page)")
    .option("--limit <n>", "at most this many items (1 to 1000)")
    .addOption(rpc())
    .action(history);
  cmd
    .command("applications")
    .description("open repair applications of every entity (regulator; a signed query)")
    .addOption(key())
    .option("--after <cursor>", "continue after this cursor (`next` of the previous page)")
    .option("--limit <n>", "at most this many (1 to 1000)")
    .addOption(rpc())
    .action(applications);
  return cmd;
}
