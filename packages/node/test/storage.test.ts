import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  accountKey,
  encodeBlock,
  encodeCommit,
  evidenceBySubmitterPrefix,
  evidenceRecordKey,
  fromHex,
  TallyError,
  toHex,
  verifySmtProof,
} from "@tally/core";
import type { Chain } from "../src/chain.js";
import {
  commitBlock,
  digestOf,
  GENESIS_TIME_MS,
  get,
  makeNet,
  notarize,
  openChain,
  post,
  SUITES,
  sign,
  startNode,
  type TestNet,
  tempDir,
} from "./helpers.js";

const T1 = GENESIS_TIME_MS + 60_000;

/** Everything observable about a chain's first `height` blocks, as comparable strings. */
function snapshot(chain: Chain, net: TestNet, txHashes: readonly string[], addresses: readonly string[]) {
  const head = chain.head;
  const blocks: string[] = [];
  for (let h = 1; h <= head.height; h++) {
    const b = chain.blockAt(h);
    assert.ok(b, `block ${h} present`);
    blocks.push(`${toHex(b.hash)}:${toHex(encodeBlock(b.block))}:${toHex(encodeCommit(b.commit))}`);
  }
  const txs = txHashes.map((hash) => {
    const t = chain.tx(fromHex(hash));
    assert.ok(t, `tx ${hash} present`);
    return `${t.height}:${t.index}:${toHex(t.txBytes)}:${t.result.status}:${toHex(t.blockHash)}`;
  });
  const proofs: string[] = [];
  for (let h = 0; h <= head.height; h++) {
    for (const address of addresses) {
      const view = chain.stateProof(accountKey(address), h);
      proofs.push(`${h}:${toHex(view.stateRoot)}:${view.value === null ? "-" : toHex(view.value)}`);
    }
  }
  const state = chain.scanState(new Uint8Array(0), 1000).map(([k, v]) => `${toHex(k)}=${toHex(v)}`);
  return {
    head: { height: head.height, hash: toHex(head.hash), timeMs: head.timeMs, stateRoot: toHex(head.stateRoot.hash) },
    blocks,
    txs,
    proofs,
    state,
    accounts: addresses.map((a) => chain.account(a)),
    genesis: net.genesis.hashHex,
  };
}

function isCode(code: string) {
  return (err: unknown) => {
    assert.ok(err instanceof TallyError, String(err));
    assert.equal(err.code, code);
    return true;
  };
}

