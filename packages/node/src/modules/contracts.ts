/**
 * Smart contracts (spec/modules/contracts.md, spec/contracts.md): deploy TypeScript contracts bundled
 * to one JavaScript source, call them, and read them. Code is stored once by hash; each contract keeps
 * its version history so replay runs the code in force at every height. Upgrades and freezes come only
 * from governance (`upgradeContract`, `freezeContract`, `unfreezeContract`), through the functions at
 * the end of this file. Contract code runs in the QuickJS sandbox (node/src/contracts/).
 */
import {
  AssertionFailure,
  assert,
  CONTRACT_ADDRESS_RE,
  CONTRACT_METHOD_RE,
  CONTRACTS_MODULE,
  contractAddress,
  contractCodeKey,
  contractEngineKey,
  contractKey,
  contractRecordToValue,
  contractStateKey,
  contractVersionKey,
  decodeContractVersion,
  encode,
  encodeContractRecord,
  encodeContractVersion,
  fromHex,
  fromUtf8,
  LIMITS,
  ROLES,
  TallyError,
  toHex,
  utf8,
  type Value,
} from "@tally/core";
import { GAS, GasMeter } from "../contracts/gas.js";
import {
  type ContractCaller,
  type ContractTx,
  callContract,
  checkEngine,
  initContract,
  readCode,
  readContract,
  requireContract,
} from "../contracts/host.js";
import { argsToJson, jsonToValue } from "../contracts/json.js";
import { checkSyntax } from "../contracts/sandbox.js";
import { type InvokeScope, invokeMethod } from "../execution/invoke.js";
import { type CallContext, defineMethod, defineQuery, type Module, type QueryContext, type ReadContext } from "../execution/module.js";
import { attemptStep, type OverlayCursor, StateOverlay } from "../execution/overlay.js";
import { type Schema, s } from "../execution/schema.js";
import { readAccount } from "./accounts.js";

type Get = (key: Uint8Array) => Uint8Array | null;

/** Who may deploy or store code. */
export const DEPLOYER_ROLES: readonly string[] = [ROLES.admin, ROLES.orgAdmin, ROLES.contractDeployer];

/** Versions a `contract` query lists (the latest ones). */
const VERSIONS_LISTED_MAX = 100;

// ---- argument schemas ---------------------------------------------------------------------------

const address = s.string({ maxLength: 40, pattern: CONTRACT_ADDRESS_RE });
const codeHashHex = s.string({ maxLength: 64, pattern: /^[0-9a-f]{64}$/ });
const method = s.string({ maxLength: 64, pattern: CONTRACT_METHOD_RE });
const code: Schema<string> = {
  description: `the contract's JavaScript source, at most ${LIMITS.contractCodeBytesMax} bytes of UTF-8`,
  parse(v, path) {
    if (typeof v !== "string") throw new TallyError("BAD_ARGS", `${path} must be a string`, { field: path });
    const text = v;
    if (Buffer.byteLength(text, "utf8") > LIMITS.contractCodeBytesMax) {
      throw new TallyError("TOO_LARGE", `code exceeds ${LIMITS.contractCodeBytesMax} bytes`, {
        field: path,
        maxBytes: LIMITS.contractCodeBytesMax,
      });
    }
    return text;
  },
};
const gasLimit: Schema<number> = {
  description: `gas the transaction may use, 1 to ${LIMITS.contractGasLimitMax}`,
  parse(v, path) {
    const n = s.uint().parse(v, path);
    if (n < 1 || n > LIMITS.contractGasLimitMax) {
      throw new TallyError("BAD_ARGS", `${path} must be an integer from 1 to ${LIMITS.contractGasLimitMax}`, { field: path });
    }
    return n;
  },
};
const anyValue: Schema<Value | null> = { description: "any JSON value (optional)", parse: (v) => (v === undefined ? null : v) };

const deployArgs = s.object({ code, initArgs: anyValue, gasLimit });
const storeArgs = s.object({ code });
const callArgs = s.object({ address, method, args: anyValue, gasLimit });
const addressArgs = s.object({ address });
const codeArgs = s.object({ hash: codeHashHex });
const stateArgs = s.object({ address, key: s.string({ maxLength: LIMITS.contractKeyBytesMax }) });

