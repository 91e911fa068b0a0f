/**
 * The `credit` module from a client (spec/modules/credit.md). Calls are signed by an AccountSigner
 * (`signer.credit`: a regulator records events, links entities and decides repairs; the entity's
 * linked account or a bank applies for repair). `client.credit` reads anyone's standing and history
 * through module queries, and the standing with its state proof.
 */
import {
  CREDIT_ENTITY_RE,
  CREDIT_ID_MAX,
  CREDIT_KIND_RE,
  CREDIT_TEXT_LENGTH_MAX,
  type CreditApplicationStatus,
  type CreditEventRecord,
  type CreditEventStatus,
  type CreditGrade,
  type CreditStandingRecord,
  creditStandingKey,
  decode,
  decodeCreditStanding,
  decodeSmtProof,
  fromHex,
  getSuite,
  isCalendarDate,
  type JsonValue,
  TallyError,
  toHex,
  type Value,
  verifySmtProof,
} from "@tally/core";
import type { SubmitOptions, TallyClient } from "./client.js";
import type { AccountSigner } from "./signer.js";
import type { StateView, SubmitResult } from "./types.js";

/** The standing rule, for recomputing a standing from a history. */
export { creditGrade, creditStanding } from "@tally/core";
export type { CreditApplicationStatus, CreditEventStatus, CreditGrade, CreditStandingRecord };

/** A 32-byte digest, as bytes or 64 lowercase hex characters. */
export type CreditDigest = Uint8Array | string;

export interface CreditEventInput {
  readonly entityId: string;
  /** e.g. "tax-arrears", "court-judgment": ^[a-z][a-z0-9-]{0,31}$ */
  readonly kind: string;
  /** 1 (minor) to 5 (grave). */
  readonly severity: number;
  /** The chain's hash of the evidence document. */
  readonly evidenceDigest: CreditDigest;
  /** YYYY-MM-DD. */
  readonly date: string;
}

export interface CreditRepairInput {
  readonly entityId: string;
  readonly eventId: number;
  /** 1 to 512 characters; visible to every member (the history is public). */
  readonly reason: string;
  /** The chain's hash of the proof of rectification. */
  readonly evidenceDigest: CreditDigest;
}

export interface CreditDecisionInput {
  readonly entityId: string;
  readonly applicationId: number;
  readonly approve: boolean;
  /** At most 512 characters; default "". */
  readonly note?: string;
}

/** The `standing` query's answer. */
export interface CreditStandingView {
  readonly entityId: string;
  readonly account: string | null;
  readonly score: number;
  readonly grade: CreditGrade;
  readonly penalty: number;
  readonly active: number;
  readonly repaired: number;
  /** Events and applications filed so far. */
  readonly events: number;
  readonly applications: number;
  /** Height that last changed the standing. */
  readonly updatedAt: number;
}

/** A credit event as the node answers it: the ledger's record. */
export type CreditEventView = CreditEventRecord;

export interface CreditApplicationView {
  readonly id: number;
  readonly eventId: number;
  readonly applicant: string;
  readonly reason: string;
  readonly evidenceDigest: Uint8Array;
  readonly height: number;
  readonly status: CreditApplicationStatus;
  readonly decidedBy: string | null;
  readonly decidedAt: number | null;
  readonly note: string | null;
}

export type CreditHistoryItem =
  | ({ readonly seq: number; readonly type: "event" } & CreditEventView)
  | ({ readonly seq: number; readonly type: "application" } & CreditApplicationView);

export interface CreditHistoryPage extends CreditStandingView {
  /** Height of the state the node answered from. */
  readonly height: number;
  readonly items: CreditHistoryItem[];
  /** Pass as `after` for the next page; null when this page was not full. */
  readonly next: number | null;
}

export interface CreditOpenApplicationsPage {
  readonly height: number;
  readonly items: Array<{ readonly entityId: string } & CreditApplicationView>;
  readonly next: string | null;
}

export interface CreditPageOptions<C> {
  readonly after?: C;
  /** 1 to 1,000; default 100. */
  readonly limit?: number;
}

export interface CreditReadOptions {
  readonly height?: number;
  /** A state root you trust (e.g. from a verified receipt's header) at `height`. */
  readonly trustedStateRoot?: Uint8Array;
}

function check(ok: boolean, field: string, expected: string): void {
  if (!ok) throw new TallyError("BAD_ARGS", `${field} must be ${expected}`, { field, expected });
}

