/**
 * The API a Tally smart contract imports (docs/contracts.md). A contract is bundled by
 * `tally contract build` into one script and runs inside the chain's QuickJS sandbox, where the only host
 * object is `globalThis.__tally`: synchronous functions on strings (JSON inside). This module is a
 * typed layer over that object and nothing else — no Node, no I/O — so that esbuild turns it into a few
 * lines of plain JavaScript in the contract's bundle.
 *
 * Every `export function` of a contract's entry file is a method callable by transactions (a name
 * starting with `_` is private); an exported `init(args)` runs once at deploy. A method receives the
 * call's JSON arguments and returns a JSON value. Throwing (for instance through `require`) fails the
 * call: its state writes and events are discarded and the message becomes the receipt's failure message.
 */

/** A JSON value: what state holds, what methods take and return, what events carry. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * What may be stored, emitted or passed: JSON, including objects typed by interfaces (which TypeScript
 * does not let match an index signature). It is written with JSON.stringify, so `undefined` fields
 * are dropped; functions, symbols and cycles are not JSON and must not be passed.
 */
export type Storable = Json | object;

/** The host object the sandbox installs (spec/contracts.md §3); strings carry JSON. */
export interface TallyHost {
  get(key: string): string | null;
  set(key: string, value: string): void;
  del(key: string): void;
  /** JSON `[[key, value], …]` in key order, keys under `prefix` strictly after `after`, at most `limit`. */
  scan(prefix: string, limit: number, after: string | null): string;
  caller(): string;
  self(): string;
  block(): string;
  emit(name: string, data: string): void;
  call(address: string, method: string, args: string): string;
  query(module: string, name: string, args: string): string;
  invoke(module: string, method: string, args: string): string;
}

/** Who called the running method: an account (with its organisation and roles) or another contract. */
export type Caller =
  | { readonly address: string; readonly org: string; readonly roles: readonly string[]; readonly contract?: false }
  | { readonly address: string; readonly contract: true };

/** The block the call executes in. `timeMs` is the proposer's block time: the same on every node. */
export interface BlockInfo {
  readonly height: number;
  readonly timeMs: number;
  /** Hash of the transaction being executed (hex). */
  readonly txHash: string;
}

/** Everything a method may want to know about its call, read once. */
export interface Context {
  readonly caller: Caller;
  /** This contract's address. */
  readonly self: string;
  readonly block: BlockInfo;
}

/** One entry of a range scan. */
export interface Entry<T = Json> {
  readonly key: string;
  readonly value: T;
}

export interface ScanOptions {
  /** At most this many entries (default 100; LIMITS.contractScanLimitMax, spec/contracts.md §3). */
  readonly limit?: number;
  /** Continue strictly after this key (the `key` of the previous page's last entry). */
  readonly after?: string;
}

/** The error a contract throws on purpose; the host reports its message as the call's failure message. */
export class ContractError extends Error {
  override readonly name = "ContractError";
}

function host(): TallyHost {
  const h = (globalThis as { __tally?: TallyHost }).__tally;
  if (h === undefined) throw new ContractError("no Tally host: contract code runs inside the chain's sandbox or a ContractTestChain");
  return h;
}

function parse<T>(text: string): T {
  return JSON.parse(text) as T;
}

const DEFAULT_SCAN_LIMIT = 100;

/**
 * The contract's own key-value state. Keys are strings chosen by the contract (the chain keeps each
 * contract's keys apart); values are JSON. Every read, write and stored byte costs gas.
 */
export const state = {
  /** The value at `key`, or null when absent. */
  get<T = Json>(key: string): T | null {
    const raw = host().get(key);
    return raw === null ? null : parse<T>(raw);
  },
  has(key: string): boolean {
    return host().get(key) !== null;
  },
  set(key: string, value: Storable): void {
    host().set(key, JSON.stringify(value));
  },
  delete(key: string): void {
    host().del(key);
  },
  /** Entries whose key starts with `prefix`, in key order; page with `after`. */
  scan<T = Json>(prefix: string, options: ScanOptions = {}): Entry<T>[] {
    const raw = parse<Array<[string, string]>>(host().scan(prefix, options.limit ?? DEFAULT_SCAN_LIMIT, options.after ?? null));
    return raw.map(([key, value]) => ({ key, value: parse<T>(value) }));
  },
};

export function caller(): Caller {
  return parse<Caller>(host().caller());
}

/** This contract's address. */
export function self(): string {
  return host().self();
}

export function block(): BlockInfo {
  return parse<BlockInfo>(host().block());
}

/** Caller, own address and block together. */
export function context(): Context {
  return { caller: caller(), self: self(), block: block() };
}

/** Emits an event attributed to this contract; it appears in the transaction's result. */
export function emit(name: string, data: Storable = null): void {
  host().emit(name, JSON.stringify(data));
}

/**
 * Calls `method` of the contract at `address` as this contract (its `caller()` is this contract). A
 * failure of the callee fails this call too.
 */
export function callContract<T = Json>(address: string, method: string, args: Storable = null): T {
  return parse<T>(host().call(address, method, JSON.stringify(args)));
}

/** Asks a native module a read-only query (the same queries as `POST /v1/query/<module>/<name>`). */
export function queryModule<T = Json>(module: string, name: string, args: Storable = {}): T {
  return parse<T>(host().query(module, name, JSON.stringify(args)));
}

/**
 * Calls a native module method (the same methods as a transaction, e.g. `tokens.transfer`) **as the
 * transaction's signer**: same roles, gates and argument checks as if the signer had sent it. Only
 * the contract a transaction calls may do this, not one it calls in turn. A refusal throws (with its
 * `code`) and drops what the method wrote; catch it to go on. Byte arguments are `{ $bytes: "<hex>" }`.
 */
export function invokeModule<T = Json>(module: string, method: string, args: Storable = {}): T {
  return parse<T>(host().invoke(module, method, JSON.stringify(args)));
}

/** Fails the call with `message` unless `condition` holds. */
export function require(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ContractError(message);
}

/** The caller as an account, failing the call when it is another contract. */
export function callerAccount(): { readonly address: string; readonly org: string; readonly roles: readonly string[] } {
  const c = caller();
  if (c.contract === true) throw new ContractError("this method must be called by an account, not a contract");
  return c;
}