// ---- execution ----------------------------------------------------------------------------------

function accountCaller(ctx: CallContext): ContractCaller {
  return { kind: "account", address: ctx.caller, org: ctx.callerOrg, roles: ctx.callerRoles };
}

/** Runs `fn` metered; every failure carries the gas used (a memory failure uses all of it). */
function metered<T>(meter: GasMeter, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof TallyError)) throw err;
    if (err.code === "CONTRACT_MEMORY") meter.consumeAll();
    throw new TallyError(err.code, err.message, { ...err.meta, gasUsed: meter.used, gasLimit: meter.limit });
  }
}

/** Stores code under its hash if it is not stored yet; returns the hash and the bytes newly stored. */
function storeCode(ctx: CallContext, source: string): { codeHash: Uint8Array; newBytes: number } {
  const bytes = utf8(source);
  const codeHash = ctx.suite.hash(bytes);
  if (ctx.get(contractCodeKey(codeHash)) !== null) return { codeHash, newBytes: 0 };
  ctx.set(contractCodeKey(codeHash), bytes);
  return { codeHash, newBytes: bytes.length };
}

function refuseUncallable(get: Get, addr: string): void {
  if (requireContract(get, addr).frozen) throw new TallyError("CONTRACT_FROZEN", undefined, { address: addr });
}

function deploy(ctx: CallContext, modules: () => readonly Module[], args: { code: string; initArgs: Value | null; gasLimit: number }) {
  const meter = new GasMeter(args.gasLimit);
  return metered(meter, () => {
    checkEngine(ctx, true);
    const account = readAccount(ctx.get, ctx.caller);
    assert(account !== null && account.nonce > 0, "deploy: the signer's nonce was not advanced");
    // The engine advanced the nonce before running the transaction: this transaction's nonce is one less.
    const addr = contractAddress(ctx.suite.hash, ctx.caller, account.nonce - 1);
    assert(readContract(ctx.get, addr) === null, `contract address ${addr} is taken`);
    const { codeHash, newBytes } = storeCode(ctx, args.code);
    meter.charge(newBytes * GAS.deployByte);
    ctx.set(contractKey(addr), encodeContractRecord({ codeHash, version: 1, deployer: ctx.caller, createdAt: ctx.height, frozen: false }));
    ctx.set(contractVersionKey(addr, 1), encodeContractVersion({ codeHash, fromHeight: ctx.height }));
    const tx: ContractTx = { ctx, meter, modules, events: 0 };
    initContract(tx, addr, accountCaller(ctx), args.code, argsToJson(args.initArgs));
    ctx.emit("contract.deployed", { contract: addr, data: { codeHash: toHex(codeHash), deployer: ctx.caller, version: 1 } });
    return { address: addr, codeHash: toHex(codeHash), version: 1, gasUsed: meter.used };
  });
}

function call(
  ctx: CallContext,
  modules: () => readonly Module[],
  args: { address: string; method: string; args: Value | null; gasLimit: number },
) {
  const meter = new GasMeter(args.gasLimit);
  return metered(meter, () => {
    const tx: ContractTx = { ctx, meter, modules, events: 0 };
    const json = callContract(tx, args.address, accountCaller(ctx), args.method, argsToJson(args.args), 1);
    return { value: jsonToValue(json, "the result", LIMITS.contractResultBytesMax), gasUsed: meter.used };
  });
}

// ---- simulation ---------------------------------------------------------------------------------

/**
 * A CallContext over committed state whose writes stay in a throw-away overlay: `simulate` runs a call
 * exactly as a transaction would (same sandbox, gas and host), then forgets it. There is no block, so
 * `block()` reports the state's height, time 0 and an all-zero transaction hash.
 */
