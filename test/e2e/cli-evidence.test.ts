/**
 * The court/auditor flow from the outside, for both crypto suites: init a network with the CLI,
 * start the node as its own process, notarise a file, fetch its receipt, verify it offline with
 * only the genesis file, and see every kind of tampering refused.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CliNetwork, tally } from "../helpers.js";

for (const suite of ["ed25519", "sm2"] as const) {
  describe(`CLI evidence flow (${suite})`, () => {
    const network = new CliNetwork(`cli-${suite}`, { suite, initArgs: ["--chain-id", `e2e-${suite}`] });
    const { dir, admin, genesis } = network;

    test("notarise, refuse a duplicate, verify the receipt offline, refuse tampering", () => {
      const file = join(dir.path, "contract.pdf");
      writeFileSync(file, `signed contract ${suite} ${Date.now()}`);
      const notarized = tally([
        "evidence",
        "notarize",
        file,
        "--key",
        admin,
        "--rpc",
        network.rpc,
        "--label",
        "contract",
        "--meta",
        "case=2026-17",
      ]);
      assert.equal(notarized.code, 0, notarized.stderr);
      const record = JSON.parse(notarized.stdout) as {
        digest: string;
        height: number;
        submitter: string;
        label: string;
        metadata: Record<string, string>;
      };
      assert.equal(record.label, "contract");
      assert.deepEqual(record.metadata, { case: "2026-17" });
      assert.ok(record.height >= 1);

      const again = tally(["evidence", "notarize", file, "--key", admin, "--rpc", network.rpc]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /EVIDENCE_EXISTS/);
      assert.match(again.stderr, new RegExp(`"height":${record.height}`));
      assert.match(again.stderr, new RegExp(record.submitter));

      const receiptPath = join(dir.path, "receipt.json");
      const receipt = tally(["evidence", "receipt", file, "--rpc", network.rpc, "--out", receiptPath]);
      assert.equal(receipt.code, 0, receipt.stderr);

      const verified = tally(["evidence", "verify", receiptPath, "--genesis", genesis, "--file", file]);
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stdout, /^valid: /);
      assert.equal(verified.stdout.trim().split("\n").length, 1, "one-line summary");
      assert.match(verified.stdout, new RegExp(record.digest));

      const other = join(dir.path, "other.pdf");
      writeFileSync(other, "a different file");
      const wrongFile = tally(["evidence", "verify", receiptPath, "--genesis", genesis, "--file", other]);
      assert.equal(wrongFile.code, 1);
      assert.match(wrongFile.stderr, /^invalid: .*differs/);

      // Every byte of the receipt matters: alter bytes across the whole file (each position in turn
      // for a sample spread over the file) and every altered copy must be refused.
      const text = readFileSync(receiptPath, "utf8");
      const tampered = join(dir.path, "tampered.json");
      const step = Math.max(1, Math.floor(text.length / 25));
      for (let pos = 0; pos < text.length; pos += step) {
        const ch = text[pos] === "0" ? "1" : "0";
        writeFileSync(tampered, text.slice(0, pos) + ch + text.slice(pos + 1));
        const r = tally(["evidence", "verify", tampered, "--genesis", genesis]);
        assert.equal(r.code, 1, `altered byte ${pos} was accepted`);
        assert.match(r.stderr, /^invalid: /);
      }

      // A receipt checked against another chain's genesis is refused.
      const otherNet = join(dir.path, "other-net");
      assert.equal(tally(["init", otherNet, "--crypto", suite, "--chain-id", `e2e-${suite}`]).code, 0);
      const foreign = tally(["evidence", "verify", receiptPath, "--genesis", join(otherNet, "genesis.json")]);
      assert.equal(foreign.code, 1);
    });

    test("status, block and tx read commands print JSON", () => {
      const status = tally(["status", "--rpc", network.rpc]);
      assert.equal(status.code, 0, status.stderr);
      const s = JSON.parse(status.stdout) as { chainId: string; height: number; crypto: string };
      assert.equal(s.chainId, `e2e-${suite}`);
      assert.equal(s.crypto, suite);
      assert.ok(s.height >= 1);

      const block = tally(["block", "1", "--rpc", network.rpc]);
      assert.equal(block.code, 0, block.stderr);
      const b = JSON.parse(block.stdout) as { hash: string; header: { height: number }; txs: string[] };
      assert.match(b.hash, /^[0-9a-f]{64}$/);
      assert.equal(b.header.height, 1);
      assert.equal(b.txs.length, 1);

      const tx = tally(["tx", b.txs[0] as string, "--rpc", network.rpc]);
      assert.equal(tx.code, 0, tx.stderr);
      const t = JSON.parse(tx.stdout) as { height: number; tx: { module: string; method: string }; result: { status: string } };
      assert.equal(t.height, 1);
      assert.equal(t.tx.module, "evidence");
      assert.equal(t.result.status, "ok");

      const missing = tally(["block", "999999", "--rpc", network.rpc]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /NOT_FOUND/);
    });

    test("an admin registers a new account, which can then notarise; unregistered keys are refused", () => {
      const keyPath = join(dir.path, "clerk.json");
      const created = tally(["keys", "new", "--out", keyPath, "--crypto", suite]);
      assert.equal(created.code, 0, created.stderr);
      const key = JSON.parse(created.stdout) as { address: string; publicKey: string };

      const refused = tally(["evidence", "notarize", "--digest", "ab".repeat(32), "--key", keyPath, "--rpc", network.rpc]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /NOT_FOUND|UNKNOWN_SIGNER/);

      const registered = tally([
        "accounts",
        "register",
        "--key",
        admin,
        "--public-key",
        key.publicKey,
        "--org",
        "consortium",
        "--roles",
        "bank",
        "--rpc",
        network.rpc,
      ]);
      assert.equal(registered.code, 0, registered.stderr);
      assert.equal((JSON.parse(registered.stdout) as { address: string }).address, key.address);

      const ok = tally(["evidence", "notarize", "--digest", "cd".repeat(32), "--key", keyPath, "--rpc", network.rpc]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal((JSON.parse(ok.stdout) as { submitter: string }).submitter, key.address);

      const listed = tally(["evidence", "list", "--submitter", key.address, "--rpc", network.rpc]);
      assert.equal(listed.code, 0, listed.stderr);
      const list = JSON.parse(listed.stdout) as { records: Array<{ digest: string }> };
      assert.deepEqual(
        list.records.map((r) => r.digest),
        ["cd".repeat(32)],
      );
    });

    test("a key of the other suite is refused by the CLI before anything is sent", () => {
      const keyPath = join(dir.path, "foreign.json");
      assert.equal(tally(["keys", "new", "--out", keyPath, "--crypto", suite === "sm2" ? "ed25519" : "sm2"]).code, 0);
      const r = tally(["evidence", "notarize", "--digest", "ef".repeat(32), "--key", keyPath, "--rpc", network.rpc]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /WRONG_SUITE/);
    });
  });
}
