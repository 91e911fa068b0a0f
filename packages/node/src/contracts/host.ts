/**
 * What a contract can do (spec/contracts.md §host): the functions of `globalThis.__tally`, bound to
 * one contract and one transaction. State goes to the contract's own namespace through the `contracts`
 * module's CallContext (so the engine's overlays roll it back with the transaction); nested calls run
 * in `ctx.attempt`, so a failed callee's writes and events are dropped while its caller may go on.
 * Every operation is charged to the transaction's one GasMeter before it is done.
 */
import {
  assert,
  CONTRACT_ADDRESS_RE,
  CONTRACT_EVENT_RE,
  CONTRACT_INIT_METHOD,
  CONTRACT_METHOD_RE,
  CONTRACTS_MODULE,
  type ContractRecord,
  contractCodeKey,
  contractEngineKey,
  contractKey,
  contractStateKey,
  decode,
  decodeContractRecord,
  encode,
  fromUtf8,
  LIMITS,
  TallyError,
  toHex,
  utf8,
  type Value,
  valueToJson,
} from "@tally/core";
import type { CallContext, Module, QueryContext } from "../execution/module.js";
import { GAS, type GasMeter } from "./gas.js";
import { jsonToArgs, jsonToValue, utf8Length } from "./json.js";
import { type IndexStore, indexInsert, indexRemove, indexScan } from "./key-index.js";
import { type HostFn, type HostValue, NODE_ENGINE_ID, runSandbox } from "./sandbox.js";

/** Who called: the transaction's signer, or (for a nested call) the calling contract. */
export type ContractCaller =
  | { readonly kind: "account"; readonly address: string; readonly org: string; readonly roles: readonly string[] }
  | { readonly kind: "contract"; readonly address: string };

/** One transaction's execution of contracts: its context, gas meter and event count. */
export interface ContractTx {
  readonly ctx: CallContext;
  readonly meter: GasMeter;
  /** The native modules, for `__tally.query`. */
  readonly modules: () => readonly Module[];
  events: number;
}

/** Events the module itself emits (deploy, upgrade, freeze) start with this; contracts cannot use it. */
export const LIFECYCLE_EVENT_PREFIX = "contract.";

type Get = (key: Uint8Array) => Uint8Array | null;

export function readContract(get: Get, address: string): ContractRecord | null {
  const bytes = get(contractKey(address));
  return bytes === null ? null : decodeContractRecord(bytes);
}

export function requireContract(get: Get, address: string): ContractRecord {
  const record = readContract(get, address);
  if (record === null) throw new TallyError("NO_SUCH_CONTRACT", undefined, { address });
  return record;
}

export function readCode(get: Get, codeHash: Uint8Array): string | null {
  const bytes = get(contractCodeKey(codeHash));
  return bytes === null ? null : fromUtf8(bytes);
}

/**
 * The chain runs contracts with one engine build: the one its genesis pins (written to state at height
 * 0) or, for a genesis without `contractEngine`, the one the first contract transaction recorded (with
 * `record`, this node's). A node with another build stops (an invariant failure) rather than compute
 * different results; against a pinning genesis it does not even start (ENGINE_MISMATCH). Called before
 * any contract code runs.
 */
export function checkEngine(ctx: CallContext, record: boolean): void {
  const bytes = ctx.get(contractEngineKey());
  if (bytes === null) {
    if (record) ctx.set(contractEngineKey(), encode(NODE_ENGINE_ID));
    return;
  }
  const chain = decode(bytes);
  assert(chain === NODE_ENGINE_ID, `contract engine mismatch: the chain runs ${String(chain)}, this node has ${NODE_ENGINE_ID}`);
}

function str(v: HostValue, what: string): string {
  if (typeof v !== "string") throw new TallyError("CONTRACT_ERROR", `${what} must be a string`);
  return v;
}

function stateKeyOf(v: HostValue): string {
  const key = str(v, "key");
  if (key.length === 0 || utf8Length(key) > LIMITS.contractKeyBytesMax) {
    throw new TallyError("CONTRACT_ERROR", `keys must be 1 to ${LIMITS.contractKeyBytesMax} bytes`);
  }
  return key;
}

function callerJson(caller: ContractCaller): string {
  return caller.kind === "account"
    ? JSON.stringify({ address: caller.address, org: caller.org, roles: [...caller.roles] })
    : JSON.stringify({ address: caller.address, contract: true });
}

/**
 * QuickJS stack for a call at `depth`: nested calls get less, so that the interpreter's native frames
 * of all nested runtimes together stay far below Node's native stack (spec/contracts.md §5).
 */
export function stackFor(depth: number): number {
  return depth <= 1 ? LIMITS.contractStackBytesMax : LIMITS.contractNestedStackBytesMax;
}

/**
 * Runs `method` of the contract at `address` with `argsJson`; returns the result JSON. `depth` is 1 for
 * the transaction's own call. Throws a TallyError for every failure.
 */
