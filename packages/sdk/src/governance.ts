/**
 * The `governance` module from a client (spec/modules/governance.md). Proposals, votes and retries are
 * signed by an AccountSigner (`signer.governance`); reads are module queries (`client.governance`),
 * answered by the node from its replica.
 */
import {
  GOVERNANCE_ACTION_KINDS,
  type GovernanceAction,
  type ProposalRecord,
  type ProposalStatus,
  TallyError,
  type Value,
} from "@tally/core";
import type { QueryOptions, SubmitOptions, TallyClient } from "./client.js";
import type { AccountSigner } from "./signer.js";
import type { SubmitResult } from "./types.js";

export type { GovernanceAction, GovernanceParamName, ProposalStatus } from "@tally/core";

/** A proposal as the node answers it (JSON): the ledger's record, and whether it has expired. */
export interface ProposalView extends ProposalRecord {
  /** No later block can vote on or execute it. */
  readonly expired: boolean;
}

export interface ProposalVoteView {
  readonly org: string;
  readonly voter: string;
  readonly approve: boolean;
  readonly height: number;
}

export interface ProposalDetail extends ProposalView {
  readonly votes: ProposalVoteView[];
}

export interface ProposalPage {
  readonly items: ProposalView[];
  /** Pass as `after` for the next page; null at the end. */
  readonly next: number | null;
}

export interface GovernanceParamsView {
  readonly threshold: [number, number];
  readonly votingPeriodBlocks: number;
  readonly members: number;
}

export interface RolesView {
  readonly builtin: string[];
  readonly defined: Array<{ role: string; description: string; proposal: number }>;
}

function checkKind(action: GovernanceAction): void {
  if (!GOVERNANCE_ACTION_KINDS.includes(action.kind)) {
    throw new TallyError("BAD_ARGS", `action.kind must be one of ${GOVERNANCE_ACTION_KINDS.join(", ")}`, { field: "action.kind" });
  }
}

function checkId(id: number): number {
  if (!Number.isSafeInteger(id) || id < 0) throw new TallyError("BAD_ARGS", "a proposal id is a non-negative integer", { field: "id" });
  return id;
}

/** Calls of the governance module, signed by one account. They wait for commit unless `wait: false`. */
export class GovernanceCalls {
  constructor(private readonly signer: AccountSigner) {}

  private call(method: string, args: Record<string, Value>, options: SubmitOptions): Promise<SubmitResult> {
    return this.signer.send("governance", method, args, {
      wait: options.wait ?? true,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  /**
   * Proposes an action (admin or org-admin; a regulator only freezes). The signer's organisation votes
   * yes with it; the result's value is the proposal (status "executed" if that vote already passes it).
   */
  propose(action: GovernanceAction, description?: string, options: SubmitOptions = {}): Promise<SubmitResult> {
    checkKind(action);
    const args: Record<string, Value> = { action: { ...action } as Value };
    if (description !== undefined) args.description = description;
    return this.call("propose", args, options);
  }

  /** Votes for the signer's organisation (once per organisation). */
  vote(id: number, approve: boolean, options: SubmitOptions = {}): Promise<SubmitResult> {
    return this.call("vote", { id: checkId(id), approve }, options);
  }

  /** Retries a passed proposal whose action was refused when it passed. */
  execute(id: number, options: SubmitOptions = {}): Promise<SubmitResult> {
    return this.call("execute", { id: checkId(id) }, options);
  }
}

/** Reads of the governance module (module queries; anyone may ask). */
export class GovernanceReads {
  constructor(private readonly client: TallyClient) {}

  private async ask<T>(name: string, args: { [key: string]: string | number }, options: QueryOptions): Promise<T> {
    return (await this.client.query<T>("governance", name, args, options)).value;
  }

  /** A proposal with its votes; throws NO_SUCH_PROPOSAL. */
  proposal(id: number, options: QueryOptions = {}): Promise<ProposalDetail> {
    return this.ask("proposal", { id: checkId(id) }, options);
  }

  proposals(filter: { status?: ProposalStatus; after?: number; limit?: number } = {}, options: QueryOptions = {}): Promise<ProposalPage> {
    const args: { [key: string]: string | number } = {};
    if (filter.status !== undefined) args.status = filter.status;
    if (filter.after !== undefined) args.after = filter.after;
    if (filter.limit !== undefined) args.limit = filter.limit;
    return this.ask("proposals", args, options);
  }

  params(options: QueryOptions = {}): Promise<GovernanceParamsView> {
    return this.ask("params", {}, options);
  }

  roles(options: QueryOptions = {}): Promise<RolesView> {
    return this.ask("roles", {}, options);
  }

  frozen(options: QueryOptions = {}): Promise<{ accounts: string[]; modules: string[] }> {
    return this.ask("frozen", {}, options);
  }

  async isAccountFrozen(address: string, options: QueryOptions = {}): Promise<boolean> {
    return (await this.ask<{ frozen: boolean }>("isFrozen", { address }, options)).frozen;
  }

  async isModuleFrozen(module: string, options: QueryOptions = {}): Promise<boolean> {
    return (await this.ask<{ frozen: boolean }>("isFrozen", { module }, options)).frozen;
  }
}
