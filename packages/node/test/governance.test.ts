import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  accountKey,
  DEFAULT_GOVERNANCE_PARAMS,
  definedRoleKey,
  frozenAccountKey,
  frozenModuleKey,
  type GenesisDoc,
  loadGenesis,
  orgKey,
  type TxResult,
  toHex,
  type Value,
} from "@tally/core";
import { decodeAccount } from "../src/modules/accounts.js";
import { governanceModule } from "../src/modules/index.js";
import { validatorSetAt } from "../src/modules/validators.js";
import {
  digestOf,
  type ExtraAccount,
  MemoryChain,
  makeNet,
  type NetOptions,
  SUITES,
  type TestAccount,
  type TestNet,
  testKey,
} from "./helpers.js";

type Action = Record<string, Value>;

/** A net whose genesis carries a `governance` section (absent: the defaults). */
function netWith(suiteId: (typeof SUITES)[number], options: NetOptions, governance?: GenesisDoc["governance"]): TestNet {
  const net = makeNet(suiteId, options);
  if (governance === undefined) return net;
  const doc: GenesisDoc = { ...net.doc, governance };
  return { ...net, doc, genesis: loadGenesis(doc) };
}

const ORGS = [
  { id: "acme", name: "Acme" },
  { id: "globex", name: "Globex" },
  { id: "initech", name: "Initech" },
];

function members(count: number): NetOptions {
  const orgs = ORGS.slice(0, count - 1);
  return {
    orgs,
    accounts: (
      [
        ...orgs.map((o) => ({ name: `${o.id}-admin`, org: o.id, roles: ["org-admin"] })),
        { name: "acme-clerk", org: "acme", roles: [] },
        { name: "acme-admin2", org: "acme", roles: ["org-admin"] },
        { name: "reg", roles: ["regulator"] },
        { name: "alice", roles: [] },
      ] as ExtraAccount[]
    ).filter((a) => a.org === undefined || orgs.some((o) => o.id === a.org)),
  };
}

/** Wraps a MemoryChain with governance helpers and refusal checks. */
function gov(net: TestNet) {
  const c = new MemoryChain(net);
  const who = (name: string): TestAccount => {
    const a = name === "admin" ? net.admin : net.accounts[name];
    assert.ok(a, `account ${name}`);
    return a;
  };
  const propose = (name: string, action: Action, description?: string): TxResult =>
    c.call(who(name), "governance", "propose", description === undefined ? { action } : { action, description });
  const vote = (name: string, id: number, approve = true): TxResult => c.call(who(name), "governance", "vote", { id, approve });
  const execute = (name: string, id: number): TxResult => c.call(who(name), "governance", "execute", { id });
  const ok = (r: TxResult): Record<string, Value> => {
    assert.equal(r.status, "ok", `${r.code}: ${r.message}`);
    return r.value as Record<string, Value>;
  };
  /** Everything in state except the caller's account record, which changes by its nonce only. */
  const snapshot = (except: string) => {
    const skip = toHex(accountKey(except));
    return new Map([...c.state.values].filter(([k]) => k !== skip).map(([k, v]) => [k, toHex(v)]));
  };
  /** A call refused with `code`: failed receipt, no events, state unchanged but for the caller's nonce. */
  const refused = (name: string, method: string, args: Value, code: string): TxResult => {
    const caller = who(name);
    const before = snapshot(caller.address);
    const nonce = c.nonce(caller.address);
    const r = c.call(caller, "governance", method, args);
    assert.equal(r.status, "failed", `${method} should be refused with ${code}`);
    assert.equal(r.code, code, `${r.code}: ${r.message}`);
    assert.deepEqual(r.events, []);
    assert.deepEqual(snapshot(caller.address), before);
    assert.equal(c.nonce(caller.address), nonce + 1);
    return r;
  };
  const proposal = (id: number) => c.query("governance", "proposal", { id }) as Record<string, Value>;
  const roles = (address: string) => {
    const bytes = c.state.read(accountKey(address));
    assert.ok(bytes !== null);
    return decodeAccount(bytes).roles;
  };
  const eventNames = (r: TxResult) => r.events.map((e) => `${e.module}.${e.name}`);
  return { c, who, propose, vote, execute, ok, refused, proposal, roles, eventNames };
}

const ADD_NEWCO: Action = { kind: "addOrg", id: "newco", name: "New Co" };

