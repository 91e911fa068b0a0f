import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  accountKey,
  applySmtUpdates,
  decodeEvidenceRecord,
  encodeHeader,
  encodeReceipt,
  evidenceBySubmitterPrefix,
  evidenceRecordKey,
  formatEvidenceReceiptFile,
  LIMITS,
  makeEvidenceReceiptFile,
  merkleRoot,
  smtEmptyRoot,
  TallyError,
  toHex,
  verifyCommit,
  verifyEvidenceReceiptFile,
  verifyReceipt,
  verifySmtProof,
} from "@tally/core";
import type { Chain, CommittedBlockEvent } from "../src/chain.js";
import { decodeAccount } from "../src/modules/accounts.js";
import {
  commitBlock,
  digestOf,
  envelope,
  GENESIS_TIME_MS,
  makeNet,
  notarize,
  type OpenChain,
  openChain,
  outsider,
  type SignedTestTx,
  SUITES,
  sign,
  type TestNet,
  tempDir,
} from "./helpers.js";

const T1 = GENESIS_TIME_MS + 10_000;

/** Every state entry, hex key -> hex value. */
function allState(chain: Chain): Map<string, string> {
  return new Map(chain.scanState(new Uint8Array(0), 1000).map(([k, v]) => [toHex(k), toHex(v)]));
}

function changedKeys(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((k) => before.get(k) !== after.get(k)).sort();
}

async function withChain<T>(net: TestNet, fn: (c: OpenChain) => Promise<T>): Promise<T> {
  const dir = tempDir();
  const c = await openChain(net, dir.path);
  try {
    return await fn(c);
  } finally {
    await c.close();
    dir.remove();
  }
}

function admitFails(chain: Chain, tx: SignedTestTx, code: string, meta: Record<string, unknown> = {}): void {
  assert.throws(
    () => chain.admit(tx.bytes),
    (err: unknown) => {
      assert.ok(err instanceof TallyError, String(err));
      assert.equal(err.code, code);
      for (const [k, v] of Object.entries(meta)) assert.deepEqual(err.meta[k], v, `meta.${k}`);
      return true;
    },
  );
}

