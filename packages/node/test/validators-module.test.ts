import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type Equivocation,
  encodeEquivocation,
  type Genesis,
  type KeyPair,
  LIMITS,
  loadGenesis,
  type SignedVote,
  type TxEnvelope,
  toHex,
  type ValidatorSet,
  type Value,
  voteSignBytes,
} from "@tally/core";
import { PROPOSER_TOTAL_POWER_MAX } from "../src/consensus/proposer.js";
import { type BlockOutput, ExecutionEngine } from "../src/execution/engine.js";
import { BUILTIN_MODULES, governanceModule } from "../src/modules/index.js";
import {
  getMisbehaviour,
  listMisbehaviour,
  type MisbehaviourRecord,
  misbehaviourKey,
  scheduledValidatorSet,
  VALIDATORS_MODULE,
  validatorEpoch,
  validatorEpochCount,
  validatorSetAt,
  validatorSetChanges,
  validatorsModule,
} from "../src/modules/validators.js";
import { envelope, MemoryState, makeNet, openChain, SUITES, sign, type TestAccount, type TestNet, tempDir, testKey } from "./helpers.js";

/** `net` with another genesis validator list (keys by label, powers). */
function withValidators(net: TestNet, validators: ReadonlyArray<{ key: KeyPair; power: number }>): TestNet {
  const doc = { ...net.doc, validators: validators.map((v, i) => ({ name: `v${i}`, publicKey: toHex(v.key.publicKey), power: v.power })) };
  return { ...net, doc, genesis: loadGenesis(doc) };
}

function setup(net: TestNet, genesis: Genesis = net.genesis) {
  const engine = new ExecutionEngine(net.suite, net.chainId, BUILTIN_MODULES);
  const state = new MemoryState();
  state.apply(engine.genesisState(genesis, state));
  const nonces = new Map<string, number>();
  const tx = (who: TestAccount, method: string, args: Value): TxEnvelope => {
    const nonce = nonces.get(who.address) ?? 0;
    nonces.set(who.address, nonce + 1);
    return envelope(net, sign(net, who.key, nonce, VALIDATORS_MODULE, method, args));
  };
  /**
   * A validator change: a governance `setValidator` proposal. These nets have one organisation, so a
   * proposal by its admin passes and executes in its own transaction.
   */
  const change = (who: TestAccount, args: Record<string, Value>): TxEnvelope => {
    const nonce = nonces.get(who.address) ?? 0;
    nonces.set(who.address, nonce + 1);
    return envelope(net, sign(net, who.key, nonce, "governance", "propose", { action: { kind: "setValidator", ...args } }));
  };
  const run = (txs: readonly TxEnvelope[]): BlockOutput => {
    const out = engine.executeBlock(
      { height: state.height + 1, timeMs: 1_700_000_001_000 + state.height, prevStateRoot: state.root, txs },
      state.read,
      state,
    );
    state.apply(out);
    state.height++;
    return out;
  };
  const setAt = (height: number) => validatorSetAt(net.suite, state.read, height);
  const scheduled = () => scheduledValidatorSet(net.suite, state.read);
  return { engine, state, tx, change, run, setAt, scheduled };
}

function powers(set: ValidatorSet): Record<string, number> {
  return Object.fromEntries(set.validators.map((v) => [toHex(v.publicKey), v.power]));
}

const hex = (k: KeyPair) => toHex(k.publicKey);

/** Two conflicting signed votes of `key` (index `validator` in the set of `height`). */
function equivocation(
  net: TestNet,
  key: KeyPair,
  validator: number,
  height: number,
  options: { round?: number; kind?: SignedVote["kind"]; hashes?: [Uint8Array | null, Uint8Array | null]; chainId?: string } = {},
): Equivocation {
  const [h1, h2] = options.hashes ?? [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];
  const vote = (blockHash: Uint8Array | null): SignedVote => {
    const body = { kind: options.kind ?? "precommit", height, round: options.round ?? 0, blockHash } as const;
    return { ...body, validator, signature: net.suite.sign(key.privateKey, voteSignBytes(options.chainId ?? net.chainId, body)) };
  };
  return { first: vote(h1), second: vote(h2) };
}