function simulationContext(q: QueryContext, events: Array<{ name: string; data: Value }>, modules: () => readonly Module[]): CallContext {
  const cursor: OverlayCursor = { current: new StateOverlay((k) => q.get(k)) };
  const contextFor = (): CallContext => ({
    suite: q.suite,
    chainId: q.chainId,
    height: q.height,
    timeMs: 0,
    txHash: new Uint8Array(32),
    txIndex: 0,
    caller: q.caller ?? "",
    callerOrg: q.callerOrg ?? "",
    callerRoles: q.callerRoles,
    get: (k) => cursor.current.get(k),
    set: (k, v) => cursor.current.set(k, v),
    delete: (k) => cursor.current.delete(k),
    emit: (name, data) => events.push({ name, data }),
    attempt: (fn) => attemptStep(cursor, events, fn),
    asModule: () => {
      throw new AssertionFailure("a simulated contract call cannot act as another module");
    },
    invoke: (target, method, args) => invokeMethod(scope, target, method, args),
  });
  const scope: InvokeScope = {
    modules: (name) => modules().find((m) => m.name === name),
    // An anonymous simulation has no signer to act as (UNAUTHENTICATED); a signed one acts as its caller.
    signer: q.caller === null ? null : { address: q.caller, org: q.callerOrg ?? "", roles: q.callerRoles },
    cursor,
    events,
    contextFor,
  };
  return contextFor();
}

// ---- governance: upgrade and freeze ------------------------------------------------------------

export type ContractAction =
  | { readonly kind: "upgradeContract"; readonly address: string; readonly codeHash: string }
  | { readonly kind: "freezeContract"; readonly address: string }
  | { readonly kind: "unfreezeContract"; readonly address: string };

export const contractActionFields = {
  upgradeContract: s.object({ address, codeHash: codeHashHex }),
  freezeContract: addressArgs,
  unfreezeContract: addressArgs,
} as const;

/** Refuses a governance action on a contract that could not be applied now (at proposal and again at execution). */
export function checkContractAction(get: Get, a: ContractAction): void {
  const record = requireContract(get, a.address);
  switch (a.kind) {
    case "upgradeContract":
      if (get(contractCodeKey(fromHex(a.codeHash, 32))) === null) {
        throw new TallyError("NOT_FOUND", "no code stored under this hash (store it with contracts.store first)", { codeHash: a.codeHash });
      }
      if (toHex(record.codeHash) === a.codeHash) {
        throw new TallyError("BAD_ARGS", "the contract already runs this code", { field: "action.codeHash" });
      }
      return;
    case "freezeContract":
      if (record.frozen) throw new TallyError("BAD_ARGS", "the contract is already frozen", { field: "action.address" });
      return;
    case "unfreezeContract":
      if (!record.frozen) throw new TallyError("NOT_FOUND", "the contract is not frozen", { address: a.address });
      return;
  }
}

/**
 * Applies a passed governance action; `ctx` acts as the contracts module. An upgrade takes effect for
 * the transactions after it: the new version's `fromHeight` is this block's height.
 */
export function applyContractAction(ctx: CallContext, a: ContractAction, proposal: number): void {
  checkContractAction(ctx.get, a);
  const record = requireContract(ctx.get, a.address);
  switch (a.kind) {
    case "upgradeContract": {
      const codeHash = fromHex(a.codeHash, 32);
      const version = record.version + 1;
      ctx.set(contractKey(a.address), encodeContractRecord({ ...record, codeHash, version }));
      ctx.set(contractVersionKey(a.address, version), encodeContractVersion({ codeHash, fromHeight: ctx.height }));
      ctx.emit("contract.upgraded", { contract: a.address, data: { codeHash: a.codeHash, version, proposal } });
      return;
    }
    case "freezeContract":
    case "unfreezeContract": {
      const frozen = a.kind === "freezeContract";
      ctx.set(contractKey(a.address), encodeContractRecord({ ...record, frozen }));
      ctx.emit(frozen ? "contract.frozen" : "contract.unfrozen", { contract: a.address, data: { proposal } });
      return;
    }
  }
}

// ---- the module ---------------------------------------------------------------------------------

