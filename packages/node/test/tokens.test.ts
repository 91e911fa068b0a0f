import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  accountKey,
  decodeTokenBalance,
  decodeTokenRecord,
  encodeTokenBalance,
  TOKEN_AMOUNT_MAX,
  type TxResult,
  toHex,
  tokenAmountFromBytes,
  tokenAmountToBytes,
  tokenBalanceKey,
  tokenFrozenKey,
  tokenKey,
  type Value,
} from "@tally/core";
import { ExecutionEngine } from "../src/execution/engine.js";
import { decodeAccount } from "../src/modules/accounts.js";
import { BUILTIN_MODULES } from "../src/modules/index.js";
import { envelope, MemoryState, makeNet, outsider, SUITES, sign, type TestAccount, type TestNet } from "./helpers.js";

const E30 = 10n ** 30n;

/** A chain in memory: every call is its own block; nonces are tracked per account. */
function chain(net: TestNet) {
  const engine = new ExecutionEngine(net.suite, net.chainId, BUILTIN_MODULES);
  const state = new MemoryState();
  state.apply(engine.genesisState(net.genesis, state));
  let height = 0;
  const nonce = (address: string) => {
    const bytes = state.read(accountKey(address));
    assert.ok(bytes !== null, `account ${address} exists`);
    return decodeAccount(bytes).nonce;
  };
  const call = (who: TestAccount, method: string, args: Value, module = "tokens"): TxResult => {
    const tx = envelope(net, sign(net, who.key, nonce(who.address), module, method, args));
    height++;
    const out = engine.executeBlock(
      { height, timeMs: 1_700_000_000_000 + height * 1000, prevStateRoot: state.root, txs: [tx] },
      state.read,
      state,
    );
    state.apply(out);
    const result = out.results[0];
    assert.ok(result, "the transaction was executed");
    return result;
  };
  /** Every key under tokens/, hex -> hex. */
  const tokensState = () => state.entriesUnder("tokens/");
  const ok = (who: TestAccount, method: string, args: Value): TxResult => {
    const r = call(who, method, args);
    assert.equal(r.status, "ok", `${method}: ${r.code} ${r.message}`);
    return r;
  };
  /** A refusal with `code`: no events, nothing under tokens/ changed, only the caller's nonce advanced. */
  const refused = (who: TestAccount, method: string, args: Value, code: string): TxResult => {
    const before = tokensState();
    const n = nonce(who.address);
    const r = call(who, method, args);
    assert.equal(r.status, "failed", `${method} should be refused with ${code}`);
    assert.equal(r.code, code, `${r.code}: ${r.message}`);
    assert.deepEqual(r.events, []);
    assert.deepEqual(tokensState(), before);
    assert.equal(nonce(who.address), n + 1);
    return r;
  };
  const balance = (symbol: string, address: string) => decodeTokenBalance(state.read(tokenBalanceKey(symbol, address)));
  const token = (symbol: string) => {
    const bytes = state.read(tokenKey(symbol));
    assert.ok(bytes !== null, `token ${symbol} exists`);
    return decodeTokenRecord(bytes);
  };
  const frozen = (symbol: string, address: string) => state.read(tokenFrozenKey(symbol, address)) !== null;
  return { state, call, ok, refused, balance, token, frozen, tokensState };
}

test("amount encoding: 32-byte big-endian, exact at the extremes", () => {
  assert.equal(toHex(tokenAmountToBytes(0n)), "00".repeat(32));
  assert.equal(toHex(tokenAmountToBytes(258n)), `${"00".repeat(30)}0102`);
  for (const v of [0n, 1n, 255n, 256n, E30 + 1n, TOKEN_AMOUNT_MAX]) assert.equal(tokenAmountFromBytes(tokenAmountToBytes(v)), v);
  assert.equal(decodeTokenBalance(null), 0n);
  assert.equal(decodeTokenBalance(encodeTokenBalance(E30 + 1n)), E30 + 1n);
  assert.throws(() => tokenAmountToBytes(TOKEN_AMOUNT_MAX + 1n));
  assert.throws(() => tokenAmountToBytes(-1n));
});

