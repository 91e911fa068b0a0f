/**
 * Token amounts and records (spec/modules/tokens.md), shared by the node's `tokens` module and by
 * clients that read balances from state proofs. Amounts are exact: decimal strings on the wire,
 * bigint in code, 32-byte unsigned big-endian byte strings (inside canonical CBOR) in state.
 */
import { decode, encode, isValueMap, type Value } from "./encoding.js";
import { TallyError } from "./errors.js";

/** A token symbol: an upper-case letter, then 1 to 11 upper-case letters or digits. */
export const TOKEN_SYMBOL_RE = /^[A-Z][A-Z0-9]{1,11}$/;
/** An amount on the wire: a decimal string of 1 to 39 digits without leading zeros. */
export const TOKEN_AMOUNT_RE = /^(0|[1-9][0-9]{0,38})$/;
/** The largest amount, balance or supply: 10^39 - 1. */
export const TOKEN_AMOUNT_MAX = 10n ** 39n - 1n;
export const TOKEN_NAME_LENGTH_MAX = 64;
export const TOKEN_DECIMALS_MAX = 18;
/** Width of an amount in state. */
export const TOKEN_AMOUNT_BYTES = 32;

/** Parses a wire amount; BAD_ARGS (naming `field`) unless it matches TOKEN_AMOUNT_RE (and is > 0 when `positive`). */
export function parseTokenAmount(text: unknown, field = "amount", positive = true): bigint {
  if (typeof text !== "string" || !TOKEN_AMOUNT_RE.test(text)) {
    throw new TallyError("BAD_ARGS", `${field} must be a decimal string of at most 39 digits without leading zeros`, { field });
  }
  const value = BigInt(text);
  if (positive && value === 0n) throw new TallyError("BAD_ARGS", `${field} must be greater than 0`, { field });
  return value;
}

/** 32-byte unsigned big-endian. */
export function tokenAmountToBytes(value: bigint): Uint8Array {
  if (value < 0n || value > TOKEN_AMOUNT_MAX) throw new TallyError("BAD_ARGS", "amount out of range");
  const out = new Uint8Array(TOKEN_AMOUNT_BYTES);
  let v = value;
  for (let i = TOKEN_AMOUNT_BYTES - 1; i >= 0 && v > 0n; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function tokenAmountFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length !== TOKEN_AMOUNT_BYTES) throw new TallyError("BAD_ENCODING", "a token amount is 32 bytes");
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** State value of a balance key: canonical CBOR of the 32-byte amount. */
export function encodeTokenBalance(value: bigint): Uint8Array {
  return encode(tokenAmountToBytes(value));
}

/** A balance key's value as read from state; an absent key (null) is a zero balance. */
export function decodeTokenBalance(value: Uint8Array | null): bigint {
  if (value === null) return 0n;
  const bytes = decode(value);
  if (!(bytes instanceof Uint8Array)) throw new TallyError("BAD_ENCODING", "a token balance is a byte string");
  return tokenAmountFromBytes(bytes);
}

export interface TokenRecord {
  readonly symbol: string;
  readonly issuer: string;
  readonly name: string;
  readonly decimals: number;
  /** null: no cap beyond TOKEN_AMOUNT_MAX. */
  readonly maxSupply: bigint | null;
  readonly supply: bigint;
}

export function encodeTokenRecord(t: TokenRecord): Uint8Array {
  return encode({
    symbol: t.symbol,
    issuer: t.issuer,
    name: t.name,
    decimals: t.decimals,
    maxSupply: t.maxSupply === null ? null : tokenAmountToBytes(t.maxSupply),
    supply: tokenAmountToBytes(t.supply),
  });
}

export function decodeTokenRecord(bytes: Uint8Array): TokenRecord {
  const v = decode(bytes);
  if (!isValueMap(v)) throw new TallyError("BAD_ENCODING", "a token record is a map");
  const m = v as { readonly [key: string]: Value };
  const maxSupply = m.maxSupply;
  return {
    symbol: m.symbol as string,
    issuer: m.issuer as string,
    name: m.name as string,
    decimals: m.decimals as number,
    maxSupply: maxSupply === null || maxSupply === undefined ? null : tokenAmountFromBytes(maxSupply as Uint8Array),
    supply: tokenAmountFromBytes(m.supply as Uint8Array),
  };
}
