import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type CreditEventRecord,
  creditApplicationKey,
  creditEntityKey,
  creditEventKey,
  creditEventPrefix,
  creditGrade,
  creditLogKey,
  creditOpenKey,
  creditSeverityWeight,
  creditStanding,
  creditStandingKey,
  decodeCreditApplication,
  decodeCreditEntity,
  decodeCreditEvent,
  decodeCreditLogEntry,
  decodeCreditStanding,
  encodeCreditApplication,
  encodeCreditEntity,
  encodeCreditEvent,
  encodeCreditLogEntry,
  encodeCreditStanding,
  fromUtf8,
  isCalendarDate,
  seededRandom,
  TallyError,
  type TxResult,
  toHex,
  utf8,
  type Value,
} from "@tally/core";
import { creditModule } from "../src/modules/credit.js";
import { MemoryChain, makeNet, SUITES, type TestAccount } from "./helpers.js";

const ENTITY = "91110000600037341L";
const OTHER = "91310000MA1FL0XX2K";

test("the standing rule: weights, grades and clamping, table-driven", () => {
  const cases: Array<[string, Array<[number, "active" | "repaired"]>, number, string, number, number, number]> = [
    // name, events [severity, status], score, grade, penalty, active, repaired
    ["no events", [], 100, "A", 0, 0, 0],
    ["one minor", [[1, "active"]], 95, "A", 5, 1, 0],
    ["severity 2 is the floor of A", [[2, "active"]], 90, "A", 10, 1, 0],
    ["severity 3", [[3, "active"]], 80, "B", 20, 1, 0],
    [
      "1 + 2",
      [
        [1, "active"],
        [2, "active"],
      ],
      85,
      "B",
      15,
      2,
      0,
    ],
    [
      "3 + 2 is the floor of B",
      [
        [3, "active"],
        [2, "active"],
      ],
      70,
      "B",
      30,
      2,
      0,
    ],
    [
      "3 + 2 + 1 falls to C",
      [
        [3, "active"],
        [2, "active"],
        [1, "active"],
      ],
      65,
      "C",
      35,
      3,
      0,
    ],
    ["severity 4", [[4, "active"]], 60, "C", 40, 1, 0],
    ["severity 5 is the floor of C", [[5, "active"]], 40, "C", 60, 1, 0],
    [
      "5 + 1 falls to D",
      [
        [5, "active"],
        [1, "active"],
      ],
      35,
      "D",
      65,
      2,
      0,
    ],
    [
      "two 5s clamp at 0",
      [
        [5, "active"],
        [5, "active"],
      ],
      0,
      "D",
      120,
      2,
      0,
    ],
    ["a repaired 5 counts nothing", [[5, "repaired"]], 100, "A", 0, 0, 1],
    [
      "one of two 5s repaired",
      [
        [5, "active"],
        [5, "repaired"],
      ],
      40,
      "C",
      60,
      1,
      1,
    ],
    [
      "repairs below the clamp restore exactly",
      [
        [5, "active"],
        [5, "active"],
        [4, "repaired"],
        [1, "active"],
      ],
      0,
      "D",
      125,
      3,
      1,
    ],
    [
      "everything repaired",
      [
        [1, "repaired"],
        [2, "repaired"],
        [3, "repaired"],
        [4, "repaired"],
        [5, "repaired"],
      ],
      100,
      "A",
      0,
      0,
      5,
    ],
  ];
  for (const [name, events, score, grade, penalty, active, repaired] of cases) {
    const got = creditStanding(events.map(([severity, status]) => ({ severity, status })));
    assert.deepEqual(got, { score, grade, penalty, active, repaired }, name);
  }
  for (const [score, grade] of [
    [100, "A"],
    [90, "A"],
    [89, "B"],
    [70, "B"],
    [69, "C"],
    [40, "C"],
    [39, "D"],
    [0, "D"],
  ] as const) {
    assert.equal(creditGrade(score), grade, `score ${score}`);
  }
  assert.deepEqual([1, 2, 3, 4, 5].map(creditSeverityWeight), [5, 10, 20, 40, 60]);
  for (const bad of [0, 6, 1.5, -1]) {
    assert.throws(
      () => creditSeverityWeight(bad),
      (e: unknown) => e instanceof TallyError && e.code === "BAD_ARGS",
    );
  }
});

