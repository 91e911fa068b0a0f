/**
 * Governance (spec/modules/governance.md): the member organisations change the consortium by vote.
 * A member's admin (or org-admin) proposes an action; each member organisation votes once; when the
 * yes votes exceed the threshold (default 2/3 of the members) the action is executed in the same
 * transaction, through the owning module's own functions (`asModule`), so its events appear in that
 * receipt. A refused action leaves the proposal "passed" with the error kept, and `execute` retries it
 * until the voting period ends. Regulators may propose freezes only.
 */
import {
  accountKey,
  actionToValue,
  type CryptoSuite,
  DEFAULT_GOVERNANCE_PARAMS,
  decode,
  decodeGovernanceParams,
  decodeProposal,
  decodeVote,
  definedRoleKey,
  encode,
  encodeGovernanceParams,
  encodeProposal,
  encodeVote,
  frozenAccountKey,
  frozenModuleKey,
  GOVERNANCE_ACTION_KINDS,
  GOVERNANCE_MODULE,
  type GovernanceAction,
  type GovernanceActionKind,
  type GovernanceParams,
  genesisGovernanceParams,
  governanceMembersKey,
  governanceParamsKey,
  governanceParamsProblem,
  isBuiltinRole,
  LIMITS,
  moduleKey,
  ORG_ID_RE,
  orgKey,
  PROPOSAL_DESCRIPTION_MAX,
  type ProposalRecord,
  passesThreshold,
  proposalCounterKey,
  proposalKey,
  proposalPrefix,
  proposalToValue,
  proposalVoteKey,
  proposalVotesPrefix,
  REGULATOR_ACTION_KINDS,
  ROLE_DESCRIPTION_MAX,
  ROLE_RE,
  ROLES,
  TallyError,
  UNFREEZABLE_MODULES,
  utf8,
  type Value,
} from "@tally/core";
import { type CallContext, defineMethod, defineQuery, type Module, type QueryContext, type ReadContext } from "../execution/module.js";
import { type Schema, s } from "../execution/schema.js";
import { addOrg, grantRole, readAccount, refuseUnknownRole, removeOrg, revokeRole } from "./accounts.js";
import { applyContractAction, checkContractAction, contractActionFields } from "./contracts.js";
import { checkValidatorChange, setValidator, validatorChangeArgs } from "./validators.js";

type Get = (key: Uint8Array) => Uint8Array | null;

/** Roles whose holders act for their organisation: they vote, execute and propose any action. */
const MEMBER_ROLES: readonly string[] = [ROLES.admin, ROLES.orgAdmin];
const PROPOSER_ROLES: readonly string[] = [...MEMBER_ROLES, ROLES.regulator];

// ---- argument schemas ------------------------------------------------------------------------------

const address = s.string({ maxLength: 40, pattern: /^[0-9a-f]{40}$/ });
const orgId = s.string({ maxLength: 64, pattern: ORG_ID_RE });
const role = s.string({ maxLength: 32, pattern: ROLE_RE });
const moduleName = s.string({ maxLength: 64, pattern: /^[a-z][a-z0-9-]*$/ });

const anyValue: Schema<Value> = {
  description: "a value",
  parse(v, path) {
    if (v === undefined) throw new TallyError("BAD_ARGS", `${path} is missing`, { field: path });
    return v;
  },
};

function badParam(path: string, message: string): never {
  throw new TallyError("BAD_ARGS", `${path}: ${message}`, { field: path });
}

const paramChange: Schema<GovernanceAction> = {
  description: '{ name: "governance.threshold", value: [num, den] } or { name: "governance.votingPeriodBlocks", value: uint }',
  parse(v, path) {
    const { name, value } = s.object({ name: s.string({ maxLength: 64 }), value: anyValue }).parse(v, path);
    const d = DEFAULT_GOVERNANCE_PARAMS;
    if (name === "governance.threshold") {
      const problem = governanceParamsProblem({ threshold: value, votingPeriodBlocks: d.votingPeriodBlocks });
      if (problem !== null) badParam(`${path}.value`, problem);
      const [num, den] = value as [number, number];
      return { kind: "setParam", name, value: [num, den] };
    }
    if (name === "governance.votingPeriodBlocks") {
      const problem = governanceParamsProblem({ threshold: d.threshold, votingPeriodBlocks: value });
      if (problem !== null) badParam(`${path}.value`, problem);
      return { kind: "setParam", name, value: value as number };
    }
    return badParam(`${path}.name`, "must be governance.threshold or governance.votingPeriodBlocks");
  },
};

