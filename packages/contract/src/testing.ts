/**
 * `@tally/contract/testing`: an in-memory chain for a contract's tests (`tally contract test`, docs/contracts.md).
 * It runs the node's real execution engine and built-in modules — the `contracts` module with its
 * QuickJS sandbox, gas metering and limits included — over state held in memory. Each call is signed
 * by a genesis account and executed as its own block, exactly as a node would execute it, so a test
 * that passes here exercises the same code path as the deployed contract. Node-only (unlike the
 * contract API in `@tally/contract`).
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  addressOf,
  type CryptoSuite,
  type ErrorCode,
  type Genesis,
  getSuite,
  type JsonValue,
  type KeyPair,
  LIMITS,
  loadGenesis,
  type SmtRoot,
  type SuiteId,
  signTx,
  TallyError,
  type TxResult,
  toHex,
  utf8,
  type Value,
  valueToJson,
  verifyTxBytes,
} from "@tally/core";
import { BUILTIN_MODULES, ExecutionEngine, MemoryState, type Module } from "@tally/node";

/** The environment variable through which `tally contract test` tells tests where the bundle it built is. */
export const CONTRACT_BUNDLE_ENV = "TALLY_CONTRACT_BUNDLE";

/** Bundles of the contracts a project depends on, as JSON { name: file }. */
export const CONTRACT_DEPS_ENV = "TALLY_CONTRACT_DEPS";

/** And through this one which crypto suite the chain uses (`--crypto`). */
export const CONTRACT_CRYPTO_ENV = "TALLY_CONTRACT_CRYPTO";

function defaultSuite(): SuiteId {
  const fromEnv = process.env[CONTRACT_CRYPTO_ENV];
  return fromEnv === "sm2" ? "sm2" : "ed25519";
}

/** Gas given to each deploy and call unless the test says otherwise: the most a transaction may offer. */
export const DEFAULT_TEST_GAS: number = LIMITS.contractGasLimitMax;

const GENESIS_TIME_MS = 1_700_000_000_000;
const BLOCK_INTERVAL_MS = 1_000;
const ADMIN_ORG = "consortium";

export interface TestAccountSpec {
  readonly name: string;
  /** Organisation id (created if new); default "consortium". */
  readonly org?: string;
  readonly roles?: readonly string[];
}

export interface TestChainOptions {
  /** Default: the suite `tally contract test --crypto` chose, else ed25519. */
  readonly crypto?: SuiteId;
  /** Accounts besides `admin` (org "consortium", roles admin and org-admin). */
  readonly accounts?: readonly TestAccountSpec[];
  readonly chainId?: string;
  /** The modules to run (default: the node's built-in modules, as a node runs them). */
  readonly modules?: readonly Module[];
}

export interface TestAccount {
  readonly name: string;
  readonly address: string;
  readonly org: string;
  readonly roles: readonly string[];
  readonly key: KeyPair;
}

/**
 * A transaction's result with values as JSON (bytes as "0x…" hex, big integers as decimal strings).
 * For a contract call, `value` is what the method returned and `gasUsed` the gas the call used (also
 * on failure); for a deploy, `value` is { address, codeHash, version, gasUsed }. Events of a contract
 * are `{ module: "contracts", name, data: { contract, data } }`: the emitting contract's address and
 * what it emitted.
 */
export interface TestResult {
  readonly status: "ok" | "failed";
  /** The failure's error code (CONTRACT_ERROR when the contract threw, OUT_OF_GAS, …), null when ok. */
  readonly code: string | null;
  readonly message: string | null;
  readonly value: JsonValue;
  readonly gasUsed: number | null;
  readonly events: ReadonlyArray<{ module: string; name: string; data: JsonValue }>;
  readonly height: number;
  readonly txHash: string;
}

export interface CallOptions {
  /** The signing account (default: admin). */
  readonly from?: TestAccount | string;
  readonly gasLimit?: number;
}

export interface DeployOptions extends CallOptions {
  readonly initArgs?: JsonValue;
}

