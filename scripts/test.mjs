// Runs every test file with node's test runner (Node 20 has no glob support in --test).
// Unit tests run from TypeScript sources via tsx; end-to-end tests in test/ use the built CLI.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function collect(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (name === "node_modules" || name === "dist") continue;
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

const roots =
  process.argv.length > 2
    ? process.argv.slice(2)
    : ["packages/core/test", "packages/sdk/test", "packages/node/test", "packages/cli/test", "test"];
const files = roots.flatMap((r) => (r.endsWith(".ts") ? [r] : collect(r))).sort();
const result = spawnSync(
  process.execPath,
  ["--conditions=@tally/source", "--import", "tsx", "--test", "--test-reporter=spec", "--test-concurrency=2", ...files],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