// biome-ignore lint/suspicious/noExplicitAny: each kind has its own field types
const ACTION_FIELDS: Record<Exclude<GovernanceActionKind, "setParam">, Schema<any>> = {
  addOrg: s.object({ id: orgId, name: s.string({ maxLength: 256 }) }),
  removeOrg: s.object({ id: orgId }),
  setValidator: validatorChangeArgs,
  grantRole: s.object({ address, role }),
  revokeRole: s.object({ address, role }),
  defineRole: s.object({ role, description: s.string({ maxLength: ROLE_DESCRIPTION_MAX }) }),
  freezeAccount: s.object({ address }),
  unfreezeAccount: s.object({ address }),
  freezeModule: s.object({ module: moduleName }),
  unfreezeModule: s.object({ module: moduleName }),
  ...contractActionFields,
};

/** An action: a map with `kind` and that kind's fields (spec/modules/governance.md §actions). */
const action: Schema<GovernanceAction> = {
  description: `a map { kind: one of ${GOVERNANCE_ACTION_KINDS.join(", ")}, ...the kind's fields }`,
  parse(v, path) {
    if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array) badParam(path, "must be a map");
    const { kind, ...fields } = v as Record<string, Value>;
    if (typeof kind !== "string" || !(GOVERNANCE_ACTION_KINDS as readonly string[]).includes(kind)) {
      badParam(`${path}.kind`, `must be one of ${GOVERNANCE_ACTION_KINDS.join(", ")}`);
    }
    if (kind === "setParam") return paramChange.parse(fields, path);
    const schema = ACTION_FIELDS[kind as Exclude<GovernanceActionKind, "setParam">];
    return { kind, ...schema.parse(fields, path) } as GovernanceAction;
  },
};

const proposeArgs = s.object({ action, description: s.optional(s.string({ maxLength: PROPOSAL_DESCRIPTION_MAX })) });
const voteArgs = s.object({ id: s.uint(), approve: booleanSchema() });
const idArgs = s.object({ id: s.uint() });

function booleanSchema(): Schema<boolean> {
  return {
    description: "true or false",
    parse(v, path) {
      if (typeof v !== "boolean") badParam(path, "must be true or false");
      return v;
    },
  };
}

// ---- state ---------------------------------------------------------------------------------------

function readParams(get: Get): GovernanceParams {
  const bytes = get(governanceParamsKey());
  return bytes === null ? DEFAULT_GOVERNANCE_PARAMS : decodeGovernanceParams(bytes);
}

function memberCount(get: Get): number {
  const bytes = get(governanceMembersKey());
  return bytes === null ? 0 : (decode(bytes) as number);
}

function readProposal(get: Get, id: number): ProposalRecord {
  const bytes = get(proposalKey(id));
  if (bytes === null) throw new TallyError("NO_SUCH_PROPOSAL", undefined, { id });
  return decodeProposal(bytes);
}

function takeProposalId(ctx: CallContext): number {
  const bytes = ctx.get(proposalCounterKey());
  const id = bytes === null ? 1 : (decode(bytes) as number);
  ctx.set(proposalCounterKey(), encode(id + 1));
  return id;
}

// ---- actions -------------------------------------------------------------------------------------

function requireAccount(get: Get, addr: string): void {
  if (get(accountKey(addr)) === null) throw new TallyError("NO_SUCH_ACCOUNT", undefined, { address: addr });
}

function accountRoles(get: Get, addr: string): readonly string[] {
  const account = readAccount(get, addr);
  if (account === null) throw new TallyError("NO_SUCH_ACCOUNT", undefined, { address: addr });
  return account.roles;
}

function checkFreezableModule(name: string, knownModules: readonly string[]): void {
  if (UNFREEZABLE_MODULES.includes(name)) throw new TallyError("FORBIDDEN", `the ${name} module cannot be frozen`, { module: name });
  if (!knownModules.includes(name)) throw new TallyError("UNKNOWN_MODULE", undefined, { module: name });
}

/**
 * Refuses an action the chain could not apply now. Runs when the action is proposed (so nonsense is
 * refused at once) and again right before it is applied (state may have changed in between).
 */
