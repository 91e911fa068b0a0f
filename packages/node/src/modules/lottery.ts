/**
 * Lottery (spec/modules/lottery.md): a `lottery-centre` opens a round with its close height, reveal
 * deadline, drawer organisations and per-buyer purchase cap; `lottery-terminal`s seal batches of
 * sold tickets as Merkle roots before close, with the buyers' totals (pseudonymous commitments) kept
 * under the cap; the drawer organisations commit to secrets before close and reveal them after, and
 * anyone then runs the draw, whose numbers are a pure function of ledger data (core/src/lottery.ts).
 */
import {
  type BatchRecord,
  type BatchRejection,
  type CommitRecord,
  compareIds,
  computeDraw,
  type DrawRecord,
  decodeBatchRecord,
  decodeCommitRecord,
  decodeDrawRecord,
  decodeRefusalsRecord,
  decodeRoundRecord,
  decodeTokenBalance,
  drawCommitment,
  encodeBatchRecord,
  encodeCommitRecord,
  encodeDrawRecord,
  encodeRefusalsRecord,
  encodeRoundRecord,
  encodeTokenBalance,
  equalBytes,
  fromHex,
  LOTTERY_BATCH_TICKETS_MAX,
  LOTTERY_BUYER_TOTALS_MAX,
  LOTTERY_DRAWERS_MAX,
  LOTTERY_DRAWERS_MIN,
  LOTTERY_GAME_LENGTH_MAX,
  LOTTERY_ID_RE,
  LOTTERY_PICK_COUNT_MAX,
  LOTTERY_PICK_MAX_MAX,
  type LotteryPick,
  lotteryBatchKey,
  lotteryBuyerTotalKey,
  lotteryCommitKey,
  lotteryDrawKey,
  lotteryRefusalsKey,
  lotteryRevealQuorum,
  lotteryRoundKey,
  ORG_ID_RE,
  orgKey,
  parseTokenAmount,
  ROLES,
  type RoundRecord,
  TallyError,
  TOKEN_AMOUNT_MAX,
  TOKEN_AMOUNT_RE,
  toHex,
} from "@tally/core";
import { type CallContext, defineMethod, defineQuery, type Module, type QueryContext } from "../execution/module.js";
import { type Schema, s } from "../execution/schema.js";

const MODULE = "lottery";
type Get = (key: Uint8Array) => Uint8Array | null;
type Args<S> = S extends Schema<infer A> ? A : never;

function bad(field: string, message: string): never {
  throw new TallyError("BAD_ARGS", `${field} ${message}`, { field });
}

/** A wire amount (decimal string) parsed to bigint; > 0. */
const amount: Schema<bigint> = {
  description: `a decimal string matching ${TOKEN_AMOUNT_RE}, greater than 0`,
  parse: (v, path) => parseTokenAmount(v, path || "amount", true),
};

function boundedUint(min: number, max: number): Schema<number> {
  return {
    description: `an integer from ${min} to ${max}`,
    parse(v, path) {
      const n = s.uint().parse(v, path);
      if (n < min || n > max) bad(path, `must be an integer from ${min} to ${max}`);
      return n;
    },
  };
}

const id = s.string({ maxLength: 64, pattern: LOTTERY_ID_RE });
const orgId = s.string({ maxLength: 64, pattern: ORG_ID_RE });
const hash32 = s.bytes(32);
/** In queries bytes arrive as JSON hex strings. */
const hexHash: Schema<Uint8Array> = {
  description: "64 lowercase hex characters (32 bytes), optionally 0x-prefixed",
  parse(v, path) {
    if (typeof v !== "string" || !/^(0x)?[0-9a-f]{64}$/.test(v)) bad(path, "must be 64 lowercase hex characters");
    return fromHex((v as string).replace(/^0x/, ""), 32);
  },
};

const pickSchema: Schema<LotteryPick> = {
  description: `{ count: 1 to ${LOTTERY_PICK_COUNT_MAX}; max: count to ${LOTTERY_PICK_MAX_MAX} }`,
  parse(v, path) {
    const p = s.object({ count: boundedUint(1, LOTTERY_PICK_COUNT_MAX), max: boundedUint(1, LOTTERY_PICK_MAX_MAX) }).parse(v, path);
    if (p.max < p.count) bad(`${path}.max`, "must be at least pick.count");
    return p;
  },
};

