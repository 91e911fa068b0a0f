/**
 * The credential commands from the outside: init a network, start the node as its own process,
 * register a signing key and an issuer account with the CLI, issue a credential to a file, present it
 * with attributes hidden, verify the presentation offline against genesis.json, then tamper with it,
 * revoke the credential and watch `verify --fresh` refuse it.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CliNetwork } from "../helpers.js";

for (const suite of ["ed25519", "sm2"] as const) {
  describe(`CLI credential flow (${suite})`, () => {
    const network = new CliNetwork(`cli-credentials-${suite}`, { suite });
    const { dir, admin, genesis } = network;

    const json = (args: string[]) => network.json(args);
    const fails = (args: string[], pattern: RegExp) => network.refused(args, pattern);
    const newKey = (name: string) => network.newKey(name);

    test("register-key, issue, show, present, verify offline; tampering, revocation and refusals", () => {
      const signing = newKey("signing");
      const issuer = newKey("issuer");
      json([
        "accounts",
        "register",
        "--key",
        admin,
        "--public-key",
        issuer.publicKey,
        "--org",
        "consortium",
        "--roles",
        "credential-issuer",
      ]);
      fails(["credential", "register-key", "--key", issuer.keyPath, "--key-id", "k1", "--signing-key", signing.keyPath], /FORBIDDEN/);
      const registered = json(["credential", "register-key", "--key", admin, "--key-id", "k1", "--signing-key", signing.keyPath]);
      assert.deepEqual({ issuer: registered.issuer, keyId: registered.keyId }, { issuer: "consortium", keyId: "k1" });
      assert.equal((json(["credential", "keys", "--issuer", "consortium"]).keys as unknown[]).length, 1);

      const cred = join(dir.path, "cred.json");
      const issueArgs = ["credential", "issue", "--key", issuer.keyPath, "--signing-key", signing.keyPath, "--key-id", "k1"];
      const attrs = ["--attr", "name=Alice Example", "--attr", "degree=MSc Physics", "--attr", "grade=A"];
      const issued = json([
        ...issueArgs,
        "--id",
        "dip-1",
        "--schema",
        "diploma/v1",
        "--expires",
        "2099-01-01T00:00:00Z",
        ...attrs,
        "--out",
        cred,
      ]);
      assert.equal(issued.issuer, "consortium");
      assert.match(String(issued.credentialHash), /^[0-9a-f]{64}$/);
      fails([...issueArgs, "--id", "dip-1", "--schema", "diploma/v1", ...attrs, "--out", join(dir.path, "dup.json")], /CREDENTIAL_EXISTS/);
      fails(
        [...issueArgs.slice(0, -1), "k9", "--id", "dip-2", "--schema", "s", ...attrs, "--out", join(dir.path, "k9.json")],
        /NO_SUCH_ISSUER_KEY/,
      );
      const shown = json(["credential", "show", "--issuer", "consortium", "--id", "dip-1"]);
      assert.equal(shown.status, "valid");
      assert.ok(!JSON.stringify(shown).includes("Alice"));

      const pres = join(dir.path, "presentation.json");
      const presented = json(["credential", "present", cred, "--disclose", "degree", "--out", pres]);
      assert.deepEqual(presented.disclosed, ["degree"]);
      assert.ok(!readFileSync(pres, "utf8").includes("Alice"));
      // Offline: only the presentation and the genesis file (no --fresh, the node is not asked).
      const verified = json(["credential", "verify", pres, "--genesis", genesis]);
      assert.equal(verified.valid, true);
      assert.deepEqual(verified.disclosed, { degree: "MSc Physics" });
      assert.deepEqual(verified.undisclosed, ["grade", "name"]);
      fails(["credential", "verify", pres, "--genesis", genesis, "--now", "2099-01-01T00:00:00Z"], /CREDENTIAL_EXPIRED/);

      const tampered = join(dir.path, "tampered.json");
      const p = JSON.parse(readFileSync(pres, "utf8"));
      p.disclosed.degree.value = "PhD Physics";
      writeFileSync(tampered, JSON.stringify(p));
      fails(["credential", "verify", tampered, "--genesis", genesis], /invalid: CREDENTIAL_INVALID/);

      fails(["credential", "revoke", "--key", issuer.keyPath, "--id", "dip-1", "--reason", "x", "--issuer", "other-org"], /FORBIDDEN/);
      json(["credential", "revoke", "--key", issuer.keyPath, "--id", "dip-1", "--reason", "degree withdrawn"]);
      fails(["credential", "revoke", "--key", issuer.keyPath, "--id", "dip-1", "--reason", "again"], /CREDENTIAL_REVOKED/);
      fails(["credential", "verify", pres, "--genesis", genesis, "--fresh"], /CREDENTIAL_REVOKED/);
      const after = join(dir.path, "after.json");
      json(["credential", "present", cred, "--out", after]);
      fails(["credential", "verify", after, "--genesis", genesis], /CREDENTIAL_REVOKED/);
    });
  });
}