function checkAction(suite: CryptoSuite, get: Get, a: GovernanceAction, knownModules: readonly string[]): void {
  switch (a.kind) {
    case "addOrg":
      if (get(orgKey(a.id)) !== null) throw new TallyError("ORG_EXISTS", undefined, { org: a.id });
      return;
    case "removeOrg":
      if (get(orgKey(a.id)) === null) throw new TallyError("NO_SUCH_ORG", undefined, { org: a.id });
      if (memberCount(get) <= 1) throw new TallyError("FORBIDDEN", "the last organisation cannot be removed", { org: a.id });
      return;
    case "setValidator":
      checkValidatorChange(suite, get, a);
      return;
    case "grantRole":
      refuseUnknownRole(get, a.role);
      if (accountRoles(get, a.address).includes(a.role)) {
        throw new TallyError("BAD_ARGS", "the account already has this role", { field: "action.role", role: a.role });
      }
      return;
    case "revokeRole":
      refuseUnknownRole(get, a.role);
      if (!accountRoles(get, a.address).includes(a.role)) {
        throw new TallyError("NOT_FOUND", "the account does not have this role", { address: a.address, role: a.role });
      }
      return;
    case "defineRole":
      if (isBuiltinRole(a.role) || get(definedRoleKey(a.role)) !== null) throw new TallyError("ROLE_EXISTS", undefined, { role: a.role });
      return;
    case "freezeAccount":
      requireAccount(get, a.address);
      if (get(frozenAccountKey(a.address)) !== null) {
        throw new TallyError("BAD_ARGS", "the account is already frozen", { field: "action.address", address: a.address });
      }
      return;
    case "unfreezeAccount":
      if (get(frozenAccountKey(a.address)) === null) throw new TallyError("NOT_FOUND", "the account is not frozen", { address: a.address });
      return;
    case "freezeModule":
      checkFreezableModule(a.module, knownModules);
      if (get(frozenModuleKey(a.module)) !== null) {
        throw new TallyError("BAD_ARGS", "the module is already frozen", { field: "action.module", module: a.module });
      }
      return;
    case "unfreezeModule":
      if (get(frozenModuleKey(a.module)) === null) throw new TallyError("NOT_FOUND", "the module is not frozen", { module: a.module });
      return;
    case "setParam":
      return;
    case "upgradeContract":
    case "freezeContract":
    case "unfreezeContract":
      checkContractAction(get, a);
      return;
  }
}

function setMembers(ctx: CallContext, delta: number): void {
  ctx.set(governanceMembersKey(), encode(memberCount(ctx.get) + delta));
}

/** Applies a proposal's action; changes owned by another module go through that module's functions. */
function applyAction(ctx: CallContext, p: ProposalRecord, knownModules: readonly string[]): void {
  const a = p.action;
  checkAction(ctx.suite, ctx.get, a, knownModules);
  const mark = encode({ proposal: p.id, height: ctx.height });
  switch (a.kind) {
    case "addOrg":
      addOrg(ctx.asModule("accounts"), { id: a.id, name: a.name });
      setMembers(ctx, 1);
      return;
    case "removeOrg":
      removeOrg(ctx.asModule("accounts"), a.id);
      setMembers(ctx, -1);
      return;
    case "setValidator":
      setValidator(ctx.asModule("validators"), { publicKey: a.publicKey, power: a.power });
      return;
    case "grantRole":
      grantRole(ctx.asModule("accounts"), a.address, a.role);
      return;
    case "revokeRole":
      revokeRole(ctx.asModule("accounts"), a.address, a.role);
      return;
    case "defineRole":
      ctx.set(definedRoleKey(a.role), encode({ role: a.role, description: a.description, proposal: p.id, height: ctx.height }));
      ctx.emit("role-defined", { role: a.role, description: a.description });
      return;
    case "freezeAccount":
      ctx.set(frozenAccountKey(a.address), mark);
      ctx.emit("account-frozen", { address: a.address });
      return;
    case "unfreezeAccount":
      ctx.delete(frozenAccountKey(a.address));
      ctx.emit("account-unfrozen", { address: a.address });
      return;
    case "freezeModule":
      ctx.set(frozenModuleKey(a.module), mark);
      ctx.emit("module-frozen", { module: a.module });
      return;
    case "unfreezeModule":
      ctx.delete(frozenModuleKey(a.module));
      ctx.emit("module-unfrozen", { module: a.module });
      return;
    case "setParam": {
      const params = readParams(ctx.get);
      const next: GovernanceParams =
        a.name === "governance.threshold" ? { ...params, threshold: a.value } : { ...params, votingPeriodBlocks: a.value };
      ctx.set(governanceParamsKey(), encodeGovernanceParams(next));
      ctx.emit("param-set", { name: a.name, value: Array.isArray(a.value) ? [...a.value] : a.value });
      return;
    }
    case "upgradeContract":
    case "freezeContract":
    case "unfreezeContract":
      applyContractAction(ctx.asModule("contracts"), a, p.id);
      return;
  }
}

