/**
 * The lottery module through the SDK against a real node process. A draw needs three drawer
 * organisations: `tally init` makes one, so before the first start the test adds three organisations
 * and an org-admin account for each to the genesis (net/genesis.json and node0/genesis.json),
 * exactly as an operator would write a consortium's genesis. The admin then registers a centre, a
 * terminal and a regulator. A round is opened, batches sealed (one buyer refused over the cap), a
 * late batch refused, secrets committed and revealed, the draw run and re-derived from ledger data,
 * and a ticket proven sold before close from its batch's receipt, offline against the genesis.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { type GenesisDoc, getSuite, type KeyPair, toHex, utf8 } from "@tally/core";
import {
  AccountSigner,
  computeDraw,
  type Genesis,
  newDrawSecret,
  type TallyClient,
  TallyError,
  type Ticket,
  ticketProof,
  verifyTicketSale,
} from "@tally/sdk";
import { CliNetwork, committedFailed as failed, committedOk as ok } from "../helpers.js";

const DRAWER_ORGS = ["lotto-a", "lotto-b", "lotto-c"] as const;

/** Adds organisations and their org-admin accounts to a genesis written by `tally init` (before the first start). */
function addDrawerOrgs(net: string, keys: readonly KeyPair[]): void {
  const path = join(net, "genesis.json");
  const doc = JSON.parse(readFileSync(path, "utf8")) as GenesisDoc;
  const edited: GenesisDoc = {
    ...doc,
    orgs: [...doc.orgs, ...DRAWER_ORGS.map((id) => ({ id, name: `Drawer ${id}` }))],
    accounts: [
      ...doc.accounts,
      ...keys.map((k, i) => ({ publicKey: toHex(k.publicKey), org: DRAWER_ORGS[i] as string, roles: ["org-admin"] })),
    ],
  };
  for (const file of [path, join(net, "node0", "genesis.json")]) writeFileSync(file, `${JSON.stringify(edited, null, 2)}\n`);
}

