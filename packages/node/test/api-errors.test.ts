import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  concatBytes,
  decodeTx,
  encode,
  getSuite,
  LIMITS,
  type SignedTx,
  signTx,
  type TxBody,
  toHex,
  txSignBytes,
  type Value,
} from "@tally/core";
import {
  digestOf,
  get,
  type HttpResponse,
  http,
  makeNet,
  notarize,
  outsider,
  post,
  type RunningNode,
  type SignedTestTx,
  SUITES,
  sign,
  startNode,
  testKey,
} from "./helpers.js";

/** The canonical CBOR pieces of a transaction array, to reassemble with deliberate deviations. */
function pieces(tx: SignedTx): Uint8Array[] {
  return [1, tx.chainId, tx.signer, tx.nonce, tx.module, tx.method, tx.args, tx.signature].map((v) => encode(v as Value));
}

const bytes = (...b: number[]) => new Uint8Array(b);

for (const suiteId of SUITES) {
  describe(`HTTP API refusals leave the ledger unchanged (${suiteId})`, () => {
    const net = makeNet(suiteId);
    const admin = net.admin;
    const otherSuite = getSuite(suiteId === "sm2" ? "ed25519" : "sm2");
    let n: RunningNode;
    let firstTx: SignedTestTx;

    before(async () => {
      n = await startNode(net);
      firstTx = notarize(net, admin.key, 0, "first");
      const r = await post(n.url, "/v1/txs", { tx: firstTx.hex, wait: true });
      assert.equal(r.json.status, "committed");
    });
    after(() => n.close());

    const admittedCount = async () => (await n.node.metrics.mempoolAdmitted.get()).values[0]?.value ?? 0;

    async function ledger() {
      const status = (await get(n.url, "/v1/status")).json;
      const account = (await get(n.url, `/v1/accounts/${admin.address}`)).json;
      return {
        height: status.height,
        latestHash: status.latestHash,
        stateRoot: status.stateRoot,
        nonce: account.nonce,
        admitted: await admittedCount(),
      };
    }

    /** Sends, expects the refusal, then checks that nothing was admitted and the ledger did not move. */
    /** `code` may list the acceptable codes when more than one is right. */
    async function refused(send: () => Promise<HttpResponse>, status: number, code: string | string[], meta: Record<string, unknown> = {}) {
      const prior = await ledger();
      assert.equal(prior.height, 1);
      assert.equal(prior.nonce, 1);
      const r = await send();
      assert.equal(r.status, status, `status for ${code}: ${r.text.slice(0, 300)}`);
      if (Array.isArray(code)) assert.ok(code.includes(r.json?.error?.code), r.text.slice(0, 300));
      else assert.equal(r.json?.error?.code, code, r.text.slice(0, 300));
      assert.equal(typeof r.json.error.message, "string");
      assert.equal(typeof r.json.error.meta, "object");
      for (const [k, v] of Object.entries(meta)) assert.deepEqual(r.json.error.meta[k], v, `meta.${k}`);
      assert.equal(n.node.mempool.size, 0, "nothing pooled");
      assert.equal(n.node.mempool.inFlightCount, 0, "nothing in flight");
      assert.deepEqual(await ledger(), prior);
      return r;
    }

    const submit = (body: unknown) => () => post(n.url, "/v1/txs", body);
    const submitRaw = (raw: Uint8Array) => submit({ tx: toHex(raw) });
    const next = (label: string) => notarize(net, admin.key, 1, label);

    test("malformed JSON: 400 BAD_REQUEST", async () => {
      await refused(() => http(`${n.url}/v1/txs`, { body: `{"tx": "${next("json").hex}"` }), 400, "BAD_REQUEST");
      await refused(() => http(`${n.url}/v1/txs`, { body: "" }), 400, "BAD_REQUEST");
    });

    test("body over LIMITS.apiBodyBytesMax: 413 TOO_LARGE", async () => {
      const body = JSON.stringify({ tx: "ab".repeat(LIMITS.apiBodyBytesMax / 2) });
      assert.ok(body.length > LIMITS.apiBodyBytesMax);
      await refused(() => http(`${n.url}/v1/txs`, { body }), 413, "TOO_LARGE");
    });

    test("body shape: not an object, missing tx, wrong types, out-of-range timeout: 400 BAD_REQUEST", async () => {
      const tx = next("shape").hex;
      await refused(submit([tx]), 400, "BAD_REQUEST");
      await refused(submit("tx"), 400, "BAD_REQUEST");
      await refused(submit({}), 400, "BAD_REQUEST");
      await refused(submit({ tx, timeoutMs: 0, wait: true }), 400, "BAD_REQUEST");
      await refused(submit({ tx, timeoutMs: LIMITS.apiWaitTimeoutMsMax + 1, wait: true }), 400, "BAD_REQUEST");
      await refused(() => post(n.url, "/v1/txs/batch", { txs: [] }), 400, "BAD_REQUEST");
    });

    test("transaction not lowercase hex: 400 BAD_REQUEST", async () => {
      const good = next("hex").hex;
      for (const tx of ["zz", good.toUpperCase(), good.slice(1), "", `0x${good}`, `${good} `])
        await refused(submit({ tx }), 400, "BAD_REQUEST");
      // A JSON number is not hex text (Fastify's type coercion turns it into "1234", which then fails to decode).
      await refused(submit({ tx: 1234 }), 400, ["BAD_REQUEST", "BAD_ENCODING"]);
      await refused(submit({ tx: { hex: good } }), 400, "BAD_REQUEST");
    });

    test("transaction over LIMITS.txBytesMax as hex: refused by the body schema (400 BAD_REQUEST)", async () => {
      await refused(submit({ tx: "00".repeat(LIMITS.txBytesMax + 1) }), 400, "BAD_REQUEST");
    });

    test("arguments over LIMITS.txArgsBytesMax in a correctly signed transaction: 413 TOO_LARGE", async () => {
      const body: TxBody = {
        chainId: net.chainId,
        signer: admin.key.publicKey,
        nonce: 1,
        module: "evidence",
        method: "notarize",
        args: { digest: digestOf(net, "big"), label: "x".repeat(LIMITS.txArgsBytesMax) },
      };
      const tx: SignedTx = { ...body, signature: net.suite.sign(admin.key.privateKey, txSignBytes(body)) };
      const raw = concatBytes(bytes(0x88), ...pieces(tx));
      assert.ok(raw.length <= LIMITS.txBytesMax);
      await refused(submitRaw(raw), 413, "TOO_LARGE");
    });

    test("non-canonical CBOR of a correctly signed transaction: 400 BAD_ENCODING", async () => {
      const tx = signTx(net.suite, admin.key, {
        chainId: net.chainId,
        nonce: 1,
        module: "evidence",
        method: "notarize",
        args: { digest: digestOf(net, "cbor"), label: "l" },
      });
      const p = pieces(tx.tx);
      assert.deepEqual(concatBytes(bytes(0x88), ...p), tx.bytes, "the pieces reassemble to the canonical bytes");
      const [version, chainId, signer, nonce, module, method, , signature] = p as [
        Uint8Array,
        Uint8Array,
        Uint8Array,
        Uint8Array,
        Uint8Array,
        Uint8Array,
        Uint8Array,
        Uint8Array,
      ];
      const args = tx.tx.args as { digest: Uint8Array; label: string };
      const variants: Record<string, Uint8Array> = {
        "nonce as a non-minimal integer": concatBytes(
          bytes(0x88),
          version,
          chainId,
          signer,
          bytes(0x18, 0x01),
          module,
          method,
          p[6] as Uint8Array,
          signature,
        ),
        "version as a non-minimal integer": concatBytes(
          bytes(0x88, 0x18, 0x01),
          chainId,
          signer,
          nonce,
          module,
          method,
          p[6] as Uint8Array,
          signature,
        ),
        "indefinite-length array": concatBytes(bytes(0x9f), ...p, bytes(0xff)),
        "array length as a non-minimal integer": concatBytes(bytes(0x98, 0x08), ...p),
        "signer length as a non-minimal integer": concatBytes(
          bytes(0x88),
          version,
          chainId,
          bytes(0x59, 0x00, net.suite.publicKeyBytes),
          admin.key.publicKey,
          nonce,
          module,
          method,
          p[6] as Uint8Array,
          signature,
        ),
        "args map keys out of canonical order": concatBytes(
          bytes(0x88),
          version,
          chainId,
          signer,
          nonce,
          module,
          method,
          bytes(0xa2),
          encode("digest"),
          encode(args.digest),
          encode("label"),
          encode(args.label),
          signature,
        ),
        "a trailing byte": concatBytes(tx.bytes, bytes(0x00)),
      };
      for (const [what, raw] of Object.entries(variants)) {
        assert.notDeepEqual(raw, tx.bytes, what);
        const r = await refused(submitRaw(raw), 400, "BAD_ENCODING");
        assert.equal(r.json.error.code, "BAD_ENCODING", what);
      }
    });

    test("unknown module: 400 UNKNOWN_MODULE; unknown method: 400 UNKNOWN_METHOD", async () => {
      await refused(submit({ tx: sign(net, admin.key, 1, "nope", "notarize", {}).hex }), 400, "UNKNOWN_MODULE", { module: "nope" });
      await refused(submit({ tx: sign(net, admin.key, 1, "evidence", "nope", {}).hex }), 400, "UNKNOWN_METHOD", { method: "nope" });
      await refused(submit({ tx: sign(net, admin.key, 1, "evidence", "constructor", {}).hex }), 400, "UNKNOWN_METHOD");
      await refused(submit({ tx: sign(net, admin.key, 1, "accounts", "init-genesis", {}).hex }), 400, "UNKNOWN_METHOD");
    });

    test("wrong argument types: 400 BAD_ARGS naming the field", async () => {
      const call = (args: Value) => submit({ tx: sign(net, admin.key, 1, "evidence", "notarize", args).hex });
      await refused(call({ digest: toHex(digestOf(net, "x")) }), 400, "BAD_ARGS", { field: "digest" });
      await refused(call({ digest: digestOf(net, "x").subarray(0, 31) }), 400, "BAD_ARGS", { field: "digest" });
      await refused(call({ digest: digestOf(net, "x"), label: 5 }), 400, "BAD_ARGS", { field: "label" });
      await refused(call({ digest: digestOf(net, "x"), metadata: { k: 1 } }), 400, "BAD_ARGS", { field: "metadata" });
      await refused(call({ digest: digestOf(net, "x"), extra: 1 }), 400, "BAD_ARGS", { field: "extra" });
      await refused(call([digestOf(net, "x")]), 400, "BAD_ARGS", { field: "args" });
      const register = (args: Value) => submit({ tx: sign(net, admin.key, 1, "accounts", "register", args).hex });
      await refused(register({ publicKey: admin.key.publicKey, org: "consortium", roles: "admin" }), 400, "BAD_ARGS", { field: "roles" });
      await refused(register({ publicKey: admin.key.publicKey, org: "consortium", roles: ["Admin"] }), 400, "BAD_ARGS", {
        field: "roles[0]",
      });
    });

    test("one flipped signature byte: 400 BAD_SIGNATURE", async () => {
      const t = next("sig");
      for (const offset of [1, 17, net.suite.signatureBytes]) {
        const raw = Uint8Array.from(t.bytes);
        const i = raw.length - offset;
        raw[i] = (raw[i] as number) ^ 0x01;
        await refused(submitRaw(raw), 400, "BAD_SIGNATURE");
      }
      // A signature that verifies, but over other content (the nonce was changed after signing).
      const other = next("sig-other");
      const p = pieces(decodeTx(other.bytes));
      const resigned = concatBytes(bytes(0x88), ...p.slice(0, 3), encode(2), ...p.slice(4));
      await refused(submitRaw(resigned), 400, "BAD_SIGNATURE");
    });

    test(`key and signature of the other suite (${otherSuite.id}): 400 WRONG_SUITE`, async () => {
      const foreign = testKey(otherSuite, "account/admin");
      const { bytes: raw } = signTx(otherSuite, foreign, {
        chainId: net.chainId,
        nonce: 0,
        module: "evidence",
        method: "notarize",
        args: { digest: digestOf(net, "suite") },
      });
      await refused(submitRaw(raw), 400, "WRONG_SUITE", { suite: suiteId });
    });

    test("wrong chain id: 400 WRONG_CHAIN", async () => {
      const t = sign(net, admin.key, 1, "evidence", "notarize", { digest: digestOf(net, "chain") }, "some-other-chain");
      await refused(submit({ tx: t.hex }), 400, "WRONG_CHAIN", { expected: net.chainId, got: "some-other-chain" });
    });

    test("replays: the committed bytes again are 409 DUPLICATE_TX; the used nonce with other content is 409 NONCE_TOO_LOW", async () => {
      await refused(submit({ tx: firstTx.hex }), 409, "DUPLICATE_TX", { hash: firstTx.hash });
      await refused(submit({ tx: firstTx.hex, wait: true }), 409, "DUPLICATE_TX");
      await refused(submit({ tx: notarize(net, admin.key, 0, "replayed-nonce").hex }), 409, "NONCE_TOO_LOW", { expected: 1, got: 0 });
    });

    test("a skipped nonce: 409 NONCE_TOO_HIGH", async () => {
      await refused(submit({ tx: notarize(net, admin.key, 2, "gap").hex }), 409, "NONCE_TOO_HIGH", { expected: 1, got: 2 });
      await refused(submit({ tx: notarize(net, admin.key, 1_000_000, "far").hex, wait: true }), 409, "NONCE_TOO_HIGH", { expected: 1 });
    });

    test("an unregistered signer: 403 UNKNOWN_SIGNER", async () => {
      const stranger = outsider(net, "api");
      await refused(submit({ tx: notarize(net, stranger.key, 0, "stranger").hex }), 403, "UNKNOWN_SIGNER", { address: stranger.address });
      const r = await get(n.url, `/v1/accounts/${stranger.address}`);
      assert.equal(r.status, 404);
      assert.equal(r.json.error.code, "NOT_FOUND");
    });

    test("a digest already notarised: 409 EVIDENCE_EXISTS naming the first record", async () => {
      await refused(submit({ tx: notarize(net, admin.key, 1, "first").hex }), 409, "EVIDENCE_EXISTS", {
        digest: toHex(digestOf(net, "first")),
        height: 1,
        submitter: admin.address,
      });
    });

    test("unknown routes: 404 NOT_FOUND", async () => {
      await refused(() => get(n.url, "/v1/nope"), 404, "NOT_FOUND");
      // `/` is the explorer (test/browser/explorer-routes.test.ts); a path outside its sections is not.
      await refused(() => get(n.url, "/nope"), 404, "NOT_FOUND");
      await refused(() => get(n.url, "/v1/txs"), 404, "NOT_FOUND");
      await refused(() => post(n.url, "/v1/status", {}), 404, "NOT_FOUND");
      await refused(() => post(n.url, "/v2/txs", { tx: next("v2").hex }), 404, "NOT_FOUND");
    });

    test("invalid path and query parameters: 400 BAD_REQUEST", async () => {
      const h64 = "ab".repeat(32);
      for (const path of [
        "/v1/txs/xyz",
        `/v1/txs/${h64.toUpperCase()}`,
        `/v1/txs/${h64}0`,
        "/v1/txs/zz/receipt",
        "/v1/blocks/abc",
        "/v1/blocks/-1",
        "/v1/blocks/1234567890123456",
        "/v1/accounts/abcd",
        `/v1/accounts/${"AB".repeat(20)}`,
        "/v1/state/0",
        "/v1/state/zz",
        "/v1/state/00?height=-1",
        "/v1/state/00?height=x",
        "/v1/evidence/1234",
        "/v1/evidence",
        "/v1/evidence?submitter=zz",
        `/v1/evidence?submitter=${admin.address}&limit=0`,
        `/v1/evidence?submitter=${admin.address}&limit=${LIMITS.apiListLimitMax + 1}`,
        `/v1/evidence?submitter=${admin.address}&after=XYZ`,
      ]) {
        const r = await refused(() => get(n.url, path), 400, "BAD_REQUEST");
        assert.equal(r.status, 400, path);
      }
    });

    test("records that do not exist: 404 NOT_FOUND", async () => {
      const h64 = "ab".repeat(32);
      for (const path of [
        `/v1/txs/${h64}`,
        `/v1/txs/${h64}/receipt`,
        "/v1/blocks/0",
        "/v1/blocks/2",
        `/v1/blocks/${h64}`,
        `/v1/evidence/${h64}`,
        `/v1/evidence/${h64}/receipt`,
        "/v1/state/00?height=2",
      ]) {
        const r = await refused(() => get(n.url, path), 404, "NOT_FOUND");
        assert.equal(r.status, 404, path);
      }
    });
  });
}