const checkEntity = (entityId: string) => check(CREDIT_ENTITY_RE.test(entityId), "entityId", `an entity id matching ${CREDIT_ENTITY_RE}`);
const checkId = (id: number, field: string) =>
  check(Number.isInteger(id) && id >= 1 && id <= CREDIT_ID_MAX, field, `an integer from 1 to ${CREDIT_ID_MAX}`);

function wireDigest(digest: CreditDigest, field: string): Uint8Array {
  if (typeof digest === "string") {
    check(/^[0-9a-f]{64}$/.test(digest), field, "32 bytes or 64 lowercase hex characters");
    return fromHex(digest, 32);
  }
  check(digest instanceof Uint8Array && digest.length === 32, field, "32 bytes or 64 lowercase hex characters");
  return digest;
}

/** Arguments of `record-event`, checked like the node checks them (BAD_ARGS before anything is signed). */
export function creditEventArgs(input: CreditEventInput): Record<string, Value> {
  checkEntity(input.entityId);
  check(CREDIT_KIND_RE.test(input.kind), "kind", `a kind matching ${CREDIT_KIND_RE}`);
  check(Number.isInteger(input.severity) && input.severity >= 1 && input.severity <= 5, "severity", "an integer from 1 to 5");
  check(isCalendarDate(input.date), "date", "a calendar date YYYY-MM-DD");
  return {
    entityId: input.entityId,
    kind: input.kind,
    severity: input.severity,
    evidenceDigest: wireDigest(input.evidenceDigest, "evidenceDigest"),
    date: input.date,
  };
}

type Json = { readonly [key: string]: unknown };
const bytesOf = (hex: unknown) => fromHex(String(hex).replace(/^0x/, ""));

function standingFromJson(v: Json): CreditStandingView {
  return {
    entityId: v.entityId as string,
    account: v.account as string | null,
    score: v.score as number,
    grade: v.grade as CreditGrade,
    penalty: v.penalty as number,
    active: v.active as number,
    repaired: v.repaired as number,
    events: v.events as number,
    applications: v.applications as number,
    updatedAt: v.updatedAt as number,
  };
}

function applicationFromJson(v: Json): CreditApplicationView {
  return {
    id: v.id as number,
    eventId: v.eventId as number,
    applicant: v.applicant as string,
    reason: v.reason as string,
    evidenceDigest: bytesOf(v.evidenceDigest),
    height: v.height as number,
    status: v.status as CreditApplicationStatus,
    decidedBy: v.decidedBy as string | null,
    decidedAt: v.decidedAt as number | null,
    note: v.note as string | null,
  };
}

function eventFromJson(v: Json): CreditEventView {
  return {
    id: v.id as number,
    kind: v.kind as string,
    severity: v.severity as number,
    evidenceDigest: bytesOf(v.evidenceDigest),
    date: v.date as string,
    recordedBy: v.recordedBy as string,
    height: v.height as number,
    status: v.status as CreditEventStatus,
    openApplication: v.openApplication as number | null,
    repairedBy: v.repairedBy as number | null,
    repairedAt: v.repairedAt as number | null,
  };
}

function itemFromJson(v: Json): CreditHistoryItem {
  const seq = v.seq as number;
  return v.type === "event" ? { seq, type: "event", ...eventFromJson(v) } : { seq, type: "application", ...applicationFromJson(v) };
}

function pageArgs<C extends string | number>(page: CreditPageOptions<C>): { [key: string]: JsonValue } {
  if (page.limit !== undefined) check(Number.isInteger(page.limit) && page.limit >= 1 && page.limit <= 1000, "limit", "1 to 1000");
  return { ...(page.after === undefined ? {} : { after: page.after }), ...(page.limit === undefined ? {} : { limit: page.limit }) };
}

/** Null instead of NO_SUCH_ENTITY. */
async function orNull<T>(answer: Promise<T>): Promise<T | null> {
  try {
    return await answer;
  } catch (err) {
    if (err instanceof TallyError && err.code === "NO_SUCH_ENTITY") return null;
    throw err;
  }
}

/** Reads of the credit module: standing and history (anyone), and the standing proven from state. */
export class CreditReads {
  private hash: ((bytes: Uint8Array) => Uint8Array) | undefined;

  constructor(private readonly client: TallyClient) {}

  /** The chain's hash (SHA-256 or SM3) of an evidence document: the digest to record. */
  async digestOf(document: Uint8Array): Promise<Uint8Array> {
    if (this.hash === undefined) this.hash = getSuite((await this.client.status()).crypto).hash;
    return this.hash(document);
  }

  /** The entity's standing (no signature needed), or null if it has no record. */
  standing(entityId: string): Promise<CreditStandingView | null> {
    checkEntity(entityId);
    return orNull(this.client.query<Json>("credit", "standing", { entityId }).then((a) => standingFromJson(a.value)));
  }

