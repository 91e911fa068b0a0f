/**
 * The `tokens` module from a client (spec/modules/tokens.md). Calls are signed by an AccountSigner
 * (`signer.tokens`); reads come from state with their sparse Merkle proofs (`client.tokens`).
 * Amounts are bigint (or decimal strings) and never JavaScript numbers.
 */
import {
  decode,
  decodeSmtProof,
  decodeTokenBalance,
  decodeTokenRecord,
  fromHex,
  type Genesis,
  getSuite,
  parseTokenAmount,
  TallyError,
  TOKEN_SYMBOL_RE,
  type TokenRecord,
  toHex,
  tokenBalanceKey,
  tokenFrozenKey,
  tokenKey,
  type Value,
  verifySmtProof,
} from "@tally/core";
import type { SubmitOptions, TallyClient } from "./client.js";
import type { AccountSigner } from "./signer.js";
import type { StateView, SubmitResult } from "./types.js";

export type TokenAmount = bigint | string;

/** A token record as read from state; amounts exact. */
export type TokenInfo = TokenRecord;

export interface TokenReadOptions {
  /** Read at this height (default: the latest). */
  readonly height?: number;
  /**
   * A state root you trust (e.g. `verifyTxReceipt(...).header.stateRoot`) at `height`: the proof must
   * verify against it. Without it the proof is checked against the root the node reports, which
   * proves the answer is consistent with that root but not that the root is the chain's.
   */
  readonly trustedStateRoot?: Uint8Array;
}

export interface ProvenTokenValue<T> {
  readonly value: T;
  readonly view: StateView;
}

/** Wire form of an amount: a decimal string, checked like the node checks it. */
function wireAmount(amount: TokenAmount, field: string, positive: boolean): string {
  const text = typeof amount === "bigint" ? amount.toString() : amount;
  parseTokenAmount(text, field, positive);
  return text;
}

function symbolArg(symbol: string): string {
  if (!TOKEN_SYMBOL_RE.test(symbol)) throw new TallyError("BAD_ARGS", `symbol must match ${TOKEN_SYMBOL_RE}`, { field: "symbol" });
  return symbol;
}

function addressArg(address: string): string {
  if (!/^[0-9a-f]{40}$/.test(address)) throw new TallyError("BAD_ARGS", "an address is 40 lowercase hex characters", { field: "address" });
  return address;
}

type HashFn = (bytes: Uint8Array) => Uint8Array;

function provenValue(hash: HashFn, stateRoot: Uint8Array, key: Uint8Array, view: StateView): Uint8Array | null {
  if (view.key !== toHex(key)) throw new TallyError("BAD_PROOF", "the node answered for another key", { key: view.key });
  const value = view.value === null ? null : fromHex(view.value);
  let ok = false;
  try {
    ok = verifySmtProof(hash, stateRoot, key, value, decodeSmtProof(decode(fromHex(view.proof))));
  } catch {
    ok = false;
  }
  if (!ok) throw new TallyError("BAD_PROOF", "state proof does not verify", { key: view.key });
  return value;
}

/**
 * Offline: the value of state `key` in `view` (null: absent), proven against a state root you trust.
 * Throws BAD_PROOF if the view is for another key or its proof does not verify.
 */
export function verifyStateEntry(genesis: Genesis, trustedStateRoot: Uint8Array, key: Uint8Array, view: StateView): Uint8Array | null {
  return provenValue(genesis.suite.hash, trustedStateRoot, key, view);
}

/** Offline: a balance from a state view, proven against a state root you trust. */
export function verifyTokenBalance(
  genesis: Genesis,
  trustedStateRoot: Uint8Array,
  symbol: string,
  address: string,
  view: StateView,
): bigint {
  return decodeTokenBalance(verifyStateEntry(genesis, trustedStateRoot, tokenBalanceKey(symbol, address), view));
}

/** Reads of the tokens module, each proven against a state root (see TokenReadOptions). */
export class TokenReads {
  private hash: HashFn | undefined;

  constructor(private readonly client: TallyClient) {}

  private async proven(key: Uint8Array, options: TokenReadOptions): Promise<{ value: Uint8Array | null; view: StateView }> {
    if (this.hash === undefined) this.hash = getSuite((await this.client.status()).crypto).hash;
    const view = await this.client.state(toHex(key), options.height);
    const root = options.trustedStateRoot ?? fromHex(view.stateRoot);
    return { value: provenValue(this.hash, root, key, view), view };
  }

  /** The balance of `address` (0 when it holds none), with the state view that proves it. */
  async balanceWithProof(symbol: string, address: string, options: TokenReadOptions = {}): Promise<ProvenTokenValue<bigint>> {
    const { value, view } = await this.proven(tokenBalanceKey(symbolArg(symbol), addressArg(address)), options);
    return { value: decodeTokenBalance(value), view };
  }

  async balance(symbol: string, address: string, options: TokenReadOptions = {}): Promise<bigint> {
    return (await this.balanceWithProof(symbol, address, options)).value;
  }

  /** The token record, or null if no token has this symbol. */
  async info(symbol: string, options: TokenReadOptions = {}): Promise<TokenInfo | null> {
    const { value } = await this.proven(tokenKey(symbolArg(symbol)), options);
    return value === null ? null : decodeTokenRecord(value);
  }

  async isFrozen(symbol: string, address: string, options: TokenReadOptions = {}): Promise<boolean> {
    return (await this.proven(tokenFrozenKey(symbolArg(symbol), addressArg(address)), options)).value !== null;
  }
}

/** Calls of the tokens module, signed by one account. They wait for commit unless `wait: false`. */
export class TokenCalls {
  constructor(private readonly signer: AccountSigner) {}

  private call(method: string, args: Record<string, Value>, options: SubmitOptions): Promise<SubmitResult> {
    return this.signer.send("tokens", method, args, {
      wait: options.wait ?? true,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  /** Creates a token (needs the `issuer` role); the signer becomes its issuer. */
  create(
    token: { symbol: string; name: string; decimals: number; maxSupply?: TokenAmount },
    options: SubmitOptions = {},
  ): Promise<SubmitResult> {
    const args: Record<string, Value> = { symbol: symbolArg(token.symbol), name: token.name, decimals: token.decimals };
    if (token.maxSupply !== undefined) args.maxSupply = wireAmount(token.maxSupply, "maxSupply", false);
    return this.call("create", args, options);
  }

  mint(symbol: string, to: string, amount: TokenAmount, options: SubmitOptions = {}): Promise<SubmitResult> {
    return this.call("mint", { symbol: symbolArg(symbol), to, amount: wireAmount(amount, "amount", true) }, options);
  }

  burn(symbol: string, amount: TokenAmount, options: SubmitOptions = {}): Promise<SubmitResult> {
    return this.call("burn", { symbol: symbolArg(symbol), amount: wireAmount(amount, "amount", true) }, options);
  }

  transfer(symbol: string, to: string, amount: TokenAmount, options: SubmitOptions = {}): Promise<SubmitResult> {
    return this.call("transfer", { symbol: symbolArg(symbol), to, amount: wireAmount(amount, "amount", true) }, options);
  }

  freeze(symbol: string, account: string, options: SubmitOptions = {}): Promise<SubmitResult> {
    return this.call("freeze", { symbol: symbolArg(symbol), account }, options);
  }

  unfreeze(symbol: string, account: string, options: SubmitOptions = {}): Promise<SubmitResult> {
    return this.call("unfreeze", { symbol: symbolArg(symbol), account }, options);
  }
}