/** The outcome of a successful deploy, and a handle to call the contract. */
export class TestContract {
  constructor(
    readonly chain: ContractTestChain,
    readonly address: string,
    readonly codeHash: string,
    readonly version: number,
    readonly deployResult: TestResult,
  ) {}

  /** Calls `method` in a transaction; a failed call is returned, not thrown (see `invoke`). */
  call(method: string, args: JsonValue = null, options: CallOptions = {}): TestResult {
    return this.chain.call(this.address, method, args, options);
  }

  /** Calls `method` and returns its value; throws a TallyError with the failure's code and message if it failed. */
  invoke<T extends JsonValue = JsonValue>(method: string, args: JsonValue = null, options: CallOptions = {}): T {
    return ok(this.call(method, args, options)).value as T;
  }

  /** Runs `method` against the latest state without a transaction (the `simulate` query): nothing is stored. */
  simulate<T extends JsonValue = JsonValue>(method: string, args: JsonValue = null, options: CallOptions = {}): T {
    return this.chain.simulate<T>(this.address, method, args, options);
  }

  /** A state value of this contract (JSON), or null. */
  state<T extends JsonValue = JsonValue>(key: string): T | null {
    return this.chain.contractState<T>(this.address, key);
  }
}

/** Throws the failure of `result` as a TallyError; returns it when it succeeded. */
export function ok(result: TestResult): TestResult {
  if (result.status !== "ok") {
    throw new TallyError((result.code ?? "INTERNAL") as ErrorCode, result.message ?? "failed", { txHash: result.txHash });
  }
  return result;
}

/**
 * A contract bundle for a test. Without `name`: this project's, the bundle `tally contract test` has
 * just built (`$TALLY_CONTRACT_BUNDLE`, else dist/contract.js in the working directory). With `name`:
 * a contract this project lists under `"tally": { "contracts": { name: "../dir" } }` in its
 * package.json, which `tally contract test` builds too (`$TALLY_CONTRACT_DEPS`).
 */
export function contractCode(name?: string): string {
  let file: string;
  if (name === undefined) {
    const fromEnv = process.env[CONTRACT_BUNDLE_ENV];
    file = fromEnv !== undefined && fromEnv !== "" ? fromEnv : join(resolve("."), "dist", "contract.js");
  } else {
    const deps = JSON.parse(process.env[CONTRACT_DEPS_ENV] ?? "{}") as Record<string, string>;
    const dep = Object.hasOwn(deps, name) ? deps[name] : undefined;
    if (dep === undefined) {
      throw new Error(
        `no contract dependency ${name}: list it in package.json "tally": { "contracts": { "${name}": "<dir>" } } and run tally contract test`,
      );
    }
    file = dep;
  }
  if (!existsSync(file)) throw new Error(`no contract bundle at ${file}: run \`tally contract test\` (or \`tally contract build\`) first`);
  return readFileSync(file, "utf8");
}

function gasOf(value: JsonValue): number | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  return typeof value.gasUsed === "number" ? value.gasUsed : null;
}

/** `unwrap`: a contract call's `{ value, gasUsed }` becomes value = the method's value. */
function toResult(result: TxResult, height: number, unwrap: boolean): TestResult {
  const value = valueToJson(result.value);
  const inner = unwrap && result.status === "ok" && value !== null && typeof value === "object" && !Array.isArray(value);
  return {
    status: result.status,
    code: result.code,
    message: result.message,
    value: inner ? ((value as { value?: JsonValue }).value ?? null) : value,
    gasUsed: gasOf(value),
    events: result.events.map((e) => ({ module: e.module, name: e.name, data: valueToJson(e.data) })),
    height,
    txHash: toHex(result.txHash),
  };
}

/**
 * A one-validator chain in memory with the node's engine and modules. Accounts are declared up front
 * (keys derived from their names, so runs are reproducible); every call is one block whose time is
 * the genesis time plus one second per block, plus whatever `advanceTime` added.
 */
