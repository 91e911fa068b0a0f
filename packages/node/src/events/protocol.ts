/**
 * Client → server messages of the WebSocket at /v1/ws (spec/api.md §events), checked field by field:
 * anything unknown or malformed is a BAD_REQUEST that names what is wrong, never silently ignored.
 */
import { LIMITS, TallyError } from "@tally/core";
import { CURSOR_PATTERN, type EventFilter } from "./event-log.js";

export type Topic = "blocks" | "events";

export type ClientMessage =
  | {
      readonly op: "subscribe";
      readonly id: string;
      readonly topic: Topic;
      readonly filter: EventFilter;
      readonly fromHeight?: number;
      readonly after?: string;
    }
  | { readonly op: "unsubscribe"; readonly id: string }
  | { readonly op: "ping" };

const HEX_RE = /^([0-9a-f]{2}){1,32}$/;
const CURSOR_RE = new RegExp(CURSOR_PATTERN);
const ALLOWED: Record<string, readonly string[]> = {
  subscribe: ["op", "id", "topic", "filter", "fromHeight", "after"],
  unsubscribe: ["op", "id"],
  ping: ["op"],
};
const FILTER_KEYS = ["module", "name", "contract"];

function bad(message: string, id?: string): never {
  throw new TallyError("BAD_REQUEST", message, id === undefined ? {} : { id });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The subscription id a message names, if it names a well-formed one (so an error can carry it). */
export function messageId(msg: unknown): string | undefined {
  if (!isObject(msg)) return undefined;
  const id = msg.id;
  return typeof id === "string" && id.length >= 1 && id.length <= LIMITS.wsSubscriptionIdLengthMax ? id : undefined;
}

function name(v: unknown, field: string, id: string): string {
  if (typeof v !== "string" || v.length === 0 || v.length > LIMITS.nameLengthMax) {
    bad(`filter.${field} must be a string of 1..${LIMITS.nameLengthMax} characters`, id);
  }
  return v;
}

function parseFilter(v: unknown, id: string): EventFilter {
  if (v === undefined) return {};
  if (!isObject(v)) bad("filter must be an object", id);
  const unknown = Object.keys(v).find((k) => !FILTER_KEYS.includes(k));
  if (unknown !== undefined) bad(`unknown filter field "${unknown.slice(0, 40)}"`, id);
  const filter: { module?: string; name?: string; contract?: string } = {};
  if (v.module !== undefined) filter.module = name(v.module, "module", id);
  if (v.name !== undefined) filter.name = name(v.name, "name", id);
  if (v.contract !== undefined) {
    if (typeof v.contract !== "string" || !HEX_RE.test(v.contract)) bad("filter.contract must be lowercase hex of 1..32 bytes", id);
    filter.contract = v.contract;
  }
  return filter;
}

/** Parses one text message (already within LIMITS.wsMessageBytesMax). Throws BAD_REQUEST. */
export function parseClientMessage(text: string): ClientMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    bad("message is not JSON");
  }
  if (!isObject(msg)) bad("message must be a JSON object");
  const id = messageId(msg);
  const op = msg.op;
  if (typeof op !== "string" || !(op in ALLOWED)) bad('op must be "subscribe", "unsubscribe" or "ping"', id);
  const unknown = Object.keys(msg).find((k) => !(ALLOWED[op] as readonly string[]).includes(k));
  if (unknown !== undefined) bad(`unknown field "${unknown.slice(0, 40)}" for op ${op}`, id);
  if (op === "ping") return { op };
  if (id === undefined) bad(`id must be a string of 1..${LIMITS.wsSubscriptionIdLengthMax} characters`);
  if (op === "unsubscribe") return { op, id };

  const topic = msg.topic;
  if (topic !== "blocks" && topic !== "events") bad('topic must be "blocks" or "events"', id);
  if (topic === "blocks" && (msg.filter !== undefined || msg.after !== undefined))
    bad("the blocks topic takes neither filter nor after", id);
  const filter = parseFilter(msg.filter, id);
  const fromHeight = msg.fromHeight;
  if (fromHeight !== undefined && (typeof fromHeight !== "number" || !Number.isSafeInteger(fromHeight) || fromHeight < 1)) {
    bad("fromHeight must be an integer >= 1", id);
  }
  const after = msg.after;
  if (after !== undefined && (typeof after !== "string" || !CURSOR_RE.test(after)))
    bad('after must be a cursor "height:txIndex:eventIndex"', id);
  if (fromHeight !== undefined && after !== undefined) bad("give fromHeight or after, not both", id);
  return {
    op: "subscribe",
    id,
    topic,
    filter,
    ...(fromHeight === undefined ? {} : { fromHeight: fromHeight as number }),
    ...(after === undefined ? {} : { after: after as string }),
  };
}
