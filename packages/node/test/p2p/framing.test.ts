import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTallyError } from "@tally/core";
import { encodeFrame, FRAME_HEADER_BYTES, FrameDecoder } from "../../src/p2p/index.js";

function collect(decoder: FrameDecoder, chunks: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk, (payload) => {
      out.push(Uint8Array.from(payload));
      return true;
    });
  }
  return out;
}

function payload(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

describe("p2p framing", () => {
  it("reassembles frames split at every possible boundary, in order", () => {
    const payloads = [payload(1, 1), payload(300, 2), payload(5, 3), payload(70_000, 4)];
    const stream = Buffer.concat(payloads.map((p) => encodeFrame(p, 100_000)));
    for (const chunkSize of [1, 2, 3, 4, 5, 7, 64, 1000, stream.length]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i += chunkSize) chunks.push(stream.subarray(i, i + chunkSize));
      const decoder = new FrameDecoder(100_000);
      assert.deepEqual(collect(decoder, chunks), payloads, `chunk size ${chunkSize}`);
      assert.equal(decoder.bufferedBytes, 0);
    }
  });

  it("accepts a payload of exactly the maximum and refuses one byte more from the prefix alone", () => {
    const decoder = new FrameDecoder(16);
    assert.equal(collect(decoder, [encodeFrame(payload(16, 0), 16)]).length, 1);
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    header.writeUInt32BE(17);
    assert.throws(
      () => collect(decoder, [header]),
      (err) => isTallyError(err) && err.code === "TOO_LARGE",
    );
    assert.equal(decoder.bufferedBytes, 0, "nothing of the oversized frame is buffered");
  });

  it("refuses a huge prefix delivered one byte at a time without allocating for it", () => {
    const decoder = new FrameDecoder(1024);
    const header = Buffer.from([0xff, 0xff, 0xff, 0xf0]);
    assert.throws(
      () => collect(decoder, [header.subarray(0, 1), header.subarray(1, 3), header.subarray(3)]),
      (err) => isTallyError(err) && err.code === "TOO_LARGE",
    );
    assert.ok(decoder.bufferedBytes <= FRAME_HEADER_BYTES);
  });

  it("refuses an empty frame", () => {
    assert.throws(
      () => collect(new FrameDecoder(16), [Buffer.alloc(4)]),
      (err) => isTallyError(err) && err.code === "BAD_ENCODING",
    );
  });

  it("applies a raised maximum to the frames after the one that raised it", () => {
    const decoder = new FrameDecoder(8);
    const stream = Buffer.concat([encodeFrame(payload(8, 1), 8), encodeFrame(payload(100, 2), 100)]);
    const seen: number[] = [];
    decoder.push(stream, (p) => {
      seen.push(p.length);
      decoder.maxBytes = 100;
      return true;
    });
    assert.deepEqual(seen, [8, 100]);
  });

  it("stops delivering when the callback returns false", () => {
    const decoder = new FrameDecoder(16);
    const stream = Buffer.concat([encodeFrame(payload(2, 1), 16), encodeFrame(payload(2, 2), 16)]);
    let calls = 0;
    decoder.push(stream, () => {
      calls++;
      return false;
    });
    assert.equal(calls, 1);
  });

  it("encodeFrame refuses empty and oversized payloads", () => {
    assert.throws(
      () => encodeFrame(new Uint8Array(0), 16),
      (err) => isTallyError(err) && err.code === "TOO_LARGE",
    );
    assert.throws(
      () => encodeFrame(new Uint8Array(17), 16),
      (err) => isTallyError(err) && err.code === "TOO_LARGE",
    );
    const frame = encodeFrame(Uint8Array.of(1, 2, 3), 16);
    assert.deepEqual([...frame], [0, 0, 0, 3, 1, 2, 3]);
  });
});
