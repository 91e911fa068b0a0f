/**
 * The HTTP API (spec/api.md; OpenAPI at /openapi.json). Every body and parameter is validated by a
 * JSON schema before a handler runs; every refusal is a TallyError rendered as a stable JSON body.
 */
import swagger from "@fastify/swagger";
import {
  addressOf,
  assert,
  decodeEvidenceRecord,
  decodeTx,
  type EvidenceRecord,
  encode,
  encodeReceipt,
  encodeSmtProof,
  evidenceBySubmitterPrefix,
  evidenceRecordKey,
  fromHex,
  LIMITS,
  makeEvidenceReceiptFile,
  TallyError,
  type TxEnvelope,
  toHex,
} from "@tally/core";
import { Ajv } from "ajv";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Chain } from "../chain.js";
import type { Logger } from "../logger.js";
import type { NodeMetrics } from "../metrics.js";
import { type CommitOutcome, CommitWaiters } from "./commit-waiters.js";
import { registerCredentialRoutes } from "./credential-routes.js";
import { errorBody, errorSchema, fromFastifyError, httpStatus } from "./errors.js";
import { registerEventRoutes } from "./events-routes.js";
import { registerExplorerRoutes } from "./explorer-routes.js";
import { registerQueryRoutes } from "./query-routes.js";
import { registerValidatorRoutes } from "./validator-routes.js";
import { commitJson, evidenceJson, headerJson, resultJson, txJson } from "./views.js";

export interface ApiOptions {
  readonly host: string;
  readonly port: number;
  readonly nodeName: string;
  readonly version: string;
}

export interface ApiDeps {
  readonly chain: Chain;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  /** Called with the transactions a request got admitted (wakes block production, gossips them). */
  readonly onAdmitted: (admitted: readonly TxEnvelope[]) => void;
  /** Consensus status (multi-member chains): height being decided, round, step, role, peers, syncing. */
  readonly consensusStatus?: () => Record<string, unknown>;
  /** Wall clock for signed-query freshness (never used by consensus or execution); default Date.now. */
  readonly nowMs?: () => number;
}

const hex = (bytes: number) => ({ type: "string", pattern: `^[0-9a-f]{${bytes * 2}}$` }) as const;
const txHexSchema = { type: "string", pattern: "^([0-9a-f]{2})+$", maxLength: LIMITS.txBytesMax * 2 } as const;
const waitSchema = { type: "boolean", default: false } as const;
const timeoutSchema = { type: "integer", minimum: 1, maximum: LIMITS.apiWaitTimeoutMsMax, default: 30_000 } as const;
const anyObject = { type: "object", additionalProperties: true } as const;
const errors = {
  200: anyObject,
  202: anyObject,
  400: errorSchema,
  403: errorSchema,
  404: errorSchema,
  409: errorSchema,
  413: errorSchema,
  429: errorSchema,
  504: errorSchema,
};

/**
 * Validation refuses what it does not know instead of repairing it: no field is silently dropped and
 * no JSON value changes type. Path and query strings are text by nature, so only they are coerced
 * (a `height=5` query parameter becomes the integer 5).
 */
const bodyValidator = new Ajv({ removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false });
const textValidator = new Ajv({ removeAdditional: false, coerceTypes: true, useDefaults: true, allErrors: false });

function validatorFor(httpPart: string | undefined): Ajv {
  return httpPart === "body" ? bodyValidator : textValidator;
}

function outcomeJson(hash: string, outcome: CommitOutcome) {
  switch (outcome.kind) {
    case "committed":
      return { hash, status: "committed", height: outcome.height, index: outcome.index, result: resultJson(outcome.result) };
    case "dropped":
      throw outcome.reason;
    case "timeout":
      throw new TallyError("TIMEOUT", "not committed before the timeout; the transaction may still commit", { hash });
  }
}

