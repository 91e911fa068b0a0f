/**
 * `tally contract new | build | test | deploy | call | info | state | simulate` (docs/contracts.md).
 * new/build/test work offline on a contract project; the rest talk to a node through the SDK.
 */
import { existsSync, readFileSync } from "node:fs";
import { type JsonValue, LIMITS, type SuiteId, TallyError, type Value } from "@tally/core";
import { AccountSigner, DEFAULT_CONTRACT_GAS, type SubmitResult, TallyClient } from "@tally/sdk";
import { Command, InvalidArgumentError, Option } from "commander";
import { buildContract } from "../contract/build.js";
import { newContractProject } from "../contract/template.js";
import { runContractTests } from "../contract/test-runner.js";
import { CommandFailure, DEFAULT_RPC, printJson, readKey } from "../io.js";

function json(flag: string) {
  return (text: string): JsonValue => {
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      throw new InvalidArgumentError(`${flag} must be JSON`);
    }
  };
}

function gasLimit(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError("--gas must be a positive integer");
  return n;
}

const cryptoOption = () =>
  new Option("--crypto <suite>", "the chain's crypto suite (its hash names the code)").choices(["ed25519", "sm2"]).default("ed25519");
const rpcOption = () => new Option("--rpc <url>", "node API URL").default(DEFAULT_RPC);
const keyOption = () => new Option("--key <file>", "key file of the signing account").makeOptionMandatory();
const gasOption = () => new Option("--gas <n>", "gas limit of the transaction").argParser(gasLimit).default(DEFAULT_CONTRACT_GAS);

/**
 * Sends a contract transaction and prints its receipt-style JSON whether it succeeded or failed; a
 * failed one (committed with status "failed") also exits 1.
 */
async function sendAndPrint(o: { key: string; rpc: string }, method: "deploy" | "call", args: Record<string, Value>): Promise<void> {
  const signer = await AccountSigner.connect(new TallyClient(o.rpc), readKey(o.key));
  let outcome: SubmitResult;
  try {
    outcome = await signer.send("contracts", method, args, { wait: true });
  } catch (err) {
    if (err instanceof TallyError) throw new CommandFailure(`contract ${method} refused: ${err.code}: ${err.message}`);
    throw err;
  }
  if (outcome.status !== "committed") throw new CommandFailure(`transaction ${outcome.hash} is ${outcome.status}`);
  const { result } = outcome;
  printJson({
    tx: outcome.hash,
    height: outcome.height,
    index: outcome.index,
    status: result.status,
    code: result.code,
    message: result.message,
    value: result.value,
    events: result.events,
  });
  if (result.status !== "ok") throw new CommandFailure(`contract ${method} failed: ${result.code}: ${result.message}`);
}

async function query(rpc: string, name: string, args: { [key: string]: JsonValue }, key?: string): Promise<void> {
  const client = new TallyClient(rpc);
  const signer = key === undefined ? undefined : await AccountSigner.connect(client, readKey(key));
  const answer = await client.query("contracts", name, args, signer === undefined ? {} : { signer });
  printJson(answer);
}

export function contractCommand(): Command {
  const cmd = new Command("contract").description("smart contracts: new, build, test, deploy, call, info, state, simulate");

  cmd
    .command("new")
    .description("write a contract project in DIR (a counter with a passing test)")
    .argument("<dir>", "project directory; its name becomes the package name")
    .action((dir: string) => printJson(newContractProject(dir)));

  cmd
    .command("build")
    .description("bundle DIR/src/index.ts into DIR/dist/contract.js (esbuild); prints {file, bytes, codeHash}")
    .argument("[dir]", "contract project", ".")
    .addOption(cryptoOption())
    .action(async (dir: string, o: { crypto: SuiteId }) => printJson(await buildContract(dir, o.crypto)));

  cmd
    .command("test")
    .description("build, then run DIR/test/**/*.test.ts against an in-memory chain (the node's engine and sandbox)")
    .argument("[dir]", "contract project", ".")
    .addOption(cryptoOption())
    .option("--filter <pattern>", "only tests whose name matches this regular expression")
    .action(async (dir: string, o: { crypto: SuiteId; filter?: string }) => {
      const run = await runContractTests(dir, o.crypto, o.filter === undefined ? {} : { filter: o.filter });
      if (run.exitCode !== 0) throw new CommandFailure(`contract tests failed (${run.files.length} file(s))`, run.exitCode);
    });

  cmd
    .command("deploy")
    .description("deploy a built contract (dist/contract.js); prints the receipt with its address and code hash")
    .argument("<file>", "the bundle `tally contract build` wrote")
    .addOption(keyOption())
    .option("--init-args <json>", "arguments of the contract's init (JSON)", json("--init-args"))
    .addOption(gasOption())
    .addOption(rpcOption())
    .action(async (file: string, o: { key: string; initArgs?: JsonValue; gas: number; rpc: string }) => {
      if (!existsSync(file)) throw new CommandFailure(`no such file: ${file}`);
      const args: Record<string, Value> = { code: readFileSync(file, "utf8"), gasLimit: o.gas };
      if (o.initArgs !== undefined) args.initArgs = o.initArgs;
      await sendAndPrint(o, "deploy", args);
    });

  cmd
    .command("call")
    .description("call METHOD of the contract at ADDRESS in a transaction; prints the receipt ({value, gasUsed})")
    .argument("<address>", "contract address")
    .argument("<method>", "method name")
    .argument("[args]", "arguments (JSON)", json("ARGS"))
    .addOption(keyOption())
    .addOption(gasOption())
    .addOption(rpcOption())
    .action(async (address: string, method: string, args: JsonValue | undefined, o: { key: string; gas: number; rpc: string }) => {
      await sendAndPrint(o, "call", { address, method, args: args ?? null, gasLimit: o.gas });
    });

  cmd
    .command("info")
    .description("a contract's record: code hash, version, deployer")
    .argument("<address>", "contract address")
    .addOption(rpcOption())
    .action(async (address: string, o: { rpc: string }) => query(o.rpc, "contract", { address }));

  cmd
    .command("state")
    .description("one value of a contract's state")
    .argument("<address>", "contract address")
    .argument("<key>", "state key")
    .addOption(rpcOption())
    .action(async (address: string, key: string, o: { rpc: string }) => query(o.rpc, "state", { address, key }));

  cmd
    .command("simulate")
    .description("run METHOD against the latest state without a transaction (nothing is stored)")
    .argument("<address>", "contract address")
    .argument("<method>", "method name")
    .argument("[args]", "arguments (JSON)", json("ARGS"))
    .option("--key <file>", "sign the query, so the contract sees this account as its caller")
    .addOption(new Option("--gas <n>", "gas limit of the simulation").argParser(gasLimit).default(LIMITS.contractSimulateGasMax))
    .addOption(rpcOption())
    .action(async (address: string, method: string, args: JsonValue | undefined, o: { key?: string; gas: number; rpc: string }) =>
      query(o.rpc, "simulate", { address, method, args: args ?? null, gasLimit: o.gas }, o.key),
    );

  return cmd;
}
