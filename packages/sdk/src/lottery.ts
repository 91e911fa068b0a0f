/**
 * The `lottery` module from a client (spec/modules/lottery.md). Calls are signed by an AccountSigner
 * (`signer.lottery`: open a round, seal batches, commit and reveal draw secrets, run the draw, and the
 * signed `buyerTotal` / `refusals` queries); `client.lottery` reads rounds, batches and draws and
 * re-derives a draw from ledger data. `verifyTicketSale` checks offline, against the genesis, that a
 * ticket was sold in a batch sealed before close.
 */
import {
  computeDraw,
  type DrawOutcome,
  drawCommitment,
  equalBytes,
  fromHex,
  type Genesis,
  getSuite,
  LOTTERY_ID_RE,
  type LotteryPick,
  type MerkleProof,
  parseTokenAmount,
  TallyError,
  type Ticket,
  ticketsRoot,
  toHex,
  type Value,
  verifyTicket,
} from "@tally/core";
import type { SubmitOptions, TallyClient } from "./client.js";
import type { AccountSigner } from "./signer.js";
import type { SubmitResult } from "./types.js";
import { verifyTxReceipt } from "./verify.js";

export type LotteryAmount = bigint | string;
export type { DrawOutcome, LotteryPick, Ticket };

export interface RoundInput {
  readonly roundId: string;
  readonly game: string;
  /** Sales close after this height. */
  readonly closeHeight: number;
  /** Reveals are accepted until this height (> closeHeight). */
  readonly revealDeadline: number;
  /** At least 3 distinct organisation ids. */
  readonly drawers: readonly string[];
  readonly pick: LotteryPick;
  readonly capPerBuyer: LotteryAmount;
}

export interface BuyerTotalInput {
  /** The buyer's 32-byte commitment (never the identity). */
  readonly buyer: Uint8Array;
  readonly amount: LotteryAmount;
}

/** A batch given either by its tickets (root and count computed here) or by root and count. */
export type BatchInput = {
  readonly roundId: string;
  readonly batchId: string;
  readonly buyerTotals: readonly BuyerTotalInput[];
} & ({ readonly tickets: readonly Ticket[] } | { readonly merkleRoot: Uint8Array; readonly count: number });

type Json = { readonly [key: string]: unknown };

export interface DrawerView {
  readonly org: string;
  readonly commitment: Uint8Array | null;
  readonly committedAt: number | null;
  readonly secret: Uint8Array | null;
  readonly revealedAt: number | null;
}

export interface DrawView {
  readonly roundId: string;
  readonly status: "pending" | "drawn" | "void";
  readonly revealers: string[];
  readonly defaulted: string[];
  readonly seed: Uint8Array | null;
  readonly numbers: number[];
  readonly height: number | null;
  readonly txHash: string | null;
}

export interface RoundView {
  readonly roundId: string;
  readonly game: string;
  readonly centre: string;
  readonly openedAt: number;
  readonly closeHeight: number;
  readonly revealDeadline: number;
  readonly pick: LotteryPick;
  readonly capPerBuyer: bigint;
  readonly status: "selling" | "revealing" | "awaiting-draw" | "drawn" | "void";
  readonly batches: number;
  readonly tickets: number;
  readonly sold: bigint;
  readonly revealQuorum: number;
  readonly drawers: DrawerView[];
  readonly result: DrawView | null;
}

export interface BatchRejectionView {
  readonly buyer: Uint8Array;
  readonly amount: bigint;
  readonly total: bigint;
  readonly cap: bigint;
}

export interface BatchView {
  readonly roundId: string;
  readonly batchId: string;
  readonly merkleRoot: Uint8Array;
  readonly count: number;
  readonly terminal: string;
  readonly height: number;
  readonly txHash: string;
  readonly accepted: number;
  readonly rejected: BatchRejectionView[];
}

export interface DrawCheck {
  /** True when the recorded draw equals the one recomputed from the round's ledger data. */
  readonly ok: boolean;
  /** Why not, when !ok. */
  readonly problems: string[];
  readonly recomputed: DrawOutcome;
  readonly recorded: DrawView;
}

export interface TicketSale {
  /** Height of the block that sealed the batch (≤ the round's close height). */
  readonly height: number;
  readonly closeHeight: number;
  readonly txHash: string;
}

