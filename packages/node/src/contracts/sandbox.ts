/**
 * The contract sandbox (spec/contracts.md §sandbox, docs/adr/010-quickjs-sandbox.md): QuickJS compiled
 * to WebAssembly, never Node's own V8. Every call gets a fresh runtime and context, so nothing a call
 * does survives it and the engine's memory accounting and stack depth start from the same point on
 * every node (the engine itself is reset before every transaction: engine.ts). The context has no
 * Date, Math.random, WeakRef, FinalizationRegistry, eval or Function constructor, no timers or I/O
 * (QuickJS has none without its std/os modules), and exactly one host object, `__tally`, whose
 * functions are synchronous and exchange strings and numbers only.
 */
import { assert, ERROR_CODES, type ErrorCode, LIMITS, TallyError } from "@tally/core";
import { DefaultIntrinsics, type QuickJSContext, type QuickJSHandle, type QuickJSRuntime } from "quickjs-emscripten";
import { engineFailed, engineHasRoom, engineUnusable, QUICKJS, withEngine } from "./engine.js";
import type { GasMeter } from "./gas.js";
import { outOfGas } from "./gas.js";

export { NODE_ENGINE_ID } from "./engine.js";

/** Interrupt ticks between two heap-usage checks (besides the checks at every host call and at the end). */
export const MEMORY_CHECK_TICKS = 4;

export type HostValue = string | number | null;
export type HostFn = (...args: HostValue[]) => HostValue | undefined;

export interface SandboxRun {
  readonly code: string;
  /** The method to call after evaluating the code; null only evaluates and checks the contract object. */
  readonly method: string | null;
  /** A method that may be absent (init at deploy): absent means nothing to run, not CONTRACT_NO_METHOD. */
  readonly optional?: boolean;
  readonly argsJson: string;
  readonly host: Readonly<Record<string, HostFn>>;
  readonly meter: GasMeter;
  /** QuickJS stack for this call (smaller for nested calls: they share the native stack). */
  readonly stackBytes: number;
  /** Refuses (CONTRACT_INVALID) a contract object without any function property: deploy. */
  readonly validate?: boolean;
  /** Checks the source compiles first, so a syntax error is CONTRACT_SYNTAX rather than CONTRACT_ERROR. */
  readonly checkSyntax?: boolean;
}

/** The method's result as JSON, or null when an optional method is absent or only the code was evaluated. */
export type SandboxResult = string | null;

/**
 * Hardening run in every fresh context before the contract's code, returning the driver that calls a
 * method. Nondeterministic or unmetered facilities are removed; the driver captures JSON and the
 * property helpers before the contract can replace them (which would only affect that one call).
 */
const PRELUDE = `(function () {
  "use strict";
  const g = globalThis;
  delete Math.random;
  delete g.WeakRef;
  delete g.FinalizationRegistry;
  delete g.eval;
  const refuse = function () { throw new EvalError("code generation from strings is disabled"); };
  const protos = [Function.prototype, Object.getPrototypeOf(function* () {}), Object.getPrototypeOf(async function () {}), Object.getPrototypeOf(async function* () {})];
  for (const p of protos) Object.defineProperty(p, "constructor", { value: refuse, writable: false, configurable: false });
  Object.defineProperty(g, "Function", { value: refuse, writable: false, configurable: false, enumerable: false });
  Object.freeze(g.__tally);
  Object.defineProperty(g, "__tally", { writable: false, configurable: false, enumerable: false });
  const parse = JSON.parse, stringify = JSON.stringify, keys = Object.keys, own = Object.getOwnPropertyDescriptor, P = Promise;
  return function (m, a, v) {
    const c = g.__contract;
    if (c === null || (typeof c !== "object" && typeof c !== "function")) return 1;
    if (v && !keys(c).some((k) => typeof c[k] === "function")) return 1;
    if (m === null) return 0;
    const d = own(c, m);
    if (d === undefined || !d.enumerable || typeof c[m] !== "function") return 2;
    const r = c[m](parse(a));
    if (r instanceof P) throw new TypeError("methods must be synchronous (returned a Promise)");
    const s = stringify(r === undefined ? null : r);
    if (typeof s !== "string") throw new TypeError("the result is not JSON-serialisable");
    return s;
  };
})()`;

