/**
 * Events over the API (spec/api.md §events): GET /v1/events filters and pages; the WebSocket at /v1/ws
 * streams blocks and events, replays from a height into live delivery with no gap or duplicate, and
 * refuses malformed messages and clients over its limits with typed errors. The limit tests mount the
 * real routes on their own Fastify app with small limits, over a real chain.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { LIMITS } from "@tally/core";
import Fastify, { type FastifyInstance } from "fastify";
import WebSocket from "ws";
import { registerEventRoutes } from "../src/api/events-routes.js";
import { EventLog } from "../src/events/event-log.js";
import type { EventStreamLimits } from "../src/events/hub.js";
import {
  commitBlock,
  get,
  makeNet,
  notarize,
  type OpenChain,
  openChain,
  post,
  type RunningNode,
  type SignedTestTx,
  sign,
  silentLogger,
  startNode,
  type TestAccount,
  type TestNet,
  tempDir,
} from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: server messages are checked field by field
type Msg = any;

/** A WebSocket client that keeps every message and can wait for the next one matching a predicate. */
class WsClient {
  readonly messages: Msg[] = [];
  private readonly waiters: Array<() => void> = [];
  closeCode: number | undefined;
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      this.messages.push(JSON.parse(String(data)));
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) =>
      ws.on("close", (code) => {
        this.closeCode = code;
        resolve(code);
        for (const w of this.waiters.splice(0)) w();
      }),
    );
    ws.on("error", () => {});
  }

  static open(url: string): Promise<WsClient> {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/v1/ws`);
    const client = new WsClient(ws);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(client));
      ws.once("error", reject);
    });
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  }

  /** Messages so far that match. */
  where(pred: (m: Msg) => boolean): Msg[] {
    return this.messages.filter(pred);
  }

  /** Waits until `count` messages match (default 1); returns them. */
  async waitFor(pred: (m: Msg) => boolean, count = 1, timeoutMs = 10_000): Promise<Msg[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.where(pred);
      if (found.length >= count) return found;
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode}) with ${found.length}/${count} messages`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${found.length}/${count} messages: ${JSON.stringify(this.messages.slice(-3))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends `msg` and returns the next reply of `type` for it (after what was already received). */
  async ask(msg: unknown, pred: (m: Msg) => boolean): Promise<Msg> {
    const before = this.where(pred).length;
    this.send(msg);
    const all = await this.waitFor(pred, before + 1);
    return all[before];
  }

  close(): void {
    this.ws.close();
  }
}

const isType = (type: string, id?: string) => (m: Msg) => m.type === type && (id === undefined || m.id === id);
const errorFor = (id?: string) => (m: Msg) => m.type === "error" && m.id === id;
/** A WS event message as the REST item it repeats. */
const asItem = ({ type: _t, id: _i, ...item }: Msg) => item;

/** Every item of GET /v1/events for `query`, following `next` to the end. */
async function allEvents(url: string, query: Record<string, string | number>): Promise<Msg[]> {
  const items: Msg[] = [];
  let after: string | null = null;
  for (;;) {
    const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
    if (after !== null) params.set("after", after);
    const res = await get(url, `/v1/events?${params}`);
    assert.equal(res.status, 200, res.text);
    items.push(...res.json.events);
    after = res.json.next;
    if (after === null) return items;
  }
}

describe("events API", () => {
  const net = makeNet("ed25519", {
    accounts: [{ name: "issuer", roles: ["issuer"] }, { name: "alice" }, { name: "bob" }],
  });
  const issuer = net.accounts.issuer as TestAccount;
  const alice = net.accounts.alice as TestAccount;
  const bob = net.accounts.bob as TestAccount;
  const nonces = new Map<string, number>();
  let n: RunningNode;
  let url: string;

  const tx = (who: TestAccount, module: string, method: string, args: Parameters<typeof sign>[5]): SignedTestTx => {
    const nonce = nonces.get(who.address) ?? 0;
    nonces.set(who.address, nonce + 1);
    return sign(net, who.key, nonce, module, method, args);
  };
  /** Submits and waits for the commit; returns {height, index, result}. */
  const commit = async (t: SignedTestTx) => {
    const res = await post(url, "/v1/txs", { tx: t.hex, wait: true });
    assert.equal(res.status, 200, res.text);
    return res.json as { hash: string; height: number; index: number; result: { status: string; events: Msg[] } };
  };
  const transfer = (from: TestAccount, to: TestAccount, amount: string) =>
    tx(from, "tokens", "transfer", { symbol: "USD", to: to.address, amount });

  /** Every event committed so far by this suite's transactions, in commit order (from their own results). */
  const expected: Msg[] = [];
  const expect = async (c: { hash: string; height: number; index: number; result: { events: Msg[] } }) => {
    const timeMs = (await get(url, `/v1/blocks/${c.height}`)).json.header.timeMs;
    for (const [eventIndex, e] of c.result.events.entries()) {
      expected.push({ height: c.height, txHash: c.hash, txIndex: c.index, eventIndex, ...e, timeMs });
    }
  };
  const record = async (t: SignedTestTx) => {
    const c = await commit(t);
    await expect(c);
    return c;
  };

  before(async () => {
    n = await startNode(net);
    url = n.url;
    await record(tx(issuer, "tokens", "create", { symbol: "USD", name: "Tally dollar", decimals: 2, maxSupply: "1000000" }));
    await record(tx(issuer, "tokens", "mint", { symbol: "USD", to: alice.address, amount: "1000" }));
    await record(transfer(alice, bob, "10"));
    // A failed transaction (more than alice holds) has no events.
    const failed = await record(transfer(alice, bob, "999999"));
    assert.equal(failed.result.status, "failed");
    await record(notarize(net, alice.key, nonces.get(alice.address) ?? 0, "e1"));
    nonces.set(alice.address, (nonces.get(alice.address) ?? 0) + 1);
    // Several transactions in one block: their events keep transaction order.
    const batch = [transfer(alice, bob, "1"), transfer(bob, alice, "2"), transfer(alice, bob, "3")];
    const res = await post(url, "/v1/txs/batch", { txs: batch.map((t) => t.hex), wait: true });
    assert.equal(res.status, 200, res.text);
    const committed = res.json.results as Array<{ hash: string; height: number; index: number; result: { events: Msg[] } }>;
    const ordered = [...committed].sort((a, b) => a.height - b.height || a.index - b.index);
    for (const c of ordered) await expect(c);
  });
  after(() => n.close());

  describe("GET /v1/events", () => {
    test("every event of successful transactions, in commit order, as their results show them", async () => {
      const res = await get(url, "/v1/events");
      assert.equal(res.status, 200);
      assert.deepEqual(res.json.events, expected);
      assert.equal(res.json.next, null);
      assert.equal(
        expected.filter((e) => e.name === "transferred").length,
        4,
        "the failed transfer has no event; the batch's three have one each",
      );
    });

    test("filters by module and name; fromHeight and toHeight bound the range", async () => {
      const tokens = await get(url, "/v1/events?module=tokens");
      assert.deepEqual(
        tokens.json.events,
        expected.filter((e) => e.module === "tokens"),
      );
      const transfers = await get(url, "/v1/events?module=tokens&name=transferred");
      assert.deepEqual(
        transfers.json.events,
        expected.filter((e) => e.module === "tokens" && e.name === "transferred"),
      );
      const byName = await get(url, "/v1/events?name=notarized");
      assert.equal(byName.json.events.length, 1);
      assert.equal(byName.json.events[0].module, "evidence");
      const mid = expected[2].height as number;
      const ranged = await get(url, `/v1/events?fromHeight=${mid}&toHeight=${mid}`);
      assert.deepEqual(
        ranged.json.events,
        expected.filter((e) => e.height === mid),
      );
      const none = await get(url, "/v1/events?contract=00ff");
      assert.deepEqual(none.json, { events: [], next: null });
      const future = await get(url, "/v1/events?fromHeight=1000000");
      assert.deepEqual(future.json, { events: [], next: null });
    });

    test("paging with limit and after walks every event exactly once", async () => {
      for (const limit of [1, 2, 3]) {
        assert.deepEqual(await allEvents(url, { limit }), expected, `limit ${limit}`);
      }
      const first = await get(url, "/v1/events?limit=2");
      assert.equal(first.json.events.length, 2);
      const e1 = first.json.events[1];
      assert.equal(first.json.next, `${e1.height}:${e1.txIndex}:${e1.eventIndex}`);
      assert.deepEqual(
        await allEvents(url, { module: "tokens", limit: 2 }),
        expected.filter((e) => e.module === "tokens"),
      );
    });

    test("bad parameters are 400 BAD_REQUEST", async () => {
      for (const q of ["limit=0", "limit=1001", "after=1:2", "after=x", "fromHeight=0", "module=", "contract=XYZ", "colour=red"]) {
        const res = await get(url, `/v1/events?${q}`);
        assert.equal(res.status, 400, q);
        assert.equal(res.json.error.code, "BAD_REQUEST", q);
      }
      const plain = await get(url, "/v1/ws");
      assert.equal(plain.status, 400, "the WebSocket path without an upgrade");
      assert.equal(plain.json.error.code, "BAD_REQUEST");
    });
  });

  describe("WebSocket /v1/ws", () => {
    test("blocks: one message per durable block, heights consecutive, fields as GET /v1/blocks shows", async () => {
      const c = await WsClient.open(url);
      const ack = await c.ask({ op: "subscribe", id: "b", topic: "blocks" }, isType("subscribed", "b"));
      const head = (await get(url, "/v1/status")).json.height as number;
      assert.equal(ack.fromHeight, head + 1);
      await commit(transfer(alice, bob, "1"));
      await commit(transfer(bob, alice, "1"));
      const blocks = await c.waitFor(isType("block", "b"), 2);
      assert.deepEqual(
        blocks.map((b) => b.height),
        [head + 1, head + 2],
      );
      for (const b of blocks) {
        const view = (await get(url, `/v1/blocks/${b.height}`)).json;
        assert.deepEqual(b, {
          type: "block",
          id: "b",
          height: b.height,
          hash: view.hash,
          timeMs: view.header.timeMs,
          txs: 1,
          proposer: view.header.proposer,
        });
      }
      // fromHeight replays past blocks first.
      const r = await c.ask({ op: "subscribe", id: "r", topic: "blocks", fromHeight: 1 }, isType("subscribed", "r"));
      assert.equal(r.fromHeight, 1);
      const replayed = await c.waitFor(isType("block", "r"), head + 2);
      assert.deepEqual(
        replayed.map((b) => b.height),
        Array.from({ length: head + 2 }, (_, i) => i + 1),
      );
      c.close();
    });

    test("events: replay from a height, then live while transactions commit, with no gap and no duplicate", async () => {
      const c = await WsClient.open(url);
      const fromHeight = expected[3].height as number;
      await c.ask(
        { op: "subscribe", id: "t", topic: "events", filter: { module: "tokens", name: "transferred" }, fromHeight },
        isType("subscribed", "t"),
      );
      await c.ask({ op: "subscribe", id: "all", topic: "events" }, isType("subscribed", "all"));
      // Submitted while the replay runs and after: 12 transfers, some in the same block.
      const pending: Array<Promise<unknown>> = [];
      for (let i = 0; i < 6; i++) {
        const batch = [transfer(alice, bob, "1"), transfer(bob, alice, "1")];
        pending.push(post(url, "/v1/txs/batch", { txs: batch.map((t) => t.hex), wait: true }));
        if (i % 2 === 0) await pending[pending.length - 1];
      }
      await Promise.all(pending);
      const rest = await allEvents(url, { module: "tokens", name: "transferred", fromHeight });
      const got = await c.waitFor(isType("event", "t"), rest.length);
      assert.deepEqual(got.map(asItem), rest);
      // The live-only subscription got exactly the events committed after it was acknowledged.
      const live = await c.waitFor(isType("event", "all"), 12);
      const liveFrom = live[0].height as number;
      assert.deepEqual(live.map(asItem), await allEvents(url, { fromHeight: liveFrom }));
      assert.equal(live.length, 12);
      // Nothing more arrives for either.
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(c.where(isType("event", "t")).length, rest.length);
      c.close();
    });

    test("after resumes exactly after a cursor; contract filter only matches contracts events", async () => {
      const c = await WsClient.open(url);
      const third = expected[2];
      await c.ask(
        { op: "subscribe", id: "a", topic: "events", after: `${third.height}:${third.txIndex}:${third.eventIndex}` },
        isType("subscribed", "a"),
      );
      const want = await allEvents(url, { after: `${third.height}:${third.txIndex}:${third.eventIndex}` });
      const got = await c.waitFor(isType("event", "a"), want.length);
      assert.deepEqual(got.map(asItem), want);
      assert.deepEqual(got[0] && asItem(got[0]), expected[3]);
      await c.ask({ op: "subscribe", id: "k", topic: "events", filter: { contract: "00ff" }, fromHeight: 1 }, isType("subscribed", "k"));
      await commit(transfer(alice, bob, "1"));
      await c.waitFor(isType("event", "a"), want.length + 1);
      assert.equal(c.where(isType("event", "k")).length, 0);
      c.close();
    });

    test("unsubscribe stops delivery; ping answers pong", async () => {
      const c = await WsClient.open(url);
      await c.ask({ op: "subscribe", id: "x", topic: "blocks" }, isType("subscribed", "x"));
      await c.ask({ op: "subscribe", id: "y", topic: "blocks" }, isType("subscribed", "y"));
      assert.deepEqual(await c.ask({ op: "unsubscribe", id: "x" }, isType("unsubscribed", "x")), { type: "unsubscribed", id: "x" });
      await commit(transfer(alice, bob, "1"));
      await c.waitFor(isType("block", "y"));
      assert.equal(c.where(isType("block", "x")).length, 0);
      const unknown = await c.ask({ op: "unsubscribe", id: "x" }, errorFor("x"));
      assert.equal(unknown.code, "NOT_FOUND");
      assert.deepEqual(await c.ask({ op: "ping" }, isType("pong")), { type: "pong" });
      c.close();
    });

    test("malformed messages get BAD_REQUEST or TOO_LARGE and the connection stays usable", async () => {
      const c = await WsClient.open(url);
      const cases: Array<[unknown, string | undefined, string]> = [
        ["not json", undefined, "BAD_REQUEST"],
        ["[1,2]", undefined, "BAD_REQUEST"],
        [{ op: "dance" }, undefined, "BAD_REQUEST"],
        [{ op: "subscribe", topic: "blocks" }, undefined, "BAD_REQUEST"],
        [{ op: "subscribe", id: "i".repeat(LIMITS.wsSubscriptionIdLengthMax + 1), topic: "blocks" }, undefined, "BAD_REQUEST"],
        [{ op: "subscribe", id: "m1", topic: "mempool" }, "m1", "BAD_REQUEST"],
        [{ op: "subscribe", id: "m2", topic: "events", filter: { colour: "red" } }, "m2", "BAD_REQUEST"],
        [{ op: "subscribe", id: "m3", topic: "events", filter: { contract: "XYZ" } }, "m3", "BAD_REQUEST"],
        [{ op: "subscribe", id: "m4", topic: "events", fromHeight: 0 }, "m4", "BAD_REQUEST"],
        [{ op: "subscribe", id: "m5", topic: "events", fromHeight: 1, after: "1:0:0" }, "m5", "BAD_REQUEST"],
        [{ op: "subscribe", id: "m6", topic: "blocks", filter: {} }, "m6", "BAD_REQUEST"],
        [{ op: "subscribe", id: "m7", topic: "events", extra: 1 }, "m7", "BAD_REQUEST"],
        [{ op: "subscribe", id: "m8", topic: "events", after: "1:x:0" }, "m8", "BAD_REQUEST"],
        [{ op: "ping", pad: "x".repeat(LIMITS.wsMessageBytesMax) }, undefined, "TOO_LARGE"],
      ];
      for (const [msg, id, code] of cases) {
        const err = await c.ask(msg, isType("error"));
        assert.equal(err.code, code, JSON.stringify(msg).slice(0, 80));
        assert.equal(err.id, id, JSON.stringify(msg).slice(0, 80));
        assert.equal(typeof err.message, "string");
      }
      const binary = c.where(isType("error")).length;
      c.ws.send(Buffer.from("{}"), { binary: true });
      assert.equal((await c.waitFor(isType("error"), binary + 1))[binary].code, "BAD_REQUEST");
      await c.ask({ op: "subscribe", id: "d", topic: "blocks" }, isType("subscribed", "d"));
      assert.equal((await c.ask({ op: "subscribe", id: "d", topic: "blocks" }, errorFor("d"))).code, "BAD_REQUEST");
      assert.deepEqual(await c.ask({ op: "ping" }, isType("pong")), { type: "pong" });
      // A frame over the frame cap is not read at all: the connection closes with 1009.
      c.send({ op: "ping", pad: "x".repeat(LIMITS.wsFrameBytesMax) });
      assert.equal(await c.closed, 1009);
    });

    test(`at most ${LIMITS.wsSubscriptionsPerConnectionMax} subscriptions per connection: SUBSCRIPTION_LIMIT`, async () => {
      const c = await WsClient.open(url);
      for (let i = 0; i < LIMITS.wsSubscriptionsPerConnectionMax; i++) c.send({ op: "subscribe", id: `s${i}`, topic: "blocks" });
      await c.waitFor(isType("subscribed"), LIMITS.wsSubscriptionsPerConnectionMax);
      const err = await c.ask({ op: "subscribe", id: "over", topic: "blocks" }, errorFor("over"));
      assert.equal(err.code, "SUBSCRIPTION_LIMIT");
      assert.equal(err.meta.max, LIMITS.wsSubscriptionsPerConnectionMax);
      // Freeing one makes room again.
      await c.ask({ op: "unsubscribe", id: "s0" }, isType("unsubscribed", "s0"));
      await c.ask({ op: "subscribe", id: "over", topic: "blocks" }, isType("subscribed", "over"));
      const metrics = (await get(url, "/metrics")).text;
      assert.match(metrics, /tally_ws_subscriptions \d+/);
      assert.match(metrics, /tally_ws_connections [1-9]/);
      assert.match(metrics, /tally_ws_messages_sent_total\{type="subscribed"\} \d+/);
      c.close();
    });
  });
});

// ---- limits, on the real routes mounted with small limits over a real chain ------------------------

interface SmallApp {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly chain: OpenChain;
  close(): Promise<void>;
}

async function smallApp(net: TestNet, limits: Partial<EventStreamLimits>): Promise<SmallApp> {
  const dir = tempDir();
  const chain = await openChain(net, dir.path);
  const app = Fastify();
  registerEventRoutes(app, { chain: chain.chain, metrics: chain.metrics, log: silentLogger(), limits }, {});
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    chain,
    close: async () => {
      await app.close();
      await chain.close();
      dir.remove();
    },
  };
}

