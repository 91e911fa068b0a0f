import { Bucket } from "./buckets.js";

const textEncoder = new TextEncoder();

export function bucketKey(bucket: Bucket, suffix: Uint8Array): Buffer {
  const key = Buffer.allocUnsafe(1 + suffix.length);
  key[0] = bucket;
  key.set(suffix, 1);
  return key;
}

export function heightKey(bucket: Bucket, height: number): Buffer {
  const key = Buffer.allocUnsafe(9);
  key[0] = bucket;
  key.writeBigUInt64BE(BigInt(height), 1);
  return key;
}

export function metaKey(name: string): Buffer {
  return bucketKey(Bucket.meta, textEncoder.encode(name));
}

export function u64(n: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

export function readU64(b: Uint8Array, offset = 0): number {
  return Number(Buffer.from(b.buffer, b.byteOffset, b.byteLength).readBigUInt64BE(offset));
}

export function txLocation(height: number, index: number): Buffer {
  const b = Buffer.allocUnsafe(12);
  b.writeBigUInt64BE(BigInt(height));
  b.writeUInt32BE(index, 8);
  return b;
}

export function readTxLocation(b: Uint8Array): { height: number; index: number } {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return { height: Number(buf.readBigUInt64BE(0)), index: buf.readUInt32BE(8) };
}
