/**
 * Multi-party escrow over a token contract (examples/token). The buyer opens a deal naming the
 * seller, a set of arbiters and how many approvals settle it; the escrow pulls the amount from the
 * buyer (who approved it on the token beforehand) and holds it. Buyer, seller and arbiters vote:
 * `threshold` votes to release pay the seller, `threshold` votes to refund repay the buyer. After the
 * deadline an unsettled deal can be reclaimed by the buyer. Every token movement is a call from this
 * contract to the token contract, so the token sees the escrow as its caller.
 */
import { block, callContract, callerAccount, emit, require, self, state } from "@tally/contract";

type Decision = "release" | "refund";
type DealStatus = "open" | "released" | "refunded";

interface Deal {
  id: string;
  token: string;
  buyer: string;
  seller: string;
  arbiters: string[];
  threshold: number;
  amount: number;
  deadlineMs: number;
  status: DealStatus;
  votes: { release: string[]; refund: string[] };
}

const ADDRESS_RE = /^[0-9a-f]{40}$/;
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const ARBITERS_MAX = 7;

function _address(value: unknown, field: string): string {
  require(typeof value === "string" && ADDRESS_RE.test(value), `${field} must be an address`);
  return value;
}

function _deal(id: unknown): Deal {
  require(typeof id === "string" && ID_RE.test(id), "id must be 1 to 64 characters: letters, digits, . _ : -");
  const deal = state.get<Deal>(`deal/${id}`);
  require(deal !== null, `no deal ${id}`);
  return deal as Deal;
}

function _settle(deal: Deal, status: DealStatus): Deal {
  const to = status === "released" ? deal.seller : deal.buyer;
  callContract(deal.token, "transfer", { to, amount: deal.amount });
  const done: Deal = { ...deal, status };
  state.set(`deal/${deal.id}`, done);
  emit(status, { id: deal.id, to, amount: deal.amount });
  return done;
}

/** The buyer opens a deal and funds it: the escrow takes `amount` through the token's transferFrom. */
export function open(args: {
  id: string;
  token: string;
  seller: string;
  arbiters: string[];
  threshold: number;
  amount: number;
  deadlineMs: number;
}): Deal {
  const buyer = callerAccount().address;
  require(typeof args?.id === "string" && ID_RE.test(args.id), "id must be 1 to 64 characters: letters, digits, . _ : -");
  require(!state.has(`deal/${args.id}`), `deal ${args.id} exists`);
  const token = _address(args.token, "token");
  const seller = _address(args.seller, "seller");
  require(seller !== buyer, "buyer and seller must differ");
  require(Array.isArray(args.arbiters) && args.arbiters.length <= ARBITERS_MAX, `arbiters must be a list of at most ${ARBITERS_MAX}`);
  const arbiters = args.arbiters.map((a, i) => _address(a, `arbiters[${i}]`));
  const parties = [buyer, seller, ...arbiters];
  require(new Set(parties).size === parties.length, "buyer, seller and arbiters must all differ");
  require(Number.isSafeInteger(args.threshold) &&
    args.threshold >= 1 &&
    args.threshold <= parties.length, `threshold must be 1 to ${parties.length}`);
  require(Number.isSafeInteger(args.amount) && args.amount > 0, "amount must be a positive integer");
  require(Number.isSafeInteger(args.deadlineMs) && args.deadlineMs > block().timeMs, "deadlineMs must be in the future");
  callContract(token, "transferFrom", { from: buyer, to: self(), amount: args.amount });
  const deal: Deal = {
    id: args.id,
    token,
    buyer,
    seller,
    arbiters,
    threshold: args.threshold,
    amount: args.amount,
    deadlineMs: args.deadlineMs,
    status: "open",
    votes: { release: [], refund: [] },
  };
  state.set(`deal/${deal.id}`, deal);
  emit("opened", { id: deal.id, buyer, seller, amount: deal.amount });
  return deal;
}

/** A party votes; the vote that reaches the threshold settles the deal. Returns the deal. */
export function vote(args: { id: string; decision: Decision }): Deal {
  const deal = _deal(args?.id);
  const who = callerAccount().address;
  require(deal.status === "open", `deal ${deal.id} is ${deal.status}`);
  require(who === deal.buyer || who === deal.seller || deal.arbiters.includes(who), "only the deal's buyer, seller or arbiters vote");
  require(args.decision === "release" || args.decision === "refund", "decision must be release or refund");
  require(!deal.votes.release.includes(who) && !deal.votes.refund.includes(who), "you have already voted");
  const votes = { ...deal.votes, [args.decision]: [...deal.votes[args.decision], who] };
  const voted: Deal = { ...deal, votes };
  emit("voted", { id: deal.id, by: who, decision: args.decision });
  if (votes[args.decision].length >= deal.threshold) return _settle(voted, args.decision === "release" ? "released" : "refunded");
  state.set(`deal/${deal.id}`, voted);
  return voted;
}

/** After the deadline the buyer takes back an unsettled deal. */
export function reclaim(args: { id: string }): Deal {
  const deal = _deal(args?.id);
  require(callerAccount().address === deal.buyer, "only the buyer reclaims");
  require(deal.status === "open", `deal ${deal.id} is ${deal.status}`);
  require(block().timeMs >= deal.deadlineMs, "the deadline has not passed");
  return _settle(deal, "refunded");
}

export function deal(args: { id: string }): Deal {
  return _deal(args?.id);
}
