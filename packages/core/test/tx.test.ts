import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decode, decodeTx, encode, encodeTx, getSuite, signTx, txSignBytes, verifyTxBytes } from "../src/index.js";
import { errorCode } from "./fixtures.js";

for (const id of ["ed25519", "sm2"] as const) {
  describe(`transactions (${id})`, () => {
    const suite = getSuite(id);
    const other = getSuite(id === "sm2" ? "ed25519" : "sm2");
    const key = suite.generateKeyPair();
    const body = { chainId: "c1", nonce: 3, module: "evidence", method: "notarize", args: { digest: new Uint8Array(32).fill(1) } };

    test("sign then verify round-trips and yields the sender address and hash", () => {
      const { bytes, hash } = signTx(suite, key, body);
      const env = verifyTxBytes(suite, "c1", bytes);
      assert.equal(env.hashHex, hash);
      assert.equal(env.tx.nonce, 3);
      assert.equal(env.sender.length, 40);
      assert.deepEqual(decodeTx(encodeTx(env.tx)), env.tx);
    });

    test("wrong chain, other suite, bad signature and tampered fields are refused", () => {
      const { bytes, tx } = signTx(suite, key, body);
      assert.equal(
        errorCode(() => verifyTxBytes(suite, "c2", bytes)),
        "WRONG_CHAIN",
      );
      const foreign = signTx(other, other.generateKeyPair(), body).bytes;
      assert.equal(
        errorCode(() => verifyTxBytes(suite, "c1", foreign)),
        "WRONG_SUITE",
      );
      const sig = Uint8Array.from(tx.signature);
      sig[5] = (sig[5] as number) ^ 0x80;
      assert.equal(
        errorCode(() => verifyTxBytes(suite, "c1", encodeTx({ ...tx, signature: sig }))),
        "BAD_SIGNATURE",
      );
      assert.equal(
        errorCode(() => verifyTxBytes(suite, "c1", encodeTx({ ...tx, nonce: 4 }))),
        "BAD_SIGNATURE",
      );
      assert.equal(
        errorCode(() => verifyTxBytes(suite, "c1", encodeTx({ ...tx, method: "other" }))),
        "BAD_SIGNATURE",
      );
    });

    test("malformed transactions are refused with a typed code", () => {
      const { tx } = signTx(suite, key, body);
      const arr = decode(encodeTx(tx)) as unknown[];
      assert.equal(
        errorCode(() => decodeTx(encode([2, ...arr.slice(1)] as never))),
        "BAD_TX",
      );
      assert.equal(
        errorCode(() => decodeTx(encode(arr.slice(0, 7) as never))),
        "BAD_TX",
      );
      assert.equal(
        errorCode(() => decodeTx(encode([1, "c1", tx.signer, -1, "evidence", "notarize", null, tx.signature]))),
        "BAD_TX",
      );
      assert.equal(
        errorCode(() => decodeTx(encode([1, "c1", tx.signer, 0, "Evidence", "notarize", null, tx.signature]))),
        "BAD_TX",
      );
      assert.equal(
        errorCode(() => decodeTx(new Uint8Array(70_000))),
        "TOO_LARGE",
      );
      assert.equal(
        errorCode(() => signTx(suite, key, { ...body, args: { blob: new Uint8Array(61 * 1024) } })),
        "TOO_LARGE",
      );
      assert.equal(
        errorCode(() => signTx(other, key, body)),
        "WRONG_SUITE",
      );
    });

    test("the sign bytes bind chain id and nonce under a domain string", () => {
      const a = txSignBytes({ ...body, signer: key.publicKey });
      const b = txSignBytes({ ...body, chainId: "c2", signer: key.publicKey });
      const c = txSignBytes({ ...body, nonce: 4, signer: key.publicKey });
      assert.notDeepEqual(a, b);
      assert.notDeepEqual(a, c);
      assert.equal((decode(a) as unknown[])[0], "tally/tx/v1");
    });
  });
}
