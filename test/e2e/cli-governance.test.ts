/**
 * The `tally gov` commands from the outside: init a one-organisation network, add a second
 * organisation by proposal (passes at once), register its org-admin, then proposals that need both
 * votes: a role grant, a rejected module freeze, a parameter change; show, list and the refusals.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CliNetwork } from "../helpers.js";

for (const suite of ["ed25519", "sm2"] as const) {
  describe(`CLI governance (${suite})`, () => {
    const network = new CliNetwork(`cli-governance-${suite}`, { suite });
    const { admin } = network;

    /** Runs tally, expects exit 0 and returns the parsed JSON output. */
    const json = (args: string[]) => network.json(args);
    /** Runs tally, expects exit 1 with `pattern` on stderr. */
    const fails = (args: string[], pattern: RegExp) => network.refused(args, pattern);
    const newAccount = (name: string, org: string, roles: string) => network.newAccount(name, roles, org);

    test("propose, vote, execute, show, list and refusals", () => {
      const added = json(["gov", "propose", "--key", admin, "--kind", "add-org", "--id", "acme", "--name", "Acme", "--description", "hi"]);
      assert.deepEqual([added.id, added.status, added.description], [1, "executed", "hi"]);
      assert.match(String(added.tx), /^[0-9a-f]{64}$/);
      const acme = newAccount("acme-admin", "acme", "org-admin");
      const clerk = newAccount("clerk", "consortium", "");

      const grant = json(["gov", "propose", "--key", admin, "--kind", "grantRole", "--address", clerk.address, "--role", "bank"]);
      assert.deepEqual([grant.id, grant.status, grant.yes], [2, "open", 1]);
      fails(["gov", "vote", "--key", admin, "--id", "2", "--yes"], /ALREADY_VOTED/);
      fails(["gov", "vote", "--key", clerk.keyPath, "--id", "2", "--yes"], /FORBIDDEN/);
      fails(["gov", "vote", "--key", acme.keyPath, "--id", "2", "--yes", "--no"], /exactly one of --yes and --no/);
      const voted = json(["gov", "vote", "--key", acme.keyPath, "--id", "2", "--yes"]);
      assert.equal(voted.status, "executed");
      fails(["gov", "vote", "--key", acme.keyPath, "--id", "2", "--no"], /PROPOSAL_CLOSED/);
      fails(["gov", "execute", "--key", acme.keyPath, "--id", "2"], /PROPOSAL_CLOSED/);

      const freeze = json(["gov", "propose", "--key", admin, "--kind", "freezeModule", "--module", "evidence"]);
      fails(["gov", "execute", "--key", acme.keyPath, "--id", String(freeze.id)], /PROPOSAL_NOT_PASSED/);
      assert.equal(json(["gov", "vote", "--key", acme.keyPath, "--id", String(freeze.id), "--no"]).status, "rejected");

      fails(["gov", "propose", "--key", admin, "--kind", "mint"], /--kind must be one of/);
      fails(["gov", "propose", "--key", admin, "--kind", "addOrg", "--id", "x"], /needs --name/);
      fails(["gov", "propose", "--key", admin, "--kind", "freezeModule", "--module", "governance"], /FORBIDDEN/);
      fails(["gov", "propose", "--key", admin, "--kind", "grantRole", "--address", clerk.address, "--role", "wizard"], /UNKNOWN_ROLE/);
      fails(["gov", "show", "--id", "99"], /NO_SUCH_PROPOSAL/);

      const param = json([
        "gov",
        "propose",
        "--key",
        acme.keyPath,
        "--kind",
        "setParam",
        "--param",
        "governance.threshold",
        "--value",
        "3/4",
      ]);
      json(["gov", "vote", "--key", admin, "--id", String(param.id), "--yes"]);
      assert.deepEqual(json(["gov", "params"]), { threshold: [3, 4], votingPeriodBlocks: 1000, members: 2 });

      const shown = json(["gov", "show", "--id", "2"]);
      assert.equal(shown.status, "executed");
      assert.deepEqual(
        (shown.votes as Array<{ org: string }>).map((v) => v.org),
        ["acme", "consortium"],
      );
      const listed = json(["gov", "list", "--status", "executed"]) as { items: Array<{ id: number }>; next: number | null };
      assert.deepEqual(
        listed.items.map((p) => p.id),
        [1, 2, param.id],
      );
      assert.equal(listed.next, null);
    });
  });
}
