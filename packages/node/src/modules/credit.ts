/**
 * Credit supervision and repair (spec/modules/credit.md). A `regulator` records credit events
 * (penalties, judgments) against an entity and links the entity to an account; that account, or any
 * `bank`, applies for the repair of an event; a regulator approves or rejects. Approval marks the
 * event repaired, which restores the points it took off the entity's standing. The standing is kept
 * in state, updated with every change, so it can be proven; history and decisions are never erased.
 */
import {
  assert,
  CREDIT_ENTITY_RE,
  CREDIT_ID_MAX,
  CREDIT_KIND_RE,
  CREDIT_SEVERITY_MAX,
  CREDIT_SEVERITY_MIN,
  CREDIT_TEXT_LENGTH_MAX,
  type CreditApplicationRecord,
  type CreditEntityRecord,
  type CreditEventRecord,
  type CreditLogEntry,
  type CreditStandingRecord,
  creditApplicationKey,
  creditEntityKey,
  creditEventKey,
  creditLogKey,
  creditLogPrefix,
  creditOpenKey,
  creditOpenPrefix,
  creditSeverityWeight,
  creditStandingKey,
  creditStandingOf,
  decodeCreditApplication,
  decodeCreditEntity,
  decodeCreditEvent,
  decodeCreditLogEntry,
  decodeCreditStanding,
  encode,
  encodeCreditApplication,
  encodeCreditEntity,
  encodeCreditEvent,
  encodeCreditLogEntry,
  encodeCreditStanding,
  fromUtf8,
  isCalendarDate,
  LIMITS,
  ROLES,
  TallyError,
  type Value,
} from "@tally/core";
import { type CallContext, defineMethod, defineQuery, type Module, type QueryContext, type ReadContext } from "../execution/module.js";
import { type Schema, s } from "../execution/schema.js";
import { readAccount } from "./accounts.js";

const MODULE = "credit";
const ADDRESS_RE = /^[0-9a-f]{40}$/;
/** A cursor of the `applications` listing: "<entityId>/<applicationId>". */
const OPEN_CURSOR_RE = /^([A-Za-z0-9][A-Za-z0-9._-]{0,63})\/([1-9][0-9]{0,9})$/;

function badArgs(path: string, expected: string): never {
  throw new TallyError("BAD_ARGS", `${path} must be ${expected}`, { field: path, expected });
}

const entityId = s.string({ maxLength: 64, pattern: CREDIT_ENTITY_RE });
const address = s.string({ maxLength: 40, pattern: ADDRESS_RE });

const severity: Schema<number> = {
  description: `an integer from ${CREDIT_SEVERITY_MIN} to ${CREDIT_SEVERITY_MAX}`,
  parse(v, path) {
    const n = s.uint().parse(v, path);
    if (n < CREDIT_SEVERITY_MIN || n > CREDIT_SEVERITY_MAX) badArgs(path, this.description);
    return n;
  },
};

/** Event and application ids start at 1. */
const id: Schema<number> = {
  description: `an integer from 1 to ${CREDIT_ID_MAX}`,
  parse(v, path) {
    const n = s.uint().parse(v, path);
    if (n < 1 || n > CREDIT_ID_MAX) badArgs(path, this.description);
    return n;
  },
};

const date: Schema<string> = {
  description: "a calendar date YYYY-MM-DD",
  parse(v, path) {
    if (typeof v !== "string" || !isCalendarDate(v)) badArgs(path, this.description);
    return v;
  },
};

const boolean: Schema<boolean> = {
  description: "true or false",
  parse(v, path) {
    if (typeof v !== "boolean") badArgs(path, this.description);
    return v;
  },
};

/** Non-empty text: an application must say why. */
const reason: Schema<string> = {
  description: `a string of 1 to ${CREDIT_TEXT_LENGTH_MAX} characters`,
  parse(v, path) {
    if (typeof v !== "string" || v.length === 0 || v.length > CREDIT_TEXT_LENGTH_MAX) badArgs(path, this.description);
    return v;
  },
};

const recordArgs = s.object({
  entityId,
  kind: s.string({ maxLength: 32, pattern: CREDIT_KIND_RE }),
  severity,
  evidenceDigest: s.bytes(32),
  date,
});
const linkArgs = s.object({ entityId, account: address });
const applyArgs = s.object({ entityId, eventId: id, reason, evidenceDigest: s.bytes(32) });
const decideArgs = s.object({ entityId, applicationId: id, approve: boolean, note: s.string({ maxLength: CREDIT_TEXT_LENGTH_MAX }) });

type Reader = Pick<ReadContext, "get">;

function readEntity(ctx: Reader, entity: string): CreditEntityRecord | null {
  const bytes = ctx.get(creditEntityKey(entity));
  return bytes === null ? null : decodeCreditEntity(bytes);
}

