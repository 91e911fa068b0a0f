import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { getSuite, type KeyPair, toHex, type Value } from "@tally/core";
import {
  digestOf,
  get,
  MemoryChain,
  makeNet,
  notarize,
  outsider,
  post,
  type RunningNode,
  SUITES,
  sign,
  startNode,
  type TestAccount,
  testKey,
} from "./helpers.js";

for (const suiteId of SUITES) {
  describe(`accounts.register through the API (${suiteId})`, () => {
    const net = makeNet(suiteId, {
      orgs: [
        { id: "acme", name: "Acme" },
        { id: "globex", name: "Globex" },
      ],
      accounts: [
        { name: "acme-admin", org: "acme", roles: ["org-admin"] },
        { name: "bob", roles: [] },
      ],
    });
    const admin = net.admin;
    const acmeAdmin = net.accounts["acme-admin"] as TestAccount;
    const bob = net.accounts.bob as TestAccount;
    const nonces = new Map<string, number>();
    let n: RunningNode;

    before(async () => {
      n = await startNode(net);
    });
    after(() => n.close());

    /** Signs with the caller's next nonce, submits with wait and returns the committed result. */
    async function send(who: { key: KeyPair; address: string }, module: string, method: string, args: Value) {
      const nonce = nonces.get(who.address) ?? 0;
      const r = await post(n.url, "/v1/txs", { tx: sign(net, who.key, nonce, module, method, args).hex, wait: true });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.status, "committed");
      nonces.set(who.address, nonce + 1);
      return r.json.result as {
        status: string;
        code: string | null;
        message: string | null;
        value: Record<string, unknown>;
        events: unknown[];
      };
    }
    const register = (who: { key: KeyPair; address: string }, publicKey: Uint8Array, org: string, roles: string[]) =>
      send(who, "accounts", "register", { publicKey, org, roles });

    async function account(address: string) {
      const r = await get(n.url, `/v1/accounts/${address}`);
      return r.status === 404 ? null : r.json;
    }

    /** A failed registration: the named code, no account created, the caller's nonce used. */
    async function refusedRegistration(
      who: { key: KeyPair; address: string },
      target: { publicKey: Uint8Array; address: string },
      org: string,
      roles: string[],
      code: string,
    ) {
      const before = await account(who.address);
      const existed = await account(target.address);
      const result = await register(who, target.publicKey, org, roles);
      assert.equal(result.status, "failed");
      assert.equal(result.code, code);
      assert.deepEqual(result.events, []);
      // The caller's record changes by its nonce only (also when it is the target).
      assert.deepEqual(await account(who.address), { ...before, nonce: before.nonce + 1 });
      if (target.address !== who.address) assert.deepEqual(await account(target.address), existed);
      return result;
    }

    const fresh = (label: string) => {
      const a = outsider(net, label);
      return { key: a.key, publicKey: a.key.publicKey, address: a.address };
    };

    test("the admin registers an account in another org; roles are stored sorted and de-duplicated", async () => {
      const dave = fresh("dave");
      assert.equal(await account(dave.address), null);
      const result = await register(admin, dave.publicKey, "acme", ["issuer", "bank", "issuer"]);
      assert.equal(result.status, "ok");
      assert.deepEqual(result.value, { address: dave.address });
      assert.deepEqual(result.events, [
        { module: "accounts", name: "registered", data: { address: dave.address, org: "acme", roles: ["bank", "issuer"] } },
      ]);
      assert.deepEqual(await account(dave.address), {
        address: dave.address,
        publicKey: toHex(dave.publicKey),
        org: "acme",
        roles: ["bank", "issuer"],
        nonce: 0,
      });
    });

    test("the new account can then notarise", async () => {
      const dave = fresh("dave");
      const result = await send(dave, "evidence", "notarize", { digest: digestOf(net, "by-dave") });
      assert.equal(result.status, "ok");
      const record = (await get(n.url, `/v1/evidence/${toHex(digestOf(net, "by-dave"))}`)).json;
      assert.equal(record.submitter, dave.address);
      assert.equal((await account(dave.address)).nonce, 1);
    });

    test("an org admin registers accounts of its own org, but not of another org, and cannot grant admin", async () => {
      const erin = fresh("erin");
      await refusedRegistration(acmeAdmin, erin, "consortium", [], "FORBIDDEN");
      await refusedRegistration(acmeAdmin, erin, "globex", ["issuer"], "FORBIDDEN");
      const grant = await refusedRegistration(acmeAdmin, erin, "acme", ["admin"], "FORBIDDEN");
      assert.equal(grant.message, "only the chain admin grants the admin role");
      const ok = await register(acmeAdmin, erin.publicKey, "acme", ["issuer", "org-admin"]);
      assert.equal(ok.status, "ok");
      assert.deepEqual((await account(erin.address)).roles, ["issuer", "org-admin"]);
      // Org admins it creates are bound to the same org.
      await refusedRegistration(erin, fresh("frank"), "consortium", [], "FORBIDDEN");
    });

    test("roles must be built in or defined by governance: UNKNOWN_ROLE", async () => {
      const gina = fresh("gina");
      const refused = await refusedRegistration(admin, gina, "acme", ["bank", "clerk"], "UNKNOWN_ROLE");
      assert.deepEqual(refused.value, { role: "clerk" });
      await refusedRegistration(acmeAdmin, gina, "acme", ["auditor"], "UNKNOWN_ROLE");
    });

    test("an account without admin or org-admin cannot register anyone: FORBIDDEN", async () => {
      const result = await refusedRegistration(bob, fresh("grace"), "consortium", [], "FORBIDDEN");
      assert.deepEqual(result.value, { module: "accounts", method: "register" });
      // Not even in its own org and without roles: it still lacks the role.
      await refusedRegistration(bob, fresh("grace"), bob.org, [], "FORBIDDEN");
    });

    test("an unknown org: NO_SUCH_ORG", async () => {
      const heidi = fresh("heidi");
      const result = await refusedRegistration(admin, heidi, "initech", [], "NO_SUCH_ORG");
      assert.deepEqual(result.value, { org: "initech" });
      // An org admin asking for an unknown org is refused for the org boundary first.
      await refusedRegistration(acmeAdmin, heidi, "initech", [], "FORBIDDEN");
    });

    test("an existing account: ACCOUNT_EXISTS, the record untouched", async () => {
      const dave = fresh("dave");
      const result = await refusedRegistration(admin, dave, "globex", ["admin"], "ACCOUNT_EXISTS");
      assert.deepEqual(result.value, { address: dave.address });
      assert.equal((await account(dave.address)).org, "acme");
      await refusedRegistration(admin, { publicKey: bob.key.publicKey, address: bob.address }, "consortium", [], "ACCOUNT_EXISTS");
      await refusedRegistration(
        acmeAdmin,
        { publicKey: acmeAdmin.key.publicKey, address: acmeAdmin.address },
        "acme",
        [],
        "ACCOUNT_EXISTS",
      );
    });

    test("a public key that is not a valid key of the chain's suite: BAD_ARGS", async () => {
      const other = getSuite(suiteId === "sm2" ? "ed25519" : "sm2");
      const foreign = testKey(other, "foreign").publicKey;
      for (const publicKey of [foreign, new Uint8Array(net.suite.publicKeyBytes + 1), new Uint8Array(0)]) {
        const result = await register(admin, publicKey, "acme", []);
        assert.equal(result.status, "failed");
        assert.equal(result.code, "BAD_ARGS");
        assert.deepEqual(result.value, { field: "publicKey" });
      }
    });

    test("a chain admin may grant admin; the new admin registers into any org", async () => {
      const ivan = fresh("ivan");
      assert.equal((await register(admin, ivan.publicKey, "globex", ["admin"])).status, "ok");
      const judy = fresh("judy");
      assert.equal((await register(ivan, judy.publicKey, "consortium", [])).status, "ok");
      assert.equal((await account(judy.address)).org, "consortium");
      // judy (no roles) is a plain account: can notarise, cannot register.
      assert.equal((await send(judy, "evidence", "notarize", { digest: digestOf(net, "judy") })).status, "ok");
      await refusedRegistration(judy, fresh("kim"), "consortium", [], "FORBIDDEN");
    });

    test("before registration an account is an unknown signer; refused submissions did not register it", async () => {
      const kim = fresh("kim");
      const r = await post(n.url, "/v1/txs", { tx: notarize(net, kim.key, 0, "kim").hex });
      assert.equal(r.status, 403);
      assert.equal(r.json.error.code, "UNKNOWN_SIGNER");
      assert.equal(await account(kim.address), null);
    });
  });
}