for (const suiteId of SUITES) {
  describe(`chain on a real store (${suiteId})`, () => {
    const net = makeNet(suiteId, { accounts: [{ name: "alice" }, { name: "bob" }] });
    const admin = net.admin;
    const alice = net.accounts.alice;
    const bob = net.accounts.bob;
    assert.ok(alice && bob);
    const hexKey = (k: Uint8Array) => toHex(k);

    test("two notarisations of one digest in the same block: the second is a failed result, only its nonce changes", () =>
      withChain(net, async (c) => {
        const before = allState(c.chain);
        const first = notarize(net, admin.key, 0, "dup");
        const second = notarize(net, alice.key, 0, "dup");
        const event = await commitBlock(c, net, [first, second], T1);
        assert.ok(event);
        assert.equal(event.height, 1);
        assert.deepEqual(
          event.results.map((r) => [r.status, r.code]),
          [
            ["ok", null],
            ["failed", "EVIDENCE_EXISTS"],
          ],
        );
        assert.deepEqual(event.results[1]?.value, { digest: toHex(digestOf(net, "dup")), height: 1, submitter: admin.address });
        const after = allState(c.chain);
        const digestKey = evidenceRecordKey(digestOf(net, "dup"));
        const indexKeys = c.chain.scanState(evidenceBySubmitterPrefix(admin.address), 10).map(([k]) => hexKey(k));
        assert.equal(indexKeys.length, 1);
        assert.deepEqual(
          changedKeys(before, after),
          [hexKey(accountKey(admin.address)), hexKey(accountKey(alice.address)), hexKey(digestKey), ...indexKeys].sort(),
        );
        assert.equal(c.chain.scanState(evidenceBySubmitterPrefix(alice.address), 10).length, 0);
        const record = c.chain.stateValue(digestKey);
        assert.ok(record);
        assert.equal(decodeEvidenceRecord(record).submitter, admin.address);
        const aliceBefore = decodeAccount(Buffer.from(before.get(hexKey(accountKey(alice.address))) as string, "hex"));
        const aliceAfter = c.chain.account(alice.address);
        assert.deepEqual(aliceAfter, { ...aliceBefore, nonce: 1 });
        // The failed transaction is committed, with its result.
        const lookup = c.chain.tx(Buffer.from(second.hash, "hex"));
        assert.equal(lookup?.height, 1);
        assert.equal(lookup?.index, 1);
        assert.equal(lookup?.result.status, "failed");
        // Admission now refuses a third attempt up front, naming the first record.
        admitFails(c.chain, notarize(net, bob.key, 0, "dup"), "EVIDENCE_EXISTS", { height: 1, submitter: admin.address });
        assert.equal(c.mempool.size, 0);
        // The chain continues, and alice's next nonce is 1.
        const next = await commitBlock(c, net, [notarize(net, alice.key, 1, "alice-own")], T1 + 1000);
        assert.equal(next?.height, 2);
        assert.equal(next?.results[0]?.status, "ok");
        assert.equal(c.chain.head.height, 2);
        assert.equal(c.chain.account(alice.address)?.nonce, 2);
      }));

    test("accounts.register by an account without a role: FORBIDDEN failed result, only the caller's nonce changes", () =>
      withChain(net, async (c) => {
        const before = allState(c.chain);
        const newcomer = outsider(net, "newcomer");
        const tx = sign(net, bob.key, 0, "accounts", "register", { publicKey: newcomer.key.publicKey, org: "consortium", roles: [] });
        const event = await commitBlock(c, net, [tx], T1);
        assert.equal(event?.results[0]?.status, "failed");
        assert.equal(event?.results[0]?.code, "FORBIDDEN");
        assert.deepEqual(changedKeys(before, allState(c.chain)), [hexKey(accountKey(bob.address))]);
        assert.equal(c.chain.account(newcomer.address), null);
        assert.equal(c.chain.account(bob.address)?.nonce, 1);
        // The chain goes on.
        const ok = await commitBlock(c, net, [notarize(net, bob.key, 1, "bob")], T1 + 1);
        assert.equal(ok?.results[0]?.status, "ok");
        assert.equal(c.chain.head.height, 2);
      }));

    test("blocks link to their parent, carry a valid commit certificate and the roots of their contents", () =>
      withChain(net, async (c) => {
        const e1 = await commitBlock(c, net, [notarize(net, admin.key, 0, "l1"), notarize(net, alice.key, 0, "l2")], T1);
        const e2 = await commitBlock(c, net, [notarize(net, admin.key, 1, "l3")], T1 + 500);
        assert.ok(e1 && e2);
        const b1 = c.chain.blockAt(1);
        const b2 = c.chain.blockAt(2);
        assert.ok(b1 && b2);
        assert.deepEqual(b1.header.prevHash, net.genesis.hash);
        assert.deepEqual(b2.header.prevHash, b1.hash);
        assert.deepEqual(b1.hash, e1.hash);
        assert.deepEqual(b2.hash, e2.hash);
        assert.deepEqual(c.chain.head.hash, b2.hash);
        assert.equal(b1.header.timeMs, T1);
        assert.deepEqual(b1.header.txRoot, merkleRoot(net.suite.hash, b1.block.txs));
        assert.deepEqual(b1.header.proposer, net.validator.publicKey);
        for (const b of [b1, b2]) verifyCommit(net.suite, net.genesis.validators, b.header, b.commit);
        assert.equal(c.chain.heightOfBlock(b2.hash), 2);
        assert.equal(c.chain.blockAt(3), undefined);
        assert.equal(c.chain.blockAt(0), undefined);
        // Every committed transaction has a receipt that verifies offline.
        for (const env of [...e1.included, ...e2.included]) {
          const verified = verifyReceipt(net.genesis, c.chain.receipt(env.hash, evidenceRecordKey(digestOf(net, "l1"))));
          assert.deepEqual(verified.txHash, env.hash);
          assert.equal(verified.result.status, "ok");
        }
        assert.throws(
          () => c.chain.receipt(new Uint8Array(32)),
          (err: unknown) => err instanceof TallyError && err.code === "NOT_FOUND",
        );
      }));

    test("block time never goes backwards: a proposer time at or before the parent's becomes parent + 1 ms", () =>
      withChain(net, async (c) => {
        await commitBlock(c, net, [notarize(net, admin.key, 0, "t1")], T1);
        const e2 = await commitBlock(c, net, [notarize(net, admin.key, 1, "t2")], T1 - 5_000);
        assert.equal(c.chain.blockAt(2)?.header.timeMs, T1 + 1);
        assert.equal(e2?.results[0]?.status, "ok");
        assert.equal((e2?.results[0]?.value as { timeMs: number } | undefined)?.timeMs, T1 + 1);
        // Even the first block is after genesis.
        await withChain(net, async (d) => {
          await commitBlock(d, net, [notarize(net, admin.key, 0, "t0")], GENESIS_TIME_MS - 1);
          assert.equal(d.chain.blockAt(1)?.header.timeMs, GENESIS_TIME_MS + 1);
        });
      }));

    test("transactions that cannot execute are left out of the block; a block of only those is not made", () =>
      withChain(net, async (c) => {
        const stranger = outsider(net, "skip");
        const unknown = envelope(net, notarize(net, stranger.key, 0, "u"));
        const tooHigh = envelope(net, notarize(net, admin.key, 5, "h"));
        const valid = envelope(net, notarize(net, admin.key, 0, "v"));
        const committedEvents: CommittedBlockEvent[] = [];
        c.chain.on("committed", (e) => committedEvents.push(e));
        const event = await c.chain.produceBlock([unknown, tooHigh, valid], net.validator, T1);
        assert.ok(event);
        assert.equal(event.height, 1);
        assert.deepEqual(event.included, [valid]);
        assert.deepEqual(
          event.skipped.map((sk) => [sk.tx.hashHex, sk.reason.code]),
          [
            [unknown.hashHex, "UNKNOWN_SIGNER"],
            [tooHigh.hashHex, "NONCE_TOO_HIGH"],
          ],
        );
        assert.equal(c.chain.blockAt(1)?.block.txs.length, 1);
        assert.equal(c.chain.tx(unknown.hash), undefined);
        assert.equal(c.chain.tx(tooHigh.hash), undefined);
        assert.equal(c.chain.tx(valid.hash)?.index, 0);
        const head = c.chain.head;
        const none = await c.chain.produceBlock([envelope(net, notarize(net, admin.key, 0, "replay"))], net.validator, T1 + 1);
        assert.equal(none, undefined);
        assert.deepEqual(c.chain.head, head);
        assert.equal(c.chain.blockAt(2), undefined);
        // Waiters still learn why: an event at the unchanged head with the reason.
        assert.equal(committedEvents.length, 2);
        assert.equal(committedEvents[1]?.height, 1);
        assert.deepEqual(committedEvents[1]?.included, []);
        assert.equal(committedEvents[1]?.skipped[0]?.reason.code, "NONCE_TOO_LOW");
        // An explicitly empty block is a block, with the state unchanged.
        const empty = await c.chain.produceBlock([], net.validator, T1 + 2);
        assert.equal(empty?.height, 2);
        assert.deepEqual(c.chain.blockAt(2)?.header.stateRoot, head.stateRoot.hash);
        assert.deepEqual(c.chain.blockAt(2)?.block.txs, []);
      }));

    test("a block whose contract transactions offer more than LIMITS.blockGasMax gas is refused BAD_BLOCK", async () => {
      const gasLimit = LIMITS.contractGasLimitMax;
      const count = Math.floor(LIMITS.blockGasMax / gasLimit) + 1;
      const calls = Array.from({ length: count }, (_, nonce) =>
        envelope(net, sign(net, admin.key, nonce, "contracts", "call", { address: "00".repeat(20), method: "m", gasLimit })),
      );
      // A proposer that ignores the budget can build it (each call fails NO_SUCH_CONTRACT, still included)…
      const built = await withChain(net, async (c) => c.chain.buildCandidate(calls, net.validator.publicKey, T1));
      assert.equal(built.out.included.length, count);
      // …but no validator accepts it; one transaction fewer is within the budget.
      await withChain(net, async (c) => {
        assert.throws(
          () => c.chain.checkCandidate(built.block, built.hash),
          (err: unknown) => err instanceof TallyError && err.code === "BAD_BLOCK" && /gas/.test(err.message),
        );
      });
      const within = await withChain(net, async (c) => c.chain.buildCandidate(calls.slice(0, -1), net.validator.publicKey, T1));
      await withChain(net, async (c) => {
        assert.equal(c.chain.checkCandidate(within.block, within.hash).out.included.length, count - 1);
      });
    });

    test("the state root is deterministic: two stores fed the same genesis and blocks agree byte for byte", async () => {
      const carol = outsider(net, "carol");
      const blocks: Array<{ txs: SignedTestTx[]; timeMs: number }> = [
        {
          txs: [notarize(net, admin.key, 0, "d1"), notarize(net, alice.key, 0, "d2", { label: "two", metadata: { b: "2", a: "1" } })],
          timeMs: T1,
        },
        {
          txs: [
            sign(net, admin.key, 1, "accounts", "register", { publicKey: carol.key.publicKey, org: "consortium", roles: ["bank"] }),
            notarize(net, bob.key, 0, "d1"), // fails: EVIDENCE_EXISTS
          ],
          timeMs: T1 + 1000,
        },
        { txs: [notarize(net, carol.key, 0, "d3"), notarize(net, alice.key, 1, "d4")], timeMs: T1 + 2000 },
      ];
      const runs: Array<{ hashes: string[]; headers: string[]; roots: string[]; results: string[]; state: Map<string, string> }> = [];
      for (let i = 0; i < 2; i++) {
        await withChain(net, async (c) => {
          const hashes: string[] = [];
          const headers: string[] = [];
          const roots: string[] = [];
          const results: string[] = [];
          for (const b of blocks) {
            // Straight into blocks (admission would refuse the doomed notarisation up front).
            const e = await c.chain.produceBlock(
              b.txs.map((t) => envelope(net, t)),
              net.validator,
              b.timeMs,
            );
            assert.ok(e);
            const stored = c.chain.blockAt(e.height);
            assert.ok(stored);
            hashes.push(toHex(e.hash));
            headers.push(toHex(encodeHeader(stored.header)));
            roots.push(toHex(c.chain.head.stateRoot.hash));
            results.push(...e.results.map((r) => `${r.status}:${r.code}`));
          }
          runs.push({ hashes, headers, roots, results, state: allState(c.chain) });
        });
      }
      const [a, b] = runs;
      assert.ok(a && b);
      assert.deepEqual(a.results, ["ok:null", "ok:null", "ok:null", "failed:EVIDENCE_EXISTS", "ok:null", "ok:null"]);
      assert.deepEqual(b.hashes, a.hashes);
      assert.deepEqual(b.headers, a.headers);
      assert.deepEqual(b.roots, a.roots);
      assert.deepEqual(b.state, a.state);
      assert.equal(new Set(a.roots).size, 3);
    });

    test("a block executed while its parent is still being written sees the parent's state, and matches sequential production", async () => {
      const carol = outsider(net, "pipelined");
      const block1 = [sign(net, admin.key, 0, "accounts", "register", { publicKey: carol.key.publicKey, org: "consortium", roles: [] })];
      // carol exists only in block 1's (unflushed) writes when block 2 executes.
      const block2 = [notarize(net, carol.key, 0, "p-carol"), notarize(net, admin.key, 1, "p-admin")];
      const produce = async (pipelined: boolean) =>
        withChain(net, async (c) => {
          const p1 = c.chain.produceBlock(
            block1.map((t) => envelope(net, t)),
            net.validator,
            T1,
          );
          if (!pipelined) await p1;
          const p2 = c.chain.produceBlock(
            block2.map((t) => envelope(net, t)),
            net.validator,
            T1 + 1,
          );
          const [e1, e2] = await Promise.all([p1, p2]);
          assert.equal(e1?.height, 1);
          assert.equal(e2?.height, 2);
          assert.deepEqual(e2?.skipped, []);
          assert.deepEqual(
            e2?.results.map((r) => r.status),
            ["ok", "ok"],
          );
          assert.deepEqual(c.chain.blockAt(2)?.header.prevHash, e1?.hash);
          assert.equal(c.chain.head.height, 2);
          assert.equal(c.chain.account(carol.address)?.nonce, 1);
          return [toHex(e1?.hash ?? new Uint8Array()), toHex(e2?.hash ?? new Uint8Array()), toHex(c.chain.head.stateRoot.hash)];
        });
      assert.deepEqual(await produce(true), await produce(false));
    });

    test("the state root commits to exactly the stored state: rebuilding the tree from every entry gives the head's root", () =>
      withChain(net, async (c) => {
        await commitBlock(c, net, [notarize(net, admin.key, 0, "r1"), notarize(net, alice.key, 0, "r2")], T1);
        await commitBlock(c, net, [notarize(net, admin.key, 1, "r3")], T1 + 1);
        const entries = c.chain.scanState(new Uint8Array(0), 1000);
        const { hash } = net.suite;
        const rebuilt = applySmtUpdates(
          hash,
          { getNode: () => undefined },
          smtEmptyRoot(),
          entries.map(([key, value]) => ({ path: hash(key), valueHash: hash(value), value })),
          1,
        );
        assert.deepEqual(rebuilt.root.hash, c.chain.head.stateRoot.hash);
        // And each entry is provable against it; an absent key is provably absent.
        for (const [key, value] of entries) {
          const view = c.chain.stateProof(key);
          assert.deepEqual(view.value, value);
          assert.ok(verifySmtProof(hash, c.chain.head.stateRoot.hash, key, value, view.proof));
        }
        const absent = evidenceRecordKey(digestOf(net, "absent"));
        const view = c.chain.stateProof(absent);
        assert.equal(view.value, null);
        assert.ok(verifySmtProof(hash, c.chain.head.stateRoot.hash, absent, null, view.proof));
        assert.equal(verifySmtProof(hash, c.chain.head.stateRoot.hash, absent, new Uint8Array([1]), view.proof), false);
        assert.throws(
          () => c.chain.stateProof(absent, 3),
          (err: unknown) => err instanceof TallyError && err.code === "NOT_FOUND",
        );
      }));

    test("admission refuses a committed transaction (DUPLICATE_TX) and a replayed nonce (NONCE_TOO_LOW); refusals leave the pool empty", () =>
      withChain(net, async (c) => {
        const tx = notarize(net, admin.key, 0, "once");
        await commitBlock(c, net, [tx], T1);
        admitFails(c.chain, tx, "DUPLICATE_TX", { hash: tx.hash });
        admitFails(c.chain, notarize(net, admin.key, 0, "other"), "NONCE_TOO_LOW", { expected: 1, got: 0 });
        admitFails(c.chain, notarize(net, admin.key, 2, "gap"), "NONCE_TOO_HIGH", { expected: 1, got: 2 });
        admitFails(c.chain, notarize(net, outsider(net, "x").key, 0, "x"), "UNKNOWN_SIGNER");
        admitFails(c.chain, sign(net, admin.key, 1, "evidence", "notarize", { digest: digestOf(net, "w") }, "other-chain"), "WRONG_CHAIN", {
          expected: net.chainId,
          got: "other-chain",
        });
        const flipped = notarize(net, admin.key, 1, "flip");
        const bytes = Uint8Array.from(flipped.bytes);
        bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x01;
        admitFails(c.chain, { ...flipped, bytes }, "BAD_SIGNATURE");
        admitFails(c.chain, notarize(net, admin.key, 1, "once"), "EVIDENCE_EXISTS", { height: 1, submitter: admin.address });
        assert.equal(c.mempool.size, 0);
        assert.equal(c.mempool.inFlightCount, 0);
        // Nothing refused consumed the nonce.
        c.chain.admit(notarize(net, admin.key, 1, "next").bytes);
        assert.equal(c.mempool.size, 1);
      }));
  });
}

