/**
 * Lottery sealing, fair draw and purchase caps (spec/modules/lottery.md), shared by the node's
 * `lottery` module and by anyone who checks a ticket or a draw offline: the byte formats of ticket
 * leaves, draw commitments and the draw seed, the derivation of the winning numbers, the state keys
 * and the records stored under them. Everything here is a pure function of its inputs, so a draw can
 * be recomputed from ledger data alone.
 */
import { concatBytes, equalBytes, toHex, utf8 } from "./bytes.js";
import { decode, encode, isValueMap, type Value } from "./encoding.js";
import { TallyError } from "./errors.js";
import { type HashFn, type MerkleProof, merkleProof, merkleRoot, verifyMerkleProof } from "./merkle.js";
import { moduleKey } from "./state-keys.js";
import { tokenAmountFromBytes, tokenAmountToBytes } from "./tokens.js";

/** Round and batch ids: also used inside state keys, so no "/" and a bounded length. */
export const LOTTERY_ID_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const LOTTERY_GAME_LENGTH_MAX = 64;
/** Drawer organisations named by a round: at least 3 so that no pair decides a draw alone. */
export const LOTTERY_DRAWERS_MIN = 3;
export const LOTTERY_DRAWERS_MAX = 32;
export const LOTTERY_PICK_COUNT_MAX = 20;
export const LOTTERY_PICK_MAX_MAX = 99;
/** Buyer entries one `seal-batch` may carry (each ~80 bytes encoded, inside LIMITS.txArgsBytesMax). */
export const LOTTERY_BUYER_TOTALS_MAX = 1_000;
/** Tickets one batch may declare: far beyond a terminal's batch, and a safe Merkle tree size. */
export const LOTTERY_BATCH_TICKETS_MAX = 1_000_000;
export const LOTTERY_HASH_BYTES = 32;

export const TICKET_DOMAIN = "tally/ticket/v1";
export const DRAW_COMMIT_DOMAIN = "tally/draw-commit/v1";
export const DRAW_SEED_DOMAIN = "tally/draw/v1";

export interface LotteryPick {
  /** How many distinct winning numbers. */
  readonly count: number;
  /** Numbers are drawn from 1..max. */
  readonly max: number;
}

/** The reveals a draw needs: a strict majority of the drawers (2 of 3, 3 of 4 or 5, ...). */
export function lotteryRevealQuorum(drawers: number): number {
  return Math.floor(drawers / 2) + 1;
}

// ---- tickets ------------------------------------------------------------------------------------

export interface Ticket {
  readonly roundId: string;
  readonly batchId: string;
  /** Position in the batch, 0-based: the Merkle leaf index. */
  readonly index: number;
  /** The buyer's 32-byte commitment (the same as in the batch's buyerTotals). */
  readonly buyer: Uint8Array;
  readonly data: Uint8Array;
}

/** The Merkle leaf of a ticket: H(CBOR(["tally/ticket/v1", roundId, batchId, index, buyer, data])). */
export function ticketLeaf(hash: HashFn, t: Ticket): Uint8Array {
  return hash(encode([TICKET_DOMAIN, t.roundId, t.batchId, t.index, t.buyer, t.data]));
}

/** The batch root of tickets given in index order (ticket i must have index i). */
export function ticketsRoot(hash: HashFn, tickets: readonly Ticket[]): Uint8Array {
  return merkleRoot(hash, ticketLeaves(hash, tickets));
}

export function ticketProof(hash: HashFn, tickets: readonly Ticket[], index: number): MerkleProof {
  return merkleProof(hash, ticketLeaves(hash, tickets), index);
}

function ticketLeaves(hash: HashFn, tickets: readonly Ticket[]): Uint8Array[] {
  return tickets.map((t, i) => {
    if (t.index !== i) throw new TallyError("BAD_ARGS", "tickets must be given in index order", { field: "index", index: i });
    return ticketLeaf(hash, t);
  });
}

/** What the ledger recorded of a batch (from the `batch` query or the sealing receipt's result). */
export interface SealedBatch {
  readonly roundId: string;
  readonly batchId: string;
  readonly merkleRoot: Uint8Array;
  readonly count: number;
  /** Buyers whose purchases the batch was refused for (over the cap): their tickets are not sold. */
  readonly rejectedBuyers: readonly Uint8Array[];
}