for (const suite of ["ed25519", "sm2"] as const) {
  describe(`SDK lottery (${suite})`, () => {
    const drawerKeys = DRAWER_ORGS.map(() => getSuite(suite).generateKeyPair());
    const network = new CliNetwork(`sdk-lottery-${suite}`, {
      suite,
      beforeStart: (net) => addDrawerOrgs(net, drawerKeys),
      requireCleanExit: false,
    });
    const hash = getSuite(suite).hash;
    let client: TallyClient;
    let genesis: Genesis;
    let admin: AccountSigner;
    let centre: AccountSigner;
    let terminal: AccountSigner;
    let regulator: AccountSigner;
    let drawers: AccountSigner[];

    before(async () => {
      const sdk = await network.sdk();
      client = sdk.client;
      genesis = sdk.genesis;
      admin = sdk.admin;
      const register = (roles: string[]) => sdk.register(roles);
      centre = await register(["lottery-centre"]);
      terminal = await register(["lottery-terminal"]);
      regulator = await register(["regulator"]);
      drawers = await Promise.all(drawerKeys.map((k) => AccountSigner.connect(client, k)));
    });

    /** Commits blocks (one notarisation each) until the chain is at least at `height`. */
    let ticks = 0;
    async function advanceTo(height: number): Promise<void> {
      while ((await client.status()).height < height) {
        ticks++;
        ok(await admin.notarize(hash(utf8(`tick/${ticks}`))));
      }
    }

    test("open, seal (cap enforced), late batch refused, commit, reveal, draw, verify draw and ticket", async () => {
      const now = (await client.status()).height;
      const closeHeight = now + 12;
      const revealDeadline = closeHeight + 20;
      const opened = ok(
        await centre.lottery.openRound({
          roundId: "2026-48",
          game: "6 of 49",
          closeHeight,
          revealDeadline,
          drawers: [...DRAWER_ORGS].reverse(),
          pick: { count: 6, max: 49 },
          capPerBuyer: 1000n,
        }),
      );
      assert.deepEqual((opened.result.value as { drawers: string[] }).drawers, [...DRAWER_ORGS]);

      // Terminal sells 4 tickets to two buyers (commitments, not identities) and seals them.
      const alice = hash(utf8("salt|ID-ALICE"));
      const bob = hash(utf8("salt|ID-BOB"));
      const tickets: Ticket[] = [alice, bob, alice, bob].map((buyer, index) => ({
        roundId: "2026-48",
        batchId: "t7-0001",
        index,
        buyer,
        data: utf8(`numbers:${[1, 2, 3, 4, 5, 6 + index].join(",")};stake:250`),
      }));
      const sealed = ok(
        await terminal.lottery.sealBatch({
          roundId: "2026-48",
          batchId: "t7-0001",
          tickets,
          buyerTotals: [
            { buyer: alice, amount: 500n },
            { buyer: bob, amount: "500" },
          ],
        }),
      );
      assert.equal((sealed.result.value as { accepted: number }).accepted, 2);

      // A second batch would take alice to 1,100: her part is refused, bob's is sold.
      const tickets2: Ticket[] = [alice, bob].map((buyer, index) => ({
        roundId: "2026-48",
        batchId: "t7-0002",
        index,
        buyer,
        data: utf8(`numbers:7,8,9,10,11,${12 + index};stake:600`),
      }));
      const capped = ok(
        await terminal.lottery.sealBatch({
          roundId: "2026-48",
          batchId: "t7-0002",
          tickets: tickets2,
          buyerTotals: [
            { buyer: alice, amount: 600n },
            { buyer: bob, amount: 100n },
          ],
        }),
      );
      assert.deepEqual((capped.result.value as { rejected: unknown[] }).rejected, [
        { buyer: `0x${toHex(alice)}`, amount: "600", total: "500", cap: "1000" },
      ]);
      assert.deepEqual(await terminal.lottery.buyerTotal("2026-48", alice), { total: 500n, cap: 1000n, remaining: 500n });
      assert.deepEqual(await regulator.lottery.refusals("2026-48"), {
        roundId: "2026-48",
        period: "2026-48",
        refused: 1,
        amount: 600n,
        batches: 1,
      });
      await assert.rejects(centre.lottery.refusals("2026-48"), (e: unknown) => e instanceof TallyError && e.code === "FORBIDDEN");
      await assert.rejects(
        client.query("lottery", "refusals", { roundId: "2026-48" }),
        (e: unknown) => e instanceof TallyError && e.code === "UNAUTHENTICATED",
      );

      // Drawers commit before close; a non-drawer org cannot.
      const secrets = drawers.map(() => newDrawSecret());
      for (const [i, d] of drawers.entries()) ok(await d.lottery.commitDraw("2026-48", secrets[i] as Uint8Array));
      failed(await admin.lottery.commitDraw("2026-48", newDrawSecret()), "NOT_A_DRAWER");

      // After close: no more sales, reveals only.
      await advanceTo(closeHeight);
      failed(
        await terminal.lottery.sealBatch({
          roundId: "2026-48",
          batchId: "late",
          merkleRoot: hash(utf8("late")),
          count: 1,
          buyerTotals: [{ buyer: bob, amount: 1n }],
        }),
        "ROUND_CLOSED",
      );
      const [first, , last] = drawers as [AccountSigner, AccountSigner, AccountSigner];
      failed(await first.lottery.revealDraw("2026-48", secrets[1] as Uint8Array), "REVEAL_MISMATCH");
      for (const [i, d] of drawers.entries()) ok(await d.lottery.revealDraw("2026-48", secrets[i] as Uint8Array));
      failed(await last.lottery.revealDraw("2026-48", secrets[2] as Uint8Array), "ALREADY_REVEALED");

      const drawn = ok(await regulator.lottery.draw("2026-48"));
      const result = drawn.result.value as { status: string; numbers: number[] };
      assert.equal(result.status, "drawn");
      const expected = computeDraw(hash, {
        roundId: "2026-48",
        drawers: [...DRAWER_ORGS],
        pick: { count: 6, max: 49 },
        reveals: DRAWER_ORGS.map((org, i) => ({ org, secret: secrets[i] as Uint8Array })),
      });
      assert.deepEqual(result.numbers, expected.numbers);
      const check = await client.lottery.verifyDraw("2026-48");
      assert.equal(check.ok, true, check.problems.join("; "));
      assert.deepEqual(check.recorded.numbers, expected.numbers);
      const round = await client.lottery.round("2026-48");
      assert.equal(round.status, "drawn");
      assert.equal(round.tickets, 6);
      assert.equal(round.sold, 1100n);

      // A ticket is proven sold before close: its proof plus its batch's receipt, offline.
      const batch = await client.lottery.batch("2026-48", "t7-0001");
      assert.equal(batch.txHash, sealed.hash);
      const { receipt } = await client.txReceipt(batch.txHash);
      const t1 = tickets[1] as Ticket;
      const sale = verifyTicketSale(genesis, t1, ticketProof(hash, tickets, 1), receipt);
      assert.deepEqual(sale, { height: sealed.height, closeHeight, txHash: sealed.hash });
      assert.ok(sale.height <= closeHeight);
      const notSold = (e: unknown) => e instanceof TallyError && e.code === "BAD_PROOF";
      assert.throws(
        () => verifyTicketSale(genesis, { ...t1, data: utf8("numbers:1,2,3,4,5,49") }, ticketProof(hash, tickets, 1), receipt),
        notSold,
      );
      assert.throws(() => verifyTicketSale(genesis, { ...t1, batchId: "t7-0002" }, ticketProof(hash, tickets, 1), receipt), notSold);
      // Alice's ticket in the second batch is in its tree but was refused: not sold. Bob's is.
      const receipt2 = (await client.txReceipt(capped.hash)).receipt;
      assert.throws(() => verifyTicketSale(genesis, tickets2[0] as Ticket, ticketProof(hash, tickets2, 0), receipt2), notSold);
      assert.equal(verifyTicketSale(genesis, tickets2[1] as Ticket, ticketProof(hash, tickets2, 1), receipt2).closeHeight, closeHeight);
    });
  });
}