for (const suiteId of SUITES) {
  describe(`tokens module (${suiteId})`, () => {
    const net = makeNet(suiteId, {
      accounts: [
        { name: "issuer", roles: ["issuer"] },
        { name: "issuer2", roles: ["issuer"] },
        { name: "regulator", roles: ["regulator"] },
        { name: "alice" },
        { name: "bob" },
      ],
    });
    const acct = (name: string) => {
      const a = net.accounts[name];
      assert.ok(a);
      return a;
    };
    const issuer = acct("issuer");
    const issuer2 = acct("issuer2");
    const regulator = acct("regulator");
    const alice = acct("alice");
    const bob = acct("bob");
    const stranger = outsider(net, "stranger");

    test("genesis writes nothing under tokens/", () => {
      assert.equal(chain(net).tokensState().size, 0);
    });

    test("create, mint, transfer, burn: balances and supply move exactly; events and results", () => {
      const c = chain(net);
      const created = c.ok(issuer, "create", { symbol: "USD", name: "Tally dollar", decimals: 2, maxSupply: "1000000" });
      assert.deepEqual(created.value, { symbol: "USD", issuer: issuer.address });
      assert.deepEqual(created.events, [
        {
          module: "tokens",
          name: "created",
          data: { symbol: "USD", issuer: issuer.address, name: "Tally dollar", decimals: 2, maxSupply: "1000000" },
        },
      ]);
      assert.deepEqual(c.token("USD"), {
        symbol: "USD",
        issuer: issuer.address,
        name: "Tally dollar",
        decimals: 2,
        maxSupply: 1_000_000n,
        supply: 0n,
      });

      const minted = c.ok(issuer, "mint", { symbol: "USD", to: alice.address, amount: "700" });
      assert.deepEqual(minted.value, { symbol: "USD", supply: "700", balance: "700" });
      assert.deepEqual(minted.events, [{ module: "tokens", name: "minted", data: { symbol: "USD", to: alice.address, amount: "700" } }]);

      const sent = c.ok(alice, "transfer", { symbol: "USD", to: bob.address, amount: "250" });
      assert.deepEqual(sent.value, { symbol: "USD", balance: "450" });
      assert.deepEqual(sent.events, [
        { module: "tokens", name: "transferred", data: { symbol: "USD", from: alice.address, to: bob.address, amount: "250" } },
      ]);
      assert.equal(c.balance("USD", alice.address), 450n);
      assert.equal(c.balance("USD", bob.address), 250n);

      const burned = c.ok(bob, "burn", { symbol: "USD", amount: "50" });
      assert.deepEqual(burned.value, { symbol: "USD", supply: "650", balance: "200" });
      assert.deepEqual(burned.events, [{ module: "tokens", name: "burned", data: { symbol: "USD", from: bob.address, amount: "50" } }]);
      assert.equal(c.token("USD").supply, 650n);

      // Sending the whole balance removes the key: a zero balance is an absent key.
      c.ok(bob, "transfer", { symbol: "USD", to: alice.address, amount: "200" });
      assert.equal(c.state.read(tokenBalanceKey("USD", bob.address)), null);
      assert.equal(c.balance("USD", alice.address), 650n);
      // The issuer mints up to the cap exactly, to itself too.
      c.ok(issuer, "mint", { symbol: "USD", to: issuer.address, amount: "999350" });
      assert.equal(c.token("USD").supply, 1_000_000n);
      // A token without maxSupply is stored with maxSupply null.
      c.ok(issuer2, "create", { symbol: "GOLD2", name: "", decimals: 18 });
      assert.equal(c.token("GOLD2").maxSupply, null);
    });

    test("exact arithmetic far beyond 2^53: 10^30 + 1", () => {
      const c = chain(net);
      c.ok(issuer, "create", { symbol: "BIG", name: "Big", decimals: 18 });
      c.ok(issuer, "mint", { symbol: "BIG", to: alice.address, amount: (E30 + 1n).toString() });
      c.ok(issuer, "mint", { symbol: "BIG", to: alice.address, amount: (E30 + 1n).toString() });
      assert.equal(c.balance("BIG", alice.address), 2n * E30 + 2n);
      c.ok(alice, "transfer", { symbol: "BIG", to: bob.address, amount: "1" });
      assert.equal(c.balance("BIG", alice.address), 2n * E30 + 1n);
      assert.equal(c.balance("BIG", bob.address), 1n);
      const r = c.ok(alice, "burn", { symbol: "BIG", amount: E30.toString() });
      assert.deepEqual(r.value, { symbol: "BIG", supply: (E30 + 2n).toString(), balance: (E30 + 1n).toString() });
      // The largest amount (39 nines) is accepted and fills the implicit cap.
      c.ok(issuer, "create", { symbol: "MAX", name: "Max", decimals: 0 });
      c.ok(issuer, "mint", { symbol: "MAX", to: bob.address, amount: TOKEN_AMOUNT_MAX.toString() });
      assert.equal(c.balance("MAX", bob.address), TOKEN_AMOUNT_MAX);
      c.refused(issuer, "mint", { symbol: "MAX", to: bob.address, amount: "1" }, "SUPPLY_EXCEEDED");
    });

    test("create: missing issuer role is FORBIDDEN; a duplicate symbol is TOKEN_EXISTS", () => {
      const c = chain(net);
      c.refused(alice, "create", { symbol: "USD", name: "x", decimals: 2 }, "FORBIDDEN");
      c.refused(net.admin, "create", { symbol: "USD", name: "x", decimals: 2 }, "FORBIDDEN");
      c.ok(issuer, "create", { symbol: "USD", name: "x", decimals: 2 });
      const dup = c.refused(issuer2, "create", { symbol: "USD", name: "y", decimals: 0 }, "TOKEN_EXISTS");
      assert.deepEqual(dup.value, { symbol: "USD" });
      c.refused(issuer, "create", { symbol: "USD", name: "x", decimals: 2 }, "TOKEN_EXISTS");
    });

    test("create: bad symbol, name, decimals or maxSupply is BAD_ARGS", () => {
      const c = chain(net);
      for (const sym of ["usd", "U", "1USD", "USD-X", "ABCDEFGHIJKLM", "", 7]) {
        c.refused(issuer, "create", { symbol: sym, name: "x", decimals: 2 }, "BAD_ARGS");
      }
      c.refused(issuer, "create", { symbol: "USD", name: "x".repeat(65), decimals: 2 }, "BAD_ARGS");
      for (const d of [19, -1, "2", null]) c.refused(issuer, "create", { symbol: "USD", name: "x", decimals: d }, "BAD_ARGS");
      for (const m of ["01", "-1", "1.5", "1".repeat(40), "1e3", 1000]) {
        c.refused(issuer, "create", { symbol: "USD", name: "x", decimals: 2, maxSupply: m }, "BAD_ARGS");
      }
      c.refused(issuer, "create", { symbol: "USD", name: "x", decimals: 2, extra: 1 }, "BAD_ARGS");
      // maxSupply "0" is allowed (a token that can never be minted); 12-character symbols too.
      c.ok(issuer, "create", { symbol: "NONE", name: "x", decimals: 0, maxSupply: "0" });
      c.refused(issuer, "mint", { symbol: "NONE", to: alice.address, amount: "1" }, "SUPPLY_EXCEEDED");
      c.ok(issuer, "create", { symbol: "ABCDEFGHIJ12", name: "x", decimals: 18, maxSupply: "9".repeat(39) });
    });

    test("mint: only the token's issuer, to a registered account, within maxSupply", () => {
      const c = chain(net);
      c.ok(issuer, "create", { symbol: "USD", name: "x", decimals: 2, maxSupply: "100" });
      const forbidden = c.refused(issuer2, "mint", { symbol: "USD", to: alice.address, amount: "1" }, "FORBIDDEN");
      assert.deepEqual(forbidden.value, { symbol: "USD", issuer: issuer.address });
      c.refused(alice, "mint", { symbol: "USD", to: alice.address, amount: "1" }, "FORBIDDEN");
      c.refused(regulator, "mint", { symbol: "USD", to: alice.address, amount: "1" }, "FORBIDDEN");
      c.refused(issuer, "mint", { symbol: "EUR", to: alice.address, amount: "1" }, "NO_SUCH_TOKEN");
      const unknown = c.refused(issuer, "mint", { symbol: "USD", to: stranger.address, amount: "1" }, "NO_SUCH_ACCOUNT");
      assert.deepEqual(unknown.value, { address: stranger.address });
      c.ok(issuer, "mint", { symbol: "USD", to: alice.address, amount: "60" });
      const over = c.refused(issuer, "mint", { symbol: "USD", to: bob.address, amount: "41" }, "SUPPLY_EXCEEDED");
      assert.deepEqual(over.value, { symbol: "USD", supply: "60", maxSupply: "100", amount: "41" });
      for (const amount of ["0", "01", "-1", "1.5", "1".repeat(40), " 1", "", 5]) {
        c.refused(issuer, "mint", { symbol: "USD", to: bob.address, amount }, "BAD_ARGS");
      }
      c.refused(issuer, "mint", { symbol: "USD", to: "ABCD", amount: "1" }, "BAD_ARGS");
      c.refused(issuer, "mint", { symbol: "USD", to: bob.address.toUpperCase(), amount: "1" }, "BAD_ARGS");
      c.ok(issuer, "mint", { symbol: "USD", to: bob.address, amount: "40" });
      assert.equal(c.token("USD").supply, 100n);
    });

    test("transfer: unknown token, self, unknown recipient, above balance, bad amounts", () => {
      const c = chain(net);
      c.ok(issuer, "create", { symbol: "USD", name: "x", decimals: 2 });
      c.ok(issuer, "mint", { symbol: "USD", to: alice.address, amount: "10" });
      c.refused(alice, "transfer", { symbol: "EUR", to: bob.address, amount: "1" }, "NO_SUCH_TOKEN");
      c.refused(alice, "transfer", { symbol: "USD", to: alice.address, amount: "1" }, "BAD_ARGS");
      c.refused(alice, "transfer", { symbol: "USD", to: stranger.address, amount: "1" }, "NO_SUCH_ACCOUNT");
      const above = c.refused(alice, "transfer", { symbol: "USD", to: bob.address, amount: "11" }, "INSUFFICIENT_BALANCE");
      assert.deepEqual(above.value, { symbol: "USD", balance: "10", amount: "11" });
      c.refused(bob, "transfer", { symbol: "USD", to: alice.address, amount: "1" }, "INSUFFICIENT_BALANCE");
      for (const amount of ["0", "01", "-1", "1.5", "1".repeat(40), "+1", "0x1"]) {
        c.refused(alice, "transfer", { symbol: "USD", to: bob.address, amount }, "BAD_ARGS");
      }
      c.ok(alice, "transfer", { symbol: "USD", to: bob.address, amount: "10" });
      assert.equal(c.balance("USD", alice.address), 0n);
      assert.equal(c.balance("USD", bob.address), 10n);
    });

    test("burn: unknown token, above balance, zero or malformed amounts", () => {
      const c = chain(net);
      c.ok(issuer, "create", { symbol: "USD", name: "x", decimals: 2 });
      c.ok(issuer, "mint", { symbol: "USD", to: alice.address, amount: "10" });
      c.refused(alice, "burn", { symbol: "EUR", amount: "1" }, "NO_SUCH_TOKEN");
      const above = c.refused(alice, "burn", { symbol: "USD", amount: "11" }, "INSUFFICIENT_BALANCE");
      assert.deepEqual(above.value, { symbol: "USD", balance: "10", amount: "11" });
      for (const amount of ["0", "01", "-1", "1.5", "1".repeat(40)]) c.refused(alice, "burn", { symbol: "USD", amount }, "BAD_ARGS");
      // The issuer cannot burn someone else's units: burn takes from the caller's balance only.
      c.refused(issuer, "burn", { symbol: "USD", amount: "1" }, "INSUFFICIENT_BALANCE");
      c.ok(alice, "burn", { symbol: "USD", amount: "10" });
      assert.equal(c.token("USD").supply, 0n);
    });

    test("freeze: a frozen account cannot send or burn but can receive; issuer or regulator only", () => {
      const c = chain(net);
      c.ok(issuer, "create", { symbol: "USD", name: "x", decimals: 2 });
      c.ok(issuer2, "create", { symbol: "EUR", name: "y", decimals: 2 });
      c.ok(issuer, "mint", { symbol: "USD", to: alice.address, amount: "100" });
      c.ok(issuer2, "mint", { symbol: "EUR", to: alice.address, amount: "100" });

      c.refused(alice, "freeze", { symbol: "USD", account: bob.address }, "FORBIDDEN");
      c.refused(issuer2, "freeze", { symbol: "USD", account: alice.address }, "FORBIDDEN");
      c.refused(issuer, "freeze", { symbol: "XYZ", account: alice.address }, "NO_SUCH_TOKEN");
      c.refused(issuer, "freeze", { symbol: "USD", account: stranger.address }, "NO_SUCH_ACCOUNT");
      c.refused(issuer, "freeze", { symbol: "USD", account: "nope" }, "BAD_ARGS");

      const frozen = c.ok(issuer, "freeze", { symbol: "USD", account: alice.address });
      assert.deepEqual(frozen.events, [
        { module: "tokens", name: "frozen", data: { symbol: "USD", account: alice.address, by: issuer.address } },
      ]);
      assert.equal(c.frozen("USD", alice.address), true);
      const refused = c.refused(alice, "transfer", { symbol: "USD", to: bob.address, amount: "1" }, "ACCOUNT_FROZEN");
      assert.deepEqual(refused.value, { symbol: "USD", address: alice.address });
      c.refused(alice, "burn", { symbol: "USD", amount: "1" }, "ACCOUNT_FROZEN");
      // Frozen per token: alice still moves EUR; and she still receives USD.
      c.ok(alice, "transfer", { symbol: "EUR", to: bob.address, amount: "5" });
      c.ok(issuer, "mint", { symbol: "USD", to: alice.address, amount: "1" });
      assert.equal(c.balance("USD", alice.address), 101n);
      // Freezing twice is harmless; the regulator may unfreeze a token it did not issue.
      c.ok(issuer, "freeze", { symbol: "USD", account: alice.address });
      c.refused(issuer2, "unfreeze", { symbol: "USD", account: alice.address }, "FORBIDDEN");
      c.refused(alice, "unfreeze", { symbol: "USD", account: alice.address }, "FORBIDDEN");
      const unfrozen = c.ok(regulator, "unfreeze", { symbol: "USD", account: alice.address });
      assert.deepEqual(unfrozen.events, [
        { module: "tokens", name: "unfrozen", data: { symbol: "USD", account: alice.address, by: regulator.address } },
      ]);
      assert.equal(c.state.read(tokenFrozenKey("USD", alice.address)), null);
      c.ok(alice, "transfer", { symbol: "USD", to: bob.address, amount: "1" });
      c.ok(regulator, "freeze", { symbol: "EUR", account: bob.address });
      c.refused(bob, "transfer", { symbol: "EUR", to: alice.address, amount: "1" }, "ACCOUNT_FROZEN");
      c.ok(issuer2, "unfreeze", { symbol: "EUR", account: bob.address });
      c.ok(bob, "transfer", { symbol: "EUR", to: alice.address, amount: "1" });
    });

    test("the same calls give the same state root on two independent chains", () => {
      const roots = [chain(net), chain(net)].map((c) => {
        c.ok(issuer, "create", { symbol: "USD", name: "x", decimals: 2 });
        c.ok(issuer, "mint", { symbol: "USD", to: alice.address, amount: (E30 + 1n).toString() });
        c.refused(alice, "transfer", { symbol: "USD", to: bob.address, amount: (E30 + 2n).toString() }, "INSUFFICIENT_BALANCE");
        return toHex(c.state.root.hash);
      });
      assert.equal(roots[0], roots[1]);
    });
  });
}
