/**
 * Tokens (spec/modules/tokens.md): an account with the `issuer` role creates a token; its issuer
 * mints to registered accounts up to an optional maximum supply; holders transfer and burn; the
 * issuer or a `regulator` freezes an account, which then can neither send nor burn. Amounts are
 * exact: decimal strings on the wire, bigint in code, 32-byte big-endian in state.
 */
import {
  accountKey,
  assert,
  decodeTokenBalance,
  decodeTokenRecord,
  encode,
  encodeTokenBalance,
  encodeTokenRecord,
  LIMITS,
  moduleKey,
  parseTokenAmount,
  TallyError,
  TOKEN_AMOUNT_MAX,
  TOKEN_AMOUNT_RE,
  TOKEN_DECIMALS_MAX,
  TOKEN_NAME_LENGTH_MAX,
  TOKEN_SYMBOL_RE,
  type TokenRecord,
  tokenBalanceKey,
  tokenFrozenKey,
  tokenKey,
  utf8,
} from "@tally/core";
import { type CallContext, defineMethod, defineQuery, type Module, type QueryContext, type ReadContext } from "../execution/module.js";
import { type Schema, s } from "../execution/schema.js";

export const ROLE_ISSUER = "issuer";
export const ROLE_REGULATOR = "regulator";

/** An address: 20 bytes in lowercase hex. */
const ADDRESS_RE = /^[0-9a-f]{40}$/;

/** A wire amount (decimal string), parsed to bigint; `positive` refuses 0. */
function amount(positive: boolean): Schema<bigint> {
  const description = `a decimal string matching ${TOKEN_AMOUNT_RE}${positive ? ", greater than 0" : ""}`;
  return {
    description,
    parse(v, path) {
      return parseTokenAmount(v, path || "amount", positive);
    },
  };
}

const symbol = s.string({ maxLength: 12, pattern: TOKEN_SYMBOL_RE });
const address = s.string({ maxLength: 40, pattern: ADDRESS_RE });

const decimals: Schema<number> = {
  description: `an integer from 0 to ${TOKEN_DECIMALS_MAX}`,
  parse(v, path) {
    const n = s.uint().parse(v, path);
    if (n > TOKEN_DECIMALS_MAX) {
      throw new TallyError("BAD_ARGS", `${path} must be at most ${TOKEN_DECIMALS_MAX}`, { field: path, expected: this.description });
    }
    return n;
  },
};

const createArgs = s.object({
  symbol,
  name: s.string({ maxLength: TOKEN_NAME_LENGTH_MAX }),
  decimals,
  maxSupply: s.optional(amount(false)),
});
const mintArgs = s.object({ symbol, to: address, amount: amount(true) });
const burnArgs = s.object({ symbol, amount: amount(true) });
const transferArgs = s.object({ symbol, to: address, amount: amount(true) });
const freezeArgs = s.object({ symbol, account: address });

type Reader = Pick<ReadContext, "get">;

function readToken(ctx: Reader, sym: string): TokenRecord {
  const bytes = ctx.get(tokenKey(sym));
  if (bytes === null) throw new TallyError("NO_SUCH_TOKEN", undefined, { symbol: sym });
  return decodeTokenRecord(bytes);
}

function refuseIfTokenExists(ctx: Reader, sym: string): void {
  if (ctx.get(tokenKey(sym)) !== null) throw new TallyError("TOKEN_EXISTS", undefined, { symbol: sym });
}

function requireAccount(ctx: Reader, addr: string): void {
  if (ctx.get(accountKey(addr)) === null) throw new TallyError("NO_SUCH_ACCOUNT", undefined, { address: addr });
}

function requireIssuer(ctx: CallContext, token: TokenRecord): void {
  if (token.issuer !== ctx.caller) {
    throw new TallyError("FORBIDDEN", `only the issuer of ${token.symbol} may do this`, { symbol: token.symbol, issuer: token.issuer });
  }
}

function refuseIfFrozen(ctx: Reader, sym: string, addr: string): void {
  if (ctx.get(tokenFrozenKey(sym, addr)) !== null) throw new TallyError("ACCOUNT_FROZEN", undefined, { symbol: sym, address: addr });
}

const balanceOf = (ctx: Reader, sym: string, addr: string): bigint => decodeTokenBalance(ctx.get(tokenBalanceKey(sym, addr)));

