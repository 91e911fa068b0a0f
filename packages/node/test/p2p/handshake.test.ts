import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decode, encode, getSuite, isTallyError } from "@tally/core";
import { authSignBytes, decodeHello, encodeHello, makeHello, P2P_AUTH_DOMAIN, verifyHello } from "../../src/p2p/index.js";
import { CHAIN_ID, p2pKey, SUITE_IDS } from "./helpers.js";

const EKM = new Uint8Array(32).fill(7);

for (const suiteId of SUITE_IDS) {
  describe(`p2p hello (${suiteId})`, () => {
    const suite = getSuite(suiteId);
    const key = p2pKey(suite, "a");

    it("signs [domain, chainId, role, ekm, publicKey] and verifies only for the same session, chain and role", () => {
      assert.deepEqual(decode(authSignBytes(CHAIN_ID, "dialer", EKM, key.publicKey)), [
        P2P_AUTH_DOMAIN,
        CHAIN_ID,
        "dialer",
        EKM,
        key.publicKey,
      ]);
      const hello = decodeHello(encodeHello(makeHello(suite, key, CHAIN_ID, "dialer", EKM)), 1024);
      assert.equal(verifyHello(suite, hello, CHAIN_ID, "dialer", EKM), true);
      assert.equal(verifyHello(suite, hello, CHAIN_ID, "listener", EKM), false, "role");
      assert.equal(verifyHello(suite, hello, "other-chain", "dialer", EKM), false, "chain");
      assert.equal(verifyHello(suite, hello, CHAIN_ID, "dialer", new Uint8Array(32).fill(8)), false, "exporter value");
      const other = p2pKey(suite, "b");
      assert.equal(verifyHello(suite, { ...hello, publicKey: other.publicKey }, CHAIN_ID, "dialer", EKM), false, "claimed key");
    });

    it("decodes only the exact hello shape", () => {
      const good = { version: 1, chainId: CHAIN_ID, publicKey: key.publicKey, signature: new Uint8Array(64) };
      assert.doesNotThrow(() => decodeHello(encode(good), 1024));
      const bad = [
        { ...good, extra: 1 },
        { ...good, version: 2 },
        { ...good, chainId: 5 },
        { ...good, publicKey: "ab" },
        [1, CHAIN_ID, key.publicKey, new Uint8Array(64)],
      ];
      for (const value of bad) {
        assert.throws(
          () => decodeHello(encode(value), 1024),
          (err) => isTallyError(err) && err.code === "BAD_ENCODING",
          JSON.stringify(value, (_k, v) => (v instanceof Uint8Array ? "bytes" : v)),
        );
      }
      assert.throws(
        () => decodeHello(encode({ ...good, chainId: "x".repeat(2000) }), 1024),
        (err) => isTallyError(err) && err.code === "TOO_LARGE",
      );
    });
  });
}
