/**
 * An account that signs and sends transactions, keeping its own nonce so that many transactions can
 * be in flight at once. `connect` reads the chain id, suite and current nonce from the node.
 */
import {
  addressOf,
  type CryptoSuite,
  getSuite,
  type JsonValue,
  type KeyPair,
  signQuery,
  signTx,
  TallyError,
  type Value,
} from "@tally/core";
import type { QueryAnswer, QuerySigner, SubmitOptions, TallyClient } from "./client.js";
import { ContractCalls } from "./contracts.js";
import { CredentialCalls } from "./credentials.js";
import { CreditCalls } from "./credit.js";
import { DocumentCalls } from "./documents.js";
import { GovernanceCalls } from "./governance.js";
import { InvoiceCalls } from "./invoices.js";
import { LotteryCalls } from "./lottery.js";
import { TokenCalls } from "./tokens.js";
import type { SubmitResult } from "./types.js";

export interface SignedTxBytes {
  readonly bytes: Uint8Array;
  readonly hash: string;
  readonly nonce: number;
}

export class AccountSigner implements QuerySigner {
  readonly address: string;
  /** Calls of the tokens module signed by this account. */
  readonly tokens: TokenCalls;
  /** Calls of the credentials module (issuer keys, issuance, revocation) signed by this account. */
  readonly credentials: CredentialCalls;
  /** Calls of the documents module (trade finance, payment authenticity) signed by this account. */
  readonly documents: DocumentCalls;
  /** Calls of the invoices module signed by this account, and the tax authority's signed listings. */
  readonly invoices: InvoiceCalls;
  /** Governance proposals, votes and retries signed by this account. */
  readonly governance: GovernanceCalls;
  /** Calls of the credit module (events, links, repairs) and the regulator's open-application listing. */
  readonly credit: CreditCalls;
  /** Calls of the lottery module signed by this account, and its signed lottery queries. */
  readonly lottery: LotteryCalls;
  /** Smart-contract deploys and calls signed by this account. */
  readonly contracts: ContractCalls;
  private readonly suite: CryptoSuite;

  private constructor(
    readonly client: TallyClient,
    readonly key: KeyPair,
    readonly chainId: string,
    private nextNonce: number,
  ) {
    this.suite = getSuite(key.suite);
    this.address = addressOf(this.suite, key.publicKey);
    this.tokens = new TokenCalls(this);
    this.credentials = new CredentialCalls(this);
    this.documents = new DocumentCalls(this, this.suite);
    this.invoices = new InvoiceCalls(this);
    this.lottery = new LotteryCalls(this);
    this.governance = new GovernanceCalls(this);
    this.credit = new CreditCalls(this);
    this.contracts = new ContractCalls(this);
  }

  static async connect(client: TallyClient, key: KeyPair): Promise<AccountSigner> {
    const status = await client.status();
    if (status.crypto !== key.suite) {
      throw new TallyError("WRONG_SUITE", `the chain uses ${status.crypto}, the key is ${key.suite}`, {
        chain: status.crypto,
        key: key.suite,
      });
    }
    const address = addressOf(getSuite(key.suite), key.publicKey);
    const account = await client.account(address);
    return new AccountSigner(client, key, status.chainId, account.nonce);
  }

  get nonce(): number {
    return this.nextNonce;
  }

  /** Re-reads the nonce from the node (after a refused or dropped transaction). */
  async resync(): Promise<void> {
    this.nextNonce = (await this.client.account(this.address)).nonce;
  }

  /**
   * The `x-tally-auth` header value for a query asked now by this account. The node accepts it for
   * LIMITS.queryAuthSkewMs around its own clock, so the local clock must be roughly right.
   */
  signQuery(module: string, name: string, args: { [key: string]: JsonValue }): string {
    return signQuery(this.suite, this.key, { chainId: this.chainId, module, name, args }, Date.now());
  }

  /** A query signed by this account (for role-restricted queries). */
  query<T = unknown>(module: string, name: string, args: { [key: string]: JsonValue } = {}): Promise<QueryAnswer<T>> {
    return this.client.query<T>(module, name, args, { signer: this });
  }

  /** Signs the next transaction of this account; the local nonce advances. */
  sign(module: string, method: string, args: Value): SignedTxBytes {
    const nonce = this.nextNonce;
    const { bytes, hash } = signTx(this.suite, this.key, { chainId: this.chainId, nonce, module, method, args });
    this.nextNonce++;
    return { bytes, hash, nonce };
  }

  async send(module: string, method: string, args: Value, options: SubmitOptions = {}): Promise<SubmitResult> {
    const tx = this.sign(module, method, args);
    try {
      return await this.client.submitTx(tx.bytes, options);
    } catch (err) {
      // A refused transaction did not consume its nonce: give it back so the next one is not a gap.
      if (err instanceof TallyError && err.code !== "TIMEOUT" && this.nextNonce === tx.nonce + 1) this.nextNonce = tx.nonce;
      throw err;
    }
  }

  /** Notarises a 32-byte digest (the chain's hash of the evidence file). */
  notarize(digest: Uint8Array, options: SubmitOptions & { label?: string; metadata?: Record<string, string> } = {}): Promise<SubmitResult> {
    const args: Record<string, Value> = { digest };
    if (options.label !== undefined) args.label = options.label;
    if (options.metadata !== undefined) args.metadata = options.metadata;
    return this.send("evidence", "notarize", args, {
      wait: options.wait ?? true,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  /** Registers an account (needs the admin or org-admin role). */
  registerAccount(publicKey: Uint8Array, org: string, roles: string[], options: SubmitOptions = {}): Promise<SubmitResult> {
    return this.send(
      "accounts",
      "register",
      { publicKey, org, roles },
      { wait: options.wait ?? true, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) },
    );
  }
}
