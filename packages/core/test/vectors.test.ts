import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { decodeTx, fromHex, getSuite, txSignBytes } from "../src/index.js";
import { renderAll, VECTORS_PATH } from "./protocol-vectors.js";

type Vectors = ReturnType<typeof renderAll>;
const stored = JSON.parse(readFileSync(VECTORS_PATH, "utf8")) as Vectors;

test("the code reproduces every protocol vector in spec/test-vectors/protocol.json byte for byte", () => {
  assert.deepEqual(renderAll(stored), stored);
});

test("stored transaction vectors decode and their signatures verify", () => {
  for (const id of ["ed25519", "sm2"] as const) {
    const v = stored[id];
    const suite = getSuite(id);
    const tx = decodeTx(fromHex(v.tx));
    assert.equal(tx.nonce, 7);
    assert.ok(suite.verify(tx.signer, txSignBytes(tx), tx.signature), `${id} vector signature`);
    assert.deepEqual(txSignBytes(tx), fromHex(v.txSignBytes));
  }
});