describe("HTTP API: unknown fields (spec/api.md: 'unknown body fields are refused')", () => {
  // A node of its own: if a request with an unknown field is admitted, it changes that node's ledger.
  const net = makeNet("ed25519", { accounts: [{ name: "alice" }] });
  let n: RunningNode;
  before(async () => {
    n = await startNode(net);
  });
  after(() => n.close());

  async function expectBadRequest(r: HttpResponse) {
    assert.equal(r.status, 400, r.text.slice(0, 300));
    assert.equal(r.json?.error?.code, "BAD_REQUEST");
  }

  test("POST /v1/txs with an unknown field is refused and admits nothing", async () => {
    await expectBadRequest(await post(n.url, "/v1/txs", { tx: notarize(net, net.admin.key, 0, "extra").hex, extra: true }));
    assert.equal(n.node.mempool.size + n.node.mempool.inFlightCount, 0);
    assert.equal((await get(n.url, `/v1/accounts/${net.admin.address}`)).json.nonce, 0);
  });

  test("POST /v1/txs/batch with an unknown field is refused and admits nothing", async () => {
    const alice = net.accounts.alice;
    assert.ok(alice);
    const r = await post(n.url, "/v1/txs/batch", { txs: [notarize(net, alice.key, 0, "extra-batch").hex], extra: 1 });
    await expectBadRequest(r);
    assert.equal(n.node.mempool.size + n.node.mempool.inFlightCount, 0);
    assert.equal((await get(n.url, `/v1/accounts/${alice.address}`)).json.nonce, 0);
  });

  test("GET with an unknown query parameter is refused", async () => {
    await expectBadRequest(await get(n.url, "/v1/state/00?other=1"));
    await expectBadRequest(await get(n.url, `/v1/evidence?submitter=${net.admin.address}&other=1`));
  });
});

