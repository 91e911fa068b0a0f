/**
 * Issue 6's bad input: each is refused at admission or fails its own transaction with a typed code;
 * the node goes on and state is unchanged (but for the signer's nonce).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { accountKey, LIMITS, TallyError, type TxResult, toHex, type Value } from "@tally/core";
import { contractsModule } from "../../src/modules/index.js";
import { MemoryChain, makeNet, type TestAccount } from "../helpers.js";
import { COUNTER, call, deploy, failed, GAS, ok, oneMethod, value } from "./fixtures.js";

const net = makeNet("ed25519", { accounts: [{ name: "user" }] });
const { admin } = net;
const user = net.accounts.user!;

/** Everything in state but `who`'s account record (its nonce advances even when the call fails). */
function snapshot(chain: MemoryChain, who: TestAccount): Map<string, string> {
  const skip = toHex(accountKey(who.address));
  return new Map([...chain.state.values].filter(([k]) => k !== skip).map(([k, v]) => [k, toHex(v)]));
}

/** Deploys `run(args)` with `body`, then expects its call to fail cleanly with `code`. */
function runFails(chain: MemoryChain, code: string, body: string, args: Value = null, gasLimit = GAS): TxResult {
  const address = deploy(chain, admin, oneMethod(body));
  return failsCleanly(chain, user, code, () => call(chain, user, address, "run", args, gasLimit));
}

/** Runs `run`, expects a failed receipt with `code`, no events, state unchanged; returns the result. */
function failsCleanly(chain: MemoryChain, who: TestAccount, code: string, run: () => TxResult): TxResult {
  const before = snapshot(chain, who);
  const r = run();
  failed(r, code);
  assert.deepEqual(r.events, []);
  const after = snapshot(chain, who);
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
  assert.deepEqual(
    changed.map((k) => Buffer.from(k, "hex").toString("latin1")),
    [],
    "state changed",
  );
  return r;
}

/** Deploys `run(args)` with `body` and calls it. */
function runBody(chain: MemoryChain, body: string, args: Value = null, gasLimit = GAS): TxResult {
  const address = deploy(chain, admin, oneMethod(body));
  return call(chain, user, address, "run", args, gasLimit);
}

const deployPrecheck = contractsModule.methods.deploy!.precheck!;
const readCtx = { suite: net.suite, caller: admin.address, get: () => null };