export class ContractTestChain {
  readonly suite: CryptoSuite;
  readonly genesis: Genesis;
  readonly admin: TestAccount;
  private readonly engine: ExecutionEngine;
  private readonly state = new MemoryState();
  private readonly accounts = new Map<string, TestAccount>();
  private readonly nonces = new Map<string, number>();
  private heightNow = 0;
  private timeMs = GENESIS_TIME_MS;

  constructor(options: TestChainOptions = {}) {
    this.suite = getSuite(options.crypto ?? defaultSuite());
    const make = (spec: TestAccountSpec): TestAccount => {
      const key = this.suite.keyPairFromPrivate(this.suite.hash(utf8(`tally-contract-test/${this.suite.id}/${spec.name}`)));
      return {
        name: spec.name,
        address: addressOf(this.suite, key.publicKey),
        org: spec.org ?? ADMIN_ORG,
        roles: [...(spec.roles ?? [])],
        key,
      };
    };
    this.admin = make({ name: "admin", roles: ["admin", "org-admin"] });
    this.accounts.set("admin", this.admin);
    for (const spec of options.accounts ?? []) {
      if (this.accounts.has(spec.name)) throw new Error(`account ${spec.name} declared twice`);
      this.accounts.set(spec.name, make(spec));
    }
    const orgs = [...new Set([...this.accounts.values()].map((a) => a.org))];
    const validator = this.suite.keyPairFromPrivate(this.suite.hash(utf8(`tally-contract-test/${this.suite.id}/validator`)));
    this.genesis = loadGenesis({
      chainId: options.chainId ?? "tally-contract-test",
      crypto: this.suite.id,
      genesisTimeMs: GENESIS_TIME_MS,
      validators: [{ name: "node0", publicKey: toHex(validator.publicKey), power: 1 }],
      orgs: orgs.map((id) => ({ id, name: id })),
      accounts: [...this.accounts.values()].map((a) => ({ publicKey: toHex(a.key.publicKey), org: a.org, roles: [...a.roles] })),
    });
    this.engine = new ExecutionEngine(this.suite, this.genesis.doc.chainId, options.modules ?? BUILTIN_MODULES);
    this.state.apply(this.engine.genesisState(this.genesis, this.state));
  }

  get height(): number {
    return this.heightNow;
  }

  /** Time of the latest block. */
  get blockTimeMs(): number {
    return this.timeMs;
  }

  /** A declared account by name (throws for an unknown name). */
  account(name: string): TestAccount {
    const a = this.accounts.get(name);
    if (a === undefined) throw new Error(`no account ${name}: declare it in new ContractTestChain({ accounts })`);
    return a;
  }

