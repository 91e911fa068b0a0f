import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import {
  computeDraw,
  concatBytes,
  decodeDrawRecord,
  drawCommitment,
  drawNumbers,
  drawSeed,
  fromHex,
  getSuite,
  lotteryDrawKey,
  lotteryRevealQuorum,
  TallyError,
  type Ticket,
  type TxResult,
  ticketLeaf,
  ticketProof,
  ticketsRoot,
  toHex,
  utf8,
  type Value,
  verifyTicket,
} from "@tally/core";
import { MemoryChain, makeNet, SUITES, type TestAccount } from "./helpers.js";

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => err instanceof TallyError && err.code === code);
}

const sha256 = (b: Uint8Array) => new Uint8Array(createHash("sha256").update(b).digest());

/** Draw-number vectors: the same seed (below) under both suites' hash functions. */
const SEED_VECTORS = {
  ed25519: {
    seed: "ef961b906a1129a4a9e9d205cac5a79f60fb74dd6936e0ead7427de460fd46f7",
    commit: "c5ea0a30781996664f4541bcaf9f044035cf687de08aa425d1550638518086b4",
    leaf: "b61c74617acfb00ead1679a0fc69a96c4c003970447fcc92e4336fd7a19a8533",
    numbers: [
      [{ count: 6, max: 49 }, [49, 25, 33, 24, 6, 9]],
      [{ count: 1, max: 1 }, [1]],
      [{ count: 5, max: 5 }, [4, 3, 5, 1, 2]],
      [{ count: 20, max: 99 }, [49, 74, 24, 54, 5, 7, 1, 82, 13, 96, 80, 86, 84, 68, 40, 33, 65, 89, 45, 55]],
      [{ count: 3, max: 10 }, [9, 4, 3]],
    ],
  },
  sm2: {
    seed: "11a3801911019c90badb0cea65395df8116cdf5f4714ae199b1a77f27eed7968",
    commit: "991584071deb190e0490d4e889c99a53922e9d8fdc8c168b5b79522399db98f2",
    leaf: "1bba8aafffce0b063a0a010669229f8bb55194a2b3c229e4e133db9e7b8603cc",
    numbers: [
      [{ count: 6, max: 49 }, [13, 25, 35, 30, 46, 48]],
      [{ count: 1, max: 1 }, [1]],
      [{ count: 5, max: 5 }, [4, 5, 3, 2, 1]],
      [{ count: 20, max: 99 }, [25, 84, 30, 95, 48, 35, 17, 32, 4, 20, 74, 77, 15, 98, 73, 60, 18, 27, 94, 34]],
      [{ count: 3, max: 10 }, [9, 5, 4]],
    ],
  },
} as const;

/** An independent reading of the spec's number derivation (byte rejection sampling), for SHA-256. */
function referenceNumbers(seed: Uint8Array, count: number, max: number): number[] {
  const out: number[] = [];
  for (let k = 0; out.length < count; k++) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(k);
    for (const b of sha256(concatBytes(seed, counter))) {
      if (out.length < count && b < 256 - (256 % max) && !out.includes((b % max) + 1)) out.push((b % max) + 1);
    }
  }
  return out;
}

