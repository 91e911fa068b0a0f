/**
 * Organisations and accounts (spec/modules/accounts.md). Only registered accounts may submit
 * transactions; the account record also carries the nonce that makes every transaction unique.
 * An org admin registers accounts of its own org; the chain admin registers accounts of any org.
 */
import { accountKey, addressOf, decode, encode, fromHex, orgKey, ROLE_RE, TallyError, type Value } from "@tally/core";
import { defineMethod, type Module } from "../execution/module.js";
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

const registerArgs = s.object({
  publicKey: s.bytes(),
  org: s.string({ maxLength: 64 }),
  roles: s.array(s.string({ maxLength: 32, pattern: ROLE_RE }), 16),
});

export const accountsModule: Module = {
  name: "accounts",
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
        const roles = [...new Set(args.roles)].sort();
        ctx.set(accountKey(address), encodeAccount({ publicKey: args.publicKey, org: args.org, roles, nonce: 0 }));
        ctx.emit("registered", { address, org: args.org, roles });
        return { address };
      },
    }),
  },
};