function requireEntity(ctx: Reader, entity: string): CreditEntityRecord {
  const record = readEntity(ctx, entity);
  if (record === null) throw new TallyError("NO_SUCH_ENTITY", undefined, { entityId: entity });
  return record;
}

function readStanding(ctx: Reader, entity: string): CreditStandingRecord {
  const bytes = ctx.get(creditStandingKey(entity));
  assert(bytes !== null, "a credit entity without a standing");
  return decodeCreditStanding(bytes);
}

function requireEvent(ctx: Reader, entity: string, eventId: number): CreditEventRecord {
  const bytes = ctx.get(creditEventKey(entity, eventId));
  if (bytes === null) throw new TallyError("NO_SUCH_EVENT", undefined, { entityId: entity, eventId });
  return decodeCreditEvent(bytes);
}

function requireApplication(ctx: Reader, entity: string, applicationId: number): CreditApplicationRecord {
  const bytes = ctx.get(creditApplicationKey(entity, applicationId));
  if (bytes === null) throw new TallyError("NO_SUCH_APPLICATION", undefined, { entityId: entity, applicationId });
  return decodeCreditApplication(bytes);
}

function refuseIfRepaired(event: CreditEventRecord, entity: string): void {
  if (event.status === "repaired") {
    throw new TallyError("EVENT_REPAIRED", undefined, { entityId: entity, eventId: event.id, repairedBy: event.repairedBy });
  }
}

function refuseIfDecided(app: CreditApplicationRecord, entity: string): void {
  if (app.status !== "open") {
    throw new TallyError("APPLICATION_DECIDED", undefined, { entityId: entity, applicationId: app.id, status: app.status });
  }
}

/** A new entity: nothing recorded, an unblemished standing. Written together so that standing exists exactly when the entity does. */
function entityOrNew(ctx: CallContext, entity: string): CreditEntityRecord {
  const record = readEntity(ctx, entity);
  if (record !== null) return record;
  ctx.set(
    creditStandingKey(entity),
    encodeCreditStanding({ entityId: entity, ...creditStandingOf({ penalty: 0, active: 0, repaired: 0 }), height: ctx.height }),
  );
  return { entityId: entity, account: null, events: 0, applications: 0 };
}

/** Ids, and history positions (events + applications), are u32 in keys. */
function nextId(entity: CreditEntityRecord, counter: "events" | "applications"): number {
  if (entity.events + entity.applications >= CREDIT_ID_MAX) {
    throw new TallyError("TOO_LARGE", "the entity's history is full", { entityId: entity.entityId });
  }
  return entity[counter] + 1;
}

/** Appends to the entity's history; `entity` already counts the new event or application. */
function appendLog(ctx: CallContext, entity: CreditEntityRecord, entry: CreditLogEntry): void {
  ctx.set(creditLogKey(entity.entityId, entity.events + entity.applications), encodeCreditLogEntry(entry));
}

/** Recomputes the stored standing from updated totals (the rule itself is in core: creditStandingOf). */
function updateStanding(
  ctx: CallContext,
  entity: string,
  change: { penalty: number; active: number; repaired: number },
): CreditStandingRecord {
  const before = readStanding(ctx, entity);
  const standing = {
    entityId: entity,
    ...creditStandingOf({
      penalty: before.penalty + change.penalty,
      active: before.active + change.active,
      repaired: before.repaired + change.repaired,
    }),
    height: ctx.height,
  };
  ctx.set(creditStandingKey(entity), encodeCreditStanding(standing));
  return standing;
}

function recordEvent(
  ctx: CallContext,
  args: { entityId: string; kind: string; severity: number; evidenceDigest: Uint8Array; date: string },
) {
  const before = entityOrNew(ctx, args.entityId);
  const entity = { ...before, events: nextId(before, "events") };
  const event: CreditEventRecord = {
    id: entity.events,
    kind: args.kind,
    severity: args.severity,
    evidenceDigest: args.evidenceDigest,
    date: args.date,
    recordedBy: ctx.caller,
    height: ctx.height,
    status: "active",
    openApplication: null,
    repairedBy: null,
    repairedAt: null,
  };
  ctx.set(creditEventKey(args.entityId, event.id), encodeCreditEvent(event));
  ctx.set(creditEntityKey(args.entityId), encodeCreditEntity(entity));
  appendLog(ctx, entity, ["event", event.id]);
  const standing = updateStanding(ctx, args.entityId, { penalty: creditSeverityWeight(args.severity), active: 1, repaired: 0 });
  const data = {
    entityId: args.entityId,
    eventId: event.id,
    kind: args.kind,
    severity: args.severity,
    score: standing.score,
    grade: standing.grade,
  };
  ctx.emit("recorded", data);
  return data;
}

