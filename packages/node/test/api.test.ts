import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  accountKey,
  decode,
  decodeEvidenceRecord,
  decodeReceipt,
  decodeSmtProof,
  evidenceBySubmitterPrefix,
  evidenceRecordKey,
  formatEvidenceReceiptFile,
  fromHex,
  LIMITS,
  seededRandom,
  TallyError,
  toHex,
  utf8,
  verifyEvidenceReceiptFile,
  verifyReceipt,
  verifySmtProof,
} from "@tally/core";
import { decodeAccount } from "../src/modules/accounts.js";
import { digestOf, get, makeNet, notarize, outsider, post, type RunningNode, SUITES, startNode, type TestAccount } from "./helpers.js";

const prng = seededRandom;

const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function verifyStateProof(
  net: ReturnType<typeof makeNet>,
  stateRootHex: string,
  view: { key: string; value: string | null; proof: string },
) {
  try {
    const proof = decodeSmtProof(decode(fromHex(view.proof)));
    return verifySmtProof(
      net.suite.hash,
      fromHex(stateRootHex),
      fromHex(view.key),
      view.value === null ? null : fromHex(view.value),
      proof,
    );
  } catch {
    return false;
  }
}

for (const suiteId of SUITES) {
  describe(`HTTP API (${suiteId})`, () => {
    const net = makeNet(suiteId, { accounts: [{ name: "alice" }, { name: "bob" }, { name: "carol" }] });
    const admin = net.admin;
    const alice = net.accounts.alice as TestAccount;
    const bob = net.accounts.bob as TestAccount;
    const carol = net.accounts.carol as TestAccount;
    let n: RunningNode;
    let url: string;
    /** The admin's next nonce, tracked as the tests submit. */
    let adminNonce = 0;
    const h1 = notarize(net, admin.key, adminNonce++, "h1", { label: "hello", metadata: { b: "2", a: "1" } });

    before(async () => {
      n = await startNode(net);
      url = n.url;
    });
    after(() => n.close());

    test("status, genesis and health before any block", async () => {
      const status = await get(url, "/v1/status");
      assert.equal(status.status, 200);
      assert.equal(status.json.chainId, net.chainId);
      assert.equal(status.json.crypto, suiteId);
      assert.equal(status.json.genesisHash, net.genesis.hashHex);
      assert.equal(status.json.height, 0);
      assert.equal(status.json.latestHash, net.genesis.hashHex);
      assert.equal(status.json.latestTimeMs, net.doc.genesisTimeMs);
      assert.equal(status.json.validators, 1);
      assert.deepEqual(status.json.modules, [
        "accounts",
        "evidence",
        "validators",
        "tokens",
        "governance",
        "documents",
        "invoices",
        "credit",
        "credentials",
        "lottery",
        "contracts",
      ]);
      assert.deepEqual((await get(url, "/v1/genesis")).json, net.doc);
      assert.deepEqual((await get(url, "/health")).json, { ok: true });
      const latest = await get(url, "/v1/blocks/latest");
      assert.equal(latest.status, 404);
      assert.equal(latest.json.error.code, "NOT_FOUND");
      const account = await get(url, `/v1/accounts/${alice.address}`);
      assert.deepEqual(account.json, {
        address: alice.address,
        publicKey: toHex(alice.key.publicKey),
        org: "consortium",
        roles: [],
        nonce: 0,
      });
    });

    test("submit with wait: the committed result, then the same transaction by hash", async () => {
      const r = await post(url, "/v1/txs", { tx: h1.hex, wait: true });
      assert.equal(r.status, 200);
      const digest = `0x${toHex(digestOf(net, "h1"))}`;
      assert.equal(r.json.hash, h1.hash);
      assert.equal(r.json.status, "committed");
      assert.equal(r.json.height, 1);
      assert.equal(r.json.index, 0);
      assert.equal(r.json.result.status, "ok");
      assert.equal(r.json.result.code, null);
      assert.equal(r.json.result.message, null);
      assert.equal(r.json.result.value.digest, digest);
      assert.equal(r.json.result.value.height, 1);
      assert.deepEqual(r.json.result.events, [{ module: "evidence", name: "notarized", data: { digest, submitter: admin.address } }]);
      const block = (await get(url, "/v1/blocks/1")).json;
      assert.equal(r.json.result.value.timeMs, block.header.timeMs);
      const t = await get(url, `/v1/txs/${h1.hash}`);
      assert.equal(t.status, 200);
      assert.deepEqual(t.json, {
        hash: h1.hash,
        height: 1,
        index: 0,
        blockHash: block.hash,
        timeMs: block.header.timeMs,
        tx: {
          chainId: net.chainId,
          sender: admin.address,
          signer: toHex(admin.key.publicKey),
          nonce: 0,
          module: "evidence",
          method: "notarize",
          args: { digest, label: "hello", metadata: { a: "1", b: "2" } },
          signature: t.json.tx.signature,
          raw: h1.hex,
        },
        result: r.json.result,
      });
      assert.ok(h1.hex.endsWith(t.json.tx.signature));
      assert.equal(t.json.tx.signature.length, net.suite.signatureBytes * 2);
    });

    test("submit without wait: 202 pending, committed shortly after", async () => {
      const tx = notarize(net, admin.key, adminNonce++, "h2");
      const r = await post(url, "/v1/txs", { tx: tx.hex });
      assert.equal(r.status, 202);
      assert.deepEqual(r.json, { hash: tx.hash, status: "pending" });
      // Poll until the head has moved past it (the tx lookup alone can run ahead of the head: see chain.test.ts).
      const found = await waitFor("commit", async () => {
        const res = await get(url, `/v1/txs/${tx.hash}`);
        if (res.status !== 200) return undefined;
        return (await get(url, "/v1/status")).json.height >= res.json.height ? res.json : undefined;
      });
      assert.equal(found.result.status, "ok");
      assert.equal(found.tx.nonce, 1);
    });

    test("blocks by height, by hash and latest agree; headers link; the tx receipt verifies offline", async () => {
      const status = (await get(url, "/v1/status")).json;
      assert.equal(status.height, 2);
      const b1 = (await get(url, "/v1/blocks/1")).json;
      const b2 = (await get(url, "/v1/blocks/2")).json;
      assert.deepEqual((await get(url, `/v1/blocks/${b1.hash}`)).json, b1);
      assert.deepEqual((await get(url, "/v1/blocks/latest")).json, b2);
      assert.equal(status.latestHash, b2.hash);
      assert.equal(status.stateRoot, b2.header.stateRoot);
      assert.equal(b1.header.height, 1);
      assert.equal(b1.header.chainId, net.chainId);
      assert.equal(b1.header.prevHash, net.genesis.hashHex);
      assert.equal(b2.header.prevHash, b1.hash);
      assert.equal(b1.header.proposer, toHex(net.validator.publicKey));
      assert.equal(b1.header.time, new Date(b1.header.timeMs).toISOString());
      assert.ok(b2.header.timeMs > b1.header.timeMs);
      assert.deepEqual(b1.txs, [h1.hash]);
      assert.equal(b1.commit.height, 1);
      assert.equal(b1.commit.blockHash, b1.hash);
      assert.equal(b1.commit.round, 0);
      assert.equal(b1.commit.signatures.length, 1);
      assert.equal(b1.commit.signatures[0].validator, 0);
      const receipt = (await get(url, `/v1/txs/${h1.hash}/receipt`)).json;
      assert.equal(receipt.hash, h1.hash);
      assert.equal(receipt.height, 1);
      const verified = verifyReceipt(net.genesis, decodeReceipt(fromHex(receipt.receipt)));
      assert.equal(toHex(verified.blockHash), b1.hash);
      assert.equal(toHex(verified.header.stateRoot), b1.header.stateRoot);
      assert.equal(toHex(verified.txHash), h1.hash);
      assert.equal(verified.result.status, "ok");
    });

    test("a batch of 50 transactions with wait: all committed, several in one block, in nonce order", async () => {
      const first = adminNonce;
      const txs = Array.from({ length: 50 }, () => notarize(net, admin.key, adminNonce, `batch-${adminNonce++}`));
      const r = await post(url, "/v1/txs/batch", { txs: txs.map((t) => t.hex), wait: true });
      assert.equal(r.status, 200);
      const results = r.json.results as Array<{ hash: string; status: string; height: number; index: number; result: { status: string } }>;
      assert.equal(results.length, 50);
      results.forEach((res, i) => {
        assert.equal(res.hash, txs[i]?.hash);
        assert.equal(res.status, "committed");
        assert.equal(res.result.status, "ok");
      });
      const heights = new Set(results.map((res) => res.height));
      assert.ok(heights.size < 50, `50 transactions in ${heights.size} blocks`);
      for (let i = 1; i < results.length; i++) {
        const a = results[i - 1] as (typeof results)[number];
        const b = results[i] as (typeof results)[number];
        assert.ok(b.height > a.height || (b.height === a.height && b.index === a.index + 1), `order at ${i}`);
      }
      for (const h of heights) {
        const block = (await get(url, `/v1/blocks/${h}`)).json;
        assert.deepEqual(
          block.txs,
          results.filter((res) => res.height === h).map((res) => res.hash),
        );
      }
      assert.equal((await get(url, `/v1/accounts/${admin.address}`)).json.nonce, first + 50);
      // A receipt from a many-transaction block verifies too.
      const mid = results[25] as (typeof results)[number];
      const rec = (await get(url, `/v1/txs/${mid.hash}/receipt`)).json;
      assert.equal(toHex(verifyReceipt(net.genesis, decodeReceipt(fromHex(rec.receipt))).txHash), mid.hash);
    });

    test("a mixed batch: each transaction admitted or refused on its own", async () => {
      const stranger = outsider(net, "batch");
      const forged = Uint8Array.from(notarize(net, carol.key, 0, "forged").bytes);
      forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 0x01;
      const txs = [
        notarize(net, alice.key, 0, "mixed-a0").hex,
        notarize(net, alice.key, 2, "mixed-gap").hex,
        toHex(forged),
        notarize(net, stranger.key, 0, "mixed-stranger").hex,
        notarize(net, carol.key, 0, "h1").hex,
        notarize(net, carol.key, 0, "mixed-c0").hex,
      ];
      const r = await post(url, "/v1/txs/batch", { txs, wait: true });
      assert.equal(r.status, 200);
      const results = r.json.results;
      assert.equal(results[0].status, "committed");
      assert.deepEqual(results[1].error.code, "NONCE_TOO_HIGH");
      assert.deepEqual(results[1].error.meta, { expected: 1, got: 2 });
      assert.equal(results[2].error.code, "BAD_SIGNATURE");
      assert.equal(results[3].error.code, "UNKNOWN_SIGNER");
      assert.equal(results[4].error.code, "EVIDENCE_EXISTS");
      assert.equal(results[5].status, "committed");
      assert.equal((await get(url, `/v1/accounts/${alice.address}`)).json.nonce, 1);
      assert.equal((await get(url, `/v1/accounts/${carol.address}`)).json.nonce, 1);
    });

    test("state with its proof verifies against the block's state root, at the head and at earlier heights", async () => {
      // The record of h2, notarised in block 2: absent after block 1, present after block 2 and at the head.
      const key = toHex(evidenceRecordKey(digestOf(net, "h2")));
      const status = (await get(url, "/v1/status")).json;
      const view = (await get(url, `/v1/state/${key}`)).json;
      assert.equal(view.height, status.height);
      assert.equal(view.key, key);
      assert.ok(view.value !== null);
      const record = decodeEvidenceRecord(fromHex(view.value));
      assert.equal(record.height, 2);
      assert.equal(record.submitter, admin.address);
      const head = (await get(url, `/v1/blocks/${view.height}`)).json;
      assert.equal(view.stateRoot, head.header.stateRoot);
      assert.equal(verifyStateProof(net, head.header.stateRoot, view), true);
      // Not against another block's root, and not for another value.
      const b1 = (await get(url, "/v1/blocks/1")).json;
      assert.equal(verifyStateProof(net, b1.header.stateRoot, view), false);
      const otherValue = toHex(net.suite.hash(fromHex(view.value)));
      assert.equal(verifyStateProof(net, head.header.stateRoot, { ...view, value: otherValue }), false);
      assert.equal(verifyStateProof(net, head.header.stateRoot, { ...view, value: null }), false);
      // Right after block 1 the key was absent, provably so against block 1's root.
      const atOne = (await get(url, `/v1/state/${key}?height=1`)).json;
      assert.equal(atOne.height, 1);
      assert.equal(atOne.stateRoot, b1.header.stateRoot);
      assert.equal(atOne.value, null);
      assert.equal(verifyStateProof(net, b1.header.stateRoot, atOne), true);
      const b2 = (await get(url, "/v1/blocks/2")).json;
      const atTwo = (await get(url, `/v1/state/${key}?height=2`)).json;
      assert.equal(atTwo.value, view.value);
      assert.equal(verifyStateProof(net, b2.header.stateRoot, atTwo), true);
    });

    test("state of an account (a 51-byte key) with its proof, at the head and at heights 1 and 0", async () => {
      const key = toHex(accountKey(admin.address));
      const r = await get(url, `/v1/state/${key}`);
      assert.equal(r.status, 200, r.text.slice(0, 200));
      const view = r.json;
      assert.equal(decodeAccount(fromHex(view.value)).nonce, adminNonce);
      const head = (await get(url, `/v1/blocks/${view.height}`)).json;
      assert.equal(verifyStateProof(net, head.header.stateRoot, view), true);
      const old = (await get(url, `/v1/state/${key}?height=1`)).json;
      assert.equal(decodeAccount(fromHex(old.value)).nonce, 1);
      assert.equal(verifyStateProof(net, (await get(url, "/v1/blocks/1")).json.header.stateRoot, old), true);
      assert.equal(decodeAccount(fromHex((await get(url, `/v1/state/${key}?height=0`)).json.value)).nonce, 0);
    });

    test("state keys up to LIMITS.stateKeyBytesMax are served; longer ones are a 400 in the API's error format", async () => {
      const longest = await get(url, `/v1/state/${"ab".repeat(LIMITS.stateKeyBytesMax)}`);
      assert.equal(longest.status, 200, longest.text.slice(0, 200));
      assert.equal(longest.json.value, null);
      const tooLong = await get(url, `/v1/state/${"ab".repeat(LIMITS.stateKeyBytesMax + 1)}`);
      assert.equal(tooLong.status, 400, tooLong.text.slice(0, 200));
      assert.equal(tooLong.json.error.code, "BAD_REQUEST");
    });

    test("an absent key has a non-inclusion proof", async () => {
      const key = toHex(evidenceRecordKey(digestOf(net, "never notarised")));
      const view = (await get(url, `/v1/state/${key}`)).json;
      assert.equal(view.value, null);
      const block = (await get(url, `/v1/blocks/${view.height}`)).json;
      assert.equal(verifyStateProof(net, block.header.stateRoot, view), true);
      assert.equal(verifyStateProof(net, block.header.stateRoot, { ...view, value: "00" }), false);
      // A key that is present cannot be proven absent with its own proof.
      const present = (await get(url, `/v1/state/${toHex(evidenceRecordKey(digestOf(net, "h1")))}`)).json;
      assert.notEqual(present.value, null);
      assert.equal(verifyStateProof(net, block.header.stateRoot, { ...present, value: null }), false);
    });

    test("evidence by digest", async () => {
      const digest = toHex(digestOf(net, "h1"));
      const r = await get(url, `/v1/evidence/${digest}`);
      assert.equal(r.status, 200);
      const b1 = (await get(url, "/v1/blocks/1")).json;
      assert.deepEqual(r.json, {
        digest,
        submitter: admin.address,
        height: 1,
        timeMs: b1.header.timeMs,
        time: new Date(b1.header.timeMs).toISOString(),
        txHash: h1.hash,
        label: "hello",
        metadata: { a: "1", b: "2" },
      });
    });

    test("evidence by submitter, paginated with limit and the next cursor, in commit order", async () => {
      const labels = ["p0", "p1", "p2", "p3", "p4"];
      const r = await post(url, "/v1/txs/batch", { txs: labels.map((l, i) => notarize(net, bob.key, i, l).hex), wait: true });
      assert.ok(r.json.results.every((x: { status: string }) => x.status === "committed"));
      const expected = labels.map((l) => toHex(digestOf(net, l)));
      const all = (await get(url, `/v1/evidence?submitter=${bob.address}`)).json;
      assert.deepEqual(
        all.records.map((x: { digest: string }) => x.digest),
        expected,
      );
      assert.equal(all.next, null);
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const q: string = `/v1/evidence?submitter=${bob.address}&limit=2${after === null ? "" : `&after=${after}`}`;
        const page = (await get(url, q)).json;
        assert.ok(page.records.length <= 2);
        for (const rec of page.records) {
          assert.equal(rec.submitter, bob.address);
          seen.push(rec.digest);
        }
        after = page.next;
        pages++;
        assert.ok(pages <= 4, "pagination terminates");
      } while (after !== null);
      assert.deepEqual(seen, expected);
      assert.equal(pages, 3);
      const firstPage = (await get(url, `/v1/evidence?submitter=${bob.address}&limit=2`)).json;
      assert.equal(typeof firstPage.next, "string");
      assert.ok(firstPage.next.startsWith(toHex(evidenceBySubmitterPrefix(bob.address))));
      const none = (await get(url, `/v1/evidence?submitter=${outsider(net, "nobody").address}`)).json;
      assert.deepEqual(none, { records: [], next: null });
    });

    test("evidence by submitter never returns another submitter's records, whatever the cursor", async () => {
      // Both bob and carol have records now; the cursor of the lower address's range must not leak into the higher's list.
      const [low, high] = [bob, carol].sort((a, b) => (a.address < b.address ? -1 : 1)) as [TestAccount, TestAccount];
      const own = (await get(url, `/v1/evidence?submitter=${high.address}`)).json;
      assert.ok(own.records.length >= 1);
      const cursor = toHex(evidenceBySubmitterPrefix(low.address));
      const r = await get(url, `/v1/evidence?submitter=${high.address}&after=${cursor}`);
      if (r.status === 200) {
        for (const rec of r.json.records) assert.equal(rec.submitter, high.address, "a record of another submitter was listed");
      } else {
        assert.equal(r.status, 400);
        assert.equal(r.json.error.code, "BAD_REQUEST");
      }
    });

    test("the evidence receipt file verifies offline, with the file, and any altered byte fails", async () => {
      const digest = toHex(digestOf(net, "h1"));
      const r = await get(url, `/v1/evidence/${digest}/receipt`);
      assert.equal(r.status, 200);
      const text = formatEvidenceReceiptFile(r.json);
      const summary = verifyEvidenceReceiptFile(net.genesis, text, utf8("evidence/h1"));
      const record = (await get(url, `/v1/evidence/${digest}`)).json;
      const block = (await get(url, `/v1/blocks/${record.height}`)).json;
      assert.deepEqual(summary, {
        digest,
        hashAlgorithm: suiteId === "sm2" ? "sm3" : "sha256",
        submitter: admin.address,
        height: record.height,
        time: record.time,
        txHash: record.txHash,
        blockHash: block.hash,
        label: "hello",
        metadata: { a: "1", b: "2" },
      });
      const badReceipt = (t: string, fileBytes?: Uint8Array) => {
        try {
          verifyEvidenceReceiptFile(net.genesis, t, fileBytes);
        } catch (err) {
          return err instanceof TallyError && err.code === "BAD_RECEIPT" ? "refused" : `threw ${String(err)}`;
        }
        return "accepted";
      };
      assert.equal(badReceipt(text, utf8("evidence/h2")), "refused");
      assert.equal(badReceipt(text.trimEnd()), "refused");
      assert.equal(badReceipt(`${text}\n`), "refused");
      const random = prng(0x7a11 + (suiteId === "sm2" ? 1 : 0));
      const start = text.indexOf('"evidence": {');
      const end = text.indexOf("}", start) + 1;
      assert.ok(start > 0 && end > start);
      const positions = new Set<number>();
      for (let i = start; i < end; i++) positions.add(i);
      while (positions.size < end - start + 300) positions.add(Math.floor(random() * text.length));
      const failures: string[] = [];
      for (const pos of positions) {
        const original = text[pos] as string;
        const choices = PRINTABLE.filter((ch) => ch !== original);
        const replacement = choices[Math.floor(random() * choices.length)] as string;
        const altered = text.slice(0, pos) + replacement + text.slice(pos + 1);
        const outcome = badReceipt(altered);
        if (outcome !== "refused") failures.push(`${pos}: ${JSON.stringify(original)} -> ${JSON.stringify(replacement)}: ${outcome}`);
      }
      assert.deepEqual(failures, []);
    });

    test("/openapi.json is an OpenAPI 3 document listing the /v1 routes", async () => {
      const r = await get(url, "/openapi.json");
      assert.equal(r.status, 200);
      assert.match(r.json.openapi, /^3\.\d+\.\d+$/);
      assert.equal(r.json.info.title, "Tally node API");
      const paths = r.json.paths as Record<string, Record<string, unknown>>;
      const expected: Record<string, string[]> = {
        "/v1/status": ["get"],
        "/v1/genesis": ["get"],
        "/v1/validators": ["get"],
        "/v1/misbehaviour": ["get"],
        "/v1/txs": ["post"],
        "/v1/txs/batch": ["post"],
        "/v1/txs/{hash}": ["get"],
        "/v1/txs/{hash}/receipt": ["get"],
        "/v1/blocks/latest": ["get"],
        "/v1/blocks/{id}": ["get"],
        "/v1/accounts/{address}": ["get"],
        "/v1/state/{key}": ["get"],
        "/v1/evidence": ["get"],
        "/v1/evidence/{digest}": ["get"],
        "/v1/evidence/{digest}/receipt": ["get"],
        "/v1/events": ["get"],
        "/v1/query/{module}/{name}": ["post"],
        "/v1/credentials/{issuer}/{id}/status": ["get"],
        "/v1/modules": ["get"],
        "/v1/audit/accounts/{address}/txs": ["post"],
      };
      assert.deepEqual(Object.keys(paths).sort(), Object.keys(expected).sort());
      for (const [path, methods] of Object.entries(expected)) {
        for (const m of methods) assert.ok(paths[path]?.[m], `${m.toUpperCase()} ${path}`);
      }
    });

    test("/metrics exposes tally_chain_height (the head) and tally_mempool_txs", async () => {
      const status = (await get(url, "/v1/status")).json;
      const res = await fetch(`${url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
      const text = await res.text();
      assert.equal(text.match(/^tally_chain_height (\d+)$/m)?.[1], String(status.height));
      assert.equal(text.match(/^tally_mempool_txs (\d+)$/m)?.[1], "0");
      assert.match(text, /^# TYPE tally_chain_height gauge$/m);
      assert.match(text, /^tally_txs_committed_total\{status="ok"\} \d+$/m);
    });
  });
}