export function callContract(
  tx: ContractTx,
  address: string,
  caller: ContractCaller,
  method: string,
  argsJson: string,
  depth: number,
): string {
  if (depth > LIMITS.contractCallDepthMax) throw new TallyError("CONTRACT_DEPTH", undefined, { depthMax: LIMITS.contractCallDepthMax });
  if (!CONTRACT_METHOD_RE.test(method) || method === CONTRACT_INIT_METHOD) {
    throw new TallyError("CONTRACT_NO_METHOD", `${method} is not a callable method name`, { method });
  }
  const { ctx, meter } = tx;
  checkEngine(ctx, false);
  const record = requireContract(ctx.get, address);
  if (record.frozen) throw new TallyError("CONTRACT_FROZEN", undefined, { address });
  const code = readCode(ctx.get, record.codeHash);
  assert(code !== null, `contract ${address} has no code ${toHex(record.codeHash)}`);
  if (utf8Length(argsJson) > LIMITS.contractArgsBytesMax) {
    throw new TallyError("TOO_LARGE", `contract arguments exceed ${LIMITS.contractArgsBytesMax} bytes`, {
      maxBytes: LIMITS.contractArgsBytesMax,
    });
  }
  meter.charge(GAS.callBase + code.length * GAS.codeByte + argsJson.length * GAS.ioByte);
  const out = runSandbox({ code, method, argsJson, host: hostFor(tx, address, caller, depth), meter, stackBytes: stackFor(depth) });
  const json = out ?? "null";
  if (utf8Length(json) > LIMITS.contractResultBytesMax) {
    throw new TallyError("CONTRACT_RESULT", `the result exceeds ${LIMITS.contractResultBytesMax} bytes`, {
      maxBytes: LIMITS.contractResultBytesMax,
    });
  }
  meter.charge(json.length * GAS.ioByte);
  return json;
}

/**
 * Evaluates freshly deployed code and runs its optional `init(args)`, as the contract at `address`.
 * The source is compiled first so that a syntax error is CONTRACT_SYNTAX.
 */
export function initContract(tx: ContractTx, address: string, caller: ContractCaller, code: string, argsJson: string): void {
  tx.meter.charge(GAS.callBase + code.length * GAS.codeByte + argsJson.length * GAS.ioByte);
  runSandbox({
    code,
    method: CONTRACT_INIT_METHOD,
    optional: true,
    validate: true,
    checkSyntax: true,
    argsJson,
    host: hostFor(tx, address, caller, 1),
    meter: tx.meter,
    stackBytes: stackFor(1),
  });
}

