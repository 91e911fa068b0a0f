/**
 * Governance through the SDK against a real node process. `tally init` makes one organisation, so the
 * admin's proposals pass at once: it adds three organisations (each vote needing more members as the
 * consortium grows) and registers an org-admin in each. Then a four-member walk: a grant passes at
 * 3 of 4, a freeze stops an account, a removed organisation's accounts are refused, and each refusal
 * (second vote of an org, vote without a role, closed, not passed, unknown) carries its code.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { type AccountSigner, type ProposalView, type SubmitResult, type TallyClient, TallyError } from "@tally/sdk";
import { CliNetwork, committedOk as ok, type SdkAccess } from "../helpers.js";

const proposalOf = (outcome: SubmitResult) => ok(outcome).result.value as unknown as ProposalView;

/** Refused with `code`, at admission (thrown) or at execution (a failed result). */
async function refused(call: Promise<SubmitResult>, code: string): Promise<void> {
  try {
    const outcome = await call;
    assert.ok(outcome.status === "committed" && outcome.result.status === "failed", `expected ${code}`);
    assert.equal(outcome.result.code, code, outcome.result.message ?? "");
  } catch (err) {
    if (!(err instanceof TallyError)) throw err;
    assert.equal(err.code, code, err.message);
  }
}

for (const suite of ["ed25519", "sm2"] as const) {
  describe(`SDK governance (${suite})`, () => {
    const network = new CliNetwork(`sdk-governance-${suite}`, { suite, requireCleanExit: false });
    let sdk: SdkAccess;
    let client: TallyClient;
    let admin: AccountSigner;
    const orgAdmins: Record<string, AccountSigner> = {};
    let alice: AccountSigner;

    const orgAdmin = (org: string): AccountSigner => {
      const signer = orgAdmins[org];
      assert.ok(signer, `org-admin of ${org}`);
      return signer;
    };

    const register = (org: string, roles: string[]) => sdk.register(roles, org);

    before(async () => {
      sdk = await network.sdk();
      client = sdk.client;
      admin = sdk.admin;
      alice = await register("consortium", []);
    });

    test("the consortium grows to four organisations by governance", async () => {
      assert.deepEqual(await client.governance.params(), { threshold: [2, 3], votingPeriodBlocks: 1000, members: 1 });
      // One member: the proposal is its own passing vote, and the receipt shows the accounts change.
      const first = ok(await admin.governance.propose({ kind: "addOrg", id: "acme", name: "Acme" }, "first partner"));
      assert.equal((first.result.value as { status: string }).status, "executed");
      assert.deepEqual(
        first.result.events.map((e) => `${e.module}.${e.name}`),
        ["governance.proposed", "governance.voted", "accounts.org-added", "governance.executed"],
      );
      orgAdmins.acme = await register("acme", ["org-admin"]);
      // Two members: 1 of 2 is not more than 2/3, both are.
      const second = proposalOf(await admin.governance.propose({ kind: "addOrg", id: "globex", name: "Globex" }));
      assert.equal(second.status, "open");
      assert.equal(proposalOf(await orgAdmin("acme").governance.vote(second.id, true)).status, "executed");
      orgAdmins.globex = await register("globex", ["org-admin"]);
      // Three members: 2 of 3 is exactly 2/3 and does not pass.
      const third = proposalOf(await admin.governance.propose({ kind: "addOrg", id: "initech", name: "Initech" }));
      assert.equal(proposalOf(await orgAdmin("acme").governance.vote(third.id, true)).status, "open");
      assert.equal(proposalOf(await orgAdmin("globex").governance.vote(third.id, true)).status, "executed");
      orgAdmins.initech = await register("initech", ["org-admin"]);
      assert.equal((await client.governance.params()).members, 4);
    });

    test("3 of 4 pass; refusals carry their codes", async () => {
      const grant = proposalOf(await orgAdmin("acme").governance.propose({ kind: "grantRole", address: alice.address, role: "issuer" }));
      assert.deepEqual([grant.status, grant.yes, grant.proposerOrg], ["open", 1, "acme"]);
      await refused(orgAdmin("acme").governance.vote(grant.id, true), "ALREADY_VOTED");
      await refused(alice.governance.vote(grant.id, true), "FORBIDDEN");
      await refused(alice.governance.propose({ kind: "addOrg", id: "rogue", name: "Rogue" }), "FORBIDDEN");
      await refused(orgAdmin("globex").governance.execute(grant.id), "PROPOSAL_NOT_PASSED");
      await refused(orgAdmin("globex").governance.vote(grant.id + 100, true), "NO_SUCH_PROPOSAL");
      await refused(admin.governance.propose({ kind: "grantRole", address: alice.address, role: "wizard" }), "UNKNOWN_ROLE");
      await refused(admin.governance.propose({ kind: "addOrg", id: "acme", name: "again" }), "ORG_EXISTS");
      assert.equal(proposalOf(await orgAdmin("globex").governance.vote(grant.id, true)).status, "open");
      const passing = ok(await orgAdmin("initech").governance.vote(grant.id, true));
      assert.deepEqual(
        passing.result.events.map((e) => `${e.module}.${e.name}`),
        ["governance.voted", "accounts.role-granted", "governance.executed"],
      );
      assert.deepEqual((await client.account(alice.address)).roles, ["issuer"]);
      await refused(admin.governance.vote(grant.id, true), "PROPOSAL_CLOSED");
      await refused(admin.governance.execute(grant.id), "PROPOSAL_CLOSED");
      const shown = await client.governance.proposal(grant.id);
      assert.equal(shown.status, "executed");
      assert.deepEqual(
        shown.votes.map((v) => [v.org, v.approve]),
        [
          ["acme", true],
          ["globex", true],
          ["initech", true],
        ],
      );
      await assert.rejects(
        client.governance.proposal(9999),
        (err: unknown) => err instanceof TallyError && err.code === "NO_SUCH_PROPOSAL",
      );
    });

    test("a frozen account is refused ACCOUNT_FROZEN; a removed organisation's accounts NO_SUCH_ORG", async () => {
      const freeze = proposalOf(await admin.governance.propose({ kind: "freezeAccount", address: alice.address }));
      await orgAdmin("acme").governance.vote(freeze.id, true);
      assert.equal(proposalOf(await orgAdmin("globex").governance.vote(freeze.id, true)).status, "executed");
      assert.equal(await client.governance.isAccountFrozen(alice.address), true);
      await refused(alice.notarize(new Uint8Array(32).fill(1)), "ACCOUNT_FROZEN");

      const remove = proposalOf(await admin.governance.propose({ kind: "removeOrg", id: "initech" }));
      await orgAdmin("acme").governance.vote(remove.id, true);
      // One no of four: 3 of 4 could still pass it, so it stays open.
      const no = proposalOf(await orgAdmin("initech").governance.vote(remove.id, false));
      assert.equal(no.status, "open");
      const again = proposalOf(await admin.governance.propose({ kind: "removeOrg", id: "initech" }));
      await orgAdmin("acme").governance.vote(again.id, true);
      assert.equal(proposalOf(await orgAdmin("globex").governance.vote(again.id, true)).status, "executed");
      assert.equal((await client.governance.params()).members, 3);
      await refused(orgAdmin("initech").governance.vote(remove.id, true), "NO_SUCH_ORG");
      // The first removal proposal now fails when it passes (the org is gone): it stays "passed" with the error.
      const failed = proposalOf(await orgAdmin("globex").governance.vote(remove.id, true));
      assert.equal(failed.status, "passed");
      assert.equal(failed.lastError?.code, "NO_SUCH_ORG");
      await refused(admin.governance.execute(remove.id), "NO_SUCH_ORG");
      const page = await client.governance.proposals({ status: "passed" });
      assert.deepEqual(
        page.items.map((p) => p.id),
        [remove.id],
      );
    });
  });
}
