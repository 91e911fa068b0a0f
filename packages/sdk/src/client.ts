/**
 * Typed client for a node's HTTP API (spec/api.md). Works in Node 20+ and browsers (global fetch).
 * A refusal from the node is thrown as a TallyError with the node's code, message and meta.
 */
import {
  type ErrorCode,
  type EvidenceReceiptFile,
  type GenesisDoc,
  type JsonValue,
  QUERY_AUTH_HEADER,
  TallyError,
  toHex,
} from "@tally/core";
import { ContractReads } from "./contracts.js";
import { CredentialReads } from "./credentials.js";
import { CreditReads } from "./credit.js";
import { EventReads, type WebSocketConstructor } from "./events.js";
import { GovernanceReads } from "./governance.js";
import { InvoiceReads } from "./invoices.js";
import { LotteryReads } from "./lottery.js";
import { TokenReads } from "./tokens.js";
import type {
  AccountView,
  BatchSubmitResult,
  BlockView,
  EvidenceList,
  EvidenceView,
  StateView,
  StatusView,
  SubmitResult,
  TxReceiptView,
  TxView,
} from "./types.js";

export interface ClientOptions {
  /** Per-request timeout in milliseconds (default 60 s, above the node's longest commit wait). */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  /** WebSocket implementation for subscriptions (default: the global one; Node 20 has none, pass the ws package's). */
  readonly WebSocket?: WebSocketConstructor;
}

/** Signs queries as an account (AccountSigner does). */
export interface QuerySigner {
  signQuery(module: string, name: string, args: { [key: string]: JsonValue }): string;
}

export interface QueryOptions {
  /** Sign the query as this account: needed when the query is restricted to roles (a regulator's, a tax authority's). */
  readonly signer?: QuerySigner;
}

/** A module's answer: `value` as JSON (bytes as "0x"-prefixed hex, exact amounts as decimal strings). */
export interface QueryAnswer<T = unknown> {
  /** Height of the state the node answered from. */
  readonly height: number;
  readonly value: T;
}

export interface AuditTxView {
  readonly hash: string;
  readonly height: number;
  readonly index: number;
  readonly timeMs: number;
  readonly module: string;
  readonly method: string;
  readonly args: unknown;
  readonly status: "ok" | "failed";
  readonly code: string | null;
}

export interface AuditTrail {
  readonly address: string;
  readonly items: AuditTxView[];
  /** Cursor for the next page (pass as `after`), or null at the end. */
  readonly next: string | null;
}

export interface SubmitOptions {
  /** Wait until the transaction is committed (or refused at execution) before returning. */
  readonly wait?: boolean;
  readonly timeoutMs?: number;
}

function asHex(tx: Uint8Array | string): string {
  return typeof tx === "string" ? tx : toHex(tx);
}

