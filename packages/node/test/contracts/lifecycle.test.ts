import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  CONTRACT_ENGINE_ID,
  contractAddress,
  contractEngineKey,
  decode,
  LIMITS,
  TallyError,
  type TxResult,
  toHex,
  utf8,
  type Value,
} from "@tally/core";
import { NODE_ENGINE_ID } from "../../src/contracts/sandbox.js";
import { MemoryChain, makeNet, SUITES } from "../helpers.js";
import { COUNTER, call, deploy, failed, GAS, ok, PROXY, REGISTRY, value } from "./fixtures.js";

for (const suite of SUITES) {
  describe(`contracts: deploy, call, state, events (${suite})`, () => {
    const net = makeNet(suite, {
      accounts: [{ name: "dev", roles: ["contract-deployer"] }, { name: "user" }, { name: "issuer", roles: ["issuer"] }],
    });
    const { admin } = net;
    const dev = net.accounts.dev!;
    const user = net.accounts.user!;

    test("deploy stores code once by hash, derives the address from deployer and nonce, runs init", () => {
      const chain = new MemoryChain(net);
      const nonce = chain.nonce(dev.address);
      const r = ok(chain.call(dev, "contracts", "deploy", { code: COUNTER, initArgs: { start: 41 }, gasLimit: GAS })) as Record<
        string,
        Value
      >;
      assert.equal(r.address, contractAddress(net.suite.hash, dev.address, nonce));
      assert.equal(r.codeHash, toHex(net.suite.hash(utf8(COUNTER))));
      assert.equal(r.version, 1);
      assert.ok(typeof r.gasUsed === "number" && r.gasUsed > 0);
      const address = r.address as string;
      assert.equal(value(call(chain, user, address, "get")), 41);
      assert.deepEqual(chain.query("contracts", "code", { hash: r.codeHash }), { codeHash: r.codeHash, code: COUNTER });
      const info = chain.query("contracts", "contract", { address }) as Record<string, Value>;
      assert.equal(info.version, 1);
      assert.equal(info.deployer, dev.address);
      assert.equal(info.frozen, false);
      assert.deepEqual(info.versions, [{ version: 1, codeHash: r.codeHash, fromHeight: 1 }]);
      // The engine the chain runs is recorded by the first contract transaction.
      assert.equal(decode(chain.state.read(contractEngineKey())!), NODE_ENGINE_ID);
      assert.equal(NODE_ENGINE_ID, CONTRACT_ENGINE_ID, "the installed QuickJS build is the pinned one");
      // Same code again: a new address, the code is not stored (or paid for) twice.
      const again = ok(chain.call(dev, "contracts", "deploy", { code: COUNTER, gasLimit: GAS })) as Record<string, Value>;
      assert.notEqual(again.address, address);
      assert.equal(again.codeHash, r.codeHash);
      assert.ok((again.gasUsed as number) < (r.gasUsed as number) - COUNTER.length * 10);
      assert.equal(chain.state.entriesUnder("contracts/code/").size, 1);
      assert.equal(value(call(chain, user, again.address as string, "get")), 0);
    });

    test("calls change state, emit events, see caller, self and block; simulate does not write", () => {
      const chain = new MemoryChain(net);
      const address = deploy(chain, admin, COUNTER);
      const r = call(chain, user, address, "increment", { by: 5 });
      assert.equal(value(r), 5);
      assert.ok(((ok(r) as Record<string, Value>).gasUsed as number) > 0);
      assert.deepEqual(r.events, [{ module: "contracts", name: "incremented", data: { contract: address, data: { count: 5 } } }]);
      assert.deepEqual(chain.query("contracts", "state", { address, key: "count" }), { key: "count", value: "5" });
      assert.deepEqual(value(call(chain, user, address, "who")), { address: user.address, org: user.org, roles: [] });
      const where = value(call(chain, user, address, "where")) as { self: string; block: Record<string, Value> };
      assert.equal(where.self, address);
      assert.equal(where.block.height, chain.height);
      assert.equal(where.block.timeMs, 1_700_000_000_000 + chain.height * 1000);
      assert.match(where.block.txHash as string, /^[0-9a-f]{64}$/);
      const sim = chain.query("contracts", "simulate", { address, method: "increment", args: { by: 10 }, gasLimit: 1_000_000 }) as Record<
        string,
        Value
      >;
      assert.equal(sim.value, 15);
      assert.deepEqual(sim.events, [{ name: "incremented", data: { contract: address, data: { count: 15 } } }]);
      assert.equal(value(call(chain, user, address, "get")), 5, "simulate wrote nothing");
      assert.throws(
        () => chain.query("contracts", "simulate", { address, method: "get", gasLimit: LIMITS.contractSimulateGasMax + 1 }),
        (e: unknown) => e instanceof TallyError && e.code === "BAD_ARGS",
      );
    });

    test("deploying needs admin, org-admin or contract-deployer", () => {
      const chain = new MemoryChain(net);
      failed(chain.call(user, "contracts", "deploy", { code: COUNTER, gasLimit: GAS }), "FORBIDDEN");
      assert.equal(chain.state.entriesUnder("contracts/").size, 0);
      failed(chain.call(user, "contracts", "store", { code: COUNTER }), "FORBIDDEN");
    });

    test("set, del and ordered scan with pagination over the key index", () => {
      const chain = new MemoryChain(net);
      const address = deploy(chain, admin, REGISTRY);
      assert.equal(value(call(chain, user, address, "putMany", { prefix: "item/", n: 150 })), 150);
      ok(call(chain, user, address, "put", { key: "other", value: { x: 1 } }));
      ok(call(chain, user, address, "put", { key: "item", value: "bare" }));
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page = value(call(chain, user, address, "list", { prefix: "item/", limit: 40, after })) as Array<[string, string]>;
        if (page.length === 0) break;
        seen.push(...page.map(([k]) => k));
        after = page[page.length - 1]![0];
      }
      const expected = Array.from({ length: 150 }, (_, i) => `item/${String(i).padStart(4, "0")}`);
      assert.deepEqual(seen, expected);
      for (let i = 0; i < 150; i += 3) ok(call(chain, user, address, "remove", { key: expected[i]! }));
      const rest = value(call(chain, user, address, "list", { prefix: "item/", limit: 100, after: null })) as Array<[string, string]>;
      assert.deepEqual(
        rest.map(([k]) => k),
        expected.filter((_, i) => i % 3 !== 0).slice(0, 100),
      );
      assert.deepEqual(value(call(chain, user, address, "list", { prefix: "o", limit: 10 })), [["other", '{"x":1}']]);
      assert.equal(value(call(chain, user, address, "get", { key: "item" })), "bare");
      // Removing everything leaves no index behind.
      for (let i = 0; i < 150; i++) if (i % 3 !== 0) ok(call(chain, user, address, "remove", { key: expected[i]! }));
      ok(call(chain, user, address, "remove", { key: "other" }));
      ok(call(chain, user, address, "remove", { key: "item" }));
      assert.deepEqual(value(call(chain, user, address, "list", { prefix: "", limit: 10 })), []);
      assert.equal(chain.state.entriesUnder(`contracts/s/${address}/`).size, 0);
      assert.equal(chain.state.entriesUnder(`contracts/x/${address}`).size, 0);
      assert.equal(chain.state.entriesUnder(`contracts/p/${address}/`).size, 0);
    });

    test("cross-contract calls: results, caller, rollback of the whole transaction, caught failures, depth", () => {
      const chain = new MemoryChain(net);
      const counter = deploy(chain, admin, COUNTER);
      const proxy = deploy(chain, admin, PROXY);
      const r = call(chain, user, proxy, "forward", { target: counter, method: "increment", args: { by: 3 } });
      assert.equal(value(r), 3);
      assert.deepEqual(
        r.events.map((e) => e.data),
        [{ contract: counter, data: { count: 3 } }],
      );
      assert.deepEqual(value(call(chain, user, proxy, "whoCalls", { target: counter })), { address: proxy, contract: true });
      // The proxy fails after the nested call succeeded: the callee's write is discarded too.
      const before = chain.state.entriesUnder("contracts/");
      const f = call(chain, user, proxy, "forward", { target: counter, method: "increment", args: { by: 100 }, fail: true });
      failed(f, "CONTRACT_ERROR");
      assert.match(f.message ?? "", /proxy fails after the call/);
      assert.deepEqual(f.events, []);
      assert.deepEqual(chain.state.entriesUnder("contracts/"), before);
      // A failing callee is an exception the caller may catch; the callee's writes are dropped.
      const caught = value(call(chain, user, proxy, "tryForward", { target: counter, method: "nope" })) as Record<string, Value>;
      assert.equal(caught.code, "CONTRACT_NO_METHOD");
      const priv = value(call(chain, user, proxy, "tryForward", { target: counter, method: "_secret" })) as Record<string, Value>;
      assert.equal(priv.code, "CONTRACT_NO_METHOD");
      const missing = value(call(chain, user, proxy, "tryForward", { target: "00".repeat(20), method: "get" })) as Record<string, Value>;
      assert.equal(missing.code, "NO_SUCH_CONTRACT");
      assert.equal(value(call(chain, user, counter, "get")), 3);
      failed(call(chain, user, proxy, "recurse", {}), "CONTRACT_DEPTH");
    });

    test("contracts read native modules through unrestricted point queries only", () => {
      const chain = new MemoryChain(net);
      const issuer = net.accounts.issuer!;
      ok(chain.call(issuer, "tokens", "create", { symbol: "EUR", name: "Euro", decimals: 2 }));
      ok(chain.call(issuer, "tokens", "mint", { symbol: "EUR", to: user.address, amount: "1234" }));
      const proxy = deploy(chain, admin, PROXY);
      assert.deepEqual(value(call(chain, user, proxy, "balance", { symbol: "EUR", address: user.address })), {
        symbol: "EUR",
        address: user.address,
        balance: "1234",
        frozen: false,
      });
      const q = (module: string, name: string, args: Value): TxResult =>
        call(
          chain,
          user,
          deploy(
            chain,
            admin,
            `var __contract = { q() { return JSON.parse(__tally.query(${JSON.stringify(module)}, ${JSON.stringify(name)}, ${JSON.stringify(JSON.stringify(args))})); } };`,
          ),
          "q",
        );
      // Contracts query as an anonymous caller: what needs a signed query is refused.
      failed(q("tokens", "holders", { symbol: "EUR", limit: 10 }), "UNAUTHENTICATED");
      failed(q("contracts", "simulate", {}), "FORBIDDEN");
      failed(q("nope", "x", {}), "UNKNOWN_MODULE");
      failed(q("tokens", "balance", { symbol: "EUR" }), "BAD_ARGS");
    });
  });
}