test("calendar dates", () => {
  for (const ok of ["2026-01-31", "2024-02-29", "2000-02-29", "0001-01-01", "9999-12-31"]) assert.ok(isCalendarDate(ok), ok);
  for (const bad of ["2026-02-29", "1900-02-29", "2026-04-31", "2026-13-01", "2026-00-10", "0000-01-01", "2026-1-01", "20260101", ""]) {
    assert.ok(!isCalendarDate(bad), bad);
  }
});

test("records round-trip; keys are the documented layout", () => {
  const digest = new Uint8Array(32).fill(9);
  const event: CreditEventRecord = {
    id: 3,
    kind: "tax-arrears",
    severity: 4,
    evidenceDigest: digest,
    date: "2026-03-01",
    recordedBy: "ab".repeat(20),
    height: 7,
    status: "repaired",
    openApplication: null,
    repairedBy: 2,
    repairedAt: 9,
  };
  assert.deepEqual(decodeCreditEvent(encodeCreditEvent(event)), event);
  const app = {
    id: 2,
    eventId: 3,
    applicant: "cd".repeat(20),
    reason: "paid in full",
    evidenceDigest: digest,
    height: 8,
    status: "approved" as const,
    decidedBy: "ab".repeat(20),
    decidedAt: 9,
    note: "receipt checked",
  };
  assert.deepEqual(decodeCreditApplication(encodeCreditApplication(app)), app);
  const entity = { entityId: ENTITY, account: null, events: 3, applications: 2 };
  assert.deepEqual(decodeCreditEntity(encodeCreditEntity(entity)), entity);
  const standing = { entityId: ENTITY, score: 60, grade: "C" as const, penalty: 40, active: 1, repaired: 0, height: 4 };
  assert.deepEqual(decodeCreditStanding(encodeCreditStanding(standing)), standing);
  assert.deepEqual(decodeCreditLogEntry(encodeCreditLogEntry(["application", 2])), ["application", 2]);
  assert.throws(
    () => decodeCreditEvent(encodeCreditApplication(app)),
    (e: unknown) => e instanceof TallyError && e.code === "BAD_ENCODING",
  );

  assert.equal(fromUtf8(creditEntityKey(ENTITY)), `credit/n/${ENTITY}`);
  assert.equal(fromUtf8(creditStandingKey(ENTITY)), `credit/s/${ENTITY}`);
  assert.equal(toHex(creditEventKey(ENTITY, 258)), `${toHex(utf8(`credit/v/${ENTITY}/`))}00000102`);
  assert.equal(toHex(creditApplicationKey(ENTITY, 1)), `${toHex(utf8(`credit/a/${ENTITY}/`))}00000001`);
  assert.equal(toHex(creditOpenKey(ENTITY, 1)), `${toHex(utf8(`credit/o/${ENTITY}/`))}00000001`);
  assert.equal(toHex(creditLogKey(ENTITY, 5)), `${toHex(utf8(`credit/h/${ENTITY}/`))}00000005`);
});

