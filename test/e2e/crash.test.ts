/**
 * Crash safety (spec/storage.md): a node killed with SIGKILL at any instant under load restarts with
 * every block it acknowledged intact. The test keeps clients submitting batches with `wait`, kills the
 * node at random moments, restarts it, and finally checks from outside, through the API, that every
 * transaction ever reported committed is still there and that the chain links up from height 1.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fromKeyFile, getSuite, type KeyPair, loadGenesis, seededRandom, toHex, toKeyFile } from "@tally/core";
import { AccountSigner, TallyClient } from "@tally/sdk";
import { freePort, type NodeProcess, startNode, tally, tempDir } from "../helpers.js";

const KILLS = 4;
const CLIENTS = 4;
const BATCH = 50;

const dir = tempDir("crash");
const net = join(dir.path, "net");
let rpc = "";
let node: NodeProcess | undefined;

before(async () => {
  const port = await freePort();
  rpc = `http://127.0.0.1:${port}`;
  assert.equal(tally(["init", net, "--api-port", String(port)]).code, 0);
});

after(async () => {
  await node?.kill();
  dir.cleanup();
});

/** Adds client accounts straight into the genesis (before the first start), like an operator would. */
function addClients(count: number): KeyPair[] {
  const suite = getSuite("ed25519");
  const keys = Array.from({ length: count }, () => suite.generateKeyPair());
  for (const path of [join(net, "genesis.json"), join(net, "node0", "genesis.json")]) {
    const doc = JSON.parse(readFileSync(path, "utf8")) as { accounts: Array<{ publicKey: string; org: string; roles: string[] }> };
    for (const k of keys) doc.accounts.push({ publicKey: toHex(k.publicKey), org: "consortium", roles: [] });
    loadGenesis(doc);
    writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
  }
  return keys.map((k) => fromKeyFile(toKeyFile(k)));
}

test("every acknowledged transaction survives repeated SIGKILL under load", { timeout: 240_000 }, async (t) => {
  const seed = Number(process.env.TALLY_CRASH_SEED ?? Date.now() % 1_000_000);
  const random = seededRandom(seed); // a failing run replays with the printed seed
  const keys = addClients(CLIENTS);
  const acknowledged = new Map<string, number>();
  const logFile = join(dir.path, "node.log");

  for (let round = 0; round <= KILLS; round++) {
    node = await startNode(join(net, "node0"), rpc, logFile);
    const client = new TallyClient(rpc, { timeoutMs: 20_000 });
    const signers = await Promise.all(keys.map((k) => AccountSigner.connect(client, k)));
    let stop = false;
    const load = signers.map(async (signer) => {
      while (!stop) {
        const txs = Array.from({ length: BATCH }, () => {
          const digest = new Uint8Array(32);
          for (let i = 0; i < 32; i++) digest[i] = Math.floor(random() * 256);
          return signer.sign("evidence", "notarize", { digest }).bytes;
        });
        try {
          const results = await client.submitBatch(txs, { wait: true, timeoutMs: 10_000 });
          for (const r of results) if ("status" in r && r.status === "committed") acknowledged.set(r.hash, r.height);
          if (results.some((r) => "error" in r)) await signer.resync();
        } catch {
          return; // the node died mid-request: nothing from this request counts as acknowledged
        }
      }
    });
    if (round === KILLS) {
      await new Promise((r) => setTimeout(r, 1_000));
      stop = true;
      await Promise.all(load);
      break;
    }
    await new Promise((r) => setTimeout(r, 300 + random() * 1_500));
    await node.kill();
    stop = true;
    await Promise.all(load);
  }

  assert.ok(acknowledged.size > 0, `seed ${seed}: no transaction was acknowledged at all`);
  t.diagnostic(`seed ${seed}: ${KILLS} kills, ${acknowledged.size} acknowledged transactions checked`);
  const client = new TallyClient(rpc);
  const status = await client.status();
  for (const [hash, height] of acknowledged) {
    const found = await client.tx(hash).catch((err: unknown) => assert.fail(`seed ${seed}: acknowledged tx ${hash} lost: ${String(err)}`));
    assert.equal(found.height, height, `seed ${seed}: tx ${hash} moved from height ${height} to ${found.height}`);
  }
  // The chain links up: every block's prevHash is the previous block's hash, from the genesis hash on.
  let prev = status.genesisHash;
  for (let h = 1; h <= status.height; h++) {
    const block = await client.block(h);
    assert.equal(block.header.prevHash, prev, `seed ${seed}: block ${h} does not link to ${h - 1}`);
    prev = block.hash;
  }
  assert.equal(prev, status.latestHash);
  const code = await node?.stop();
  node = undefined;
  assert.equal(code, 0);
});
