/**
 * Deterministic execution (spec/execution.md): applies a block's transactions to the state, in order,
 * and produces results, state writes and the new state root. Reads nothing but its inputs and the
 * committed state: no clock, no randomness, no environment.
 */
import {
  accountKey,
  applySmtUpdates,
  assert,
  type CryptoSuite,
  encodeResult,
  type Genesis,
  isTallyError,
  moduleKey,
  type SmtNodeReader,
  type SmtRoot,
  smtEmptyRoot,
  TallyError,
  type TxEnvelope,
  type TxEvent,
  type TxResult,
  type Value,
} from "@tally/core";
import { encodeAccount, readAccount } from "../modules/accounts.js";
import type { StateWrite } from "../storage/chain-store.js";
import { type InvokeScope, invokeMethod, refuseGated, refuseWithoutRole, resolveMethod } from "./invoke.js";
import type { CallContext, MethodDef, Module, QueryDef } from "./module.js";
import { attemptStep, type OverlayCursor, StateOverlay, type StateReader } from "./overlay.js";

export { refuseGated } from "./invoke.js";

export interface BlockInput {
  readonly height: number;
  readonly timeMs: number;
  readonly prevStateRoot: SmtRoot;
  readonly txs: readonly TxEnvelope[];
}

export interface SkippedTx {
  readonly tx: TxEnvelope;
  readonly reason: TallyError;
}

export interface BlockOutput {
  /** Transactions that entered the block, in order. */
  readonly included: TxEnvelope[];
  /** Transactions that cannot be executed at this point (unknown signer, wrong nonce): left out. */
  readonly skipped: SkippedTx[];
  readonly results: TxResult[];
  readonly resultBytes: Uint8Array[];
  readonly stateWrites: StateWrite[];
  readonly stateRoot: SmtRoot;
  readonly smtNodes: Array<[Uint8Array, Uint8Array]>;
}

export class ExecutionEngine {
  private readonly modules = new Map<string, Module>();

  constructor(
    private readonly suite: CryptoSuite,
    private readonly chainId: string,
    modules: readonly Module[],
  ) {
    for (const m of modules) this.modules.set(m.name, m);
  }

  moduleNames(): string[] {
    return [...this.modules.keys()];
  }

  modulesList(): Module[] {
    return [...this.modules.values()];
  }

  /** Stateless check of a call: module and method exist, arguments match the schema. */
  // biome-ignore lint/suspicious/noExplicitAny: method argument types differ per method
  resolveCall(module: string, method: string, args: Value): { def: MethodDef<any>; parsed: unknown } {
    return resolveMethod((name) => this.modules.get(name), module, method, args);
  }

  /** Stateless check of a query: it exists and its arguments match the schema. */
  // biome-ignore lint/suspicious/noExplicitAny: query argument types differ per query
  resolveQuery(module: string, query: string, args: Value): { def: QueryDef<any>; parsed: unknown } {
    const mod = this.modules.get(module);
    if (mod === undefined) throw new TallyError("UNKNOWN_MODULE", undefined, { module });
    const def = mod.queries !== undefined && Object.hasOwn(mod.queries, query) ? mod.queries[query] : undefined;
    if (def === undefined) throw new TallyError("UNKNOWN_QUERY", undefined, { module, query });
    return { def, parsed: def.args.parse(args, "") };
  }

  /** State produced by the genesis document (height 0). */
  genesisState(genesis: Genesis, reader: SmtNodeReader): Pick<BlockOutput, "stateWrites" | "stateRoot" | "smtNodes"> {
    const overlay = new StateOverlay(() => null);
    for (const mod of this.modules.values()) {
      mod.initGenesis?.({
        suite: this.suite,
        genesis,
        set: (key, value) => {
          assertOwnKey(mod.name, key);
          overlay.set(key, value);
        },
      });
    }
    return this.finish(overlay, reader, smtEmptyRoot(), 0);
  }