for (const suiteId of SUITES) {
  const hash = getSuite(suiteId).hash;
  const secret = (label: string) => hash(utf8(`secret/${label}`));
  const vectors = SEED_VECTORS[suiteId];

  describe(`lottery derivations (${suiteId})`, () => {
    test("seed, commitment and ticket leaf vectors", () => {
      const seed = drawSeed(
        hash,
        "r1",
        [
          { org: "org-b", secret: secret("b") },
          { org: "org-a", secret: secret("a") },
        ],
        ["org-c"],
      );
      assert.equal(toHex(seed), vectors.seed);
      assert.equal(toHex(drawCommitment(hash, "r1", "org-a", secret("a"))), vectors.commit);
      const ticket = { roundId: "r1", batchId: "b1", index: 0, buyer: hash(utf8("buyer")), data: utf8("ticket") };
      assert.equal(toHex(ticketLeaf(hash, ticket)), vectors.leaf);
    });

    test("the seed's bytes are H(CBOR([domain, roundId, [secrets by org], [defaulted]])), spelled out", () => {
      const a = secret("a");
      const b = secret("b");
      const cbor = concatBytes(
        Uint8Array.of(0x84, 0x6d),
        utf8("tally/draw/v1"),
        Uint8Array.of(0x62),
        utf8("r1"),
        Uint8Array.of(0x82, 0x58, 0x20),
        a,
        Uint8Array.of(0x58, 0x20),
        b,
        Uint8Array.of(0x81, 0x65),
        utf8("org-c"),
      );
      assert.equal(toHex(hash(cbor)), vectors.seed);
    });

    test("winning numbers: table of vectors; distinct, in range", () => {
      const seed = fromHex(vectors.seed);
      for (const [pick, expected] of vectors.numbers) {
        const numbers = drawNumbers(hash, seed, pick);
        assert.deepEqual(numbers, expected, JSON.stringify(pick));
        assert.equal(new Set(numbers).size, pick.count);
        assert.ok(numbers.every((n) => n >= 1 && n <= pick.max));
        if (suiteId === "ed25519") assert.deepEqual(referenceNumbers(seed, pick.count, pick.max), expected);
      }
      for (const pick of [
        { count: 0, max: 5 },
        { count: 21, max: 99 },
        { count: 5, max: 4 },
        { count: 1, max: 100 },
      ]) {
        assert.throws(() => drawNumbers(hash, seed, pick), /pick/);
      }
    });

    test("no modulo bias: each number of 1..max is about equally likely over many seeds", () => {
      const counts = new Array<number>(7).fill(0);
      for (let i = 0; i < 7_000; i++) {
        const [n] = drawNumbers(hash, hash(utf8(`seed/${i}`)), { count: 1, max: 7 });
        counts[(n as number) - 1] = (counts[(n as number) - 1] as number) + 1;
      }
      for (const c of counts) assert.ok(c > 850 && c < 1150, `counts ${counts}`);
    });

    test("computeDraw: quorum is a strict majority; defaulted drawers are named in the seed", () => {
      assert.deepEqual([3, 4, 5, 6, 7].map(lotteryRevealQuorum), [2, 3, 3, 4, 4]);
      const drawers = ["org-c", "org-a", "org-b"];
      const pick = { count: 6, max: 49 };
      const two = computeDraw(hash, {
        roundId: "r1",
        drawers,
        pick,
        reveals: [
          { org: "org-b", secret: secret("b") },
          { org: "org-a", secret: secret("a") },
        ],
      });
      assert.equal(two.status, "drawn");
      assert.deepEqual(two.revealers, ["org-a", "org-b"]);
      assert.deepEqual(two.defaulted, ["org-c"]);
      assert.equal(toHex(two.seed as Uint8Array), vectors.seed);
      assert.deepEqual(two.numbers, vectors.numbers[0][1]);
      const one = computeDraw(hash, { roundId: "r1", drawers, pick, reveals: [{ org: "org-a", secret: secret("a") }] });
      assert.deepEqual(one, { status: "void", revealers: ["org-a"], defaulted: ["org-b", "org-c"], seed: null, numbers: [] });
      // A secret changes the seed; so does the round.
      const other = computeDraw(hash, {
        roundId: "r2",
        drawers,
        pick,
        reveals: [...[{ org: "org-a", secret: secret("a") }], { org: "org-b", secret: secret("b") }],
      });
      assert.notEqual(toHex(other.seed as Uint8Array), vectors.seed);
    });

    test("verifyTicket: valid proofs verify; tampered ticket, proof, root, count or a refused buyer do not", () => {
      const buyers = [hash(utf8("buyer/1")), hash(utf8("buyer/2"))];
      const tickets: Ticket[] = Array.from({ length: 5 }, (_, i) => ({
        roundId: "r1",
        batchId: "b1",
        index: i,
        buyer: buyers[i % 2] as Uint8Array,
        data: utf8(`numbers 1 2 3 4 5 ${i}`),
      }));
      const root = ticketsRoot(hash, tickets);
      const batch = { roundId: "r1", batchId: "b1", merkleRoot: root, count: 5, rejectedBuyers: [] };
      for (const t of tickets) assert.ok(verifyTicket(hash, t, ticketProof(hash, tickets, t.index), batch));
      const t2 = tickets[2] as Ticket;
      const proof = ticketProof(hash, tickets, 2);
      assert.ok(!verifyTicket(hash, { ...t2, data: utf8("numbers 9 9 9") }, proof, batch));
      assert.ok(!verifyTicket(hash, { ...t2, index: 3 }, proof, batch));
      assert.ok(!verifyTicket(hash, { ...t2, buyer: buyers[1] as Uint8Array }, proof, batch));
      assert.ok(!verifyTicket(hash, { ...t2, batchId: "b2" }, proof, { ...batch, batchId: "b2" }));
      assert.ok(!verifyTicket(hash, t2, proof, { ...batch, merkleRoot: hash(utf8("other")) }));
      assert.ok(!verifyTicket(hash, t2, proof, { ...batch, count: 6 }));
      assert.ok(!verifyTicket(hash, t2, { ...proof, siblings: proof.siblings.slice(1) }, batch));
      const flipped = proof.siblings.map((s) => new Uint8Array(s));
      const first = flipped[0] as Uint8Array;
      first[0] = (first[0] as number) ^ 1;
      assert.ok(!verifyTicket(hash, t2, { ...proof, siblings: flipped }, batch));
      // A ticket of a buyer refused by the ledger was not sold, though it is in the tree.
      assert.ok(!verifyTicket(hash, t2, proof, { ...batch, rejectedBuyers: [buyers[0] as Uint8Array] }));
      assert.ok(
        verifyTicket(hash, tickets[1] as Ticket, ticketProof(hash, tickets, 1), { ...batch, rejectedBuyers: [buyers[0] as Uint8Array] }),
      );
      assert.throws(() => ticketsRoot(hash, [tickets[1] as Ticket]), /index order/);
    });
  });

  describe(`lottery module (${suiteId})`, () => {
    const net = makeNet(suiteId, {
      orgs: ["org-a", "org-b", "org-c", "org-d"].map((id) => ({ id, name: id })),
      accounts: [
        { name: "centre", roles: ["lottery-centre"] },
        { name: "terminal", roles: ["lottery-terminal"] },
        { name: "terminal2", roles: ["lottery-terminal"] },
        { name: "regulator", roles: ["regulator"] },
        { name: "a", org: "org-a", roles: ["org-admin"] },
        { name: "a-clerk", org: "org-a", roles: [] },
        { name: "b", org: "org-b", roles: ["org-admin"] },
        { name: "c", org: "org-c", roles: ["org-admin"] },
        { name: "d", org: "org-d", roles: ["org-admin"] },
      ],
    });
    const acct = (name: string): TestAccount => {
      const a = net.accounts[name];
      assert.ok(a, name);
      return a;
    };
    const [centre, terminal, terminal2, regulator, a, aClerk, b, c, d] = [
      "centre",
      "terminal",
      "terminal2",
      "regulator",
      "a",
      "a-clerk",
      "b",
      "c",
      "d",
    ].map(acct) as [TestAccount, TestAccount, TestAccount, TestAccount, TestAccount, TestAccount, TestAccount, TestAccount, TestAccount];
    const buyer = (n: number) => hash(utf8(`salt||national-id-${n}`));

    function setup() {
      const chain = new MemoryChain(net);
      const ok = (who: TestAccount, method: string, args: Value): TxResult => {
        const r = chain.call(who, "lottery", method, args);
        assert.equal(r.status, "ok", `${method}: ${r.code} ${r.message}`);
        return r;
      };
      /** A refusal with `code` that leaves every lottery/ key as it was. */
      const refused = (who: TestAccount, method: string, args: Value, code: string): TxResult => {
        const before = chain.state.entriesUnder("lottery/");
        const r = chain.call(who, "lottery", method, args);
        assert.equal(r.status, "failed", `${method} should fail with ${code}`);
        assert.equal(r.code, code, `${method}: ${r.message}`);
        assert.deepEqual(chain.state.entriesUnder("lottery/"), before, `${method} ${code} left lottery/ unchanged`);
        return r;
      };
      /** Empty blocks (an unrelated call each) until the chain is at `height`. */
      const advanceTo = (height: number) => {
        while (chain.height < height) chain.call(net.admin, "evidence", "notarize", { digest: hash(utf8(`tick/${chain.height}`)) });
      };
      const q = (name: string, args: Value, caller: TestAccount | null = null) =>
        chain.query("lottery", name, args, caller) as Record<string, Value>;
      /** Opens "r1" in the next block: sales for `sales` blocks, reveals for `reveals` more. */
      const open = (extra: Record<string, Value> = {}, sales = 30, reveals = 30) => {
        const closeHeight = chain.height + sales;
        ok(centre, "open-round", {
          roundId: "r1",
          game: "6 of 49",
          closeHeight,
          revealDeadline: closeHeight + reveals,
          drawers: ["org-c", "org-a", "org-b"],
          pick: { count: 6, max: 49 },
          capPerBuyer: "1000",
          ...extra,
        });
        return { closeHeight, revealDeadline: closeHeight + reveals };
      };
      const seal = (batchId: string, totals: Array<[Uint8Array, string]>, count = 3, who = terminal) =>
        ok(who, "seal-batch", {
          roundId: "r1",
          batchId,
          merkleRoot: hash(utf8(`root/${batchId}`)),
          count,
          buyerTotals: totals.map(([buyer, amount]) => ({ buyer, amount })),
        });
      const commit = (who: TestAccount, org: string, s = secret(org)) =>
        ok(who, "commit-draw", { roundId: "r1", commitment: drawCommitment(hash, "r1", org, s) });
      return { chain, ok, refused, advanceTo, q, open, seal, commit };
    }

    test("genesis writes nothing under lottery/", () => {
      assert.equal(new MemoryChain(net).state.entriesUnder("lottery/").size, 0);
    });

    test("a full round: open, seal, commit, reveal, draw; the recorded result recomputes from ledger data", () => {
      const { chain, ok, advanceTo, q, open, seal, commit } = setup();
      const { closeHeight, revealDeadline } = open();
      const opened = q("round", { roundId: "r1" });
      assert.equal(opened.status, "selling");
      assert.deepEqual(
        (opened.drawers as Array<Record<string, Value>>).map((x) => x.org),
        ["org-a", "org-b", "org-c"],
      );
      const sealed = seal("t1-0001", [
        [buyer(1), "600"],
        [buyer(2), "400"],
      ]);
      assert.deepEqual(sealed.value, {
        roundId: "r1",
        batchId: "t1-0001",
        merkleRoot: hash(utf8("root/t1-0001")),
        count: 3,
        closeHeight,
        accepted: 2,
        rejected: [],
      });
      assert.deepEqual(sealed.events[0]?.name, "batch-sealed");
      commit(a, "org-a");
      commit(b, "org-b");
      commit(c, "org-c");
      advanceTo(closeHeight);
      assert.equal(q("round", { roundId: "r1" }).status, "revealing");
      for (const [who, org] of [
        [a, "org-a"],
        [c, "org-c"],
        [b, "org-b"],
      ] as const) {
        ok(who, "reveal-draw", { roundId: "r1", secret: secret(org) });
      }
      // Every commitment is revealed: the draw need not wait for the deadline.
      assert.ok(chain.height < revealDeadline);
      const drawn = ok(d, "draw", { roundId: "r1" });
      const result = drawn.value as Record<string, Value>;
      assert.equal(result.status, "drawn");
      assert.deepEqual(result.revealers, ["org-a", "org-b", "org-c"]);
      assert.deepEqual(result.defaulted, []);

      // Anyone recomputes it from the round's ledger data (config and revealed secrets).
      const round = q("round", { roundId: "r1" });
      assert.equal(round.status, "drawn");
      assert.equal(round.tickets, 3);
      assert.equal(round.sold, "1000");
      const reveals = (round.drawers as Array<Record<string, Value>>).map((x) => ({
        org: x.org as string,
        secret: x.secret as Uint8Array,
      }));
      for (const r of reveals) {
        const row = (round.drawers as Array<Record<string, Value>>).find((x) => x.org === r.org) as Record<string, Value>;
        assert.equal(toHex(drawCommitment(hash, "r1", r.org, r.secret)), toHex(row.commitment as Uint8Array));
      }
      const pick = round.pick as { count: number; max: number };
      const again = computeDraw(hash, { roundId: "r1", drawers: reveals.map((r) => r.org), pick, reveals });
      assert.equal(toHex(again.seed as Uint8Array), toHex(result.seed as Uint8Array));
      assert.deepEqual(again.numbers, result.numbers);
      const stored = decodeDrawRecord(chain.state.read(lotteryDrawKey("r1")) as Uint8Array);
      assert.deepEqual(stored.numbers, result.numbers);
      assert.deepEqual(q("draw", { roundId: "r1" }), result);
    });

    test("open-round: role, duplicates, schedule, drawers and pick are checked", () => {
      const { chain, refused, open } = setup();
      const h = () => chain.height + 1;
      const base = (extra: Record<string, Value> = {}): Value => ({
        roundId: "r1",
        game: "g",
        closeHeight: h() + 3,
        revealDeadline: h() + 6,
        drawers: ["org-a", "org-b", "org-c"],
        pick: { count: 6, max: 49 },
        capPerBuyer: "1000",
        ...extra,
      });
      refused(terminal, "open-round", base(), "FORBIDDEN");
      refused(a, "open-round", base(), "FORBIDDEN");
      refused(centre, "open-round", base({ drawers: ["org-a", "org-b"] }), "BAD_ARGS");
      refused(centre, "open-round", base({ drawers: ["org-a", "org-b", "org-a"] }), "BAD_ARGS");
      refused(centre, "open-round", base({ drawers: ["org-a", "org-b", "org-x"] }), "NO_SUCH_ORG");
      refused(centre, "open-round", base({ drawers: ["org-a", "org-b", "Org/C"] }), "BAD_ARGS");
      refused(centre, "open-round", base({ closeHeight: h() }), "BAD_ARGS");
      refused(centre, "open-round", base({ revealDeadline: h() + 3 }), "BAD_ARGS");
      refused(centre, "open-round", base({ roundId: "R1" }), "BAD_ARGS");
      refused(centre, "open-round", base({ roundId: "r".repeat(65) }), "BAD_ARGS");
      refused(centre, "open-round", base({ game: "g".repeat(65) }), "BAD_ARGS");
      const picks: Value[] = [{ count: 0, max: 5 }, { count: 21, max: 99 }, { count: 6, max: 5 }, { count: 1, max: 100 }, { count: 1 }];
      for (const pick of picks) {
        refused(centre, "open-round", base({ pick }), "BAD_ARGS");
      }
      for (const cap of ["0", "01", "-1", "1.5", 1000]) refused(centre, "open-round", base({ capPerBuyer: cap }), "BAD_ARGS");
      refused(centre, "open-round", base({ extra: 1 }), "BAD_ARGS");
      open();
      refused(centre, "open-round", base(), "ROUND_EXISTS");
    });

    test("seal-batch: late batches are ROUND_CLOSED; duplicates, unknown rounds and bad args refused", () => {
      const { chain, refused, advanceTo, open, seal, q } = setup();
      const args = (extra: Record<string, Value> = {}): Value => ({
        roundId: "r1",
        batchId: "b1",
        merkleRoot: hash(utf8("root")),
        count: 2,
        buyerTotals: [{ buyer: buyer(1), amount: "10" }],
        ...extra,
      });
      refused(terminal, "seal-batch", args(), "NO_SUCH_ROUND");
      const { closeHeight } = open();
      refused(centre, "seal-batch", args(), "FORBIDDEN");
      refused(terminal, "seal-batch", args({ merkleRoot: new Uint8Array(31) }), "BAD_ARGS");
      refused(terminal, "seal-batch", args({ count: 0 }), "BAD_ARGS");
      refused(terminal, "seal-batch", args({ buyerTotals: [] }), "BAD_ARGS");
      refused(terminal, "seal-batch", args({ buyerTotals: [{ buyer: new Uint8Array(31), amount: "1" }] }), "BAD_ARGS");
      refused(terminal, "seal-batch", args({ buyerTotals: [{ buyer: buyer(1), amount: "0" }] }), "BAD_ARGS");
      refused(
        terminal,
        "seal-batch",
        args({
          buyerTotals: [
            { buyer: buyer(1), amount: "1" },
            { buyer: buyer(1), amount: "2" },
          ],
        }),
        "BAD_ARGS",
      );
      refused(
        terminal,
        "seal-batch",
        args({ buyerTotals: Array.from({ length: 1001 }, (_, i) => ({ buyer: buyer(i), amount: "1" })) }),
        "BAD_ARGS",
      );
      refused(terminal, "seal-batch", args({ batchId: "b/1" }), "BAD_ARGS");
      seal("b1", [[buyer(1), "10"]]);
      refused(terminal2, "seal-batch", args(), "BATCH_EXISTS");
      // The last block of sales still takes a batch; the next one does not.
      advanceTo(closeHeight - 1);
      assert.equal(chain.height + 1, closeHeight);
      seal("b2", [[buyer(2), "10"]]);
      refused(terminal, "seal-batch", args({ batchId: "b3" }), "ROUND_CLOSED");
      const batch = q("batch", { roundId: "r1", batchId: "b2" });
      assert.equal(batch.height, closeHeight);
      assert.equal(batch.terminal, terminal.address);
      throwsCode(() => q("batch", { roundId: "r1", batchId: "b3" }), "NO_SUCH_BATCH");
    });

    test("purchase caps: an over-cap buyer is refused within the batch, counted for the regulator; others sold", () => {
      const { refused, open, seal, q } = setup();
      open();
      seal("b1", [
        [buyer(1), "900"],
        [buyer(2), "1000"],
      ]);
      const second = seal("b2", [
        [buyer(1), "101"],
        [buyer(2), "1"],
        [buyer(3), "5"],
      ]);
      const value = second.value as Record<string, Value>;
      assert.equal(value.accepted, 1);
      assert.deepEqual(value.rejected, [
        { buyer: buyer(1), amount: "101", total: "900", cap: "1000" },
        { buyer: buyer(2), amount: "1", total: "1000", cap: "1000" },
      ]);
      // Exactly at the cap is allowed.
      seal("b3", [[buyer(1), "100"]]);
      const total = q("buyerTotal", { roundId: "r1", buyer: toHex(buyer(1)) }, terminal);
      assert.deepEqual(total, { roundId: "r1", buyer: buyer(1), total: "1000", cap: "1000", remaining: "0" });
      assert.equal(q("buyerTotal", { roundId: "r1", buyer: `0x${toHex(buyer(9))}` }, regulator).remaining, "1000");
      throwsCode(() => q("buyerTotal", { roundId: "r1", buyer: toHex(buyer(1)) }, a), "FORBIDDEN");
      throwsCode(() => q("buyerTotal", { roundId: "r1", buyer: toHex(buyer(1)) }), "UNAUTHENTICATED");
      assert.equal(q("round", { roundId: "r1" }).sold, "2005");
      assert.equal(q("round", { roundId: "r1" }).tickets, 9);

      // The regulator's counters: refused purchases per round (the period).
      assert.deepEqual(q("refusals", { roundId: "r1" }, regulator), { roundId: "r1", period: "r1", refused: 2, amount: "102", batches: 1 });
      throwsCode(() => q("refusals", { roundId: "r1" }, centre), "FORBIDDEN");
      throwsCode(() => q("refusals", { roundId: "r1" }), "UNAUTHENTICATED");
      throwsCode(() => q("refusals", { roundId: "nope" }, regulator), "NO_SUCH_ROUND");
      // A fully refused batch is still recorded: its refusals are counted, its tickets must not be issued.
      const all = seal("b4", [[buyer(2), "7"]]);
      assert.equal((all.value as Record<string, Value>).accepted, 0);
      assert.deepEqual(q("refusals", { roundId: "r1" }, regulator), { roundId: "r1", period: "r1", refused: 3, amount: "109", batches: 2 });
      refused(
        terminal,
        "seal-batch",
        { roundId: "r1", batchId: "b4", merkleRoot: hash(utf8("x")), count: 1, buyerTotals: [{ buyer: buyer(5), amount: "1" }] },
        "BATCH_EXISTS",
      );
    });

    test("commit-draw: only drawer orgs' admins, once, before close", () => {
      const { advanceTo, refused, open, commit } = setup();
      const args = (s: Uint8Array) => ({ roundId: "r1", commitment: s });
      refused(a, "commit-draw", args(secret("x")), "NO_SUCH_ROUND");
      const { closeHeight } = open();
      refused(d, "commit-draw", args(secret("x")), "NOT_A_DRAWER");
      refused(net.admin, "commit-draw", args(secret("x")), "NOT_A_DRAWER");
      refused(aClerk, "commit-draw", args(secret("x")), "NOT_A_DRAWER");
      refused(a, "commit-draw", args(new Uint8Array(31)), "BAD_ARGS");
      commit(a, "org-a");
      refused(a, "commit-draw", args(secret("again")), "DRAW_COMMITTED");
      commit(b, "org-b");
      advanceTo(closeHeight);
      refused(c, "commit-draw", args(drawCommitment(hash, "r1", "org-c", secret("org-c"))), "ROUND_CLOSED");
    });

    test("reveal-draw: before close, mismatched, double, late, uncommitted and non-drawer reveals are refused", () => {
      const { chain, ok, advanceTo, refused, open, commit } = setup();
      const { closeHeight, revealDeadline } = open();
      commit(a, "org-a");
      commit(b, "org-b");
      const reveal = (s: Uint8Array) => ({ roundId: "r1", secret: s });
      refused(a, "reveal-draw", reveal(secret("org-a")), "ROUND_OPEN");
      advanceTo(closeHeight);
      refused(a, "reveal-draw", reveal(secret("org-b")), "REVEAL_MISMATCH");
      refused(d, "reveal-draw", reveal(secret("org-d")), "NOT_A_DRAWER");
      refused(c, "reveal-draw", reveal(secret("org-c")), "DRAW_NOT_COMMITTED");
      refused(a, "reveal-draw", { roundId: "r2", secret: secret("org-a") }, "NO_SUCH_ROUND");
      ok(a, "reveal-draw", reveal(secret("org-a")));
      refused(a, "reveal-draw", reveal(secret("org-a")), "ALREADY_REVEALED");
      // b has not revealed: the draw waits for it until the deadline.
      refused(c, "draw", { roundId: "r1" }, "REVEALS_PENDING");
      advanceTo(revealDeadline);
      assert.equal(chain.height, revealDeadline);
      refused(b, "reveal-draw", reveal(secret("org-b")), "REVEAL_LATE");
    });

    test("draw: ROUND_OPEN before close; a defaulter is recorded; too few reveals void the round", () => {
      const { chain, ok, advanceTo, refused, open, commit, q } = setup();
      const { closeHeight, revealDeadline } = open();
      commit(a, "org-a");
      commit(b, "org-b");
      commit(c, "org-c");
      refused(d, "draw", { roundId: "r1" }, "ROUND_OPEN");
      refused(d, "draw", { roundId: "r9" }, "NO_SUCH_ROUND");
      advanceTo(closeHeight);
      ok(a, "reveal-draw", { roundId: "r1", secret: secret("org-a") });
      ok(c, "reveal-draw", { roundId: "r1", secret: secret("org-c") });
      refused(d, "draw", { roundId: "r1" }, "REVEALS_PENDING");
      advanceTo(revealDeadline);
      assert.equal(q("round", { roundId: "r1" }).status, "awaiting-draw");
      const drawn = ok(d, "draw", { roundId: "r1" }).value as Record<string, Value>;
      assert.deepEqual(drawn.revealers, ["org-a", "org-c"]);
      assert.deepEqual(drawn.defaulted, ["org-b"]);
      const expected = computeDraw(hash, {
        roundId: "r1",
        drawers: ["org-a", "org-b", "org-c"],
        pick: { count: 6, max: 49 },
        reveals: [
          { org: "org-c", secret: secret("org-c") },
          { org: "org-a", secret: secret("org-a") },
        ],
      });
      assert.deepEqual(drawn.numbers, expected.numbers);
      assert.equal(drawn.height, chain.height);
      refused(a, "draw", { roundId: "r1" }, "DRAW_DONE");

      // Another round where only one drawer reveals: void, and stays void.
      ok(centre, "open-round", {
        roundId: "r2",
        game: "g",
        closeHeight: chain.height + 3,
        revealDeadline: chain.height + 20,
        drawers: ["org-a", "org-b", "org-c", "org-d"],
        pick: { count: 1, max: 2 },
        capPerBuyer: "1",
      });
      ok(a, "commit-draw", { roundId: "r2", commitment: drawCommitment(hash, "r2", "org-a", secret("2a")) });
      ok(d, "commit-draw", { roundId: "r2", commitment: drawCommitment(hash, "r2", "org-d", secret("2d")) });
      advanceTo(q("round", { roundId: "r2" }).closeHeight as number);
      ok(a, "reveal-draw", { roundId: "r2", secret: secret("2a") });
      ok(d, "reveal-draw", { roundId: "r2", secret: secret("2d") });
      // All commitments are in, but 2 of 4 is not a majority: void at once.
      const voided = ok(b, "draw", { roundId: "r2" }).value as Record<string, Value>;
      assert.deepEqual(
        { status: voided.status, seed: voided.seed, numbers: voided.numbers, defaulted: voided.defaulted },
        { status: "void", seed: null, numbers: [], defaulted: ["org-b", "org-c"] },
      );
      assert.equal(q("round", { roundId: "r2" }).status, "void");
      refused(b, "draw", { roundId: "r2" }, "DRAW_VOID");
    });

    test("queries: unknown rounds and malformed arguments are refused", () => {
      const { q, open } = setup();
      throwsCode(() => q("round", { roundId: "nope" }), "NO_SUCH_ROUND");
      throwsCode(() => q("round", { roundId: "NOPE" }), "BAD_ARGS");
      open();
      assert.deepEqual(q("draw", { roundId: "r1" }), { roundId: "r1", status: "pending" });
      throwsCode(() => q("buyerTotal", { roundId: "r1", buyer: "zz" }, regulator), "BAD_ARGS");
    });

    // SM2 signatures are randomised, so two chains fed separately signed calls differ in the tx hashes they record.
    test("the same calls give the same state root on two independent chains", { skip: suiteId === "sm2" }, () => {
      const roots = [setup(), setup()].map(({ chain, open, seal, commit }) => {
        open();
        seal("b1", [[buyer(1), "999"]]);
        seal("b2", [[buyer(1), "2"]]);
        commit(a, "org-a");
        return toHex(chain.state.root.hash);
      });
      assert.equal(roots[0], roots[1]);
    });
  });
}
