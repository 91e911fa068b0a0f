/**
 * The SDK against a real node process: typed reads, signing with nonce tracking, mixed batches,
 * and offline verification of transaction receipts and state proofs.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { accountKey, fromHex, getSuite, toHex } from "@tally/core";
import { AccountSigner, fromKeyFile, loadGenesis, TallyClient, TallyError, verifyStateView, verifyTxReceipt } from "@tally/sdk";
import { freePort, type NodeProcess, startNode, tally, tempDir } from "../helpers.js";

for (const suite of ["ed25519", "sm2"] as const) {
  describe(`SDK (${suite})`, () => {
    const dir = tempDir(`sdk-${suite}`);
    const net = join(dir.path, "net");
    let node: NodeProcess;
    let client: TallyClient;
    let signer: AccountSigner;

    before(async () => {
      const port = await freePort();
      assert.equal(tally(["init", net, "--crypto", suite, "--api-port", String(port)]).code, 0);
      node = await startNode(join(net, "node0"), `http://127.0.0.1:${port}`, join(dir.path, "node.log"));
      client = new TallyClient(node.url);
      signer = await AccountSigner.connect(client, fromKeyFile(JSON.parse(readFileSync(join(net, "accounts", "admin.json"), "utf8"))));
    });

    after(async () => {
      await node.stop();
      dir.cleanup();
    });

    test("a committed transaction's receipt verifies offline, and a state proof verifies against its header", async () => {
      const genesis = loadGenesis(JSON.parse(readFileSync(join(net, "genesis.json"), "utf8")));
      const digest = getSuite(suite).hash(new TextEncoder().encode(`sdk ${suite}`));
      const outcome = await signer.notarize(digest, { label: "sdk" });
      assert.equal(outcome.status, "committed");
      if (outcome.status !== "committed") return;
      assert.equal(outcome.result.status, "ok");

      const { receipt } = await client.txReceipt(outcome.hash);
      const verified = verifyTxReceipt(genesis, receipt);
      assert.equal(toHex(verified.txHash), outcome.hash);
      assert.equal(verified.header.height, outcome.height);
      const altered = receipt.slice(0, 100) + (receipt[100] === "0" ? "1" : "0") + receipt.slice(101);
      assert.throws(
        () => verifyTxReceipt(genesis, altered),
        (err: unknown) => err instanceof TallyError && err.code === "BAD_RECEIPT",
      );

      // The admin's account record at that height, proven against the verified header's state root.
      const view = await client.state(toHex(accountKey(signer.address)), outcome.height);
      assert.notEqual(view.value, null);
      assert.equal(verifyStateView(genesis, verified.header.stateRoot, view), true);
      assert.equal(verifyStateView(genesis, new Uint8Array(32).fill(1), view), false);
      assert.equal(verifyStateView(genesis, verified.header.stateRoot, { ...view, value: "00" }), false);
    });

    test("a refused transaction gives its nonce back, so the next one is not a gap", async () => {
      const digest = getSuite(suite).hash(new TextEncoder().encode(`twice ${suite}`));
      assert.equal((await signer.notarize(digest)).status, "committed");
      const before = signer.nonce;
      await assert.rejects(signer.notarize(digest), (err: unknown) => err instanceof TallyError && err.code === "EVIDENCE_EXISTS");
      assert.equal(signer.nonce, before);
      const next = await signer.notarize(getSuite(suite).hash(new TextEncoder().encode(`after ${suite}`)));
      assert.equal(next.status, "committed");
      assert.equal((await client.account(signer.address)).nonce, signer.nonce);
    });

    test("a batch reports each transaction on its own", async () => {
      const ok = signer.sign("evidence", "notarize", { digest: fromHex("ab".repeat(32)) });
      const bad = signer.sign("evidence", "notarize", { digest: fromHex("abcd") });
      const results = await client.submitBatch([ok.bytes, bad.bytes], { wait: true });
      assert.equal(results.length, 2);
      assert.ok("status" in (results[0] as object) && (results[0] as { status: string }).status === "committed");
      assert.ok("error" in (results[1] as object));
      assert.equal((results[1] as { error: { code: string } }).error.code, "BAD_ARGS");
      await signer.resync();
      assert.equal(signer.nonce, ok.nonce + 1);
    });

    test("reads return typed views and refusals carry the node's code", async () => {
      const status = await client.status();
      assert.equal(status.crypto, suite);
      const latest = await client.latestBlock();
      assert.equal(latest.header.height, status.height);
      assert.equal(latest.header.txCount, latest.txs.length);
      assert.equal((await client.block(latest.hash)).hash, latest.hash);
      await assert.rejects(client.block(999_999), (err: unknown) => err instanceof TallyError && err.code === "NOT_FOUND");
      await assert.rejects(
        new TallyClient("http://127.0.0.1:1").status(),
        (err: unknown) => err instanceof TallyError && err.code === "TIMEOUT",
      );
    });
  });
}