interface Dumped {
  readonly name: string;
  readonly message: string;
  readonly code: string | null;
}

function truncate(text: string): string {
  const max = LIMITS.contractErrorMessageMax;
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * Runs one contract call in its own runtime. Throws a TallyError for every failure of the contract
 * (the caller turns it into a failed result), a trap inside the engine or an exhausted engine heap
 * included (CONTRACT_MEMORY); any other error (a node bug, an engine mismatch raised by a host
 * function, a native stack overflow) is rethrown once the runtime is released, whatever the contract
 * did with it.
 */
export function runSandbox(run: SandboxRun): SandboxResult {
  return withEngine(() => runInEngine(run));
}

function runInEngine(run: SandboxRun): SandboxResult {
  const { meter } = run;
  // A nested call needs room for its runtime: without it QuickJS would fail inside its own set-up.
  if (!engineHasRoom()) throw memoryFailure(meter);
  let fatal: unknown = null;
  const rt = QUICKJS.newRuntime();
  // QuickJS's own limit only refuses single allocations above it: this build cannot see the size of
  // what it allocated (no malloc_usable_size), so the total is checked with `overMemory` below.
  rt.setMemoryLimit(LIMITS.contractAllocationBytesMax);
  rt.setMaxStackSize(run.stackBytes);
  const memory = { exceeded: false };
  const overMemory = (): boolean => {
    memory.exceeded ||= !engineHasRoom() || memoryUsed(rt) > LIMITS.contractMemoryBytesMax;
    return memory.exceeded;
  };
  // The heap walk costs about as much as a tick's worth of execution, so it runs on every
  // MEMORY_CHECK_TICKS-th tick (a count, so the same ticks on every node).
  let ticks = 0;
  rt.setInterruptHandler(() => fatal !== null || engineUnusable() || meter.tick() || (++ticks % MEMORY_CHECK_TICKS === 0 && overMemory()));
  const vm = rt.newContext({ intrinsics: { ...DefaultIntrinsics, Date: false } });
  let outcome: { readonly result: SandboxResult } | { readonly error: unknown };
  try {
    installHost(vm, run.host, overMemory, (err) => {
      fatal ??= err;
    });
    outcome = { result: callInContext(vm, run, () => memory.exceeded, overMemory) };
  } catch (error) {
    outcome = { error };
  }
  // After the heap ran out, freeing the runtime can abort inside QuickJS (objects it could not link
  // after a failed allocation); the reset before the next top-level use frees everything instead.
  if (!engineUnusable())
    engineStep(() => {
      vm.dispose();
      rt.dispose();
    });
  if (fatal !== null) throw fatal;
  if ("error" in outcome && !(outcome.error instanceof TallyError)) {
    const { error } = outcome;
    engineStep(() => {
      throw error;
    });
  }
  // Once the engine is unusable, whatever it did (a garbage value, a trap, an abort) is the same on
  // every node but means nothing: the call failed for memory.
  if (engineUnusable()) throw memoryFailure(meter);
  if ("error" in outcome) throw outcome.error;
  return outcome.result;
}

/**
 * Runs a step that touches the engine; a trap in it (WebAssembly.RuntimeError: an abort, an
 * out-of-bounds access) makes the engine unusable until its reset. Anything else is the node's and is
 * rethrown, a native stack overflow (RangeError) above all: where it happens depends on the node.
 */
function engineStep(step: () => void): void {
  try {
    step();
  } catch (err) {
    if (!(err instanceof WebAssembly.RuntimeError)) throw err;
    engineFailed();
  }
}

/** Evaluates the prelude and the contract in `vm` and calls the method. */
function callInContext(vm: QuickJSContext, run: SandboxRun, exceeded: () => boolean, overMemory: () => boolean): SandboxResult {
  const { meter } = run;
  const prelude = vm.evalCode(PRELUDE, "prelude.js");
  if (prelude.error) {
    // Only a limit (a nested call's small stack, gas, memory) can stop the prelude; anything else is a bug.
    const err = failure(vm, prelude.error, meter, "run", exceeded());
    if (err.code === "CONTRACT_ERROR") throw new Error(`contract sandbox prelude failed: ${err.message}`);
    throw err;
  }
  const driver = prelude.value;
  try {
    if (run.checkSyntax === true) {
      const compiled = vm.evalCode(run.code, "contract.js", { compileOnly: true });
      if (compiled.error) throw failure(vm, compiled.error, meter, "compile", exceeded());
      compiled.value.dispose();
    }
    const evaluated = vm.evalCode(run.code, "contract.js");
    if (evaluated.error) throw failure(vm, evaluated.error, meter, "run", exceeded());
    evaluated.value.dispose();
    const m = run.method === null ? vm.null : vm.newString(run.method);
    const a = vm.newString(run.argsJson);
    const called = vm.callFunction(driver, vm.undefined, m, a, run.validate === true ? vm.true : vm.false);
    m.dispose();
    a.dispose();
    if (called.error) throw failure(vm, called.error, meter, "run", exceeded());
    // Reading the result needs the heap; a call that ran it out has failed whatever it returned.
    if (!engineHasRoom()) throw memoryFailure(meter);
    const out = vm.dump(called.value) as unknown;
    called.value.dispose();
    if (meter.exhausted) throw outOfGas(meter);
    if (overMemory()) throw memoryFailure(meter);
    if (out === 1) throw new TallyError("CONTRACT_INVALID");
    if (out === 2) {
      if (run.optional === true) return null;
      throw new TallyError("CONTRACT_NO_METHOD", undefined, { method: run.method ?? "" });
    }
    if (out === 0) return null;
    if (typeof out !== "string") throw new TallyError("CONTRACT_RESULT", "the driver returned no JSON");
    return out;
  } finally {
    if (!engineUnusable()) driver.dispose();
  }
}

/**
 * Compiles `code` without running it (admission of a deploy or `store`): CONTRACT_SYNTAX on a syntax
 * error. Compilation is bounded by the code size limit, so it needs no gas.
 */
export function checkSyntax(code: string, meter: GasMeter): void {
  withEngine(() => compileOnly(code, meter));
}

function compileOnly(code: string, meter: GasMeter): void {
  const rt = QUICKJS.newRuntime();
  rt.setMemoryLimit(LIMITS.contractAllocationBytesMax);
  rt.setMaxStackSize(LIMITS.contractStackBytesMax);
  const vm = rt.newContext({ intrinsics: { ...DefaultIntrinsics, Date: false } });
  try {
    const compiled = vm.evalCode(code, "contract.js", { compileOnly: true });
    if (compiled.error) throw failure(vm, compiled.error, meter, "compile", false);
    compiled.value.dispose();
  } finally {
    if (!engineUnusable())
      engineStep(() => {
        vm.dispose();
        rt.dispose();
      });
  }
}

/** `globalThis.__tally`: each host function checks its arguments are strings/numbers/null. */
function installHost(
  vm: QuickJSContext,
  host: Readonly<Record<string, HostFn>>,
  overMemory: () => boolean,
  onFatal: (err: unknown) => void,
): void {
  const obj = vm.newObject();
  for (const [name, fn] of Object.entries(host)) {
    const handle = vm.newFunction(name, (...args: QuickJSHandle[]) => {
      try {
        // Every host call is a point where the heap is checked, besides the interrupt ticks.
        if (overMemory()) throw new TallyError("CONTRACT_MEMORY");
        const values = args.map((h): HostValue => {
          const t = vm.typeof(h);
          if (t === "string") return vm.getString(h);
          if (t === "number") return vm.getNumber(h);
          if (t === "undefined" || (t === "object" && vm.sameValue(h, vm.null))) return null;
          throw new TallyError("CONTRACT_ERROR", `__tally.${name}: arguments must be strings, numbers or null`);
        });
        let out: HostValue | undefined;
        try {
          out = fn(...values);
        } catch (err) {
          throw err instanceof TallyError ? err : new HostFailure(err);
        }
        if (out === undefined) return vm.undefined;
        if (out === null) return vm.null;
        return typeof out === "string" ? vm.newString(out) : vm.newNumber(out);
      } catch (err) {
        if (err instanceof TallyError) return throwInto(vm, err);
        // Moving values in or out of the engine failed: after the heap ran out, or in a trap, that is
        // the engine's failure and the call fails for memory. Anything else is the node's.
        if (!(err instanceof HostFailure) && (err instanceof WebAssembly.RuntimeError || engineUnusable())) {
          engineFailed();
          return throwInto(vm, new TallyError("CONTRACT_MEMORY"));
        }
        onFatal(err instanceof HostFailure ? err.cause : err);
        return { error: vm.newError({ name: "InternalError", message: "node failure" }) };
      }
    });
    vm.setProp(obj, name, handle);
    handle.dispose();
  }
  vm.setProp(vm.global, "__tally", obj);
  obj.dispose();
}

/** A host function's own failure that is not a TallyError: a node fault, never the contract's. */
class HostFailure extends Error {
  constructor(override readonly cause: unknown) {
    super("host function failed");
  }
}

/** A host function's TallyError as the exception the contract sees (`e.code` is its code). */
function throwInto(vm: QuickJSContext, err: TallyError): { error: QuickJSHandle } {
  const error = vm.newError({ name: "TallyError", message: err.message });
  const code = vm.newString(err.code);
  vm.setProp(error, "code", code);
  code.dispose();
  return { error };
}

/** Maps an exception that left the contract to the failure code of the transaction. */
function failure(vm: QuickJSContext, handle: QuickJSHandle, meter: GasMeter, phase: "compile" | "run", overMemory: boolean): TallyError {
  // Reading the error needs the heap; the handle is left to the engine's reset.
  if (!engineHasRoom()) return memoryFailure(meter);
  const d = dumpError(vm, handle);
  handle.dispose();
  if (meter.exhausted) return outOfGas(meter);
  const meta = { gasUsed: meter.used };
  if (overMemory || d === null || (d.name === "InternalError" && d.message === "out of memory")) return memoryFailure(meter);
  if (d.name === "InternalError" && d.message === "stack overflow") {
    return new TallyError("CONTRACT_STACK", undefined, { ...meta, limitBytes: LIMITS.contractStackBytesMax });
  }
  if (d.name === "TallyError" && d.code !== null && Object.hasOwn(ERROR_CODES, d.code)) {
    return new TallyError(d.code as ErrorCode, d.message, meta);
  }
  if (phase === "compile") return new TallyError("CONTRACT_SYNTAX", truncate(`${d.name}: ${d.message}`), meta);
  return new TallyError("CONTRACT_ERROR", truncate(`${d.name}: ${d.message}`), meta);
}

/** CONTRACT_MEMORY with the limit that stopped the call: the engine's whole heap, or the call's share. */
function memoryFailure(meter: GasMeter): TallyError {
  const limitBytes = engineUnusable() ? LIMITS.contractHeapBytesMax : LIMITS.contractMemoryBytesMax;
  return new TallyError("CONTRACT_MEMORY", undefined, { gasUsed: meter.used, limitBytes });
}

/**
 * Bytes the runtime's live and not yet collected objects take (QuickJS's own object walk, which counts
 * array buffers and strings by their size): a function of the object graph, so the same on every node.
 * Read from the text report because `computeMemoryUsage` creates a second context in every runtime
 * (a fifth of a call's cost).
 */
function memoryUsed(rt: QuickJSRuntime): number {
  const m = MEMORY_USED_RE.exec(rt.dumpMemoryUsage());
  assert(m?.[1] !== undefined, "QuickJS memory report without a 'memory used' line");
  return Number(m[1]);
}

const MEMORY_USED_RE = /^memory used\s+\d+\s+(\d+)/m;

/** Name, message and host error code of a thrown value; null when it cannot even be read (out of memory). */
function dumpError(vm: QuickJSContext, handle: QuickJSHandle): Dumped | null {
  try {
    const t = vm.typeof(handle);
    if (t !== "object" || vm.sameValue(handle, vm.null)) {
      const v = vm.dump(handle) as unknown;
      return { name: "Thrown", message: String(typeof v === "string" ? v : JSON.stringify(v)), code: null };
    }
    const read = (prop: string): string | null => {
      const h = vm.getProp(handle, prop);
      const out = vm.typeof(h) === "string" ? vm.getString(h) : null;
      h.dispose();
      return out;
    };
    return { name: read("name") ?? "Error", message: read("message") ?? "", code: read("code") };
  } catch {
    return null;
  }
}
