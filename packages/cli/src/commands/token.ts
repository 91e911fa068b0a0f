/** `tally token create | mint | burn | transfer | freeze | unfreeze | balance | info` (spec/modules/tokens.md). */
import { addressOf, getSuite, parseTokenAmount, TallyError, TOKEN_SYMBOL_RE } from "@tally/core";
import { AccountSigner, type SubmitResult, TallyClient } from "@tally/sdk";
import { CommandFailure, printJson, readKey } from "../io.js";

interface Signed {
  readonly key: string;
  readonly rpc: string;
  readonly symbol: string;
}

function checkSymbol(symbol: string): string {
  if (!TOKEN_SYMBOL_RE.test(symbol)) throw new CommandFailure(`--symbol must match ${TOKEN_SYMBOL_RE}`);
  return symbol;
}

/** A decimal amount as typed, checked like the node checks it. */
function checkAmount(text: string, flag: string, positive = true): bigint {
  try {
    return parseTokenAmount(text, flag, positive);
  } catch (err) {
    if (err instanceof TallyError) throw new CommandFailure(`${flag}: ${err.message}`);
    throw err;
  }
}

async function signer(options: Signed): Promise<AccountSigner> {
  checkSymbol(options.symbol);
  return AccountSigner.connect(new TallyClient(options.rpc), readKey(options.key));
}

/** Prints `{tx, height, ...value}` of an ok result; a failed one exits 1 with its code, message and details. */
function report(method: string, outcome: SubmitResult): void {
  if (outcome.status !== "committed") throw new CommandFailure(`transaction ${outcome.hash} is ${outcome.status}`);
  if (outcome.result.status !== "ok") {
    throw new CommandFailure(
      `token ${method} failed: ${outcome.result.code}: ${outcome.result.message} ${JSON.stringify(outcome.result.value)}`,
    );
  }
  printJson({ tx: outcome.hash, height: outcome.height, ...(outcome.result.value as object) });
}

export async function create(options: Signed & { name: string; decimals: string; maxSupply?: string }): Promise<void> {
  if (!/^(0|[1-9][0-9]?)$/.test(options.decimals) || Number(options.decimals) > 18) throw new CommandFailure("--decimals must be 0 to 18");
  const maxSupply = options.maxSupply === undefined ? undefined : checkAmount(options.maxSupply, "--max-supply", false);
  const s = await signer(options);
  report(
    "create",
    await s.tokens.create({
      symbol: options.symbol,
      name: options.name,
      decimals: Number(options.decimals),
      ...(maxSupply === undefined ? {} : { maxSupply }),
    }),
  );
}

export async function mint(options: Signed & { to: string; amount: string }): Promise<void> {
  const amount = checkAmount(options.amount, "--amount");
  report("mint", await (await signer(options)).tokens.mint(options.symbol, options.to, amount));
}

export async function burn(options: Signed & { amount: string }): Promise<void> {
  const amount = checkAmount(options.amount, "--amount");
  report("burn", await (await signer(options)).tokens.burn(options.symbol, amount));
}

export async function transfer(options: Signed & { to: string; amount: string }): Promise<void> {
  const amount = checkAmount(options.amount, "--amount");
  report("transfer", await (await signer(options)).tokens.transfer(options.symbol, options.to, amount));
}

export async function freeze(options: Signed & { account: string }): Promise<void> {
  report("freeze", await (await signer(options)).tokens.freeze(options.symbol, options.account));
}

export async function unfreeze(options: Signed & { account: string }): Promise<void> {
  report("unfreeze", await (await signer(options)).tokens.unfreeze(options.symbol, options.account));
}

/** The balance of --address (or of the --key file's account), read with its state proof checked. */
export async function balance(options: { rpc: string; symbol: string; address?: string; key?: string; height?: string }): Promise<void> {
  checkSymbol(options.symbol);
  if ((options.address === undefined) === (options.key === undefined)) throw new CommandFailure("give either --address or --key");
  let address = options.address;
  if (address === undefined) {
    const key = readKey(options.key as string);
    address = addressOf(getSuite(key.suite), key.publicKey);
  }
  const client = new TallyClient(options.rpc);
  if (options.height !== undefined && !/^[0-9]+$/.test(options.height)) throw new CommandFailure("--height must be a block height");
  const height = options.height === undefined ? undefined : Number(options.height);
  const { value, view } = await client.tokens.balanceWithProof(options.symbol, address, height === undefined ? {} : { height });
  printJson({ symbol: options.symbol, address, balance: value.toString(), height: view.height, stateRoot: view.stateRoot });
}

/** The token record; amounts as decimal strings. */
export async function info(options: { rpc: string; symbol: string }): Promise<void> {
  const token = await new TallyClient(options.rpc).tokens.info(checkSymbol(options.symbol));
  if (token === null) throw new CommandFailure(`NO_SUCH_TOKEN: no token ${options.symbol}`);
  printJson({ ...token, maxSupply: token.maxSupply === null ? null : token.maxSupply.toString(), supply: token.supply.toString() });
}
