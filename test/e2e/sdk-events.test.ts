/**
 * Events through the SDK against a real node process: pages of past events, and subscriptions (with the
 * `ws` package as Node 20's WebSocket) that replay from a height, follow live commits, survive a node
 * restart by reconnecting, and resume after the last item they delivered: every item once, in order.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { getSuite } from "@tally/core";
import {
  AccountSigner,
  type BlockStreamView,
  type EventView,
  fromKeyFile,
  type SubscriptionStatus,
  TallyClient,
  TallyError,
} from "@tally/sdk";
import WebSocket from "ws";
import { freePort, type NodeProcess, committedOk as ok, startNode, tally, tempDir, waitFor } from "../helpers.js";

describe("SDK events", () => {
  const dir = tempDir("sdk-events");
  const net = join(dir.path, "net");
  const log = join(dir.path, "node.log");
  let node: NodeProcess;
  let client: TallyClient;
  let issuer: AccountSigner;
  let alice: AccountSigner;
  let bob: AccountSigner;

  const transfers = async (count: number) => {
    for (let i = 0; i < count; i++)
      ok(await (i % 2 === 0 ? alice : bob).tokens.transfer("EVT", i % 2 === 0 ? bob.address : alice.address, 1n));
  };

  before(async () => {
    const port = await freePort();
    assert.equal(tally(["init", net, "--crypto", "ed25519", "--api-port", String(port)]).code, 0);
    node = await startNode(join(net, "node0"), `http://127.0.0.1:${port}`, log);
    client = new TallyClient(node.url, { WebSocket });
    const admin = await AccountSigner.connect(client, fromKeyFile(JSON.parse(readFileSync(join(net, "accounts", "admin.json"), "utf8"))));
    const register = async (roles: string[]): Promise<AccountSigner> => {
      const key = getSuite("ed25519").generateKeyPair();
      ok(await admin.registerAccount(key.publicKey, "consortium", roles));
      return AccountSigner.connect(client, key);
    };
    issuer = await register(["issuer"]);
    alice = await register([]);
    bob = await register([]);
    ok(await issuer.tokens.create({ symbol: "EVT", name: "Event token", decimals: 0 }));
    ok(await issuer.tokens.mint("EVT", alice.address, 1000n));
    ok(await issuer.tokens.mint("EVT", bob.address, 1000n));
  });

  after(async () => {
    await node.stop();
    dir.cleanup();
  });

  test("list pages events with filters; all() follows the pages", async () => {
    await transfers(3);
    const first = await client.events.list({ module: "tokens" }, { limit: 2 });
    assert.equal(first.events.length, 2);
    assert.deepEqual(
      first.events.map((e) => e.name),
      ["created", "minted"],
    );
    assert.ok(first.next !== null);
    const everything: EventView[] = [];
    for await (const e of client.events.all({ module: "tokens" }, 2)) everything.push(e);
    assert.deepEqual(everything.slice(0, 2), first.events);
    assert.deepEqual(
      everything.map((e) => e.name),
      ["created", "minted", "minted", "transferred", "transferred", "transferred"],
    );
    const registered = await client.events.list({ module: "accounts", name: "registered" });
    assert.equal(registered.events.length, 3);
    assert.equal(registered.next, null);
    await assert.rejects(client.events.list({}, { limit: 0 }), (err: unknown) => err instanceof TallyError && err.code === "BAD_REQUEST");
  });

  test("a subscription replays, follows live commits, and resumes across a node restart without gaps or duplicates", async () => {
    const events: EventView[] = [];
    const blocks: BlockStreamView[] = [];
    const statuses: SubscriptionStatus[] = [];
    const errors: TallyError[] = [];
    const options = { fromHeight: 1, reconnectInitialMs: 200, reconnectMaxMs: 1_000 };
    const evSub = client.subscribe(
      "events",
      { module: "tokens", name: "transferred" },
      { onItem: (e) => events.push(e), onStatus: (s) => statuses.push(s), onError: (e) => errors.push(e) },
      options,
    );
    const blockSub = client.subscribe("blocks", null, { onItem: (b) => blocks.push(b) }, options);
    const expectAll = async () => {
      const want: EventView[] = [];
      for await (const e of client.events.all({ module: "tokens", name: "transferred" })) want.push(e);
      const height = (await client.status()).height;
      await waitFor("every event and block", async () => (events.length >= want.length && blocks.length >= height ? true : undefined));
      assert.deepEqual(events, want);
      assert.deepEqual(
        blocks.map((b) => b.height),
        Array.from({ length: blocks.length }, (_, i) => i + 1),
      );
    };
    try {
      await waitFor("replay", async () => (events.length === 3 ? true : undefined));
      await transfers(4);
      await expectAll();

      // The node goes away; the subscriptions retry until it is back, then resume where they were.
      const stopped = await node.stop();
      assert.equal(stopped, 0);
      await waitFor("reconnecting", async () => (evSub.status === "reconnecting" ? true : undefined));
      node = await startNode(join(net, "node0"), node.url, log);
      // Committed before the subscriptions are back (they back off): these come through the replay.
      await transfers(3);
      await waitFor("reopened", async () => (evSub.status === "open" && blockSub.status === "open" ? true : undefined));
      await transfers(3);
      await expectAll();
      assert.equal(events.length, 13);
      assert.ok(statuses.includes("reconnecting"));
      assert.deepEqual(errors, []);
      const cursors = events.map((e) => `${e.height}:${e.txIndex}:${e.eventIndex}`);
      assert.equal(new Set(cursors).size, cursors.length, "no event delivered twice");
    } finally {
      evSub.close();
      blockSub.close();
    }
    assert.equal(evSub.status, "closed");
    // Closed for good: nothing more arrives.
    const seen = events.length;
    await transfers(1);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(events.length, seen);
  });

  test("a subscription the node refuses closes and reports the error", async () => {
    const errors: TallyError[] = [];
    const sub = client.subscribe("events", { contract: "not-hex" }, { onItem: () => {}, onError: (e) => errors.push(e) });
    await waitFor("refusal", async () => (errors.length > 0 ? true : undefined));
    assert.equal(errors[0]?.code, "BAD_REQUEST");
    await waitFor("closed", async () => (sub.status === "closed" ? true : undefined));
  });

  test("without a WebSocket implementation (Node 20 has no global one) subscribe says so", () => {
    if ((globalThis as { WebSocket?: unknown }).WebSocket !== undefined) return;
    assert.throws(
      () => new TallyClient(node.url).subscribe("blocks", null, { onItem: () => {} }),
      (err: unknown) => err instanceof TallyError && err.code === "BAD_REQUEST",
    );
  });
});