function check(ok: boolean, field: string, expected: string): void {
  if (!ok) throw new TallyError("BAD_ARGS", `${field} must be ${expected}`, { field, expected });
}

const checkId = (value: string, field: string) => check(LOTTERY_ID_RE.test(value), field, `an id matching ${LOTTERY_ID_RE}`);
const check32 = (value: Uint8Array, field: string) => check(value instanceof Uint8Array && value.length === 32, field, "32 bytes");

function wireAmount(amount: LotteryAmount, field: string): string {
  const text = typeof amount === "bigint" ? amount.toString() : amount;
  parseTokenAmount(text, field, true);
  return text;
}

const bytesOf = (v: unknown): Uint8Array => fromHex(String(v).replace(/^0x/, ""));
const bytesOrNull = (v: unknown): Uint8Array | null => (v === null || v === undefined ? null : bytesOf(v));
const hexOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v).replace(/^0x/, ""));

/** 32 random bytes from the platform's CSPRNG: a drawer's secret. Keep it until the reveal. */
export function newDrawSecret(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(32));
}

function drawFromJson(v: Json): DrawView {
  return {
    roundId: String(v.roundId),
    status: v.status as DrawView["status"],
    revealers: (v.revealers as string[] | undefined) ?? [],
    defaulted: (v.defaulted as string[] | undefined) ?? [],
    seed: bytesOrNull(v.seed),
    numbers: (v.numbers as number[] | undefined) ?? [],
    height: (v.height as number | undefined) ?? null,
    txHash: hexOrNull(v.txHash),
  };
}

function roundFromJson(v: Json): RoundView {
  return {
    roundId: String(v.roundId),
    game: String(v.game),
    centre: String(v.centre),
    openedAt: v.openedAt as number,
    closeHeight: v.closeHeight as number,
    revealDeadline: v.revealDeadline as number,
    pick: v.pick as LotteryPick,
    capPerBuyer: BigInt(v.capPerBuyer as string),
    status: v.status as RoundView["status"],
    batches: v.batches as number,
    tickets: v.tickets as number,
    sold: BigInt(v.sold as string),
    revealQuorum: v.revealQuorum as number,
    drawers: (v.drawers as Json[]).map((d) => ({
      org: String(d.org),
      commitment: bytesOrNull(d.commitment),
      committedAt: (d.committedAt as number | null) ?? null,
      secret: bytesOrNull(d.secret),
      revealedAt: (d.revealedAt as number | null) ?? null,
    })),
    result: v.result === null ? null : drawFromJson(v.result as Json),
  };
}

function rejectionsFromJson(list: unknown): BatchRejectionView[] {
  return ((list as Json[] | undefined) ?? []).map((r) => ({
    buyer: bytesOf(r.buyer),
    amount: BigInt(r.amount as string),
    total: BigInt(r.total as string),
    cap: BigInt(r.cap as string),
  }));
}

function batchFromJson(v: Json): BatchView {
  return {
    roundId: String(v.roundId),
    batchId: String(v.batchId),
    merkleRoot: bytesOf(v.merkleRoot),
    count: v.count as number,
    terminal: String(v.terminal),
    height: v.height as number,
    txHash: String(v.txHash).replace(/^0x/, ""),
    accepted: v.accepted as number,
    rejected: rejectionsFromJson(v.rejected),
  };
}

/**
 * Offline: recomputes a round's draw from its drawers, pick and revealed secrets (each checked
 * against its commitment) and compares it with the recorded one.
 */
export function checkDraw(hash: (b: Uint8Array) => Uint8Array, round: RoundView, recorded: DrawView): DrawCheck {
  const problems: string[] = [];
  const reveals: Array<{ org: string; secret: Uint8Array }> = [];
  for (const d of round.drawers) {
    if (d.secret === null) continue;
    if (d.commitment === null || !equalBytes(drawCommitment(hash, round.roundId, d.org, d.secret), d.commitment)) {
      problems.push(`the secret of ${d.org} does not open its commitment`);
    }
    reveals.push({ org: d.org, secret: d.secret });
  }
  const recomputed = computeDraw(hash, {
    roundId: round.roundId,
    drawers: round.drawers.map((d) => d.org),
    pick: round.pick,
    reveals,
  });
  if (recorded.status !== recomputed.status) problems.push(`status: recorded ${recorded.status}, recomputed ${recomputed.status}`);
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (!same(recorded.revealers, recomputed.revealers)) problems.push("revealers differ");
  if (!same(recorded.defaulted, recomputed.defaulted)) problems.push("defaulted drawers differ");
  const seedHex = (s: Uint8Array | null) => (s === null ? null : toHex(s));
  if (seedHex(recorded.seed) !== seedHex(recomputed.seed)) problems.push("seed differs");
  if (!same(recorded.numbers, recomputed.numbers)) problems.push("numbers differ");
  return { ok: problems.length === 0, problems, recomputed, recorded };
}

