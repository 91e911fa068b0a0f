/**
 * Smart contracts (spec/contracts.md, spec/modules/contracts.md): the records the `contracts` module
 * keeps, their state keys, contract address derivation and the id of the sandbox engine. Shared by
 * the node (which executes contracts) and by clients that compute an address before deploying or read
 * a contract's state with a proof.
 */
import { concatBytes, fromHex, toHex, utf8 } from "./bytes.js";
import { decode, encode, isValueMap, type Value } from "./encoding.js";
import { TallyError } from "./errors.js";
import { LIMITS } from "./limits.js";
import type { HashFn } from "./merkle.js";
import { moduleKey } from "./state-keys.js";

export const CONTRACTS_MODULE = "contracts";
export const CONTRACT_ADDRESS_DOMAIN = "tally/contract-address/v1";
/** Contract addresses look like account addresses: 40 lowercase hex characters (20 bytes). */
export const CONTRACT_ADDRESS_RE = /^[0-9a-f]{40}$/;
/** Callable method names: an identifier not starting with "_" (those are private to the contract). */
export const CONTRACT_METHOD_RE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** Event names a contract may emit. */
export const CONTRACT_EVENT_RE = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;
/** The method run once at deploy; never callable by a transaction. */
export const CONTRACT_INIT_METHOD = "init";

/**
 * The sandbox every node must run: package, version and build variant of the QuickJS engine, and the
 * size of its heap (which decides where allocations fail). `tally init` pins it in the genesis
 * (`contractEngine`, recorded in `contracts/engine` at height 0); for a genesis without it, the first
 * contract transaction records it. A node whose engine differs does not start, or stops instead of
 * executing (spec/contracts.md §4).
 */
export const CONTRACT_ENGINE_ID = `quickjs-emscripten@0.32.0/RELEASE_SYNC/heap-${LIMITS.contractHeapBytesMax / (1024 * 1024)}MiB`;

export interface ContractRecord {
  /** Hash of the code in force (UTF-8 bytes of the source). */
  readonly codeHash: Uint8Array;
  /** 1 at deploy, +1 per governance upgrade. */
  readonly version: number;
  readonly deployer: string;
  /** Height of the deploy. */
  readonly createdAt: number;
  readonly frozen: boolean;
}

export interface ContractVersionRecord {
  readonly codeHash: Uint8Array;
  /** First height at which this version runs. */
  readonly fromHeight: number;
}

// ---- keys ---------------------------------------------------------------------------------------

/** contracts/engine -> CBOR text: the engine id (CONTRACT_ENGINE_ID) of the chain. */
export function contractEngineKey(): Uint8Array {
  return moduleKey(CONTRACTS_MODULE, utf8("engine"));
}

/** contracts/code/<code hash hex> -> UTF-8 source. Stored once per distinct code. */
export function contractCodeKey(codeHash: Uint8Array): Uint8Array {
  return moduleKey(CONTRACTS_MODULE, utf8(`code/${toHex(codeHash)}`));
}

/** contracts/c/<address> -> ContractRecord */
export function contractKey(address: string): Uint8Array {
  return moduleKey(CONTRACTS_MODULE, utf8(`c/${address}`));
}

/** contracts/v/<address>/<version u32 BE> -> ContractVersionRecord */
export function contractVersionKey(address: string, version: number): Uint8Array {
  const v = new Uint8Array(4);
  new DataView(v.buffer).setUint32(0, version);
  return concatBytes(moduleKey(CONTRACTS_MODULE, utf8(`v/${address}/`)), v);
}

/** contracts/s/<address>/ : the prefix of a contract's own key-value state. */
export function contractStatePrefix(address: string): Uint8Array {
  return moduleKey(CONTRACTS_MODULE, utf8(`s/${address}/`));
}

/** contracts/s/<address>/<key UTF-8> -> value UTF-8 (the strings the contract wrote). */
export function contractStateKey(address: string, key: string): Uint8Array {
  return concatBytes(contractStatePrefix(address), utf8(key));
}

/** contracts/x/<address> -> the directory of the contract's ordered key index (node/src/contracts/key-index.ts). */
export function contractIndexDirKey(address: string): Uint8Array {
  return moduleKey(CONTRACTS_MODULE, utf8(`x/${address}`));
}

/** contracts/p/<address>/<page u32 BE> -> one page of the contract's ordered key index. */
export function contractIndexPageKey(address: string, page: number): Uint8Array {
  const p = new Uint8Array(4);
  new DataView(p.buffer).setUint32(0, page);
  return concatBytes(moduleKey(CONTRACTS_MODULE, utf8(`p/${address}/`)), p);
}

// ---- addresses ----------------------------------------------------------------------------------

/**
 * address = first 20 bytes of H(utf8("tally/contract-address/v1") || deployer address bytes (20) ||
 * deployer's transaction nonce as u64 BE), as hex. One deploy per nonce, so addresses never repeat.
 */
export function contractAddress(hash: HashFn, deployer: string, nonce: number): string {
  const n = new Uint8Array(8);
  new DataView(n.buffer).setBigUint64(0, BigInt(nonce));
  return toHex(hash(concatBytes(utf8(CONTRACT_ADDRESS_DOMAIN), fromHex(deployer, 20), n)).subarray(0, 20));
}

// ---- records ------------------------------------------------------------------------------------

function corrupt(what: string): never {
  throw new TallyError("BAD_ENCODING", `corrupt contracts state: ${what}`);
}

export function encodeContractRecord(r: ContractRecord): Uint8Array {
  return encode({ codeHash: r.codeHash, version: r.version, deployer: r.deployer, createdAt: r.createdAt, frozen: r.frozen });
}

export function decodeContractRecord(bytes: Uint8Array): ContractRecord {
  const v = decode(bytes) as Record<string, Value>;
  if (!(v.codeHash instanceof Uint8Array) || typeof v.version !== "number" || typeof v.deployer !== "string") corrupt("contract");
  if (typeof v.createdAt !== "number" || typeof v.frozen !== "boolean") corrupt("contract");
  return { codeHash: v.codeHash, version: v.version, deployer: v.deployer, createdAt: v.createdAt, frozen: v.frozen };
}

export function encodeContractVersion(r: ContractVersionRecord): Uint8Array {
  return encode({ codeHash: r.codeHash, fromHeight: r.fromHeight });
}

export function decodeContractVersion(bytes: Uint8Array): ContractVersionRecord {
  const v = decode(bytes) as Record<string, Value>;
  if (!(v.codeHash instanceof Uint8Array) || typeof v.fromHeight !== "number") corrupt("version");
  return { codeHash: v.codeHash, fromHeight: v.fromHeight };
}

/** The JSON view of a contract record (queries, results). */
export function contractRecordToValue(address: string, r: ContractRecord): Value {
  return {
    address,
    codeHash: toHex(r.codeHash),
    version: r.version,
    deployer: r.deployer,
    createdAt: r.createdAt,
    frozen: r.frozen,
  };
}

/**
 * The gas a transaction offers, known before it runs: a `contracts` call's or deploy's `gasLimit`
 * argument; 0 for every other transaction. Blocks are bounded by the sum (LIMITS.blockGasMax).
 */
export function declaredGas(tx: { readonly module: string; readonly args: Value }): number {
  if (tx.module !== "contracts" || !isValueMap(tx.args)) return 0;
  const gas = (tx.args as { readonly [key: string]: Value }).gasLimit;
  return typeof gas === "number" && Number.isSafeInteger(gas) && gas > 0 ? gas : 0;
}
