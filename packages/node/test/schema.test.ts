import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getSuite, LIMITS, TallyError, type Value } from "@tally/core";
import { ExecutionEngine } from "../src/execution/engine.js";
import { type Schema, s } from "../src/execution/schema.js";
import { BUILTIN_MODULES } from "../src/modules/index.js";

/** Asserts `schema.parse(value, path)` refuses with BAD_ARGS naming `field`. */
function refuses<T>(schema: Schema<T>, value: Value | undefined, field: string, path = field): void {
  assert.throws(
    () => schema.parse(value, path),
    (err: unknown) => {
      assert.ok(err instanceof TallyError, `expected a TallyError, got ${String(err)}`);
      assert.equal(err.code, "BAD_ARGS");
      assert.equal(err.meta.field, field);
      return true;
    },
    `expected ${JSON.stringify(String(value))} to be refused`,
  );
}

const bytes = (n: number) => new Uint8Array(n).fill(7);

describe("schema combinators", () => {
  test("bytes(): any byte string; refuses every other type", () => {
    const schema = s.bytes();
    assert.deepEqual(schema.parse(bytes(0), "x"), bytes(0));
    assert.deepEqual(schema.parse(bytes(100), "x"), bytes(100));
    for (const v of ["ab", 1, null, undefined, true, [1], { a: 1 }] as Array<Value | undefined>) refuses(schema, v, "x");
  });

  test("bytes(n): exactly n bytes", () => {
    const schema = s.bytes(32);
    assert.equal(schema.parse(bytes(32), "digest").length, 32);
    refuses(schema, bytes(31), "digest");
    refuses(schema, bytes(33), "digest");
    refuses(schema, bytes(0), "digest");
    assert.throws(
      () => schema.parse("00".repeat(32), "digest"),
      (err: unknown) => err instanceof TallyError && err.meta.expected === "32 bytes",
    );
  });

  test("string(): type, maximum length and pattern", () => {
    const plain = s.string({ maxLength: 5 });
    assert.equal(plain.parse("", "name"), "");
    assert.equal(plain.parse("héllo", "name"), "héllo");
    refuses(plain, "abcdef", "name");
    for (const v of [5, null, undefined, bytes(3), ["a"], { a: "b" }] as Array<Value | undefined>) refuses(plain, v, "name");
    const patterned = s.string({ maxLength: 10, pattern: /^[a-z]+$/ });
    assert.equal(patterned.parse("abc", "role"), "abc");
    refuses(patterned, "Abc", "role");
    refuses(patterned, "", "role");
    refuses(patterned, "abcdefghijk", "role");
  });

  test("uint(): non-negative safe integers only", () => {
    const schema = s.uint();
    assert.equal(schema.parse(0, "n"), 0);
    assert.equal(schema.parse(Number.MAX_SAFE_INTEGER, "n"), Number.MAX_SAFE_INTEGER);
    for (const v of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1, 2n ** 60n, "1", null, undefined, true] as Array<Value | undefined>) {
      refuses(schema, v, "n");
    }
  });

  test("array(): type, maximum items, and each item at its indexed path", () => {
    const schema = s.array(s.uint(), 3);
    assert.deepEqual(schema.parse([], "list"), []);
    assert.deepEqual(schema.parse([1, 2, 3], "list"), [1, 2, 3]);
    refuses(schema, [1, 2, 3, 4], "list");
    refuses(schema, "123", "list");
    refuses(schema, { 0: 1 }, "list");
    refuses(schema, null, "list");
    refuses(schema, [1, -2, 3], "list[1]", "list");
  });

  test("stringMap(): entries, key and value lengths, value types", () => {
    const schema = s.stringMap(2, 4);
    assert.deepEqual(schema.parse({}, "meta"), {});
    assert.deepEqual(schema.parse({ a: "1", bbbb: "2222" }, "meta"), { a: "1", bbbb: "2222" });
    refuses(schema, { a: "1", b: "2", c: "3" }, "meta");
    refuses(schema, { aaaaa: "1" }, "meta");
    refuses(schema, { a: "11111" }, "meta");
    refuses(schema, { a: 1 }, "meta");
    refuses(schema, { a: null }, "meta");
    for (const v of [null, undefined, "a", ["a"], bytes(2), 3] as Array<Value | undefined>) refuses(schema, v, "meta");
  });

  test("optional(): absent or null is null, anything else is checked by the inner schema", () => {
    const schema = s.optional(s.string({ maxLength: 3 }));
    assert.equal(schema.parse(undefined, "label"), null);
    assert.equal(schema.parse(null, "label"), null);
    assert.equal(schema.parse("abc", "label"), "abc");
    refuses(schema, "abcd", "label");
    refuses(schema, 1, "label");
  });

  test("object(): required fields, unknown fields refused, only declared fields returned", () => {
    const schema = s.object({ digest: s.bytes(2), count: s.uint(), label: s.optional(s.string({ maxLength: 8 })) });
    assert.deepEqual(schema.parse({ digest: bytes(2), count: 3 }, ""), { digest: bytes(2), count: 3, label: null });
    assert.deepEqual(schema.parse({ digest: bytes(2), count: 3, label: "x" }, ""), { digest: bytes(2), count: 3, label: "x" });
    refuses(schema, { count: 3 }, "digest", "");
    refuses(schema, { digest: bytes(2) }, "count", "");
    refuses(schema, { digest: bytes(3), count: 3 }, "digest", "");
    refuses(schema, { digest: bytes(2), count: 3, extra: 1 }, "extra", "");
    refuses(schema, { digest: bytes(2), count: 3, constructor: 1 }, "constructor", "");
    refuses(schema, { digest: bytes(2), count: 3, label: 5 }, "label", "");
    // Not a map at all: the field is the whole argument.
    for (const v of [null, undefined, [bytes(2), 3], bytes(2), "x", 1] as Array<Value | undefined>) refuses(schema, v, "args", "");
  });

  test("object(): nested fields are reported with their full path", () => {
    const schema = s.object({ outer: s.object({ inner: s.uint() }) });
    assert.deepEqual(schema.parse({ outer: { inner: 1 } }, ""), { outer: { inner: 1 } });
    refuses(schema, { outer: { inner: "x" } }, "outer.inner", "");
    refuses(schema, { outer: [1] }, "outer", "");
    refuses(schema, { outer: { inner: 1 }, other: 1 }, "other", "");
  });

  test("object(): an unknown nested field is reported with its full path, like every other nested field", () => {
    const schema = s.object({ outer: s.object({ inner: s.uint() }) });
    // The message says "unknown field outer.extra"; meta.field should agree (and agree with badArgs' paths).
    refuses(schema, { outer: { inner: 1, extra: 2 } }, "outer.extra", "");
  });
});

