/**
 * `tally lottery open | seal | commit | reveal | draw | round | batch | refusals | verify-draw |
 * verify-ticket` (spec/modules/lottery.md).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import {
  fromHex,
  getSuite,
  LOTTERY_ID_RE,
  loadGenesis,
  type MerkleProof,
  parseTokenAmount,
  TallyError,
  type Ticket,
  ticketProof,
  toHex,
} from "@tally/core";
import { AccountSigner, newDrawSecret, type SubmitResult, TallyClient, verifyTicketSale } from "@tally/sdk";
import { Command, Option } from "commander";
import { CommandFailure, DEFAULT_RPC, printJson, readJsonFile, readKey, writeJsonFile } from "../io.js";

interface Signed {
  readonly key: string;
  readonly rpc: string;
  readonly round: string;
}

function checkId(value: string, flag: string): string {
  if (!LOTTERY_ID_RE.test(value)) throw new CommandFailure(`${flag} must match ${LOTTERY_ID_RE}`);
  return value;
}

function height(text: string, flag: string): number {
  if (!/^[0-9]{1,15}$/.test(text)) throw new CommandFailure(`${flag} must be a block height`);
  return Number(text);
}

function amount(text: unknown, flag: string): bigint {
  try {
    return parseTokenAmount(text, flag, true);
  } catch (err) {
    if (err instanceof TallyError) throw new CommandFailure(`${flag}: ${err.message}`);
    throw err;
  }
}

function hex32(text: unknown, what: string): Uint8Array {
  if (typeof text !== "string" || !/^(0x)?[0-9a-f]{64}$/.test(text))
    throw new CommandFailure(`${what} must be 64 lowercase hex characters`);
  return fromHex(text.replace(/^0x/, ""), 32);
}

function hexBytes(text: unknown, what: string): Uint8Array {
  if (typeof text !== "string" || !/^(0x)?([0-9a-f]{2})*$/.test(text)) throw new CommandFailure(`${what} must be lowercase hex`);
  return fromHex(text.replace(/^0x/, ""));
}

async function signer(options: Signed): Promise<AccountSigner> {
  checkId(options.round, "--round");
  return AccountSigner.connect(new TallyClient(options.rpc), readKey(options.key));
}

/** The committed ok value of a call; a failed one exits 1 with its code, message and details. */
function committed(method: string, outcome: SubmitResult): { tx: string; height: number; value: Record<string, unknown> } {
  if (outcome.status !== "committed") throw new CommandFailure(`transaction ${outcome.hash} is ${outcome.status}`);
  if (outcome.result.status !== "ok") {
    throw new CommandFailure(
      `lottery ${method} failed: ${outcome.result.code}: ${outcome.result.message} ${JSON.stringify(outcome.result.value)}`,
    );
  }
  return { tx: outcome.hash, height: outcome.height, value: outcome.result.value as Record<string, unknown> };
}

function report(method: string, outcome: SubmitResult): void {
  const { tx, height: h, value } = committed(method, outcome);
  printJson({ tx, height: h, ...value });
}

export async function open(
  o: Signed & { game: string; closeHeight: string; revealDeadline: string; drawers: string; pick: string; cap: string },
): Promise<void> {
  const pick = /^([0-9]{1,2})\/([0-9]{1,2})$/.exec(o.pick);
  if (pick === null) throw new CommandFailure("--pick must be COUNT/MAX, e.g. 6/49");
  const capPerBuyer = amount(o.cap, "--cap");
  const s = await signer(o);
  const outcome = await s.lottery.openRound({
    roundId: o.round,
    game: o.game,
    closeHeight: height(o.closeHeight, "--close-height"),
    revealDeadline: height(o.revealDeadline, "--reveal-deadline"),
    drawers: o.drawers.split(",").map((d) => d.trim()),
    pick: { count: Number(pick[1]), max: Number(pick[2]) },
    capPerBuyer,
  });
  report("open-round", outcome);
}