const drawersSchema: Schema<string[]> = {
  description: `${LOTTERY_DRAWERS_MIN} to ${LOTTERY_DRAWERS_MAX} distinct organisation ids`,
  parse(v, path) {
    const list = s.array(orgId, LOTTERY_DRAWERS_MAX).parse(v, path);
    if (list.length < LOTTERY_DRAWERS_MIN) bad(path, `must name at least ${LOTTERY_DRAWERS_MIN} organisations`);
    if (new Set(list).size !== list.length) bad(path, "must be distinct");
    return [...list].sort(compareIds);
  },
};

const buyerTotalsSchema: Schema<Array<{ buyer: Uint8Array; amount: bigint }>> = {
  description: `1 to ${LOTTERY_BUYER_TOTALS_MAX} entries { buyer: 32 bytes; amount > 0 }, buyers distinct`,
  parse(v, path) {
    const list = s.array(s.object({ buyer: hash32, amount }), LOTTERY_BUYER_TOTALS_MAX).parse(v, path);
    if (list.length === 0) bad(path, "must have at least one entry");
    if (new Set(list.map((e) => toHex(e.buyer))).size !== list.length) bad(path, "must name each buyer once");
    return list;
  },
};

const openArgs = s.object({
  roundId: id,
  game: s.string({ maxLength: LOTTERY_GAME_LENGTH_MAX }),
  closeHeight: s.uint(),
  revealDeadline: s.uint(),
  drawers: drawersSchema,
  pick: pickSchema,
  capPerBuyer: amount,
});
const sealArgs = s.object({
  roundId: id,
  batchId: id,
  merkleRoot: hash32,
  count: boundedUint(1, LOTTERY_BATCH_TICKETS_MAX),
  buyerTotals: buyerTotalsSchema,
});
const commitArgs = s.object({ roundId: id, commitment: hash32 });
const revealArgs = s.object({ roundId: id, secret: hash32 });
const roundArgs = s.object({ roundId: id });

// ---- reads --------------------------------------------------------------------------------------

function readRound(get: Get, roundId: string): RoundRecord {
  const bytes = get(lotteryRoundKey(roundId));
  if (bytes === null) throw new TallyError("NO_SUCH_ROUND", undefined, { roundId });
  return decodeRoundRecord(bytes);
}

function readCommit(get: Get, roundId: string, org: string): CommitRecord | null {
  const bytes = get(lotteryCommitKey(roundId, org));
  return bytes === null ? null : decodeCommitRecord(bytes);
}

function readDraw(get: Get, roundId: string): DrawRecord | null {
  const bytes = get(lotteryDrawKey(roundId));
  return bytes === null ? null : decodeDrawRecord(bytes);
}

const buyerTotal = (get: Get, roundId: string, buyer: Uint8Array): bigint => decodeTokenBalance(get(lotteryBuyerTotalKey(roundId, buyer)));

// ---- checks -------------------------------------------------------------------------------------

function refuseAfterClose(ctx: CallContext, round: RoundRecord): void {
  if (ctx.height > round.closeHeight) {
    throw new TallyError("ROUND_CLOSED", undefined, { roundId: round.roundId, closeHeight: round.closeHeight, height: ctx.height });
  }
}

function refuseBeforeClose(ctx: CallContext, round: RoundRecord): void {
  if (ctx.height <= round.closeHeight) {
    throw new TallyError("ROUND_OPEN", undefined, { roundId: round.roundId, closeHeight: round.closeHeight, height: ctx.height });
  }
}

/** A drawer acts through an org-admin account of its organisation. */
function requireDrawer(ctx: CallContext, round: RoundRecord): string {
  if (!ctx.callerRoles.includes(ROLES.orgAdmin) || !round.drawers.includes(ctx.callerOrg)) {
    throw new TallyError("NOT_A_DRAWER", undefined, { roundId: round.roundId, org: ctx.callerOrg });
  }
  return ctx.callerOrg;
}

function checkSchedule(ctx: CallContext, args: { closeHeight: number; revealDeadline: number }): void {
  if (args.closeHeight <= ctx.height) bad("closeHeight", `must be above the height of this block (${ctx.height})`);
  if (args.revealDeadline <= args.closeHeight) bad("revealDeadline", "must be above closeHeight");
}

// ---- methods ------------------------------------------------------------------------------------

