/**
 * The tokens module through the SDK against a real node process: an admin registers an issuer and
 * two holders; create, mint, transfer, burn, freeze, a refused transfer, unfreeze; balances are read
 * from state with proofs checked against a root from a verified receipt.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { addressOf, getSuite, toHex, tokenBalanceKey } from "@tally/core";
import { type AccountSigner, type Genesis, type TallyClient, TallyError, verifyTokenBalance, verifyTxReceipt } from "@tally/sdk";
import { CliNetwork, committedOk as ok } from "../helpers.js";

const E30 = 10n ** 30n;

for (const suite of ["ed25519", "sm2"] as const) {
  describe(`SDK tokens (${suite})`, () => {
    const network = new CliNetwork(`sdk-tokens-${suite}`, { suite, requireCleanExit: false });
    let client: TallyClient;
    let genesis: Genesis;
    let issuer: AccountSigner;
    let alice: AccountSigner;
    let bob: AccountSigner;

    before(async () => {
      const sdk = await network.sdk();
      client = sdk.client;
      genesis = sdk.genesis;
      const register = (roles: string[]) => sdk.register(roles);
      issuer = await register(["issuer"]);
      alice = await register([]);
      bob = await register([]);
    });

    test("create → mint → transfer → burn → freeze → refused transfer → unfreeze, balances proven", async () => {
      const created = ok(await issuer.tokens.create({ symbol: "TLY", name: "Tally token", decimals: 18, maxSupply: 10n * E30 }));
      assert.deepEqual(created.result.value, { symbol: "TLY", issuer: issuer.address });
      assert.deepEqual(await client.tokens.info("TLY"), {
        symbol: "TLY",
        issuer: issuer.address,
        name: "Tally token",
        decimals: 18,
        maxSupply: 10n * E30,
        supply: 0n,
      });
      // Roles are checked at execution: the call commits as a failed result.
      const noRole = await alice.tokens.create({ symbol: "ALICE", name: "not an issuer", decimals: 0 });
      assert.ok(noRole.status === "committed" && noRole.result.status === "failed");
      assert.equal(noRole.result.code, "FORBIDDEN");

      ok(await issuer.tokens.mint("TLY", alice.address, E30 + 1n));
      ok(await alice.tokens.transfer("TLY", bob.address, "1000"));
      const burned = ok(await bob.tokens.burn("TLY", 1n));
      assert.equal(await client.tokens.balance("TLY", alice.address), E30 + 1n - 1000n);
      assert.equal(await client.tokens.balance("TLY", bob.address), 999n);
      assert.equal((await client.tokens.info("TLY"))?.supply, E30);

      // Proven against the state root of a header whose commit verifies offline from the genesis.
      const { receipt } = await client.txReceipt(burned.hash);
      const header = verifyTxReceipt(genesis, receipt).header;
      const proven = await client.tokens.balanceWithProof("TLY", bob.address, {
        height: burned.height,
        trustedStateRoot: header.stateRoot,
      });
      assert.equal(proven.value, 999n);
      assert.equal(verifyTokenBalance(genesis, header.stateRoot, "TLY", bob.address, proven.view), 999n);
      assert.throws(
        () => verifyTokenBalance(genesis, header.stateRoot, "TLY", bob.address, { ...proven.view, value: null }),
        (err: unknown) => err instanceof TallyError && err.code === "BAD_PROOF",
      );
      assert.throws(
        () => verifyTokenBalance(genesis, header.stateRoot, "TLY", alice.address, proven.view),
        (err: unknown) => err instanceof TallyError && err.code === "BAD_PROOF",
      );
      await assert.rejects(
        client.tokens.balance("TLY", bob.address, { height: burned.height, trustedStateRoot: new Uint8Array(32).fill(7) }),
        (err: unknown) => err instanceof TallyError && err.code === "BAD_PROOF",
      );
      // A non-holder has a proven zero balance (an absent key).
      const view = await client.state(toHex(tokenBalanceKey("TLY", issuer.address)));
      assert.equal(view.value, null);
      assert.equal(await client.tokens.balance("TLY", issuer.address), 0n);

      const frozen = ok(await issuer.tokens.freeze("TLY", alice.address));
      assert.deepEqual(frozen.result.events, [
        { module: "tokens", name: "frozen", data: { symbol: "TLY", account: alice.address, by: issuer.address } },
      ]);
      assert.equal(await client.tokens.isFrozen("TLY", alice.address), true);
      const refused = await alice.tokens.transfer("TLY", bob.address, 5n);
      assert.equal(refused.status, "committed");
      if (refused.status === "committed") {
        assert.equal(refused.result.status, "failed");
        assert.equal(refused.result.code, "ACCOUNT_FROZEN");
      }
      assert.equal(await client.tokens.balance("TLY", bob.address), 999n);

      ok(await issuer.tokens.unfreeze("TLY", alice.address));
      assert.equal(await client.tokens.isFrozen("TLY", alice.address), false);
      ok(await alice.tokens.transfer("TLY", bob.address, 5n));
      assert.equal(await client.tokens.balance("TLY", bob.address), 1004n);
      assert.equal(await client.tokens.balance("TLY", alice.address), E30 + 1n - 1005n);

      const tooMuch = await alice.tokens.transfer("TLY", bob.address, E30);
      assert.ok(tooMuch.status === "committed" && tooMuch.result.status === "failed");
      assert.equal(tooMuch.result.code, "INSUFFICIENT_BALANCE");
      assert.deepEqual(tooMuch.result.value, { symbol: "TLY", balance: (E30 + 1n - 1005n).toString(), amount: E30.toString() });
      assert.equal(await client.tokens.info("NOPE"), null);
      assert.equal(addressOf(getSuite(suite), issuer.key.publicKey), issuer.address);
    });

    test("the SDK refuses malformed amounts and symbols before signing; a duplicate symbol is refused at admission", async () => {
      const nonce = issuer.nonce;
      for (const amount of ["01", "-1", "1.5", "1".repeat(40), "0", -1n, 0n]) {
        assert.throws(
          () => issuer.tokens.mint("TLY", alice.address, amount),
          (err: unknown) => err instanceof TallyError && err.code === "BAD_ARGS",
        );
      }
      assert.throws(
        () => issuer.tokens.burn("tly", 1n),
        (err: unknown) => err instanceof TallyError && err.code === "BAD_ARGS",
      );
      assert.equal(issuer.nonce, nonce);
      await assert.rejects(
        client.tokens.balance("TLY", "not-an-address"),
        (err: unknown) => err instanceof TallyError && err.code === "BAD_ARGS",
      );
      await assert.rejects(
        issuer.tokens.create({ symbol: "TLY", name: "dup", decimals: 0 }),
        (err: unknown) => err instanceof TallyError && err.code === "TOKEN_EXISTS" && err.meta.status === 409,
      );
      assert.equal(issuer.nonce, nonce);
    });
  });
}