/**
 * A ticket was sold in a sealed batch: it names the batch, its proof is for the recorded root over
 * exactly `count` leaves at the ticket's index, and its buyer was not refused. Never throws.
 */
export function verifyTicket(hash: HashFn, ticket: Ticket, proof: MerkleProof, batch: SealedBatch): boolean {
  try {
    if (ticket.roundId !== batch.roundId || ticket.batchId !== batch.batchId) return false;
    if (proof.index !== ticket.index || proof.total !== batch.count) return false;
    if (!(ticket.buyer instanceof Uint8Array) || ticket.buyer.length !== LOTTERY_HASH_BYTES) return false;
    if (batch.rejectedBuyers.some((b) => equalBytes(b, ticket.buyer))) return false;
    return verifyMerkleProof(hash, batch.merkleRoot, ticketLeaf(hash, ticket), proof);
  } catch {
    return false;
  }
}

// ---- the draw -----------------------------------------------------------------------------------

/** A drawer's commitment: H(CBOR(["tally/draw-commit/v1", roundId, org, secret])). */
export function drawCommitment(hash: HashFn, roundId: string, org: string, secret: Uint8Array): Uint8Array {
  return hash(encode([DRAW_COMMIT_DOMAIN, roundId, org, secret]));
}

/** Byte order of UTF-8 (= code-unit order for the ASCII org ids), never locale order. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The seed: H(CBOR(["tally/draw/v1", roundId, [secrets of the revealers in org-id order],
 * [org ids of the drawers that did not reveal, in order]])).
 */
export function drawSeed(
  hash: HashFn,
  roundId: string,
  reveals: ReadonlyArray<{ readonly org: string; readonly secret: Uint8Array }>,
  defaulted: readonly string[],
): Uint8Array {
  const sorted = [...reveals].sort((x, y) => compareIds(x.org, y.org));
  return hash(encode([DRAW_SEED_DOMAIN, roundId, sorted.map((r) => r.secret), [...defaulted].sort(compareIds)]));
}

function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/**
 * `pick.count` distinct numbers from 1..pick.max, in draw order. The bytes of H(seed ‖ u32be(k)) for
 * k = 0, 1, ... are candidates in turn: a byte b ≥ 256 − (256 mod max) is rejected (so every number
 * is equally likely: no modulo bias), otherwise n = (b mod max) + 1 is taken unless already drawn.
 */
export function drawNumbers(hash: HashFn, seed: Uint8Array, pick: LotteryPick): number[] {
  checkPick(pick);
  const limit = 256 - (256 % pick.max);
  const picked: number[] = [];
  for (let k = 0; picked.length < pick.count; k++) {
    if (k > 0xffff_ffff) throw new TallyError("INTERNAL", "draw counter exhausted");
    for (const b of hash(concatBytes(seed, u32be(k)))) {
      if (b >= limit) continue;
      const n = (b % pick.max) + 1;
      if (!picked.includes(n)) picked.push(n);
      if (picked.length === pick.count) break;
    }
  }
  return picked;
}

export function checkPick(pick: LotteryPick): void {
  const { count, max } = pick;
  if (!Number.isSafeInteger(count) || count < 1 || count > LOTTERY_PICK_COUNT_MAX) {
    throw new TallyError("BAD_ARGS", `pick.count must be 1 to ${LOTTERY_PICK_COUNT_MAX}`, { field: "pick.count" });
  }
  if (!Number.isSafeInteger(max) || max < count || max > LOTTERY_PICK_MAX_MAX) {
    throw new TallyError("BAD_ARGS", `pick.max must be from pick.count to ${LOTTERY_PICK_MAX_MAX}`, { field: "pick.max" });
  }
}

export interface DrawInput {
  readonly roundId: string;
  /** All drawer orgs of the round. */
  readonly drawers: readonly string[];
  readonly pick: LotteryPick;
  /** The secrets revealed in time (one per revealing org). */
  readonly reveals: ReadonlyArray<{ readonly org: string; readonly secret: Uint8Array }>;
}

export interface DrawOutcome {
  readonly status: "drawn" | "void";
  /** Revealing orgs, in id order. */
  readonly revealers: string[];
  /** Drawers that did not reveal in time (or never committed), in id order. */
  readonly defaulted: string[];
  /** null when void. */
  readonly seed: Uint8Array | null;
  /** Empty when void. */
  readonly numbers: number[];
}

