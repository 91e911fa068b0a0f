/**
 * Contract sources for the sandbox tests, written the way the toolchain emits them (an esbuild IIFE
 * that defines `globalThis.__contract`), plus small helpers to deploy and call through a MemoryChain.
 */
import assert from "node:assert/strict";
import type { TxResult, Value } from "@tally/core";
import type { MemoryChain, TestAccount } from "../helpers.js";

export const GAS = 2_000_000;

/** A counter: init sets the start, increment emits an event, private helpers are not callable. */
export const COUNTER = `var __contract = (() => {
  const T = globalThis.__tally;
  const read = () => Number(T.get("count") ?? "0");
  return {
    init(args) { T.set("count", String((args && args.start) || 0)); },
    increment(args) {
      const n = read() + ((args && args.by) || 1);
      T.set("count", String(n));
      T.emit("incremented", JSON.stringify({ count: n }));
      return n;
    },
    get() { return read(); },
    who() { return JSON.parse(T.caller()); },
    where() { return { self: T.self(), block: JSON.parse(T.block()) }; },
    _secret() { return "private"; },
  };
})();`;

/** A key-value registry exercising set/del/scan. */
export const REGISTRY = `var __contract = (() => {
  const T = globalThis.__tally;
  return {
    put(a) { T.set(a.key, JSON.stringify(a.value)); return null; },
    remove(a) { T.del(a.key); return null; },
    get(a) { const v = T.get(a.key); return v === null ? null : JSON.parse(v); },
    list(a) { return JSON.parse(T.scan(a.prefix, a.limit, a.after ?? null)); },
    putMany(a) { for (let i = 0; i < a.n; i++) T.set(a.prefix + String(i).padStart(4, "0"), String(i)); return a.n; },
  };
})();`;

/** Calls another contract; `fail` makes it throw after the nested call succeeded. */
export const PROXY = `var __contract = (() => {
  const T = globalThis.__tally;
  return {
    forward(a) {
      const r = JSON.parse(T.call(a.target, a.method, JSON.stringify(a.args ?? null)));
      T.set("last", JSON.stringify(r));
      if (a.fail) throw new Error("proxy fails after the call");
      return r;
    },
    tryForward(a) {
      try { return { ok: JSON.parse(T.call(a.target, a.method, JSON.stringify(a.args ?? null))) }; }
      catch (e) { return { error: String(e.message), code: e.code ?? null }; }
    },
    recurse(a) { return JSON.parse(T.call(T.self(), "recurse", JSON.stringify(a))); },
    balance(a) { return JSON.parse(T.query("tokens", "balance", JSON.stringify(a))); },
    whoCalls(a) { return JSON.parse(T.call(a.target, "who", "null")); },
  };
})();`;

/** A contract body with a method `run` whose body is `body`. */
export function oneMethod(body: string): string {
  return `var __contract = { run(args) { ${body} } };`;
}

export function ok(r: TxResult): Value {
  assert.equal(r.status, "ok", `expected ok, got ${r.code}: ${r.message}`);
  return r.value;
}

export function failed(r: TxResult, code: string): void {
  assert.equal(r.status, "failed", `expected ${code}, got ok: ${JSON.stringify(r.value)}`);
  assert.equal(r.code, code, `expected ${code}, got ${r.code}: ${r.message}`);
}

export function deploy(chain: MemoryChain, who: TestAccount, code: string, initArgs: Value = null, gasLimit = GAS): string {
  const v = ok(chain.call(who, "contracts", "deploy", { code, initArgs, gasLimit })) as { address: string };
  return v.address;
}

export function call(chain: MemoryChain, who: TestAccount, address: string, method: string, args: Value = null, gasLimit = GAS): TxResult {
  return chain.call(who, "contracts", "call", { address, method, args, gasLimit });
}

export function value(r: TxResult): Value {
  return (ok(r) as { value: Value }).value;
}
