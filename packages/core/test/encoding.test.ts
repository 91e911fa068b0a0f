import assert from "node:assert/strict";
import { test } from "node:test";
import { encode as cborEncode, rfc8949EncodeOptions } from "cborg";
import fc from "fast-check";
import { decode, encode, fromHex, TallyError, toHex, type Value } from "../src/index.js";

function refused(hex: string): string {
  try {
    decode(fromHex(hex));
  } catch (err) {
    assert.ok(err instanceof TallyError);
    return err.code;
  }
  return "accepted";
}

test("known encodings (RFC 8949 appendix A subset, deterministic form)", () => {
  const cases: Array<[Value, string]> = [
    [0, "00"],
    [23, "17"],
    [24, "1818"],
    [1000, "1903e8"],
    [-1, "20"],
    [2n ** 63n - 1n, "1b7fffffffffffffff"],
    ["a", "6161"],
    [new Uint8Array([1, 2]), "420102"],
    [[1, [2, 3]], "8201820203"],
    [{ b: 1, a: 2 }, "a2616102616201"],
    [{ aa: 1, b: 2 }, "a261620262616101"],
    [null, "f6"],
    [true, "f5"],
  ];
  for (const [value, hex] of cases) {
    assert.equal(toHex(encode(value)), hex, `encode ${String(value)}`);
    assert.deepEqual(decode(fromHex(hex)), value);
  }
});

test("non-canonical and out-of-model encodings are refused with BAD_ENCODING", () => {
  const bad = {
    "non-minimal integer": "1801",
    "non-minimal length": "780161",
    "indefinite array": "9f01ff",
    "indefinite bytes": "5f4101ff",
    "unsorted map keys": "a2616201616102",
    "unsorted map keys (longer key first)": "a262616101616202",
    "duplicate map keys": "a2616101616102",
    "half float": "f93c00",
    "double float": "fb3ff0000000000000",
    undefined: "f7",
    tag: "c11a514b67b0",
    "integer map key": "a10102",
    "trailing bytes": "0000",
    truncated: "8201",
  };
  for (const [what, hex] of Object.entries(bad)) assert.equal(refused(hex), "BAD_ENCODING", what);
});

test("encode refuses values outside the data model", () => {
  for (const value of [1.5, Number.NaN, 2n ** 64n, undefined, new Date(0), new Map()] as unknown[]) {
    assert.throws(
      () => encode(value as Value),
      (err: unknown) => err instanceof TallyError && err.code === "BAD_ENCODING",
    );
  }
  let deep: Value = 1;
  for (let i = 0; i < 20; i++) deep = [deep];
  assert.throws(
    () => encode(deep),
    (err: unknown) => err instanceof TallyError && err.code === "BAD_ENCODING",
  );
});

test("every value of the data model round-trips to identical bytes (property)", () => {
  const leaf = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.string(),
    fc.uint8Array({ maxLength: 40 }),
  );
  const value = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof(
      { depthSize: "small" },
      leaf,
      fc.array(tie("v"), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 6 }), tie("v"), { maxKeys: 4 }),
    ),
  })).v;
  fc.assert(
    fc.property(value, (v) => {
      const bytes = encode(v as Value);
      assert.deepEqual(encode(decode(bytes)), bytes);
    }),
    { numRuns: 300 },
  );
});

test("map key order equals RFC 8949 bytewise order of encoded keys (property, including multi-byte UTF-8 and long keys)", () => {
  const key = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.string({ unit: "binary", maxLength: 8 }),
    fc.string({ minLength: 250, maxLength: 260 }),
  );
  fc.assert(
    fc.property(fc.dictionary(key, fc.integer(), { maxKeys: 12 }), (obj) => {
      assert.deepEqual(encode(obj), new Uint8Array(cborEncode(obj, rfc8949EncodeOptions)));
    }),
    { numRuns: 500 },
  );
});