/** One sold ticket as listed in a `seal --tickets` file. */
interface TicketLine {
  readonly buyer: string;
  readonly amount: string;
  /** Hex of the ticket's content. */
  readonly data: string;
}

function readTicketLines(path: string): TicketLine[] {
  const lines = readJsonFile(path);
  if (!Array.isArray(lines) || lines.length === 0)
    throw new CommandFailure(`${path} must be a non-empty JSON array of {buyer, amount, data}`);
  return lines as TicketLine[];
}

/**
 * Seals the tickets of a JSON file `[{buyer: hex32, amount, data: hex}]` as one batch: leaves in file
 * order, buyers' amounts summed per buyer (in order of first appearance). With --proofs-out, writes
 * each ticket with its Merkle proof for `verify-ticket`.
 */
export async function seal(o: Signed & { batch: string; tickets: string; proofsOut?: string }): Promise<void> {
  checkId(o.batch, "--batch");
  const lines = readTicketLines(o.tickets);
  const tickets: Ticket[] = lines.map((l, index) => ({
    roundId: o.round,
    batchId: o.batch,
    index,
    buyer: hex32(l.buyer, `tickets[${index}].buyer`),
    data: hexBytes(l.data, `tickets[${index}].data`),
  }));
  const totals = new Map<string, bigint>();
  lines.forEach((l, i) => {
    const key = toHex(tickets[i]?.buyer as Uint8Array);
    totals.set(key, (totals.get(key) ?? 0n) + amount(l.amount, `tickets[${i}].amount`));
  });
  const s = await signer(o);
  const outcome = await s.lottery.sealBatch({
    roundId: o.round,
    batchId: o.batch,
    tickets,
    buyerTotals: [...totals].map(([buyer, total]) => ({ buyer: fromHex(buyer, 32), amount: total })),
  });
  const { tx, height: h, value } = committed("seal-batch", outcome);
  if (o.proofsOut !== undefined) {
    const hash = getSuite(s.key.suite).hash;
    const proofs = tickets.map((t) => ticketFile(t, ticketProof(hash, tickets, t.index), tx));
    writeJsonFile(o.proofsOut, proofs);
  }
  printJson({ tx, height: h, ...value });
}

function ticketFile(t: Ticket, proof: MerkleProof, tx: string) {
  return {
    roundId: t.roundId,
    batchId: t.batchId,
    index: t.index,
    buyer: toHex(t.buyer),
    data: toHex(t.data),
    proof: { index: proof.index, total: proof.total, siblings: proof.siblings.map(toHex) },
    tx,
  };
}

/** Reads the secret from --secret-file, or creates it there (mode 600) when the file does not exist. */
function secretFrom(path: string, create: boolean): Uint8Array {
  if (existsSync(path)) return hex32(readFileSync(path, "utf8").trim(), path);
  if (!create) throw new CommandFailure(`no such file: ${path}`);
  const secret = newDrawSecret();
  writeFileSync(path, `${toHex(secret)}\n`, { mode: 0o600, flag: "wx" });
  return secret;
}

export async function commit(o: Signed & { secretFile: string }): Promise<void> {
  const secret = secretFrom(o.secretFile, true);
  report("commit-draw", await (await signer(o)).lottery.commitDraw(o.round, secret));
}

export async function reveal(o: Signed & { secretFile: string }): Promise<void> {
  const secret = secretFrom(o.secretFile, false);
  report("reveal-draw", await (await signer(o)).lottery.revealDraw(o.round, secret));
}

export async function draw(o: Signed): Promise<void> {
  report("draw", await (await signer(o)).lottery.draw(o.round));
}

/** The public `round` / `batch` / `draw` answer as JSON; `refusals` signed by --key (a regulator). */
export async function show(name: "round" | "batch" | "draw", o: { rpc: string; round: string; batch?: string }): Promise<void> {
  checkId(o.round, "--round");
  const args: Record<string, string> = { roundId: o.round };
  if (name === "batch") args.batchId = checkId(o.batch ?? "", "--batch");
  printJson((await new TallyClient(o.rpc).query("lottery", name, args)).value);
}