describe("contracts: bad input", () => {
  test("syntax errors are refused at admission and fail at execution with CONTRACT_SYNTAX", () => {
    const code = "var __contract = { run( { return 1 } };";
    assert.throws(
      () => deployPrecheck(readCtx, { code, initArgs: null, gasLimit: GAS }),
      (e: unknown) => e instanceof TallyError && e.code === "CONTRACT_SYNTAX" && /SyntaxError/.test(e.message),
    );
    const chain = new MemoryChain(net);
    failsCleanly(chain, admin, "CONTRACT_SYNTAX", () => chain.call(admin, "contracts", "deploy", { code, gasLimit: GAS }));
    failsCleanly(chain, admin, "CONTRACT_SYNTAX", () => chain.call(admin, "contracts", "store", { code }));
  });

  test("code that defines no contract object, or one without methods, is CONTRACT_INVALID", () => {
    const chain = new MemoryChain(net);
    for (const code of ["var x = 1;", "var __contract = 5;", "var __contract = { a: 1 };"]) {
      failsCleanly(chain, admin, "CONTRACT_INVALID", () => chain.call(admin, "contracts", "deploy", { code, gasLimit: GAS }));
    }
  });

  test("oversized code is TOO_LARGE; bad deploy and call arguments are BAD_ARGS", () => {
    const chain = new MemoryChain(net);
    const big = `var __contract = { run() { return 1; } }; //${"x".repeat(LIMITS.contractCodeBytesMax)}`;
    failsCleanly(chain, admin, "TOO_LARGE", () => chain.call(admin, "contracts", "deploy", { code: big, gasLimit: GAS }));
    failsCleanly(chain, admin, "BAD_ARGS", () => chain.call(admin, "contracts", "deploy", { code: 42, gasLimit: GAS }));
    failsCleanly(chain, admin, "BAD_ARGS", () => chain.call(admin, "contracts", "deploy", { code: COUNTER, gasLimit: 0 }));
    failsCleanly(chain, admin, "BAD_ARGS", () =>
      chain.call(admin, "contracts", "deploy", { code: COUNTER, gasLimit: LIMITS.contractGasLimitMax + 1 }),
    );
    const address = deploy(chain, admin, COUNTER);
    failsCleanly(chain, user, "BAD_ARGS", () => chain.call(user, "contracts", "call", { address: "zz", method: "get", gasLimit: GAS }));
    failsCleanly(chain, user, "BAD_ARGS", () => chain.call(user, "contracts", "call", { address, method: "get" }));
    failsCleanly(chain, user, "BAD_ARGS", () => chain.call(user, "contracts", "call", { address, method: "_secret", gasLimit: GAS }));
    failsCleanly(chain, user, "BAD_ARGS", () => chain.call(user, "contracts", "call", { address, method: "get", gasLimit: GAS, extra: 1 }));
  });

  test("missing contracts and methods: NO_SUCH_CONTRACT, CONTRACT_NO_METHOD (init is not callable)", () => {
    const chain = new MemoryChain(net);
    const address = deploy(chain, admin, COUNTER);
    failsCleanly(chain, user, "NO_SUCH_CONTRACT", () => call(chain, user, "ab".repeat(20), "get"));
    failsCleanly(chain, user, "CONTRACT_NO_METHOD", () => call(chain, user, address, "missing"));
    failsCleanly(chain, user, "CONTRACT_NO_METHOD", () => call(chain, user, address, "init"));
    failsCleanly(chain, user, "CONTRACT_NO_METHOD", () => call(chain, user, address, "toString"));
  });

  test("wrong argument types fail in the contract (CONTRACT_ERROR) or at the host API", () => {
    const chain = new MemoryChain(net);
    const check = 'if (typeof args.n !== "number") throw new TypeError("n must be a number"); return args.n * 2;';
    const address = deploy(chain, admin, oneMethod(check));
    assert.equal(value(call(chain, user, address, "run", { n: 21 })), 42);
    const r = failsCleanly(chain, user, "CONTRACT_ERROR", () => call(chain, user, address, "run", { n: "21" }));
    assert.equal(r.message, "TypeError: n must be a number");
    runFails(chain, "CONTRACT_ERROR", "__tally.set(1, 2);");
    runFails(chain, "CONTRACT_ERROR", "__tally.set({}, 'v');");
    runFails(chain, "CONTRACT_ERROR", `__tally.set("${"k".repeat(LIMITS.contractKeyBytesMax + 1)}", "v");`);
    runFails(chain, "CONTRACT_ERROR", `__tally.set("k", "v".repeat(${LIMITS.contractValueBytesMax + 1}));`);
    runFails(chain, "CONTRACT_ERROR", `__tally.scan("", ${LIMITS.contractScanLimitMax + 1}, null);`);
    runFails(chain, "CONTRACT_ERROR", '__tally.emit("contract.deployed", "{}");');
    runFails(chain, "CONTRACT_RESULT", '__tally.emit("ev", "{not json");');
    runFails(chain, "CONTRACT_ERROR", 'throw "a string";');
    assert.equal(runFails(chain, "CONTRACT_ERROR", "throw null;").message, "Thrown: null");
    assert.equal(runFails(chain, "CONTRACT_ERROR", "throw { not: 'an error' };").message, "Error: ");
  });

  test("results must be JSON with safe integers, synchronous and within limits", () => {
    const chain = new MemoryChain(net);
    runFails(chain, "CONTRACT_RESULT", "return 1.5;");
    runFails(chain, "CONTRACT_RESULT", `return "x".repeat(${LIMITS.contractResultBytesMax + 1});`);
    runFails(chain, "CONTRACT_RESULT", '__tally.emit("ev", JSON.stringify({ v: 0.1 }));');
    runFails(chain, "CONTRACT_ERROR", "return () => 1;");
    runFails(chain, "CONTRACT_ERROR", "return Promise.resolve(1);");
    assert.equal(value(runBody(chain, "return undefined;")), null);
  });

  test("infinite loops run out of gas (uncatchable), writes discarded, the chain goes on", () => {
    const chain = new MemoryChain(net);
    const r = runFails(chain, "OUT_OF_GAS", '__tally.set("a", "1"); for (;;) {}', null, 300_000);
    assert.deepEqual(r.value, { gasUsed: 300_000, gasLimit: 300_000 });
    runFails(chain, "OUT_OF_GAS", "for (;;) { try { for (;;) {} } catch (e) {} }", null, 300_000);
    // Catching the host's OUT_OF_GAS does not help either.
    runFails(chain, "OUT_OF_GAS", 'for (;;) { try { __tally.set("k", "v"); } catch (e) {} }', null, 300_000);
    assert.equal(value(runBody(chain, "return 7;")), 7);
  });

  test("deep recursion fails with CONTRACT_STACK, huge allocations with CONTRACT_MEMORY (all gas used)", () => {
    const chain = new MemoryChain(net);
    runFails(chain, "CONTRACT_STACK", "const f = (n) => 1 + f(n + 1); return f(0);");
    const mem = runFails(
      chain,
      "CONTRACT_MEMORY",
      'const a = []; for (let i = 0; ; i++) a.push("x".repeat(1000) + i);',
      null,
      LIMITS.contractGasLimitMax,
    );
    assert.deepEqual(mem.value, {
      limitBytes: LIMITS.contractMemoryBytesMax,
      gasUsed: LIMITS.contractGasLimitMax,
      gasLimit: LIMITS.contractGasLimitMax,
    });
    runFails(chain, "CONTRACT_MEMORY", "return new ArrayBuffer(64 * 1024 * 1024).byteLength;");
    // Many allocations each below the per-allocation limit: the usage check at interrupt ticks stops them.
    runFails(chain, "CONTRACT_MEMORY", "const xs = []; for (;;) xs.push(new Uint8Array(100000));", null, LIMITS.contractGasLimitMax);
    assert.equal(value(runBody(chain, "return 8;")), 8);
  });

  test("filling the engine's whole heap between two usage checks fails only that transaction, the same way every time", () => {
    const chain = new MemoryChain(net);
    // Strings from 4 MB down to 8 bytes, each size until it no longer fits: a few hundred allocations,
    // far fewer steps than one interrupt tick, so only the engine's fixed heap stops them.
    const fill = `const xs = []; let n = 0;
      for (let size = 4000000; size >= 8; size = size >> 1) { try { for (;;) { xs.push("x".repeat(size)); n++; } } catch (e) {} }`;
    const heapFailure = {
      limitBytes: LIMITS.contractHeapBytesMax,
      gasUsed: LIMITS.contractGasLimitMax,
      gasLimit: LIMITS.contractGasLimitMax,
    };
    // The node still needs the heap to serve a host call, or to start a nested call, after that.
    const host = `${fill} const seen = []; for (let i = 0; i < 3; i++) { try { __tally.set("k" + i, "v"); seen.push("ok"); } catch (e) { seen.push(e.code); } } return seen;`;
    assert.deepEqual(runFails(chain, "CONTRACT_MEMORY", host, null, LIMITS.contractGasLimitMax).value, heapFailure);
    const nested = `${fill} try { return __tally.call(__tally.self(), "run", "null"); } catch (e) { return e.code; }`;
    assert.deepEqual(runFails(chain, "CONTRACT_MEMORY", nested, null, LIMITS.contractGasLimitMax).value, heapFailure);
    // Letting go of it all again: a success if no check fell while the heap was full, a memory failure
    // if one did; either way the same outcome and gas every time (the engine starts each from the same bytes).
    const address = deploy(chain, admin, oneMethod(`${fill} xs.length = 0; __tally.set("n", String(n)); return n;`));
    const outcomes = [0, 1, 2].map(() => {
      const r = call(chain, user, address, "run", null, LIMITS.contractGasLimitMax);
      return { status: r.status, code: r.code, value: r.value };
    });
    assert.ok(outcomes[0]?.status === "ok" || outcomes[0]?.code === "CONTRACT_MEMORY", JSON.stringify(outcomes[0]));
    assert.deepEqual(outcomes.slice(1), [outcomes[0], outcomes[0]]);
    assert.equal(value(runBody(chain, "return 9;")), 9);
  });

  test("recursion to the stack limit at every nesting level stays a typed failure (no native stack overflow)", () => {
    const chain = new MemoryChain(net);
    // Each level finds its own depth limit, then calls itself from half that depth, down to depth 8.
    const code = `var __contract = { r(a) {
      const probe = (n) => (n === 0 ? 0 : 1 + probe(n - 1));
      let deepest = 0;
      for (let n = 10; ; n += 10) { try { probe(n); deepest = n; } catch (e) { break; } }
      let inner = null;
      const f = (n) => { if (n > 0) return f(n - 1); try { inner = JSON.parse(__tally.call(__tally.self(), "r", JSON.stringify({ d: a.d + 1 }))); } catch (e) { inner = e.code; } return 0; };
      f(Math.floor(deepest / 2));
      return { d: a.d, deepest, inner };
    } };`;
    const address = deploy(chain, admin, code);
    let level = value(call(chain, user, address, "r", { d: 1 }, LIMITS.contractGasLimitMax)) as {
      d: number;
      deepest: number;
      inner: Value;
    };
    assert.ok(level.deepest > 100, "the transaction's own call has the larger stack");
    const depths: number[] = [];
    while (typeof level.inner === "object" && level.inner !== null) {
      depths.push(level.d);
      level = level.inner as typeof level;
      assert.ok(level.deepest > 20);
    }
    assert.equal(level.d, LIMITS.contractCallDepthMax);
    assert.equal(level.inner, "CONTRACT_DEPTH");
    assert.equal(depths.length, LIMITS.contractCallDepthMax - 1);
  });

  test("no Date, Math.random, WeakRef, FinalizationRegistry, timers, eval, Function, I/O or other host objects", () => {
    const chain = new MemoryChain(net);
    const probes: Record<string, string> = {
      Date: "return typeof Date;",
      random: "return typeof Math.random;",
      WeakRef: "return typeof WeakRef;",
      FinalizationRegistry: "return typeof FinalizationRegistry;",
      setTimeout: "return typeof setTimeout + typeof setInterval + typeof queueMicrotask;",
      eval: "return typeof eval;",
      io: "return [typeof std, typeof os, typeof require, typeof process, typeof print, typeof console, typeof performance, typeof fetch].join();",
    };
    const out = value(
      runBody(
        chain,
        `return { ${Object.entries(probes)
          .map(([k, v]) => `${k}: (() => { ${v} })()`)
          .join(", ")} };`,
      ),
    );
    assert.deepEqual(out, {
      Date: "undefined",
      random: "undefined",
      WeakRef: "undefined",
      FinalizationRegistry: "undefined",
      setTimeout: "undefinedundefinedundefined",
      eval: "undefined",
      io: Array(8).fill("undefined").join(),
    });
    runFails(chain, "CONTRACT_ERROR", "return Date.now();");
    runFails(chain, "CONTRACT_ERROR", "return new Date().getTime();");
    runFails(chain, "CONTRACT_ERROR", "return Math.random();");
    for (const attempt of [
      'return Function("return this")();',
      'return (function () {}).constructor("return Date")();',
      'return Object.getPrototypeOf(function* () {}).constructor("yield 1")().next();',
      'return Object.getPrototypeOf(async function () {}).constructor("return 1");',
      'return globalThis.eval("1");',
      'return (0, eval)("1");',
    ]) {
      const r = runFails(chain, "CONTRACT_ERROR", attempt);
      assert.match(r.message ?? "", /EvalError: code generation from strings is disabled|TypeError|ReferenceError/);
    }
    // Dynamic import has no module loader: the promise is refused as a result.
    runFails(chain, "CONTRACT_ERROR", 'return import("os");');
    // The global object holds the standard library, the contract and __tally, nothing else.
    const globals = value(runBody(chain, "return Object.getOwnPropertyNames(globalThis).sort();")) as string[];
    assert.deepEqual(
      globals.filter((g) => !STANDARD_GLOBALS.has(g)),
      ["__contract"],
    );
    assert.ok(globals.includes("__tally"));
    // __tally cannot be replaced or extended.
    assert.deepEqual(
      value(runBody(chain, '"use strict"; try { globalThis.__tally = {}; return "replaced"; } catch (e) { return e.name; }')),
      "TypeError",
    );
    assert.deepEqual(
      value(runBody(chain, '"use strict"; try { __tally.get = () => "x"; return "patched"; } catch (e) { return e.name; }')),
      "TypeError",
    );
  });

  test("a failing deploy (init throws) stores nothing", () => {
    const chain = new MemoryChain(net);
    const code = 'var __contract = { init() { __tally.set("a", "1"); throw new Error("no"); }, run() {} };';
    failsCleanly(chain, admin, "CONTRACT_ERROR", () => chain.call(admin, "contracts", "deploy", { code, gasLimit: GAS }));
    assert.equal(chain.state.entriesUnder("contracts/").size, 0);
    ok(chain.call(admin, "contracts", "deploy", { code: COUNTER, gasLimit: GAS }));
  });
});

