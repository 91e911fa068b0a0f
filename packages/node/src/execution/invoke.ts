/**
 * One module's call of another module's method inside a transaction (spec/execution.md §invoke): the
 * callee runs exactly as if the transaction had called it — as the transaction's signer, behind the
 * same governance gates and role check, with its arguments checked by its own schema — but as a nested
 * step, so its writes and events are kept if it returns and dropped if it refuses (the refusal goes
 * back to the caller, which may catch it).
 */
import { frozenAccountKey, frozenModuleKey, orgKey, TallyError, type TxEvent, type Value } from "@tally/core";
import type { CallContext, MethodDef, Module } from "./module.js";
import { attemptStep, type OverlayCursor } from "./overlay.js";

/** Who the transaction is signed by (an anonymous simulation has no signer). */
export interface Signer {
  readonly address: string;
  readonly org: string;
  readonly roles: readonly string[];
}

export interface InvokeScope {
  readonly modules: (name: string) => Module | undefined;
  readonly signer: Signer | null;
  readonly cursor: OverlayCursor;
  readonly events: TxEvent[] | Array<{ name: string; data: Value }>;
  /** The context the callee runs with: the transaction's, seen as module `name`. */
  contextFor(name: string): CallContext;
}

/** Checks and runs `target.method(args)` as the signer, as a nested step; returns its result. */
export function invokeMethod(scope: InvokeScope, target: string, method: string, args: Value): Value {
  if (scope.modules(target)?.privileged === true) {
    // Governance acts only through its own transactions, where every vote is an explicit signature.
    throw new TallyError("FORBIDDEN", `${target} methods are called by transactions only`, { module: target, method });
  }
  const { def, parsed } = resolveMethod(scope.modules, target, method, args);
  const { signer } = scope;
  if (signer === null) throw new TallyError("UNAUTHENTICATED", "calling a module method needs a signer", { module: target, method });
  const get = (key: Uint8Array) => scope.cursor.current.get(key);
  refuseGated(get, signer.address, signer.org, target);
  refuseWithoutRole(def, signer.roles, target, method);
  const step = attemptStep(scope.cursor, scope.events as TxEvent[], () => def.run(scope.contextFor(target), parsed));
  if (!step.ok) throw step.error;
  return step.value;
}

/** A method and its parsed arguments. */
export interface ResolvedMethod {
  // biome-ignore lint/suspicious/noExplicitAny: method argument types differ per method
  readonly def: MethodDef<any>;
  readonly parsed: unknown;
}

/** Stateless check of a call: module and method exist, arguments match the schema. */
export function resolveMethod(modules: (name: string) => Module | undefined, module: string, method: string, args: Value): ResolvedMethod {
  const mod = modules(module);
  if (mod === undefined) throw new TallyError("UNKNOWN_MODULE", undefined, { module });
  const def = Object.hasOwn(mod.methods, method) ? mod.methods[method] : undefined;
  if (def === undefined) throw new TallyError("UNKNOWN_METHOD", undefined, { module, method });
  return { def, parsed: def.args.parse(args, "") };
}

/**
 * Refusals that governance can impose on any call (spec/modules/governance.md §effects): the signer's
 * organisation was removed, the signer is frozen, or the module is frozen. Checked at admission too.
 */
export function refuseGated(get: (key: Uint8Array) => Uint8Array | null, sender: string, org: string, module: string): void {
  if (get(orgKey(org)) === null) throw new TallyError("NO_SUCH_ORG", "the signer's organisation is no longer a member", { org });
  if (get(frozenAccountKey(sender)) !== null) throw new TallyError("ACCOUNT_FROZEN", undefined, { address: sender });
  if (get(frozenModuleKey(module)) !== null) throw new TallyError("MODULE_FROZEN", undefined, { module });
}

/**
 * A method with `roles` needs the caller to hold one of them (FORBIDDEN). Checked at execution only,
 * so the refusal is a failed result in a receipt like every other module refusal.
 */
export function refuseWithoutRole(def: Pick<MethodDef<unknown>, "roles">, roles: readonly string[], module: string, method: string): void {
  if (def.roles !== undefined && !def.roles.some((r) => roles.includes(r))) {
    throw new TallyError("FORBIDDEN", `${module}.${method} needs one of the roles: ${def.roles.join(", ")}`, { module, method });
  }
}
