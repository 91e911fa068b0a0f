/**
 * Lifecycle through governance: code is stored by hash, a proposal upgrades a contract to it (a new
 * version from that height), freezes and unfreezes it. Replaying the same blocks on a fresh chain runs
 * each call with the version in force at its height and reaches the same state root.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type TxResult, toHex, utf8, type Value } from "@tally/core";
import { MemoryChain, makeNet } from "../helpers.js";
import { COUNTER, call, deploy, failed, ok, value } from "./fixtures.js";

/** Version 2 of the counter: increments by ten. */
const COUNTER_V2 = COUNTER.replace("((args && args.by) || 1)", "10 * ((args && args.by) || 1)");

const net = makeNet("ed25519", {
  orgs: [{ id: "bank", name: "Bank" }],
  accounts: [{ name: "bankAdmin", org: "bank", roles: ["org-admin"] }, { name: "user" }, { name: "watchdog", roles: ["regulator"] }],
});
const { admin } = net;
const bankAdmin = net.accounts.bankAdmin!;
const user = net.accounts.user!;

function passed(chain: MemoryChain, action: Record<string, Value>): TxResult {
  const p = ok(chain.call(admin, "governance", "propose", { action })) as { id: number };
  const r = chain.call(bankAdmin, "governance", "vote", { id: p.id, approve: true });
  ok(r);
  return r;
}

describe("contracts: governance upgrade and freeze", () => {
  test("upgrade runs the new code from its height; versions are kept; bad upgrades are refused", () => {
    const chain = new MemoryChain(net);
    const address = deploy(chain, admin, COUNTER);
    assert.equal(value(call(chain, user, address, "increment")), 1);
    const stored = ok(chain.call(admin, "contracts", "store", { code: COUNTER_V2 })) as { codeHash: string };
    assert.equal(stored.codeHash, toHex(net.suite.hash(utf8(COUNTER_V2))));
    // Refused at proposal: unknown code hash, unknown contract, the code it already runs.
    failed(
      chain.call(admin, "governance", "propose", { action: { kind: "upgradeContract", address, codeHash: "00".repeat(32) } }),
      "NOT_FOUND",
    );
    failed(
      chain.call(admin, "governance", "propose", {
        action: { kind: "upgradeContract", address: "ab".repeat(20), codeHash: stored.codeHash },
      }),
      "NO_SUCH_CONTRACT",
    );
    const v1Hash = toHex(net.suite.hash(utf8(COUNTER)));
    failed(chain.call(admin, "governance", "propose", { action: { kind: "upgradeContract", address, codeHash: v1Hash } }), "BAD_ARGS");
    const r = passed(chain, { kind: "upgradeContract", address, codeHash: stored.codeHash });
    const upgradeHeight = chain.height;
    assert.ok(r.events.some((e) => e.module === "contracts" && e.name === "contract.upgraded"));
    assert.equal(value(call(chain, user, address, "increment")), 11, "state is kept, the new code runs");
    const info = chain.query("contracts", "contract", { address }) as Record<string, Value>;
    assert.equal(info.version, 2);
    assert.equal(info.codeHash, stored.codeHash);
    assert.deepEqual(info.versions, [
      { version: 1, codeHash: v1Hash, fromHeight: 1 },
      { version: 2, codeHash: stored.codeHash, fromHeight: upgradeHeight },
    ]);
  });

  test("a frozen contract refuses calls (CONTRACT_FROZEN) until unfrozen; regulators may propose freezes", () => {
    const chain = new MemoryChain(net);
    const address = deploy(chain, admin, COUNTER);
    const watchdog = net.accounts.watchdog!;
    const p = ok(chain.call(watchdog, "governance", "propose", { action: { kind: "freezeContract", address } })) as { id: number };
    ok(chain.call(admin, "governance", "vote", { id: p.id, approve: true }));
    ok(chain.call(bankAdmin, "governance", "vote", { id: p.id, approve: true }));
    assert.equal((chain.query("contracts", "contract", { address }) as Record<string, Value>).frozen, true);
    const before = chain.state.entriesUnder(`contracts/s/${address}/`);
    const r = call(chain, user, address, "increment");
    failed(r, "CONTRACT_FROZEN");
    assert.deepEqual(chain.state.entriesUnder(`contracts/s/${address}/`), before);
    failed(chain.call(admin, "governance", "propose", { action: { kind: "freezeContract", address } }), "BAD_ARGS");
    // A frozen contract cannot be reached through another contract either.
    const proxy = deploy(
      chain,
      admin,
      'var __contract = { go(a) { try { return __tally.call(a, "get", "null"); } catch (e) { return e.code; } } };',
    );
    assert.equal(value(call(chain, user, proxy, "go", address)), "CONTRACT_FROZEN");
    passed(chain, { kind: "unfreezeContract", address });
    assert.equal(value(call(chain, user, address, "increment")), 1);
    failed(chain.call(admin, "governance", "propose", { action: { kind: "unfreezeContract", address } }), "NOT_FOUND");
  });

  test("replay of the same blocks on a fresh chain runs each version at its height: same roots, same results", () => {
    const run = () => {
      const chain = new MemoryChain(net);
      const results: Value[] = [];
      const roots: string[] = [];
      const step = (r: TxResult) => {
        results.push({ status: r.status, code: r.code, value: r.value });
        roots.push(toHex(chain.state.root.hash));
      };
      const address = deploy(chain, admin, COUNTER);
      step(call(chain, user, address, "increment"));
      step(chain.call(admin, "contracts", "store", { code: COUNTER_V2 }));
      step(passed(chain, { kind: "upgradeContract", address, codeHash: toHex(net.suite.hash(utf8(COUNTER_V2))) }));
      step(call(chain, user, address, "increment"));
      step(passed(chain, { kind: "freezeContract", address }));
      step(call(chain, user, address, "increment"));
      return { results, roots };
    };
    const a = run();
    const b = run();
    assert.deepEqual(a, b);
    const values = a.results.map((r) => r as { status: string; code: string | null; value: { value?: Value } });
    assert.equal(values[0]?.value.value, 1, "version 1 at its height");
    assert.equal(values[3]?.value.value, 11, "version 2 after the upgrade");
    assert.equal(values[5]?.code, "CONTRACT_FROZEN");
  });
});
