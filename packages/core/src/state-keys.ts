/**
 * State key layout (spec/state.md). Every module owns the keys that start with its name and "/";
 * module names are [a-z][a-z0-9-]* so the prefix is unambiguous. Keys that offline verifiers must
 * compute themselves are defined here rather than inside the module.
 */
import { concatBytes, utf8 } from "./bytes.js";

export function moduleKey(module: string, subkey: Uint8Array): Uint8Array {
  return concatBytes(utf8(`${module}/`), subkey);
}

/** accounts/a/<address hex> -> account record */
export function accountKey(address: string): Uint8Array {
  return moduleKey("accounts", utf8(`a/${address}`));
}

/** accounts/o/<org id> -> organisation record */
export function orgKey(orgId: string): Uint8Array {
  return moduleKey("accounts", utf8(`o/${orgId}`));
}

/** evidence/r/<32-byte digest> -> evidence record */
export function evidenceRecordKey(digest: Uint8Array): Uint8Array {
  return moduleKey("evidence", concatBytes(utf8("r/"), digest));
}

/** evidence/s/<address hex>/<height u64 BE><tx index u32 BE> -> digest (list by submitter, in commit order) */
export function evidenceBySubmitterPrefix(address: string): Uint8Array {
  return moduleKey("evidence", utf8(`s/${address}/`));
}

export function evidenceBySubmitterKey(address: string, height: number, txIndex: number): Uint8Array {
  const pos = new Uint8Array(12);
  const view = new DataView(pos.buffer);
  view.setBigUint64(0, BigInt(height));
  view.setUint32(8, txIndex);
  return concatBytes(evidenceBySubmitterPrefix(address), pos);
}

/** tokens/t/<symbol> -> token record (spec/modules/tokens.md) */
export function tokenKey(symbol: string): Uint8Array {
  return moduleKey("tokens", utf8(`t/${symbol}`));
}

/** tokens/b/<symbol>/<address hex> -> balance (absent = 0) */
export function tokenBalanceKey(symbol: string, address: string): Uint8Array {
  return moduleKey("tokens", utf8(`b/${symbol}/${address}`));
}

/** tokens/f/<symbol>/<address hex> -> frozen flag (absent = not frozen) */
export function tokenFrozenKey(symbol: string, address: string): Uint8Array {
  return moduleKey("tokens", utf8(`f/${symbol}/${address}`));
}

/** governance/fa/<address hex> -> present while governance keeps the account frozen (no transaction of it runs). */
export function frozenAccountKey(address: string): Uint8Array {
  return moduleKey("governance", utf8(`fa/${address}`));
}

/** governance/fm/<module> -> present while governance keeps the module frozen (no call to it runs). */
export function frozenModuleKey(module: string): Uint8Array {
  return moduleKey("governance", utf8(`fm/${module}`));
}

/** governance/r/<role> -> a role defined by governance (besides the built-in ones, core/src/roles.ts). */
export function definedRoleKey(role: string): Uint8Array {
  return moduleKey("governance", utf8(`r/${role}`));
}