function openRound(ctx: CallContext, args: Args<typeof openArgs>) {
  if (ctx.get(lotteryRoundKey(args.roundId)) !== null) throw new TallyError("ROUND_EXISTS", undefined, { roundId: args.roundId });
  checkSchedule(ctx, args);
  for (const org of args.drawers) {
    if (ctx.get(orgKey(org)) === null) throw new TallyError("NO_SUCH_ORG", undefined, { org });
  }
  const round: RoundRecord = {
    roundId: args.roundId,
    game: args.game,
    centre: ctx.caller,
    openedAt: ctx.height,
    closeHeight: args.closeHeight,
    revealDeadline: args.revealDeadline,
    drawers: args.drawers,
    pick: args.pick,
    capPerBuyer: args.capPerBuyer,
    batches: 0,
    tickets: 0,
    sold: 0n,
  };
  ctx.set(lotteryRoundKey(args.roundId), encodeRoundRecord(round));
  const data = {
    roundId: args.roundId,
    game: args.game,
    closeHeight: args.closeHeight,
    revealDeadline: args.revealDeadline,
    drawers: [...args.drawers],
    pick: { count: args.pick.count, max: args.pick.max },
    capPerBuyer: args.capPerBuyer.toString(),
  };
  ctx.emit("round-opened", data);
  return data;
}

/**
 * Applies each buyer's amount in order: an amount that would take the buyer's running total above
 * the cap is refused (that buyer's tickets of the batch are not sold) and counted, the rest is added.
 */
function applyBuyerTotals(ctx: CallContext, round: RoundRecord, entries: ReadonlyArray<{ buyer: Uint8Array; amount: bigint }>) {
  const rejected: BatchRejection[] = [];
  let sold = 0n;
  for (const { buyer, amount: value } of entries) {
    const total = buyerTotal(ctx.get, round.roundId, buyer);
    if (total + value > round.capPerBuyer) {
      rejected.push({ buyer, amount: value, total, cap: round.capPerBuyer });
      continue;
    }
    ctx.set(lotteryBuyerTotalKey(round.roundId, buyer), encodeTokenBalance(total + value));
    sold += value;
  }
  return { rejected, sold };
}

function countRefusals(ctx: CallContext, roundId: string, rejected: readonly BatchRejection[]): void {
  if (rejected.length === 0) return;
  const key = lotteryRefusalsKey(roundId);
  const r = decodeRefusalsRecord(ctx.get(key));
  const refusedAmount = rejected.reduce((sum, x) => sum + x.amount, 0n);
  ctx.set(key, encodeRefusalsRecord({ refused: r.refused + rejected.length, amount: r.amount + refusedAmount, batches: r.batches + 1 }));
}

function rejectionJson(r: BatchRejection) {
  return { buyer: r.buyer, amount: r.amount.toString(), total: r.total.toString(), cap: r.cap.toString() };
}

function sealBatch(ctx: CallContext, args: Args<typeof sealArgs>) {
  const round = readRound(ctx.get, args.roundId);
  refuseAfterClose(ctx, round);
  const key = lotteryBatchKey(args.roundId, args.batchId);
  if (ctx.get(key) !== null) throw new TallyError("BATCH_EXISTS", undefined, { roundId: args.roundId, batchId: args.batchId });
  const { rejected, sold } = applyBuyerTotals(ctx, round, args.buyerTotals);
  const batch: BatchRecord = {
    roundId: args.roundId,
    batchId: args.batchId,
    merkleRoot: args.merkleRoot,
    count: args.count,
    terminal: ctx.caller,
    height: ctx.height,
    txHash: ctx.txHash,
    accepted: args.buyerTotals.length - rejected.length,
    rejected,
  };
  ctx.set(key, encodeBatchRecord(batch));
  // Cannot exceed TOKEN_AMOUNT_MAX in practice; checked so that a corrupt total fails loudly, not silently.
  if (round.sold + sold > TOKEN_AMOUNT_MAX) bad("buyerTotals", "would exceed the largest amount");
  ctx.set(
    lotteryRoundKey(args.roundId),
    encodeRoundRecord({ ...round, batches: round.batches + 1, tickets: round.tickets + args.count, sold: round.sold + sold }),
  );
  countRefusals(ctx, args.roundId, rejected);
  const summary = {
    roundId: args.roundId,
    batchId: args.batchId,
    merkleRoot: args.merkleRoot,
    count: args.count,
    closeHeight: round.closeHeight,
    accepted: batch.accepted,
    rejected: rejected.map(rejectionJson),
  };
  ctx.emit("batch-sealed", { ...summary, rejected: rejected.length });
  return summary;
}

function commitDraw(ctx: CallContext, args: { roundId: string; commitment: Uint8Array }) {
  const round = readRound(ctx.get, args.roundId);
  const org = requireDrawer(ctx, round);
  refuseAfterClose(ctx, round);
  if (readCommit(ctx.get, args.roundId, org) !== null) throw new TallyError("DRAW_COMMITTED", undefined, { roundId: args.roundId, org });
  const record: CommitRecord = { org, commitment: args.commitment, by: ctx.caller, height: ctx.height, secret: null, revealedAt: null };
  ctx.set(lotteryCommitKey(args.roundId, org), encodeCommitRecord(record));
  ctx.emit("draw-committed", { roundId: args.roundId, org, commitment: args.commitment });
  return { roundId: args.roundId, org, commitment: args.commitment };
}

