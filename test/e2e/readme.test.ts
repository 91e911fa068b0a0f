/**
 * The README's "Notarise a file and verify its receipt offline" snippet, run as written (against a
 * fresh network in a temporary directory instead of .tally/, and with its port), so the README stays true.
 */
import assert from "node:assert/strict";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { freePort, type NodeProcess, REPO, startNode, tally, tempDir } from "../helpers.js";

const dir = tempDir("readme");
let node: NodeProcess | undefined;
let rpc = "";

before(async () => {
  const port = await freePort();
  rpc = `http://127.0.0.1:${port}`;
  assert.equal(tally(["init", join(dir.path, ".tally"), "--api-port", String(port)]).code, 0);
  node = await startNode(join(dir.path, ".tally", "node0"), rpc, join(dir.path, "node.log"));
  copyFileSync(join(REPO, "README.md"), join(dir.path, "README.md"));
});

after(async () => {
  await node?.stop();
  dir.cleanup();
});

function snippet(): string[][] {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const section = readme.split("## Notarise a file and verify its receipt offline")[1];
  assert.ok(section, "README has the notarisation section");
  const block = section.split("```sh")[1]?.split("```")[0];
  assert.ok(block, "the section has a sh code block");
  return block
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("npx tally "))
    .map((line) =>
      line
        .slice("npx tally ".length)
        .split(/\s+/)
        .map((arg) => arg.replace(/^"(.*)"$/, "$1")),
    );
}

test("the README notarisation snippet works as written", () => {
  const commands = snippet();
  assert.deepEqual(
    commands.map((c) => `${c[0]} ${c[1]}`),
    ["evidence notarize", "evidence receipt", "evidence verify"],
  );
  for (const args of commands) {
    const needsNode = args[1] !== "verify";
    const r = tally(needsNode ? [...args, "--rpc", rpc] : args, { cwd: dir.path });
    assert.equal(r.code, 0, `tally ${args.join(" ")}\n${r.stderr}`);
    if (args[1] === "verify") assert.match(r.stdout, /^valid: .* file README\.md matches/);
  }
});