/** Standard globals QuickJS defines (after the sandbox removed eval, WeakRef, FinalizationRegistry, Date). */
const STANDARD_GLOBALS = new Set([
  "AggregateError",
  "Array",
  "ArrayBuffer",
  "BigInt",
  "BigInt64Array",
  "BigUint64Array",
  "Boolean",
  "DataView",
  "Error",
  "EvalError",
  "Float16Array",
  "Float32Array",
  "Float64Array",
  "Function",
  "Infinity",
  "Int16Array",
  "Int32Array",
  "Int8Array",
  "InternalError",
  "Iterator",
  "JSON",
  "Map",
  "Math",
  "NaN",
  "Number",
  "Object",
  "Promise",
  "Proxy",
  "RangeError",
  "ReferenceError",
  "Reflect",
  "RegExp",
  "Set",
  "SharedArrayBuffer",
  "String",
  "Symbol",
  "SyntaxError",
  "TypeError",
  "URIError",
  "Uint16Array",
  "Uint32Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "WeakMap",
  "WeakSet",
  "__tally",
  "decodeURI",
  "decodeURIComponent",
  "encodeURI",
  "encodeURIComponent",
  "escape",
  "globalThis",
  "isFinite",
  "isNaN",
  "parseFloat",
  "parseInt",
  "undefined",
  "unescape",
]);
