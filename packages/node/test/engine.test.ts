import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AssertionFailure, accountKey, evidenceRecordKey, TallyError, type TxEnvelope, toHex, utf8 } from "@tally/core";
import { type BlockOutput, ExecutionEngine } from "../src/execution/engine.js";
import { defineMethod, type Module } from "../src/execution/module.js";
import { s } from "../src/execution/schema.js";
import { decodeAccount } from "../src/modules/accounts.js";
import { BUILTIN_MODULES } from "../src/modules/index.js";
import { digestOf, envelope, MemoryState, makeNet, notarize, outsider, SUITES, sign, type TestNet } from "./helpers.js";

const one = new Uint8Array([1]);
const keyArgs = s.object({ key: s.bytes() });

/** A test module that can write, delete, fail, crash, and has an admin-only method. */
const testModule: Module = {
  name: "probe",
  methods: {
    write: defineMethod({
      description: "writes key := 1",
      args: keyArgs,
      run(ctx, args) {
        ctx.set(args.key, one);
        ctx.emit("wrote", args.key);
        return { ok: true };
      },
    }),
    erase: defineMethod({
      description: "deletes key",
      args: keyArgs,
      run(ctx, args) {
        ctx.delete(args.key);
        return null;
      },
    }),
    refuse: defineMethod({
      description: "writes, emits, then refuses",
      args: keyArgs,
      run(ctx, args) {
        ctx.set(args.key, one);
        ctx.emit("wrote", args.key);
        throw new TallyError("FORBIDDEN", "refused on purpose", { reason: "test", n: 3 });
      },
    }),
    crash: defineMethod({
      description: "throws a non-TallyError (a bug)",
      args: s.object({}),
      run() {
        throw new Error("boom");
      },
    }),
    guarded: defineMethod({
      description: "admin only",
      args: s.object({}),
      roles: ["admin"],
      run(ctx) {
        ctx.set(utf8("probe/guarded"), one);
        return null;
      },
    }),
  },
};

/**
 * Exercises nested steps and acting as another module: `nested` writes, then tries a step that writes
 * and refuses (dropped), then one that writes into `probe` as that module (kept).
 */
function nestedModule(privileged: boolean): Module {
  return {
    name: "nest",
    privileged,
    methods: {
      nested: defineMethod({
        description: "outer write, refused inner step, inner step as probe",
        args: s.object({}),
        run(ctx) {
          ctx.set(utf8("nest/outer"), one);
          ctx.emit("outer", null);
          const refused = ctx.attempt(() => {
            ctx.set(utf8("nest/dropped"), one);
            ctx.emit("dropped", null);
            throw new TallyError("FORBIDDEN", "inner refusal");
          });
          const kept = ctx.attempt(() => {
            const probe = ctx.asModule("probe");
            probe.set(utf8("probe/by-nest"), one);
            probe.emit("written-by-nest", null);
            return 7;
          });
          return { refused: refused.ok ? "no" : refused.error.code, kept: kept.ok ? kept.value : -1 };
        },
      }),
    },
  };
}

/** Same code under a name that is a prefix of another module's name. */
const shortModule: Module = { name: "ev", methods: { write: testModule.methods.write as Module["methods"][string] } };

function setup(net: TestNet, modules: readonly Module[] = [...BUILTIN_MODULES, testModule]) {
  const engine = new ExecutionEngine(net.suite, net.chainId, modules);
  const state = new MemoryState();
  state.apply(engine.genesisState(net.genesis, state));
  const run = (txs: readonly TxEnvelope[], timeMs = 1_700_000_001_000): BlockOutput => {
    const out = engine.executeBlock({ height: state.height + 1, timeMs, prevStateRoot: state.root, txs }, state.read, state);
    state.apply(out);
    state.height++;
    return out;
  };
  const nonce = (address: string) => {
    const bytes = state.read(accountKey(address));
    assert.ok(bytes !== null, `account ${address} exists`);
    return decodeAccount(bytes).nonce;
  };
  return { engine, state, run, nonce };
}

