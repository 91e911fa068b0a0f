/**
 * `tally contract build DIR`: bundles a contract project's entry (src/index.ts) into one script,
 * DIR/dist/contract.js, in the form the chain's sandbox evaluates (spec/contracts.md §1):
 * an IIFE that defines `globalThis.__contract`, whose functions are the contract's exported methods.
 * Platform "neutral" means no Node built-ins: an import of `node:fs` fails the build, not the deploy.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { getSuite, LIMITS, type SuiteId, toHex, utf8 } from "@tally/core";
import { build, type Plugin } from "esbuild";
import { CommandFailure } from "../io.js";

/** The esbuild settings of the calling convention; ADR 011 says why each is what it is. */
export const CONTRACT_BUNDLE_OPTIONS = {
  bundle: true,
  format: "iife",
  globalName: "__contract",
  platform: "neutral",
  target: "es2020",
  charset: "utf8",
  legalComments: "none",
  minify: false,
  sourcemap: false,
  treeShaking: true,
} as const;

export const CONTRACT_ENTRY = join("src", "index.ts");
export const CONTRACT_BUNDLE = join("dist", "contract.js");

export interface BuiltContract {
  /** Absolute path of the bundle. */
  readonly file: string;
  readonly bytes: number;
  /** The chain's hash of the bundle's UTF-8 bytes (hex): what `contracts.deploy` records as codeHash. */
  readonly codeHash: string;
}

/** The chain's code hash of a contract bundle: the suite's hash of its UTF-8 bytes. */
export function codeHashOf(code: string, suite: SuiteId): string {
  return toHex(getSuite(suite).hash(utf8(code)));
}

/**
 * Where the CLI's own copy of `@tally/contract` (or a subpath) is. Contracts and their tests are built
 * against it rather than whatever the project installed, so the API in the bundle and the test chain
 * match this CLI's engine; the project's own dependency is there for the editor's types.
 */
export function contractPackagePath(subpath: "" | "/testing"): string {
  return fileURLToPath(import.meta.resolve(`@tally/contract${subpath}`));
}

/**
 * The TypeScript source of the CLI's `@tally/contract` (shipped with the package): always the source,
 * never tsc's output, so the bundle is the same whether this CLI runs built or from sources.
 */
export function contractApiSource(): string {
  const resolved = contractPackagePath("");
  const source = resolved.endsWith(".ts") ? resolved : join(dirname(resolved), "..", "..", "src", "index.ts");
  if (!existsSync(source)) throw new CommandFailure(`the @tally/contract sources are missing (looked for ${source})`);
  return source;
}

/**
 * Resolves `@tally/contract` to the CLI's copy, bundled in under a virtual path: esbuild writes each
 * module's path as a comment, and the real one would make the bundle (and its code hash) depend on
 * where this CLI is installed. With the virtual path the same project gives the same bytes anywhere.
 */
export function contractApiPlugin(): Plugin {
  return {
    name: "tally-contract-api",
    setup(b) {
      b.onResolve({ filter: /^@tally\/contract$/ }, () => ({ path: "@tally/contract", namespace: "tally" }));
      b.onLoad({ filter: /.*/, namespace: "tally" }, () => {
        const file = contractApiSource();
        return { contents: readFileSync(file, "utf8"), loader: "ts", resolveDir: dirname(file) };
      });
    },
  };
}

export async function buildContract(dir: string, suite: SuiteId): Promise<BuiltContract> {
  const root = resolve(dir);
  const entry = join(root, CONTRACT_ENTRY);
  if (!existsSync(entry)) throw new CommandFailure(`no contract entry at ${entry} (a contract project has src/index.ts)`);
  const result = await build({
    ...CONTRACT_BUNDLE_OPTIONS,
    entryPoints: [entry],
    absWorkingDir: root,
    write: false,
    logLevel: "silent",
    plugins: [contractApiPlugin()],
  }).catch((err: unknown) => {
    const errors = (err as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } | null }> }).errors;
    const lines = (errors ?? []).map((e) =>
      e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text,
    );
    throw new CommandFailure(`contract build failed:\n${lines.length > 0 ? lines.join("\n") : String(err)}`);
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new CommandFailure("esbuild produced no output");
  const code = output.text;
  const file = join(root, CONTRACT_BUNDLE);
  mkdirSync(join(root, "dist"), { recursive: true });
  // Rewrite only when changed, so a watcher (or `make`) does not see a fresh file for identical code.
  if (!existsSync(file) || readFileSync(file, "utf8") !== code) writeFileSync(file, code);
  const bytes = Buffer.byteLength(code, "utf8");
  // Checked here too so the developer learns it at build time rather than from a refused deploy.
  if (bytes > LIMITS.contractCodeBytesMax) {
    throw new CommandFailure(
      `${file} is ${bytes} bytes; a contract may be at most ${LIMITS.contractCodeBytesMax} (minify it, or split it into contracts)`,
    );
  }
  return { file, bytes, codeHash: codeHashOf(code, suite) };
}
