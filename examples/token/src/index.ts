/**
 * A fungible token as a contract: a fixed supply minted to the deployer at `init`, transfers,
 * and allowances so that another contract (examples/escrow) can move tokens it was approved for.
 * Amounts are JSON integers up to 2^53 - 1: a contract that needs more would carry decimal strings
 * and use BigInt.
 */
import { caller, emit, require, state } from "@tally/contract";

interface Meta {
  symbol: string;
  supply: number;
}

const ADDRESS_RE = /^[0-9a-f]{40}$/;

function _amount(value: unknown, field: string): number {
  require(typeof value === "number" && Number.isSafeInteger(value) && value > 0, `${field} must be a positive integer`);
  return value;
}

function _address(value: unknown, field: string): string {
  require(typeof value === "string" && ADDRESS_RE.test(value), `${field} must be an address (40 lowercase hex characters)`);
  return value;
}

function _balance(address: string): number {
  return state.get<number>(`bal/${address}`) ?? 0;
}

function _move(from: string, to: string, amount: number): void {
  const have = _balance(from);
  require(have >= amount, `insufficient balance: ${have} < ${amount}`);
  state.set(`bal/${from}`, have - amount);
  state.set(`bal/${to}`, _balance(to) + amount);
  emit("transfer", { from, to, amount });
}

export function init(args: { symbol: string; supply: number }): void {
  require(typeof args?.symbol === "string" && /^[A-Z]{1,12}$/.test(args.symbol), "symbol must be 1 to 12 capital letters");
  const supply = _amount(args.supply, "supply");
  const owner = caller().address;
  state.set("meta", { symbol: args.symbol, supply } satisfies Meta);
  state.set(`bal/${owner}`, supply);
  emit("transfer", { from: null, to: owner, amount: supply });
}

/** Sends `amount` from the caller (an account or a contract) to `to`. */
export function transfer(args: { to: string; amount: number }): number {
  const from = caller().address;
  _move(from, _address(args?.to, "to"), _amount(args?.amount, "amount"));
  return _balance(from);
}

/** Lets `spender` move up to `amount` of the caller's tokens (replaces any earlier allowance). */
export function approve(args: { spender: string; amount: number }): void {
  const owner = caller().address;
  const spender = _address(args?.spender, "spender");
  require(typeof args.amount === "number" && Number.isSafeInteger(args.amount) && args.amount >= 0, "amount must be an integer >= 0");
  state.set(`allow/${owner}/${spender}`, args.amount);
  emit("approval", { owner, spender, amount: args.amount });
}

/** Moves `amount` from `from` to `to` on behalf of the caller, within the allowance `from` gave it. */
export function transferFrom(args: { from: string; to: string; amount: number }): void {
  const spender = caller().address;
  const from = _address(args?.from, "from");
  const amount = _amount(args.amount, "amount");
  const key = `allow/${from}/${spender}`;
  const allowed = state.get<number>(key) ?? 0;
  require(allowed >= amount, `allowance exceeded: ${allowed} < ${amount}`);
  state.set(key, allowed - amount);
  _move(from, _address(args.to, "to"), amount);
}

export function balanceOf(args: { address: string }): number {
  return _balance(_address(args?.address, "address"));
}

export function allowance(args: { owner: string; spender: string }): number {
  return state.get<number>(`allow/${_address(args?.owner, "owner")}/${_address(args.spender, "spender")}`) ?? 0;
}

export function info(): Meta | null {
  return state.get<Meta>("meta");
}