describe("HTTP API: waiting for a commit that does not come in time", () => {
  test("504 TIMEOUT names the hash; the transaction stays admitted and may still commit", async () => {
    const net = makeNet("ed25519");
    const n = await startNode(net, { producer: { blockIntervalMs: 60_000 } });
    try {
      const tx = notarize(net, net.admin.key, 0, "slow");
      const r = await post(n.url, "/v1/txs", { tx: tx.hex, wait: true, timeoutMs: 50 });
      assert.equal(r.status, 504);
      assert.equal(r.json.error.code, "TIMEOUT");
      assert.equal(r.json.error.meta.hash, tx.hash);
      assert.equal(n.node.mempool.size, 1);
      assert.equal((await get(n.url, "/v1/status")).json.height, 0);
      // Submitting it again is a duplicate, not a second copy.
      const again = await post(n.url, "/v1/txs", { tx: tx.hex });
      assert.equal(again.status, 409);
      assert.equal(again.json.error.code, "DUPLICATE_TX");
    } finally {
      await n.close();
    }
  });
});

for (const suiteId of SUITES) {
  describe(`HTTP API with signature verification on worker threads (${suiteId})`, () => {
    test("a valid transaction is admitted and a forged one refused, as with inline verification", async () => {
      const net = makeNet(suiteId);
      const n = await startNode(net, { verifyWorkers: 1 });
      try {
        const bad = Uint8Array.from(notarize(net, net.admin.key, 0, "w-bad").bytes);
        bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0x01;
        const refusedBad = await post(n.url, "/v1/txs", { tx: toHex(bad) });
        assert.equal(refusedBad.json?.error?.code, "BAD_SIGNATURE", refusedBad.text);
        const ok = await post(n.url, "/v1/txs", { tx: notarize(net, net.admin.key, 0, "w-ok").hex, wait: true });
        assert.equal(ok.status, 200, ok.text);
        assert.equal(ok.json.status, "committed");
      } finally {
        await n.close();
      }
    });
  });
}
