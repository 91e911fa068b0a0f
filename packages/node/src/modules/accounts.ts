/**
 * Organisations and accounts (spec/modules/accounts.md). Only registered accounts may submit
 * transactions; the account record also carries the nonce that makes every transaction unique.
 * An org admin registers accounts of its own org; the chain admin registers accounts of any org.
 */
import {
  accountKey,
  addressOf,
  decode,
  definedRoleKey,
  encode,
  fromHex,
  isBuiltinRole,
  LIMITS,
  moduleKey,
  orgKey,
  ROLE_RE,
  TallyError,
  utf8,
  type Value,
} from "@tally/core";
import { type CallContext, defineMethod, defineQuery, type Module, type QueryContext } from "../execution/module.js";
import { s } from "../execution/schema.js";

export const ROLE_ADMIN = "admin";
export const ROLE_ORG_ADMIN = "org-admin";

export interface AccountRecord {
  readonly publicKey: Uint8Array;
  readonly org: string;
  readonly roles: readonly string[];
  readonly nonce: number;
}

export function encodeAccount(a: AccountRecord): Uint8Array {
  return encode({ publicKey: a.publicKey, org: a.org, roles: [...a.roles], nonce: a.nonce });
}

export function decodeAccount(bytes: Uint8Array): AccountRecord {
  const v = decode(bytes) as Record<string, Value>;
  return { publicKey: v.publicKey as Uint8Array, org: v.org as string, roles: v.roles as string[], nonce: v.nonce as number };
}

export function readAccount(get: (key: Uint8Array) => Uint8Array | null, address: string): AccountRecord | null {
  const bytes = get(accountKey(address));
  return bytes === null ? null : decodeAccount(bytes);
}

/** A role accounts may hold: built in (core/src/roles.ts) or defined by governance. */
export function isKnownRole(get: (key: Uint8Array) => Uint8Array | null, role: string): boolean {
  return isBuiltinRole(role) || get(definedRoleKey(role)) !== null;
}

export function refuseUnknownRole(get: (key: Uint8Array) => Uint8Array | null, role: string): void {
  if (!isKnownRole(get, role)) throw new TallyError("UNKNOWN_ROLE", undefined, { role });
}

// ---- changes made by governance (spec/modules/governance.md): `ctx` is this module's context ------

export function addOrg(ctx: CallContext, org: { id: string; name: string }): void {
  if (ctx.get(orgKey(org.id)) !== null) throw new TallyError("ORG_EXISTS", undefined, { org: org.id });
  ctx.set(orgKey(org.id), encode({ id: org.id, name: org.name }));
  ctx.emit("org-added", { id: org.id, name: org.name });
}

/**
 * Removes the organisation record. Its accounts stay in state but the engine refuses their
 * transactions (NO_SUCH_ORG) for as long as the organisation is not a member.
 */
export function removeOrg(ctx: CallContext, id: string): void {
  if (ctx.get(orgKey(id)) === null) throw new TallyError("NO_SUCH_ORG", undefined, { org: id });
  ctx.delete(orgKey(id));
  ctx.emit("org-removed", { id });
}

function requireAccount(ctx: CallContext, address: string): AccountRecord {
  const account = readAccount(ctx.get, address);
  if (account === null) throw new TallyError("NO_SUCH_ACCOUNT", undefined, { address });
  return account;
}

export function grantRole(ctx: CallContext, address: string, role: string): void {
  refuseUnknownRole(ctx.get, role);
  const account = requireAccount(ctx, address);
  if (account.roles.includes(role)) throw new TallyError("BAD_ARGS", "the account already has this role", { field: "role", role });
  ctx.set(accountKey(address), encodeAccount({ ...account, roles: [...account.roles, role].sort() }));
  ctx.emit("role-granted", { address, role });
}

export function revokeRole(ctx: CallContext, address: string, role: string): void {
  refuseUnknownRole(ctx.get, role);
  const account = requireAccount(ctx, address);
  if (!account.roles.includes(role)) throw new TallyError("NOT_FOUND", "the account does not have this role", { address, role });
  ctx.set(accountKey(address), encodeAccount({ ...account, roles: account.roles.filter((r) => r !== role) }));
  ctx.emit("role-revoked", { address, role });
}

const registerArgs = s.object({
  publicKey: s.bytes(),
  org: s.string({ maxLength: 64 }),
  roles: s.array(s.string({ maxLength: 32, pattern: ROLE_RE }), 16),
});