/** The draw of a round from its drawers and timely reveals: what the ledger records, recomputable by anyone. */
export function computeDraw(hash: HashFn, input: DrawInput): DrawOutcome {
  const revealed = new Set(input.reveals.map((r) => r.org));
  const revealers = [...revealed].sort(compareIds);
  const defaulted = input.drawers.filter((d) => !revealed.has(d)).sort(compareIds);
  if (revealers.length < lotteryRevealQuorum(input.drawers.length)) {
    return { status: "void", revealers, defaulted, seed: null, numbers: [] };
  }
  const seed = drawSeed(hash, input.roundId, input.reveals, defaulted);
  return { status: "drawn", revealers, defaulted, seed, numbers: drawNumbers(hash, seed, input.pick) };
}

// ---- state keys -----------------------------------------------------------------------------------

/** lottery/r/<roundId> -> round record */
export function lotteryRoundKey(roundId: string): Uint8Array {
  return moduleKey("lottery", utf8(`r/${roundId}`));
}

/** lottery/b/<roundId>/<batchId> -> batch record */
export function lotteryBatchKey(roundId: string, batchId: string): Uint8Array {
  return moduleKey("lottery", utf8(`b/${roundId}/${batchId}`));
}

/** lottery/t/<roundId>/<buyer hex> -> the buyer's running total (bytes32; absent = 0) */
export function lotteryBuyerTotalKey(roundId: string, buyer: Uint8Array): Uint8Array {
  return moduleKey("lottery", utf8(`t/${roundId}/${toHex(buyer)}`));
}

/** lottery/c/<roundId>/<org> -> a drawer's commitment (and its reveal) */
export function lotteryCommitKey(roundId: string, org: string): Uint8Array {
  return moduleKey("lottery", utf8(`c/${roundId}/${org}`));
}

/** lottery/x/<roundId> -> refused purchases of the round (the regulator's counters) */
export function lotteryRefusalsKey(roundId: string): Uint8Array {
  return moduleKey("lottery", utf8(`x/${roundId}`));
}

/** lottery/d/<roundId> -> the draw's outcome */
export function lotteryDrawKey(roundId: string): Uint8Array {
  return moduleKey("lottery", utf8(`d/${roundId}`));
}

// ---- records ----------------------------------------------------------------------------------------

export interface RoundRecord {
  readonly roundId: string;
  readonly game: string;
  /** Address of the centre account that opened it. */
  readonly centre: string;
  readonly openedAt: number;
  readonly closeHeight: number;
  readonly revealDeadline: number;
  /** Distinct org ids, in id order. */
  readonly drawers: readonly string[];
  readonly pick: LotteryPick;
  readonly capPerBuyer: bigint;
  readonly batches: number;
  readonly tickets: number;
  /** Sum of accepted buyer amounts. */
  readonly sold: bigint;
}

export interface BatchRejection {
  readonly buyer: Uint8Array;
  readonly amount: bigint;
  /** The buyer's running total before this batch. */
  readonly total: bigint;
  readonly cap: bigint;
}

export interface BatchRecord {
  readonly roundId: string;
  readonly batchId: string;
  readonly merkleRoot: Uint8Array;
  readonly count: number;
  readonly terminal: string;
  readonly height: number;
  readonly txHash: Uint8Array;
  readonly accepted: number;
  readonly rejected: readonly BatchRejection[];
}

export interface CommitRecord {
  readonly org: string;
  readonly commitment: Uint8Array;
  /** Address of the org-admin account that committed. */
  readonly by: string;
  readonly height: number;
  readonly secret: Uint8Array | null;
  readonly revealedAt: number | null;
}

export interface RefusalsRecord {
  /** Refused (batch, buyer) purchases. */
  readonly refused: number;
  readonly amount: bigint;
  /** Batches with at least one refusal. */
  readonly batches: number;
}

export interface DrawRecord extends DrawOutcome {
  readonly roundId: string;
  readonly height: number;
  readonly txHash: Uint8Array;
}

type Fields = { readonly [key: string]: Value };

function fields(bytes: Uint8Array, what: string): Fields {
  const v = decode(bytes);
  if (!isValueMap(v)) throw new TallyError("BAD_ENCODING", `a lottery ${what} is a map`);
  return v;
}

const amt = (v: Value | undefined): bigint => tokenAmountFromBytes(v as Uint8Array);

