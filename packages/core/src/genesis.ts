/**
 * The genesis document (spec/genesis.md): the one file every node and every offline verifier trusts.
 * It fixes the chain id, the crypto suite, the first validator set, organisations and accounts.
 * Its hash is H(canonical CBOR of the JSON document) and is block 1's `prevHash`.
 */
import { fromHex, toHex } from "./bytes.js";
import { getSuite } from "./crypto/index.js";
import type { CryptoSuite, SuiteId } from "./crypto/suite.js";
import { encode, type Value } from "./encoding.js";
import { TallyError } from "./errors.js";
import { DEFAULT_GOVERNANCE_PARAMS, type GovernanceParams, governanceParamsProblem } from "./governance.js";
import { LIMITS } from "./limits.js";
import { addressOf } from "./tx.js";
import { makeValidatorSet, type ValidatorSet } from "./validators.js";

export interface GenesisValidator {
  readonly name: string;
  readonly publicKey: string;
  readonly power: number;
}

export interface GenesisOrg {
  readonly id: string;
  readonly name: string;
}

export interface GenesisAccount {
  readonly publicKey: string;
  readonly org: string;
  readonly roles: readonly string[];
}

export interface GenesisDoc {
  readonly chainId: string;
  readonly crypto: SuiteId;
  readonly genesisTimeMs: number;
  readonly validators: readonly GenesisValidator[];
  readonly orgs: readonly GenesisOrg[];
  readonly accounts: readonly GenesisAccount[];
  /** Optional (absent: DEFAULT_GOVERNANCE_PARAMS); documents without it hash as they always did. */
  readonly governance?: GovernanceParams;
  /**
   * Optional: the contract engine every node must run (CONTRACT_ENGINE_ID, spec/contracts.md §4).
   * Absent, the first contract transaction records the engine in state instead.
   */
  readonly contractEngine?: string;
}

/** The governance parameters a genesis document starts the chain with. */
export function genesisGovernanceParams(doc: GenesisDoc): GovernanceParams {
  return doc.governance ?? DEFAULT_GOVERNANCE_PARAMS;
}

/** A validated genesis with everything derived from it. */
export interface Genesis {
  readonly doc: GenesisDoc;
  readonly suite: CryptoSuite;
  readonly hash: Uint8Array;
  readonly hashHex: string;
  readonly validators: ValidatorSet;
}

const ID_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const ENGINE_ID_RE = /^[A-Za-z0-9@._/-]{1,128}$/;
/** Organisation ids (genesis orgs and governance `addOrg`). */
export const ORG_ID_RE = ID_RE;
export const ROLE_RE = /^[a-z][a-z0-9-]{0,31}$/;

function fail(message: string, meta: Record<string, string | number> = {}): never {
  throw new TallyError("BAD_GENESIS", message, meta);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], where: string, optional: readonly string[] = []): void {
  for (const key of Object.keys(obj)) if (!allowed.includes(key) && !optional.includes(key)) fail(`unknown field ${where}.${key}`);
  for (const key of allowed) if (!(key in obj)) fail(`missing field ${where}.${key}`);
}

function checkGovernance(governance: unknown): void {
  if (!isObject(governance)) fail("governance must be an object");
  checkKeys(governance, ["threshold", "votingPeriodBlocks"], "governance");
  const problem = governanceParamsProblem({ threshold: governance.threshold, votingPeriodBlocks: governance.votingPeriodBlocks });
  if (problem !== null) fail(`governance: ${problem}`);
}

/** Validates a parsed genesis JSON document. Throws TallyError BAD_GENESIS with the first problem found. */
export function loadGenesis(json: unknown): Genesis {
  if (!isObject(json)) fail("genesis must be a JSON object");
  checkKeys(json, ["chainId", "crypto", "genesisTimeMs", "validators", "orgs", "accounts"], "genesis", ["governance", "contractEngine"]);
  if ("governance" in json) checkGovernance(json.governance);
  if ("contractEngine" in json && (typeof json.contractEngine !== "string" || !ENGINE_ID_RE.test(json.contractEngine))) {
    fail("contractEngine must match [A-Za-z0-9@._/-]{1,128}");
  }
  const { chainId, crypto, genesisTimeMs, validators, orgs, accounts } = json;
  if (typeof chainId !== "string" || !ID_RE.test(chainId)) fail("chainId must match [a-z0-9][a-z0-9._-]{0,63}");
  if (crypto !== "ed25519" && crypto !== "sm2") fail("crypto must be ed25519 or sm2");
  if (typeof genesisTimeMs !== "number" || !Number.isSafeInteger(genesisTimeMs) || genesisTimeMs < 0) {
    fail("genesisTimeMs must be a non-negative integer");
  }
  const suite = getSuite(crypto);
  if (!Array.isArray(validators) || !Array.isArray(orgs) || !Array.isArray(accounts)) {
    fail("validators, orgs and accounts must be arrays");
  }
  if (orgs.length + accounts.length > LIMITS.genesisAccountsMax) fail("too many orgs and accounts");
  const orgIds = new Set<string>();
  for (const org of orgs) {
    if (!isObject(org)) fail("org must be an object");
    checkKeys(org, ["id", "name"], "orgs[]");
    if (typeof org.id !== "string" || !ID_RE.test(org.id)) fail("org id must match [a-z0-9][a-z0-9._-]{0,63}");
    if (typeof org.name !== "string" || org.name.length > 256) fail("org name must be a string");
    if (orgIds.has(org.id)) fail("duplicate org id", { org: org.id });
    orgIds.add(org.id);
  }
  const addresses = new Set<string>();
  for (const account of accounts) {
    if (!isObject(account)) fail("account must be an object");
    checkKeys(account, ["publicKey", "org", "roles"], "accounts[]");
    const publicKey = parseKey(suite, account.publicKey);
    if (typeof account.org !== "string" || !orgIds.has(account.org)) fail("account org must be a declared org");
    if (!Array.isArray(account.roles) || !account.roles.every((r) => typeof r === "string" && ROLE_RE.test(r))) {
      fail("account roles must be role names");
    }
    const address = addressOf(suite, publicKey);
    if (addresses.has(address)) fail("duplicate account", { address });
    addresses.add(address);
  }
  const validatorList = validators.map((v) => {
    if (!isObject(v)) fail("validator must be an object");
    checkKeys(v, ["name", "publicKey", "power"], "validators[]");
    if (typeof v.name !== "string" || v.name.length > 64) fail("validator name must be a string");
    if (typeof v.power !== "number") fail("validator power must be an integer");
    return { publicKey: parseKey(suite, v.publicKey), power: v.power };
  });
  const validatorSet = makeValidatorSet(suite, validatorList);
  const doc = json as unknown as GenesisDoc;
  const hash = suite.hash(encode(doc as unknown as Value));
  return { doc, suite, hash, hashHex: toHex(hash), validators: validatorSet };
}

function parseKey(suite: CryptoSuite, hex: unknown): Uint8Array {
  if (typeof hex !== "string") fail("publicKey must be hex");
  let key: Uint8Array;
  try {
    key = fromHex(hex, suite.publicKeyBytes);
    suite.checkPublicKey(key);
  } catch {
    fail(`publicKey is not a valid ${suite.id} key`, { publicKey: hex.slice(0, 140) });
  }
  return key;
}
