/**
 * Governance (spec/modules/governance.md): member organisations propose changes and vote on them; a
 * proposal that gathers more than the threshold of the members' votes is executed by the chain. The
 * types, parameter rules and state layout live here so that genesis validation, the SDK and offline
 * verifiers read proposals exactly as the node writes them.
 */
import { concatBytes, utf8 } from "./bytes.js";
import { decode, encode, type Value } from "./encoding.js";
import { AssertionFailure, TallyError } from "./errors.js";
import { moduleKey } from "./state-keys.js";

export const GOVERNANCE_MODULE = "governance";

/** Modules governance never freezes: freezing them would make governance itself unusable. */
export const UNFREEZABLE_MODULES: readonly string[] = ["governance", "accounts"];

export const PROPOSAL_DESCRIPTION_MAX = 512;
export const ROLE_DESCRIPTION_MAX = 256;
export const THRESHOLD_DENOMINATOR_MAX = 1000;
export const VOTING_PERIOD_MAX = 1_000_000;

export interface GovernanceParams {
  /** A proposal passes when yes × den > num × members. */
  readonly threshold: readonly [number, number];
  /** A proposal made at height h takes votes and executions up to height h + votingPeriodBlocks. */
  readonly votingPeriodBlocks: number;
}

export const DEFAULT_GOVERNANCE_PARAMS: GovernanceParams = { threshold: [2, 3], votingPeriodBlocks: 1000 };

/** The two parameters a `setParam` proposal may change. */
export const GOVERNANCE_PARAM_NAMES = ["governance.threshold", "governance.votingPeriodBlocks"] as const;
export type GovernanceParamName = (typeof GOVERNANCE_PARAM_NAMES)[number];

export type GovernanceAction =
  | { readonly kind: "addOrg"; readonly id: string; readonly name: string }
  | { readonly kind: "removeOrg"; readonly id: string }
  | { readonly kind: "setValidator"; readonly publicKey: string; readonly power: number }
  | { readonly kind: "grantRole"; readonly address: string; readonly role: string }
  | { readonly kind: "revokeRole"; readonly address: string; readonly role: string }
  | { readonly kind: "defineRole"; readonly role: string; readonly description: string }
  | { readonly kind: "freezeAccount"; readonly address: string }
  | { readonly kind: "unfreezeAccount"; readonly address: string }
  | { readonly kind: "freezeModule"; readonly module: string }
  | { readonly kind: "unfreezeModule"; readonly module: string }
  | { readonly kind: "upgradeContract"; readonly address: string; readonly codeHash: string }
  | { readonly kind: "freezeContract"; readonly address: string }
  | { readonly kind: "unfreezeContract"; readonly address: string }
  | { readonly kind: "setParam"; readonly name: "governance.threshold"; readonly value: readonly [number, number] }
  | { readonly kind: "setParam"; readonly name: "governance.votingPeriodBlocks"; readonly value: number };

export type GovernanceActionKind = GovernanceAction["kind"];

export const GOVERNANCE_ACTION_KINDS: readonly GovernanceActionKind[] = [
  "addOrg",
  "removeOrg",
  "setValidator",
  "grantRole",
  "revokeRole",
  "defineRole",
  "freezeAccount",
  "unfreezeAccount",
  "freezeModule",
  "unfreezeModule",
  "setParam",
  "upgradeContract",
  "freezeContract",
  "unfreezeContract",
];

/** The kinds a regulator (without admin or org-admin) may propose. */
export const REGULATOR_ACTION_KINDS: readonly GovernanceActionKind[] = [
  "freezeAccount",
  "unfreezeAccount",
  "freezeModule",
  "unfreezeModule",
  "freezeContract",
  "unfreezeContract",
];

/**
 * "executed" is final; "passed" means the threshold was reached but the action was refused (lastError)
 * and `governance.execute` may retry until expiry; "rejected" means the threshold can no longer be reached.
 */
export type ProposalStatus = "open" | "passed" | "executed" | "rejected";

export interface ProposalRecord {
  readonly id: number;
  readonly proposer: string;
  readonly proposerOrg: string;
  readonly action: GovernanceAction;
  readonly description: string | null;
  readonly height: number;
  readonly expiresAt: number;
  readonly status: ProposalStatus;
  readonly yes: number;
  readonly no: number;
  readonly lastError: { readonly code: string; readonly message: string } | null;
}

export interface VoteRecord {
  readonly voter: string;
  readonly approve: boolean;
  readonly height: number;
}

// ---- parameters ----------------------------------------------------------------------------------

/** Why `params` are not acceptable, or null. Shared by genesis validation and `setParam`. */
export function governanceParamsProblem(params: { threshold: unknown; votingPeriodBlocks: unknown }): string | null {
  const t = params.threshold;
  if (!Array.isArray(t) || t.length !== 2 || !t.every((x) => typeof x === "number" && Number.isSafeInteger(x) && x > 0)) {
    return "threshold must be [num, den] with positive integers";
  }
  const [num, den] = t as [number, number];
  if (den > THRESHOLD_DENOMINATOR_MAX) return `threshold denominator must be at most ${THRESHOLD_DENOMINATOR_MAX}`;
  if (2 * num < den || num >= den) return "threshold must be at least 1/2 and below 1";
  const p = params.votingPeriodBlocks;
  if (typeof p !== "number" || !Number.isSafeInteger(p) || p < 1 || p > VOTING_PERIOD_MAX) {
    return `votingPeriodBlocks must be an integer from 1 to ${VOTING_PERIOD_MAX}`;
  }
  return null;
}