describe("accounts queries: organisations and accounts, paged", () => {
  const net = makeNet("ed25519", {
    orgs: [
      { id: "bank-b", name: "Bank B" },
      { id: "bank-a", name: "Bank A" },
    ],
    accounts: [
      { name: "a1", org: "bank-a", roles: ["bank"] },
      { name: "a2", org: "bank-a" },
      { name: "b1", org: "bank-b", roles: ["bank", "regulator"] },
    ],
  });
  const chain = new MemoryChain(net);
  type Page<T> = { items: T[]; next: string | null };

  test("orgs in id order; a full page names the next cursor", () => {
    const all = chain.query("accounts", "orgs", {}) as Page<{ id: string; name: string }>;
    assert.deepEqual(
      all.items.map((o) => o.id),
      ["bank-a", "bank-b", "consortium"],
    );
    assert.equal(all.next, null);
    const first = chain.query("accounts", "orgs", { limit: 2 }) as Page<{ id: string }>;
    assert.deepEqual(
      first.items.map((o) => o.id),
      ["bank-a", "bank-b"],
    );
    const rest = chain.query("accounts", "orgs", { limit: 2, after: first.next }) as Page<{ id: string }>;
    assert.deepEqual(
      rest.items.map((o) => o.id),
      ["consortium"],
    );
  });

  test("accounts in address order with org, roles and nonce; filtered by org", () => {
    const everyone = [net.admin, ...Object.values(net.accounts)].sort((x, y) => (x.address < y.address ? -1 : 1));
    const all = chain.query("accounts", "list", {}) as Page<{ address: string; org: string; roles: string[]; nonce: number }>;
    assert.deepEqual(
      all.items,
      everyone.map((a) => ({ address: a.address, org: a.org, roles: [...a.roles].sort(), nonce: 0 })),
    );
    const bankA = chain.query("accounts", "list", { org: "bank-a" }) as Page<{ address: string }>;
    assert.deepEqual(bankA.items.map((a) => a.address).sort(), [net.accounts.a1?.address, net.accounts.a2?.address].sort());
    // Paging one at a time visits everyone once, in order.
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page = chain.query("accounts", "list", after === null ? { limit: 1 } : { limit: 1, after }) as Page<{ address: string }>;
      seen.push(...page.items.map((a) => a.address));
      if (page.next === null) break;
      after = page.next;
    }
    assert.deepEqual(
      seen,
      everyone.map((a) => a.address),
    );
    assert.throws(() => chain.query("accounts", "list", { after: "XYZ" }), /BAD_ARGS|must be/);
  });
});
