import assert from "node:assert/strict";
import { test } from "node:test";
import { ContractTestChain, type TestContract } from "@tally/contract/testing";

const DIGEST = "ab".repeat(32);

function setup() {
  const chain = new ContractTestChain({
    accounts: [
      { name: "farm", org: "green-farms" },
      { name: "carrier", org: "fast-freight" },
      { name: "shop", org: "city-grocer" },
      { name: "stranger", org: "unlisted" },
      { name: "issuer", roles: ["issuer"] },
    ],
  });
  const registry = chain.deploy();
  for (const org of ["green-farms", "fast-freight", "city-grocer"]) registry.invoke("authorize", { org });
  return { chain, registry };
}

function item(registry: TestContract, id: string) {
  return registry.simulate<{ holder: string; status: string; steps: number; origin: string; token: string | null }>("item", { id });
}

test("an item travels from farm to shop with its history", () => {
  const { chain, registry } = setup();
  const farm = chain.account("farm");
  const carrier = chain.account("carrier");
  const shop = chain.account("shop");

  const reg = registry.call("register", { id: "lot-42", product: "coffee beans", location: "Huila", digest: DIGEST }, { from: farm });
  assert.equal(reg.status, "ok", reg.message ?? "");
  assert.deepEqual(
    reg.events.map((e) => e.name),
    ["register"],
  );
  registry.invoke("handOver", { id: "lot-42", to: carrier.address, toOrg: "fast-freight", location: "Neiva" }, { from: farm });
  registry.invoke("checkpoint", { id: "lot-42", location: "Port of Cartagena", digest: "cd".repeat(32) }, { from: carrier });
  registry.invoke("handOver", { id: "lot-42", to: shop.address, toOrg: "city-grocer", location: "Rotterdam" }, { from: carrier });
  registry.invoke("deliver", { id: "lot-42", location: "Amsterdam" }, { from: shop });

  const now = item(registry, "lot-42");
  assert.equal(now.holder, shop.address);
  assert.equal(now.status, "delivered");
  assert.equal(now.origin, "green-farms");
  assert.equal(now.steps, 5);

  // Paged history, in order.
  const first = registry.simulate<{ steps: Array<{ n: number; kind: string; by: string }>; next: number | null }>("history", {
    id: "lot-42",
    limit: 3,
  });
  assert.deepEqual(
    first.steps.map((s) => s.kind),
    ["register", "handover", "checkpoint"],
  );
  assert.equal(first.steps[2]?.by, carrier.address);
  assert.equal(first.next, 2);
  const second = registry.simulate<{ steps: Array<{ kind: string }>; next: number | null }>("history", {
    id: "lot-42",
    after: 2,
    limit: 3,
  });
  assert.deepEqual(
    second.steps.map((s) => s.kind),
    ["handover", "deliver"],
  );
  assert.equal(second.next, null);
});

test("only authorised organisations and the current holder act; delivered items are closed", () => {
  const { chain, registry } = setup();
  const farm = chain.account("farm");
  const carrier = chain.account("carrier");
  const stranger = chain.account("stranger");

  const unlisted = registry.call("register", { id: "x-1", product: "tea", location: "Assam" }, { from: stranger });
  assert.equal(unlisted.status, "failed");
  assert.match(unlisted.message ?? "", /not authorised/);

  registry.invoke("register", { id: "lot-1", product: "tea", location: "Assam" }, { from: farm });
  const twice = registry.call("register", { id: "lot-1", product: "tea", location: "Assam" }, { from: farm });
  assert.match(twice.message ?? "", /already registered/);

  const notHolder = registry.call("checkpoint", { id: "lot-1", location: "Kolkata" }, { from: carrier });
  assert.match(notHolder.message ?? "", /current holder/);
  const toUnlisted = registry.call("handOver", { id: "lot-1", to: stranger.address, toOrg: "unlisted", location: "x" }, { from: farm });
  assert.match(toUnlisted.message ?? "", /not authorised to hold/);
  const badDigest = registry.call("checkpoint", { id: "lot-1", location: "Assam", digest: "xyz" }, { from: farm });
  assert.match(badDigest.message ?? "", /digest must be/);
  assert.equal(item(registry, "lot-1").steps, 1, "refused calls leave the history unchanged");

  registry.invoke("deliver", { id: "lot-1", location: "Assam" }, { from: farm });
  const afterDelivery = registry.call("checkpoint", { id: "lot-1", location: "Assam" }, { from: farm });
  assert.match(afterDelivery.message ?? "", /delivered and closed/);

  const notAdmin = registry.call("authorize", { org: "unlisted" }, { from: farm });
  assert.match(notAdmin.message ?? "", /only the registry's admin/);
  registry.invoke("authorize", { org: "green-farms", allowed: false });
  assert.equal(registry.simulate("isAuthorized", { org: "green-farms" }), false);
  const revoked = registry.call("register", { id: "lot-2", product: "tea", location: "Assam" }, { from: farm });
  assert.match(revoked.message ?? "", /not authorised/);
});

test("a tokenised lot: the registrant must hold the native token (tokens module query)", () => {
  const { chain, registry } = setup();
  const farm = chain.account("farm");
  const issuer = chain.account("issuer");
  assert.equal(chain.send("tokens", "create", { symbol: "LOT42", name: "Warehouse receipts", decimals: 0 }, issuer).status, "ok");

  const noUnits = registry.call("register", { id: "lot-42", product: "cocoa", location: "Accra", token: "LOT42" }, { from: farm });
  assert.match(noUnits.message ?? "", /holds no LOT42/);
  const unknown = registry.call("register", { id: "lot-42", product: "cocoa", location: "Accra", token: "NOPE" }, { from: farm });
  assert.equal(unknown.code, "NO_SUCH_TOKEN", "the module's refusal reaches the receipt");

  assert.equal(chain.send("tokens", "mint", { symbol: "LOT42", to: farm.address, amount: "100" }, issuer).status, "ok");
  const ok = registry.call("register", { id: "lot-42", product: "cocoa", location: "Accra", token: "LOT42" }, { from: farm });
  assert.equal(ok.status, "ok", ok.message ?? "");
  assert.equal(item(registry, "lot-42").token, "LOT42");
});

test("steps carry the block's height and time", () => {
  const { chain, registry } = setup();
  chain.advanceTime(3_600_000);
  registry.invoke("register", { id: "lot-9", product: "cocoa", location: "Accra" }, { from: "farm" });
  const { steps } = registry.simulate<{ steps: Array<{ height: number; timeMs: number }> }>("history", { id: "lot-9" });
  assert.equal(steps[0]?.height, chain.height);
  assert.equal(steps[0]?.timeMs, chain.blockTimeMs);
});
