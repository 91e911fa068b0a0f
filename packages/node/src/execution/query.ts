/**
 * Runs a module query (spec/api.md §queries) against one state: resolves it, checks its arguments and
 * the caller's roles, and answers. The same function serves the API and the tests, so a query behaves
 * the same wherever it is asked, including on an observer replica.
 */
import type { CryptoSuite, Value } from "@tally/core";
import { TallyError } from "@tally/core";
import { readAccount } from "../modules/accounts.js";
import type { ExecutionEngine } from "./engine.js";
import type { QueryContext } from "./module.js";

export interface QueryState {
  readonly suite: CryptoSuite;
  readonly chainId: string;
  readonly height: number;
  get(key: Uint8Array): Uint8Array | null;
  scan(prefix: Uint8Array, limit: number, after?: Uint8Array): Array<readonly [Uint8Array, Uint8Array]>;
}

/**
 * `caller` is an address whose signature the API has already checked, or null. A caller that is not a
 * registered account is treated like an anonymous one would be for a role-restricted query.
 */
export function runQuery(
  engine: ExecutionEngine,
  state: QueryState,
  module: string,
  query: string,
  args: Value,
  caller: string | null,
): Value {
  const { def, parsed } = engine.resolveQuery(module, query, args);
  const account = caller === null ? null : readAccount((k) => state.get(k), caller);
  if (caller !== null && account === null) throw new TallyError("UNKNOWN_SIGNER", undefined, { address: caller });
  const roles = account?.roles ?? [];
  if (def.roles !== undefined) {
    if (account === null) throw new TallyError("UNAUTHENTICATED", undefined, { module, query });
    if (!def.roles.some((r) => roles.includes(r))) {
      throw new TallyError("FORBIDDEN", `${module}.${query} needs one of the roles: ${def.roles.join(", ")}`, { module, query });
    }
  }
  const ctx: QueryContext = {
    suite: state.suite,
    chainId: state.chainId,
    height: state.height,
    caller: account === null ? null : caller,
    callerOrg: account?.org ?? null,
    callerRoles: roles,
    get: (key) => state.get(key),
    scan: (prefix, limit, after) => state.scan(prefix, limit, after),
  };
  return def.run(ctx, parsed);
}