/**
 * Offline: the ticket was sold before its round closed. `receiptHex` is the receipt of the batch's
 * `seal-batch` transaction (`client.txReceipt(batch.txHash)`); it must verify against the genesis,
 * carry an ok `lottery.seal-batch` of the ticket's round and batch (an ok result proves the block was
 * at or before close), and the ticket's proof must lead to that transaction's root over exactly its
 * `count` leaves, for a buyer the ledger did not refuse. Throws BAD_RECEIPT or BAD_PROOF otherwise.
 */
export function verifyTicketSale(genesis: Genesis, ticket: Ticket, proof: MerkleProof, receiptHex: string): TicketSale {
  const verified = verifyTxReceipt(genesis, receiptHex);
  const { tx, result } = verified;
  const args = tx.args as { [key: string]: Value };
  const fail = (why: string): never => {
    throw new TallyError("BAD_PROOF", why, { roundId: ticket.roundId, batchId: ticket.batchId });
  };
  if (tx.module !== "lottery" || tx.method !== "seal-batch") fail("the receipt is not of a lottery seal-batch transaction");
  if (args.roundId !== ticket.roundId || args.batchId !== ticket.batchId) fail("the receipt seals another batch");
  if (result.status !== "ok") fail(`the batch was refused (${result.code})`);
  const value = result.value as { [key: string]: Value };
  const rejected = ((value.rejected as Array<{ [key: string]: Value }> | undefined) ?? []).map((r) => r.buyer as Uint8Array);
  const batch = {
    roundId: ticket.roundId,
    batchId: ticket.batchId,
    merkleRoot: args.merkleRoot as Uint8Array,
    count: args.count as number,
    rejectedBuyers: rejected,
  };
  if (!verifyTicket(genesis.suite.hash, ticket, proof, batch)) fail("the ticket is not a sold ticket of the batch");
  return { height: verified.header.height, closeHeight: value.closeHeight as number, txHash: toHex(verified.txHash) };
}

/** Reads of the lottery module (public queries) and draw verification. */
export class LotteryReads {
  private hash: ((b: Uint8Array) => Uint8Array) | undefined;

  constructor(private readonly client: TallyClient) {}

  private async hashFn(): Promise<(b: Uint8Array) => Uint8Array> {
    if (this.hash === undefined) this.hash = getSuite((await this.client.status()).crypto).hash;
    return this.hash;
  }

  async round(roundId: string): Promise<RoundView> {
    checkId(roundId, "roundId");
    return roundFromJson((await this.client.query<Json>("lottery", "round", { roundId })).value);
  }

  async batch(roundId: string, batchId: string): Promise<BatchView> {
    checkId(roundId, "roundId");
    checkId(batchId, "batchId");
    return batchFromJson((await this.client.query<Json>("lottery", "batch", { roundId, batchId })).value);
  }

  async draw(roundId: string): Promise<DrawView> {
    checkId(roundId, "roundId");
    return drawFromJson((await this.client.query<Json>("lottery", "draw", { roundId })).value);
  }

  /** Recomputes the round's draw from its ledger data and compares it with the recorded one. */
  async verifyDraw(roundId: string): Promise<DrawCheck> {
    const round = await this.round(roundId);
    if (round.result === null) throw new TallyError("NOT_FOUND", "the round has not been drawn yet", { roundId });
    return checkDraw(await this.hashFn(), round, round.result);
  }
}

/** Calls of the lottery module signed by one account. They wait for commit unless `wait: false`. */
export class LotteryCalls {
  constructor(private readonly signer: AccountSigner) {}