function versionsOf(get: Get, addr: string, latest: number): Value[] {
  const out: Value[] = [];
  for (let v = Math.max(1, latest - VERSIONS_LISTED_MAX + 1); v <= latest; v++) {
    const bytes = get(contractVersionKey(addr, v));
    assert(bytes !== null, `contract ${addr} lacks version ${v}`);
    const r = decodeContractVersion(bytes);
    out.push({ version: v, codeHash: toHex(r.codeHash), fromHeight: r.fromHeight });
  }
  return out;
}

/** `modules` lists the native modules a contract may query (read when a call runs). */
export function createContractsModule(modules: () => readonly Module[]): Module {
  return {
    name: CONTRACTS_MODULE,
    initGenesis(ctx) {
      // A genesis that pins the engine records it at height 0, where the first contract transaction
      // would otherwise record its node's (checkEngine).
      const pinned = ctx.genesis.doc.contractEngine;
      if (pinned !== undefined) ctx.set(contractEngineKey(), encode(pinned));
    },
    methods: {
      deploy: defineMethod({
        description:
          "Deploy a contract: store its code (once per hash), run its optional init(initArgs). Result { address, codeHash, version, gasUsed }.",
        args: deployArgs,
        roles: DEPLOYER_ROLES,
        precheck: (_ctx: ReadContext, args) => checkSyntax(args.code, new GasMeter(args.gasLimit)),
        run: (ctx, args) => deploy(ctx, modules, args),
      }),
      store: defineMethod({
        description: "Store code by its hash without deploying it (for a governance upgradeContract). Result { codeHash }.",
        args: storeArgs,
        roles: DEPLOYER_ROLES,
        precheck: (_ctx: ReadContext, args) => checkSyntax(args.code, new GasMeter(1)),
        run(ctx, args) {
          checkSyntax(args.code, new GasMeter(1));
          const { codeHash, newBytes } = storeCode(ctx, args.code);
          if (newBytes > 0) ctx.emit("contract.code-stored", { contract: null, data: { codeHash: toHex(codeHash), bytes: newBytes } });
          return { codeHash: toHex(codeHash) };
        },
      }),
      call: defineMethod({
        description: "Call a contract's method with JSON args. Result { value, gasUsed }.",
        args: callArgs,
        precheck: (ctx: ReadContext, args) => refuseUncallable(ctx.get, args.address),
        run: (ctx, args) => call(ctx, modules, args),
      }),
    },
    queries: {
      contract: defineQuery({
        description: "A contract's record and its latest versions ({ version, codeHash, fromHeight }).",
        args: addressArgs,
        run(ctx, args) {
          const record = requireContract(ctx.get, args.address);
          return {
            ...(contractRecordToValue(args.address, record) as Record<string, Value>),
            versions: versionsOf(ctx.get, args.address, record.version),
          };
        },
      }),
      code: defineQuery({
        description: "The source stored under a code hash.",
        args: codeArgs,
        run(ctx, args) {
          const source = readCode(ctx.get, fromHex(args.hash, 32));
          if (source === null) throw new TallyError("NOT_FOUND", "no code stored under this hash", { codeHash: args.hash });
          return { codeHash: args.hash, code: source };
        },
      }),
      state: defineQuery({
        description: "One key of a contract's state: { key, value } (value null when absent).",
        args: stateArgs,
        run(ctx, args) {
          requireContract(ctx.get, args.address);
          const bytes = ctx.get(contractStateKey(args.address, args.key));
          return { key: args.key, value: bytes === null ? null : fromUtf8(bytes) };
        },
      }),
      simulate: defineQuery({
        description:
          "Run a call against committed state and discard its writes: { value, gasUsed, events } (SDK reads). The caller is the signed query's account, or anonymous.",
        args: callArgs,
        run(q, args) {
          if (args.gasLimit > LIMITS.contractSimulateGasMax) {
            throw new TallyError("BAD_ARGS", `gasLimit of a simulation must be at most ${LIMITS.contractSimulateGasMax}`, {
              field: "gasLimit",
            });
          }
          const events: Array<{ name: string; data: Value }> = [];
          const ctx = simulationContext(q, events, modules);
          const result = call(ctx, modules, args);
          return { ...result, events };
        },
      }),
    },
  };
}
