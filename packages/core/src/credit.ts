/**
 * Credit supervision and repair (spec/modules/credit.md): argument patterns, the records of the
 * `credit` module and their canonical encoding, its state keys, and the standing rule as a pure
 * function. Shared by the node's module and by clients that prove an entity's standing from state,
 * so both agree byte for byte and point for point.
 */
import { concatBytes, utf8 } from "./bytes.js";
import { decode, encode, isValueMap, type Value } from "./encoding.js";
import { TallyError } from "./errors.js";
import { moduleKey } from "./state-keys.js";

/** An entity id, e.g. an 18-character unified social credit code. Never contains "/", so it delimits keys. */
export const CREDIT_ENTITY_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** The kind of a credit event, e.g. "tax-arrears", "court-judgment". */
export const CREDIT_KIND_RE = /^[a-z][a-z0-9-]{0,31}$/;
export const CREDIT_TEXT_LENGTH_MAX = 512;
export const CREDIT_SEVERITY_MIN = 1;
export const CREDIT_SEVERITY_MAX = 5;
/** Event and application ids are u32 in keys. */
export const CREDIT_ID_MAX = 0xffff_ffff;

/** Points a still active event of each severity (1 to 5) takes off the score. */
export const CREDIT_SEVERITY_WEIGHTS: Readonly<Record<number, number>> = { 1: 5, 2: 10, 3: 20, 4: 40, 5: 60 };
export const CREDIT_SCORE_MAX = 100;
/** Lowest score of each grade, best first; below the last one the grade is D. */
export const CREDIT_GRADE_FLOORS: ReadonlyArray<readonly [CreditGrade, number]> = [
  ["A", 90],
  ["B", 70],
  ["C", 40],
];

export type CreditGrade = "A" | "B" | "C" | "D";
export type CreditEventStatus = "active" | "repaired";
export type CreditApplicationStatus = "open" | "approved" | "rejected";
export const CREDIT_EVENT_STATUSES: readonly CreditEventStatus[] = ["active", "repaired"];
export const CREDIT_APPLICATION_STATUSES: readonly CreditApplicationStatus[] = ["open", "approved", "rejected"];

// ---- the standing rule ------------------------------------------------------------------------

export interface CreditStanding {
  /** max(0, 100 − penalty). */
  readonly score: number;
  readonly grade: CreditGrade;
  /** Σ weight(severity) over the active events (not clamped, so a repair restores exactly what it removes). */
  readonly penalty: number;
  /** Events still counting against the entity. */
  readonly active: number;
  /** Events whose repair was approved. */
  readonly repaired: number;
}

export function creditSeverityWeight(severity: number): number {
  const weight = CREDIT_SEVERITY_WEIGHTS[severity];
  if (weight === undefined) throw new TallyError("BAD_ARGS", "severity must be an integer from 1 to 5", { field: "severity" });
  return weight;
}

export function creditGrade(score: number): CreditGrade {
  for (const [grade, floor] of CREDIT_GRADE_FLOORS) if (score >= floor) return grade;
  return "D";
}

/** The standing for given totals; the module keeps the totals up to date one event or decision at a time. */
export function creditStandingOf(totals: { penalty: number; active: number; repaired: number }): CreditStanding {
  const score = Math.max(0, CREDIT_SCORE_MAX - totals.penalty);
  return { score, grade: creditGrade(score), penalty: totals.penalty, active: totals.active, repaired: totals.repaired };
}

/** The standing rule over an entity's whole history: only active events count. */
export function creditStanding(events: ReadonlyArray<{ readonly severity: number; readonly status: CreditEventStatus }>): CreditStanding {
  let penalty = 0;
  let active = 0;
  let repaired = 0;
  for (const e of events) {
    if (e.status === "active") {
      penalty += creditSeverityWeight(e.severity);
      active++;
    } else {
      repaired++;
    }
  }
  return creditStandingOf({ penalty, active, repaired });
}

// ---- records ------------------------------------------------------------------------------------

