/**
 * The module interface (spec/execution.md). A module is deterministic code that owns the state keys
 * under its name. Methods run inside a transaction and may only touch state through `ctx`; a method
 * refuses by throwing a TallyError, which becomes a failed result with that code and discards every
 * write of the call. Queries are read-only and run against committed state.
 */
import type { CryptoSuite, Genesis, TallyError, Value } from "@tally/core";
import type { Schema } from "./schema.js";

export interface CallContext {
  readonly suite: CryptoSuite;
  readonly chainId: string;
  readonly height: number;
  readonly timeMs: number;
  readonly txHash: Uint8Array;
  readonly txIndex: number;
  /** Address of the signer. */
  readonly caller: string;
  readonly callerOrg: string;
  readonly callerRoles: readonly string[];
  get(key: Uint8Array): Uint8Array | null;
  /** Writes are restricted to the module's own key prefix. */
  set(key: Uint8Array, value: Uint8Array): void;
  delete(key: Uint8Array): void;
  emit(name: string, data: Value): void;
  /**
   * Runs `fn` as a nested step: its writes and events are kept if it returns and dropped if it throws
   * a TallyError, which is returned instead of propagating (other errors propagate). Governance uses it
   * so that a passing vote is recorded even when the proposal's action is refused.
   */
  attempt<T>(fn: () => T): { ok: true; value: T } | { ok: false; error: TallyError };
  /**
   * The same transaction seen as another module: writes go to that module's namespace and events are
   * attributed to it. Only for modules marked `privileged` (governance, which applies its proposals
   * through the owning modules' own functions); any other module calling it is an invariant failure.
   */
  asModule(name: string): CallContext;
  /**
   * Calls another module's method as this transaction's signer (execution/invoke.ts): same gates, role
   * check and argument schema as a transaction's call, run as a nested step whose writes and events
   * are dropped if it refuses; the refusal is thrown. Privileged modules (governance) refuse
   * (FORBIDDEN): they act only through their own transactions.
   */
  invoke(module: string, method: string, args: Value): Value;
}

/** Read-only view of committed state, for admission prechecks. */
export interface ReadContext {
  readonly suite: CryptoSuite;
  readonly caller: string;
  get(key: Uint8Array): Uint8Array | null;
}

export interface MethodDef<A> {
  readonly description: string;
  readonly args: Schema<A>;
  /** Any one of these roles allows the call; undefined means any registered account. */
  readonly roles?: readonly string[];
  run(ctx: CallContext, args: A): Value;
  /**
   * Optional early refusal at admission, against committed state, so a call that is already doomed
   * gets a 4xx instead of a failed receipt. Never relied on for safety: `run` checks again.
   */
  precheck?(ctx: ReadContext, args: A): void;
}

/** What a query sees: committed state of the node's latest durable block, and who asks. */
export interface QueryContext {
  readonly suite: CryptoSuite;
  readonly chainId: string;
  /** Height of the state the query reads. */
  readonly height: number;
  /** The authenticated caller (a signed query, spec/api.md §queries), or null when anonymous. */
  readonly caller: string | null;
  readonly callerOrg: string | null;
  readonly callerRoles: readonly string[];
  get(key: Uint8Array): Uint8Array | null;
  /** Entries under `prefix` in key order, strictly after `after`, at most `limit` (≤ LIMITS.apiListLimitMax). */
  scan(prefix: Uint8Array, limit: number, after?: Uint8Array): Array<readonly [Uint8Array, Uint8Array]>;
}

/**
 * A read-only question a module answers from its own replica (`POST /v1/query/<module>/<name>`).
 * Arguments arrive as JSON, so byte fields are hex strings. With `roles`, only an authenticated caller
 * holding one of them is answered; without, anyone is, and `run` may still answer a regulator more.
 */
export interface QueryDef<A> {
  readonly description: string;
  readonly args: Schema<A>;
  readonly roles?: readonly string[];
  run(ctx: QueryContext, args: A): Value;
}

export interface GenesisContext {
  readonly suite: CryptoSuite;
  readonly genesis: Genesis;
  set(key: Uint8Array, value: Uint8Array): void;
}

export interface Module {
  readonly name: string;
  // biome-ignore lint/suspicious/noExplicitAny: each method has its own argument type
  readonly methods: Readonly<Record<string, MethodDef<any>>>;
  // biome-ignore lint/suspicious/noExplicitAny: each query has its own argument type
  readonly queries?: Readonly<Record<string, QueryDef<any>>>;
  /** May act as other modules through `CallContext.asModule` (governance only). */
  readonly privileged?: boolean;
  initGenesis?(ctx: GenesisContext): void;
}

export function defineMethod<A>(def: MethodDef<A>): MethodDef<A> {
  return def;
}

export function defineQuery<A>(def: QueryDef<A>): QueryDef<A> {
  return def;
}
