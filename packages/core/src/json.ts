/**
 * Display form of encoded values for JSON APIs: bytes become "0x"-prefixed hex, 64-bit integers
 * beyond the safe range become decimal strings. One-way: JSON views are for reading, never hashed.
 */
import { toHex } from "./bytes.js";
import type { Value } from "./encoding.js";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function valueToJson(value: Value): JsonValue {
  if (value instanceof Uint8Array) return `0x${toHex(value)}`;
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(valueToJson);
  if (value !== null && typeof value === "object") {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(value as Record<string, Value>)) out[k] = valueToJson(v);
    return out;
  }
  return value as JsonValue;
}
