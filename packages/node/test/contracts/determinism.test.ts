/**
 * Property: the same transactions give the same results, gas and state roots on two independent
 * executions. Chain B runs after chain A with the engine deliberately disturbed (runtimes left
 * holding allocations, never freed, and noise written over the free part of its memory), so that
 * everything the engine's reset does not restore differs between the two.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type TxResult, toHex, type Value } from "@tally/core";
import fc from "fast-check";
import { engineInternals, withEngine } from "../../src/contracts/engine.js";
import { MemoryChain, makeNet, type TestAccount } from "../helpers.js";
import { COUNTER, PROXY, REGISTRY } from "./fixtures.js";

/** Loops, recursion and allocation sized by the arguments: some calls run out of gas, stack or memory. */
const WORKER = `var __contract = (() => {
  const T = globalThis.__tally;
  return {
    loop(a) { let s = 0; for (let i = 0; i < a.n; i++) s = (s + i * 7) % 1000003; T.set("loop", String(s)); return s; },
    deep(a) { const f = (n) => (n === 0 ? 0 : 1 + f(n - 1)); return f(a.n); },
    alloc(a) { const xs = []; for (let i = 0; i < a.n; i++) xs.push(new Uint8Array(a.size).fill(i % 256)); T.set("alloc", String(xs.length)); return xs.length; },
    sort(a) { const xs = a.xs.slice(); xs.sort((x, y) => x - y); T.emit("sorted", JSON.stringify(xs)); return xs; },
    fail(a) { T.set("before", "x"); throw new RangeError("fail " + a.n); },
    flood(a) {
      // Fills the engine's whole heap faster than the usage check runs, then keeps going.
      const xs = []; let n = 0;
      for (let size = a.size; size >= 8; size = size >> 1) { try { for (;;) { xs.push("f".repeat(size)); n++; } } catch (e) {} }
      if (a.drop) xs.length = 0;
      try { T.set("flood", String(n)); } catch (e) { n = -n; }
      return n;
    },
  };
})();`;

const net = makeNet("ed25519", { accounts: [{ name: "u1" }, { name: "u2" }] });
const users: TestAccount[] = [net.accounts.u1!, net.accounts.u2!];

type Op =
  | { k: "inc"; by: number }
  | { k: "put"; key: string; v: number }
  | { k: "del"; key: string }
  | { k: "list"; prefix: string; limit: number }
  | { k: "forward"; by: number; fail: boolean }
  | { k: "loop"; n: number; gas: number }
  | { k: "deep"; n: number }
  | { k: "alloc"; n: number; size: number }
  | { k: "sort"; xs: number[] }
  | { k: "fail"; n: number }
  | { k: "flood"; size: number; drop: boolean }
  | { k: "deploy"; which: number };

const key = fc.constantFrom("a", "b", "a/1", "a/2", "b/1", "c", "a/10");
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant("inc" as const), by: fc.integer({ min: -5, max: 1000 }) }),
  fc.record({ k: fc.constant("put" as const), key, v: fc.integer({ min: 0, max: 1e6 }) }),
  fc.record({ k: fc.constant("del" as const), key }),
  fc.record({ k: fc.constant("list" as const), prefix: fc.constantFrom("", "a", "a/", "b"), limit: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ k: fc.constant("forward" as const), by: fc.integer({ min: 1, max: 9 }), fail: fc.boolean() }),
  fc.record({ k: fc.constant("loop" as const), n: fc.integer({ min: 0, max: 400_000 }), gas: fc.integer({ min: 20_000, max: 1_000_000 }) }),
  fc.record({ k: fc.constant("deep" as const), n: fc.integer({ min: 0, max: 30_000 }) }),
  fc.record({ k: fc.constant("alloc" as const), n: fc.integer({ min: 0, max: 64 }), size: fc.integer({ min: 1024, max: 1024 * 1024 }) }),
  fc.record({ k: fc.constant("sort" as const), xs: fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 20 }) }),
  fc.record({ k: fc.constant("fail" as const), n: fc.nat(99) }),
  fc.record({ k: fc.constant("flood" as const), size: fc.integer({ min: 100_000, max: 4_000_000 }), drop: fc.boolean() }),
  fc.record({ k: fc.constant("deploy" as const), which: fc.nat(3) }),
);
const blocks = fc.array(fc.array(fc.tuple(fc.nat(1), op), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 });

