/**
 * Messages per second over one authenticated p2p link (both ends in this process, 127.0.0.1).
 * Run: node --conditions=@tally/source --import tsx packages/node/test/p2p/throughput.bench.ts [suite] [seconds]
 * (payload sizes: BENCH_SIZES=64,1024,16384 by default).
 * The sender keeps at most WINDOW messages (and 16 MiB) unacknowledged, counted at the receiver, so that
 * the send queue never overflows and every message counts.
 */
import { getSuite, type SuiteId } from "@tally/core";
import { Harness, sortedKeys, waitFor } from "./helpers.js";

const WINDOW = 5_000;
const suiteId = (process.argv[2] ?? "ed25519") as SuiteId;
const seconds = Number(process.argv[3] ?? 2);

async function run(payloadBytes: number): Promise<{ msgsPerSecond: number; mbPerSecond: number }> {
  const h = Harness.forSuite(suiteId);
  try {
    const [aKey, bKey] = sortedKeys(getSuite(suiteId), ["bench-a", "bench-b"]);
    if (aKey === undefined || bKey === undefined) throw new Error("keys");
    const a = await h.node({ key: aKey, limits: { inboundMsgsPerSecond: 10_000_000 } });
    const b = await h.node({ key: bKey, limits: { inboundMsgsPerSecond: 10_000_000 } });
    await h.connectAll([a, b]);
    let received = 0;
    b.node.onMessage(() => {
      received++;
    });
    const message = { type: "vote", height: 123_456, round: 0, payload: new Uint8Array(payloadBytes) };
    let sent = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    while (performance.now() < deadline) {
      const room = Math.min(WINDOW, Math.floor((16 * 1024 * 1024) / payloadBytes)) - (sent - received);
      for (let i = 0; i < room; i++) a.node.send(b.hex, message);
      sent += Math.max(0, room);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => received === sent, "drain", 10_000);
    const elapsed = (performance.now() - started) / 1000;
    const bytesOut = (await a.node.metrics.bytesOut.get()).values[0]?.value ?? 0;
    return { msgsPerSecond: received / elapsed, mbPerSecond: bytesOut / elapsed / 1e6 };
  } finally {
    await h.close();
  }
}

const rows: string[] = [];
for (const payloadBytes of (process.env.BENCH_SIZES ?? "64,1024,16384").split(",").map(Number)) {
  const r = await run(payloadBytes);
  rows.push(`| ${suiteId} | ${payloadBytes} | ${Math.round(r.msgsPerSecond).toLocaleString("en")} | ${r.mbPerSecond.toFixed(1)} |`);
}
process.stdout.write(`| suite | payload bytes | messages/s | MB/s on the wire |\n|---|---|---|---|\n${rows.join("\n")}\n`);
