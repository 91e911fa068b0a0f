/**
 * `tally contract test DIR`: builds the contract, bundles each test file (DIR/test/**\/*.test.ts) for
 * Node and runs them with Node's test runner. Tests import `@tally/contract/testing`, which is resolved to
 * this CLI's copy: a ContractTestChain running the node's real engine and modules, so the contract
 * executes in the same QuickJS sandbox, with the same gas and limits, as on a node.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { SuiteId } from "@tally/core";
import { build, type Plugin } from "esbuild";
import { CommandFailure } from "../io.js";
import { type BuiltContract, buildContract, contractPackagePath } from "./build.js";

/** Also in @tally/contract/testing (CONTRACT_BUNDLE_ENV); repeated so the CLI does not load the test chain itself. */
const CONTRACT_BUNDLE_ENV = "TALLY_CONTRACT_BUNDLE";
const CONTRACT_DEPS_ENV = "TALLY_CONTRACT_DEPS";
const CONTRACT_CRYPTO_ENV = "TALLY_CONTRACT_CRYPTO";
const DEP_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * Other contract projects this one's tests deploy (`"tally": { "contracts": { name: "../dir" } }` in
 * its package.json), each built like this one; the test reads them with `contractCode(name)`.
 */
async function buildDependencies(root: string, suite: SuiteId): Promise<Record<string, string>> {
  const manifest = join(root, "package.json");
  if (!existsSync(manifest)) return {};
  let pkg: { tally?: { contracts?: Record<string, unknown> } };
  try {
    pkg = JSON.parse(readFileSync(manifest, "utf8"));
  } catch {
    throw new CommandFailure(`${manifest} is not valid JSON`);
  }
  const out: Record<string, string> = {};
  for (const [name, dir] of Object.entries(pkg.tally?.contracts ?? {})) {
    if (!DEP_NAME_RE.test(name) || typeof dir !== "string")
      throw new CommandFailure(`package.json tally.contracts.${name} must name a directory`);
    const depRoot = resolve(root, dir);
    if (depRoot === root) throw new CommandFailure(`tally.contracts.${name} is this project itself`);
    out[name] = (await buildContract(depRoot, suite)).file;
  }
  return out;
}

/** Test files of a project, in path order: `*.test.ts` / `*.test.js` under DIR/test. */
export function findTestFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name === "node_modules" || name === "dist") continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.test\.(ts|js|mts|mjs)$/.test(name)) out.push(path);
    }
  };
  const testDir = join(root, "test");
  if (existsSync(testDir)) walk(testDir);
  return out;
}

/** Maps `@tally/contract` and `@tally/contract/testing` to this CLI's copy, left as imports (not bundled). */
function testingPlugin(): Plugin {
  return {
    name: "tally-contract-testing",
    setup(b) {
      b.onResolve({ filter: /^@tally\/contract(\/testing)?$/ }, (args) => ({
        path: pathToFileURL(contractPackagePath(args.path.endsWith("/testing") ? "/testing" : "")).href,
        external: true,
      }));
    },
  };
}

/**
 * Node flags this CLI runs with that the test process needs too (running from sources through tsx).
 * An `--import` of a package is resolved here, since the tests run with the project as working directory.
 */
function loaderFlags(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  const resolveImport = (spec: string) => (/^[@a-z]/.test(spec) ? import.meta.resolve(spec) : spec);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a.startsWith("--conditions=")) out.push(a);
    else if (a.startsWith("--import=")) out.push(`--import=${resolveImport(a.slice("--import=".length))}`);
    else if ((a === "--conditions" || a === "-C") && i + 1 < argv.length) out.push(a, argv[++i] as string);
    else if (a === "--import" && i + 1 < argv.length) out.push(a, resolveImport(argv[++i] as string));
  }
  return out;
}

export interface TestRun {
  readonly contract: BuiltContract;
  readonly files: readonly string[];
  readonly exitCode: number;
}

export async function runContractTests(dir: string, suite: SuiteId, options: { filter?: string } = {}): Promise<TestRun> {
  const root = resolve(dir);
  const contract = await buildContract(root, suite);
  const dependencies = await buildDependencies(root, suite);
  const sources = findTestFiles(root);
  if (sources.length === 0) throw new CommandFailure(`no tests in ${join(root, "test")} (files named *.test.ts)`);
  const outDir = join(root, "dist", "test");
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  for (const source of sources) {
    const out = join(
      outDir,
      `${relative(join(root, "test"), source)
        .replace(/[\\/]/g, "__")
        .replace(/\.(ts|js|mts|mjs)$/, "")}.mjs`,
    );
    await build({
      entryPoints: [source],
      outfile: out,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      packages: "external",
      sourcemap: "inline",
      absWorkingDir: root,
      logLevel: "silent",
      plugins: [testingPlugin()],
    }).catch((err: unknown) => {
      const errors = (err as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }).errors ?? [];
      throw new CommandFailure(
        `cannot build ${basename(source)}:\n${errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text)).join("\n")}`,
      );
    });
    files.push(out);
  }
  const args = [...loaderFlags(), "--enable-source-maps", "--test", "--test-reporter=spec"];
  if (options.filter !== undefined) args.push(`--test-name-pattern=${options.filter}`);
  args.push(...files);
  // Run as a test runner of its own even when this CLI is itself run by one (which sets this variable
  // and would make the tests report to it in its wire format instead of printing).
  const { NODE_TEST_CONTEXT: _parent, ...env } = process.env;
  const exitCode = await new Promise<number>((resolveExit, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      stdio: "inherit",
      env: {
        ...env,
        [CONTRACT_BUNDLE_ENV]: contract.file,
        [CONTRACT_DEPS_ENV]: JSON.stringify(dependencies),
        [CONTRACT_CRYPTO_ENV]: suite,
      },
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => resolveExit(code ?? (signal === null ? 1 : 128)));
  });
  return { contract, files: sources, exitCode };
}
