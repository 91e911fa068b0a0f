/**
 * The token commands from the outside: init a network, start the node as its own process, register
 * an issuer and a holder with the CLI, then create, mint, transfer, freeze (a refused transfer),
 * unfreeze, burn, and read balances (proof-checked) and the token record.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CliNetwork, tally } from "../helpers.js";

for (const suite of ["ed25519", "sm2"] as const) {
  describe(`CLI token flow (${suite})`, () => {
    const network = new CliNetwork(`cli-tokens-${suite}`, { suite });
    const { admin } = network;

    /** Runs tally, expects exit 0 and returns the parsed JSON output. */
    const json = (args: string[]) => network.json(args);
    const newAccount = (name: string, roles: string) => network.newAccount(name, roles);

    test("create, mint, transfer, freeze refuses a transfer, unfreeze, burn, balance and info", () => {
      const issuer = newAccount("issuer", "issuer");
      const holder = newAccount("holder", "");
      const big = (10n ** 30n + 1n).toString();

      const notIssuer = tally([
        "token",
        "create",
        "--key",
        admin,
        "--symbol",
        "EUR",
        "--name",
        "Euro",
        "--decimals",
        "2",
        "--rpc",
        network.rpc,
      ]);
      assert.equal(notIssuer.code, 1);
      assert.match(notIssuer.stderr, /FORBIDDEN/);

      const created = json(["token", "create", "--key", issuer.keyPath, "--symbol", "EUR", "--name", "Euro", "--decimals", "2"]);
      assert.equal(created.symbol, "EUR");
      assert.equal(created.issuer, issuer.address);
      assert.match(String(created.tx), /^[0-9a-f]{64}$/);

      const minted = json(["token", "mint", "--key", issuer.keyPath, "--symbol", "EUR", "--to", issuer.address, "--amount", big]);
      assert.deepEqual({ supply: minted.supply, balance: minted.balance }, { supply: big, balance: big });
      const sent = json(["token", "transfer", "--key", issuer.keyPath, "--symbol", "EUR", "--to", holder.address, "--amount", "500"]);
      assert.equal(sent.balance, (10n ** 30n - 499n).toString());

      const balance = json(["token", "balance", "--symbol", "EUR", "--address", holder.address]);
      assert.equal(balance.balance, "500");
      assert.match(String(balance.stateRoot), /^[0-9a-f]{64}$/);
      assert.equal(json(["token", "balance", "--symbol", "EUR", "--key", issuer.keyPath]).balance, (10n ** 30n - 499n).toString());

      json(["token", "freeze", "--key", issuer.keyPath, "--symbol", "EUR", "--account", holder.address]);
      const frozen = tally([
        "token",
        "transfer",
        "--key",
        holder.keyPath,
        "--symbol",
        "EUR",
        "--to",
        issuer.address,
        "--amount",
        "1",
        "--rpc",
        network.rpc,
      ]);
      assert.equal(frozen.code, 1);
      assert.match(frozen.stderr, /ACCOUNT_FROZEN/);
      json(["token", "unfreeze", "--key", issuer.keyPath, "--symbol", "EUR", "--account", holder.address]);
      json(["token", "transfer", "--key", holder.keyPath, "--symbol", "EUR", "--to", issuer.address, "--amount", "100"]);

      const above = tally(["token", "burn", "--key", holder.keyPath, "--symbol", "EUR", "--amount", "401", "--rpc", network.rpc]);
      assert.equal(above.code, 1);
      assert.match(above.stderr, /INSUFFICIENT_BALANCE.*"balance":"400"/);
      const burned = json(["token", "burn", "--key", holder.keyPath, "--symbol", "EUR", "--amount", "400"]);
      assert.equal(burned.balance, "0");

      const info = json(["token", "info", "--symbol", "EUR"]);
      assert.deepEqual(info, {
        symbol: "EUR",
        issuer: issuer.address,
        name: "Euro",
        decimals: 2,
        maxSupply: null,
        supply: (10n ** 30n - 399n).toString(),
      });

      for (const amount of ["01", "-1", "1.5", "1".repeat(40), "0"]) {
        const bad = tally([
          "token",
          "mint",
          "--key",
          issuer.keyPath,
          "--symbol",
          "EUR",
          "--to",
          holder.address,
          "--amount",
          amount,
          "--rpc",
          network.rpc,
        ]);
        assert.equal(bad.code, 1, `amount ${amount} accepted`);
        assert.match(bad.stderr, /--amount/);
      }
    });

    test("a regulator lists holders with a signed query and reads a holder's audit trail", () => {
      const issuer = newAccount("issuer2", "issuer");
      const holder = newAccount("holder2", "");
      const regulator = newAccount("regulator", "regulator");
      json(["token", "create", "--key", issuer.keyPath, "--symbol", "GBP", "--name", "Pound", "--decimals", "2"]);
      json(["token", "mint", "--key", issuer.keyPath, "--symbol", "GBP", "--to", holder.address, "--amount", "70"]);
      json(["token", "transfer", "--key", holder.keyPath, "--symbol", "GBP", "--to", issuer.address, "--amount", "20"]);

      const args = JSON.stringify({ symbol: "GBP" });
      const anonymous = tally(["query", "tokens", "holders", "--args", args, "--rpc", network.rpc]);
      assert.equal(anonymous.code, 1);
      assert.match(anonymous.stderr, /UNAUTHENTICATED/);
      const byHolder = tally(["query", "tokens", "holders", "--args", args, "--key", holder.keyPath, "--rpc", network.rpc]);
      assert.equal(byHolder.code, 1);
      assert.match(byHolder.stderr, /FORBIDDEN/);
      const listed = json(["query", "tokens", "holders", "--args", args, "--key", regulator.keyPath]) as {
        value: { items: Array<{ address: string; balance: string }> };
      };
      const balances = Object.fromEntries(listed.value.items.map((i) => [i.address, i.balance]));
      assert.deepEqual(balances, { [issuer.address]: "20", [holder.address]: "50" });
      assert.equal((json(["query", "tokens", "info", "--args", args]) as { value: { supply: string } }).value.supply, "70");

      const trail = json(["audit", "--address", holder.address, "--key", regulator.keyPath]) as {
        items: Array<{ module: string; method: string; status: string }>;
      };
      assert.deepEqual(
        trail.items.map((i) => `${i.module}.${i.method}:${i.status}`),
        ["tokens.transfer:ok"],
      );
      const notAllowed = tally(["audit", "--address", holder.address, "--key", issuer.keyPath, "--rpc", network.rpc]);
      assert.equal(notAllowed.code, 1);
      assert.match(notAllowed.stderr, /FORBIDDEN/);
    });
  });
}
