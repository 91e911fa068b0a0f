/**
 * JSON crossing the sandbox boundary. Contracts speak JSON; receipts, events and state are canonical
 * CBOR, which has no floats. So a contract's results and event data must be JSON whose numbers are
 * safe integers (larger or fractional amounts travel as strings), nested no deeper than encoding allows.
 */
import { fromHex, LIMITS, TallyError, type Value, valueToJson } from "@tally/core";

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** Parses JSON a contract produced into a Value, or throws CONTRACT_RESULT naming `what`. */
export function jsonToValue(text: string, what: string, maxBytes: number): Value {
  if (utf8Length(text) > maxBytes) throw new TallyError("CONTRACT_RESULT", `${what} exceeds ${maxBytes} bytes`, { maxBytes });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TallyError("CONTRACT_RESULT", `${what} is not valid JSON`);
  }
  check(parsed, what, 0);
  return parsed as Value;
}

function check(v: unknown, what: string, depth: number): void {
  if (depth > LIMITS.encodingDepthMax) throw new TallyError("CONTRACT_RESULT", `${what} is nested too deeply`);
  if (typeof v === "number" && !Number.isSafeInteger(v)) {
    throw new TallyError("CONTRACT_RESULT", `${what} holds a number that is not a safe integer (${v}); use a string`);
  }
  if (Array.isArray(v)) for (const x of v) check(x, what, depth + 1);
  else if (v !== null && typeof v === "object") for (const x of Object.values(v)) check(x, what, depth + 1);
}

/** A transaction's argument Value as the JSON the contract receives (bytes as 0x-hex, big integers as strings). */
export function argsToJson(args: Value | null): string {
  return JSON.stringify(valueToJson(args ?? null));
}

const HEX_RE = /^(?:[0-9a-f]{2})*$/;

/**
 * Arguments a contract passes to a native module method (`invoke`): JSON, where `{ "$bytes": "<hex>" }`
 * stands for a byte string (method schemas take bytes; JSON has none). Everything else as in
 * jsonToValue; a malformed `$bytes` is BAD_ARGS, like any argument the method's schema refuses.
 */
export function jsonToArgs(text: string, maxBytes: number): Value {
  return withBytes(jsonToValue(text, "module method arguments", maxBytes));
}

function withBytes(v: Value): Value {
  if (Array.isArray(v)) return v.map(withBytes);
  if (v === null || typeof v !== "object" || v instanceof Uint8Array) return v;
  const entries = Object.entries(v as Record<string, Value>);
  const [only] = entries;
  if (entries.length === 1 && only !== undefined && only[0] === "$bytes") {
    const hex = only[1];
    if (typeof hex !== "string" || !HEX_RE.test(hex))
      throw new TallyError("BAD_ARGS", "$bytes must be lowercase hex of whole bytes", { field: "$bytes" });
    return fromHex(hex);
  }
  const out: Record<string, Value> = {};
  for (const [k, x] of entries) out[k] = withBytes(x);
  return out;
}
