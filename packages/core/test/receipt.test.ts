import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  decodeReceipt,
  encodeReceipt,
  formatEvidenceReceiptFile,
  makeEvidenceReceiptFile,
  toHex,
  verifyCommit,
  verifyEvidenceReceiptFile,
  verifyReceipt,
} from "../src/index.js";
import { commitBy, errorCode, makeChain, notarisedReceipt } from "./fixtures.js";

for (const suite of ["ed25519", "sm2"] as const) {
  describe(`receipts (${suite})`, () => {
    const chain = makeChain(suite);
    const digest = chain.suite.hash(new TextEncoder().encode("exhibit A"));
    const receipt = notarisedReceipt(chain, digest);

    test("a receipt verifies against its genesis and survives an encode/decode round trip", () => {
      const verified = verifyReceipt(chain.genesis, decodeReceipt(encodeReceipt(receipt)));
      assert.equal(verified.header.height, 1);
      assert.equal(verified.tx.module, "evidence");
      assert.equal(verified.result.status, "ok");
    });

    test("any single altered byte of an encoded receipt is refused", () => {
      const bytes = encodeReceipt(receipt);
      for (let i = 0; i < bytes.length; i++) {
        const altered = Uint8Array.from(bytes);
        altered[i] = (altered[i] as number) ^ 0x01;
        const c = errorCode(() => verifyReceipt(chain.genesis, decodeReceipt(altered)));
        assert.equal(c, "BAD_RECEIPT", `byte ${i} altered: ${c}`);
      }
    });

    test("a receipt is refused by another chain's genesis", () => {
      const other = makeChain(suite);
      assert.equal(
        errorCode(() => verifyReceipt(other.genesis, receipt)),
        "BAD_RECEIPT",
      );
    });

    test("the evidence receipt file verifies, binds the file, and refuses altered text", () => {
      const file = makeEvidenceReceiptFile(chain.genesis, receipt);
      const text = formatEvidenceReceiptFile(file);
      const summary = verifyEvidenceReceiptFile(chain.genesis, text, new TextEncoder().encode("exhibit A"));
      assert.equal(summary.digest, toHex(digest));
      assert.equal(summary.hashAlgorithm, suite === "sm2" ? "sm3" : "sha256");
      assert.equal(
        errorCode(() => verifyEvidenceReceiptFile(chain.genesis, text, new TextEncoder().encode("exhibit B"))),
        "BAD_RECEIPT",
      );
      // Layout and summary are part of what is verified.
      assert.equal(
        errorCode(() => verifyEvidenceReceiptFile(chain.genesis, text.replace("\n", "\r\n"))),
        "BAD_RECEIPT",
      );
      assert.equal(
        errorCode(() => verifyEvidenceReceiptFile(chain.genesis, text.replace(`"height": 1`, `"height": 2`))),
        "BAD_RECEIPT",
      );
    });
  });
}

describe("commit certificates", () => {
  const chain = makeChain("ed25519", 4);
  const receipt = notarisedReceipt(chain, new Uint8Array(32).fill(7));
  const { header } = receipt;
  const [a, b, c, d] = chain.validators as [typeof chain.admin, typeof chain.admin, typeof chain.admin, typeof chain.admin];

  test("more than 2/3 of the power is needed: 3 of 4 pass, 2 of 4 fail", () => {
    verifyCommit(chain.suite, chain.genesis.validators, header, commitBy(chain, header, [a, b, c]));
    verifyCommit(chain.suite, chain.genesis.validators, header, commitBy(chain, header, [a, b, c, d]));
    assert.equal(
      errorCode(() => verifyCommit(chain.suite, chain.genesis.validators, header, commitBy(chain, header, [a, b]))),
      "BAD_COMMIT",
    );
  });

  test("duplicate signers, foreign signers, wrong round signatures and wrong heights are refused", () => {
    const good = commitBy(chain, header, [a, b, c]);
    const dup = { ...good, signatures: [...good.signatures.slice(0, 2), good.signatures[0] as (typeof good.signatures)[number]] };
    assert.equal(
      errorCode(() => verifyCommit(chain.suite, chain.genesis.validators, header, dup)),
      "BAD_COMMIT",
    );
    const outsider = {
      ...good,
      signatures: [
        ...good.signatures.slice(0, 2),
        { validator: 9, signature: (good.signatures[2] as { signature: Uint8Array }).signature },
      ],
    };
    assert.equal(
      errorCode(() => verifyCommit(chain.suite, chain.genesis.validators, header, outsider)),
      "BAD_COMMIT",
    );
    const wrongRound = { ...commitBy(chain, header, [a, b, c], 0), round: 1 };
    assert.equal(
      errorCode(() => verifyCommit(chain.suite, chain.genesis.validators, header, wrongRound)),
      "BAD_COMMIT",
    );
    assert.equal(
      errorCode(() => verifyCommit(chain.suite, chain.genesis.validators, header, { ...good, height: 2 })),
      "BAD_COMMIT",
    );
  });

  test("voting power, not head count, decides", () => {
    const weighted = makeChain("ed25519", 4, [10, 1, 1, 1]);
    const r = notarisedReceipt(weighted, new Uint8Array(32).fill(9));
    const [big, s1, s2, s3] = weighted.validators as [typeof chain.admin, typeof chain.admin, typeof chain.admin, typeof chain.admin];
    verifyCommit(weighted.suite, weighted.genesis.validators, r.header, commitBy(weighted, r.header, [big]));
    assert.equal(
      errorCode(() => verifyCommit(weighted.suite, weighted.genesis.validators, r.header, commitBy(weighted, r.header, [s1, s2, s3]))),
      "BAD_COMMIT",
    );
  });
});