/** True when `yes` votes out of `members` pass the threshold: strictly more than num/den of the members. */
export function passesThreshold(params: GovernanceParams, yes: number, members: number): boolean {
  const [num, den] = params.threshold;
  return yes * den > num * members;
}

// ---- state keys ----------------------------------------------------------------------------------

function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

/** governance/params -> {threshold: [num, den], votingPeriodBlocks} */
export function governanceParamsKey(): Uint8Array {
  return moduleKey(GOVERNANCE_MODULE, utf8("params"));
}

/** governance/members -> uint: number of member organisations (kept because state cannot be counted in a call). */
export function governanceMembersKey(): Uint8Array {
  return moduleKey(GOVERNANCE_MODULE, utf8("members"));
}

/** governance/next -> uint: the id the next proposal gets (ids start at 1). */
export function proposalCounterKey(): Uint8Array {
  return moduleKey(GOVERNANCE_MODULE, utf8("next"));
}

export function proposalPrefix(): Uint8Array {
  return moduleKey(GOVERNANCE_MODULE, utf8("p/"));
}

/** governance/p/<id u64 BE> -> proposal record (key order is id order). */
export function proposalKey(id: number): Uint8Array {
  return concatBytes(proposalPrefix(), u64(id));
}

export function proposalVotesPrefix(id: number): Uint8Array {
  return moduleKey(GOVERNANCE_MODULE, concatBytes(utf8("v/"), u64(id), utf8("/")));
}

/** governance/v/<id u64 BE>/<org id> -> vote record (one per member organisation). */
export function proposalVoteKey(id: number, org: string): Uint8Array {
  return concatBytes(proposalVotesPrefix(id), utf8(org));
}

// ---- encoding ------------------------------------------------------------------------------------

function corrupt(what: string): never {
  throw new AssertionFailure(`governance state: ${what}`);
}

export function encodeGovernanceParams(p: GovernanceParams): Uint8Array {
  return encode({ threshold: [p.threshold[0], p.threshold[1]], votingPeriodBlocks: p.votingPeriodBlocks });
}

export function decodeGovernanceParams(bytes: Uint8Array): GovernanceParams {
  const v = decode(bytes) as Record<string, Value>;
  if (governanceParamsProblem({ threshold: v.threshold, votingPeriodBlocks: v.votingPeriodBlocks }) !== null) corrupt("bad params");
  const [num, den] = v.threshold as [number, number];
  return { threshold: [num, den], votingPeriodBlocks: v.votingPeriodBlocks as number };
}

export function actionToValue(a: GovernanceAction): Value {
  if (a.kind === "setParam" && Array.isArray(a.value)) return { kind: a.kind, name: a.name, value: [a.value[0], a.value[1]] };
  return { ...a } as Value;
}

/** A proposal as a data-model map: what is stored, and what the module's queries answer. */
export function proposalToValue(p: ProposalRecord): { readonly [key: string]: Value } {
  return {
    id: p.id,
    proposer: p.proposer,
    proposerOrg: p.proposerOrg,
    action: actionToValue(p.action),
    description: p.description,
    height: p.height,
    expiresAt: p.expiresAt,
    status: p.status,
    yes: p.yes,
    no: p.no,
    lastError: p.lastError === null ? null : { code: p.lastError.code, message: p.lastError.message },
  };
}

export function encodeProposal(p: ProposalRecord): Uint8Array {
  return encode(proposalToValue(p));
}

export function decodeProposal(bytes: Uint8Array): ProposalRecord {
  const v = decode(bytes) as Record<string, Value>;
  if (typeof v.id !== "number" || typeof v.status !== "string" || v.action === null || typeof v.action !== "object") {
    corrupt("malformed proposal");
  }
  const lastError = v.lastError as { code: string; message: string } | null;
  return {
    id: v.id,
    proposer: v.proposer as string,
    proposerOrg: v.proposerOrg as string,
    action: v.action as unknown as GovernanceAction,
    description: (v.description as string | null) ?? null,
    height: v.height as number,
    expiresAt: v.expiresAt as number,
    status: v.status as ProposalStatus,
    yes: v.yes as number,
    no: v.no as number,
    lastError: lastError === null || lastError === undefined ? null : { code: lastError.code, message: lastError.message },
  };
}

export function encodeVote(v: VoteRecord): Uint8Array {
  return encode({ voter: v.voter, approve: v.approve, height: v.height });
}

export function decodeVote(bytes: Uint8Array): VoteRecord {
  const v = decode(bytes) as Record<string, Value>;
  return { voter: v.voter as string, approve: v.approve as boolean, height: v.height as number };
}

/** Refusal for bad governance parameters in a `setParam` action. */
export function checkGovernanceParams(params: GovernanceParams, field: string): void {
  const problem = governanceParamsProblem(params);
  if (problem !== null) throw new TallyError("BAD_ARGS", `${field}: ${problem}`, { field });
}
