/**
 * Frames on a p2p link (spec/p2p.md §framing): a u32 big-endian payload length, then that many bytes
 * of canonical CBOR. The decoder checks every length prefix against its current maximum before it
 * allocates or keeps a single byte of the payload, so what it buffers is bounded by that maximum.
 */
import { TallyError } from "@tally/core";

export const FRAME_HEADER_BYTES = 4;

/** One frame as a single buffer, ready to be written (shared by every peer a broadcast goes to). */
export function encodeFrame(payload: Uint8Array, maxBytes: number): Buffer {
  if (payload.length === 0 || payload.length > maxBytes) {
    throw new TallyError("TOO_LARGE", "frame payload size out of range", { max: maxBytes, got: payload.length });
  }
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Incremental decoder for one direction of one link. `push` calls `onFrame` for every complete
 * payload, in order, and stops early when `onFrame` returns false (the link was closed meanwhile).
 * Throws TallyError TOO_LARGE for a length prefix above `maxBytes` and BAD_ENCODING for a zero one;
 * after a throw the decoder must be discarded together with its link.
 */
export class FrameDecoder {
  /** Largest payload accepted; raised once the peer is authenticated. */
  maxBytes: number;
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFilled = 0;
  /** Payload being assembled across chunks, allocated only after its length passed the check. */
  private body: Buffer | null = null;
  private bodyFilled = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Bytes held for an incomplete frame (bounded by FRAME_HEADER_BYTES + maxBytes). */
  get bufferedBytes(): number {
    return this.headerFilled + this.bodyFilled;
  }

  push(chunk: Uint8Array, onFrame: (payload: Uint8Array) => boolean): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.body === null) {
        // Fast path: a whole frame inside this chunk is handed out as a view, without copying.
        if (this.headerFilled === 0 && end - pos >= FRAME_HEADER_BYTES) {
          const length = readU32(chunk, pos);
          this.checkLength(length);
          if (end - pos - FRAME_HEADER_BYTES >= length) {
            const start = pos + FRAME_HEADER_BYTES;
            pos = start + length;
            if (!onFrame(chunk.subarray(start, pos))) return;
            continue;
          }
          this.startBody(length);
          pos += FRAME_HEADER_BYTES;
          continue;
        }
        const take = Math.min(FRAME_HEADER_BYTES - this.headerFilled, end - pos);
        this.header.set(chunk.subarray(pos, pos + take), this.headerFilled);
        this.headerFilled += take;
        pos += take;
        if (this.headerFilled < FRAME_HEADER_BYTES) return;
        const length = this.header.readUInt32BE(0);
        this.headerFilled = 0;
        this.checkLength(length);
        this.startBody(length);
        continue;
      }
      const take = Math.min(this.body.length - this.bodyFilled, end - pos);
      this.body.set(chunk.subarray(pos, pos + take), this.bodyFilled);
      this.bodyFilled += take;
      pos += take;
      if (this.bodyFilled === this.body.length) {
        const payload = this.body;
        this.body = null;
        this.bodyFilled = 0;
        if (!onFrame(payload)) return;
      }
    }
  }

  private checkLength(length: number): void {
    if (length > this.maxBytes)
      throw new TallyError("TOO_LARGE", "frame length prefix above the limit", { max: this.maxBytes, got: length });
    if (length === 0) throw new TallyError("BAD_ENCODING", "empty frame");
  }

  private startBody(length: number): void {
    this.body = Buffer.allocUnsafe(length);
    this.bodyFilled = 0;
  }
}

function readU32(bytes: Uint8Array, pos: number): number {
  return (
    (((bytes[pos] as number) << 24) >>> 0) +
    ((bytes[pos + 1] as number) << 16) +
    ((bytes[pos + 2] as number) << 8) +
    (bytes[pos + 3] as number)
  );
}