// ---- voting --------------------------------------------------------------------------------------

function recordVote(ctx: CallContext, p: ProposalRecord, approve: boolean): ProposalRecord {
  ctx.set(proposalVoteKey(p.id, ctx.callerOrg), encodeVote({ voter: ctx.caller, approve, height: ctx.height }));
  const next = { ...p, yes: p.yes + (approve ? 1 : 0), no: p.no + (approve ? 0 : 1) };
  ctx.emit("voted", { id: p.id, org: ctx.callerOrg, voter: ctx.caller, approve, yes: next.yes, no: next.no });
  return next;
}

/** Executes the action as a nested step: a refusal keeps the proposal (and the votes) with the error. */
function tryExecute(ctx: CallContext, p: ProposalRecord, knownModules: readonly string[]): ProposalRecord {
  const outcome = ctx.attempt(() => applyAction(ctx, p, knownModules));
  if (outcome.ok) {
    ctx.emit("executed", { id: p.id, action: actionToValue(p.action) });
    return { ...p, status: "executed", lastError: null };
  }
  const lastError = { code: outcome.error.code, message: outcome.error.message };
  ctx.emit("execution-failed", { id: p.id, ...lastError });
  return { ...p, status: "passed", lastError };
}

/**
 * After a vote on an open proposal: executes it once the yes votes pass the threshold of the current
 * members, or rejects it once the members who have not voted could no longer make it pass.
 */
function settle(ctx: CallContext, p: ProposalRecord, knownModules: readonly string[]): ProposalRecord {
  if (p.status !== "open") return p;
  const params = readParams(ctx.get);
  const members = memberCount(ctx.get);
  if (passesThreshold(params, p.yes, members)) return tryExecute(ctx, p, knownModules);
  const undecided = Math.max(0, members - p.yes - p.no);
  if (!passesThreshold(params, p.yes + undecided, members)) {
    ctx.emit("rejected", { id: p.id, yes: p.yes, no: p.no, members });
    return { ...p, status: "rejected" };
  }
  return p;
}

function refuseIfClosed(p: ProposalRecord): void {
  if (p.status === "executed" || p.status === "rejected") {
    throw new TallyError("PROPOSAL_CLOSED", undefined, { id: p.id, status: p.status });
  }
}

function refuseIfExpired(p: ProposalRecord, height: number): void {
  if (height > p.expiresAt) throw new TallyError("PROPOSAL_EXPIRED", undefined, { id: p.id, expiresAt: p.expiresAt, height });
}

function refuseIfVoted(get: Get, p: ProposalRecord, org: string): void {
  if (get(proposalVoteKey(p.id, org)) !== null) throw new TallyError("ALREADY_VOTED", undefined, { id: p.id, org });
}

function checkPass(p: ProposalRecord): void {
  if (p.status === "executed") throw new TallyError("PROPOSAL_CLOSED", undefined, { id: p.id, status: p.status });
  if (p.status !== "passed") throw new TallyError("PROPOSAL_NOT_PASSED", undefined, { id: p.id, status: p.status });
}

/**
 * Admission prechecks run before the engine's role check would: refuse a caller without the role
 * first, so that the answer does not reveal proposal state to accounts that may not act on it.
 */
function callerRoles(ctx: ReadContext, method: string, allowed: readonly string[]): readonly string[] {
  const roles = accountRoles(ctx.get, ctx.caller);
  if (!allowed.some((r) => roles.includes(r))) {
    throw new TallyError("FORBIDDEN", `governance.${method} needs one of the roles: ${allowed.join(", ")}`, {
      module: GOVERNANCE_MODULE,
      method,
    });
  }
  return roles;
}

function refuseRegulatorKind(roles: readonly string[], kind: GovernanceActionKind): void {
  if (!roles.some((r) => MEMBER_ROLES.includes(r)) && !REGULATOR_ACTION_KINDS.includes(kind)) {
    throw new TallyError("FORBIDDEN", `a regulator may only propose ${REGULATOR_ACTION_KINDS.join(", ")}`, { kind });
  }
}

