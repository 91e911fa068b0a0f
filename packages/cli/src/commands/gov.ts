/**
 * `tally gov propose | vote | execute | show | list | params` (spec/modules/governance.md). A proposal's
 * action is given as `--kind` plus that kind's flags; the proposing org's yes vote goes with it.
 */
import { GOVERNANCE_ACTION_KINDS, type GovernanceAction, type GovernanceActionKind } from "@tally/core";
import { AccountSigner, type ProposalStatus, type SubmitResult, TallyClient } from "@tally/sdk";
import { Command, Option } from "commander";
import { CommandFailure, DEFAULT_RPC, printJson, readKey } from "../io.js";

interface ActionFlags {
  readonly kind: string;
  readonly id?: string;
  readonly name?: string;
  readonly publicKey?: string;
  readonly power?: string;
  readonly address?: string;
  readonly role?: string;
  readonly roleDescription?: string;
  readonly module?: string;
  readonly codeHash?: string;
  readonly param?: string;
  readonly value?: string;
}

/** `add-org` and `addOrg` both name the kind addOrg. */
function kindOf(text: string): GovernanceActionKind {
  const camel = text.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const kind = GOVERNANCE_ACTION_KINDS.find((k) => k === camel);
  if (kind === undefined) throw new CommandFailure(`--kind must be one of ${GOVERNANCE_ACTION_KINDS.join(", ")}`);
  return kind;
}

function need(value: string | undefined, flag: string, kind: string): string {
  if (value === undefined) throw new CommandFailure(`--kind ${kind} needs ${flag}`);
  return value;
}

function uint(text: string, flag: string): number {
  if (!/^[0-9]{1,15}$/.test(text)) throw new CommandFailure(`${flag} must be a non-negative integer`);
  return Number(text);
}

/** A threshold as `2/3` or `[2,3]`. */
function threshold(text: string): [number, number] {
  const m = /^\s*\[?\s*([0-9]{1,4})\s*[/,]\s*([0-9]{1,4})\s*\]?\s*$/.exec(text);
  if (m === null) throw new CommandFailure("--value of governance.threshold must be num/den, e.g. 2/3");
  return [Number(m[1]), Number(m[2])];
}

/** The action from `--kind` and its flags. The node checks it again (and its state preconditions). */
export function actionFromFlags(o: ActionFlags): GovernanceAction {
  const kind = kindOf(o.kind);
  switch (kind) {
    case "addOrg":
      return { kind, id: need(o.id, "--id", kind), name: need(o.name, "--name", kind) };
    case "removeOrg":
      return { kind, id: need(o.id, "--id", kind) };
    case "setValidator":
      return { kind, publicKey: need(o.publicKey, "--public-key", kind), power: uint(need(o.power, "--power", kind), "--power") };
    case "grantRole":
    case "revokeRole":
      return { kind, address: need(o.address, "--address", kind), role: need(o.role, "--role", kind) };
    case "defineRole":
      return { kind, role: need(o.role, "--role", kind), description: o.roleDescription ?? "" };
    case "freezeAccount":
    case "unfreezeAccount":
      return { kind, address: need(o.address, "--address", kind) };
    case "freezeModule":
    case "unfreezeModule":
      return { kind, module: need(o.module, "--module", kind) };
    case "freezeContract":
    case "unfreezeContract":
      return { kind, address: need(o.address, "--address", kind) };
    case "upgradeContract":
      return { kind, address: need(o.address, "--address", kind), codeHash: need(o.codeHash, "--code-hash", kind) };
    case "setParam": {
      const name = need(o.param, "--param", kind);
      const value = need(o.value, "--value", kind);
      if (name === "governance.threshold") return { kind, name, value: threshold(value) };
      if (name === "governance.votingPeriodBlocks") return { kind, name, value: uint(value, "--value") };
      throw new CommandFailure("--param must be governance.threshold or governance.votingPeriodBlocks");
    }
  }
}

async function signer(o: { key: string; rpc: string }): Promise<AccountSigner> {
  return AccountSigner.connect(new TallyClient(o.rpc), readKey(o.key));
}

/** Prints `{tx, height, ...proposal}` of an ok result; a failed one exits 1 with its code, message and details. */
function report(method: string, outcome: SubmitResult): void {
  if (outcome.status !== "committed") throw new CommandFailure(`transaction ${outcome.hash} is ${outcome.status}`);
  if (outcome.result.status !== "ok") {
    throw new CommandFailure(
      `gov ${method} failed: ${outcome.result.code}: ${outcome.result.message} ${JSON.stringify(outcome.result.value)}`,
    );
  }
  printJson({ tx: outcome.hash, height: outcome.height, ...(outcome.result.value as object) });
}