export async function createApi(options: ApiOptions, deps: ApiDeps): Promise<FastifyInstance> {
  const { chain, metrics, log } = deps;
  // Per-request logs would dominate the log at thousands of requests/s; requests are counted in metrics instead.
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: LIMITS.apiBodyBytesMax,
    // State keys travel as hex in the path (up to twice the longest key, not Fastify's default 100);
    // the margin lets a slightly-too-long key reach schema validation and get a 400 that says why.
    routerOptions: { maxParamLength: LIMITS.stateKeyBytesMax * 4 },
  });
  app.setValidatorCompiler(({ schema, httpPart }) => validatorFor(httpPart).compile(schema));
  const waiters = new CommitWaiters(chain, metrics);
  app.addHook("onClose", async () => waiters.closeAll());

  await app.register(swagger, {
    openapi: {
      info: {
        title: "Tally node API",
        version: options.version,
        description: "Submit transactions, read blocks, state with proofs, evidence and receipts.",
      },
    },
  });

  app.setErrorHandler((err, _req, reply) => {
    const tallyErr = fromFastifyError(err as Parameters<typeof fromFastifyError>[0]);
    if (tallyErr.code === "INTERNAL") log.error({ err }, "internal API error");
    void reply.status(httpStatus(tallyErr.code)).send(errorBody(tallyErr));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(errorBody(new TallyError("NOT_FOUND", `no route ${req.method} ${req.url.split("?")[0]}`)));
  });
  app.addHook("onResponse", async (req, reply) => {
    const route = req.routeOptions.url ?? "unknown";
    metrics.apiRequests.inc({ route, status: String(reply.statusCode) });
    metrics.apiRequestSeconds.observe({ route }, reply.elapsedTime / 1000);
  });

  /** Admits transactions (hex) in arrival order; wakes block production if any was admitted. */
  const submit = async (txsHex: readonly string[]): Promise<Array<TxEnvelope | TallyError>> => {
    const outcomes = await chain.submit(txsHex.map((h) => fromHex(h)));
    const admitted = outcomes.filter((o): o is TxEnvelope => !(o instanceof TallyError));
    if (admitted.length > 0) deps.onAdmitted(admitted);
    return outcomes;
  };

  app.get("/health", { schema: { hide: true } }, async () => ({ ok: true }));

  app.get("/metrics", { schema: { hide: true } }, async (_req, reply) => {
    void reply.header("content-type", metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  app.get("/v1/status", { schema: { summary: "Node and chain status" } }, async () => {
    const head = chain.head;
    return {
      chainId: chain.chainId,
      crypto: chain.genesis.suite.id,
      genesisHash: chain.genesis.hashHex,
      node: options.nodeName,
      version: options.version,
      height: head.height,
      latestHash: toHex(head.hash),
      latestTimeMs: head.timeMs,
      stateRoot: toHex(head.stateRoot.hash),
      validators: chain.validatorSetDurable(head.height + 1).validators.length,
      modules: chain.engine.moduleNames(),
      ...(deps.consensusStatus === undefined ? {} : { consensus: deps.consensusStatus() }),
    };
  });

  app.get("/v1/genesis", { schema: { summary: "The genesis document this node runs" } }, async () => chain.genesis.doc);

  app.post(
    "/v1/txs",
    {
      schema: {
        summary: "Submit one signed transaction (hex of its canonical CBOR); optionally wait for its commit",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["tx"],
          properties: { tx: txHexSchema, wait: waitSchema, timeoutMs: timeoutSchema },
        },
        response: errors,
      },
    },
    async (req, reply) => {
      const body = req.body as { tx: string; wait: boolean; timeoutMs: number };
      const [env] = await submit([body.tx]);
      if (env === undefined) throw new TallyError("INTERNAL", "no admission outcome");
      if (env instanceof TallyError) throw env;
      if (!body.wait) return reply.status(202).send({ hash: env.hashHex, status: "pending" });
      return outcomeJson(env.hashHex, await waiters.wait(env.hashHex, body.timeoutMs));
    },
  );

  app.post(
    "/v1/txs/batch",
    {
      schema: {
        summary: "Submit many signed transactions; each is admitted or refused on its own",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["txs"],
          properties: {
            txs: { type: "array", minItems: 1, maxItems: LIMITS.apiBatchTxsMax, items: txHexSchema },
            wait: waitSchema,
            timeoutMs: timeoutSchema,
          },
        },
        response: errors,
      },
    },
    async (req) => {
      const body = req.body as { txs: string[]; wait: boolean; timeoutMs: number };
      const outcomes = await submit(body.txs);
      const admitted = outcomes.map((o) => {
        if (o instanceof TallyError) return errorBody(o);
        return body.wait ? { hash: o.hashHex, wait: waiters.wait(o.hashHex, body.timeoutMs) } : { hash: o.hashHex };
      });
      const results = await Promise.all(
        admitted.map(async (a) => {
          if ("error" in a) return a;
          if (a.wait === undefined) return { hash: a.hash, status: "pending" };
          try {
            return outcomeJson(a.hash, await a.wait);
          } catch (err) {
            if (!(err instanceof TallyError)) throw err;
            return { hash: a.hash, ...errorBody(err) };
          }
        }),
      );
      return { results };
    },
  );

  app.get(
    "/v1/txs/:hash",
    {
      schema: {
        summary: "A committed transaction with its result",
        params: { type: "object", properties: { hash: hex(32) } },
        response: errors,
      },
    },
    async (req) => {
      const { hash } = req.params as { hash: string };
      const found = chain.tx(fromHex(hash));
      if (found === undefined) {
        throw new TallyError("NOT_FOUND", "transaction not committed", { hash });
      }
      const signer = decodeTx(found.txBytes).signer;
      return {
        hash,
        height: found.height,
        index: found.index,
        blockHash: toHex(found.blockHash),
        timeMs: found.timeMs,
        tx: txJson(found.txBytes, addressOf(chain.genesis.suite, signer)),
        result: resultJson(found.result),
      };
    },
  );

  app.get(
    "/v1/txs/:hash/receipt",
    {
      schema: {
        summary: "Offline-verifiable receipt of a committed transaction (hex of canonical CBOR)",
        params: { type: "object", properties: { hash: hex(32) } },
        response: errors,
      },
    },
    async (req) => {
      const { hash } = req.params as { hash: string };
      const receipt = chain.receipt(fromHex(hash));
      return { hash, height: receipt.header.height, receipt: toHex(encodeReceipt(receipt)) };
    },
  );

  const blockView = (height: number) => {
    const found = chain.blockAt(height);
    if (found === undefined) throw new TallyError("NOT_FOUND", "no such block", { height });
    const { suite } = chain.genesis;
    return {
      hash: toHex(found.hash),
      header: headerJson(found.header),
      commit: commitJson(found.commit),
      txs: found.block.txs.map((t) => toHex(suite.hash(t))),
    };
  };

  app.get("/v1/blocks/latest", { schema: { summary: "The latest committed block", response: errors } }, async () => {
    if (chain.head.height === 0) throw new TallyError("NOT_FOUND", "no block committed yet", { height: 0 });
    return blockView(chain.head.height);
  });

  app.get(
    "/v1/blocks/:id",
    {
      schema: {
        summary: "A block by height or by hash",
        params: { type: "object", properties: { id: { type: "string", pattern: "^([0-9]{1,15}|[0-9a-f]{64})$" } } },
        response: errors,
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      if (id.length === 64) {
        const height = chain.heightOfBlock(fromHex(id));
        if (height === undefined) throw new TallyError("NOT_FOUND", "no such block", { hash: id });
        return blockView(height);
      }
      return blockView(Number(id));
    },
  );

  app.get(
    "/v1/accounts/:address",
    {
      schema: {
        summary: "An account: org, roles and next nonce",
        params: { type: "object", properties: { address: hex(20) } },
        response: errors,
      },
    },
    async (req) => {
      const { address } = req.params as { address: string };
      const account = chain.account(address);
      if (account === null) throw new TallyError("NOT_FOUND", "no such account", { address });
      return { address, publicKey: toHex(account.publicKey), org: account.org, roles: account.roles, nonce: account.nonce };
    },
  );

  app.get(
    "/v1/state/:key",
    {
      schema: {
        summary: "A state value with its sparse Merkle proof against a block's state root",
        params: { type: "object", properties: { key: { type: "string", pattern: "^([0-9a-f]{2}){1,256}$" } } },
        querystring: { type: "object", additionalProperties: false, properties: { height: { type: "integer", minimum: 0 } } },
        response: errors,
      },
    },
    async (req) => {
      const { key } = req.params as { key: string };
      const { height } = req.query as { height?: number };
      const view = chain.stateProof(fromHex(key), height);
      return {
        height: view.height,
        stateRoot: toHex(view.stateRoot),
        key,
        value: view.value === null ? null : toHex(view.value),
        proof: toHex(encode(encodeSmtProof(view.proof))),
      };
    },
  );

  const evidenceRecord = (digestHex: string) => {
    const bytes = chain.stateValue(evidenceRecordKey(fromHex(digestHex, 32)));
    const record = bytes === null ? null : decodeEvidenceRecord(bytes);
    // A record from a block still being flushed is not reported yet.
    if (record === null || record.height > chain.head.height)
      throw new TallyError("NOT_FOUND", "digest not notarised", { digest: digestHex });
    return record;
  };

  app.get(
    "/v1/evidence/:digest",
    {
      schema: { summary: "The evidence record of a digest", params: { type: "object", properties: { digest: hex(32) } }, response: errors },
    },
    async (req) => evidenceJson(evidenceRecord((req.params as { digest: string }).digest)),
  );

  app.get(
    "/v1/evidence/:digest/receipt",
    {
      schema: {
        summary: "Offline-verifiable evidence receipt file (verify with `tally evidence verify`)",
        params: { type: "object", properties: { digest: hex(32) } },
        response: errors,
      },
    },
    async (req) => {
      const record = evidenceRecord((req.params as { digest: string }).digest);
      const receipt = chain.receipt(record.txHash, evidenceRecordKey(record.digest));
      return makeEvidenceReceiptFile(chain.genesis, receipt);
    },
  );

  app.get(
    "/v1/evidence",
    {
      schema: {
        summary: "Evidence records of a submitter, in commit order",
        querystring: {
          type: "object",
          additionalProperties: false,
          required: ["submitter"],
          properties: {
            submitter: hex(20),
            limit: { type: "integer", minimum: 1, maximum: LIMITS.apiListLimitMax, default: 100 },
            after: { type: "string", pattern: `^([0-9a-f]{2}){1,${LIMITS.stateKeyBytesMax}}$` },
          },
        },
        response: errors,
      },
    },
    async (req) => {
      const { submitter, limit, after } = req.query as { submitter: string; limit: number; after?: string };
      const prefix = evidenceBySubmitterPrefix(submitter);
      // A cursor is a key of this submitter's own index range; any other would read someone else's records.
      if (after !== undefined && !after.startsWith(toHex(prefix))) {
        throw new TallyError("BAD_REQUEST", "cursor does not belong to this submitter's list", { after: after.slice(0, 80) });
      }
      const rows = chain.scanState(prefix, limit, after === undefined ? undefined : fromHex(after));
      // The index is in commit order, so records of blocks still being flushed can only come last:
      // the page ends before the first of them, and the cursor never skips one.
      const durable = chain.head.height;
      const records: EvidenceRecord[] = [];
      let lastKey: Uint8Array | undefined;
      for (const [key, digest] of rows) {
        const bytes = chain.stateValue(evidenceRecordKey(digest));
        assert(bytes !== null, "evidence index entry without its record");
        const record = decodeEvidenceRecord(bytes);
        if (record.height > durable) break;
        records.push(record);
        lastKey = key;
      }
      const full = records.length === limit && lastKey !== undefined;
      return { records: records.map(evidenceJson), next: full ? toHex(lastKey as Uint8Array) : null };
    },
  );

  registerValidatorRoutes(app, chain, errors);
  registerQueryRoutes(app, chain, { ...errors, 401: errorSchema }, deps.nowMs ?? Date.now);
  registerCredentialRoutes(app, chain, errors);
  registerEventRoutes(app, { chain, metrics, log }, errors);
  await registerExplorerRoutes(app);

  await app.ready();
  return app;
}