describe("built-in method schemas (through ExecutionEngine.resolveCall)", () => {
  const engine = new ExecutionEngine(getSuite("ed25519"), "tally-test", BUILTIN_MODULES);
  const resolveFails = (module: string, method: string, args: Value, code: string, field?: string) =>
    assert.throws(
      () => engine.resolveCall(module, method, args),
      (err: unknown) => {
        assert.ok(err instanceof TallyError);
        assert.equal(err.code, code);
        if (field !== undefined) assert.equal(err.meta.field, field);
        return true;
      },
    );

  test("unknown module and method, including inherited property names", () => {
    resolveFails("nope", "notarize", {}, "UNKNOWN_MODULE");
    resolveFails("evidence", "nope", {}, "UNKNOWN_METHOD");
    resolveFails("evidence", "constructor", {}, "UNKNOWN_METHOD");
    resolveFails("accounts", "hasOwnProperty", {}, "UNKNOWN_METHOD");
    assert.deepEqual(engine.moduleNames(), [
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
  });

  test("evidence.notarize", () => {
    const ok = engine.resolveCall("evidence", "notarize", { digest: bytes(32), label: "l", metadata: { k: "v" } });
    assert.deepEqual(ok.parsed, { digest: bytes(32), label: "l", metadata: { k: "v" } });
    resolveFails("evidence", "notarize", { digest: bytes(31) }, "BAD_ARGS", "digest");
    resolveFails("evidence", "notarize", { digest: "00".repeat(32) }, "BAD_ARGS", "digest");
    resolveFails("evidence", "notarize", { digest: bytes(32), label: "x".repeat(LIMITS.evidenceLabelLengthMax + 1) }, "BAD_ARGS", "label");
    const tooMany: Record<string, string> = {};
    for (let i = 0; i < 33; i++) tooMany[`k${i}`] = "v";
    resolveFails("evidence", "notarize", { digest: bytes(32), metadata: tooMany }, "BAD_ARGS", "metadata");
    resolveFails("evidence", "notarize", { digest: bytes(32), submitter: "me" }, "BAD_ARGS", "submitter");
    resolveFails("evidence", "notarize", [bytes(32)], "BAD_ARGS", "args");
  });

  test("accounts.register", () => {
    const ok = engine.resolveCall("accounts", "register", { publicKey: bytes(32), org: "acme", roles: ["clerk"] });
    assert.deepEqual(ok.parsed, { publicKey: bytes(32), org: "acme", roles: ["clerk"] });
    assert.deepEqual(ok.def.roles, ["admin", "org-admin"]);
    resolveFails("accounts", "register", { publicKey: bytes(32), org: "acme", roles: ["Clerk"] }, "BAD_ARGS", "roles[0]");
    resolveFails("accounts", "register", { publicKey: bytes(32), org: "acme", roles: "clerk" }, "BAD_ARGS", "roles");
    resolveFails("accounts", "register", { publicKey: bytes(32), org: 7, roles: [] }, "BAD_ARGS", "org");
    resolveFails("accounts", "register", { publicKey: "k", org: "acme", roles: [] }, "BAD_ARGS", "publicKey");
    resolveFails("accounts", "register", { publicKey: bytes(32), org: "acme", roles: Array(17).fill("r") }, "BAD_ARGS", "roles");
  });
});