for (const suiteId of SUITES) {
  describe(`credit module (${suiteId})`, () => {
    const net = makeNet(suiteId, {
      accounts: [
        { name: "regulator", roles: ["regulator"] },
        { name: "regulator2", roles: ["regulator"] },
        { name: "bank", roles: ["bank"] },
        { name: "firm" },
        { name: "stranger" },
        { name: "issuer", roles: ["issuer"] },
      ],
    });
    const acct = (name: string): TestAccount => {
      const a = net.accounts[name];
      assert.ok(a, name);
      return a;
    };
    const regulator = acct("regulator");
    const regulator2 = acct("regulator2");
    const bank = acct("bank");
    const firm = acct("firm");
    const stranger = acct("stranger");
    const admin = net.admin;
    const digest = (label: string) => net.suite.hash(utf8(`credit-test/${label}`));

    const fixture = () => {
      const c = new MemoryChain(net);
      const ok = (who: TestAccount, method: string, args: Value): TxResult => {
        const r = c.call(who, "credit", method, args);
        assert.equal(r.status, "ok", `${method}: ${r.code} ${r.message}`);
        return r;
      };
      /** A refusal with `code`: no events, nothing under credit/ changed. */
      const refused = (who: TestAccount, method: string, args: Value, code: string): TxResult => {
        const before = c.state.entriesUnder("credit/");
        const r = c.call(who, "credit", method, args);
        assert.equal(r.status, "failed", `${method} should be refused with ${code}`);
        assert.equal(r.code, code, `${r.code}: ${r.message}`);
        assert.deepEqual(r.events, []);
        assert.deepEqual(c.state.entriesUnder("credit/"), before);
        return r;
      };
      const record = (entityId: string, severity: number, extra: Record<string, Value> = {}) =>
        ok(regulator, "record-event", {
          entityId,
          kind: "tax-arrears",
          severity,
          evidenceDigest: digest(`${entityId}/${severity}`),
          date: "2026-03-01",
          ...extra,
        });
      const apply = (who: TestAccount, entityId: string, eventId: number) =>
        ok(who, "apply-repair", { entityId, eventId, reason: "the arrears are paid", evidenceDigest: digest("receipt") });
      const decide = (who: TestAccount, entityId: string, applicationId: number, approve: boolean) =>
        ok(who, "decide-repair", { entityId, applicationId, approve, note: approve ? "paid" : "not shown" });
      const event = (entityId: string, id: number) => {
        const bytes = c.state.read(creditEventKey(entityId, id));
        assert.ok(bytes, `event ${id}`);
        return decodeCreditEvent(bytes);
      };
      const standing = (entityId: string) => {
        const bytes = c.state.read(creditStandingKey(entityId));
        assert.ok(bytes, `standing of ${entityId}`);
        return decodeCreditStanding(bytes);
      };
      /** The stored standing equals the rule applied to every event of the entity in state. */
      const checkStanding = (entityId: string) => {
        const events = c.state.scan(creditEventPrefix(entityId), 10_000).map(([, v]) => decodeCreditEvent(v));
        const { entityId: _e, height: _h, ...stored } = standing(entityId);
        assert.deepEqual(stored, creditStanding(events), `standing of ${entityId}`);
      };
      return { c, ok, refused, record, apply, decide, event, standing, checkStanding };
    };

    test("genesis writes nothing under credit/", () => {
      assert.equal(new MemoryChain(net).state.entriesUnder("credit/").size, 0);
    });

    test("record-event: sequential ids per entity, the standing follows, events and results", () => {
      const f = fixture();
      const first = f.record(ENTITY, 3);
      assert.deepEqual(first.value, { entityId: ENTITY, eventId: 1, kind: "tax-arrears", severity: 3, score: 80, grade: "B" });
      assert.deepEqual(first.events, [{ module: "credit", name: "recorded", data: first.value }]);
      const second = f.record(ENTITY, 5, { kind: "court-judgment", date: "2024-02-29" });
      assert.deepEqual(second.value, { entityId: ENTITY, eventId: 2, kind: "court-judgment", severity: 5, score: 20, grade: "D" });
      assert.equal((f.record(OTHER, 1).value as { eventId: number }).eventId, 1);

      assert.deepEqual(f.event(ENTITY, 2), {
        id: 2,
        kind: "court-judgment",
        severity: 5,
        evidenceDigest: digest(`${ENTITY}/5`),
        date: "2024-02-29",
        recordedBy: regulator.address,
        height: 2,
        status: "active",
        openApplication: null,
        repairedBy: null,
        repairedAt: null,
      });
      assert.deepEqual(f.standing(ENTITY), { entityId: ENTITY, score: 20, grade: "D", penalty: 80, active: 2, repaired: 0, height: 2 });
      const entity = f.c.state.read(creditEntityKey(ENTITY));
      assert.ok(entity);
      assert.deepEqual(decodeCreditEntity(entity), { entityId: ENTITY, account: null, events: 2, applications: 0 });
      f.checkStanding(ENTITY);
      f.checkStanding(OTHER);
    });

    test("record-event refusals: roles and every malformed argument leave state unchanged", () => {
      const f = fixture();
      f.record(ENTITY, 2);
      const good = { entityId: ENTITY, kind: "fraud", severity: 4, evidenceDigest: digest("x"), date: "2026-01-01" };
      for (const who of [bank, firm, admin, acct("issuer")]) f.refused(who, "record-event", good, "FORBIDDEN");
      const bad: Array<Record<string, Value>> = [
        { entityId: "" },
        { entityId: "has/slash" },
        { entityId: "-leading" },
        { entityId: "x".repeat(65) },
        { kind: "Fraud" },
        { kind: "1fraud" },
        { kind: "k".repeat(33) },
        { severity: 0 },
        { severity: 6 },
        { severity: "3" },
        { evidenceDigest: new Uint8Array(31) },
        { evidenceDigest: toHex(digest("x")) },
        { date: "2026-02-30" },
        { date: "2026-1-01" },
        { extra: true },
      ];
      for (const patch of bad) f.refused(regulator, "record-event", { ...good, ...patch }, "BAD_ARGS");
      const { date: _d, ...missing } = good;
      f.refused(regulator, "record-event", missing, "BAD_ARGS");
      f.checkStanding(ENTITY);
    });

    test("link-entity: a regulator links a registered account (also before any event); relinking replaces it", () => {
      const f = fixture();
      const linked = f.ok(regulator, "link-entity", { entityId: ENTITY, account: firm.address });
      assert.deepEqual(linked.value, { entityId: ENTITY, account: firm.address });
      assert.deepEqual(linked.events, [
        { module: "credit", name: "linked", data: { entityId: ENTITY, account: firm.address, previous: null, by: regulator.address } },
      ]);
      // A linked entity with no events has a clean standing.
      assert.deepEqual(f.standing(ENTITY), { entityId: ENTITY, score: 100, grade: "A", penalty: 0, active: 0, repaired: 0, height: 1 });
      const relinked = f.ok(regulator2, "link-entity", { entityId: ENTITY, account: stranger.address });
      assert.deepEqual(relinked.events[0]?.data, {
        entityId: ENTITY,
        account: stranger.address,
        previous: firm.address,
        by: regulator2.address,
      });
      const entity = f.c.state.read(creditEntityKey(ENTITY));
      assert.ok(entity);
      assert.equal(decodeCreditEntity(entity).account, stranger.address);
      assert.equal(f.record(ENTITY, 1).status, "ok");
      assert.equal(decodeCreditEntity(f.c.state.read(creditEntityKey(ENTITY)) as Uint8Array).account, stranger.address);

      f.refused(regulator, "link-entity", { entityId: ENTITY, account: "00".repeat(20) }, "NO_SUCH_ACCOUNT");
      f.refused(regulator, "link-entity", { entityId: ENTITY, account: "XY".repeat(20) }, "BAD_ARGS");
      f.refused(regulator, "link-entity", { entityId: "a/b", account: firm.address }, "BAD_ARGS");
      for (const who of [bank, firm, admin]) f.refused(who, "link-entity", { entityId: ENTITY, account: who.address }, "FORBIDDEN");
    });

    test("repair: apply (linked account or bank), one open application per event, reject, re-apply, approve, final", () => {
      const f = fixture();
      f.record(ENTITY, 4);
      f.record(ENTITY, 2);
      f.ok(regulator, "link-entity", { entityId: ENTITY, account: firm.address });

      const applied = f.apply(firm, ENTITY, 1);
      assert.deepEqual(applied.value, { entityId: ENTITY, applicationId: 1, eventId: 1, applicant: firm.address });
      assert.deepEqual(applied.events, [{ module: "credit", name: "applied", data: applied.value }]);
      assert.equal(f.event(ENTITY, 1).openApplication, 1);
      assert.ok(f.c.state.read(creditOpenKey(ENTITY, 1)));
      // A second application for the same event, by anyone allowed, waits for the first to be decided.
      const pending = f.refused(
        bank,
        "apply-repair",
        { entityId: ENTITY, eventId: 1, reason: "again", evidenceDigest: digest("r") },
        "REPAIR_PENDING",
      );
      assert.deepEqual(pending.value, { entityId: ENTITY, eventId: 1, applicationId: 1 });
      // Another event may have its own application, here by a bank.
      assert.deepEqual(f.apply(bank, ENTITY, 2).value, { entityId: ENTITY, applicationId: 2, eventId: 2, applicant: bank.address });

      // Repair decisions by anyone but a regulator are refused.
      for (const who of [firm, bank, stranger, admin, acct("issuer")]) {
        f.refused(who, "decide-repair", { entityId: ENTITY, applicationId: 1, approve: true, note: "" }, "FORBIDDEN");
      }
      assert.equal(f.standing(ENTITY).score, 50);

      const rejected = f.decide(regulator, ENTITY, 1, false);
      assert.deepEqual(rejected.value, {
        entityId: ENTITY,
        applicationId: 1,
        eventId: 1,
        status: "rejected",
        by: regulator.address,
        score: 50,
        grade: "C",
      });
      assert.deepEqual(rejected.events, [{ module: "credit", name: "decided", data: rejected.value }]);
      assert.equal(f.event(ENTITY, 1).status, "active");
      assert.equal(f.event(ENTITY, 1).openApplication, null);
      assert.equal(f.c.state.read(creditOpenKey(ENTITY, 1)), null);
      f.checkStanding(ENTITY);
      const decided = f.refused(
        regulator2,
        "decide-repair",
        { entityId: ENTITY, applicationId: 1, approve: true, note: "" },
        "APPLICATION_DECIDED",
      );
      assert.deepEqual(decided.value, { entityId: ENTITY, applicationId: 1, status: "rejected" });

      // After a rejection the event can be applied for again.
      assert.equal((f.apply(firm, ENTITY, 1).value as { applicationId: number }).applicationId, 3);
      const approved = f.decide(regulator2, ENTITY, 3, true);
      assert.deepEqual(approved.value, {
        entityId: ENTITY,
        applicationId: 3,
        eventId: 1,
        status: "approved",
        by: regulator2.address,
        score: 90,
        grade: "A",
      });
      const repairedAt = f.c.height;
      const { status, openApplication, repairedBy, repairedAt: at } = f.event(ENTITY, 1);
      assert.deepEqual(
        { status, openApplication, repairedBy, at },
        { status: "repaired", openApplication: null, repairedBy: 3, at: repairedAt },
      );
      const app = decodeCreditApplication(f.c.state.read(creditApplicationKey(ENTITY, 3)) as Uint8Array);
      assert.deepEqual(app, {
        id: 3,
        eventId: 1,
        applicant: firm.address,
        reason: "the arrears are paid",
        evidenceDigest: digest("receipt"),
        height: repairedAt - 1,
        status: "approved",
        decidedBy: regulator2.address,
        decidedAt: repairedAt,
        note: "paid",
      });
      assert.deepEqual(f.standing(ENTITY), {
        entityId: ENTITY,
        score: 90,
        grade: "A",
        penalty: 10,
        active: 1,
        repaired: 1,
        height: repairedAt,
      });
      f.checkStanding(ENTITY);

      const repaired = f.refused(
        firm,
        "apply-repair",
        { entityId: ENTITY, eventId: 1, reason: "x", evidenceDigest: digest("r") },
        "EVENT_REPAIRED",
      );
      assert.deepEqual(repaired.value, { entityId: ENTITY, eventId: 1, repairedBy: 3 });
      f.refused(regulator, "decide-repair", { entityId: ENTITY, applicationId: 3, approve: false, note: "" }, "APPLICATION_DECIDED");

      f.decide(regulator, ENTITY, 2, true);
      assert.deepEqual(f.standing(ENTITY).score, 100);
      f.checkStanding(ENTITY);
    });

    test("apply-repair refusals leave state unchanged", () => {
      const f = fixture();
      f.record(ENTITY, 3);
      f.ok(regulator, "link-entity", { entityId: ENTITY, account: firm.address });
      const args = (patch: Record<string, Value> = {}) => ({
        entityId: ENTITY,
        eventId: 1,
        reason: "paid",
        evidenceDigest: digest("r"),
        ...patch,
      });
      f.refused(firm, "apply-repair", args({ entityId: OTHER }), "NO_SUCH_ENTITY");
      // Neither linked nor a bank: a stranger, a regulator, the admin, an account linked to another entity.
      f.ok(regulator, "link-entity", { entityId: OTHER, account: stranger.address });
      for (const who of [stranger, regulator, admin]) f.refused(who, "apply-repair", args(), "FORBIDDEN");
      f.refused(firm, "apply-repair", args({ eventId: 2 }), "NO_SUCH_EVENT");
      for (const patch of <Array<Record<string, Value>>>[
        { eventId: 0 },
        { reason: "" },
        { reason: "r".repeat(513) },
        { evidenceDigest: new Uint8Array(33) },
        { entityId: "a b" },
      ]) {
        f.refused(firm, "apply-repair", args(patch), "BAD_ARGS");
      }
      f.ok(firm, "apply-repair", args({ reason: "r".repeat(512) }));
    });

    test("decide-repair refusals leave state unchanged", () => {
      const f = fixture();
      f.record(ENTITY, 3);
      f.apply(bank, ENTITY, 1);
      const args = (patch: Record<string, Value> = {}) => ({ entityId: ENTITY, applicationId: 1, approve: true, note: "", ...patch });
      f.refused(regulator, "decide-repair", args({ entityId: OTHER }), "NO_SUCH_ENTITY");
      f.refused(regulator, "decide-repair", args({ applicationId: 2 }), "NO_SUCH_APPLICATION");
      for (const patch of <Array<Record<string, Value>>>[
        { approve: 1 },
        { approve: "true" },
        { approve: null },
        { note: "n".repeat(513) },
        { applicationId: 0 },
      ]) {
        f.refused(regulator, "decide-repair", args(patch), "BAD_ARGS");
      }
      assert.equal(f.decide(regulator, ENTITY, 1, true).status, "ok");
    });

    test("two applications for one event in the same block: the second is REPAIR_PENDING", () => {
      const f = fixture();
      f.record(ENTITY, 3);
      f.ok(regulator, "link-entity", { entityId: ENTITY, account: firm.address });
      const call = { entityId: ENTITY, eventId: 1, reason: "paid", evidenceDigest: digest("r") };
      const [a, b] = f.c.block([
        [firm, "credit", "apply-repair", call],
        [bank, "credit", "apply-repair", call],
      ]);
      assert.equal(a?.status, "ok");
      assert.equal(b?.code, "REPAIR_PENDING");
      // Decisions in one block: the second decision of the same application is refused.
      const [d1, d2] = f.c.block([
        [regulator, "credit", "decide-repair", { entityId: ENTITY, applicationId: 1, approve: false, note: "" }],
        [regulator2, "credit", "decide-repair", { entityId: ENTITY, applicationId: 1, approve: true, note: "" }],
      ]);
      assert.equal(d1?.status, "ok");
      assert.equal(d2?.code, "APPLICATION_DECIDED");
      assert.equal(f.event(ENTITY, 1).status, "active");
      f.checkStanding(ENTITY);
    });

    test("admission prechecks refuse final states only", () => {
      const f = fixture();
      f.record(ENTITY, 3);
      f.apply(bank, ENTITY, 1);
      const read = { suite: net.suite, caller: bank.address, get: f.c.state.read };
      const applyDef = creditModule.methods["apply-repair"];
      const decideDef = creditModule.methods["decide-repair"];
      assert.ok(applyDef?.precheck && decideDef?.precheck);
      const applyArgs = applyDef.args.parse({ entityId: ENTITY, eventId: 1, reason: "r", evidenceDigest: digest("r") }, "");
      const decideArgs = decideDef.args.parse({ entityId: ENTITY, applicationId: 1, approve: true, note: "" }, "");
      // Pending is not final (a decision may be in the mempool): no precheck refusal.
      applyDef.precheck(read, applyArgs);
      decideDef.precheck(read, decideArgs);
      f.decide(regulator, ENTITY, 1, true);
      assert.throws(
        () => applyDef.precheck?.(read, applyArgs),
        (e: unknown) => e instanceof TallyError && e.code === "EVENT_REPAIRED",
      );
      assert.throws(
        () => decideDef.precheck?.(read, decideArgs),
        (e: unknown) => e instanceof TallyError && e.code === "APPLICATION_DECIDED",
      );
    });

    test("queries: standing (anyone), history in order with decisions and pages, open applications (regulators)", () => {
      const f = fixture();
      f.record(ENTITY, 3); // h1 event 1
      f.ok(regulator, "link-entity", { entityId: ENTITY, account: firm.address }); // h2
      f.apply(firm, ENTITY, 1); // h3 application 1
      f.record(ENTITY, 1); // h4 event 2
      f.decide(regulator, ENTITY, 1, false); // h5
      f.apply(bank, ENTITY, 1); // h6 application 2
      f.record(OTHER, 5); // h7
      f.apply(bank, OTHER, 1); // h8 application 1 of OTHER
      f.decide(regulator, ENTITY, 2, true); // h9

      const standing = f.c.query("credit", "standing", { entityId: ENTITY }, null);
      assert.deepEqual(standing, {
        entityId: ENTITY,
        account: firm.address,
        score: 95,
        grade: "A",
        penalty: 5,
        active: 1,
        repaired: 1,
        events: 2,
        applications: 2,
        updatedAt: 9,
      });
      assert.throws(
        () => f.c.query("credit", "standing", { entityId: "NOBODY" }, null),
        (e: unknown) => e instanceof TallyError && e.code === "NO_SUCH_ENTITY",
      );
      assert.throws(
        () => f.c.query("credit", "standing", { entityId: "a/b" }, null),
        (e: unknown) => e instanceof TallyError && e.code === "BAD_ARGS",
      );

      type Item = { seq: number; type: string; id: number; status: string; decidedAt?: number | null };
      type Page = { items: Item[]; next: number | null; score: number };
      const page = f.c.query("credit", "history", { entityId: ENTITY }, null) as unknown as Page;
      assert.equal(page.score, 95);
      assert.deepEqual(
        page.items.map((i) => [i.seq, i.type, i.id, i.status]),
        [
          [1, "event", 1, "repaired"],
          [2, "application", 1, "rejected"],
          [3, "event", 2, "active"],
          [4, "application", 2, "approved"],
        ],
      );
      assert.equal(page.items[1]?.decidedAt, 5);
      assert.equal(page.next, null);
      const first = f.c.query("credit", "history", { entityId: ENTITY, limit: 3 }, stranger) as unknown as Page;
      assert.deepEqual(
        first.items.map((i) => i.seq),
        [1, 2, 3],
      );
      assert.equal(first.next, 3);
      const rest = f.c.query("credit", "history", { entityId: ENTITY, after: 3, limit: 3 }, null) as unknown as Page;
      assert.deepEqual(
        rest.items.map((i) => i.seq),
        [4],
      );
      assert.equal(rest.next, null);
      for (const limit of [0, 1001]) {
        assert.throws(
          () => f.c.query("credit", "history", { entityId: ENTITY, limit }, null),
          (e: unknown) => e instanceof TallyError && e.code === "BAD_ARGS",
        );
      }
      assert.throws(
        () => f.c.query("credit", "history", { entityId: OTHER.toLowerCase() }, null),
        (e: unknown) => e instanceof TallyError && e.code === "NO_SUCH_ENTITY",
      );

      // Open applications: regulators only, signed.
      assert.throws(
        () => f.c.query("credit", "applications", {}, null),
        (e: unknown) => e instanceof TallyError && e.code === "UNAUTHENTICATED",
      );
      for (const who of [bank, firm]) {
        assert.throws(
          () => f.c.query("credit", "applications", {}, who),
          (e: unknown) => e instanceof TallyError && e.code === "FORBIDDEN",
        );
      }
      f.apply(firm, ENTITY, 2); // h10 application 3, open
      type Open = { items: Array<{ entityId: string; id: number; eventId: number; status: string }>; next: string | null };
      const open = f.c.query("credit", "applications", {}, regulator) as unknown as Open;
      assert.deepEqual(
        open.items.map((i) => [i.entityId, i.id, i.eventId, i.status]),
        [
          [ENTITY, 3, 2, "open"],
          [OTHER, 1, 1, "open"],
        ],
      );
      const one = f.c.query("credit", "applications", { limit: 1 }, regulator) as unknown as Open;
      assert.equal(one.items.length, 1);
      assert.ok(one.next);
      const two = f.c.query("credit", "applications", { limit: 1, after: one.next }, regulator) as unknown as Open;
      assert.equal(two.items.length, 1);
      assert.notEqual(two.items[0]?.entityId, one.items[0]?.entityId);
      assert.throws(
        () => f.c.query("credit", "applications", { after: "no-cursor" }, regulator),
        (e: unknown) => e instanceof TallyError && e.code === "BAD_ARGS",
      );
    });

    test("the stored standing always equals the rule over the history (random operations)", () => {
      const f = fixture();
      const random = seededRandom(suiteId === "sm2" ? 7 : 11);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
      const entities = ["E1", "E2", "E3"];
      for (const e of entities) f.ok(regulator, "link-entity", { entityId: e, account: firm.address });
      for (let i = 0; i < 60; i++) {
        const e = pick(entities);
        const entity = decodeCreditEntity(f.c.state.read(creditEntityKey(e)) as Uint8Array);
        const op = random();
        if (op < 0.4 || entity.events === 0) {
          f.record(e, 1 + Math.floor(random() * 5));
        } else if (op < 0.7) {
          const eventId = 1 + Math.floor(random() * entity.events);
          const r = f.c.call(pick([firm, bank]), "credit", "apply-repair", {
            entityId: e,
            eventId,
            reason: "r",
            evidenceDigest: digest("r"),
          });
          const ev = f.event(e, eventId);
          assert.ok(r.status === "ok" || ["REPAIR_PENDING", "EVENT_REPAIRED"].includes(r.code ?? ""), `${r.code}`);
          if (r.status === "ok") assert.equal(ev.openApplication, entity.applications + 1);
        } else if (entity.applications > 0) {
          const applicationId = 1 + Math.floor(random() * entity.applications);
          const r = f.c.call(regulator, "credit", "decide-repair", { entityId: e, applicationId, approve: random() < 0.6, note: "" });
          assert.ok(r.status === "ok" || r.code === "APPLICATION_DECIDED", `${r.code}`);
        }
        for (const x of entities) f.checkStanding(x);
      }
    });
  });
}