/** A zero balance is stored as an absent key. */
function setBalance(ctx: CallContext, sym: string, addr: string, value: bigint): void {
  const key = tokenBalanceKey(sym, addr);
  if (value === 0n) ctx.delete(key);
  else ctx.set(key, encodeTokenBalance(value));
}

/** Takes `value` from the caller's balance: refused while frozen or above the balance. */
function debitCaller(ctx: CallContext, sym: string, value: bigint): bigint {
  refuseIfFrozen(ctx, sym, ctx.caller);
  const balance = balanceOf(ctx, sym, ctx.caller);
  if (value > balance) {
    throw new TallyError("INSUFFICIENT_BALANCE", undefined, { symbol: sym, balance: balance.toString(), amount: value.toString() });
  }
  const rest = balance - value;
  setBalance(ctx, sym, ctx.caller, rest);
  return rest;
}

function setFrozen(ctx: CallContext, args: { symbol: string; account: string }, frozen: boolean): Record<string, string> {
  const token = readToken(ctx, args.symbol);
  if (token.issuer !== ctx.caller && !ctx.callerRoles.includes(ROLE_REGULATOR)) {
    throw new TallyError("FORBIDDEN", `only the issuer of ${token.symbol} or a regulator may do this`, {
      symbol: token.symbol,
      issuer: token.issuer,
    });
  }
  requireAccount(ctx, args.account);
  const key = tokenFrozenKey(args.symbol, args.account);
  if (frozen) ctx.set(key, encode(true));
  else ctx.delete(key);
  const data = { symbol: args.symbol, account: args.account, by: ctx.caller };
  ctx.emit(frozen ? "frozen" : "unfrozen", data);
  return data;
}

const listLimit = s.optional(s.uint());

function tokenJson(token: TokenRecord) {
  return {
    symbol: token.symbol,
    issuer: token.issuer,
    name: token.name,
    decimals: token.decimals,
    maxSupply: token.maxSupply === null ? null : token.maxSupply.toString(),
    supply: token.supply.toString(),
  };
}

/** Holders of a token in address order, a page at a time; for its issuer and regulators. */
function holders(ctx: QueryContext, args: { symbol: string; after: string | null; limit: number | null }) {
  const token = readToken(ctx, args.symbol);
  if (ctx.caller === null) throw new TallyError("UNAUTHENTICATED", undefined, { module: "tokens", query: "holders" });
  if (ctx.caller !== token.issuer && !ctx.callerRoles.includes(ROLE_REGULATOR)) {
    throw new TallyError("FORBIDDEN", `only the issuer of ${token.symbol} or a regulator may list its holders`, { symbol: token.symbol });
  }
  const prefix = moduleKey("tokens", utf8(`b/${args.symbol}/`));
  const limit = Math.min(args.limit ?? 100, LIMITS.apiListLimitMax);
  const after = args.after === null ? undefined : tokenBalanceKey(args.symbol, args.after);
  const rows = ctx.scan(prefix, limit, after);
  const items = rows.map(([key, value]) => {
    const holder = new TextDecoder().decode(key.subarray(prefix.length));
    assert(ADDRESS_RE.test(holder), "token balance key without an address");
    return {
      address: holder,
      balance: decodeTokenBalance(value).toString(),
      frozen: ctx.get(tokenFrozenKey(args.symbol, holder)) !== null,
    };
  });
  const last = items.at(-1);
  return { symbol: args.symbol, items, next: items.length === limit && last !== undefined ? last.address : null };
}