export async function propose(o: ActionFlags & { key: string; rpc: string; description?: string }): Promise<void> {
  const action = actionFromFlags(o);
  report("propose", await (await signer(o)).governance.propose(action, o.description));
}

export async function vote(o: { key: string; rpc: string; id: string; yes?: boolean; no?: boolean }): Promise<void> {
  if (o.yes === o.no) throw new CommandFailure("give exactly one of --yes and --no");
  report("vote", await (await signer(o)).governance.vote(uint(o.id, "--id"), o.yes === true));
}

export async function execute(o: { key: string; rpc: string; id: string }): Promise<void> {
  report("execute", await (await signer(o)).governance.execute(uint(o.id, "--id")));
}

export async function show(o: { rpc: string; id: string }): Promise<void> {
  printJson(await new TallyClient(o.rpc).governance.proposal(uint(o.id, "--id")));
}

export async function list(o: { rpc: string; status?: string; after?: string; limit?: string }): Promise<void> {
  const filter: { status?: ProposalStatus; after?: number; limit?: number } = {};
  if (o.status !== undefined) filter.status = o.status as ProposalStatus;
  if (o.after !== undefined) filter.after = uint(o.after, "--after");
  if (o.limit !== undefined) filter.limit = uint(o.limit, "--limit");
  printJson(await new TallyClient(o.rpc).governance.proposals(filter));
}

export async function params(o: { rpc: string }): Promise<void> {
  printJson(await new TallyClient(o.rpc).governance.params());
}

export function govCommand(): Command {
  const gov = new Command("gov").description("governance: propose changes, vote for your organisation, execute, list");
  const keyOption = () => new Option("--key <file>", "key file of the signing account").makeOptionMandatory();
  const rpcOption = () => new Option("--rpc <url>", "node API URL").default(DEFAULT_RPC);
  const idOption = () => new Option("--id <n>", "proposal id").makeOptionMandatory();
  gov
    .command("propose")
    .description("propose an action (admin or org-admin; a regulator only freezes); your organisation votes yes with it")
    .addOption(keyOption())
    .addOption(new Option("--kind <kind>", `one of ${GOVERNANCE_ACTION_KINDS.join(", ")} (or add-org style)`).makeOptionMandatory())
    .option("--description <text>", "why (at most 512 characters)")
    .option("--id <org>", "organisation id (addOrg, removeOrg)")
    .option("--name <text>", "organisation name (addOrg)")
    .option("--public-key <hex>", "validator public key (setValidator)")
    .option("--power <n>", "validator power, 0 removes (setValidator)")
    .option(
      "--address <address>",
      "account (grantRole, revokeRole, freezeAccount, unfreezeAccount) or contract (upgradeContract, freezeContract, unfreezeContract)",
    )
    .option("--code-hash <hex>", "hash of code stored with contracts.store (upgradeContract)")
    .option("--role <role>", "role (grantRole, revokeRole, defineRole)")
    .option("--role-description <text>", "what the role is for (defineRole)")
    .option("--module <name>", "module (freezeModule, unfreezeModule)")
    .option("--param <name>", "governance.threshold or governance.votingPeriodBlocks (setParam)")
    .option("--value <value>", "new value: num/den for the threshold, blocks for the period (setParam)")
    .addOption(rpcOption())
    .action(async (o: ActionFlags & { key: string; rpc: string; description?: string }) => propose(o));
  gov
    .command("vote")
    .description("vote on a proposal for your organisation (admin or org-admin; once per organisation)")
    .addOption(keyOption())
    .addOption(idOption())
    .option("--yes", "approve")
    .option("--no", "reject")
    .addOption(rpcOption())
    .action(async (o: { key: string; rpc: string; id: string; yes?: boolean; no?: boolean }) => vote(o));
  gov
    .command("execute")
    .description("retry a passed proposal whose action was refused when it passed")
    .addOption(keyOption())
    .addOption(idOption())
    .addOption(rpcOption())
    .action(async (o: { key: string; rpc: string; id: string }) => execute(o));
  gov
    .command("show")
    .description("a proposal with its votes")
    .addOption(idOption())
    .addOption(rpcOption())
    .action(async (o: { rpc: string; id: string }) => show(o));
  gov
    .command("list")
    .description("proposals in id order")
    .addOption(new Option("--status <status>", "only this status").choices(["open", "passed", "executed", "rejected"]))
    .option("--after <id>", "continue after this id (`next` of the previous page)")
    .option("--limit <n>", "at most this many (default 100)")
    .addOption(rpcOption())
    .action(async (o: { rpc: string; status?: string; after?: string; limit?: string }) => list(o));
  gov
    .command("params")
    .description("threshold, voting period and number of member organisations")
    .addOption(rpcOption())
    .action(async (o: { rpc: string }) => params(o));
  return gov;
}
