/**
 * Smart contracts end to end (docs/contracts.md): the developer toolchain (`tally contract new`, `test`,
 * `build`) on a fresh project and on the examples, then both examples deployed to a real node process
 * and exercised through the CLI and the SDK — the provenance registry along a supply chain, the escrow
 * over the token contract — with the code hash `build` printed matching the one the chain records.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { getSuite, type KeyPair } from "@tally/core";
import { AccountSigner, fromKeyFile, TallyClient, TallyError } from "@tally/sdk";
import { freePort, type NodeProcess, committedOk as ok, REPO, startNode, tally, tempDir } from "../helpers.js";

const EXAMPLES = join(REPO, "examples");

function buildJson(dir: string, suite: string): { file: string; bytes: number; codeHash: string } {
  const r = tally(["contract", "build", dir, "--crypto", suite]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe("contract toolchain", () => {
  const dir = tempDir("contract-new");
  after(() => dir.cleanup());

  test("tally contract new writes a project whose tests pass; a broken contract fails its tests", () => {
    const project = join(dir.path, "my-counter");
    const created = tally(["contract", "new", project]);
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual(JSON.parse(created.stdout).files.sort(), [
      ".gitignore",
      "README.md",
      "package.json",
      "src/index.ts",
      "test/index.test.ts",
      "tsconfig.json",
    ]);
    const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
    assert.equal(pkg.dependencies["@tally/contract"], "0.1.0");
    const run = tally(["contract", "test", project]);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /pass 2/);

    assert.equal(tally(["contract", "new", project]).code, 1, "refuses a non-empty directory");

    // The same project built twice, and from another directory, gives the same bytes and hash.
    const first = buildJson(project, "ed25519");
    const again = tally(["contract", "build", "."], { cwd: project });
    assert.equal(JSON.parse(again.stdout).codeHash, first.codeHash);
    assert.notEqual(buildJson(project, "sm2").codeHash, first.codeHash, "sm2 names code with SM3");

    // A contract that breaks its own test: the runner exits non-zero.
    const src = join(project, "src", "index.ts");
    const text = readFileSync(src, "utf8").replace(
      'const count = (state.get<number>("count") ?? 0) + by;',
      'const count = (state.get<number>("count") ?? 0) + by + 1;',
    );
    assert.ok(text.includes("+ by + 1"));
    writeFileSync(src, text);
    const failing = tally(["contract", "test", project]);
    assert.notEqual(failing.code, 0);
    assert.match(failing.stdout, /fail 1/);

    // A Node built-in cannot be bundled into a contract.
    writeFileSync(
      src,
      `import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";\nexport function f() { return readFileSync("x").length; }\n`,
    );
    const refused = tally(["contract", "build", project]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /contract build failed/);
  });

  test("bad input to the toolchain: a clean message, exit 1, nothing written", () => {
    const refuse = (args: string[], pattern: RegExp) => {
      const r = tally(args);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}`);
      assert.match(r.stderr, pattern);
    };
    refuse(["contract", "new", join(dir.path, "Bad Name")], /valid npm package name/);
    assert.equal(existsSync(join(dir.path, "Bad Name")), false);
    const empty = join(dir.path, "empty");
    mkdirSync(empty);
    refuse(["contract", "build", empty], /no contract entry/);
    assert.equal(existsSync(join(empty, "dist")), false);
    mkdirSync(join(empty, "src"));
    writeFileSync(join(empty, "src", "index.ts"), "export function f(): number { return 1; }\n");
    refuse(["contract", "test", empty], /no tests in/);
    writeFileSync(join(empty, "src", "index.ts"), "export function f(: number { return 1; }\n");
    refuse(["contract", "build", empty], /contract build failed:\n.*src\/index.ts:1/);
    writeFileSync(
      join(empty, "src", "index.ts"),
      `export const big = "${"x".repeat(60 * 1024)}";\nexport function f() { return big.length; }\n`,
    );
    refuse(["contract", "build", empty], /a contract may be at most 57344/);
    refuse(["contract", "deploy", join(empty, "missing.js"), "--key", "k.json"], /no such file/);
    const badJson = tally(["contract", "call", "00".repeat(20), "m", "{not json", "--key", "k.json"]);
    assert.notEqual(badJson.code, 0);
    assert.match(badJson.stderr, /ARGS must be JSON/);
    const badGas = tally(["contract", "call", "00".repeat(20), "m", "--key", "k.json", "--gas", "-5"]);
    assert.notEqual(badGas.code, 0);
    assert.match(badGas.stderr, /--gas must be a positive integer/);
  });

  for (const example of ["token", "provenance", "escrow"]) {
    test(`examples/${example}: its tests pass under tally contract test`, () => {
      const run = tally(["contract", "test", join(EXAMPLES, example)]);
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /fail 0/);
    });
  }
});

for (const suite of ["ed25519", "sm2"] as const) {
  describe(`contracts on a node (${suite})`, () => {
    const dir = tempDir(`contracts-${suite}`);
    const net = join(dir.path, "net");
    const adminKey = join(net, "accounts", "admin.json");
    let node: NodeProcess;
    let client: TallyClient;
    let admin: AccountSigner;
    let rpc: string;

    before(async () => {
      const port = await freePort();
      assert.equal(tally(["init", net, "--crypto", suite, "--api-port", String(port)]).code, 0);
      node = await startNode(join(net, "node0"), `http://127.0.0.1:${port}`, join(dir.path, "node.log"));
      rpc = node.url;
      client = new TallyClient(node.url);
      admin = await AccountSigner.connect(client, fromKeyFile(JSON.parse(readFileSync(adminKey, "utf8"))));
    });

    after(async () => {
      await node.stop();
      dir.cleanup();
    });

    const register = async (roles: string[]): Promise<AccountSigner> => {
      const key: KeyPair = getSuite(suite).generateKeyPair();
      await admin.resync(); // the CLI signs with the same admin key
      ok(await admin.registerAccount(key.publicKey, "consortium", roles));
      return AccountSigner.connect(client, key);
    };

    test("docs/contracts.md: the template counter from tally contract new, deployed and called through the CLI and the SDK", async () => {
      const project = join(dir.path, "my-counter");
      assert.equal(tally(["contract", "new", project]).code, 0);
      const built = buildJson(project, suite);
      const deployed = tally(["contract", "deploy", built.file, "--key", adminKey, "--init-args", '{"start":5}', "--rpc", rpc]);
      assert.equal(deployed.code, 0, deployed.stderr);
      const address = JSON.parse(deployed.stdout).value.address as string;
      const viaCli = tally(["contract", "call", address, "increment", '{"by":2}', "--key", adminKey, "--rpc", rpc]);
      assert.equal(viaCli.code, 0, viaCli.stderr);
      assert.equal(JSON.parse(viaCli.stdout).value.value, 7);

      await admin.resync();
      const viaSdk = await admin.contracts.call<number>(address, "increment", { by: 2 });
      assert.equal(viaSdk.value.value, 9);
      assert.ok(viaSdk.events.some((e) => e.name === "incremented"));
      assert.equal((await client.contracts.simulate<number>(address, "get")).value, 9);
      assert.equal(await client.contracts.state<number>(address, "count"), 9);
      const info = await client.contracts.info(address);
      assert.equal(info?.codeHash, built.codeHash);
      assert.deepEqual(
        info?.versions.map((v) => v.version),
        [1],
      );
      await assert.rejects(admin.contracts.call(address, "increment", { by: -1 }), (err: unknown) => {
        return (
          err instanceof TallyError && err.code === "CONTRACT_ERROR" && /by must be/.test(err.message) && typeof err.meta.tx === "string"
        );
      });
      const cliState = tally(["contract", "state", address, "count", "--rpc", rpc]);
      assert.equal(JSON.parse(cliState.stdout).value.value, "9");
      const cliInfo = tally(["contract", "info", address, "--rpc", rpc]);
      assert.equal(JSON.parse(cliInfo.stdout).value.deployer, admin.address);
    });

    test("provenance: deployed with the CLI, used through the SDK and the CLI", async () => {
      const built = buildJson(join(EXAMPLES, "provenance"), suite);
      const deployed = tally(["contract", "deploy", built.file, "--key", adminKey, "--rpc", rpc]);
      assert.equal(deployed.code, 0, deployed.stderr);
      const receipt = JSON.parse(deployed.stdout);
      assert.equal(receipt.status, "ok");
      const { address, codeHash, version } = receipt.value;
      assert.equal(codeHash, built.codeHash, "the chain records the hash tally contract build printed");
      assert.equal(version, 1);
      const info = await client.contracts.info(address);
      assert.equal(info?.codeHash, built.codeHash);
      assert.equal(info?.deployer, admin.address);
      assert.equal(await client.contracts.code(built.codeHash), readFileSync(built.file, "utf8"));

      const farm = await register([]);
      const carrier = await register([]);
      const authorized = tally(["contract", "call", address, "authorize", '{"org":"consortium"}', "--key", adminKey, "--rpc", rpc]);
      assert.equal(authorized.code, 0, authorized.stderr);
      assert.equal(JSON.parse(authorized.stdout).events[0].name, "authorized");

      const reg = await farm.contracts.call<{ holder: string; steps: number }>(address, "register", {
        id: "lot-7",
        product: "green coffee",
        location: "Huila",
        digest: "ab".repeat(32),
      });
      assert.equal(reg.value.value.holder, farm.address);
      assert.ok(reg.value.gasUsed > 0);
      await farm.contracts.call(address, "handOver", { id: "lot-7", to: carrier.address, toOrg: "consortium", location: "Neiva" });
      await carrier.contracts.call(address, "deliver", { id: "lot-7", location: "Rotterdam" });

      const history = await client.contracts.simulate<{ steps: Array<{ kind: string; by: string }> }>(address, "history", { id: "lot-7" });
      assert.deepEqual(
        history.value.steps.map((s) => s.kind),
        ["register", "handover", "deliver"],
      );
      assert.equal(history.value.steps[2]?.by, carrier.address);
      const stored = await client.contracts.state<{ status: string; holder: string }>(address, "item/lot-7");
      assert.equal(stored?.status, "delivered");
      assert.equal(stored?.holder, carrier.address);

      // A failed call is committed with its reason, changes nothing, and the CLI exits 1 printing the receipt.
      await assert.rejects(
        carrier.contracts.call(address, "checkpoint", { id: "lot-7", location: "Amsterdam" }),
        (err: unknown) => err instanceof TallyError && err.code === "CONTRACT_ERROR" && /delivered and closed/.test(err.message),
      );
      const cliFail = tally([
        "contract",
        "call",
        address,
        "register",
        '{"id":"lot-7","product":"x","location":"y"}',
        "--key",
        adminKey,
        "--rpc",
        rpc,
      ]);
      assert.equal(cliFail.code, 1);
      assert.equal(JSON.parse(cliFail.stdout).status, "failed");
      assert.match(cliFail.stderr, /already registered/);
      const simulated = tally(["contract", "simulate", address, "item", '{"id":"lot-7"}', "--rpc", rpc]);
      assert.equal(simulated.code, 0, simulated.stderr);
      assert.equal(JSON.parse(simulated.stdout).value.value.steps, 3);
    });

    test("escrow over the token contract: deployed and settled through the SDK", async () => {
      const buyer = await register(["contract-deployer"]);
      const seller = await register([]);
      const arbiter = await register([]);
      const token = await buyer.contracts.deploy(readFileSync(buildJson(join(EXAMPLES, "token"), suite).file, "utf8"), {
        initArgs: { symbol: "EUR", supply: 1_000_000 },
      });
      const escrow = await buyer.contracts.deploy(readFileSync(buildJson(join(EXAMPLES, "escrow"), suite).file, "utf8"));
      const tokenAddr = token.value.address;
      const escrowAddr = escrow.value.address;
      const balance = async (address: string) => (await client.contracts.simulate<number>(tokenAddr, "balanceOf", { address })).value;

      await buyer.contracts.call(tokenAddr, "approve", { spender: escrowAddr, amount: 250_000 });
      const status = await client.status();
      const opened = await buyer.contracts.call(escrowAddr, "open", {
        id: "po-1",
        token: tokenAddr,
        seller: seller.address,
        arbiters: [arbiter.address],
        threshold: 2,
        amount: 250_000,
        deadlineMs: status.latestTimeMs + 86_400_000,
      });
      assert.ok(
        opened.events.some((e) => e.name === "transfer"),
        "the token's transferFrom ran inside the escrow's call",
      );
      assert.equal(await balance(escrowAddr), 250_000);
      await buyer.contracts.call(escrowAddr, "vote", { id: "po-1", decision: "release" });
      assert.equal(await balance(seller.address), 0, "one vote of two");
      const settled = await arbiter.contracts.call<{ status: string }>(escrowAddr, "vote", { id: "po-1", decision: "release" });
      assert.equal(settled.value.value.status, "released");
      assert.equal(await balance(seller.address), 250_000);
      assert.equal(await balance(buyer.address), 750_000);
      assert.equal(await balance(escrowAddr), 0);

      // Out of gas: the call fails with OUT_OF_GAS, the chain goes on, the balance is unchanged.
      await assert.rejects(
        buyer.contracts.call(tokenAddr, "transfer", { to: seller.address, amount: 1 }, { gasLimit: 1_000 }),
        (err: unknown) => {
          return err instanceof TallyError && err.code === "OUT_OF_GAS";
        },
      );
      assert.equal(await balance(seller.address), 250_000);
    });

    test("bad code is refused at deploy with a typed error", async () => {
      await assert.rejects(admin.contracts.deploy("var __contract = { f: function ( { };"), (err: unknown) => {
        return err instanceof TallyError && err.code === "CONTRACT_SYNTAX";
      });
      await admin.resync();
      const missing = await client.contracts.info("00".repeat(20));
      assert.equal(missing, null);
    });
  });
}