const report = (e: Equivocation) => ({ evidence: toHex(encodeEquivocation(e)) });

for (const suiteId of SUITES) {
  describe(`validators module: set (${suiteId})`, () => {
    const net = makeNet(suiteId, { accounts: [{ name: "alice" }] });
    const admin = net.admin;
    const alice = net.accounts.alice as TestAccount;
    const v0 = net.validator;
    const x = testKey(net.suite, "validators/x");
    const y = testKey(net.suite, "validators/y");

    test("genesis schedules the genesis set as epoch 0 from height 1", () => {
      const { state, setAt, scheduled } = setup(net);
      assert.equal(toHex(scheduled().hash), toHex(net.genesis.validators.hash));
      assert.equal(validatorEpochCount(state.read), 1);
      const epoch = validatorEpoch(net.suite, state.read, 0);
      assert.equal(epoch.fromHeight, 1);
      for (const h of [1, 2, 1_000]) assert.equal(toHex(setAt(h).hash), toHex(net.genesis.validators.hash));
      assert.deepEqual(validatorSetChanges(net.suite, state.read, 1_000), []);
    });

    test("add, change power and remove take effect two heights after their block", () => {
      const { change, run, setAt, scheduled, state } = setup(net);
      const add = run([change(admin, { publicKey: hex(x), power: 5 })]);
      const result = add.results[0];
      assert.equal(result?.status, "ok", result?.message ?? "");
      // The proposal's receipt carries the validators module's own event.
      const event = result?.events.find((e) => e.module === VALIDATORS_MODULE);
      assert.equal(event?.name, "changed");
      const data = event?.data as Record<string, Value>;
      assert.equal(data.effectiveHeight, 3);
      assert.equal(data.power, 5);
      assert.equal(data.previousPower, 0);
      assert.deepEqual(powers(scheduled()), { [hex(v0)]: 1, [hex(x)]: 5 });
      assert.deepEqual(powers(setAt(2)), { [hex(v0)]: 1 });
      assert.deepEqual(powers(setAt(3)), { [hex(v0)]: 1, [hex(x)]: 5 });

      const reweight = run([change(admin, { publicKey: hex(x), power: 7 })]);
      assert.equal(reweight.results[0]?.status, "ok");
      const changed = reweight.results[0]?.events.find((e) => e.module === VALIDATORS_MODULE);
      assert.ok(changed);
      assert.equal((changed.data as Record<string, Value>).effectiveHeight, 4);
      assert.deepEqual(powers(setAt(3)), { [hex(v0)]: 1, [hex(x)]: 5 });
      assert.deepEqual(powers(setAt(4)), { [hex(v0)]: 1, [hex(x)]: 7 });

      const remove = run([change(admin, { publicKey: hex(v0), power: 0 })]);
      assert.equal(remove.results[0]?.status, "ok");
      assert.deepEqual(powers(setAt(4)), { [hex(v0)]: 1, [hex(x)]: 7 });
      assert.deepEqual(powers(setAt(5)), { [hex(x)]: 7 });
      assert.deepEqual(powers(setAt(99)), { [hex(x)]: 7 });

      // Epochs: genesis from 1, then 3, 4, 5; the scheduled set is always the last epoch's.
      assert.equal(validatorEpochCount(state.read), 4);
      assert.deepEqual(
        [0, 1, 2, 3].map((i) => validatorEpoch(net.suite, state.read, i).fromHeight),
        [1, 3, 4, 5],
      );
      assert.equal(toHex(scheduled().hash), toHex(setAt(5).hash));
      // The changes a receipt for block 4 must prove: blocks 2 and 3 certify set(3) and set(4).
      assert.deepEqual(
        validatorSetChanges(net.suite, state.read, 4).map((c) => [c.height, toHex(c.nextValidators.hash)]),
        [
          [2, toHex(setAt(3).hash)],
          [3, toHex(setAt(4).hash)],
        ],
      );
    });

    test("set(h) and nextValidatorsHash are known before block h executes", () => {
      const { change, run, setAt, scheduled } = setup(net);
      run([]);
      // After block 1 (state at height 1): set(3) is the scheduled set.
      assert.equal(toHex(scheduled().hash), toHex(setAt(3).hash));
      run([change(admin, { publicKey: hex(x), power: 2 })]); // block 2: changes set(4)
      assert.equal(toHex(setAt(3).hash), toHex(net.genesis.validators.hash));
      assert.equal(toHex(scheduled().hash), toHex(setAt(4).hash));
      assert.notEqual(toHex(setAt(4).hash), toHex(setAt(3).hash));
    });

    test("several changes in one block accumulate into one epoch", () => {
      const { change, run, setAt, state } = setup(net);
      const out = run([
        change(admin, { publicKey: hex(x), power: 2 }),
        change(admin, { publicKey: hex(y), power: 3 }),
        change(admin, { publicKey: hex(x), power: 4 }),
      ]);
      assert.deepEqual(
        out.results.map((r) => r.status),
        ["ok", "ok", "ok"],
      );
      assert.equal(validatorEpochCount(state.read), 2);
      assert.deepEqual(powers(setAt(3)), { [hex(v0)]: 1, [hex(x)]: 4, [hex(y)]: 3 });
    });

    test("changes that cancel out within a block leave no epoch", () => {
      const { change, run, setAt, scheduled, state } = setup(net);
      run([change(admin, { publicKey: hex(x), power: 2 })]); // epoch from 3
      const before = state.entriesUnder(`${VALIDATORS_MODULE}/`);
      const out = run([change(admin, { publicKey: hex(y), power: 1 }), change(admin, { publicKey: hex(y), power: 0 })]);
      assert.deepEqual(
        out.results.map((r) => r.status),
        ["ok", "ok"],
      );
      assert.deepEqual(state.entriesUnder(`${VALIDATORS_MODULE}/`), before);
      assert.equal(validatorEpochCount(state.read), 2);
      assert.equal(toHex(scheduled().hash), toHex(setAt(3).hash));
      assert.equal(toHex(setAt(4).hash), toHex(setAt(3).hash));
    });

    test("only a governance proposal changes the set; an account without a proposer role cannot propose", () => {
      const { change, run, state } = setup(net);
      const before = state.entriesUnder(`${VALIDATORS_MODULE}/`);
      const out = run([change(alice, { publicKey: hex(x), power: 1 })]);
      assert.equal(out.results[0]?.code, "FORBIDDEN");
      assert.deepEqual(state.entriesUnder(`${VALIDATORS_MODULE}/`), before);
    });

    test("every refusal has a typed code, leaves the module's state unchanged and is refused at admission too", () => {
      const overflowNet = withValidators(net, [{ key: v0, power: PROPOSER_TOTAL_POWER_MAX }]);
      const fullNet = withValidators(
        net,
        Array.from({ length: LIMITS.validatorsMax }, (_, i) => ({ key: testKey(net.suite, `full/${i}`), power: 1 })),
      );
      const cases: Array<[string, Record<string, Value>, string, TestNet?]> = [
        ["invalid key", { publicKey: "00".repeat(net.suite.publicKeyBytes), power: 1 }, "BAD_ARGS"],
        ["key of the wrong length", { publicKey: hex(x).slice(2), power: 1 }, "BAD_ARGS"],
        ["upper-case hex", { publicKey: hex(x).toUpperCase(), power: 1 }, "BAD_ARGS"],
        ["power above 2^40", { publicKey: hex(x), power: LIMITS.validatorPowerMax + 1 }, "BAD_ARGS"],
        ["negative power", { publicKey: hex(x), power: -1 }, "BAD_ARGS"],
        ["unknown field", { publicKey: hex(x), power: 1, note: "x" }, "BAD_ARGS"],
        ["removing a non-member", { publicKey: hex(x), power: 0 }, "NOT_FOUND"],
        ["unchanged power", { publicKey: hex(v0), power: 1 }, "BAD_ARGS"],
        ["removing the last validator", { publicKey: hex(v0), power: 0 }, "FORBIDDEN"],
        ["total power above the proposer's limit", { publicKey: hex(x), power: 1 }, "TOO_LARGE", overflowNet],
        ["more than validatorsMax validators", { publicKey: hex(x), power: 1 }, "TOO_LARGE", fullNet],
      ];
      assert.equal(validatorsModule.methods.set, undefined);
      const def = governanceModule.methods.propose;
      assert.ok(def?.precheck);
      for (const [name, args, code, variant] of cases) {
        const { change, run, state } = setup(variant ?? net, (variant ?? net).genesis);
        const before = state.entriesUnder(`${VALIDATORS_MODULE}/`);
        const out = run([change(admin, args)]);
        assert.equal(out.results[0]?.code, code, name);
        assert.deepEqual(out.results[0]?.events, [], name);
        assert.deepEqual(state.entriesUnder(`${VALIDATORS_MODULE}/`), before, name);
        let admission = "none";
        try {
          const proposal = { action: { kind: "setValidator", ...args } };
          def.precheck({ suite: net.suite, caller: admin.address, get: state.read }, def.args.parse(proposal, ""));
        } catch (err) {
          admission = (err as { code: string }).code;
        }
        assert.equal(admission, code, `${name} at admission`);
      }
    });

    test("the new set's genesis state is written by a real chain and readable through it", async () => {
      const dir = tempDir();
      const c = await openChain(net, dir.path);
      try {
        const set = scheduledValidatorSet(net.suite, (k) => c.chain.stateValue(k));
        assert.equal(toHex(set.hash), toHex(net.genesis.validators.hash));
      } finally {
        await c.close();
        dir.remove();
      }
    });
  });

  describe(`validators module: report-equivocation (${suiteId})`, () => {
    const base = makeNet(suiteId, { accounts: [{ name: "alice" }, { name: "bob" }] });
    const v1 = testKey(base.suite, "validators/v1");
    const net = withValidators(base, [
      { key: base.validator, power: 1 },
      { key: v1, power: 1 },
    ]);
    const admin = net.admin;
    const alice = net.accounts.alice as TestAccount;
    const bob = net.accounts.bob as TestAccount;
    const genesisSet = net.genesis.validators;
    const indexOf = (set: ValidatorSet, k: KeyPair) => set.validators.findIndex((v) => toHex(v.publicKey) === hex(k));
    const i1 = indexOf(genesisSet, v1);

    test("real evidence is recorded once, with everything needed to check it offline", () => {
      const { tx, run, state } = setup(net, net.genesis);
      run([]);
      run([]); // height 2 executed; the report goes in block 3
      const e = equivocation(net, v1, i1, 2, { round: 1 });
      const out = run([tx(alice, "report-equivocation", report(e))]);
      const result = out.results[0];
      assert.equal(result?.status, "ok", result?.message ?? "");
      assert.equal(result?.events[0]?.name, "equivocation");
      const id = { validator: v1.publicKey, height: 2, round: 1, kind: "precommit" as const };
      const record = getMisbehaviour(state.read, id) as MisbehaviourRecord;
      assert.ok(record);
      assert.equal(toHex(record.validator), hex(v1));
      assert.deepEqual([record.height, record.round, record.kind], [2, 1, "precommit"]);
      assert.deepEqual(record.blockHashes, [e.first.blockHash, e.second.blockHash]);
      assert.equal(toHex(record.evidence), report(e).evidence);
      assert.equal(record.reporter, alice.address);
      assert.equal(record.reportedHeight, 3);
      assert.equal(toHex(record.txHash), toHex(out.included[0]?.hash ?? new Uint8Array()));

      // Another pair of conflicting votes for the same validator, height, round and kind is a duplicate.
      const before = state.entriesUnder(`${VALIDATORS_MODULE}/`);
      const again = equivocation(net, v1, i1, 2, { round: 1, hashes: [null, new Uint8Array(32).fill(9)] });
      const dup = run([tx(bob, "report-equivocation", report(e)), tx(bob, "report-equivocation", report(again))]);
      assert.deepEqual(
        dup.results.map((r) => r.code),
        ["MISBEHAVIOUR_EXISTS", "MISBEHAVIOUR_EXISTS"],
      );
      assert.equal((dup.results[0]!.value as Record<string, Value>).reportedHeight, 3);
      assert.deepEqual(state.entriesUnder(`${VALIDATORS_MODULE}/`), before);
      const def = validatorsModule.methods["report-equivocation"];
      assert.throws(
        () => def?.precheck?.({ suite: net.suite, caller: bob.address, get: state.read }, report(e)),
        (err: { code?: string }) => err.code === "MISBEHAVIOUR_EXISTS",
      );

      // The same step at another round or kind is a different misbehaviour.
      const prevote = equivocation(net, v1, i1, 2, { round: 1, kind: "prevote" });
      assert.equal(run([tx(bob, "report-equivocation", report(prevote))]).results[0]?.status, "ok");
    });

    test("forged, same-block, future, mismatched and malformed evidence is refused without any write", () => {
      const { tx, run, state } = setup(net, net.genesis);
      run([]);
      run([]);
      const good = equivocation(net, v1, i1, 2);
      const flip = (sig: Uint8Array) => {
        const out = Uint8Array.from(sig);
        out[0] = (out[0] as number) ^ 1;
        return out;
      };
      const otherIndex = 1 - i1;
      const cases: Array<[string, Value, string]> = [
        ["forged signature", report({ ...good, second: { ...good.second, signature: flip(good.second.signature) } }), "BAD_EVIDENCE"],
        [
          "votes for the same block",
          report(equivocation(net, v1, i1, 2, { hashes: [new Uint8Array(32), new Uint8Array(32)] })),
          "BAD_EVIDENCE",
        ],
        ["both nil", report(equivocation(net, v1, i1, 2, { hashes: [null, null] })), "BAD_EVIDENCE"],
        ["height in the future", report(equivocation(net, v1, i1, 50)), "BAD_EVIDENCE"],
        [
          "votes signed for another height than they claim",
          report({ first: { ...good.first, height: 1 }, second: { ...good.second, height: 1 } }),
          "BAD_EVIDENCE",
        ],
        ["votes of different heights", report({ ...good, second: equivocation(net, v1, i1, 1).second }), "BAD_EVIDENCE"],
        ["signed by another validator than the index names", report(equivocation(net, v1, otherIndex, 2)), "BAD_EVIDENCE"],
        ["index outside the set", report(equivocation(net, v1, 2, 2)), "BAD_EVIDENCE"],
        ["signed for another chain", report(equivocation(net, v1, i1, 2, { chainId: "other-chain" })), "BAD_EVIDENCE"],
        ["undecodable bytes", { evidence: "00ff" }, "BAD_EVIDENCE"],
        ["not hex", { evidence: "zz" }, "BAD_ARGS"],
        ["empty", { evidence: "" }, "BAD_ARGS"],
        ["too large", { evidence: "00".repeat(LIMITS.equivocationBytesMax + 1) }, "BAD_ARGS"],
      ];
      for (const [name, args, code] of cases) {
        const before = state.entriesUnder(`${VALIDATORS_MODULE}/`);
        const out = run([tx(alice, "report-equivocation", args)]);
        assert.equal(out.results[0]?.code, code, name);
        assert.deepEqual(state.entriesUnder(`${VALIDATORS_MODULE}/`), before, name);
      }
      // The genuine one still goes through afterwards.
      assert.equal(run([tx(alice, "report-equivocation", report(good))]).results[0]?.status, "ok");
    });

    test("evidence is checked against the set of its own height, across changes", () => {
      const { tx, change, run, setAt } = setup(net, net.genesis);
      const z = testKey(net.suite, "validators/z");
      run([change(admin, { publicKey: hex(z), power: 1 })]); // block 1: set(3) gains z
      run([]);
      run([]);
      const set3 = setAt(3);
      const iz = indexOf(set3, z);
      // At height 2, z is not a member: whatever index it claims names someone else or no one.
      for (const index of [iz, indexOf(genesisSet, v1), 2]) {
        assert.equal(run([tx(alice, "report-equivocation", report(equivocation(net, z, index, 2)))]).results[0]?.code, "BAD_EVIDENCE");
      }
      // At height 3 it is, under its index in set(3).
      assert.equal(run([tx(alice, "report-equivocation", report(equivocation(net, z, iz, 3)))]).results[0]?.status, "ok");
      // v1's index differs between the two sets when z sorts before it; either way, its own set decides.
      const v1At3 = indexOf(set3, v1);
      assert.equal(run([tx(alice, "report-equivocation", report(equivocation(net, v1, v1At3, 3)))]).results[0]?.status, "ok");
      assert.equal(run([tx(alice, "report-equivocation", report(equivocation(net, v1, i1, 1)))]).results[0]?.status, "ok");
    });

    test("listing in commit order, per validator, stopping at the durable height, with confined cursors", () => {
      const { tx, run, state } = setup(net, net.genesis);
      const i0 = indexOf(genesisSet, net.validator);
      run([]);
      run([
        tx(alice, "report-equivocation", report(equivocation(net, v1, i1, 1, { round: 0 }))),
        tx(alice, "report-equivocation", report(equivocation(net, net.validator, i0, 1, { round: 0 }))),
      ]);
      run([tx(bob, "report-equivocation", report(equivocation(net, v1, i1, 1, { round: 5 })))]);
      const summary = (rs: readonly MisbehaviourRecord[]) =>
        rs.map((r) => `${toHex(r.validator).slice(0, 8)}/${r.round}@${r.reportedHeight}`);
      const tag = (k: KeyPair, round: number, at: number) => `${hex(k).slice(0, 8)}/${round}@${at}`;

      const all = listMisbehaviour(state.read, state.scan, { limit: 10, durableHeight: 3 });
      assert.deepEqual(summary(all.records), [tag(v1, 0, 2), tag(net.validator, 0, 2), tag(v1, 5, 3)]);
      assert.equal(all.next, null);

      const page1 = listMisbehaviour(state.read, state.scan, { limit: 2, durableHeight: 3 });
      assert.equal(page1.records.length, 2);
      assert.ok(page1.next);
      const page2 = listMisbehaviour(state.read, state.scan, { limit: 2, durableHeight: 3, after: page1.next });
      assert.deepEqual(summary(page2.records), [tag(v1, 5, 3)]);

      // Not durable yet: the page ends before block 3's record.
      const durable2 = listMisbehaviour(state.read, state.scan, { limit: 10, durableHeight: 2 });
      assert.deepEqual(summary(durable2.records), [tag(v1, 0, 2), tag(net.validator, 0, 2)]);

      const mine = listMisbehaviour(state.read, state.scan, { validator: v1.publicKey, limit: 10, durableHeight: 3 });
      assert.deepEqual(summary(mine.records), [tag(v1, 0, 2), tag(v1, 5, 3)]);

      // A cursor from another list is refused.
      assert.throws(
        () =>
          listMisbehaviour(state.read, state.scan, {
            validator: net.validator.publicKey,
            limit: 10,
            durableHeight: 3,
            after: page1.next ?? undefined,
          }),
        (err: { code?: string }) => err.code === "BAD_REQUEST",
      );
      assert.equal(getMisbehaviour(state.read, { validator: v1.publicKey, height: 1, round: 1, kind: "precommit" }), null);
      assert.ok(state.read(misbehaviourKey({ validator: v1.publicKey, height: 1, round: 5, kind: "precommit" })));
    });
  });
}