const ORG_PREFIX = moduleKey("accounts", utf8("o/"));
const ACCOUNT_PREFIX = moduleKey("accounts", utf8("a/"));
const pageLimit = s.optional(s.uint());

/** Scans one page under `prefix` after the entry named `after`; `next` is the last name read when the page is full. */
function page(ctx: QueryContext, prefix: Uint8Array, after: string | null, limit: number | null) {
  const n = Math.max(1, Math.min(limit ?? 100, LIMITS.apiListLimitMax));
  const rows = ctx.scan(prefix, n, after === null ? undefined : new Uint8Array([...prefix, ...utf8(after)]));
  const names = rows.map(([key]) => new TextDecoder().decode(key.subarray(prefix.length)));
  return { rows, names, next: rows.length === n ? (names.at(-1) ?? null) : null };
}

export const accountsModule: Module = {
  name: "accounts",
  queries: {
    orgs: defineQuery({
      description: "The member organisations in id order, a page at a time (`next` is the `after` of the next page).",
      args: s.object({ after: s.optional(s.string({ maxLength: 64 })), limit: pageLimit }),
      run(ctx, args) {
        const { rows, next } = page(ctx, ORG_PREFIX, args.after, args.limit);
        const items = rows.map(([, bytes]) => {
          const org = decode(bytes) as { id: string; name: string };
          return { id: org.id, name: org.name };
        });
        return { items, next };
      },
    }),
    list: defineQuery({
      description:
        "Registered accounts in address order with org, roles and next nonce, a page at a time; with `org`, only that org's (a filtered page may hold fewer than `limit`, `next` still continues).",
      args: s.object({
        org: s.optional(s.string({ maxLength: 64 })),
        after: s.optional(s.string({ maxLength: 40, pattern: /^[0-9a-f]{40}$/ })),
        limit: pageLimit,
      }),
      run(ctx, args) {
        const { rows, names, next } = page(ctx, ACCOUNT_PREFIX, args.after, args.limit);
        const items: Value[] = [];
        rows.forEach(([, bytes], i) => {
          const account = decodeAccount(bytes);
          if (args.org !== null && account.org !== args.org) return;
          items.push({ address: names[i] as string, org: account.org, roles: [...account.roles], nonce: account.nonce });
        });
        return { items, next };
      },
    }),
  },
  initGenesis(ctx) {
    const { doc } = ctx.genesis;
    for (const org of doc.orgs) ctx.set(orgKey(org.id), encode({ id: org.id, name: org.name }));
    for (const account of doc.accounts) {
      const publicKey = fromHex(account.publicKey);
      const record: AccountRecord = { publicKey, org: account.org, roles: [...account.roles], nonce: 0 };
      ctx.set(accountKey(addressOf(ctx.suite, publicKey)), encodeAccount(record));
    }
  },
  methods: {
    register: defineMethod({
      description: "Register an account. Org admins register accounts of their own org; the chain admin, of any org.",
      args: registerArgs,
      roles: [ROLE_ADMIN, ROLE_ORG_ADMIN],
      run(ctx, args) {
        const isChainAdmin = ctx.callerRoles.includes(ROLE_ADMIN);
        if (!isChainAdmin && args.org !== ctx.callerOrg) {
          throw new TallyError("FORBIDDEN", "org admins register accounts of their own org only", { org: args.org });
        }
        if (!isChainAdmin && args.roles.includes(ROLE_ADMIN)) {
          throw new TallyError("FORBIDDEN", "only the chain admin grants the admin role");
        }
        try {
          ctx.suite.checkPublicKey(args.publicKey);
        } catch {
          throw new TallyError("BAD_ARGS", `publicKey is not a valid ${ctx.suite.id} key`, { field: "publicKey" });
        }
        if (ctx.get(orgKey(args.org)) === null) throw new TallyError("NO_SUCH_ORG", undefined, { org: args.org });
        const address = addressOf(ctx.suite, args.publicKey);
        if (ctx.get(accountKey(address)) !== null) throw new TallyError("ACCOUNT_EXISTS", undefined, { address });
        for (const role of args.roles) refuseUnknownRole(ctx.get, role);
        const roles = [...new Set(args.roles)].sort();
        ctx.set(accountKey(address), encodeAccount({ publicKey: args.publicKey, org: args.org, roles, nonce: 0 }));
        ctx.emit("registered", { address, org: args.org, roles });
        return { address };
      },
    }),
  },
};