for (const suiteId of SUITES) {
  describe(`storage (${suiteId})`, () => {
    const net = makeNet(suiteId, { accounts: [{ name: "alice" }] });
    const admin = net.admin;
    const alice = net.accounts.alice;
    assert.ok(alice);

    test("after close and reopen, head, blocks, transactions, results and state (with proofs at every height) are intact", async () => {
      const dir = tempDir();
      try {
        const txs = [
          [notarize(net, admin.key, 0, "s1"), notarize(net, alice.key, 0, "s2", { label: "L", metadata: { k: "v" } })],
          [notarize(net, admin.key, 1, "s3")],
          [notarize(net, alice.key, 1, "s4"), notarize(net, admin.key, 2, "s5")],
        ];
        const hashes = txs.flat().map((t) => t.hash);
        const addresses = [admin.address, alice.address];
        let before: ReturnType<typeof snapshot>;
        {
          const c = await openChain(net, dir.path);
          try {
            for (const [i, block] of txs.entries()) assert.equal((await commitBlock(c, net, block, T1 + i * 1000))?.height, i + 1);
            before = snapshot(c.chain, net, hashes, addresses);
          } finally {
            await c.close();
          }
        }
        assert.equal(before.head.height, 3);
        assert.equal(before.txs.length, 5);
        const c = await openChain(net, dir.path);
        try {
          assert.deepEqual(snapshot(c.chain, net, hashes, addresses), before);
          // Old proofs still verify against the reopened headers.
          const view = c.chain.stateProof(evidenceRecordKey(digestOf(net, "s2")), 1);
          const header = c.chain.blockAt(1)?.header;
          assert.ok(header && view.value);
          assert.ok(verifySmtProof(net.suite.hash, header.stateRoot, view.key, view.value, view.proof));
          assert.equal(c.chain.scanState(evidenceBySubmitterPrefix(alice.address), 10).length, 2);
          // Admission after reopening uses the stored nonces and the stored transaction index.
          const first = txs[0]?.[0];
          assert.ok(first);
          assert.throws(() => c.chain.admit(first.bytes), isCode("DUPLICATE_TX"));
          assert.throws(() => c.chain.admit(notarize(net, admin.key, 2, "s6").bytes), isCode("NONCE_TOO_LOW"));
          // The chain continues from the stored head.
          const e4 = await commitBlock(c, net, [notarize(net, admin.key, 3, "s6")], T1 + 10_000);
          assert.equal(e4?.height, 4);
          assert.deepEqual(c.chain.blockAt(4)?.header.prevHash, fromHex(before.head.hash));
        } finally {
          await c.close();
        }
      } finally {
        dir.remove();
      }
    });

    test("a store opened with another genesis is refused with BAD_GENESIS and left intact", async () => {
      const dir = tempDir();
      try {
        {
          const c = await openChain(net, dir.path);
          await commitBlock(c, net, [notarize(net, admin.key, 0, "g1")], T1);
          await c.close();
        }
        const others = [
          makeNet(suiteId, { accounts: [{ name: "alice" }], keySalt: "other/" }), // other keys
          makeNet(suiteId, { accounts: [{ name: "alice" }], genesisTimeMs: GENESIS_TIME_MS + 1 }), // same keys, other time
          makeNet(suiteId, { accounts: [{ name: "alice" }], chainId: "another-chain" }),
          makeNet(suiteId === "sm2" ? "ed25519" : "sm2", { accounts: [{ name: "alice" }] }), // other suite
        ];
        for (const other of others) {
          assert.notEqual(other.genesis.hashHex, net.genesis.hashHex);
          await assert.rejects(openChain(other, dir.path), (err: unknown) => {
            assert.ok(err instanceof TallyError);
            assert.equal(err.code, "BAD_GENESIS");
            assert.equal(err.meta.stored, net.genesis.hashHex);
            assert.equal(err.meta.given, other.genesis.hashHex);
            return true;
          });
        }
        const c = await openChain(net, dir.path);
        try {
          assert.equal(c.chain.head.height, 1);
          assert.equal(c.chain.account(admin.address)?.nonce, 1);
        } finally {
          await c.close();
        }
      } finally {
        dir.remove();
      }
    });

    test("a node restarted on its directory serves the same chain and continues it", async () => {
      const dir = tempDir();
      try {
        const first = await startNode(net, { dir: dir.path });
        let status: { height: number; latestHash: string; stateRoot: string };
        const tx0 = notarize(net, admin.key, 0, "n1");
        try {
          const r = await post(first.url, "/v1/txs", { tx: tx0.hex, wait: true });
          assert.equal(r.status, 200);
          assert.equal(r.json.status, "committed");
          status = (await get(first.url, "/v1/status")).json;
          assert.equal(status.height, 1);
        } finally {
          await first.stop();
        }
        assert.equal(existsSync(join(first.dataDir, "LOCK")), false, "the directory lock is released on close");
        const second = await startNode(net, { dir: dir.path });
        try {
          const again = (await get(second.url, "/v1/status")).json;
          assert.equal(again.height, status.height);
          assert.equal(again.latestHash, status.latestHash);
          assert.equal(again.stateRoot, status.stateRoot);
          assert.equal((await get(second.url, `/v1/txs/${tx0.hash}`)).json.height, 1);
          assert.equal((await get(second.url, `/v1/evidence/${toHex(digestOf(net, "n1"))}`)).json.submitter, admin.address);
          assert.equal((await get(second.url, `/v1/accounts/${admin.address}`)).json.nonce, 1);
          const replay = await post(second.url, "/v1/txs", { tx: tx0.hex });
          assert.equal(replay.status, 409);
          assert.equal(replay.json.error.code, "DUPLICATE_TX");
          const next = await post(second.url, "/v1/txs", { tx: notarize(net, admin.key, 1, "n2").hex, wait: true });
          assert.equal(next.json.height, 2);
          assert.equal((await get(second.url, "/v1/blocks/2")).json.header.prevHash, status.latestHash);
        } finally {
          await second.stop();
        }
      } finally {
        dir.remove();
      }
    });

    test("a node refused for another genesis releases its directory", async () => {
      const dir = tempDir();
      try {
        const first = await startNode(net, { dir: dir.path });
        await first.stop();
        const other = makeNet(suiteId, { keySalt: "intruder/" });
        await assert.rejects(startNode(other, { dir: dir.path }), isCode("BAD_GENESIS"));
        // Whoever failed to start must not keep the directory locked (nor its database open).
        assert.equal(existsSync(join(dir.path, "data", "LOCK")), false, "LOCK file left behind by a failed TallyNode.init");
        const again = await startNode(net, { dir: dir.path });
        try {
          assert.equal((await get(again.url, "/v1/status")).json.height, 0);
        } finally {
          await again.stop();
        }
      } finally {
        dir.remove();
      }
    });
  });
}

describe("storage of accounts registered after genesis", () => {
  test("a registered account survives a reopen with its roles and nonce", async () => {
    const net = makeNet("ed25519");
    const dir = tempDir();
    try {
      const newcomer = makeNet("ed25519", { keySalt: "newcomer/" }).admin;
      {
        const c = await openChain(net, dir.path);
        const reg = sign(net, net.admin.key, 0, "accounts", "register", {
          publicKey: newcomer.key.publicKey,
          org: "consortium",
          roles: ["issuer", "bank", "issuer"],
        });
        const e = await commitBlock(c, net, [reg], T1);
        assert.equal(e?.results[0]?.status, "ok");
        await commitBlock(c, net, [notarize(net, newcomer.key, 0, "nc")], T1 + 1);
        await c.close();
      }
      const c = await openChain(net, dir.path);
      try {
        const account = c.chain.account(newcomer.address);
        assert.deepEqual(account, { publicKey: newcomer.key.publicKey, org: "consortium", roles: ["bank", "issuer"], nonce: 1 });
      } finally {
        await c.close();
      }
    } finally {
      dir.remove();
    }
  });
});