/** The entity: who may apply for its repairs, and its id counters. */
export interface CreditEntityRecord {
  readonly entityId: string;
  /** The account linked by a regulator (may apply for repair), or null. */
  readonly account: string | null;
  /** Events recorded so far; the last event id. */
  readonly events: number;
  /** Applications filed so far; the last application id. */
  readonly applications: number;
}

/** The entity's current standing as kept in state, so it is provable with a state proof. */
export interface CreditStandingRecord extends CreditStanding {
  readonly entityId: string;
  /** Height of the block that last changed it. */
  readonly height: number;
}

export interface CreditEventRecord {
  readonly id: number;
  readonly kind: string;
  readonly severity: number;
  /** The chain's hash of the evidence (the penalty decision, the judgment). */
  readonly evidenceDigest: Uint8Array;
  /** The date of the underlying fact, as stated by the regulator. */
  readonly date: string;
  readonly recordedBy: string;
  readonly height: number;
  readonly status: CreditEventStatus;
  /** The open repair application for this event, or null. */
  readonly openApplication: number | null;
  /** The approved application and the height of its decision, once repaired. */
  readonly repairedBy: number | null;
  readonly repairedAt: number | null;
}

export interface CreditApplicationRecord {
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

/** An entry of the entity's history, in the order things happened. */
export type CreditLogEntry = readonly ["event" | "application", number];

const isText = (v: Value | undefined): v is string => typeof v === "string";
const isCount = (v: Value | undefined): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isCountOrNull = (v: Value | undefined) => v === null || isCount(v);
const isTextOrNull = (v: Value | undefined) => v === null || typeof v === "string";

function decodeMap(bytes: Uint8Array, what: string): { readonly [key: string]: Value } {
  const v = decode(bytes);
  if (!isValueMap(v)) throw new TallyError("BAD_ENCODING", `a credit ${what} is a map`);
  return v;
}

function malformed(what: string): never {
  throw new TallyError("BAD_ENCODING", `malformed credit ${what}`);
}

export function encodeCreditEntity(r: CreditEntityRecord): Uint8Array {
  return encode({ entityId: r.entityId, account: r.account, events: r.events, applications: r.applications });
}

export function decodeCreditEntity(bytes: Uint8Array): CreditEntityRecord {
  const v = decodeMap(bytes, "entity");
  if (!(isText(v.entityId) && isTextOrNull(v.account) && isCount(v.events) && isCount(v.applications))) malformed("entity");
  return { entityId: v.entityId, account: v.account as string | null, events: v.events, applications: v.applications };
}

export function encodeCreditStanding(r: CreditStandingRecord): Uint8Array {
  return encode({
    entityId: r.entityId,
    score: r.score,
    grade: r.grade,
    penalty: r.penalty,
    active: r.active,
    repaired: r.repaired,
    height: r.height,
  });
}

export function decodeCreditStanding(bytes: Uint8Array): CreditStandingRecord {
  const v = decodeMap(bytes, "standing");
  const ok =
    isText(v.entityId) &&
    [v.score, v.penalty, v.active, v.repaired, v.height].every(isCount) &&
    ["A", "B", "C", "D"].includes(v.grade as string);
  if (!ok) malformed("standing");
  return v as unknown as CreditStandingRecord;
}

export function encodeCreditEvent(r: CreditEventRecord): Uint8Array {
  return encode({
    id: r.id,
    kind: r.kind,
    severity: r.severity,
    evidenceDigest: r.evidenceDigest,
    date: r.date,
    recordedBy: r.recordedBy,
    height: r.height,
    status: r.status,
    openApplication: r.openApplication,
    repairedBy: r.repairedBy,
    repairedAt: r.repairedAt,
  });
}

export function decodeCreditEvent(bytes: Uint8Array): CreditEventRecord {
  const v = decodeMap(bytes, "event");
  const ok =
    [v.id, v.severity, v.height].every(isCount) &&
    [v.kind, v.date, v.recordedBy].every(isText) &&
    v.evidenceDigest instanceof Uint8Array &&
    CREDIT_EVENT_STATUSES.includes(v.status as CreditEventStatus) &&
    [v.openApplication, v.repairedBy, v.repairedAt].every(isCountOrNull);
  if (!ok) malformed("event");
  return v as unknown as CreditEventRecord;
}

export function encodeCreditApplication(r: CreditApplicationRecord): Uint8Array {
  return encode({
    id: r.id,
    eventId: r.eventId,
    applicant: r.applicant,
    reason: r.reason,
    evidenceDigest: r.evidenceDigest,
    height: r.height,
    status: r.status,
    decidedBy: r.decidedBy,
    decidedAt: r.decidedAt,
    note: r.note,
  });
}

export function decodeCreditApplication(bytes: Uint8Array): CreditApplicationRecord {
  const v = decodeMap(bytes, "application");
  const ok =
    [v.id, v.eventId, v.height].every(isCount) &&
    [v.applicant, v.reason].every(isText) &&
    v.evidenceDigest instanceof Uint8Array &&
    CREDIT_APPLICATION_STATUSES.includes(v.status as CreditApplicationStatus) &&
    [v.decidedBy, v.note].every(isTextOrNull) &&
    isCountOrNull(v.decidedAt);
  if (!ok) malformed("application");
  return v as unknown as CreditApplicationRecord;
}

export function encodeCreditLogEntry(entry: CreditLogEntry): Uint8Array {
  return encode([entry[0], entry[1]]);
}

export function decodeCreditLogEntry(bytes: Uint8Array): CreditLogEntry {
  const v = decode(bytes);
  if (!Array.isArray(v) || v.length !== 2 || (v[0] !== "event" && v[0] !== "application") || !isCount(v[1])) malformed("log entry");
  return [v[0], v[1]] as CreditLogEntry;
}

// ---- state keys ---------------------------------------------------------------------------------

function u32(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > CREDIT_ID_MAX) throw new TallyError("BAD_ARGS", "a credit id is a u32");
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** credit/n/<entityId> -> entity record */
export function creditEntityKey(entityId: string): Uint8Array {
  return moduleKey("credit", utf8(`n/${entityId}`));
}

/** credit/s/<entityId> -> standing record (present exactly when the entity record is) */
export function creditStandingKey(entityId: string): Uint8Array {
  return moduleKey("credit", utf8(`s/${entityId}`));
}

/** credit/v/<entityId>/ : the entity's events in id order. */
export function creditEventPrefix(entityId: string): Uint8Array {
  return moduleKey("credit", utf8(`v/${entityId}/`));
}

/** credit/v/<entityId>/<event id u32 BE> -> event record */
export function creditEventKey(entityId: string, eventId: number): Uint8Array {
  return concatBytes(creditEventPrefix(entityId), u32(eventId));
}

/** credit/a/<entityId>/ : the entity's repair applications in id order. */
export function creditApplicationPrefix(entityId: string): Uint8Array {
  return moduleKey("credit", utf8(`a/${entityId}/`));
}

/** credit/a/<entityId>/<application id u32 BE> -> application record */
export function creditApplicationKey(entityId: string, applicationId: number): Uint8Array {
  return concatBytes(creditApplicationPrefix(entityId), u32(applicationId));
}

/** credit/o/ : open applications of every entity, by entity id then application id. */
export function creditOpenPrefix(): Uint8Array {
  return moduleKey("credit", utf8("o/"));
}

/** credit/o/<entityId>/<application id u32 BE> -> event id, while the application is open */
export function creditOpenKey(entityId: string, applicationId: number): Uint8Array {
  return concatBytes(creditOpenPrefix(), utf8(`${entityId}/`), u32(applicationId));
}

/** credit/h/<entityId>/ : the entity's history in the order it happened. */
export function creditLogPrefix(entityId: string): Uint8Array {
  return moduleKey("credit", utf8(`h/${entityId}/`));
}

/** credit/h/<entityId>/<seq u32 BE> -> ["event" | "application", id]; seq = events + applications after the entry. */
export function creditLogKey(entityId: string, seq: number): Uint8Array {
  return concatBytes(creditLogPrefix(entityId), u32(seq));
}
