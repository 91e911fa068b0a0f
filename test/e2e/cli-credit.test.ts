/**
 * The credit commands from the outside: init a network, start the node as its own process, register
 * a regulator, a bank and an entity's account with the CLI, then record (from an evidence file),
 * link, apply, a bank's refused decision, reject, apply again, approve, and read standing (also
 * proof-checked), history and the open applications. One suite (SM2/SM3) keeps it short; the SDK
 * test covers both.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CliNetwork } from "../helpers.js";

const ENTITY = "91310000MA1FL0XX2K";

describe("CLI credit flow (sm2)", () => {
  const network = new CliNetwork("cli-credit", { suite: "sm2" });
  const { dir } = network;

  const json = (args: string[]) => network.json(args);
  const refused = (args: string[], expected: string | RegExp) => network.refused(args, expected);
  const newAccount = (name: string, roles: string) => network.newAccount(name, roles);

  test("record, link, apply, refused decision, reject, re-apply, approve; standing, history, applications", () => {
    const regulator = newAccount("regulator", "regulator");
    const bank = newAccount("bank", "bank");
    const firm = newAccount("firm", "");
    const penalty = join(dir.path, "penalty.pdf");
    writeFileSync(penalty, "administrative penalty decision 2026-042");
    const entity = ["--entity", ENTITY];

    refused(
      [
        "credit",
        "record",
        "--key",
        bank.keyPath,
        ...entity,
        "--kind",
        "fraud",
        "--severity",
        "5",
        "--date",
        "2026-03-01",
        "--evidence",
        penalty,
      ],
      /FORBIDDEN/,
    );
    const recorded = json([
      "credit",
      "record",
      "--key",
      regulator.keyPath,
      ...entity,
      "--kind",
      "court-judgment",
      "--severity",
      "3",
      "--date",
      "2026-03-01",
      "--evidence",
      penalty,
    ]);
    const { tx, height, ...value } = recorded;
    assert.match(String(tx), /^[0-9a-f]{64}$/);
    assert.equal(typeof height, "number");
    assert.deepEqual(value, {
      entityId: ENTITY,
      eventId: 1,
      kind: "court-judgment",
      severity: 3,
      score: 80,
      grade: "B",
    });
    refused(
      [
        "credit",
        "record",
        "--key",
        regulator.keyPath,
        ...entity,
        "--kind",
        "x",
        "--severity",
        "6",
        "--date",
        "2026-03-01",
        "--digest",
        "00".repeat(32),
      ],
      /--severity/,
    );
    refused(
      [
        "credit",
        "record",
        "--key",
        regulator.keyPath,
        ...entity,
        "--kind",
        "x",
        "--severity",
        "2",
        "--date",
        "2026-02-30",
        "--digest",
        "00".repeat(32),
      ],
      /BAD_ARGS/,
    );

    json(["credit", "link", "--key", regulator.keyPath, ...entity, "--account", firm.address]);
    const digest = "ab".repeat(32);
    const applied = json([
      "credit",
      "apply",
      "--key",
      firm.keyPath,
      ...entity,
      "--event",
      "1",
      "--reason",
      "judgment satisfied",
      "--digest",
      digest,
    ]);
    assert.equal(applied.applicationId, 1);
    refused(
      ["credit", "apply", "--key", bank.keyPath, ...entity, "--event", "1", "--reason", "again", "--digest", digest],
      /REPAIR_PENDING/,
    );
    refused(["credit", "decide", "--key", bank.keyPath, ...entity, "--application", "1", "--approve"], /FORBIDDEN/);
    refused(["credit", "decide", "--key", regulator.keyPath, ...entity, "--application", "1"], /--approve or --reject/);

    const open = json(["credit", "applications", "--key", regulator.keyPath]);
    assert.deepEqual(
      (open.items as Array<{ entityId: string; id: number }>).map((a) => [a.entityId, a.id]),
      [[ENTITY, 1]],
    );
    refused(["credit", "applications", "--key", bank.keyPath], /FORBIDDEN/);

    const rejected = json([
      "credit",
      "decide",
      "--key",
      regulator.keyPath,
      ...entity,
      "--application",
      "1",
      "--reject",
      "--note",
      "no court record",
    ]);
    assert.equal(rejected.status, "rejected");
    json([
      "credit",
      "apply",
      "--key",
      bank.keyPath,
      ...entity,
      "--event",
      "1",
      "--reason",
      "court certificate attached",
      "--digest",
      digest,
    ]);
    const approved = json(["credit", "decide", "--key", regulator.keyPath, ...entity, "--application", "2", "--approve", "--note", "ok"]);
    assert.deepEqual([approved.status, approved.score, approved.grade], ["approved", 100, "A"]);
    refused(["credit", "decide", "--key", regulator.keyPath, ...entity, "--application", "2", "--reject"], /APPLICATION_DECIDED/);

    const standing = json(["credit", "standing", ...entity]);
    assert.deepEqual(standing, {
      entityId: ENTITY,
      account: firm.address,
      score: 100,
      grade: "A",
      penalty: 0,
      active: 0,
      repaired: 1,
      events: 1,
      applications: 2,
      updatedAt: approved.height,
    });
    const proven = json(["credit", "standing", ...entity, "--prove"]);
    assert.equal(proven.score, 100);
    assert.match(String(proven.stateRoot), /^[0-9a-f]{64}$/);
    refused(["credit", "standing", "--entity", "NOBODY"], /NO_SUCH_ENTITY/);

    const history = json(["credit", "history", ...entity]);
    assert.deepEqual(
      (history.items as Array<{ seq: number; type: string; status: string }>).map((i) => [i.seq, i.type, i.status]),
      [
        [1, "event", "repaired"],
        [2, "application", "rejected"],
        [3, "application", "approved"],
      ],
    );
    assert.match(String((history.items as Array<{ evidenceDigest: string }>)[0]?.evidenceDigest), /^[0-9a-f]{64}$/);
    const page = json(["credit", "history", ...entity, "--limit", "1", "--after", "1"]);
    assert.equal((page.items as unknown[]).length, 1);
    assert.equal(page.next, 2);
  });
});