export async function refusals(o: Signed): Promise<void> {
  const s = await signer(o);
  printJson((await s.query("lottery", "refusals", { roundId: o.round })).value);
}

/** Recomputes the draw from the round's ledger data; exit 0 when it equals the recorded one, 1 otherwise. */
export async function verifyDraw(o: { rpc: string; round: string }): Promise<void> {
  checkId(o.round, "--round");
  const check = await new TallyClient(o.rpc).lottery.verifyDraw(o.round);
  const out = {
    roundId: o.round,
    valid: check.ok,
    status: check.recomputed.status,
    numbers: check.recomputed.numbers,
    seed: check.recomputed.seed === null ? null : toHex(check.recomputed.seed),
    revealers: check.recomputed.revealers,
    defaulted: check.recomputed.defaulted,
    problems: check.problems,
  };
  printJson(out);
  if (!check.ok) throw new CommandFailure(`the recorded draw of ${o.round} does not match: ${check.problems.join("; ")}`);
}

/**
 * Checks a ticket file (from `seal --proofs-out`) offline against the genesis, with the receipt of
 * its batch's transaction fetched from the node: exit 0 if it was sold before close, 1 otherwise.
 */
export async function verifyTicket(ticketPath: string, o: { rpc: string; genesis: string; index?: string }): Promise<void> {
  const file = readJsonFile(ticketPath);
  let t = file as ReturnType<typeof ticketFile>;
  if (Array.isArray(file)) {
    if (o.index === undefined || !/^[0-9]+$/.test(o.index)) throw new CommandFailure("the file lists tickets: give --index");
    t = file[Number(o.index)];
    if (t === undefined) throw new CommandFailure(`no ticket at index ${o.index}`);
  }
  const genesis = loadGenesis(readJsonFile(o.genesis));
  const ticket: Ticket = {
    roundId: checkId(String(t.roundId), "roundId"),
    batchId: checkId(String(t.batchId), "batchId"),
    index: Number(t.index),
    buyer: hex32(t.buyer, "buyer"),
    data: hexBytes(t.data, "data"),
  };
  const proof: MerkleProof = {
    index: Number(t.proof?.index),
    total: Number(t.proof?.total),
    siblings: (t.proof?.siblings ?? []).map((x) => hex32(x, "proof sibling")),
  };
  const client = new TallyClient(o.rpc);
  const batch = await client.lottery.batch(ticket.roundId, ticket.batchId);
  const { receipt } = await client.txReceipt(batch.txHash);
  try {
    const sale = verifyTicketSale(genesis, ticket, proof, receipt);
    printJson({ valid: true, roundId: ticket.roundId, batchId: ticket.batchId, index: ticket.index, ...sale });
  } catch (err) {
    if (err instanceof TallyError) {
      printJson({ valid: false, reason: `${err.code}: ${err.message}` });
      throw new CommandFailure(`the ticket does not verify: ${err.code}: ${err.message}`);
    }
    throw err;
  }
}