function revealDraw(ctx: CallContext, args: { roundId: string; secret: Uint8Array }) {
  const round = readRound(ctx.get, args.roundId);
  const org = requireDrawer(ctx, round);
  refuseBeforeClose(ctx, round);
  if (ctx.height > round.revealDeadline) {
    throw new TallyError("REVEAL_LATE", undefined, { roundId: args.roundId, revealDeadline: round.revealDeadline, height: ctx.height });
  }
  const commit = readCommit(ctx.get, args.roundId, org);
  if (commit === null) throw new TallyError("DRAW_NOT_COMMITTED", undefined, { roundId: args.roundId, org });
  if (commit.secret !== null) throw new TallyError("ALREADY_REVEALED", undefined, { roundId: args.roundId, org });
  if (!equalBytes(drawCommitment(ctx.suite.hash, args.roundId, org, args.secret), commit.commitment)) {
    throw new TallyError("REVEAL_MISMATCH", undefined, { roundId: args.roundId, org });
  }
  ctx.set(lotteryCommitKey(args.roundId, org), encodeCommitRecord({ ...commit, secret: args.secret, revealedAt: ctx.height }));
  ctx.emit("draw-revealed", { roundId: args.roundId, org, secret: args.secret });
  return { roundId: args.roundId, org };
}

function commitsOf(get: Get, round: RoundRecord): CommitRecord[] {
  return round.drawers.flatMap((org) => readCommit(get, round.roundId, org) ?? []);
}

function draw(ctx: CallContext, args: { roundId: string }) {
  const round = readRound(ctx.get, args.roundId);
  const done = readDraw(ctx.get, args.roundId);
  if (done !== null) throw new TallyError(done.status === "void" ? "DRAW_VOID" : "DRAW_DONE", undefined, { roundId: args.roundId });
  refuseBeforeClose(ctx, round);
  const commits = commitsOf(ctx.get, round);
  const pending = commits.filter((c) => c.secret === null).map((c) => c.org);
  // After close the set of commitments is fixed: once all of them are revealed nothing can change.
  if (ctx.height <= round.revealDeadline && pending.length > 0) {
    throw new TallyError("REVEALS_PENDING", undefined, {
      roundId: args.roundId,
      revealDeadline: round.revealDeadline,
      pending: pending.join(","),
    });
  }
  const reveals = commits.flatMap((c) => (c.secret === null ? [] : [{ org: c.org, secret: c.secret }]));
  const outcome = computeDraw(ctx.suite.hash, { roundId: args.roundId, drawers: round.drawers, pick: round.pick, reveals });
  const record: DrawRecord = { ...outcome, roundId: args.roundId, height: ctx.height, txHash: ctx.txHash };
  ctx.set(lotteryDrawKey(args.roundId), encodeDrawRecord(record));
  const json = drawJson(record);
  ctx.emit(outcome.status === "void" ? "draw-void" : "drawn", json);
  return json;
}

// ---- queries ------------------------------------------------------------------------------------

function drawJson(d: DrawRecord) {
  return {
    roundId: d.roundId,
    status: d.status,
    revealers: [...d.revealers],
    defaulted: [...d.defaulted],
    seed: d.seed,
    numbers: [...d.numbers],
    height: d.height,
    txHash: d.txHash,
  };
}

/** Where the round stands at `height`. */
function roundStatus(round: RoundRecord, drawn: DrawRecord | null, height: number): string {
  if (drawn !== null) return drawn.status;
  if (height < round.closeHeight) return "selling";
  if (height < round.revealDeadline) return "revealing";
  return "awaiting-draw";
}

function roundJson(ctx: QueryContext, round: RoundRecord) {
  const drawn = readDraw(ctx.get, round.roundId);
  return {
    roundId: round.roundId,
    game: round.game,
    centre: round.centre,
    openedAt: round.openedAt,
    closeHeight: round.closeHeight,
    revealDeadline: round.revealDeadline,
    pick: { count: round.pick.count, max: round.pick.max },
    capPerBuyer: round.capPerBuyer.toString(),
    status: roundStatus(round, drawn, ctx.height),
    batches: round.batches,
    tickets: round.tickets,
    sold: round.sold.toString(),
    revealQuorum: lotteryRevealQuorum(round.drawers.length),
    drawers: round.drawers.map((org) => {
      const c = readCommit(ctx.get, round.roundId, org);
      return {
        org,
        commitment: c?.commitment ?? null,
        committedAt: c?.height ?? null,
        secret: c?.secret ?? null,
        revealedAt: c?.revealedAt ?? null,
      };
    }),
    result: drawn === null ? null : drawJson(drawn),
  };
}

