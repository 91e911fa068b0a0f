/**
 * `tally contract new NAME`: writes a contract project whose test passes under `tally contract test`.
 * The contract is a small owned counter: it shows state, the caller, events, `require` and `init`.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { CommandFailure } from "../io.js";

/** npm package names: lowercase, digits, '-', '.', '_'; the directory's name becomes the package's. */
const PACKAGE_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,213}$/;

/** Version of @tally/contract the template depends on (this repository's workspace). */
export const CONTRACT_API_VERSION = "0.1.0";

const CONTRACT_SOURCE = `/**
 * A counter with an owner. Every exported function is a method of the contract; \`init\` runs once at
 * deploy. State, the caller and events come from @tally/contract (docs/contracts.md).
 */
import { callerAccount, emit, require, state } from "@tally/contract";

export function init(args: { start?: number } | null): void {
  const start = args?.start ?? 0;
  require(Number.isSafeInteger(start) && start >= 0, "start must be a non-negative integer");
  state.set("owner", callerAccount().address);
  state.set("count", start);
}

/** Adds \`by\` (default 1) and returns the new count. */
export function increment(args: { by?: number } | null): number {
  const by = args?.by ?? 1;
  require(Number.isSafeInteger(by) && by > 0 && by <= 1000, "by must be an integer from 1 to 1000");
  const count = (state.get<number>("count") ?? 0) + by;
  state.set("count", count);
  emit("incremented", { by, count });
  return count;
}

export function get(): number {
  return state.get<number>("count") ?? 0;
}

/** Only the account that deployed the counter may reset it. */
export function reset(): void {
  require(callerAccount().address === state.get<string>("owner"), "only the owner may reset the counter");
  state.set("count", 0);
  emit("reset", null);
}
`;

const TEST_SOURCE = `import assert from "node:assert/strict";
import { test } from "node:test";
import { ContractTestChain } from "@tally/contract/testing";

test("counts, emits and keeps its owner", () => {
  const chain = new ContractTestChain({ accounts: [{ name: "bob" }] });
  // Deploys dist/contract.js, the bundle \`tally contract test\` has just built.
  const counter = chain.deploy(undefined, { initArgs: { start: 5 } });

  const result = counter.call("increment", { by: 2 });
  assert.equal(result.status, "ok");
  assert.equal(result.value, 7);
  assert.deepEqual(result.events.map((e) => e.name), ["incremented"]);
  assert.equal(counter.simulate("get"), 7);

  const refused = counter.call("reset", null, { from: "bob" });
  assert.equal(refused.status, "failed");
  assert.match(refused.message ?? "", /only the owner/);
  assert.equal(counter.simulate("get"), 7, "a failed call changes nothing");

  assert.equal(counter.call("reset").status, "ok");
  assert.equal(counter.simulate("get"), 0);
});

test("rejects bad arguments", () => {
  const chain = new ContractTestChain();
  const counter = chain.deploy();
  const bad = counter.call("increment", { by: -1 });
  assert.equal(bad.status, "failed");
  assert.match(bad.message ?? "", /by must be/);
});
`;

function packageJson(name: string): string {
  return `${JSON.stringify(
    {
      name,
      version: "0.1.0",
      private: true,
      type: "module",
      scripts: { build: "tally contract build .", test: "tally contract test ." },
      dependencies: { "@tally/contract": CONTRACT_API_VERSION },
      devDependencies: { "@types/node": "^20.19.0", typescript: "^5.9.0" },
    },
    null,
    2,
  )}\n`;
}

const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: "ES2020",
      lib: ["ES2020"],
      module: "ESNext",
      moduleResolution: "Bundler",
      strict: true,
      noUncheckedIndexedAccess: true,
      noEmit: true,
      skipLibCheck: true,
      types: ["node"],
    },
    include: ["src", "test"],
  },
  null,
  2,
)}\n`;

const README = (name: string) => `# ${name}

A Tally smart contract (docs/contracts.md in the Tally repository).

    tally contract test .                         # build, then run test/*.test.ts against an in-memory chain
    tally contract build .                        # dist/contract.js and its code hash
    tally contract deploy dist/contract.js --key KEY.json --rpc URL
    tally contract call ADDRESS increment '{"by":2}' --key KEY.json --rpc URL
`;

export interface NewProject {
  readonly dir: string;
  readonly files: string[];
}

export function newContractProject(path: string): NewProject {
  const dir = resolve(path);
  const name = basename(dir);
  if (!PACKAGE_NAME_RE.test(name)) {
    throw new CommandFailure(`the directory name ${JSON.stringify(name)} must be a valid npm package name (lowercase, digits, - . _)`);
  }
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new CommandFailure(`${dir} exists and is not empty`);
  const files: Array<[string, string]> = [
    ["package.json", packageJson(name)],
    ["tsconfig.json", TSCONFIG],
    [".gitignore", "node_modules\ndist\n"],
    ["README.md", README(name)],
    [join("src", "index.ts"), CONTRACT_SOURCE],
    [join("test", "index.test.ts"), TEST_SOURCE],
  ];
  for (const [file, text] of files) {
    mkdirSync(join(dir, file, ".."), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return { dir, files: files.map(([f]) => f) };
}
