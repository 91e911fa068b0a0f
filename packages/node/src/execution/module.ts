/**
 * The module interface (spec/execution.md). A module is deterministic code that owns the state keys
 * under its name. Methods run inside a transaction and may only touch state through `ctx`; a method
 * refuses by throwing a TallyError, which becomes a failed result with that code and discards every
 * write of the call. Queries are read-only and run against committed state.
 */
import type { CryptoSuite, Genesis, Value } from "@tally/core";
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

export interface GenesisContext {
  readonly suite: CryptoSuite;
  readonly genesis: Genesis;
  set(key: Uint8Array, value: Uint8Array): void;
}

export interface Module {
  readonly name: string;
  // biome-ignore lint/suspicious/noExplicitAny: each method has its own argument type
  readonly methods: Readonly<Record<string, MethodDef<any>>>;
  initGenesis?(ctx: GenesisContext): void;
}

export function defineMethod<A>(def: MethodDef<A>): MethodDef<A> {
  return def;
}