export class TallyClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  /** Proven reads of the tokens module (balances, token records, freezes). */
  readonly tokens: TokenReads;
  /** Credential records, status proofs, presentations with proofs, and verification against the genesis. */
  readonly credentials: CredentialReads;
  /** Invoice status checks (anyone) and proven invoice records. */
  readonly invoices: InvoiceReads;
  /** Lottery rounds, batches and draws, and re-derivation of a draw from ledger data. */
  readonly lottery: LotteryReads;
  /** Governance proposals, parameters, roles and freezes (module queries). */
  readonly governance: GovernanceReads;
  /** Credit standing and history of an entity (anyone), and the standing proven from state. */
  readonly credit: CreditReads;
  /** Pages of past events, and live subscriptions to blocks and events (events.ts). */
  readonly events: EventReads;
  /** Same as `events.subscribe`: blocks or events over the node's WebSocket, resumed across reconnects. */
  readonly subscribe: EventReads["subscribe"];
  /** Smart contracts: records, code, state and simulated calls (module queries). */
  readonly contracts: ContractReads;

  constructor(baseUrl: string, options: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 65_000;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.tokens = new TokenReads(this);
    this.credentials = new CredentialReads(this);
    this.invoices = new InvoiceReads(this);
    this.lottery = new LotteryReads(this);
    this.governance = new GovernanceReads(this);
    this.credit = new CreditReads(this);
    this.events = new EventReads((path) => this.request("GET", path), this.baseUrl, options.WebSocket);
    this.subscribe = this.events.subscribe.bind(this.events);
    this.contracts = new ContractReads(this);
  }

  private async request<T>(method: "GET" | "POST", path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new TallyError("TIMEOUT", `cannot reach ${this.baseUrl}: ${(err as Error).message}`, { url: this.baseUrl });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text.length === 0 ? null : JSON.parse(text);
    } catch {
      throw new TallyError("BAD_REQUEST", `node answered ${response.status} with non-JSON`, { status: response.status });
    }
    if (!response.ok) {
      const e = (json as { error?: { code?: string; message?: string; meta?: Record<string, string | number | boolean | null> } } | null)
        ?.error;
      throw new TallyError((e?.code ?? "INTERNAL") as ErrorCode, e?.message ?? `HTTP ${response.status}`, {
        ...(e?.meta ?? {}),
        status: response.status,
      });
    }
    return json as T;
  }

  /**
   * Asks a module a question (`POST /v1/query/<module>/<name>`), answered from the node's replica.
   * Arguments are JSON (bytes as hex strings, amounts as decimal strings).
   */
  query<T = unknown>(
    module: string,
    name: string,
    args: { [key: string]: JsonValue } = {},
    options: QueryOptions = {},
  ): Promise<QueryAnswer<T>> {
    const headers: Record<string, string> = {};
    if (options.signer !== undefined) headers[QUERY_AUTH_HEADER] = options.signer.signQuery(module, name, args);
    return this.request("POST", `/v1/query/${encodeURIComponent(module)}/${encodeURIComponent(name)}`, { args }, headers);
  }

  /** Every transaction `address` signed, in commit order; signed by a regulator or by that account. */
  auditTrail(address: string, signer: QuerySigner, page: { limit?: number; after?: string } = {}): Promise<AuditTrail> {
    const body: { [key: string]: JsonValue } = { limit: page.limit ?? 100, ...(page.after === undefined ? {} : { after: page.after }) };
    const headers = { [QUERY_AUTH_HEADER]: signer.signQuery("audit", "accountTxs", { address, ...body }) };
    return this.request("POST", `/v1/audit/accounts/${address}/txs`, body, headers);
  }

  status(): Promise<StatusView> {
    return this.request("GET", "/v1/status");
  }

  genesis(): Promise<GenesisDoc> {
    return this.request("GET", "/v1/genesis");
  }

  submitTx(tx: Uint8Array | string, options: SubmitOptions = {}): Promise<SubmitResult> {
    return this.request("POST", "/v1/txs", {
      tx: asHex(tx),
      wait: options.wait ?? false,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  /** Each transaction is admitted or refused on its own: check every entry of `results`. */
  async submitBatch(txs: ReadonlyArray<Uint8Array | string>, options: SubmitOptions = {}): Promise<BatchSubmitResult[]> {
    const body = { txs: txs.map(asHex), wait: options.wait ?? false, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) };
    const { results } = await this.request<{ results: BatchSubmitResult[] }>("POST", "/v1/txs/batch", body);
    return results;
  }

  tx(hash: string): Promise<TxView> {
    return this.request("GET", `/v1/txs/${hash}`);
  }

  txReceipt(hash: string): Promise<TxReceiptView> {
    return this.request("GET", `/v1/txs/${hash}/receipt`);
  }

  block(id: number | string): Promise<BlockView> {
    return this.request("GET", `/v1/blocks/${id}`);
  }

  latestBlock(): Promise<BlockView> {
    return this.request("GET", "/v1/blocks/latest");
  }

  account(address: string): Promise<AccountView> {
    return this.request("GET", `/v1/accounts/${address}`);
  }

  state(keyHex: string, height?: number): Promise<StateView> {
    return this.request("GET", `/v1/state/${keyHex}${height === undefined ? "" : `?height=${height}`}`);
  }

  /** A credential's status proof at the latest block, hex of CBOR (spec/modules/credentials.md §status proof). */
  credentialStatus(issuer: string, id: string, keyId?: string): Promise<{ issuer: string; id: string; height: number; proof: string }> {
    const query = keyId === undefined ? "" : `?keyId=${encodeURIComponent(keyId)}`;
    return this.request("GET", `/v1/credentials/${encodeURIComponent(issuer)}/${encodeURIComponent(id)}/status${query}`);
  }

  evidence(digestHex: string): Promise<EvidenceView> {
    return this.request("GET", `/v1/evidence/${digestHex}`);
  }

  evidenceReceipt(digestHex: string): Promise<EvidenceReceiptFile> {
    return this.request("GET", `/v1/evidence/${digestHex}/receipt`);
  }

  evidenceBySubmitter(submitter: string, options: { limit?: number; after?: string } = {}): Promise<EvidenceList> {
    const query = new URLSearchParams({ submitter });
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    if (options.after !== undefined) query.set("after", options.after);
    return this.request("GET", `/v1/evidence?${query}`);
  }
}