for (const suiteId of SUITES) {
  describe(`governance (${suiteId})`, () => {
    test("the threshold is strictly more than 2/3 of the members: 3 of 4 pass, 2 of 4 do not", () => {
      const g = gov(makeNet(suiteId, members(4)));
      const p = g.ok(g.propose("admin", ADD_NEWCO, "welcome newco"));
      assert.deepEqual([p.id, p.status, p.yes, p.no, p.description], [1, "open", 1, 0, "welcome newco"]);
      assert.equal(g.ok(g.vote("acme-admin", 1)).status, "open");
      const passing = g.vote("globex-admin", 1);
      assert.equal(g.ok(passing).status, "executed");
      assert.deepEqual(g.eventNames(passing), ["governance.voted", "accounts.org-added", "governance.executed"]);
      assert.deepEqual(passing.events.at(-1)?.data, { id: 1, action: ADD_NEWCO });
      assert.ok(g.c.state.read(orgKey("newco")) !== null);
      assert.equal((g.c.query("governance", "params", {}) as Record<string, Value>).members, 5);
    });

    test("2 of 3 do not pass at 2/3; the third vote does", () => {
      const g = gov(makeNet(suiteId, members(3)));
      g.ok(g.propose("admin", ADD_NEWCO));
      assert.equal(g.ok(g.vote("acme-admin", 1)).status, "open");
      assert.equal(g.c.state.read(orgKey("newco")), null);
      assert.equal(g.ok(g.vote("globex-admin", 1)).status, "executed");
    });

    test("a proposal that can no longer pass is rejected, and then closed", () => {
      const g = gov(makeNet(suiteId, members(4)));
      g.ok(g.propose("admin", ADD_NEWCO));
      assert.equal(g.ok(g.vote("acme-admin", 1, false)).status, "open");
      const r = g.vote("globex-admin", 1, false);
      assert.equal(g.ok(r).status, "rejected");
      assert.deepEqual(g.eventNames(r), ["governance.voted", "governance.rejected"]);
      g.refused("initech-admin", "vote", { id: 1, approve: true }, "PROPOSAL_CLOSED");
      g.refused("initech-admin", "execute", { id: 1 }, "PROPOSAL_NOT_PASSED");
      assert.equal(g.c.state.read(orgKey("newco")), null);
    });

    test("on a single-organisation chain a proposal passes and executes when proposed", () => {
      const g = gov(makeNet(suiteId));
      const r = g.propose("admin", ADD_NEWCO);
      assert.equal(g.ok(r).status, "executed");
      assert.deepEqual(g.eventNames(r), ["governance.proposed", "governance.voted", "accounts.org-added", "governance.executed"]);
      assert.deepEqual(g.proposal(1).votes, [{ org: "consortium", voter: g.who("admin").address, approve: true, height: 1 }]);
    });

    test("removeOrg: members shrink, the org's accounts are refused NO_SUCH_ORG; the last org is never removed", () => {
      const g = gov(makeNet(suiteId, members(2)));
      g.ok(g.propose("admin", { kind: "removeOrg", id: "acme" }));
      const r = g.vote("acme-admin", 1);
      assert.equal(g.ok(r).status, "executed");
      assert.ok(g.eventNames(r).includes("accounts.org-removed"));
      assert.equal(g.c.state.read(orgKey("acme")), null);
      assert.equal((g.c.query("governance", "params", {}) as Record<string, Value>).members, 1);
      const blocked = g.c.call(g.who("acme-clerk"), "evidence", "notarize", { digest: digestOf(g.c.net, "x") });
      assert.equal(blocked.code, "NO_SUCH_ORG");
      // A removed organisation no longer votes: its org-admin's transactions are refused.
      g.ok(g.propose("admin", { kind: "freezeModule", module: "tokens" }));
      assert.equal(g.c.call(g.who("acme-admin"), "governance", "vote", { id: 2, approve: true }).code, "NO_SUCH_ORG");
      g.refused("admin", "propose", { action: { kind: "removeOrg", id: "consortium" } }, "FORBIDDEN");
      g.refused("admin", "propose", { action: { kind: "removeOrg", id: "acme" } }, "NO_SUCH_ORG");
      g.refused("admin", "propose", { action: { kind: "addOrg", id: "consortium", name: "again" } }, "ORG_EXISTS");
    });

    test("setValidator changes the validator set two heights after the block that executes it", () => {
      const g = gov(makeNet(suiteId));
      const key = toHex(testKey(g.c.net.suite, "validator-2").publicKey);
      const r = g.propose("admin", { kind: "setValidator", publicKey: key, power: 3 });
      g.ok(r);
      const h = g.c.height;
      assert.ok(g.eventNames(r).includes("validators.changed"));
      const at = (height: number) => validatorSetAt(g.c.net.suite, g.c.state.read, height).validators.map((v) => toHex(v.publicKey));
      assert.deepEqual(at(h + 1), [toHex(g.c.net.validator.publicKey)]);
      assert.ok(at(h + 2).includes(key));
      // Re-weighting to the same power and removing a non-validator are refused when proposed.
      g.refused("admin", "propose", { action: { kind: "setValidator", publicKey: key, power: 3 } }, "BAD_ARGS");
      const other = toHex(testKey(g.c.net.suite, "validator-3").publicKey);
      g.refused("admin", "propose", { action: { kind: "setValidator", publicKey: other, power: 0 } }, "NOT_FOUND");
      g.ok(g.propose("admin", { kind: "setValidator", publicKey: key, power: 0 }));
      assert.deepEqual(at(g.c.height + 2), [toHex(g.c.net.validator.publicKey)]);
    });

    test("grantRole, revokeRole, defineRole; register refuses unknown roles", () => {
      const g = gov(makeNet(suiteId, members(1)));
      const alice = g.who("alice").address;
      const granted = g.propose("admin", { kind: "grantRole", address: alice, role: "issuer" });
      assert.ok(g.eventNames(granted).includes("accounts.role-granted"));
      assert.deepEqual(g.roles(alice), ["issuer"]);
      g.refused("admin", "propose", { action: { kind: "grantRole", address: alice, role: "issuer" } }, "BAD_ARGS");
      g.refused("admin", "propose", { action: { kind: "grantRole", address: alice, role: "auditor" } }, "UNKNOWN_ROLE");
      g.refused("admin", "propose", { action: { kind: "revokeRole", address: alice, role: "auditor" } }, "UNKNOWN_ROLE");
      g.refused("admin", "propose", { action: { kind: "revokeRole", address: alice, role: "bank" } }, "NOT_FOUND");
      g.refused("admin", "propose", { action: { kind: "grantRole", address: "00".repeat(20), role: "bank" } }, "NO_SUCH_ACCOUNT");
      g.ok(g.propose("admin", { kind: "revokeRole", address: alice, role: "issuer" }));
      assert.deepEqual(g.roles(alice), []);

      const newcomer = testKey(g.c.net.suite, "newcomer");
      const register = (roles: string[]) =>
        g.c.call(g.who("admin"), "accounts", "register", { publicKey: newcomer.publicKey, org: "consortium", roles });
      assert.equal(register(["auditor"]).code, "UNKNOWN_ROLE");
      const defined = g.propose("admin", { kind: "defineRole", role: "auditor", description: "reads the books" });
      assert.ok(g.eventNames(defined).includes("governance.role-defined"));
      assert.ok(g.c.state.read(definedRoleKey("auditor")) !== null);
      g.refused("admin", "propose", { action: { kind: "defineRole", role: "auditor", description: "" } }, "ROLE_EXISTS");
      g.refused("admin", "propose", { action: { kind: "defineRole", role: "bank", description: "" } }, "ROLE_EXISTS");
      assert.equal(register(["auditor"]).status, "ok");
      g.ok(g.propose("admin", { kind: "grantRole", address: alice, role: "auditor" }));
      assert.deepEqual(g.roles(alice), ["auditor"]);
      const listed = g.c.query("governance", "roles", {}) as { builtin: string[]; defined: Array<{ role: string }> };
      assert.ok(listed.builtin.includes("regulator"));
      assert.deepEqual(
        listed.defined.map((d) => d.role),
        ["auditor"],
      );
    });

    test("freezeAccount: the account's transactions fail ACCOUNT_FROZEN until unfrozen", () => {
      const g = gov(makeNet(suiteId, members(1)));
      const alice = g.who("alice");
      g.ok(g.propose("admin", { kind: "freezeAccount", address: alice.address }));
      assert.ok(g.c.state.read(frozenAccountKey(alice.address)) !== null);
      const notarize = (label: string) => g.c.call(alice, "evidence", "notarize", { digest: digestOf(g.c.net, label) });
      assert.equal(notarize("a").code, "ACCOUNT_FROZEN");
      assert.deepEqual(g.c.query("governance", "isFrozen", { address: alice.address }), { address: alice.address, frozen: true });
      assert.deepEqual(g.c.query("governance", "frozen", {}), { accounts: [alice.address], modules: [] });
      g.refused("admin", "propose", { action: { kind: "freezeAccount", address: alice.address } }, "BAD_ARGS");
      g.ok(g.propose("admin", { kind: "unfreezeAccount", address: alice.address }));
      assert.equal(notarize("b").status, "ok");
      g.refused("admin", "propose", { action: { kind: "unfreezeAccount", address: alice.address } }, "NOT_FOUND");
    });

    test("freezeModule: calls to the module fail MODULE_FROZEN; governance and accounts cannot be frozen", () => {
      const g = gov(makeNet(suiteId, members(1)));
      const alice = g.who("alice");
      g.ok(g.propose("admin", { kind: "freezeModule", module: "evidence" }));
      assert.ok(g.c.state.read(frozenModuleKey("evidence")) !== null);
      assert.equal(g.c.call(alice, "evidence", "notarize", { digest: digestOf(g.c.net, "m") }).code, "MODULE_FROZEN");
      assert.deepEqual(g.c.query("governance", "isFrozen", { module: "evidence" }), { module: "evidence", frozen: true });
      g.refused("admin", "propose", { action: { kind: "freezeModule", module: "governance" } }, "FORBIDDEN");
      g.refused("admin", "propose", { action: { kind: "freezeModule", module: "accounts" } }, "FORBIDDEN");
      g.refused("admin", "propose", { action: { kind: "freezeModule", module: "nope" } }, "UNKNOWN_MODULE");
      g.refused("admin", "propose", { action: { kind: "unfreezeModule", module: "tokens" } }, "NOT_FOUND");
      g.ok(g.propose("admin", { kind: "unfreezeModule", module: "evidence" }));
      assert.equal(g.c.call(alice, "evidence", "notarize", { digest: digestOf(g.c.net, "m") }).status, "ok");
    });

    test("setParam changes the threshold and the voting period; bad values are refused", () => {
      const g = gov(makeNet(suiteId, members(1)));
      g.ok(g.propose("admin", { kind: "setParam", name: "governance.threshold", value: [3, 4] }));
      g.ok(g.propose("admin", { kind: "setParam", name: "governance.votingPeriodBlocks", value: 10 }));
      assert.deepEqual(g.c.query("governance", "params", {}), { threshold: [3, 4], votingPeriodBlocks: 10, members: 1 });
      const p = g.ok(g.propose("admin", ADD_NEWCO));
      assert.equal(p.expiresAt, g.c.height + 10);
      for (const value of [[1, 3], [1, 1], [1, 1001], [2, 0], 5]) {
        g.refused("admin", "propose", { action: { kind: "setParam", name: "governance.threshold", value } }, "BAD_ARGS");
      }
      for (const value of [0, 1_000_001, "9"]) {
        g.refused("admin", "propose", { action: { kind: "setParam", name: "governance.votingPeriodBlocks", value } }, "BAD_ARGS");
      }
      g.refused("admin", "propose", { action: { kind: "setParam", name: "other", value: 1 } }, "BAD_ARGS");
    });

    test("who may propose: regulators only freezes (without a vote), plain accounts nothing", () => {
      const g = gov(makeNet(suiteId, members(2)));
      const alice = g.who("alice").address;
      const p = g.ok(g.propose("reg", { kind: "freezeAccount", address: alice }));
      assert.deepEqual([p.status, p.yes], ["open", 0]);
      g.refused("reg", "propose", { action: ADD_NEWCO }, "FORBIDDEN");
      g.refused("alice", "propose", { action: ADD_NEWCO }, "FORBIDDEN");
      g.refused("reg", "vote", { id: 1, approve: true }, "FORBIDDEN");
      g.refused("acme-clerk", "vote", { id: 1, approve: true }, "FORBIDDEN");
      g.refused("admin", "propose", { action: { kind: "mint" } }, "BAD_ARGS");
      g.refused("admin", "propose", { action: { kind: "addOrg", id: "Bad Id", name: "x" } }, "BAD_ARGS");
      g.refused("admin", "propose", { action: { kind: "addOrg", id: "ok", name: "x", extra: 1 } }, "BAD_ARGS");
      g.refused("admin", "propose", { action: ADD_NEWCO, description: "x".repeat(513) }, "BAD_ARGS");
      g.ok(g.vote("admin", 1));
      assert.equal(g.ok(g.vote("acme-admin", 1)).status, "executed");
    });

    test("votes: once per organisation, not on unknown or expired proposals", () => {
      const g = gov(netWith(suiteId, members(3), { threshold: [2, 3], votingPeriodBlocks: 3 }));
      g.ok(g.propose("admin", ADD_NEWCO)); // height 1, expires at 4
      g.refused("admin", "vote", { id: 1, approve: true }, "ALREADY_VOTED");
      g.ok(g.vote("acme-admin", 1, true));
      g.refused("acme-admin2", "vote", { id: 1, approve: false }, "ALREADY_VOTED");
      g.refused("acme-admin", "vote", { id: 2, approve: true }, "NO_SUCH_PROPOSAL");
      g.refused("globex-admin", "execute", { id: 1 }, "PROPOSAL_NOT_PASSED");
      g.refused("globex-admin", "vote", { id: 1, approve: true }, "PROPOSAL_EXPIRED"); // height 7 > 4
      assert.equal(g.proposal(1).status, "open");
      assert.equal(g.proposal(1).expired, true);
    });

    test("a refused action leaves the proposal passed with the error; execute retries it, once", () => {
      const g = gov(makeNet(suiteId, members(2)));
      const alice = g.who("alice").address;
      const grant: Action = { kind: "grantRole", address: alice, role: "bank" };
      g.ok(g.propose("admin", grant)); // 1
      g.ok(g.propose("admin", grant)); // 2: also valid when proposed
      assert.equal(g.ok(g.vote("acme-admin", 1)).status, "executed");
      const failed = g.vote("acme-admin", 2);
      const p2 = g.ok(failed);
      assert.equal(p2.status, "passed");
      assert.deepEqual(p2.lastError, { code: "BAD_ARGS", message: "the account already has this role" });
      assert.deepEqual(g.eventNames(failed), ["governance.voted", "governance.execution-failed"]);
      assert.equal(g.proposal(2).yes, 2);
      g.refused("acme-admin", "execute", { id: 2 }, "BAD_ARGS");
      g.ok(g.propose("admin", { kind: "revokeRole", address: alice, role: "bank" })); // 3
      g.ok(g.vote("acme-admin", 3));
      assert.deepEqual(g.roles(alice), []);
      const retried = g.execute("acme-admin", 2);
      assert.equal(g.ok(retried).status, "executed");
      assert.deepEqual(g.eventNames(retried), ["accounts.role-granted", "governance.executed"]);
      assert.deepEqual(g.roles(alice), ["bank"]);
      assert.equal(g.proposal(2).lastError, null);
      g.refused("admin", "execute", { id: 2 }, "PROPOSAL_CLOSED");
      g.refused("admin", "execute", { id: 9 }, "NO_SUCH_PROPOSAL");
      g.refused("admin", "vote", { id: 1, approve: true }, "PROPOSAL_CLOSED");
    });

    test("execute is refused after the voting period", () => {
      const g = gov(netWith(suiteId, members(2), { threshold: [1, 2], votingPeriodBlocks: 4 }));
      const alice = g.who("alice").address;
      const grant: Action = { kind: "grantRole", address: alice, role: "bank" };
      g.ok(g.propose("admin", grant)); // h1
      g.ok(g.propose("admin", grant)); // h2, expires at 6
      g.ok(g.vote("acme-admin", 1)); // h3
      assert.equal(g.ok(g.vote("acme-admin", 2)).status, "passed"); // h4
      g.ok(g.propose("admin", { kind: "revokeRole", address: alice, role: "bank" })); // h5
      g.ok(g.vote("acme-admin", 3)); // h6
      g.refused("acme-admin", "execute", { id: 2 }, "PROPOSAL_EXPIRED"); // h7
    });

    test("queries: proposals by status with paging, proposal with votes", () => {
      const g = gov(makeNet(suiteId, members(2)));
      for (const id of ["a1", "a2", "a3"]) g.ok(g.propose("admin", { kind: "addOrg", id, name: id }));
      g.ok(g.vote("acme-admin", 2));
      const list = (args: Value) => g.c.query("governance", "proposals", args) as { items: Array<{ id: number }>; next: number | null };
      const ids = (args: Value) => list(args).items.map((p) => p.id);
      assert.deepEqual(ids({}), [1, 2, 3]);
      assert.deepEqual(ids({ status: "open" }), [1, 3]);
      assert.deepEqual(ids({ status: "executed" }), [2]);
      const page = list({ limit: 2 });
      assert.deepEqual([page.items.map((p) => p.id), page.next], [[1, 2], 2]);
      assert.deepEqual(list({ after: 2, limit: 2 }), { items: [list({}).items[2]], next: null });
      assert.deepEqual(
        (g.proposal(2).votes as Array<{ org: string }>).map((v) => v.org),
        ["acme", "consortium"],
      );
      assert.throws(() => g.c.query("governance", "proposal", { id: 99 }), { code: "NO_SUCH_PROPOSAL" });
      assert.throws(() => g.c.query("governance", "proposals", { status: "weird" }), { code: "BAD_ARGS" });
      assert.throws(() => g.c.query("governance", "isFrozen", {}), { code: "BAD_ARGS" });
    });

    test("admission prechecks refuse a caller without the role before looking at the proposal", () => {
      const g = gov(makeNet(suiteId, members(2)));
      g.ok(g.propose("admin", ADD_NEWCO));
      const precheck = (name: string, method: "vote" | "execute" | "propose", args: Value) => {
        const def = governanceModule.methods[method];
        assert.ok(def?.precheck);
        try {
          def.precheck({ suite: g.c.net.suite, caller: g.who(name).address, get: g.c.state.read }, def.args.parse(args, ""));
          return "none";
        } catch (err) {
          return (err as { code: string }).code;
        }
      };
      assert.equal(precheck("alice", "vote", { id: 1, approve: true }), "FORBIDDEN");
      assert.equal(precheck("admin", "vote", { id: 1, approve: true }), "ALREADY_VOTED");
      assert.equal(precheck("acme-admin", "vote", { id: 1, approve: true }), "none");
      assert.equal(precheck("acme-admin", "vote", { id: 7, approve: true }), "NO_SUCH_PROPOSAL");
      assert.equal(precheck("alice", "execute", { id: 1 }), "FORBIDDEN");
      assert.equal(precheck("acme-admin", "execute", { id: 1 }), "PROPOSAL_NOT_PASSED");
      assert.equal(precheck("alice", "propose", { action: ADD_NEWCO }), "FORBIDDEN");
      assert.equal(precheck("reg", "propose", { action: ADD_NEWCO }), "FORBIDDEN");
      assert.equal(precheck("admin", "propose", { action: { kind: "addOrg", id: "acme", name: "x" } }), "ORG_EXISTS");
    });

    test("the validators module no longer has a set method", () => {
      const g = gov(makeNet(suiteId));
      const key = toHex(testKey(g.c.net.suite, "validator-2").publicKey);
      assert.throws(() => g.c.engine.resolveCall("validators", "set", { publicKey: key, power: 1 }), { code: "UNKNOWN_METHOD" });
    });
  });
}