  private call(method: string, args: Record<string, Value>, options: SubmitOptions): Promise<SubmitResult> {
    return this.signer.send("lottery", method, args, {
      wait: options.wait ?? true,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  /** Opens a round (role lottery-centre). */
  openRound(round: RoundInput, options: SubmitOptions = {}): Promise<SubmitResult> {
    checkId(round.roundId, "roundId");
    return this.call(
      "open-round",
      {
        roundId: round.roundId,
        game: round.game,
        closeHeight: round.closeHeight,
        revealDeadline: round.revealDeadline,
        drawers: [...round.drawers],
        pick: { count: round.pick.count, max: round.pick.max },
        capPerBuyer: wireAmount(round.capPerBuyer, "capPerBuyer"),
      },
      options,
    );
  }

  /** Seals a batch (role lottery-terminal). With `tickets`, the root and count are computed from them. */
  sealBatch(batch: BatchInput, options: SubmitOptions = {}): Promise<SubmitResult> {
    checkId(batch.roundId, "roundId");
    checkId(batch.batchId, "batchId");
    let merkleRoot: Uint8Array;
    let count: number;
    if ("tickets" in batch) {
      for (const t of batch.tickets) {
        check(t.roundId === batch.roundId && t.batchId === batch.batchId, "tickets", "tickets of this round and batch");
      }
      merkleRoot = ticketsRoot(getSuite(this.signer.key.suite).hash, batch.tickets);
      count = batch.tickets.length;
    } else {
      merkleRoot = batch.merkleRoot;
      count = batch.count;
    }
    check32(merkleRoot, "merkleRoot");
    const buyerTotals = batch.buyerTotals.map((e, i) => {
      check32(e.buyer, `buyerTotals[${i}].buyer`);
      return { buyer: e.buyer, amount: wireAmount(e.amount, `buyerTotals[${i}].amount`) };
    });
    return this.call("seal-batch", { roundId: batch.roundId, batchId: batch.batchId, merkleRoot, count, buyerTotals }, options);
  }

  /**
   * Commits to `secret` for the signer's organisation (an org-admin of a drawer). The commitment is
   * computed here; only it is sent. Keep the secret (e.g. from `newDrawSecret()`) for the reveal.
   */
  async commitDraw(roundId: string, secret: Uint8Array, options: SubmitOptions = {}): Promise<SubmitResult> {
    checkId(roundId, "roundId");
    check32(secret, "secret");
    const org = (await this.signer.client.account(this.signer.address)).org;
    const commitment = drawCommitment(getSuite(this.signer.key.suite).hash, roundId, org, secret);
    return this.call("commit-draw", { roundId, commitment }, options);
  }

  revealDraw(roundId: string, secret: Uint8Array, options: SubmitOptions = {}): Promise<SubmitResult> {
    checkId(roundId, "roundId");
    check32(secret, "secret");
    return this.call("reveal-draw", { roundId, secret }, options);
  }

  /** Runs the draw (anyone), after the deadline or once every commitment is revealed. */
  draw(roundId: string, options: SubmitOptions = {}): Promise<SubmitResult> {
    checkId(roundId, "roundId");
    return this.call("draw", { roundId }, options);
  }

  /** A buyer's running total and what remains under the cap (centre, terminal or regulator; signed). */
  async buyerTotal(roundId: string, buyer: Uint8Array): Promise<{ total: bigint; cap: bigint; remaining: bigint }> {
    checkId(roundId, "roundId");
    check32(buyer, "buyer");
    const v = (await this.signer.query<Json>("lottery", "buyerTotal", { roundId, buyer: toHex(buyer) })).value;
    return { total: BigInt(v.total as string), cap: BigInt(v.cap as string), remaining: BigInt(v.remaining as string) };
  }

  /** The round's refused purchases (regulator; signed). */
  async refusals(roundId: string): Promise<{ roundId: string; period: string; refused: number; amount: bigint; batches: number }> {
    checkId(roundId, "roundId");
    const v = (await this.signer.query<Json>("lottery", "refusals", { roundId })).value;
    return {
      roundId: String(v.roundId),
      period: String(v.period),
      refused: v.refused as number,
      amount: BigInt(v.amount as string),
      batches: v.batches as number,
    };
  }
}
