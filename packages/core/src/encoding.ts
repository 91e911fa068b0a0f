/**
 * Canonical binary encoding (spec/encoding.md): deterministic CBOR per RFC 8949 §4.2.1 (shortest
 * integers, definite lengths, map keys sorted bytewise), restricted to the Tally data model:
 * null, booleans, integers in the signed 64-bit range, UTF-8 strings, byte strings, arrays and maps
 * with string keys. No floats, tags, undefined or indefinite lengths.
 *
 * Decoding is strict and then re-encodes: bytes are accepted only if they are exactly the canonical
 * encoding of what they decode to, so every value has one encoding and one hash.
 */
import { decode as cborDecode, encode as cborEncode, rfc8949EncodeOptions } from "cborg";
import { equalBytes, plainBytes } from "./bytes.js";
import { TallyError } from "./errors.js";
import { LIMITS } from "./limits.js";

export type Value = null | boolean | number | bigint | string | Uint8Array | readonly Value[] | { readonly [key: string]: Value };

/**
 * Map keys in the data model are always text. For text keys, RFC 8949 §4.2.1 bytewise order of the
 * encoded keys equals "shorter UTF-8 first, then bytewise", because the header grows with the length;
 * that is cborg's default sorter, which compares without encoding each key (the RFC 8949 sorter does,
 * and was ~5% of a node's CPU). A property test checks both give identical bytes.
 */
const { mapSorter: _bytewiseSorter, ...ENCODE_OPTIONS } = rfc8949EncodeOptions;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const decodeOptions = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: true,
  rejectDuplicateMapKeys: true,
  useMaps: false,
} as const;

function checkModel(value: unknown, depth: number): void {
  if (depth > LIMITS.encodingDepthMax) throw new TallyError("BAD_ENCODING", "value nested too deeply");
  if (value === null || typeof value === "boolean" || typeof value === "string") return;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TallyError("BAD_ENCODING", "numbers must be safe integers");
    return;
  }
  if (typeof value === "bigint") {
    if (value < INT64_MIN || value > INT64_MAX) throw new TallyError("BAD_ENCODING", "integer outside 64-bit range");
    return;
  }
  if (value instanceof Uint8Array) return;
  if (Array.isArray(value)) {
    for (const item of value) checkModel(item, depth + 1);
    return;
  }
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw new TallyError("BAD_ENCODING", "only plain objects may be encoded");
    for (const item of Object.values(value)) checkModel(item, depth + 1);
    return;
  }
  throw new TallyError("BAD_ENCODING", `unsupported type ${typeof value}`);
}

/** Normalise integers so that a value decodes and re-encodes identically: bigints in the safe range become numbers. */
function normalise(value: unknown): unknown {
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
  if (value instanceof Uint8Array) return plainBytes(value);
  if (Array.isArray(value)) return value.map(normalise);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalise(v);
    return out;
  }
  return value;
}

export function encode(value: Value): Uint8Array {
  checkModel(value, 0);
  // cborg hands out Buffers under Node; a plain view keeps byte values comparable everywhere.
  return plainBytes(cborEncode(value, ENCODE_OPTIONS));
}

export function decode<T extends Value = Value>(bytes: Uint8Array, maxBytes: number = LIMITS.encodingBytesMax): T {
  if (bytes.length > maxBytes) throw new TallyError("TOO_LARGE", "encoded value too large", { max: maxBytes, got: bytes.length });
  let decoded: unknown;
  try {
    decoded = cborDecode(bytes, decodeOptions);
  } catch (err) {
    throw new TallyError("BAD_ENCODING", `undecodable CBOR: ${(err as Error).message}`);
  }
  checkModel(decoded, 0);
  const value = normalise(decoded) as T;
  if (!equalBytes(cborEncode(value, ENCODE_OPTIONS), bytes)) {
    throw new TallyError("BAD_ENCODING", "bytes are not the canonical encoding of their value");
  }
  return value;
}

/** A decoded CBOR map (a plain object of the data model), as opposed to bytes, arrays or scalars. */
export function isValueMap(value: unknown): value is { readonly [key: string]: Value } {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** Exactly these keys, no more: decoders use it so one value has one accepted shape. */
export function hasExactKeys(map: { readonly [key: string]: Value }, keys: readonly string[]): boolean {
  const own = Object.keys(map);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(map, k));
}