/** The `tally lottery` command tree. */
export function lotteryCommand(): Command {
  const lottery = new Command("lottery").description("lottery rounds: sealed ticket batches, purchase caps, commit-reveal draws");
  const keyOption = () => new Option("--key <file>", "key file of the signing account").makeOptionMandatory();
  const rpcOption = () => new Option("--rpc <url>", "node API URL").default(DEFAULT_RPC);
  const roundOption = () => new Option("--round <id>", "round id").makeOptionMandatory();
  const secretOption = () => new Option("--secret-file <file>", "file holding the drawer's secret (hex)").makeOptionMandatory();
  lottery
    .command("open")
    .description("open a round (lottery-centre)")
    .addOption(keyOption())
    .addOption(roundOption())
    .requiredOption("--game <text>", "game name (at most 64 characters)")
    .requiredOption("--close-height <n>", "sales close after this height")
    .requiredOption("--reveal-deadline <n>", "reveals accepted until this height (> close height)")
    .requiredOption("--drawers <orgs>", "comma-separated drawer organisation ids (at least 3)")
    .requiredOption("--pick <count/max>", "winning numbers: COUNT distinct numbers from 1..MAX, e.g. 6/49")
    .requiredOption("--cap <amount>", "largest total one buyer may spend in the round (minor units)")
    .addOption(rpcOption())
    .action(async (o: Signed & { game: string; closeHeight: string; revealDeadline: string; drawers: string; pick: string; cap: string }) =>
      open(o),
    );
  lottery
    .command("seal")
    .description("seal a batch of sold tickets (lottery-terminal): FILE is a JSON array of {buyer: hex32, amount, data: hex}")
    .addOption(keyOption())
    .addOption(roundOption())
    .requiredOption("--batch <id>", "batch id (unique in the round)")
    .requiredOption("--tickets <file>", "the tickets, in leaf order")
    .option("--proofs-out <file>", "write every ticket with its Merkle proof here (for verify-ticket)")
    .addOption(rpcOption())
    .action(async (o: Signed & { batch: string; tickets: string; proofsOut?: string }) => seal(o));
  lottery
    .command("commit")
    .description("commit your organisation to a draw secret (an org-admin of a drawer); creates --secret-file if missing")
    .addOption(keyOption())
    .addOption(roundOption())
    .addOption(secretOption())
    .addOption(rpcOption())
    .action(async (o: Signed & { secretFile: string }) => commit(o));
  lottery
    .command("reveal")
    .description("reveal the secret in --secret-file (after close, until the reveal deadline)")
    .addOption(keyOption())
    .addOption(roundOption())
    .addOption(secretOption())
    .addOption(rpcOption())
    .action(async (o: Signed & { secretFile: string }) => reveal(o));
  lottery
    .command("draw")
    .description("run the draw (anyone): after the deadline, or once every commitment is revealed")
    .addOption(keyOption())
    .addOption(roundOption())
    .addOption(rpcOption())
    .action(async (o: Signed) => draw(o));
  lottery
    .command("round")
    .description("the round: configuration, status, sales, commitments and reveals, result")
    .addOption(roundOption())
    .addOption(rpcOption())
    .action(async (o: { rpc: string; round: string }) => show("round", o));
  lottery
    .command("batch")
    .description("a sealed batch: root, count, terminal, height, transaction, refused buyers")
    .addOption(roundOption())
    .requiredOption("--batch <id>", "batch id")
    .addOption(rpcOption())
    .action(async (o: { rpc: string; round: string; batch: string }) => show("batch", o));
  lottery
    .command("refusals")
    .description("purchases refused for exceeding the cap in the round (a regulator's key)")
    .addOption(keyOption())
    .addOption(roundOption())
    .addOption(rpcOption())
    .action(async (o: Signed) => refusals(o));
  lottery
    .command("verify-draw")
    .description("recompute the draw from the round's ledger data (exit 0 if it matches the recorded one, 1 if not)")
    .addOption(roundOption())
    .addOption(rpcOption())
    .action(async (o: { rpc: string; round: string }) => verifyDraw(o));
  lottery
    .command("verify-ticket")
    .description("check a ticket file (from seal --proofs-out) against the genesis and its batch's receipt (exit 0 sold, 1 not)")
    .argument("<ticket>", "ticket file: {roundId, batchId, index, buyer, data, proof}, or the array seal --proofs-out writes")
    .requiredOption("--genesis <file>", "the chain's genesis.json")
    .option("--index <n>", "which ticket of an array file")
    .addOption(rpcOption())
    .action(async (ticket: string, o: { rpc: string; genesis: string; index?: string }) => verifyTicket(ticket, o));
  return lottery;
}
