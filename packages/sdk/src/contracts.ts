/**
 * Smart contracts from a client (docs/contracts.md, spec/contracts.md). `signer.contracts` deploys and
 * calls them in transactions; `client.contracts` reads their records, code and state and simulates a
 * call against the latest state without a transaction. Arguments and results are JSON.
 */
import { type ErrorCode, type JsonValue, LIMITS, TallyError, type Value } from "@tally/core";
import type { QueryOptions, SubmitOptions, TallyClient } from "./client.js";
import type { AccountSigner } from "./signer.js";
import type { ResultView } from "./types.js";

/** Gas for a deploy or call when the caller gives none (spec/contracts.md §7). */
export const DEFAULT_CONTRACT_GAS = 1_000_000;

export interface ContractTxOptions {
  /** Most gas the transaction may use; it fails with OUT_OF_GAS beyond it (default DEFAULT_CONTRACT_GAS). */
  readonly gasLimit?: number;
  readonly timeoutMs?: number;
}

/** A committed contract transaction that succeeded. */
export interface ContractReceipt<T> {
  readonly hash: string;
  readonly height: number;
  readonly index: number;
  readonly value: T;
  readonly events: ResultView["events"];
}

export interface ContractDeployment {
  readonly address: string;
  readonly codeHash: string;
  readonly version: number;
  readonly gasUsed: number;
}

export interface ContractCallValue<T = JsonValue> {
  readonly value: T;
  readonly gasUsed: number;
}

/** What `simulate` answers: the call's value and gas, and the events it would have emitted. */
export interface ContractSimulation<T = JsonValue> extends ContractCallValue<T> {
  readonly events: ReadonlyArray<{ name: string; data: JsonValue }>;
}

/** A contract's record (the `contracts.contract` query). */
export interface ContractInfo {
  readonly address: string;
  /** Hash of the code in force. */
  readonly codeHash: string;
  readonly version: number;
  readonly deployer: string;
  /** Height of the deploy. */
  readonly createdAt: number;
  readonly frozen: boolean;
  /** The latest versions: each one's code and the first height it runs at. */
  readonly versions: ReadonlyArray<{ version: number; codeHash: string; fromHeight: number }>;
}

function gas(limit: number | undefined): number {
  const g = limit ?? DEFAULT_CONTRACT_GAS;
  if (!Number.isSafeInteger(g) || g <= 0) throw new TallyError("BAD_ARGS", "gasLimit must be a positive integer", { field: "gasLimit" });
  return g;
}

function addressArg(address: string): string {
  if (!/^[0-9a-f]{40}$/.test(address))
    throw new TallyError("BAD_ARGS", "a contract address is 40 lowercase hex characters", { field: "address" });
  return address;
}

/**
 * Contract transactions signed by one account. Each waits for its block and returns the result's
 * value; a transaction that was committed but failed (the contract threw, ran out of gas, …) is thrown
 * as a TallyError with the failure's code and message, and `tx`/`height` in its meta.
 */
export class ContractCalls {
  constructor(private readonly signer: AccountSigner) {}

  private async send<T>(method: string, args: Record<string, Value>, options: ContractTxOptions): Promise<ContractReceipt<T>> {
    const submit: SubmitOptions = { wait: true, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) };
    const outcome = await this.signer.send("contracts", method, args, submit);
    if (outcome.status !== "committed") {
      throw new TallyError("TIMEOUT", `contracts.${method} ${outcome.hash} was not committed in time`, { tx: outcome.hash });
    }
    const { result } = outcome;
    if (result.status !== "ok") {
      throw new TallyError((result.code ?? "INTERNAL") as ErrorCode, result.message ?? `contracts.${method} failed`, {
        tx: outcome.hash,
        height: outcome.height,
      });
    }
    return { hash: outcome.hash, height: outcome.height, index: outcome.index, value: result.value as T, events: result.events };
  }

  /** Deploys a bundle (`tally contract build` writes dist/contract.js); `initArgs` go to its `init`. */
  deploy(code: string, options: ContractTxOptions & { initArgs?: JsonValue } = {}): Promise<ContractReceipt<ContractDeployment>> {
    const args: Record<string, Value> = { code, gasLimit: gas(options.gasLimit) };
    if (options.initArgs !== undefined) args.initArgs = options.initArgs;
    return this.send("deploy", args, options);
  }

  /** Calls `method` of the contract at `address` with JSON `args`; the receipt's value is `{ value, gasUsed }`. */
  call<T = JsonValue>(
    address: string,
    method: string,
    args: JsonValue = null,
    options: ContractTxOptions = {},
  ): Promise<ContractReceipt<ContractCallValue<T>>> {
    return this.send("call", { address: addressArg(address), method, args, gasLimit: gas(options.gasLimit) }, options);
  }
}

/** Reads of the contracts module (module queries, answered from the node's replica). */
export class ContractReads {
  constructor(private readonly client: TallyClient) {}

  /** The contract's record, or null when no contract has this address. */
  async info(address: string): Promise<ContractInfo | null> {
    try {
      return (await this.client.query<ContractInfo>("contracts", "contract", { address: addressArg(address) })).value;
    } catch (err) {
      if (err instanceof TallyError && err.code === "NO_SUCH_CONTRACT") return null;
      throw err;
    }
  }

  /** The stored code with this hash (hex), as deployed. */
  async code(hash: string): Promise<string> {
    return (await this.client.query<{ code: string }>("contracts", "code", { hash })).value.code;
  }

  /** A value of the contract's state (the JSON it stored, parsed), or null when the key is absent. */
  async state<T = JsonValue>(address: string, key: string): Promise<T | null> {
    const answer = await this.client.query<{ key: string; value: string | null }>("contracts", "state", {
      address: addressArg(address),
      key,
    });
    return answer.value.value === null ? null : (JSON.parse(answer.value.value) as T);
  }

  /**
   * Runs `method` on the latest state without a transaction and returns what it would return; nothing
   * is stored. Sign it (`signer`) so the contract sees you as its caller. Gas defaults to the most a
   * simulation may use (LIMITS.contractSimulateGasMax).
   */
  async simulate<T = JsonValue>(
    address: string,
    method: string,
    args: JsonValue = null,
    options: QueryOptions & { gasLimit?: number } = {},
  ): Promise<ContractSimulation<T>> {
    const answer = await this.client.query<ContractSimulation<T>>(
      "contracts",
      "simulate",
      { address: addressArg(address), method, args, gasLimit: gas(options.gasLimit ?? LIMITS.contractSimulateGasMax) },
      options.signer === undefined ? {} : { signer: options.signer },
    );
    return answer.value;
  }
}
