/** Byte helpers shared by every package. Hex is lowercase, even-length, no `0x` prefix. */
import { TallyError } from "./errors.js";

const HEX_RE = /^(?:[0-9a-f]{2})*$/;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

/** Node's Buffer when present (several times faster); plain loops in browsers. */
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;

export function toHex(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** Strict: lowercase only, so one byte string has exactly one hex spelling (hashes are compared as text). */
export function fromHex(hex: string, expectedBytes?: number): Uint8Array {
  if (!HEX_RE.test(hex)) throw new TallyError("BAD_HEX", "not lowercase even-length hex", { length: hex.length });
  let out: Uint8Array;
  if (NodeBuffer !== undefined) {
    out = plainBytes(NodeBuffer.from(hex, "hex"));
  } else {
    out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
  if (expectedBytes !== undefined && out.length !== expectedBytes) {
    throw new TallyError("BAD_HEX", `expected ${expectedBytes} bytes`, { expected: expectedBytes, got: out.length });
  }
  return out;
}

export function isHex(value: string): boolean {
  return HEX_RE.test(value);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** Unsigned lexicographic order: the order LMDB and RFC 8949 §4.2.1 use. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function utf8(text: string): Uint8Array {
  return textEncoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return textDecoder.decode(bytes);
}

/** A plain Uint8Array view: Node's Buffer subclasses encode differently in some libraries. */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