function batchJson(b: BatchRecord) {
  return {
    roundId: b.roundId,
    batchId: b.batchId,
    merkleRoot: b.merkleRoot,
    count: b.count,
    terminal: b.terminal,
    height: b.height,
    txHash: b.txHash,
    accepted: b.accepted,
    rejected: b.rejected.map(rejectionJson),
  };
}

export const lotteryModule: Module = {
  name: MODULE,
  queries: {
    round: defineQuery({
      description: "A round: configuration, status, batches and tickets sold, drawer commitments and reveals, and the draw's result.",
      args: roundArgs,
      run: (ctx, args) => roundJson(ctx, readRound(ctx.get, args.roundId)),
    }),
    batch: defineQuery({
      description: "A sealed batch: Merkle root, ticket count, terminal, height, transaction and refused buyers.",
      args: s.object({ roundId: id, batchId: id }),
      run(ctx, args) {
        readRound(ctx.get, args.roundId);
        const bytes = ctx.get(lotteryBatchKey(args.roundId, args.batchId));
        if (bytes === null) throw new TallyError("NO_SUCH_BATCH", undefined, { roundId: args.roundId, batchId: args.batchId });
        return batchJson(decodeBatchRecord(bytes));
      },
    }),
    buyerTotal: defineQuery({
      description: "A buyer's running total in a round, the cap and what remains (centre, terminals, regulators; signed).",
      args: s.object({ roundId: id, buyer: hexHash }),
      roles: [ROLES.lotteryCentre, ROLES.lotteryTerminal, ROLES.regulator],
      run(ctx, args) {
        const round = readRound(ctx.get, args.roundId);
        const total = buyerTotal(ctx.get, args.roundId, args.buyer);
        const cap = round.capPerBuyer;
        return {
          roundId: args.roundId,
          buyer: args.buyer,
          total: total.toString(),
          cap: cap.toString(),
          remaining: (total >= cap ? 0n : cap - total).toString(),
        };
      },
    }),
    refusals: defineQuery({
      description: "Purchases refused for exceeding the cap in a round (the period): count, amount, batches (regulators; signed).",
      args: roundArgs,
      roles: [ROLES.regulator],
      run(ctx, args) {
        readRound(ctx.get, args.roundId);
        const r = decodeRefusalsRecord(ctx.get(lotteryRefusalsKey(args.roundId)));
        return { roundId: args.roundId, period: args.roundId, refused: r.refused, amount: r.amount.toString(), batches: r.batches };
      },
    }),
    draw: defineQuery({
      description: "The draw of a round: status (pending, drawn, void), revealers, defaulted drawers, seed and winning numbers.",
      args: roundArgs,
      run(ctx, args) {
        readRound(ctx.get, args.roundId);
        const d = readDraw(ctx.get, args.roundId);
        return d === null ? { roundId: args.roundId, status: "pending" } : drawJson(d);
      },
    }),
  },
  methods: {
    "open-round": defineMethod({
      description: "Open a round (lottery-centre): close height, reveal deadline, drawer orgs, winning-number pick and per-buyer cap.",
      args: openArgs,
      roles: [ROLES.lotteryCentre],
      precheck(ctx, args) {
        if (ctx.get(lotteryRoundKey(args.roundId)) !== null) throw new TallyError("ROUND_EXISTS", undefined, { roundId: args.roundId });
      },
      run: openRound,
    }),
    "seal-batch": defineMethod({
      description: "Seal a batch of sold tickets (lottery-terminal) before close: Merkle root, count and per-buyer totals under the cap.",
      args: sealArgs,
      roles: [ROLES.lotteryTerminal],
      run: sealBatch,
    }),
    "commit-draw": defineMethod({
      description: "Commit to a draw secret before close (an org-admin of a drawer organisation; once per organisation).",
      args: commitArgs,
      run: commitDraw,
    }),
    "reveal-draw": defineMethod({
      description: "Reveal the committed draw secret after close and until the reveal deadline (an org-admin of the drawer).",
      args: revealArgs,
      run: revealDraw,
    }),
    draw: defineMethod({
      description: "Run the draw (anyone) after the reveal deadline, or after close once every commitment is revealed.",
      args: roundArgs,
      run: draw,
    }),
  },
};
