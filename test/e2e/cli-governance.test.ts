/**
 * The `tally gov` commands from the outside: init a one-organisation network, add a second
 * organisation by proposal (passes at once), register its org-admin, then proposals that need both
 * votes: a role grant, a rejected module freeze, a parameter change; show, list and the refusals.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { freePort, type NodeProcess, startNode, tally, tallyJson, tempDir } from "../helpers.js";

for (const suite of ["ed25519", "sm2"] as const) {
  describe(`CLI governance (${suite})`, () => {
    const dir = tempDir(`cli-governance-${suite}`);
    const net = join(dir.path, "net");
    const admin = join(net, "accounts", "admin.json");
    let node: NodeProcess;
    let rpc: string;

    before(async () => {
      const port = await freePort();
      rpc = `http://127.0.0.1:${port}`;
      const init = tally(["init", net, "--crypto", suite, "--api-port", String(port)]);
      assert.equal(init.code, 0, init.stderr);
      node = await startNode(join(net, "node0"), rpc, join(dir.path, "node0.log"));
    });

    after(async () => {
      assert.equal(await node.stop(), 0, "node exits cleanly on SIGTERM");
      dir.cleanup();
    });

    /** Runs tally, expects exit 0 and returns the parsed JSON output. */
    const json = (args: string[]) => tallyJson(rpc, args);
    /** Runs tally, expects exit 1 with `pattern` on stderr. */
    const fails = (args: string[], pattern: RegExp) => {
      const r = tally([...args, "--rpc", rpc]);
      assert.equal(r.code, 1, `${args.join(" ")} should fail: ${r.stdout}`);
      assert.match(r.stderr, pattern);
    };
    const newAccount = (name: string, org: string, roles: string) => {
      const keyPath = join(dir.path, `${name}.json`);
      const created = tally(["keys", "new", "--out", keyPath, "--crypto", suite]);
      assert.equal(created.code, 0, created.stderr);
      const { address, publicKey } = JSON.parse(created.stdout) as { address: string; publicKey: string };
      json(["accounts", "register", "--key", admin, "--public-key", publicKey, "--org", org, "--roles", roles]);
      return { keyPath, address };
    };

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
