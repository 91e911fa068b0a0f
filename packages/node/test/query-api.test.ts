/**
 * Module queries and the audit trail over HTTP (spec/api.md §queries, §audit): anonymous and signed
 * queries, role checks, refused signatures (wrong question, stale, unknown signer), argument checks,
 * and the audit trail's paging and access rule (a regulator, or the account itself).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { QUERY_AUTH_HEADER, type QueryRequest, signQuery, type Value } from "@tally/core";
import { http, makeNet, outsider, post, type RunningNode, SUITES, sign, startNode, type TestAccount, type TestNet } from "./helpers.js";

for (const suiteId of SUITES) {
  describe(`queries and audit trail (${suiteId})`, () => {
    const net: TestNet = makeNet(suiteId, {
      accounts: [{ name: "issuer", roles: ["issuer"] }, { name: "alice" }, { name: "bob" }, { name: "reg", roles: ["regulator"] }],
    });
    const issuer = net.accounts.issuer as TestAccount;
    const alice = net.accounts.alice as TestAccount;
    const bob = net.accounts.bob as TestAccount;
    const reg = net.accounts.reg as TestAccount;
    const nonces = new Map<string, number>();
    let n: RunningNode;

    const submit = async (who: TestAccount, module: string, method: string, args: Value) => {
      const nonce = nonces.get(who.address) ?? 0;
      nonces.set(who.address, nonce + 1);
      const r = await post(n.url, "/v1/txs", { tx: sign(net, who.key, nonce, module, method, args).hex, wait: true });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.result.status, "ok", r.text);
    };

    /** POST a query, signed by `who` (for `signed`, or the same question by default) at `timeMs`. */
    const query = (
      module: string,
      name: string,
      args: Record<string, Value>,
      who?: TestAccount,
      options: { signed?: Omit<QueryRequest, "chainId">; timeMs?: number } = {},
    ) => {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (who !== undefined) {
        const signed = { chainId: net.chainId, ...(options.signed ?? { module, name, args }) };
        headers[QUERY_AUTH_HEADER] = signQuery(net.suite, who.key, signed, options.timeMs ?? Date.now());
      }
      return http(`${n.url}/v1/query/${module}/${name}`, { body: JSON.stringify({ args }), headers });
    };

    const audit = (address: string, body: Record<string, Value>, who?: TestAccount) => {
      const headers: Record<string, string> = { "content-type": "application/json" };
      const args = { address, limit: 100, ...body };
      if (who !== undefined) {
        headers[QUERY_AUTH_HEADER] = signQuery(
          net.suite,
          who.key,
          { chainId: net.chainId, module: "audit", name: "accountTxs", args },
          Date.now(),
        );
      }
      return http(`${n.url}/v1/audit/accounts/${address}/txs`, { body: JSON.stringify(body), headers });
    };

    before(async () => {
      n = await startNode(net);
      await submit(issuer, "tokens", "create", { symbol: "USD", name: "Dollar", decimals: 2 });
      await submit(issuer, "tokens", "mint", { symbol: "USD", to: alice.address, amount: "1000" });
      await submit(alice, "tokens", "transfer", { symbol: "USD", to: bob.address, amount: "250" });
      await submit(alice, "tokens", "transfer", { symbol: "USD", to: bob.address, amount: "50" });
    });
    after(() => n.close());

    test("the module catalogue lists every method and query with the roles it needs", async () => {
      const r = await http(`${n.url}/v1/modules`);
      assert.equal(r.status, 200);
      type Entry = { name: string; description: string; args: string; roles: string[] | null };
      const modules = r.json.modules as Array<{ name: string; methods: Entry[]; queries: Entry[] }>;
      const tokens = modules.find((m) => m.name === "tokens");
      assert.ok(tokens);
      assert.deepEqual(tokens.methods.find((m) => m.name === "create")?.roles, ["issuer"]);
      assert.equal(tokens.methods.find((m) => m.name === "transfer")?.roles, null);
      assert.deepEqual(
        tokens.queries.map((q) => q.name),
        ["info", "balance", "holders"],
      );
      assert.match(tokens.queries[0]?.args ?? "", /symbol/);
      assert.deepEqual(modules.find((m) => m.name === "accounts")?.methods.find((m) => m.name === "register")?.roles, [
        "admin",
        "org-admin",
      ]);
    });

    test("an anonymous query is answered from the node's state at its head", async () => {
      const info = await query("tokens", "info", { symbol: "USD" });
      assert.equal(info.status, 200, info.text);
      assert.equal(info.json.height, 4);
      assert.deepEqual(info.json.value, {
        symbol: "USD",
        issuer: issuer.address,
        name: "Dollar",
        decimals: 2,
        maxSupply: null,
        supply: "1000",
      });
      const balance = await query("tokens", "balance", { symbol: "USD", address: bob.address });
      assert.deepEqual(balance.json.value, { symbol: "USD", address: bob.address, balance: "300", frozen: false });
    });

    test("a restricted query needs a signature, and then the role", async () => {
      const anonymous = await query("tokens", "holders", { symbol: "USD" });
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.json.error.code, "UNAUTHENTICATED");
      const byAlice = await query("tokens", "holders", { symbol: "USD" }, alice);
      assert.equal(byAlice.status, 403);
      assert.equal(byAlice.json.error.code, "FORBIDDEN");
      const byRegulator = await query("tokens", "holders", { symbol: "USD" }, reg);
      assert.equal(byRegulator.status, 200, byRegulator.text);
      const expected = [
        { address: alice.address, balance: "700", frozen: false },
        { address: bob.address, balance: "300", frozen: false },
      ].sort((a, b) => (a.address < b.address ? -1 : 1));
      assert.deepEqual(byRegulator.json.value.items, expected);
      const page = await query("tokens", "holders", { symbol: "USD", limit: 1 }, issuer);
      assert.deepEqual(page.json.value.items, expected.slice(0, 1));
      const rest = await query("tokens", "holders", { symbol: "USD", limit: 1, after: page.json.value.next }, issuer);
      assert.deepEqual(rest.json.value.items, expected.slice(1));
    });

    test("a signature is good for its own question, recently, by a registered account", async () => {
      const otherQuestion = await query("tokens", "holders", { symbol: "USD" }, reg, {
        signed: { module: "tokens", name: "holders", args: { symbol: "EUR" } },
      });
      assert.equal(otherQuestion.status, 400);
      assert.equal(otherQuestion.json.error.code, "BAD_SIGNATURE");
      const stale = await query("tokens", "holders", { symbol: "USD" }, reg, { timeMs: Date.now() - 10 * 60_000 });
      assert.equal(stale.status, 401);
      assert.equal(stale.json.error.code, "UNAUTHENTICATED");
      const stranger = await query("tokens", "holders", { symbol: "USD" }, outsider(net, "stranger"));
      assert.equal(stranger.status, 403);
      assert.equal(stranger.json.error.code, "UNKNOWN_SIGNER");
      const garbled = await http(`${n.url}/v1/query/tokens/holders`, {
        body: JSON.stringify({ args: { symbol: "USD" } }),
        headers: { "content-type": "application/json", [QUERY_AUTH_HEADER]: "not-a-signature" },
      });
      assert.equal(garbled.status, 401);
    });

    test("unknown modules and queries, bad arguments and oversized bodies are refused", async () => {
      assert.equal((await query("nope", "info", {})).json.error.code, "UNKNOWN_MODULE");
      const unknown = await query("tokens", "nope", {});
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json.error.code, "UNKNOWN_QUERY");
      const badArgs = await query("tokens", "info", { symbol: "usd!" });
      assert.equal(badArgs.status, 400);
      assert.equal(badArgs.json.error.code, "BAD_ARGS");
      const extra = await query("tokens", "info", { symbol: "USD", extra: 1 });
      assert.equal(extra.json.error.code, "BAD_ARGS");
      const float = await query("tokens", "holders", { symbol: "USD", limit: 1.5 });
      assert.equal(float.json.error.code, "BAD_REQUEST");
      const missing = await query("tokens", "info", { symbol: "EUR" });
      assert.equal(missing.json.error.code, "NO_SUCH_TOKEN");
      const huge = await http(`${n.url}/v1/query/tokens/info`, {
        body: JSON.stringify({ args: { symbol: "x".repeat(20_000) } }),
        headers: { "content-type": "application/json" },
      });
      assert.equal(huge.status, 413);
    });

    test("the audit trail lists what an account signed, for a regulator or the account itself", async () => {
      const trail = await audit(alice.address, {}, reg);
      assert.equal(trail.status, 200, trail.text);
      assert.deepEqual(
        trail.json.items.map((i: { height: number; module: string; method: string; status: string }) => [
          i.height,
          i.module,
          i.method,
          i.status,
        ]),
        [
          [3, "tokens", "transfer", "ok"],
          [4, "tokens", "transfer", "ok"],
        ],
      );
      assert.equal(trail.json.items[0].args.amount, "250");
      assert.equal(trail.json.next, null);
      const own = await audit(alice.address, { limit: 1 }, alice);
      assert.equal(own.status, 200);
      assert.equal(own.json.items.length, 1);
      assert.equal(own.json.next, "3:0");
      const rest = await audit(alice.address, { limit: 1, after: own.json.next }, alice);
      assert.deepEqual(
        rest.json.items.map((i: { height: number }) => i.height),
        [4],
      );
      const byBob = await audit(alice.address, {}, bob);
      assert.equal(byBob.status, 403);
      assert.equal(byBob.json.error.code, "FORBIDDEN");
      const anonymous = await audit(alice.address, {});
      assert.equal(anonymous.status, 401);
    });
  });
}
