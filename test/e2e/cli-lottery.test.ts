/**
 * The lottery commands from the outside. `tally init` makes one organisation and a draw needs three
 * drawer organisations, so before the first start the test adds three organisations with an
 * org-admin each (keys from `tally keys new`) to the genesis files, as a consortium's operator would.
 * Then with the CLI only: register a centre, a terminal and a regulator; open a round; seal a batch
 * from a tickets file (proofs written out); commit, close, a late batch refused, reveal, draw;
 * verify the draw and a ticket (and refuse a tampered one); read the regulator's refusal counters.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CliNetwork } from "../helpers.js";

const DRAWER_ORGS = ["lotto-a", "lotto-b", "lotto-c"] as const;
const sha256hex = (text: string) => createHash("sha256").update(text).digest("hex");

describe("CLI lottery flow (ed25519)", () => {
  const network = new CliNetwork("cli-lottery", {
    beforeStart(net) {
      const genesisPath = join(net, "genesis.json");
      const doc = JSON.parse(readFileSync(genesisPath, "utf8"));
      doc.orgs.push(...drawers.map((d) => ({ id: d.org, name: `Drawer ${d.org}` })));
      doc.accounts.push(...drawers.map((d) => ({ publicKey: d.publicKey, org: d.org, roles: ["org-admin"] })));
      for (const file of [genesisPath, join(net, "node0", "genesis.json")]) writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
    },
  });
  const { dir, admin } = network;
  const drawers = DRAWER_ORGS.map((org) => ({ org, ...network.newKey(org) }));

  const json = (args: string[]) => network.json(args);
  const fails = (args: string[], code: RegExp) => network.refused(args, code);
  const account = (name: string, roles: string) => network.newAccount(name, roles);
  let ticks = 0;
  const advanceTo = (height: number) => {
    while ((json(["status"]) as { height: number }).height < height) {
      ticks++;
      json(["evidence", "notarize", "--digest", sha256hex(`tick/${ticks}`), "--key", admin]);
    }
  };

  test("open, seal, commit, late seal refused, reveal, draw, verify-draw, verify-ticket, refusals", () => {
    const centre = account("centre", "lottery-centre");
    const terminal = account("terminal", "lottery-terminal");
    const regulator = account("regulator", "regulator");
    const height = (json(["status"]) as { height: number }).height;
    // Open (1 block), a refused open, 2 seals and 3 commits fit before close; then blocks are added to reach it.
    const close = height + 9;
    const round = ["--round", "w48"];

    const opened = json([
      "lottery",
      "open",
      "--key",
      centre.keyPath,
      ...round,
      "--game",
      "6 of 49",
      "--close-height",
      String(close),
      "--reveal-deadline",
      String(close + 20),
      "--drawers",
      "lotto-c,lotto-a,lotto-b",
      "--pick",
      "6/49",
      "--cap",
      "1000",
    ]);
    assert.deepEqual(opened.drawers, ["lotto-a", "lotto-b", "lotto-c"]);
    fails(
      [
        "lottery",
        "open",
        "--key",
        terminal.keyPath,
        "--round",
        "w49",
        "--game",
        "g",
        "--close-height",
        "99",
        "--reveal-deadline",
        "100",
        "--drawers",
        "lotto-a,lotto-b,lotto-c",
        "--pick",
        "6/49",
        "--cap",
        "1",
      ],
      /FORBIDDEN/,
    );

    // Three tickets: buyer 1 spends 700 then 400 (over the cap of 1,000: refused), buyer 2 spends 100.
    const b1 = sha256hex("salt|ID-1");
    const b2 = sha256hex("salt|ID-2");
    const ticketsPath = join(dir.path, "tickets.json");
    writeFileSync(
      ticketsPath,
      JSON.stringify([
        { buyer: b1, amount: "700", data: Buffer.from("1,2,3,4,5,6").toString("hex") },
        { buyer: b2, amount: "100", data: Buffer.from("7,8,9,10,11,12").toString("hex") },
      ]),
    );
    const proofs = join(dir.path, "proofs.json");
    const sealed = json([
      "lottery",
      "seal",
      "--key",
      terminal.keyPath,
      ...round,
      "--batch",
      "t1-1",
      "--tickets",
      ticketsPath,
      "--proofs-out",
      proofs,
    ]);
    assert.equal(sealed.count, 2);
    assert.equal(sealed.accepted, 2);
    writeFileSync(ticketsPath, JSON.stringify([{ buyer: b1, amount: "400", data: "00" }]));
    const capped = json(["lottery", "seal", "--key", terminal.keyPath, ...round, "--batch", "t1-2", "--tickets", ticketsPath]);
    assert.equal(capped.accepted, 0);
    assert.deepEqual(json(["lottery", "refusals", "--key", regulator.keyPath, ...round]), {
      roundId: "w48",
      period: "w48",
      refused: 1,
      amount: "400",
      batches: 1,
    });
    fails(["lottery", "refusals", "--key", terminal.keyPath, ...round], /FORBIDDEN/);

    for (const d of drawers) {
      const committed = json(["lottery", "commit", "--key", d.keyPath, ...round, "--secret-file", join(dir.path, `${d.org}.secret`)]);
      assert.equal(committed.org, d.org);
    }
    fails(
      ["lottery", "reveal", "--key", drawers[0]?.keyPath as string, ...round, "--secret-file", join(dir.path, "lotto-a.secret")],
      /ROUND_OPEN/,
    );

    advanceTo(close);
    fails(["lottery", "seal", "--key", terminal.keyPath, ...round, "--batch", "late", "--tickets", ticketsPath], /ROUND_CLOSED/);
    for (const d of drawers) json(["lottery", "reveal", "--key", d.keyPath, ...round, "--secret-file", join(dir.path, `${d.org}.secret`)]);
    const drawn = json(["lottery", "draw", "--key", regulator.keyPath, ...round]);
    assert.equal(drawn.status, "drawn");
    assert.equal((drawn.numbers as number[]).length, 6);
    fails(["lottery", "draw", "--key", regulator.keyPath, ...round], /DRAW_DONE/);

    const shown = json(["lottery", "round", ...round]);
    assert.equal(shown.status, "drawn");
    assert.equal(shown.tickets, 3);
    const verified = json(["lottery", "verify-draw", ...round]);
    assert.equal(verified.valid, true);
    assert.deepEqual(verified.numbers, drawn.numbers);

    const { genesis } = network;
    const sold = json(["lottery", "verify-ticket", proofs, "--index", "1", "--genesis", genesis]);
    assert.equal(sold.valid, true);
    assert.ok((sold.height as number) <= close);
    const list = JSON.parse(readFileSync(proofs, "utf8")) as Array<Record<string, unknown>>;
    const tampered = join(dir.path, "tampered.json");
    writeFileSync(tampered, JSON.stringify({ ...list[0], data: Buffer.from("1,2,3,4,5,49").toString("hex") }));
    fails(["lottery", "verify-ticket", tampered, "--genesis", genesis], /does not verify/);
  });
});