  /** Moves the clock: the next block's time is `ms` later than it would have been. */
  advanceTime(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0) throw new Error("advanceTime takes a non-negative integer of milliseconds");
    this.timeMs += ms;
  }

  private signer(from: TestAccount | string | undefined): TestAccount {
    if (from === undefined) return this.admin;
    return typeof from === "string" ? this.account(from) : from;
  }

  /** Signs and executes one transaction of any module as its own block. */
  send(module: string, method: string, args: Value, from?: TestAccount | string): TestResult {
    return this.execute(module, method, args, from, false);
  }

  private execute(module: string, method: string, args: Value, from: TestAccount | string | undefined, unwrap: boolean): TestResult {
    const who = this.signer(from);
    const nonce = this.nonces.get(who.address) ?? 0;
    const { bytes } = signTx(this.suite, who.key, { chainId: this.genesis.doc.chainId, nonce, module, method, args });
    const env = verifyTxBytes(this.suite, this.genesis.doc.chainId, bytes);
    const height = this.heightNow + 1;
    const timeMs = this.timeMs + BLOCK_INTERVAL_MS;
    const prevStateRoot = this.state.root as SmtRoot;
    const out = this.engine.executeBlock({ height, timeMs, prevStateRoot, txs: [env] }, this.state.read, this.state);
    const [skipped] = out.skipped;
    if (skipped !== undefined) throw skipped.reason;
    const [result] = out.results;
    if (result === undefined) throw new Error("the engine returned no result");
    this.state.apply(out);
    this.nonces.set(who.address, nonce + 1);
    this.heightNow = height;
    this.timeMs = timeMs;
    return toResult(result, height, unwrap);
  }

  /** Deploys contract code (default: the bundle `tally contract build` wrote); throws if the deploy failed. */
  deploy(code: string = contractCode(), options: DeployOptions = {}): TestContract {
    const args: Record<string, Value> = { code, gasLimit: options.gasLimit ?? DEFAULT_TEST_GAS };
    if (options.initArgs !== undefined) args.initArgs = options.initArgs;
    const result = ok(this.send("contracts", "deploy", args, options.from));
    const v = result.value as { address: string; codeHash: string; version: number };
    return new TestContract(this, v.address, v.codeHash, v.version, result);
  }

  /** Deploys and returns the result even when it failed (for tests of refused code). */
  tryDeploy(code: string, options: DeployOptions = {}): TestResult {
    const args: Record<string, Value> = { code, gasLimit: options.gasLimit ?? DEFAULT_TEST_GAS };
    if (options.initArgs !== undefined) args.initArgs = options.initArgs;
    return this.send("contracts", "deploy", args, options.from);
  }

  /** A handle on an already deployed contract. */
  at(address: string): TestContract {
    const info = this.query("contracts", "contract", { address }) as { codeHash: string; version: number };
    return new TestContract(this, address, info.codeHash, info.version, {
      status: "ok",
      code: null,
      message: null,
      value: null,
      events: [],
      gasUsed: null,
      height: this.heightNow,
      txHash: "",
    });
  }

  call(address: string, method: string, args: JsonValue = null, options: CallOptions = {}): TestResult {
    return this.execute("contracts", "call", { address, method, args, gasLimit: options.gasLimit ?? DEFAULT_TEST_GAS }, options.from, true);
  }

  /** Runs a module query against the latest state, as `as` (a signed query) or anonymously. Throws its TallyError. */
  query(module: string, name: string, args: { [key: string]: JsonValue } = {}, as?: TestAccount | string): JsonValue {
    const { def, parsed } = this.engine.resolveQuery(module, name, args);
    const caller = as === undefined ? null : this.signer(as);
    if (def.roles !== undefined) {
      if (caller === null) throw new TallyError("UNAUTHENTICATED", undefined, { module, query: name });
      if (!def.roles.some((r) => caller.roles.includes(r))) throw new TallyError("FORBIDDEN", undefined, { module, query: name });
    }
    return valueToJson(
      def.run(
        {
          suite: this.suite,
          chainId: this.genesis.doc.chainId,
          height: this.heightNow,
          caller: caller?.address ?? null,
          callerOrg: caller?.org ?? null,
          callerRoles: caller?.roles ?? [],
          get: this.state.read,
          scan: this.state.scan,
        },
        parsed,
      ),
    );
  }

  /**
   * The `simulate` query: runs a method on the latest state as `options.from` (default admin) and
   * returns its value; nothing is stored. There is no block: `block()` inside reports time 0. Gas
   * defaults to the most a simulation may use (LIMITS.contractSimulateGasMax).
   */
  simulate<T extends JsonValue = JsonValue>(address: string, method: string, args: JsonValue = null, options: CallOptions = {}): T {
    const caller = this.signer(options.from);
    const answer = this.query(
      "contracts",
      "simulate",
      { address, method, args, gasLimit: options.gasLimit ?? LIMITS.contractSimulateGasMax },
      caller,
    ) as {
      value: T;
    };
    return answer.value;
  }

  /** A contract's state value (the JSON it stored, parsed), or null when absent. */
  contractState<T extends JsonValue = JsonValue>(address: string, key: string): T | null {
    const answer = this.query("contracts", "state", { address, key }) as { value: string | null };
    return answer.value === null ? null : (JSON.parse(answer.value) as T);
  }
}