const metricValue = async (c: OpenChain, name: string, labels: Record<string, string> = {}) => {
  const m = (await c.metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
  return v?.value ?? 0;
};

describe("events API limits", () => {
  const net = makeNet("ed25519");
  let nonce = 0;
  const notarizeBlock = async (s: SmallApp, count: number, timeMs: number) => {
    const txs = Array.from({ length: count }, () => notarize(net, net.admin.key, nonce, `doc-${nonce++}`));
    return commitBlock(s.chain, net, txs, timeMs);
  };

  test("connections over the limit get BUSY and close 1013", async () => {
    const s = await smallApp(net, { connectionsMax: 2 });
    try {
      const a = await WsClient.open(s.url);
      const b = await WsClient.open(s.url);
      const c = await WsClient.open(s.url);
      const [err] = await c.waitFor(isType("error"));
      assert.equal(err.code, "BUSY");
      assert.equal(await c.closed, 1013);
      assert.equal(await metricValue(s.chain, "tally_ws_disconnects_total", { reason: "busy" }), 1);
      assert.equal(await metricValue(s.chain, "tally_ws_connections"), 2);
      a.close();
      await a.closed;
      // A freed slot is usable again.
      const d = await WsClient.open(s.url);
      assert.deepEqual(await d.ask({ op: "ping" }, isType("pong")), { type: "pong" });
      b.close();
      d.close();
    } finally {
      await s.close();
    }
  });

  test("a connection that sends more messages than its budget gets BUSY and close 1008; others are unaffected", async () => {
    const s = await smallApp(net, { inboundMessagesBurst: 5, inboundMessagesPerSecond: 0.001 });
    try {
      const flood = await WsClient.open(s.url);
      const calm = await WsClient.open(s.url);
      for (let i = 0; i < 8; i++) flood.send({ op: "ping" });
      const [err] = await flood.waitFor(isType("error"));
      assert.equal(err.code, "BUSY");
      assert.deepEqual(err.meta, { perSecond: 0.001, burst: 5 });
      assert.equal(flood.where(isType("pong")).length, 5, "the burst is served");
      assert.equal(await flood.closed, 1008);
      assert.equal(await metricValue(s.chain, "tally_ws_disconnects_total", { reason: "rate_limited" }), 1);
      assert.deepEqual(await calm.ask({ op: "ping" }, isType("pong")), { type: "pong" });
      calm.close();
    } finally {
      await s.close();
    }
  });

  test("the heartbeat drops a connection that stops answering pings and keeps one that answers", async () => {
    const s = await smallApp(net, { heartbeatMs: 100 });
    try {
      const live = await WsClient.open(s.url);
      const stuck = await WsClient.open(s.url);
      (stuck.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const deadline = Date.now() + 5_000;
      while ((await metricValue(s.chain, "tally_ws_disconnects_total", { reason: "heartbeat" })) === 0) {
        assert.ok(Date.now() < deadline, "the silent connection was not dropped");
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await metricValue(s.chain, "tally_ws_disconnects_total", { reason: "heartbeat" }), 1);
      assert.deepEqual(await live.ask({ op: "ping" }, isType("pong")), { type: "pong" });
      assert.equal(await metricValue(s.chain, "tally_ws_connections"), 1);
      live.close();
    } finally {
      await s.close();
    }
  });

  test("a replay further back than replayBlocksMax is TOO_LARGE", async () => {
    const s = await smallApp(net, { replayBlocksMax: 2 });
    try {
      nonce = 0;
      for (let h = 1; h <= 4; h++) await notarizeBlock(s, 1, 1_700_000_001_000 + h);
      const c = await WsClient.open(s.url);
      const err = await c.ask({ op: "subscribe", id: "old", topic: "events", fromHeight: 2 }, errorFor("old"));
      assert.equal(err.code, "TOO_LARGE");
      assert.equal(err.meta.oldest, 3);
      const ok = await c.ask({ op: "subscribe", id: "ok", topic: "events", fromHeight: 3 }, isType("subscribed", "ok"));
      assert.equal(ok.fromHeight, 3);
      assert.deepEqual(
        (await c.waitFor(isType("event", "ok"), 2)).map((e) => e.height),
        [3, 4],
      );
      c.close();
    } finally {
      await s.close();
    }
  });

  const slowCases: Array<[string, Partial<EventStreamLimits>]> = [
    // A turn may send more than the whole limit: the queue goes over it.
    ["its outbound queue goes over the limit", { outboundQueueBytesMax: 64 * 1024, slowConsumerMs: 60_000 }],
    // Turns are small, so sending pauses at half the limit and the queue never passes it; it just stops draining.
    ["its outbound queue stops draining", { outboundQueueBytesMax: 64 * 1024, pumpBytesPerTurn: 8 * 1024, slowConsumerMs: 300 }],
  ];
  for (const [what, limits] of slowCases) {
    test(`a consumer that stops reading is disconnected (1008) and counted: ${what}`, async () => {
      const s = await smallApp(net, { ...limits, subscriptionsPerConnectionMax: 64 });
      try {
        // 1,200 events × 64 subscriptions × ~300 bytes: far more than the kernel's socket buffers hold.
        nonce = 0;
        for (let h = 0; h < 6; h++) await notarizeBlock(s, 200, 1_700_000_002_000 + h);
        const c = await WsClient.open(s.url);
        for (let i = 0; i < 64; i++) c.send({ op: "subscribe", id: `s${i}`, topic: "events", fromHeight: 1 });
        // Stop reading at once (the receive buffer never grows), as a stuck client would.
        (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
        const deadline = Date.now() + 20_000;
        while ((await metricValue(s.chain, "tally_ws_disconnects_total", { reason: "slow_consumer" })) === 0) {
          assert.ok(Date.now() < deadline, "the slow consumer was not disconnected");
          await new Promise((r) => setTimeout(r, 50));
        }
        (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
        const code = await c.closed;
        // The close frame waits behind the unread data; if the grace period ends first the socket is just dropped.
        assert.ok(code === 1008 || code === 1006, `close code ${code}`);
        assert.equal(c.where(isType("subscribed")).length, 64);
        assert.ok(c.where(isType("event")).length < 1200 * 64, "the consumer did not get everything");
        assert.equal(await metricValue(s.chain, "tally_ws_connections"), 0);
        assert.equal(await metricValue(s.chain, "tally_ws_subscriptions"), 0);
      } finally {
        await s.close();
      }
    });
  }

  test("a long replay overlapping new commits meets live delivery with no gap and no duplicate", async () => {
    // Small turns make the replay span many event-loop turns while blocks keep committing.
    const s = await smallApp(net, { pumpBlocksPerTurn: 2, pumpMessagesPerTurn: 3 });
    try {
      nonce = 0;
      for (let h = 1; h <= 60; h++) await notarizeBlock(s, 1 + (h % 3), 1_700_000_004_000 + h);
      const c = await WsClient.open(s.url);
      c.send({ op: "subscribe", id: "e", topic: "events", fromHeight: 1 });
      c.send({ op: "subscribe", id: "b", topic: "blocks", fromHeight: 1 });
      await c.waitFor(isType("event", "e"));
      const seenWhenLiveStarted = c.where(isType("event", "e")).length;
      for (let h = 61; h <= 90; h++) await notarizeBlock(s, 1 + (h % 3), 1_700_000_004_000 + h);
      const want = new EventLog(s.chain.chain).page({ filter: {}, limit: 1000 }).events;
      assert.equal(want.length, 180);
      assert.ok(seenWhenLiveStarted < 120, `the replay was still running when new blocks came (${seenWhenLiveStarted})`);
      const got = await c.waitFor(isType("event", "e"), want.length);
      assert.deepEqual(got.map(asItem), want);
      const blocks = await c.waitFor(isType("block", "b"), 90);
      assert.deepEqual(
        blocks.map((b) => b.height),
        Array.from({ length: 90 }, (_, i) => i + 1),
      );
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(c.where(isType("event", "e")).length, want.length);
      c.close();
    } finally {
      await s.close();
    }
  });

  test("a page stops after scanBlocksMax blocks with a cursor that continues it", async () => {
    const dir = tempDir();
    const c = await openChain(net, dir.path);
    try {
      nonce = 0;
      for (let h = 1; h <= 7; h++) {
        const txs = h % 3 === 0 ? [] : [notarize(net, net.admin.key, nonce, `scan-${nonce++}`)];
        await commitBlock(c, net, txs, 1_700_000_003_000 + h);
      }
      const log = new EventLog(c.chain, 1024 * 1024, 2);
      const full = new EventLog(c.chain).page({ filter: {}, limit: 1000 });
      assert.equal(full.events.length, 5);
      assert.equal(full.next, null);
      const pages = [];
      let after: string | undefined;
      for (;;) {
        const page = log.page({ filter: {}, limit: 1000, ...(after === undefined ? {} : { after }) });
        pages.push(page);
        if (page.next === null) break;
        after = page.next;
      }
      assert.equal(pages.length, 4, "7 blocks, 2 per page");
      assert.deepEqual(pages[0]?.next, "2:1:0");
      assert.deepEqual(
        pages.flatMap((p) => p.events),
        full.events,
      );
    } finally {
      await c.close();
      dir.remove();
    }
  });
});
