/**
 * The QuickJS engine instance every contract call of this process runs in, and the reset that puts it
 * in the same state at the start of every top-level use on every node (spec/contracts.md §8,
 * docs/adr/010-quickjs-sandbox.md).
 *
 * The engine's WebAssembly memory has a fixed size. Before each transaction (and each query, syntax
 * check or simulation) the bytes start-up left in it and the C stack pointer are put back, so the
 * allocator's state is a function of the transaction alone: where an allocation fails no longer
 * depends on what the node ran before, and whatever a failed call left behind (a runtime it could not
 * free, a trap in the middle of the interpreter) is gone before the next one starts.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { assert, LIMITS } from "@tally/core";
import {
  type EmscriptenModuleLoaderOptions,
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSWASMModule,
  RELEASE_SYNC,
} from "quickjs-emscripten";

const require = createRequire(import.meta.url);
const VERSION = (require("quickjs-emscripten/package.json") as { version: string }).version;
const MIB = 1024 * 1024;
const WASM_PAGE_BYTES = 64 * 1024;

/**
 * The engine this node runs: compared with the chain's (`contracts/engine`) before any contract runs.
 * The heap size is part of it because it decides where an allocation fails.
 */
export const NODE_ENGINE_ID = `quickjs-emscripten@${VERSION}/RELEASE_SYNC/heap-${LIMITS.contractHeapBytesMax / MIB}MiB`;

const HEAP_PAGES = LIMITS.contractHeapBytesMax / WASM_PAGE_BYTES;
assert(Number.isInteger(HEAP_PAGES), "contractHeapBytesMax must be a whole number of WebAssembly pages");

/**
 * initial = maximum, so the memory never grows. Growth would make failures depend on history:
 * Emscripten grows in steps sized from the current length, and a step can fail below the maximum.
 * The OS commits pages only when they are first touched.
 */
const MEMORY = new WebAssembly.Memory({ initial: HEAP_PAGES, maximum: HEAP_PAGES });

const quickjsRequire = createRequire(require.resolve("quickjs-emscripten"));
const WASM_MODULE = new WebAssembly.Module(readFileSync(quickjsRequire.resolve("@jitl/quickjs-wasmfile-release-sync/wasm")));

let wasmExports: WebAssembly.Exports | null = null;

/**
 * Emscripten options. `printErr` is read by the module (not in quickjs-emscripten's type): the engine's
 * own messages (an abort's reason) are caused by a contract and end in its failed receipt; on stderr
 * they would let any sender write to every node's log.
 */
const emscriptenModule: EmscriptenModuleLoaderOptions & { printErr(text: string): void } = {
  printErr: () => {},
  // Instantiated here only to keep the instance's exports: the C stack pointer is a WebAssembly
  // global, not memory, and a trap leaves it wherever the deepest frame put it.
  instantiateWasm(imports, onSuccess) {
    const instance = new WebAssembly.Instance(WASM_MODULE, imports);
    wasmExports = instance.exports;
    onSuccess(instance);
    return instance.exports;
  },
};

/** Loaded once per process; each call creates its own runtime inside it. */
export const QUICKJS: QuickJSWASMModule = await newQuickJSWASMModuleFromVariant(
  newVariant(RELEASE_SYNC, { wasmMemory: MEMORY, emscriptenModule }),
);

interface StackFunctions {
  save(): number;
  restore(pointer: number): void;
}