describe("genesis governance section", () => {
  test("absent: defaults, and the genesis hash is unchanged by the new optional field", () => {
    const net = makeNet("ed25519");
    assert.equal("governance" in net.doc, false);
    const c = new MemoryChain(net);
    assert.deepEqual(c.query("governance", "params", {}), {
      threshold: [...DEFAULT_GOVERNANCE_PARAMS.threshold],
      votingPeriodBlocks: DEFAULT_GOVERNANCE_PARAMS.votingPeriodBlocks,
      members: 1,
    });
    const withSection = netWith("ed25519", {}, { threshold: [3, 5], votingPeriodBlocks: 7 });
    assert.notEqual(withSection.genesis.hashHex, net.genesis.hashHex);
    assert.deepEqual(new MemoryChain(withSection).query("governance", "params", {}), {
      threshold: [3, 5],
      votingPeriodBlocks: 7,
      members: 1,
    });
  });

  test("invalid parameters are refused with BAD_GENESIS", () => {
    const doc = makeNet("ed25519").doc;
    const bad = [
      { threshold: [1, 3], votingPeriodBlocks: 10 },
      { threshold: [3, 3], votingPeriodBlocks: 10 },
      { threshold: [600, 1001], votingPeriodBlocks: 10 },
      { threshold: [2, 3], votingPeriodBlocks: 0 },
      { threshold: [2, 3], votingPeriodBlocks: 1_000_001 },
      { threshold: [2, 3] },
      { threshold: [2, 3], votingPeriodBlocks: 10, extra: 1 },
      "2/3",
    ];
    for (const governance of bad) assert.throws(() => loadGenesis({ ...doc, governance }), { code: "BAD_GENESIS" });
    loadGenesis({ ...doc, governance: { threshold: [1, 2], votingPeriodBlocks: 1 } });
  });
});