export const tokensModule: Module = {
  name: "tokens",
  queries: {
    info: defineQuery({
      description: "A token's record: issuer, name, decimals, supply and maximum supply.",
      args: s.object({ symbol }),
      run: (ctx, args) => tokenJson(readToken(ctx, args.symbol)),
    }),
    balance: defineQuery({
      description: "An account's balance of a token, and whether it is frozen.",
      args: s.object({ symbol, address }),
      run(ctx, args) {
        readToken(ctx, args.symbol);
        const frozen = ctx.get(tokenFrozenKey(args.symbol, args.address)) !== null;
        return { symbol: args.symbol, address: args.address, balance: balanceOf(ctx, args.symbol, args.address).toString(), frozen };
      },
    }),
    holders: defineQuery({
      description: "Every holder of a token with its balance, in address order (the token's issuer or a regulator; signed).",
      args: s.object({ symbol, after: s.optional(address), limit: listLimit }),
      run: holders,
    }),
  },
  methods: {
    create: defineMethod({
      description: "Create a token; the caller (role issuer) becomes its issuer. Symbols are unique.",
      args: createArgs,
      roles: [ROLE_ISSUER],
      precheck(ctx, args) {
        refuseIfTokenExists(ctx, args.symbol);
      },
      run(ctx, args) {
        refuseIfTokenExists(ctx, args.symbol);
        const token: TokenRecord = {
          symbol: args.symbol,
          issuer: ctx.caller,
          name: args.name,
          decimals: args.decimals,
          maxSupply: args.maxSupply,
          supply: 0n,
        };
        ctx.set(tokenKey(args.symbol), encodeTokenRecord(token));
        const maxSupply = args.maxSupply === null ? null : args.maxSupply.toString();
        ctx.emit("created", { symbol: args.symbol, issuer: ctx.caller, name: args.name, decimals: args.decimals, maxSupply });
        return { symbol: args.symbol, issuer: ctx.caller };
      },
    }),
    mint: defineMethod({
      description: "Mint new units to a registered account (the token's issuer only), up to the maximum supply.",
      args: mintArgs,
      run(ctx, args) {
        const token = readToken(ctx, args.symbol);
        requireIssuer(ctx, token);
        requireAccount(ctx, args.to);
        const supply = token.supply + args.amount;
        const cap = token.maxSupply ?? TOKEN_AMOUNT_MAX;
        if (supply > cap) {
          throw new TallyError("SUPPLY_EXCEEDED", undefined, {
            symbol: args.symbol,
            supply: token.supply.toString(),
            maxSupply: cap.toString(),
            amount: args.amount.toString(),
          });
        }
        ctx.set(tokenKey(args.symbol), encodeTokenRecord({ ...token, supply }));
        const balance = balanceOf(ctx, args.symbol, args.to) + args.amount;
        setBalance(ctx, args.symbol, args.to, balance);
        ctx.emit("minted", { symbol: args.symbol, to: args.to, amount: args.amount.toString() });
        return { symbol: args.symbol, supply: supply.toString(), balance: balance.toString() };
      },
    }),
    burn: defineMethod({
      description: "Destroy units of the caller's own balance (not while frozen).",
      args: burnArgs,
      run(ctx, args) {
        const token = readToken(ctx, args.symbol);
        const balance = debitCaller(ctx, args.symbol, args.amount);
        const supply = token.supply - args.amount;
        ctx.set(tokenKey(args.symbol), encodeTokenRecord({ ...token, supply }));
        ctx.emit("burned", { symbol: args.symbol, from: ctx.caller, amount: args.amount.toString() });
        return { symbol: args.symbol, supply: supply.toString(), balance: balance.toString() };
      },
    }),
    transfer: defineMethod({
      description: "Move units from the caller to another registered account (not to itself, not while frozen).",
      args: transferArgs,
      run(ctx, args) {
        readToken(ctx, args.symbol);
        if (args.to === ctx.caller) throw new TallyError("BAD_ARGS", "cannot transfer to oneself", { field: "to" });
        requireAccount(ctx, args.to);
        const balance = debitCaller(ctx, args.symbol, args.amount);
        // Cannot overflow: the sum of all balances is the supply, which is at most TOKEN_AMOUNT_MAX.
        setBalance(ctx, args.symbol, args.to, balanceOf(ctx, args.symbol, args.to) + args.amount);
        ctx.emit("transferred", { symbol: args.symbol, from: ctx.caller, to: args.to, amount: args.amount.toString() });
        return { symbol: args.symbol, balance: balance.toString() };
      },
    }),
    freeze: defineMethod({
      description: "Freeze an account for a token (the token's issuer or a regulator): it can no longer send or burn.",
      args: freezeArgs,
      run(ctx, args) {
        return setFrozen(ctx, args, true);
      },
    }),
    unfreeze: defineMethod({
      description: "Lift a freeze (the token's issuer or a regulator).",
      args: freezeArgs,
      run(ctx, args) {
        return setFrozen(ctx, args, false);
      },
    }),
  },
};
