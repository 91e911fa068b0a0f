/** The `tally` command. Every command that talks to a node takes --rpc (default: node 0 of `npm start`). */
import { TallyError } from "@tally/core";
import { Command, InvalidArgumentError, Option } from "commander";
import { block, registerAccount, status, tx } from "./commands/chain.js";
import { contractCommand } from "./commands/contract.js";
import { credentialCommand } from "./commands/credential.js";
import { creditCommand } from "./commands/credit.js";
import * as evidence from "./commands/evidence.js";
import { financeCommand } from "./commands/finance.js";
import { govCommand } from "./commands/gov.js";
import { initNetwork, MAX_OBSERVERS, MAX_VALIDATORS } from "./commands/init.js";
import * as invoice from "./commands/invoice.js";
import { newKey } from "./commands/keys.js";
import { lotteryCommand } from "./commands/lottery.js";
import { closeOnSignal, runDevnet, startNode, stopRequested } from "./commands/node.js";
import * as queries from "./commands/query.js";
import * as token from "./commands/token.js";
import { CommandFailure, DEFAULT_API_PORT, DEFAULT_P2P_PORT, DEFAULT_RPC, printJson } from "./io.js";

const VERSION = "0.1.0";

function int(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
}

const cryptoOption = () =>
  new Option("--crypto <suite>", "crypto suite: ed25519 (Ed25519 + SHA-256) or sm2 (SM2 + SM3)")
    .choices(["ed25519", "sm2"])
    .default("ed25519");
const rpcOption = () => new Option("--rpc <url>", "node API URL").default(DEFAULT_RPC);