describe("commit visibility", () => {
  for (const suiteId of SUITES) {
    test(`a transaction is not reported committed before its block is durable and the head (${suiteId})`, async () => {
      const net = makeNet(suiteId);
      await withChain(net, async (c) => {
        // Hold the store's flush (lmdb-js: the write is committed and readable, fsync pending) behind a gate.
        const db = (c.store as unknown as { db: { flushed: PromiseLike<unknown> } }).db;
        const real = db.flushed;
        assert.equal(typeof real?.then, "function", "lmdb-js exposes `flushed` on the database");
        assert.equal(Object.hasOwn(db, "flushed"), false);
        let open!: () => void;
        const gate = new Promise<void>((resolve) => {
          open = resolve;
        });
        // Shadows the prototype's thenable on this instance only; `delete` restores it.
        Object.defineProperty(db, "flushed", { configurable: true, get: () => gate.then(() => real) });
        const tx = envelope(net, notarize(net, net.admin.key, 0, "durable"));
        const produced = c.chain.produceBlock([tx], net.validator, T1);
        let settled = false;
        void produced.then(() => {
          settled = true;
        });
        try {
          // Wait (bounded) until the block's write transaction is committed while its flush is held.
          const deadline = Date.now() + 2_000;
          while (c.store.txLocation(tx.hash) === undefined && Date.now() < deadline) await new Promise((r) => setImmediate(r));
          assert.equal(settled, false, "produceBlock resolved before its block was flushed");
          assert.equal(c.chain.head.height, 0);
          // Not durable, not the head: queries must not present it as committed yet.
          assert.equal(c.chain.tx(tx.hash), undefined, "Chain.tx reports a transaction whose block is neither durable nor the head");
          assert.equal(c.chain.blockAt(1), undefined, "Chain.blockAt serves a block that is neither durable nor the head");
        } finally {
          open();
          delete (db as { flushed?: unknown }).flushed;
          await produced;
        }
        assert.equal(c.chain.head.height, 1);
        assert.equal(c.chain.tx(tx.hash)?.height, 1);
      });
    });
  }
});