  executeBlock(input: BlockInput, committed: StateReader, reader: SmtNodeReader): BlockOutput {
    const block = new StateOverlay(committed);
    const included: TxEnvelope[] = [];
    const skipped: SkippedTx[] = [];
    const results: TxResult[] = [];
    for (const env of input.txs) {
      const account = readAccount((k) => block.get(k), env.sender);
      if (account === null) {
        skipped.push({ tx: env, reason: new TallyError("UNKNOWN_SIGNER", undefined, { address: env.sender }) });
        continue;
      }
      if (env.tx.nonce !== account.nonce) {
        const code = env.tx.nonce < account.nonce ? "NONCE_TOO_LOW" : "NONCE_TOO_HIGH";
        skipped.push({ tx: env, reason: new TallyError(code, undefined, { expected: account.nonce, got: env.tx.nonce }) });
        continue;
      }
      // The nonce advances whether or not the call succeeds: a failed transaction is still included.
      block.set(accountKey(env.sender), encodeAccount({ ...account, nonce: account.nonce + 1 }));
      const txIndex = included.length;
      included.push(env);
      results.push(this.runTx(env, txIndex, input, account.org, account.roles, block));
    }
    return {
      included,
      skipped,
      results,
      resultBytes: results.map(encodeResult),
      ...this.finish(block, reader, input.prevStateRoot, input.height),
    };
  }

  private runTx(env: TxEnvelope, txIndex: number, input: BlockInput, org: string, roles: readonly string[], block: StateOverlay): TxResult {
    const events: TxEvent[] = [];
    const { tx } = env;
    // Writes go to the innermost open step: the transaction's overlay, or a nested `attempt`.
    const cursor: OverlayCursor = { current: block.child() };
    const txState = cursor.current;
    const contextFor = (module: string): CallContext => {
      const ctx: CallContext = {
        suite: this.suite,
        chainId: this.chainId,
        height: input.height,
        timeMs: input.timeMs,
        txHash: env.hash,
        txIndex,
        caller: env.sender,
        callerOrg: org,
        callerRoles: roles,
        get: (key) => cursor.current.get(key),
        set: (key, value) => {
          assertOwnKey(module, key);
          cursor.current.set(key, value);
        },
        delete: (key) => {
          assertOwnKey(module, key);
          cursor.current.delete(key);
        },
        emit: (name, data) => events.push({ module, name, data }),
        attempt: (fn) => attemptStep(cursor, events, fn),
        asModule: (name) => {
          assert(this.modules.get(tx.module)?.privileged === true, `module ${tx.module} is not privileged`);
          assert(this.modules.has(name), `asModule: no module ${name}`);
          return contextFor(name);
        },
        invoke: (target, method, args) => invokeMethod(invokeScope, target, method, args),
      };
      return ctx;
    };
    const invokeScope: InvokeScope = {
      modules: (name) => this.modules.get(name),
      signer: { address: env.sender, org, roles },
      cursor,
      events,
      contextFor,
    };
    try {
      const { def, parsed } = this.resolveCall(tx.module, tx.method, tx.args);
      refuseGated((key) => txState.get(key), env.sender, org, tx.module);
      refuseWithoutRole(def, roles, tx.module, tx.method);
      const value = def.run(contextFor(tx.module), parsed);
      txState.mergeInto(block);
      return { txHash: env.hash, status: "ok", code: null, message: null, value, events };
    } catch (err) {
      if (!isTallyError(err)) throw err;
      return { txHash: env.hash, status: "failed", code: err.code, message: err.message, value: errorValue(err), events: [] };
    }
  }

  /** Applies the overlay's writes to the state tree; `version` (the height) names the tree nodes it creates. */
  private finish(
    overlay: StateOverlay,
    reader: SmtNodeReader,
    prevRoot: SmtRoot,
    version: number,
  ): Pick<BlockOutput, "stateWrites" | "stateRoot" | "smtNodes"> {
    const hash = this.suite.hash;
    const stateWrites: StateWrite[] = overlay.entries();
    const updates = stateWrites.map((w) => ({ path: hash(w.key), valueHash: w.value === null ? null : hash(w.value), value: w.value }));
    const { root, newNodes } = applySmtUpdates(hash, reader, prevRoot, updates, version);
    return { stateWrites, stateRoot: root, smtNodes: newNodes };
  }
}

function errorValue(err: TallyError): Value {
  const meta: Record<string, Value> = {};
  for (const [k, v] of Object.entries(err.meta)) if (v !== undefined) meta[k] = v;
  return meta;
}

function assertOwnKey(module: string, key: Uint8Array): void {
  const prefix = moduleKey(module, new Uint8Array(0));
  let own = key.length > prefix.length;
  for (let i = 0; own && i < prefix.length; i++) own = key[i] === prefix[i];
  assert(own, `module ${module} wrote outside its namespace`);
}