interface Allocator {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

const allocator = (QUICKJS as unknown as { module: Allocator }).module;
const stack = stackFunctions();

/**
 * Emscripten's stackSave/stackRestore under their minified export names in this build (its glue names
 * them `ta`/`ua`), checked by what they do so that another build is refused at start-up.
 */
function stackFunctions(): StackFunctions {
  const exports = wasmExports as Record<string, unknown> | null;
  const save = exports?.Oa;
  const restore = exports?.Ma;
  const alloc = exports?.Na;
  assert(
    typeof save === "function" && typeof restore === "function" && typeof alloc === "function",
    `contract engine: unexpected build of quickjs-emscripten ${VERSION} (no stack functions)`,
  );
  const s = save as () => number;
  const r = restore as (p: number) => void;
  const a = alloc as (n: number) => number;
  const top = s();
  const below = a(64);
  const moved = s();
  r(top);
  assert(below === top - 64 && moved === below && s() === top, "contract engine: unexpected stack functions");
  return { save: s, restore: r };
}

/**
 * Where start-up's allocations end: past the last non-zero byte and past a fresh 1 MiB block, which the
 * allocator can only take from above everything it has handed out (its free lists hold no block that
 * large yet).
 */
function allocatedEnd(): number {
  // Scanned first: the probe leaves a stale header 1 MiB above itself, in what is free heap again.
  const written = nonZeroEnd(MEMORY.buffer);
  const probe = allocator._malloc(MIB);
  assert(probe !== 0, "the contract engine cannot allocate 1 MiB after start-up");
  allocator._free(probe);
  const end = Math.max(written, probe);
  return Math.ceil(end / WASM_PAGE_BYTES) * WASM_PAGE_BYTES;
}

/** One past the last non-zero byte; whole zero pages are skipped with a native comparison. */
function nonZeroEnd(buffer: ArrayBuffer): number {
  const zeroPage = Buffer.alloc(WASM_PAGE_BYTES);
  let page = buffer.byteLength - WASM_PAGE_BYTES;
  while (page > 0 && Buffer.from(buffer, page, WASM_PAGE_BYTES).equals(zeroPage)) page -= WASM_PAGE_BYTES;
  const bytes = new Uint8Array(buffer, page, WASM_PAGE_BYTES);
  let last = bytes.length - 1;
  while (last >= 0 && bytes[last] === 0) last--;
  return page + last + 1;
}

/**
 * The memory as start-up left it, up to the end of everything allocated by then: static data, the C
 * stack and the allocator's state. Bytes above are free heap, which C code writes before it reads, so
 * they need no reset (a test fills them with noise between two executions).
 */
const PRISTINE = new Uint8Array(MEMORY.buffer).slice(0, allocatedEnd());
const PRISTINE_STACK = stack.save();

/** Engine uses now running: the memory is reset only when none is (nested calls run inside one). */
let depth = 0;
/** The heap ran out or the engine trapped during this top-level use: everything still running in it fails. */
let unusable = false;
let reserve = 0;

/** Runs `fn` with the engine; a top-level use first resets the engine to its start-up state. */
export function withEngine<T>(fn: () => T): T {
  if (depth === 0) reset();
  depth++;
  const stackPointer = stack.save();
  try {
    return fn();
  } finally {
    // A trap inside the interpreter skips the frames that would have popped the C stack.
    stack.restore(stackPointer);
    depth--;
  }
}

function reset(): void {
  new Uint8Array(MEMORY.buffer).set(PRISTINE);
  stack.restore(PRISTINE_STACK);
  unusable = false;
  reserve = allocator._malloc(LIMITS.contractHeapReserveBytes);
  assert(reserve !== 0, "the contract engine cannot set its reserve aside after a reset");
}

/**
 * Whether the engine can go on in this top-level use: false once fewer than contractHeapHeadroomBytes can be
 * allocated in one block (or it trapped), and from then on. Only called where the allocator is idle
 * (host calls, interrupt ticks, between calls); the answer is the same on every node because the heap
 * started from the same bytes.
 */
export function engineHasRoom(): boolean {
  if (unusable) return false;
  const probe = allocator._malloc(LIMITS.contractHeapHeadroomBytes);
  if (probe !== 0) {
    allocator._free(probe);
    return true;
  }
  engineFailed();
  return false;
}

/** Whether the heap ran out or the engine trapped in this top-level use, without checking again. */
export function engineUnusable(): boolean {
  return unusable;
}

/**
 * Marks the engine unusable until the next reset (its heap ran out, or it trapped: both happen at the
 * same point on every node). The reserve is freed so the node has room to stop the calls still running.
 */
export function engineFailed(): void {
  unusable = true;
  if (reserve !== 0) allocator._free(reserve);
  reserve = 0;
}

/** Test access: the engine, its memory, and how many bytes of it a reset restores. */
export function engineInternals(): {
  readonly engine: QuickJSWASMModule;
  readonly memory: WebAssembly.Memory;
  readonly pristineBytes: number;
} {
  return { engine: QUICKJS, memory: MEMORY, pristineBytes: PRISTINE.length };
}