describe("receipt files cannot be altered by one character", () => {
  for (const suiteId of SUITES) {
    test(`changing a Merkle proof's leaf count in the receipt hex is detected (${suiteId})`, () => {
      const net = makeNet(suiteId);
      return withChain(net, async (c) => {
        // Three notarisations in one block; the receipt of the first one has a two-sibling tx proof.
        const txs = [0, 1, 2].map((n) => notarize(net, net.admin.key, n, `m${n}`));
        const event = await commitBlock(c, net, txs, T1);
        assert.equal(event?.included.length, 3);
        const first = event?.included[0];
        assert.ok(first);
        const receipt = c.chain.receipt(first.hash, evidenceRecordKey(digestOf(net, "m0")));
        assert.equal(receipt.txProof.total, 3);
        const text = formatEvidenceReceiptFile(makeEvidenceReceiptFile(net.genesis, receipt));
        assert.equal(verifyEvidenceReceiptFile(net.genesis, text).digest, toHex(digestOf(net, "m0")));
        const original = toHex(encodeReceipt(receipt));
        for (const proof of ["txProof", "resultProof"] as const) {
          const altered = toHex(encodeReceipt({ ...receipt, [proof]: { ...receipt[proof], total: 4 } }));
          const alteredText = text.replace(original, altered);
          // Exactly one character of the file differs ("03" -> "04").
          assert.equal(alteredText.length, text.length);
          assert.equal([...alteredText].filter((ch, i) => ch !== text[i]).length, 1);
          assert.throws(
            () => verifyEvidenceReceiptFile(net.genesis, alteredText),
            (err: unknown) => err instanceof TallyError && err.code === "BAD_RECEIPT",
            `a receipt file with ${proof}.total altered from 3 to 4 still verifies`,
          );
        }
      });
    });
  }
});
