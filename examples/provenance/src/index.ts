/**
 * Supply-chain provenance registry. The deployer (the consortium) authorises member organisations;
 * an account of an authorised organisation registers an item (a batch of goods) and becomes its
 * holder; each hand-over to the next holder and each checkpoint (a location, a status, the digest of
 * an inspection report) is appended to the item's history, which anyone can page through. A delivered
 * item is closed: its history can no longer change.
 */
import { block, callerAccount, emit, queryModule, require, state } from "@tally/contract";

type Status = "registered" | "in-transit" | "inspected" | "delivered";

interface Item {
  id: string;
  product: string;
  /** The organisation that registered it. */
  origin: string;
  holder: string;
  holderOrg: string;
  status: Status;
  steps: number;
  registeredAtMs: number;
  /** A native token (tokens module) whose units stand for this lot, e.g. warehouse receipts; or null. */
  token: string | null;
}

interface Step {
  n: number;
  kind: "register" | "handover" | "checkpoint" | "deliver";
  by: string;
  org: string;
  location: string;
  status: Status;
  /** Digest (hex) of an off-chain document: a bill of lading, a lab report. */
  digest: string | null;
  timeMs: number;
  height: number;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const DIGEST_RE = /^[0-9a-f]{64}$/;
const ADDRESS_RE = /^[0-9a-f]{40}$/;
const TEXT_MAX = 128;
const HISTORY_PAGE_MAX = 50;

function _text(value: unknown, field: string): string {
  require(typeof value === "string" && value.length > 0 && value.length <= TEXT_MAX, `${field} must be 1 to ${TEXT_MAX} characters`);
  return value;
}

function _digest(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  require(typeof value === "string" && DIGEST_RE.test(value), "digest must be 64 lowercase hex characters");
  return value;
}

/** Step keys sort by number: zero-padded so that a range scan returns the history in order. */
function _stepKey(id: string, n: number): string {
  return `step/${id}/${String(n).padStart(8, "0")}`;
}

function _item(id: unknown): Item {
  require(typeof id === "string" && ID_RE.test(id), "id must be 1 to 64 characters: letters, digits, . _ : -");
  const item = state.get<Item>(`item/${id}`);
  require(item !== null, `no item ${id}`);
  return item as Item;
}

function _append(item: Item, step: Omit<Step, "n" | "timeMs" | "height">): Item {
  const b = block();
  const full: Step = { ...step, n: item.steps, timeMs: b.timeMs, height: b.height };
  state.set(_stepKey(item.id, item.steps), full);
  const next: Item = { ...item, status: step.status, steps: item.steps + 1 };
  state.set(`item/${item.id}`, next);
  emit(step.kind, { id: item.id, n: full.n, by: step.by, status: step.status, location: step.location });
  return next;
}

/** The current holder acting on an open item. */
function _holderOf(item: Item): { address: string; org: string } {
  const who = callerAccount();
  require(item.status !== "delivered", `item ${item.id} is delivered and closed`);
  require(who.address === item.holder, "only the item's current holder may do this");
  return who;
}

export function init(): void {
  state.set("admin", callerAccount().address);
}

/** The deployer authorises (or revokes) an organisation to register and hold items. */
export function authorize(args: { org: string; allowed?: boolean }): void {
  require(callerAccount().address === state.get<string>("admin"), "only the registry's admin may authorise organisations");
  const org = _text(args?.org, "org");
  if (args.allowed === false) state.delete(`org/${org}`);
  else state.set(`org/${org}`, true);
  emit("authorized", { org, allowed: args.allowed !== false });
}

export function isAuthorized(args: { org: string }): boolean {
  return state.has(`org/${_text(args?.org, "org")}`);
}

/**
 * Registers an item. With `token`, the item is a tokenised lot: the registrant must hold units of that
 * native token, which the contract checks with the tokens module's `balance` query.
 */
export function register(args: { id: string; product: string; location: string; digest?: string; token?: string }): Item {
  const who = callerAccount();
  require(state.has(`org/${who.org}`), `organisation ${who.org} is not authorised to register items`);
  let token: string | null = null;
  if (args?.token !== undefined) {
    token = _text(args.token, "token");
    // An unknown symbol fails the call with the module's own code (NO_SUCH_TOKEN).
    const held = queryModule<{ balance: string }>("tokens", "balance", { symbol: token, address: who.address });
    require(held.balance !== "0", `the registrant holds no ${token}: a tokenised lot is registered by a holder of its units`);
  }
  require(typeof args?.id === "string" && ID_RE.test(args.id), "id must be 1 to 64 characters: letters, digits, . _ : -");
  require(!state.has(`item/${args.id}`), `item ${args.id} is already registered`);
  const item: Item = {
    id: args.id,
    product: _text(args.product, "product"),
    origin: who.org,
    holder: who.address,
    holderOrg: who.org,
    status: "registered",
    steps: 0,
    registeredAtMs: block().timeMs,
    token,
  };
  return _append(item, {
    kind: "register",
    by: who.address,
    org: who.org,
    location: _text(args.location, "location"),
    status: "registered",
    digest: _digest(args.digest),
  });
}

/** The holder hands the item to `to` (an account of an authorised organisation, named by `toOrg`). */
export function handOver(args: { id: string; to: string; toOrg: string; location: string; digest?: string }): Item {
  const item = _item(args?.id);
  const who = _holderOf(item);
  require(typeof args.to === "string" && ADDRESS_RE.test(args.to), "to must be an address");
  require(args.to !== who.address, "an item is handed over to someone else");
  const toOrg = _text(args.toOrg, "toOrg");
  require(state.has(`org/${toOrg}`), `organisation ${toOrg} is not authorised to hold items`);
  const moved = _append(item, {
    kind: "handover",
    by: who.address,
    org: who.org,
    location: _text(args.location, "location"),
    status: "in-transit",
    digest: _digest(args.digest),
  });
  const next: Item = { ...moved, holder: args.to, holderOrg: toOrg };
  state.set(`item/${item.id}`, next);
  return next;
}

/** The holder records where the item is and what was checked. */
export function checkpoint(args: { id: string; location: string; digest?: string }): Item {
  const item = _item(args?.id);
  const who = _holderOf(item);
  return _append(item, {
    kind: "checkpoint",
    by: who.address,
    org: who.org,
    location: _text(args.location, "location"),
    status: "inspected",
    digest: _digest(args.digest),
  });
}

/** The holder confirms delivery; the item's history is closed. */
export function deliver(args: { id: string; location: string; digest?: string }): Item {
  const item = _item(args?.id);
  const who = _holderOf(item);
  return _append(item, {
    kind: "deliver",
    by: who.address,
    org: who.org,
    location: _text(args.location, "location"),
    status: "delivered",
    digest: _digest(args.digest),
  });
}

export function item(args: { id: string }): Item {
  return _item(args?.id);
}

/** The item's steps in order, a page at a time: pass `after` = the last `n` of the previous page. */
export function history(args: { id: string; after?: number; limit?: number }): { steps: Step[]; next: number | null } {
  const found = _item(args?.id);
  const limit = args.limit ?? 20;
  require(Number.isSafeInteger(limit) && limit > 0 && limit <= HISTORY_PAGE_MAX, `limit must be 1 to ${HISTORY_PAGE_MAX}`);
  const after = args.after === undefined ? undefined : _stepKey(found.id, args.after);
  const page = state.scan<Step>(`step/${found.id}/`, after === undefined ? { limit } : { limit, after });
  const steps = page.map((e) => e.value);
  const last = steps[steps.length - 1];
  return { steps, next: steps.length === limit && last !== undefined && last.n + 1 < found.steps ? last.n : null };
}