/** The `__tally` functions for one contract at one call depth. */
export function hostFor(tx: ContractTx, self: string, caller: ContractCaller, depth: number): Record<string, HostFn> {
  const { ctx, meter } = tx;
  const index: IndexStore = {
    get: (k) => ctx.get(k),
    set: (k, v) => ctx.set(k, v),
    delete: (k) => ctx.delete(k),
    touched: (bytes) => meter.charge(bytes * GAS.ioByte),
  };
  return {
    get(k) {
      const key = stateKeyOf(k);
      meter.charge(GAS.stateRead);
      const bytes = ctx.get(contractStateKey(self, key));
      if (bytes === null) return null;
      meter.charge(bytes.length * GAS.ioByte);
      return fromUtf8(bytes);
    },
    set(k, v) {
      const key = stateKeyOf(k);
      const value = str(v, "value");
      const valueBytes = utf8(value);
      if (valueBytes.length > LIMITS.contractValueBytesMax) {
        throw new TallyError("CONTRACT_ERROR", `values must be at most ${LIMITS.contractValueBytesMax} bytes`);
      }
      meter.charge(GAS.stateWrite + (utf8Length(key) + valueBytes.length) * GAS.storedByte);
      const stateKey = contractStateKey(self, key);
      if (ctx.get(stateKey) === null) {
        meter.charge(GAS.newKey);
        indexInsert(index, self, key);
      }
      ctx.set(stateKey, valueBytes);
      return undefined;
    },
    del(k) {
      const key = stateKeyOf(k);
      meter.charge(GAS.stateDelete);
      const stateKey = contractStateKey(self, key);
      if (ctx.get(stateKey) === null) return undefined;
      indexRemove(index, self, key);
      ctx.delete(stateKey);
      return undefined;
    },
    scan(p, l, a) {
      const prefix = str(p, "prefix");
      if (utf8Length(prefix) > LIMITS.contractKeyBytesMax) throw new TallyError("CONTRACT_ERROR", "prefix is longer than a key");
      if (typeof l !== "number" || !Number.isInteger(l) || l < 1 || l > LIMITS.contractScanLimitMax) {
        throw new TallyError("CONTRACT_ERROR", `limit must be an integer from 1 to ${LIMITS.contractScanLimitMax}`);
      }
      const after = a === null ? null : str(a, "after");
      meter.charge(GAS.scan);
      const entries: Array<[string, string]> = [];
      for (const key of indexScan(index, self, prefix, l, after)) {
        meter.charge(GAS.scanEntry);
        const bytes = ctx.get(contractStateKey(self, key));
        assert(bytes !== null, `contract ${self}: indexed key without a value`);
        entries.push([key, fromUtf8(bytes)]);
      }
      const json = JSON.stringify(entries);
      meter.charge(json.length * GAS.ioByte);
      return json;
    },
    caller: () => callerJson(caller),
    self: () => self,
    block: () => JSON.stringify({ height: ctx.height, timeMs: ctx.timeMs, txHash: toHex(ctx.txHash) }),
    emit(n, d) {
      const name = str(n, "event name");
      if (!CONTRACT_EVENT_RE.test(name) || name.startsWith(LIFECYCLE_EVENT_PREFIX)) {
        throw new TallyError(
          "CONTRACT_ERROR",
          `event names must match ${CONTRACT_EVENT_RE} and not start with "${LIFECYCLE_EVENT_PREFIX}"`,
        );
      }
      const data = jsonToValue(str(d, "event data"), "event data", LIMITS.contractEventBytesMax);
      if (tx.events >= LIMITS.contractEventsMax) {
        throw new TallyError("CONTRACT_ERROR", `a transaction may emit at most ${LIMITS.contractEventsMax} events`);
      }
      meter.charge(GAS.event + (name.length + (d as string).length) * GAS.eventByte);
      tx.events += 1;
      ctx.emit(name, { contract: self, data });
      return undefined;
    },
    call(addr, m, a) {
      const address = str(addr, "address");
      if (!CONTRACT_ADDRESS_RE.test(address)) throw new TallyError("CONTRACT_ERROR", "address must be 40 lowercase hex characters");
      const method = str(m, "method");
      const argsJson = str(a, "args");
      meter.charge(GAS.nestedCall);
      const outcome = ctx.attempt(() => callContract(tx, address, { kind: "contract", address: self }, method, argsJson, depth + 1));
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    },
    query(mod, q, a) {
      const json = nativeQuery(tx, str(mod, "module"), str(q, "query"), str(a, "args"));
      meter.charge(json.length * GAS.ioByte);
      return json;
    },
    invoke(mod, m, a) {
      const module = str(mod, "module");
      const method = str(m, "method");
      const argsJson = str(a, "args");
      meter.charge(GAS.invoke + argsJson.length * GAS.ioByte);
      if (module === CONTRACTS_MODULE)
        throw new TallyError("FORBIDDEN", "contracts call other contracts through call, not invoke", { module });
      // The method runs as the transaction's signer, so only the contract the signer called may ask:
      // a contract it calls in turn was not chosen by the signer.
      if (depth > 1 || caller.kind !== "account") {
        throw new TallyError("FORBIDDEN", "only the contract a transaction calls may call module methods (as its signer)", {
          module,
          method,
        });
      }
      const value = ctx.invoke(module, method, jsonToArgs(argsJson, LIMITS.contractArgsBytesMax));
      const json = JSON.stringify(valueToJson(value));
      meter.charge(json.length * GAS.ioByte);
      return json;
    },
  };
}

/**
 * A native module's query, as an anonymous caller, over the transaction's current state. Only
 * unrestricted point queries: restricted ones would hand a regulator's view to anyone who calls the
 * contract, and listing queries need range scans that execution does not offer.
 */
function nativeQuery(tx: ContractTx, module: string, name: string, argsJson: string): string {
  const { ctx, meter } = tx;
  meter.charge(GAS.query + argsJson.length * GAS.ioByte);
  if (module === CONTRACTS_MODULE) throw new TallyError("FORBIDDEN", "contracts read other contracts through call, not query", { module });
  const mod = tx.modules().find((m) => m.name === module);
  if (mod === undefined) throw new TallyError("UNKNOWN_MODULE", undefined, { module });
  const def = mod.queries !== undefined && Object.hasOwn(mod.queries, name) ? mod.queries[name] : undefined;
  if (def === undefined) throw new TallyError("UNKNOWN_QUERY", undefined, { module, query: name });
  if (def.roles !== undefined) throw new TallyError("FORBIDDEN", `${module}.${name} is a restricted query`, { module, query: name });
  const args = jsonToValue(argsJson, "query arguments", LIMITS.contractArgsBytesMax);
  const qctx: QueryContext = {
    suite: ctx.suite,
    chainId: ctx.chainId,
    height: ctx.height,
    caller: null,
    callerOrg: null,
    callerRoles: [],
    get: (key) => {
      meter.charge(GAS.stateRead);
      return ctx.get(key);
    },
    scan: () => {
      throw new TallyError("FORBIDDEN", `${module}.${name} lists state, which contracts cannot query`, { module, query: name });
    },
  };
  return JSON.stringify(valueToJson(def.run(qctx, def.args.parse(args as Value, ""))));
}