function isInvariantFailure(pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof AssertionFailure, `expected an AssertionFailure, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  };
}

for (const suiteId of SUITES) {
  describe(`execution engine (${suiteId})`, () => {
    const net = makeNet(suiteId, { accounts: [{ name: "alice" }] });
    const admin = net.admin;
    const alice = net.accounts.alice;
    assert.ok(alice);
    const call = (who: typeof admin, nonce: number, method: string, args: Parameters<typeof sign>[5]) =>
      envelope(net, sign(net, who.key, nonce, "probe", method, args));

    test("a module writes and deletes under its own prefix", () => {
      const { run, state } = setup(net);
      const key = utf8("probe/k");
      const out = run([call(admin, 0, "write", { key })]);
      assert.equal(out.results[0]?.status, "ok");
      assert.deepEqual(out.stateWrites.map((w) => toHex(w.key)).sort(), [toHex(accountKey(admin.address)), toHex(key)].sort());
      assert.deepEqual(state.read(key), one);
      assert.deepEqual(out.results[0]?.events, [{ module: "probe", name: "wrote", data: key }]);
      const out2 = run([call(admin, 1, "erase", { key })]);
      assert.equal(out2.results[0]?.status, "ok");
      assert.equal(state.read(key), null);
      assert.notDeepEqual(out2.stateRoot.hash, out.stateRoot.hash);
    });

    test("writing or deleting outside the module's namespace is an invariant failure, not a failed result", () => {
      const outside = [
        accountKey(admin.address), // privilege escalation: rewrite an account record
        evidenceRecordKey(digestOf(net, "forged")),
        utf8("probe"), // the name without the separator
        utf8("probe/"), // the bare prefix
        utf8("probex/a"),
        utf8("prob/a"),
        new Uint8Array(0),
      ];
      for (const key of outside) {
        const { run } = setup(net);
        assert.throws(() => run([call(admin, 0, "write", { key })]), isInvariantFailure(/module probe wrote outside its namespace/));
        const again = setup(net);
        assert.throws(() => again.run([call(admin, 0, "erase", { key })]), isInvariantFailure(/outside its namespace/));
      }
    });

    test("attempt keeps a step that returns and drops one that refuses; asModule writes as the other module", () => {
      const { run, state } = setup(net, [...BUILTIN_MODULES, testModule, nestedModule(true)]);
      const out = run([envelope(net, sign(net, admin.key, 0, "nest", "nested", {}))]);
      const result = out.results[0];
      assert.equal(result?.status, "ok", result?.message ?? "");
      assert.deepEqual(result?.value, { refused: "FORBIDDEN", kept: 7 });
      assert.deepEqual(state.read(utf8("nest/outer")), one);
      assert.equal(state.read(utf8("nest/dropped")), null);
      assert.deepEqual(state.read(utf8("probe/by-nest")), one);
      assert.deepEqual(
        result?.events.map((e) => `${e.module}.${e.name}`),
        ["nest.outer", "probe.written-by-nest"],
      );
    });

    test("only a privileged module may act as another", () => {
      const { run } = setup(net, [...BUILTIN_MODULES, testModule, nestedModule(false)]);
      assert.throws(() => run([envelope(net, sign(net, admin.key, 0, "nest", "nested", {}))]), isInvariantFailure(/not privileged/));
    });

    test("a module whose name prefixes another's cannot write into the other's keys", () => {
      const { run } = setup(net, [...BUILTIN_MODULES, shortModule]);
      const tx = envelope(net, sign(net, admin.key, 0, "ev", "write", { key: evidenceRecordKey(digestOf(net, "x")) }));
      assert.throws(() => run([tx]), isInvariantFailure(/module ev wrote outside its namespace/));
      const ok = setup(net, [...BUILTIN_MODULES, shortModule]);
      const own = envelope(net, sign(net, admin.key, 0, "ev", "write", { key: utf8("ev/x") }));
      assert.equal(ok.run([own]).results[0]?.status, "ok");
    });

    test("genesis initialisation is held to the same namespace rule", () => {
      const rogue: Module = {
        name: "rogue",
        methods: {},
        initGenesis(ctx) {
          ctx.set(utf8("accounts/a/0000"), one);
        },
      };
      const engine = new ExecutionEngine(net.suite, net.chainId, [...BUILTIN_MODULES, rogue]);
      assert.throws(() => engine.genesisState(net.genesis, new MemoryState()), isInvariantFailure(/module rogue wrote outside/));
    });

    test("a refused call is a failed result: its writes and events are dropped, only the nonce advances", () => {
      const { run, state, nonce } = setup(net);
      const before = new Map(state.values);
      const key = utf8("probe/never");
      const tx = call(alice, 0, "refuse", { key });
      const out = run([tx]);
      assert.deepEqual(out.included, [tx]);
      assert.equal(out.results.length, 1);
      const result = out.results[0];
      assert.ok(result);
      assert.equal(result.status, "failed");
      assert.equal(result.code, "FORBIDDEN");
      assert.equal(result.message, "refused on purpose");
      assert.deepEqual(result.value, { reason: "test", n: 3 });
      assert.deepEqual(result.events, []);
      assert.deepEqual(result.txHash, tx.hash);
      assert.equal(state.read(key), null);
      assert.deepEqual(
        out.stateWrites.map((w) => toHex(w.key)),
        [toHex(accountKey(alice.address))],
      );
      assert.equal(nonce(alice.address), 1);
      // Nothing else changed.
      for (const [k, v] of before) if (k !== toHex(accountKey(alice.address))) assert.deepEqual(state.values.get(k), v);
      assert.equal(state.values.size, before.size);
      // The same account's next transaction in the next block runs normally.
      const next = run([call(alice, 1, "write", { key: utf8("probe/after") })]);
      assert.equal(next.results[0]?.status, "ok");
      assert.equal(nonce(alice.address), 2);
    });

    test("a failed call inside a block does not disturb the calls around it", () => {
      const { run, state, nonce } = setup(net);
      const txs = [
        call(admin, 0, "write", { key: utf8("probe/a") }),
        call(admin, 1, "refuse", { key: utf8("probe/b") }),
        call(admin, 2, "write", { key: utf8("probe/c") }),
      ];
      const out = run(txs);
      assert.deepEqual(
        out.results.map((r) => r.status),
        ["ok", "failed", "ok"],
      );
      assert.deepEqual(state.read(utf8("probe/a")), one);
      assert.equal(state.read(utf8("probe/b")), null);
      assert.deepEqual(state.read(utf8("probe/c")), one);
      assert.equal(nonce(admin.address), 3);
    });

    test("a method's required role is enforced at execution: FORBIDDEN failed result", () => {
      const { run, state, nonce } = setup(net);
      const out = run([call(alice, 0, "guarded", {}), call(admin, 0, "guarded", {})]);
      assert.equal(out.results[0]?.status, "failed");
      assert.equal(out.results[0]?.code, "FORBIDDEN");
      assert.deepEqual(out.results[0]?.value, { module: "probe", method: "guarded" });
      assert.equal(out.results[1]?.status, "ok");
      assert.deepEqual(state.read(utf8("probe/guarded")), one);
      assert.equal(nonce(alice.address), 1);
    });

    test("unknown module, unknown method and bad arguments at execution are failed results that still use the nonce", () => {
      const { run, nonce } = setup(net);
      const out = run([
        envelope(net, sign(net, admin.key, 0, "nope", "x", {})),
        envelope(net, sign(net, admin.key, 1, "evidence", "nope", {})),
        envelope(net, sign(net, admin.key, 2, "evidence", "notarize", { digest: new Uint8Array(3) })),
      ]);
      assert.deepEqual(
        out.results.map((r) => r.code),
        ["UNKNOWN_MODULE", "UNKNOWN_METHOD", "BAD_ARGS"],
      );
      assert.deepEqual(out.results[2]?.value, { field: "digest", expected: "32 bytes" });
      assert.equal(nonce(admin.address), 3);
    });

    test("an exception that is not a TallyError is a bug: it propagates instead of becoming a result", () => {
      const { run } = setup(net);
      assert.throws(() => run([call(admin, 0, "crash", {})]), /boom/);
    });

    test("unknown signers and wrong nonces are skipped: not included, no result, no state change", () => {
      const { run, state, nonce } = setup(net);
      const stranger = outsider(net, "engine");
      const before = new Map(state.values);
      const txs = [
        envelope(net, notarize(net, stranger.key, 0, "stranger")), // unknown signer
        envelope(net, notarize(net, admin.key, 1, "too-high")), // admin is at 0
        envelope(net, notarize(net, admin.key, 0, "ok-0")),
        envelope(net, notarize(net, admin.key, 0, "too-low")), // 0 was just used
        envelope(net, notarize(net, admin.key, 1, "ok-1")),
      ];
      const out = run(txs);
      assert.deepEqual(out.included, [txs[2], txs[4]]);
      assert.equal(out.results.length, 2);
      assert.deepEqual(
        out.skipped.map((sk) => [sk.tx, sk.reason.code, sk.reason.meta.expected, sk.reason.meta.got]),
        [
          [txs[0], "UNKNOWN_SIGNER", undefined, undefined],
          [txs[1], "NONCE_TOO_HIGH", 0, 1],
          [txs[3], "NONCE_TOO_LOW", 1, 0],
        ],
      );
      assert.equal(out.skipped[0]?.reason.meta.address, stranger.address);
      assert.equal(nonce(admin.address), 2);
      assert.equal(state.read(accountKey(stranger.address)), null);
      assert.equal(state.read(evidenceRecordKey(digestOf(net, "too-high"))), null);
      assert.equal(state.read(evidenceRecordKey(digestOf(net, "too-low"))), null);
      // Only admin's account and the two notarisations (record + index each) changed.
      assert.equal(state.values.size, before.size + 4);
    });

    test("execution is a pure function of its inputs", () => {
      const a = setup(net);
      const b = setup(net);
      assert.deepEqual(a.state.root, b.state.root);
      const txs = [envelope(net, notarize(net, admin.key, 0, "p")), call(alice, 0, "refuse", { key: utf8("probe/z") })];
      const outA = a.run(txs, 1_700_000_123_000);
      const outB = b.run(txs, 1_700_000_123_000);
      assert.deepEqual(outA.stateRoot, outB.stateRoot);
      assert.deepEqual(outA.resultBytes, outB.resultBytes);
      assert.deepEqual(outA.stateWrites, outB.stateWrites);
      assert.deepEqual(outA.smtNodes, outB.smtNodes);
      // Block time is part of the state (the evidence record), so another time gives another root.
      const c = setup(net);
      assert.notDeepEqual(c.run(txs, 1_700_000_124_000).stateRoot.hash, outA.stateRoot.hash);
    });
  });
}