function linkEntity(ctx: CallContext, args: { entityId: string; account: string }) {
  if (readAccount(ctx.get, args.account) === null) throw new TallyError("NO_SUCH_ACCOUNT", undefined, { address: args.account });
  const entity = entityOrNew(ctx, args.entityId);
  ctx.set(creditEntityKey(args.entityId), encodeCreditEntity({ ...entity, account: args.account }));
  ctx.emit("linked", { entityId: args.entityId, account: args.account, previous: entity.account, by: ctx.caller });
  return { entityId: args.entityId, account: args.account };
}

function applyRepair(ctx: CallContext, args: { entityId: string; eventId: number; reason: string; evidenceDigest: Uint8Array }) {
  const before = requireEntity(ctx, args.entityId);
  if (ctx.caller !== before.account && !ctx.callerRoles.includes(ROLES.bank)) {
    throw new TallyError("FORBIDDEN", "only the entity's linked account or a bank may apply for its repair", { entityId: args.entityId });
  }
  const event = requireEvent(ctx, args.entityId, args.eventId);
  refuseIfRepaired(event, args.entityId);
  if (event.openApplication !== null) {
    throw new TallyError("REPAIR_PENDING", undefined, { entityId: args.entityId, eventId: event.id, applicationId: event.openApplication });
  }
  const entity = { ...before, applications: nextId(before, "applications") };
  const app: CreditApplicationRecord = {
    id: entity.applications,
    eventId: event.id,
    applicant: ctx.caller,
    reason: args.reason,
    evidenceDigest: args.evidenceDigest,
    height: ctx.height,
    status: "open",
    decidedBy: null,
    decidedAt: null,
    note: null,
  };
  ctx.set(creditApplicationKey(args.entityId, app.id), encodeCreditApplication(app));
  ctx.set(creditEventKey(args.entityId, event.id), encodeCreditEvent({ ...event, openApplication: app.id }));
  ctx.set(creditOpenKey(args.entityId, app.id), encode(event.id));
  ctx.set(creditEntityKey(args.entityId), encodeCreditEntity(entity));
  appendLog(ctx, entity, ["application", app.id]);
  const data = { entityId: args.entityId, applicationId: app.id, eventId: event.id, applicant: ctx.caller };
  ctx.emit("applied", data);
  return data;
}

function decideRepair(ctx: CallContext, args: { entityId: string; applicationId: number; approve: boolean; note: string }) {
  requireEntity(ctx, args.entityId);
  const app = requireApplication(ctx, args.entityId, args.applicationId);
  refuseIfDecided(app, args.entityId);
  const event = requireEvent(ctx, args.entityId, app.eventId);
  assert(event.status === "active" && event.openApplication === app.id, "an open application whose event is not waiting for it");
  const status = args.approve ? "approved" : "rejected";
  ctx.set(
    creditApplicationKey(args.entityId, app.id),
    encodeCreditApplication({ ...app, status, decidedBy: ctx.caller, decidedAt: ctx.height, note: args.note }),
  );
  const repaired = args.approve ? { status: "repaired" as const, repairedBy: app.id, repairedAt: ctx.height } : {};
  ctx.set(creditEventKey(args.entityId, event.id), encodeCreditEvent({ ...event, openApplication: null, ...repaired }));
  ctx.delete(creditOpenKey(args.entityId, app.id));
  // A rejection changes nothing the rule counts, so the standing (and its height) stays as it was.
  const standing = args.approve
    ? updateStanding(ctx, args.entityId, { penalty: -creditSeverityWeight(event.severity), active: -1, repaired: 1 })
    : readStanding(ctx, args.entityId);
  const data = {
    entityId: args.entityId,
    applicationId: app.id,
    eventId: event.id,
    status,
    by: ctx.caller,
    score: standing.score,
    grade: standing.grade,
  };
  ctx.emit("decided", data);
  return data;
}

// ---- queries --------------------------------------------------------------------------------------

/** Items of a page: 1 to LIMITS.apiListLimitMax (default 100). */
const limitArg: Schema<number | null> = s.optional({
  description: `an integer from 1 to ${LIMITS.apiListLimitMax}`,
  parse(v, path) {
    const n = s.uint().parse(v, path);
    if (n < 1 || n > LIMITS.apiListLimitMax) badArgs(path, this.description);
    return n;
  },
});
const pageLimit = (limit: number | null) => limit ?? 100;

function standingJson(entity: CreditEntityRecord, standing: CreditStandingRecord) {
  return {
    entityId: entity.entityId,
    account: entity.account,
    score: standing.score,
    grade: standing.grade,
    penalty: standing.penalty,
    active: standing.active,
    repaired: standing.repaired,
    events: entity.events,
    applications: entity.applications,
    updatedAt: standing.height,
  };
}

function eventJson(e: CreditEventRecord): { [key: string]: Value } {
  return { ...e };
}