// ---- queries -------------------------------------------------------------------------------------

function proposalJson(p: ProposalRecord, height: number): Value {
  return {
    ...proposalToValue(p),
    // No later block can vote or execute: the next block's height is above expiresAt.
    expired: height >= p.expiresAt,
  };
}

const listLimit = s.optional(s.uint());
const statusArg = s.string({ maxLength: 16, pattern: /^(open|passed|executed|rejected)$/ });

function votesOf(ctx: QueryContext, id: number): Value[] {
  const prefix = proposalVotesPrefix(id);
  return ctx.scan(prefix, LIMITS.apiListLimitMax).map(([key, bytes]) => {
    const vote = decodeVote(bytes);
    return { org: new TextDecoder().decode(key.subarray(prefix.length)), voter: vote.voter, approve: vote.approve, height: vote.height };
  });
}

/** Proposals in id order after `after`, optionally of one status; a page ends after scanning a bounded number. */
function listProposals(ctx: QueryContext, args: { status: string | null; after: number | null; limit: number | null }): Value {
  const limit = Math.max(1, Math.min(args.limit ?? 100, LIMITS.apiListLimitMax));
  const items: Value[] = [];
  let cursor = args.after === null ? undefined : proposalKey(args.after);
  let lastId: number | null = null;
  let scanned = 0;
  const scanMax = 10 * LIMITS.apiListLimitMax;
  let exhausted = false;
  while (items.length < limit && scanned < scanMax) {
    const rows = ctx.scan(proposalPrefix(), limit, cursor);
    for (const [key, bytes] of rows) {
      const p = decodeProposal(bytes);
      cursor = key;
      lastId = p.id;
      scanned++;
      if (args.status === null || p.status === args.status) items.push(proposalJson(p, ctx.height));
      if (items.length >= limit) break;
    }
    if (rows.length < limit) {
      exhausted = items.length < limit;
      break;
    }
  }
  return { items, next: exhausted || lastId === null ? null : lastId };
}

function listFrozen(ctx: QueryContext, sub: string): string[] {
  const prefix = moduleKey(GOVERNANCE_MODULE, utf8(sub));
  return ctx.scan(prefix, LIMITS.apiListLimitMax).map(([key]) => new TextDecoder().decode(key.subarray(prefix.length)));
}

// ---- the module ----------------------------------------------------------------------------------

/**
 * `knownModules` lists the modules of the chain (freezeModule must name one); it is a function so the
 * module list can include governance itself without an import cycle (modules/index.ts).
 */