  /** A page of the entity's events and applications (with decisions) in filing order, with its standing; null if it has no record. */
  history(entityId: string, page: CreditPageOptions<number> = {}): Promise<CreditHistoryPage | null> {
    checkEntity(entityId);
    const answer = this.client.query<Json>("credit", "history", { entityId, ...pageArgs(page) });
    return orNull(
      answer.then(({ height, value }) => ({
        ...standingFromJson(value),
        height,
        items: (value.items as Json[]).map(itemFromJson),
        next: value.next as number | null,
      })),
    );
  }

  /** The stored standing read from state with its sparse Merkle proof checked (see CreditReadOptions); null: no record. */
  async provenStanding(
    entityId: string,
    options: CreditReadOptions = {},
  ): Promise<{ value: CreditStandingRecord | null; view: StateView }> {
    checkEntity(entityId);
    const key = creditStandingKey(entityId);
    const view = await this.client.state(toHex(key), options.height);
    if (view.key !== toHex(key)) throw new TallyError("BAD_PROOF", "the node answered for another key", { key: view.key });
    const value = view.value === null ? null : fromHex(view.value);
    const root = options.trustedStateRoot ?? fromHex(view.stateRoot);
    if (this.hash === undefined) this.hash = getSuite((await this.client.status()).crypto).hash;
    let ok = false;
    try {
      ok = verifySmtProof(this.hash, root, key, value, decodeSmtProof(decode(fromHex(view.proof))));
    } catch {
      ok = false;
    }
    if (!ok) throw new TallyError("BAD_PROOF", "state proof does not verify", { key: view.key });
    return { value: value === null ? null : decodeCreditStanding(value), view };
  }
}

/** Calls of the credit module signed by one account. Transactions wait for commit unless `wait: false`. */
export class CreditCalls {
  constructor(private readonly signer: AccountSigner) {}

  private call(method: string, args: Record<string, Value>, options: SubmitOptions): Promise<SubmitResult> {
    return this.signer.send("credit", method, args, {
      wait: options.wait ?? true,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  /** Records a credit event against an entity (role regulator). */
  recordEvent(input: CreditEventInput, options: SubmitOptions = {}): Promise<SubmitResult> {
    return this.call("record-event", creditEventArgs(input), options);
  }

  /** Links an entity to a registered account, which may then apply for its repairs (role regulator). */
  linkEntity(entityId: string, account: string, options: SubmitOptions = {}): Promise<SubmitResult> {
    checkEntity(entityId);
    check(/^[0-9a-f]{40}$/.test(account), "account", "an address (40 lowercase hex characters)");
    return this.call("link-entity", { entityId, account }, options);
  }

  /** Applies for the repair of an active event (the entity's linked account or role bank). */
  applyRepair(input: CreditRepairInput, options: SubmitOptions = {}): Promise<SubmitResult> {
    checkEntity(input.entityId);
    checkId(input.eventId, "eventId");
    check(input.reason.length >= 1 && input.reason.length <= CREDIT_TEXT_LENGTH_MAX, "reason", `1 to ${CREDIT_TEXT_LENGTH_MAX} characters`);
    const evidenceDigest = wireDigest(input.evidenceDigest, "evidenceDigest");
    return this.call("apply-repair", { entityId: input.entityId, eventId: input.eventId, reason: input.reason, evidenceDigest }, options);
  }

  /** Approves or rejects an open repair application (role regulator). */
  decideRepair(input: CreditDecisionInput, options: SubmitOptions = {}): Promise<SubmitResult> {
    checkEntity(input.entityId);
    checkId(input.applicationId, "applicationId");
    check(typeof input.approve === "boolean", "approve", "true or false");
    const note = input.note ?? "";
    check(note.length <= CREDIT_TEXT_LENGTH_MAX, "note", `at most ${CREDIT_TEXT_LENGTH_MAX} characters`);
    return this.call(
      "decide-repair",
      { entityId: input.entityId, applicationId: input.applicationId, approve: input.approve, note },
      options,
    );
  }

  /** Open applications of every entity (a signed query; role regulator). */
  async openApplications(page: CreditPageOptions<string> = {}): Promise<CreditOpenApplicationsPage> {
    const { height, value } = await this.signer.query<Json>("credit", "applications", pageArgs(page));
    return {
      height,
      items: (value.items as Json[]).map((v) => ({ entityId: v.entityId as string, ...applicationFromJson(v) })),
      next: value.next as string | null,
    };
  }
}