function applicationJson(a: CreditApplicationRecord): { [key: string]: Value } {
  return { ...a };
}

/** The entity's events and applications (with their decisions) in the order they were filed. */
function history(ctx: QueryContext, args: { entityId: string; after: number | null; limit: number | null }) {
  const entity = requireEntity(ctx, args.entityId);
  const limit = pageLimit(args.limit);
  const prefix = creditLogPrefix(args.entityId);
  const after = args.after === null || args.after === 0 ? undefined : creditLogKey(args.entityId, Math.min(args.after, CREDIT_ID_MAX));
  const rows = ctx.scan(prefix, limit, after);
  const items = rows.map(([key, value]) => {
    const seq = new DataView(key.buffer, key.byteOffset + prefix.length, 4).getUint32(0);
    const [type, itemId] = decodeCreditLogEntry(value);
    const record =
      type === "event"
        ? eventJson(requireEvent(ctx, args.entityId, itemId))
        : applicationJson(requireApplication(ctx, args.entityId, itemId));
    return { seq, type, ...record };
  });
  const last = items.at(-1);
  return {
    ...standingJson(entity, readStanding(ctx, args.entityId)),
    items,
    next: items.length === limit && last !== undefined ? last.seq : null,
  };
}

/** Open applications of every entity, by entity id then application id (regulators). */
function openApplications(ctx: QueryContext, args: { after: string | null; limit: number | null }) {
  const limit = pageLimit(args.limit);
  let after: Uint8Array | undefined;
  if (args.after !== null) {
    const m = OPEN_CURSOR_RE.exec(args.after);
    const appId = Number(m?.[2]);
    if (m === null || appId > CREDIT_ID_MAX) badArgs("after", "a cursor <entityId>/<applicationId>");
    after = creditOpenKey(m[1] as string, appId);
  }
  const prefix = creditOpenPrefix();
  const rows = ctx.scan(prefix, limit, after);
  let next: string | null = null;
  const items = rows.map(([key]) => {
    const rest = key.subarray(prefix.length);
    const entity = fromUtf8(rest.subarray(0, rest.length - 5));
    const appId = new DataView(rest.buffer, rest.byteOffset + rest.length - 4, 4).getUint32(0);
    next = `${entity}/${appId}`;
    return { entityId: entity, ...applicationJson(requireApplication(ctx, entity, appId)) };
  });
  return { items, next: items.length === limit ? next : null };
}

export const creditModule: Module = {
  name: MODULE,
  queries: {
    standing: defineQuery({
      description: "An entity's credit standing: score, grade, active and repaired event counts, linked account (anyone).",
      args: s.object({ entityId }),
      run: (ctx, args) => standingJson(requireEntity(ctx, args.entityId), readStanding(ctx, args.entityId)),
    }),
    history: defineQuery({
      description: "An entity's standing and its credit events and repair applications with their decisions, in order (anyone).",
      args: s.object({ entityId, after: s.optional(s.uint()), limit: limitArg }),
      run: history,
    }),
    applications: defineQuery({
      description: "Open repair applications of every entity, by entity id and application id (regulators; signed).",
      args: s.object({ after: s.optional(s.string({ maxLength: 75 })), limit: limitArg }),
      roles: [ROLES.regulator],
      run: openApplications,
    }),
  },
  methods: {
    "record-event": defineMethod({
      description: "Record a credit event against an entity (regulator); it counts against the entity's standing while active.",
      args: recordArgs,
      roles: [ROLES.regulator],
      run: recordEvent,
    }),
    "link-entity": defineMethod({
      description: "Link an entity to a registered account, which may then apply for the entity's repairs (regulator).",
      args: linkArgs,
      roles: [ROLES.regulator],
      run: linkEntity,
    }),
    "apply-repair": defineMethod({
      description:
        "Apply for the repair of an active credit event (the entity's linked account or a bank); one open application per event.",
      args: applyArgs,
      precheck(ctx, args) {
        // Repaired is final, so refusing at admission cannot turn away a call that would have passed.
        const bytes = ctx.get(creditEventKey(args.entityId, args.eventId));
        if (bytes !== null) refuseIfRepaired(decodeCreditEvent(bytes), args.entityId);
      },
      run: applyRepair,
    }),
    "decide-repair": defineMethod({
      description: "Approve or reject an open repair application (regulator); approval marks the event repaired.",
      args: decideArgs,
      roles: [ROLES.regulator],
      precheck(ctx, args) {
        // A decision is final, so refusing at admission cannot turn away a call that would have passed.
        const bytes = ctx.get(creditApplicationKey(args.entityId, args.applicationId));
        if (bytes !== null) refuseIfDecided(decodeCreditApplication(bytes), args.entityId);
      },
      run: decideRepair,
    }),
  },
};