export function createGovernanceModule(knownModules: () => readonly string[]): Module {
  return {
    name: GOVERNANCE_MODULE,
    privileged: true,
    initGenesis(ctx) {
      const params = genesisGovernanceParams(ctx.genesis.doc);
      ctx.set(governanceParamsKey(), encodeGovernanceParams(params));
      ctx.set(governanceMembersKey(), encode(ctx.genesis.doc.orgs.length));
    },
    methods: {
      propose: defineMethod({
        description: "Propose an action (admin or org-admin: any kind, counting as its organisation's yes vote; regulator: freezes only).",
        args: proposeArgs,
        roles: PROPOSER_ROLES,
        precheck(ctx, args) {
          refuseRegulatorKind(callerRoles(ctx, "propose", PROPOSER_ROLES), args.action.kind);
          checkAction(ctx.suite, ctx.get, args.action, knownModules());
        },
        run(ctx, args) {
          refuseRegulatorKind(ctx.callerRoles, args.action.kind);
          checkAction(ctx.suite, ctx.get, args.action, knownModules());
          const id = takeProposalId(ctx);
          const { votingPeriodBlocks } = readParams(ctx.get);
          let p: ProposalRecord = {
            id,
            proposer: ctx.caller,
            proposerOrg: ctx.callerOrg,
            action: args.action,
            description: args.description,
            height: ctx.height,
            expiresAt: ctx.height + votingPeriodBlocks,
            status: "open",
            yes: 0,
            no: 0,
            lastError: null,
          };
          ctx.emit("proposed", { id, proposer: ctx.caller, org: ctx.callerOrg, action: actionToValue(p.action), expiresAt: p.expiresAt });
          if (ctx.callerRoles.some((r) => MEMBER_ROLES.includes(r))) p = recordVote(ctx, p, true);
          p = settle(ctx, p, knownModules());
          ctx.set(proposalKey(id), encodeProposal(p));
          return proposalJson(p, ctx.height);
        },
      }),
      vote: defineMethod({
        description: "Vote yes or no on a proposal for the caller's organisation (once per organisation, until it expires).",
        args: voteArgs,
        roles: MEMBER_ROLES,
        precheck(ctx, args) {
          callerRoles(ctx, "vote", MEMBER_ROLES);
          const p = readProposal(ctx.get, args.id);
          refuseIfClosed(p);
          const account = readAccount(ctx.get, ctx.caller);
          if (account !== null) refuseIfVoted(ctx.get, p, account.org);
        },
        run(ctx, args) {
          let p = readProposal(ctx.get, args.id);
          refuseIfClosed(p);
          refuseIfExpired(p, ctx.height);
          refuseIfVoted(ctx.get, p, ctx.callerOrg);
          p = settle(ctx, recordVote(ctx, p, args.approve), knownModules());
          ctx.set(proposalKey(p.id), encodeProposal(p));
          return proposalJson(p, ctx.height);
        },
      }),
      execute: defineMethod({
        description: "Retry the action of a passed proposal whose execution was refused (until it expires).",
        args: idArgs,
        roles: MEMBER_ROLES,
        precheck(ctx, args) {
          callerRoles(ctx, "execute", MEMBER_ROLES);
          checkPass(readProposal(ctx.get, args.id));
        },
        run(ctx, args) {
          const p = readProposal(ctx.get, args.id);
          checkPass(p);
          refuseIfExpired(p, ctx.height);
          // A refusal here fails the transaction: the proposal stays "passed" with its earlier error.
          applyAction(ctx, p, knownModules());
          const done: ProposalRecord = { ...p, status: "executed", lastError: null };
          ctx.set(proposalKey(p.id), encodeProposal(done));
          ctx.emit("executed", { id: p.id, action: actionToValue(p.action) });
          return proposalJson(done, ctx.height);
        },
      }),
    },
    queries: {
      proposal: defineQuery({
        description: "A proposal with its votes (one per organisation).",
        args: idArgs,
        run(ctx, args) {
          const p = readProposal(ctx.get, args.id);
          return { ...(proposalJson(p, ctx.height) as Record<string, Value>), votes: votesOf(ctx, p.id) };
        },
      }),
      proposals: defineQuery({
        description: "Proposals in id order, optionally of one status, a page at a time (`next` is the `after` of the next page).",
        args: s.object({ status: s.optional(statusArg), after: s.optional(s.uint()), limit: listLimit }),
        run: listProposals,
      }),
      params: defineQuery({
        description: "The governance parameters and the number of member organisations.",
        args: s.object({}),
        run(ctx) {
          const params = readParams(ctx.get);
          return { threshold: [...params.threshold], votingPeriodBlocks: params.votingPeriodBlocks, members: memberCount(ctx.get) };
        },
      }),
      roles: defineQuery({
        description: "The roles accounts may hold: built in, and defined by governance.",
        args: s.object({}),
        run(ctx) {
          const prefix = moduleKey(GOVERNANCE_MODULE, utf8("r/"));
          const defined = ctx.scan(prefix, LIMITS.apiListLimitMax).map(([, bytes]) => {
            const v = decode(bytes) as Record<string, Value>;
            return { role: v.role as string, description: v.description as string, proposal: v.proposal as number };
          });
          return { builtin: Object.values(ROLES), defined };
        },
      }),
      frozen: defineQuery({
        description: "Accounts and modules governance keeps frozen.",
        args: s.object({}),
        run: (ctx) => ({ accounts: listFrozen(ctx, "fa/"), modules: listFrozen(ctx, "fm/") }),
      }),
      isFrozen: defineQuery({
        description: "Whether an account (address) or a module is frozen by governance.",
        args: s.object({ address: s.optional(address), module: s.optional(moduleName) }),
        run(ctx, args): Value {
          if ((args.address === null) === (args.module === null)) {
            throw new TallyError("BAD_ARGS", "give exactly one of address and module", { field: "args" });
          }
          if (args.address !== null) return { address: args.address, frozen: ctx.get(frozenAccountKey(args.address)) !== null };
          const name = args.module as string;
          return { module: name, frozen: ctx.get(frozenModuleKey(name)) !== null };
        },
      }),
    },
  };
}