export function encodeRoundRecord(r: RoundRecord): Uint8Array {
  return encode({
    roundId: r.roundId,
    game: r.game,
    centre: r.centre,
    openedAt: r.openedAt,
    closeHeight: r.closeHeight,
    revealDeadline: r.revealDeadline,
    drawers: [...r.drawers],
    pick: { count: r.pick.count, max: r.pick.max },
    capPerBuyer: tokenAmountToBytes(r.capPerBuyer),
    batches: r.batches,
    tickets: r.tickets,
    sold: tokenAmountToBytes(r.sold),
  });
}

export function decodeRoundRecord(bytes: Uint8Array): RoundRecord {
  const m = fields(bytes, "round");
  const pick = m.pick as Fields;
  return {
    roundId: m.roundId as string,
    game: m.game as string,
    centre: m.centre as string,
    openedAt: m.openedAt as number,
    closeHeight: m.closeHeight as number,
    revealDeadline: m.revealDeadline as number,
    drawers: m.drawers as string[],
    pick: { count: pick.count as number, max: pick.max as number },
    capPerBuyer: amt(m.capPerBuyer),
    batches: m.batches as number,
    tickets: m.tickets as number,
    sold: amt(m.sold),
  };
}

export function encodeBatchRecord(b: BatchRecord): Uint8Array {
  return encode({
    roundId: b.roundId,
    batchId: b.batchId,
    merkleRoot: b.merkleRoot,
    count: b.count,
    terminal: b.terminal,
    height: b.height,
    txHash: b.txHash,
    accepted: b.accepted,
    rejected: b.rejected.map((r) => ({
      buyer: r.buyer,
      amount: tokenAmountToBytes(r.amount),
      total: tokenAmountToBytes(r.total),
      cap: tokenAmountToBytes(r.cap),
    })),
  });
}

export function decodeBatchRecord(bytes: Uint8Array): BatchRecord {
  const m = fields(bytes, "batch");
  return {
    roundId: m.roundId as string,
    batchId: m.batchId as string,
    merkleRoot: m.merkleRoot as Uint8Array,
    count: m.count as number,
    terminal: m.terminal as string,
    height: m.height as number,
    txHash: m.txHash as Uint8Array,
    accepted: m.accepted as number,
    rejected: (m.rejected as Fields[]).map((r) => ({
      buyer: r.buyer as Uint8Array,
      amount: amt(r.amount),
      total: amt(r.total),
      cap: amt(r.cap),
    })),
  };
}

export function encodeCommitRecord(c: CommitRecord): Uint8Array {
  return encode({ org: c.org, commitment: c.commitment, by: c.by, height: c.height, secret: c.secret, revealedAt: c.revealedAt });
}

export function decodeCommitRecord(bytes: Uint8Array): CommitRecord {
  const m = fields(bytes, "commitment");
  return {
    org: m.org as string,
    commitment: m.commitment as Uint8Array,
    by: m.by as string,
    height: m.height as number,
    secret: (m.secret ?? null) as Uint8Array | null,
    revealedAt: (m.revealedAt ?? null) as number | null,
  };
}

export function encodeRefusalsRecord(r: RefusalsRecord): Uint8Array {
  return encode({ refused: r.refused, amount: tokenAmountToBytes(r.amount), batches: r.batches });
}

/** Absent (null) is no refusal yet. */
export function decodeRefusalsRecord(bytes: Uint8Array | null): RefusalsRecord {
  if (bytes === null) return { refused: 0, amount: 0n, batches: 0 };
  const m = fields(bytes, "refusals record");
  return { refused: m.refused as number, amount: amt(m.amount), batches: m.batches as number };
}

export function encodeDrawRecord(d: DrawRecord): Uint8Array {
  return encode({
    roundId: d.roundId,
    status: d.status,
    revealers: [...d.revealers],
    defaulted: [...d.defaulted],
    seed: d.seed,
    numbers: [...d.numbers],
    height: d.height,
    txHash: d.txHash,
  });
}

export function decodeDrawRecord(bytes: Uint8Array): DrawRecord {
  const m = fields(bytes, "draw");
  return {
    roundId: m.roundId as string,
    status: m.status as "drawn" | "void",
    revealers: m.revealers as string[],
    defaulted: m.defaulted as string[],
    seed: (m.seed ?? null) as Uint8Array | null,
    numbers: m.numbers as number[],
    height: m.height as number,
    txHash: m.txHash as Uint8Array,
  };
}