const GAS = 3_000_000;
const SOURCES = [COUNTER, REGISTRY, PROXY, WORKER];

interface Trace {
  readonly results: Value[];
  readonly roots: string[];
}

function execute(plan: Array<Array<[number, Op]>>): Trace {
  const chain = new MemoryChain(net);
  const [counter, registry, proxy, worker] = chain
    .block(SOURCES.map((code) => [net.admin, "contracts", "deploy", { code, gasLimit: GAS }] as const))
    .map((r) => (r.value as { address: string }).address);
  const c = (address: string | undefined, method: string, args: Value, gasLimit = GAS) => ({
    address: address ?? "",
    method,
    args,
    gasLimit,
  });
  const results: Value[] = [];
  const roots: string[] = [toHex(chain.state.root.hash)];
  for (const block of plan) {
    const txs = block.map(([who, o]) => {
      const u = users[who] ?? net.admin;
      const args = (() => {
        switch (o.k) {
          case "inc":
            return c(counter, "increment", { by: o.by });
          case "put":
            return c(registry, "put", { key: o.key, value: o.v });
          case "del":
            return c(registry, "remove", { key: o.key });
          case "list":
            return c(registry, "list", { prefix: o.prefix, limit: o.limit });
          case "forward":
            return c(proxy, "forward", { target: counter ?? "", method: "increment", args: { by: o.by }, fail: o.fail });
          case "loop":
            return c(worker, "loop", { n: o.n }, o.gas);
          case "deep":
            return c(worker, "deep", { n: o.n });
          case "alloc":
            return c(worker, "alloc", { n: o.n, size: o.size });
          case "sort":
            return c(worker, "sort", { xs: o.xs });
          case "fail":
            return c(worker, "fail", { n: o.n });
          case "flood":
            return c(worker, "flood", { size: o.size, drop: o.drop });
          case "deploy":
            return { code: SOURCES[o.which] ?? COUNTER, gasLimit: GAS };
        }
      })();
      return [o.k === "deploy" ? net.admin : u, "contracts", o.k === "deploy" ? "deploy" : "call", args] as const;
    });
    for (const r of chain.block(txs)) results.push(view(r));
    roots.push(toHex(chain.state.root.hash));
  }
  return { results, roots };
}

function view(r: TxResult): Value {
  return {
    status: r.status,
    code: r.code,
    message: r.message,
    value: r.value,
    events: r.events.map((e) => ({ name: e.name, data: e.data })),
  };
}

/**
 * Leaves runtimes holding allocations of varied sizes in the engine (never freed: the reset before the
 * next transaction drops them) and writes seeded noise over the memory above what the reset restores.
 */
function disturbEngine(seed: number): void {
  const { engine, memory, pristineBytes } = engineInternals();
  // Inside a top-level use, so the runtimes are made in a usable engine (the last transaction may have
  // run its heap out) and outlive it.
  withEngine(() => {
    for (let i = 0; i < 40; i++) {
      const vm = engine.newRuntime().newContext();
      const r = vm.evalCode(
        `globalThis.keep = []; for (let i = 0; i < ${(seed * 31 + i * 17) % 300}; i++) keep.push("z".repeat(${(i * 13) % 97}) + i);`,
      );
      if (r.error) r.error.dispose();
      else r.value.dispose();
    }
  });
  const free = new Uint32Array(memory.buffer, pristineBytes);
  let x = seed + 1;
  for (let i = 0; i < free.length; i += 7) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    free[i] = x;
  }
}

describe("contracts: determinism", () => {
  test("random transaction sequences give equal results, gas and state roots on two executions", async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(blocks, fc.nat(1000), async (plan, seed) => {
        await Promise.resolve();
        const a = execute(plan);
        disturbEngine(seed);
        const b = execute(plan);
        assert.deepEqual(b, a);
        for (const r of a.results) seen.add(String((r as { code: string | null }).code));
      }),
      { numRuns: 12, seed: 6 },
    );
    // The runs covered successes and every kind of contract failure, not only the easy paths.
    for (const code of ["null", "OUT_OF_GAS", "CONTRACT_STACK", "CONTRACT_MEMORY", "CONTRACT_ERROR"])
      assert.ok(seen.has(code), `no ${code} result`);
  });
});