export function buildProgram(): Command {
  const program = new Command("tally")
    .description("Tally: a permissioned Byzantine-fault-tolerant ledger")
    .version(VERSION)
    .showHelpAfterError();

  program
    .command("init")
    .description("write a genesis, one directory per node, an admin account key and network.json")
    .argument("<dir>", "network directory")
    .option("--validators <n>", "validators node0..node{N-1}, in the genesis", int("--validators", 1, MAX_VALIDATORS), 1)
    .option("--observers <m>", "observers node{N}..node{N+M-1}: replicate and verify, do not vote", int("--observers", 0, MAX_OBSERVERS), 0)
    .addOption(cryptoOption())
    .option("--chain-id <id>", "chain id", "tally-local")
    .option("--api-port <port>", "API port of node 0 (node k uses port + k)", int("--api-port", 1, 65535), DEFAULT_API_PORT)
    .option(
      "--p2p-port <port>",
      "p2p port of node 0 (node k uses port + k; unused by a single validator)",
      int("--p2p-port", 1, 65535),
      DEFAULT_P2P_PORT,
    )
    .option("--force", "replace an existing network (deletes its node directories and their data)")
    .action(
      (
        dir: string,
        o: {
          validators: number;
          observers: number;
          crypto: "ed25519" | "sm2";
          chainId: string;
          apiPort: number;
          p2pPort: number;
          force?: boolean;
        },
      ) => {
        const result = initNetwork(dir, {
          validators: o.validators,
          observers: o.observers,
          crypto: o.crypto,
          chainId: o.chainId,
          apiPort: o.apiPort,
          p2pPort: o.p2pPort,
          force: o.force ?? false,
        });
        printJson(result);
      },
    );

  program
    .command("start")
    .description("run the node in NODE_DIR until Ctrl-C / SIGTERM")
    .argument("<nodeDir>", "node directory written by `tally init`")
    .action(async (dir: string) => {
      const stop = stopRequested(); // a signal during start-up closes the node as soon as it is up
      const node = await startNode(dir);
      process.stdout.write(`${node.chain.genesis.doc.chainId} node API ${node.apiUrl}\nexplorer ${node.apiUrl}/\n`);
      try {
        await closeOnSignal([node], stop);
      } catch (err) {
        throw new CommandFailure(`the node in ${dir} did not close cleanly: ${err instanceof Error ? err.message : String(err)}`);
      }
    });

  program
    .command("devnet")
    .description("initialise DIR (if it holds no network) and run each of its nodes as its own process until Ctrl-C")
    .option("--dir <dir>", "network directory", ".tally")
    .option("--nodes <n>", "validators", int("--nodes", 1, MAX_VALIDATORS), 4)
    .option("--observers <m>", "observers", int("--observers", 0, MAX_OBSERVERS), 0)
    .addOption(cryptoOption())
    .option("--api-port <port>", "API port of node 0 (node k uses port + k)", int("--api-port", 1, 65535), DEFAULT_API_PORT)
    .option("--p2p-port <port>", "p2p port of node 0 (node k uses port + k)", int("--p2p-port", 1, 65535), DEFAULT_P2P_PORT)
    .action(
      async (
        o: { dir: string; nodes: number; observers: number; crypto: "ed25519" | "sm2"; apiPort: number; p2pPort: number },
        cmd: Command,
      ) => {
        // An existing network is reused; options given explicitly must then match it, defaults need not.
        const given = (name: string) => cmd.getOptionValueSource(name) !== "default";
        await runDevnet({
          dir: o.dir,
          nodes: o.nodes,
          observers: o.observers,
          ...(given("crypto") ? { crypto: o.crypto } : {}),
          ...(given("apiPort") ? { apiPort: o.apiPort } : {}),
          ...(given("p2pPort") ? { p2pPort: o.p2pPort } : {}),
        });
      },
    );

  const keys = program.command("keys").description("key files");
  keys
    .command("new")
    .description("generate a key pair into a key file")
    .requiredOption("--out <file>", "key file to write")
    .addOption(cryptoOption())
    .option("--force", "overwrite an existing file")
    .action((o: { out: string; crypto: string; force?: boolean }) => newKey(o));

  const ev = program.command("evidence").description("notarise digests and verify receipts");
  ev.command("notarize")
    .alias("notarise")
    .description("notarise FILE (hashed with the chain's hash) or --digest HEX; prints the record")
    .argument("[file]", "file to notarise")
    .option("--digest <hex>", "32-byte digest in hex instead of a file")
    .requiredOption("--key <file>", "key file of a registered account")
    .option("--label <text>", "label stored with the record")
    .option("--meta <key=value...>", "metadata entries stored with the record")
    .addOption(rpcOption())
    .action(async (file: string | undefined, o: { digest?: string; key: string; label?: string; meta?: string[]; rpc: string }) => {
      await evidence.notarize({ ...(file ? { file } : {}), ...(o.digest ? { digest: o.digest } : {}) }, o);
    });
  ev.command("receipt")
    .description("fetch the offline-verifiable receipt of FILE or --digest HEX")
    .argument("[file]", "notarised file")
    .option("--digest <hex>", "32-byte digest in hex instead of a file")
    .requiredOption("--out <file>", "where to write the receipt")
    .addOption(rpcOption())
    .action(async (file: string | undefined, o: { digest?: string; out: string; rpc: string }) => {
      await evidence.fetchReceipt({ ...(file ? { file } : {}), ...(o.digest ? { digest: o.digest } : {}) }, o);
    });
  ev.command("verify")
    .description("verify a receipt offline against the genesis file (exit 0 valid, 1 invalid)")
    .argument("<receipt>", "receipt file")
    .requiredOption("--genesis <file>", "the chain's genesis.json")
    .option("--file <file>", "also check that this file is the one notarised")
    .action((receipt: string, o: { genesis: string; file?: string }) => evidence.verify(receipt, o));
  ev.command("get")
    .description("the evidence record of FILE or --digest HEX")
    .argument("[file]", "notarised file")
    .option("--digest <hex>", "32-byte digest in hex")
    .addOption(rpcOption())
    .action(async (file: string | undefined, o: { digest?: string; rpc: string }) => {
      await evidence.get({ ...(file ? { file } : {}), ...(o.digest ? { digest: o.digest } : {}) }, o);
    });
  ev.command("list")
    .description("evidence records of a submitter, in commit order")
    .requiredOption("--submitter <address>", "account address")
    .option("--limit <n>", "at most this many")
    .option("--after <cursor>", "continue after this cursor (`next` of the previous page)")
    .addOption(rpcOption())
    .action(async (o: { submitter: string; limit?: string; after?: string; rpc: string }) => evidence.list(o));

  const tk = program.command("token").description("tokens: create, mint, burn, transfer, freeze, balances");
  const keyOption = () => new Option("--key <file>", "key file of the signing account").makeOptionMandatory();
  const symbolOption = () => new Option("--symbol <symbol>", "token symbol, e.g. USD").makeOptionMandatory();
  tk.command("create")
    .description("create a token (needs the issuer role); you become its issuer")
    .addOption(keyOption())
    .addOption(symbolOption())
    .requiredOption("--name <text>", "token name (at most 64 characters)")
    .requiredOption("--decimals <n>", "display decimals, 0 to 18")
    .option("--max-supply <amount>", "maximum supply in base units (default: no cap)")
    .addOption(rpcOption())
    .action(async (o: { key: string; symbol: string; name: string; decimals: string; maxSupply?: string; rpc: string }) => token.create(o));
  tk.command("mint")
    .description("mint base units to a registered account (the token's issuer only)")
    .addOption(keyOption())
    .addOption(symbolOption())
    .requiredOption("--to <address>", "recipient address")
    .requiredOption("--amount <amount>", "base units, a decimal integer")
    .addOption(rpcOption())
    .action(async (o: { key: string; symbol: string; to: string; amount: string; rpc: string }) => token.mint(o));
  tk.command("burn")
    .description("destroy base units of your own balance")
    .addOption(keyOption())
    .addOption(symbolOption())
    .requiredOption("--amount <amount>", "base units, a decimal integer")
    .addOption(rpcOption())
    .action(async (o: { key: string; symbol: string; amount: string; rpc: string }) => token.burn(o));
  tk.command("transfer")
    .description("send base units to another registered account")
    .addOption(keyOption())
    .addOption(symbolOption())
    .requiredOption("--to <address>", "recipient address")
    .requiredOption("--amount <amount>", "base units, a decimal integer")
    .addOption(rpcOption())
    .action(async (o: { key: string; symbol: string; to: string; amount: string; rpc: string }) => token.transfer(o));
  for (const [name, description] of [
    ["freeze", "freeze an account for a token: it can no longer send or burn (issuer or regulator)"],
    ["unfreeze", "lift a freeze (issuer or regulator)"],
  ] as const) {
    tk.command(name)
      .description(description)
      .addOption(keyOption())
      .addOption(symbolOption())
      .requiredOption("--account <address>", "the account")
      .addOption(rpcOption())
      .action(async (o: { key: string; symbol: string; account: string; rpc: string }) =>
        name === "freeze" ? token.freeze(o) : token.unfreeze(o),
      );
  }
  tk.command("balance")
    .description("balance of --address or of --key's account, read with its state proof checked")
    .addOption(symbolOption())
    .option("--address <address>", "account address")
    .option("--key <file>", "key file of the account (instead of --address)")
    .option("--height <n>", "at this height (default: latest)")
    .addOption(rpcOption())
    .action(async (o: { symbol: string; address?: string; key?: string; height?: string; rpc: string }) => token.balance(o));
  tk.command("info")
    .description("the token record: issuer, name, decimals, maxSupply, supply")
    .addOption(symbolOption())
    .addOption(rpcOption())
    .action(async (o: { symbol: string; rpc: string }) => token.info(o));

  const inv = program.command("invoice").description("electronic invoices: issue, reimburse, reverse, status, list");
  const invKey = () => new Option("--key <file>", "key file of the signing account").makeOptionMandatory();
  const invNumber = () => new Option("--number <number>", "invoice number, unique per issuing org").makeOptionMandatory();
  inv
    .command("issue")
    .description("issue an invoice for your org (needs the invoice-issuer role)")
    .addOption(invKey())
    .addOption(invNumber())
    .requiredOption("--seller-tax-id <id>", "seller's taxpayer id")
    .requiredOption("--buyer-tax-id <id>", "buyer's taxpayer id")
    .requiredOption("--buyer-org <org>", "the member org that will reimburse it")
    .requiredOption("--amount <amount>", "amount before tax, a decimal integer of base units")
    .requiredOption("--tax <amount>", "tax, a decimal integer of base units (may be 0)")
    .requiredOption("--date <YYYY-MM-DD>", "issue date")
    .option("--file <file>", "the invoice document: its digest is computed locally with the chain's hash")
    .option("--digest <hex>", "the document's 32-byte digest in hex, instead of --file")
    .addOption(rpcOption())
    .action(async (o: invoice.IssueOptions) => invoice.issue(o));
  inv
    .command("reimburse")
    .description("record the reimbursement of an invoice addressed to your org (once)")
    .addOption(invKey())
    .requiredOption("--issuer-org <org>", "the issuing org")
    .addOption(invNumber())
    .option("--claim-ref <text>", "your expense claim reference (at most 64 characters)")
    .addOption(rpcOption())
    .action(async (o: { key: string; issuerOrg: string; number: string; claimRef?: string; rpc: string }) => invoice.reimburse(o));
  inv
    .command("reverse")
    .description("reverse an invoice of your org before it is reimbursed (needs the invoice-issuer role)")
    .addOption(invKey())
    .addOption(invNumber())
    .requiredOption("--reason <text>", "why (at most 256 characters)")
    .addOption(rpcOption())
    .action(async (o: { key: string; number: string; reason: string; rpc: string }) => invoice.reverse(o));
  inv
    .command("status")
    .description("an invoice's status (anyone); --file also checks that FILE is the document issued")
    .requiredOption("--issuer-org <org>", "the issuing org")
    .addOption(invNumber())
    .option("--file <file>", "compare this document's hash with the recorded digest (exit 1 if it differs)")
    .addOption(rpcOption())
    .action(async (o: { issuerOrg: string; number: string; file?: string; rpc: string }) => invoice.status(o));
  inv
    .command("list")
    .description("invoices of an issuing org (or to a buyer org) in issue order (tax-authority or regulator)")
    .addOption(invKey())
    .option("--issuer-org <org>", "list this org's issued invoices")
    .option("--buyer-org <org>", "list invoices addressed to this org")
    .option("--limit <n>", "at most this many (1 to 1000, default 100)")
    .option("--after <cursor>", "continue after this cursor (`next` of the previous page)")
    .addOption(rpcOption())
    .action(async (o: { key: string; issuerOrg?: string; buyerOrg?: string; limit?: string; after?: string; rpc: string }) =>
      invoice.list(o),
    );

  program.addCommand(financeCommand());
  program.addCommand(govCommand());
  program.addCommand(credentialCommand());
  program.addCommand(creditCommand());
  program.addCommand(lotteryCommand());
  program.addCommand(contractCommand());

  const accounts = program.command("accounts").description("organisations and accounts");
  accounts
    .command("register")
    .description("register an account (needs the admin or org-admin role)")
    .requiredOption("--key <file>", "key file of the registering admin")
    .requiredOption("--public-key <hex>", "public key of the new account")
    .requiredOption("--org <id>", "organisation of the new account")
    .option("--roles <list>", "comma-separated roles")
    .addOption(rpcOption())
    .action(async (o: { key: string; publicKey: string; org: string; roles?: string; rpc: string }) => registerAccount(o));

  program
    .command("query")
    .description("ask a module a question, answered from the node's replica (spec/modules/<module>.md lists them)")
    .argument("<module>")
    .argument("<name>")
    .option("--args <json>", "the query's arguments as a JSON object", "{}")
    .option("--key <file>", "sign the query as this account (queries restricted to a role need it)")
    .addOption(rpcOption())
    .action(async (module: string, name: string, o: { args?: string; key?: string; rpc: string }) => queries.query(module, name, o));
  program
    .command("audit")
    .description("every transaction an account signed, in commit order (signed by a regulator or the account itself)")
    .requiredOption("--address <address>", "the account")
    .requiredOption("--key <file>", "key file of the asking account")
    .option("--limit <n>", "at most this many (1 to 1000, default 100)")
    .option("--after <cursor>", "continue after this cursor (`next` of the previous page)")
    .addOption(rpcOption())
    .action(async (o: { address: string; key: string; limit?: string; after?: string; rpc: string }) => queries.audit(o));

  program.command("status").description("chain and node status").addOption(rpcOption()).action(status);
  program.command("block").description("a block by height, hash or 'latest'").argument("<height>").addOption(rpcOption()).action(block);
  program.command("tx").description("a committed transaction and its result").argument("<hash>").addOption(rpcOption()).action(tx);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommandFailure) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = err.exitCode;
    } else if (err instanceof TallyError) {
      const meta = Object.keys(err.meta).length > 0 ? ` ${JSON.stringify(err.meta)}` : "";
      process.stderr.write(`error ${err.code}: ${err.message}${meta}\n`);
      process.exitCode = 1;
    } else {
      throw err;
    }
  }
}
